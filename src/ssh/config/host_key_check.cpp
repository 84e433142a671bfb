#include "ssh/config/host_key_check.hpp"

#include <botan/auto_rng.h>

#include <algorithm>

#include "ssh/log.hpp"

namespace ssh::config {
namespace {

constexpr std::string_view kRefusal = "Host key verification failed: ";

const std::shared_ptr<spdlog::logger>& logger() {
  static const auto instance = log::get("hostkeys");
  return instance;
}

// "ssh-ed25519 SHA256:..."
std::string describe_key(const keys::PublicKey& key) {
  return key.type() + " " + key.fingerprint_sha256();
}

std::string describe_entry(std::string_view file, std::size_t line) {
  return "known_hosts file " + std::string(file) + " line " + std::to_string(line);
}

HostKeyDecision accept(HostKeyDecision decision, std::string reason) {
  decision.accepted = true;
  decision.reason = std::move(reason);
  return decision;
}

HostKeyDecision refuse(HostKeyDecision decision, std::string_view why) {
  decision.accepted = false;
  decision.reason = std::string(kRefusal) + std::string(why);
  // The caller reports the refusal to the user; logging it too would say it twice.
  logger()->debug("{}", decision.reason);
  return decision;
}

HostKeyDecision check_pins(const HostKeyPolicy& policy, const std::string& name,
                           const keys::PublicKey& key) {
  const std::string fingerprint = key.fingerprint_sha256();
  const auto& pins = policy.pinned_fingerprints;
  HostKeyDecision decision;
  if (std::find(pins.begin(), pins.end(), fingerprint) == pins.end()) {
    return refuse(decision, "host key for " + name + " (" + describe_key(key) +
                                ") matches no pinned fingerprint");
  }
  decision = accept(decision, "host key for " + name + " (" + describe_key(key) +
                                  ") matches a pinned fingerprint");
  logger()->debug("{}", decision.reason);
  return decision;
}

// Appends the key to the first user file; failing to record it does not
// stop the connection (OpenSSH only warns too).
HostKeyDecision add_and_accept(const HostKeyPolicy& policy, const std::string& name,
                               std::string_view host, std::uint16_t port,
                               const keys::PublicKey& key, HostKeyDecision decision) {
  const std::string described = name + " (" + describe_key(key) + ")";
  if (policy.user_known_hosts_files.empty()) {
    decision = accept(decision, "accepted new host key for " + described +
                                    "; not recorded (no UserKnownHostsFile)");
    logger()->warn("{}", decision.reason);
    return decision;
  }
  const std::string& file = policy.user_known_hosts_files.front();
  if (Status added = add_known_host(file, host, port, key, policy.hash_known_hosts); !added) {
    decision = accept(
        decision, "accepted new host key for " + described +
                      "; failed to add it to the list of known hosts: " + added.error().message);
    logger()->warn("{}", decision.reason);
    return decision;
  }
  decision.added_to = file;
  decision = accept(
      decision, "Permanently added " + described + " to the list of known hosts (" + file + ")");
  logger()->info("{}", decision.reason);
  return decision;
}

std::string unknown_key_question(const std::string& name, const keys::PublicKey& key,
                                 const HostKeyLookup& lookup) {
  std::string question = "The authenticity of host '" + name + "' can't be established.\n" +
                         key.type() + " key fingerprint is " + key.fingerprint_sha256() + ".\n";
  if (!lookup.known_key_types.empty()) {
    question += "Keys of other types are already known for this host.\n";
  }
  question += "Are you sure you want to continue connecting (yes/no)? ";
  return question;
}

// The name known_hosts records the host under: HostKeyAlias replaces
// "[hostname]:port" entirely, port included.
std::string known_hosts_name_for(const HostKeyPolicy& policy, std::string_view hostname,
                                 std::uint16_t port) {
  if (policy.host_key_alias) return known_hosts_name(*policy.host_key_alias, 22);
  return known_hosts_name(hostname, port);
}

}  // namespace

HostKeyPolicy HostKeyPolicy::from_options(const ClientOptions& options) {
  HostKeyPolicy policy;
  policy.strict_host_key_checking = options.strict_host_key_checking;
  policy.user_known_hosts_files = options.user_known_hosts_files;
  policy.global_known_hosts_files = options.global_known_hosts_files;
  policy.pinned_fingerprints = options.pinned_host_key_fingerprints;
  policy.hash_known_hosts = options.hash_known_hosts;
  policy.update_host_keys = options.update_host_keys;
  policy.host_key_alias = options.host_key_alias;
  policy.batch_mode = options.batch_mode;
  return policy;
}

HostKeyDecision check_host_key(const HostKeyPolicy& policy, std::string_view hostname,
                               std::uint16_t port, const keys::PublicKey& key) {
  // A HostKeyAlias replaces "[hostname]:port" entirely, port included.
  const std::string_view lookup_host = policy.host_key_alias ? *policy.host_key_alias : hostname;
  const std::uint16_t lookup_port = policy.host_key_alias ? 22 : port;
  const std::string name = known_hosts_name(lookup_host, lookup_port);

  if (!policy.pinned_fingerprints.empty()) return check_pins(policy, name, key);

  std::vector<std::string> files = policy.user_known_hosts_files;
  files.insert(files.end(), policy.global_known_hosts_files.begin(),
               policy.global_known_hosts_files.end());
  const KnownHosts known_hosts = KnownHosts::load(files);
  for (const auto& problem : known_hosts.problems()) {
    logger()->warn("skipping known_hosts entry: {}", problem.to_string());
  }
  const HostKeyLookup lookup = known_hosts.lookup(lookup_host, lookup_port, key);

  HostKeyDecision decision;
  decision.status = lookup.status;
  const std::string described = name + " (" + describe_key(key) + ")";
  switch (lookup.status) {
    case HostKeyStatus::Match:
      decision = accept(decision, "host key for " + described + " is known (" +
                                      describe_entry(lookup.file, lookup.line) + ")");
      logger()->debug("{}", decision.reason);
      return decision;

    case HostKeyStatus::Revoked:
      return refuse(decision, "host key for " + described + " is marked as revoked (" +
                                  describe_entry(lookup.file, lookup.line) + ")");

    case HostKeyStatus::Mismatch: {
      const std::string changed = "host key for " + name + " has changed (" + describe_key(key) +
                                  "; " + describe_entry(lookup.file, lookup.line) + ")";
      if (policy.strict_host_key_checking != StrictHostKeyChecking::No) {
        return refuse(decision, changed);
      }
      decision.key_changed = true;
      decision = accept(decision, changed + "; accepted because StrictHostKeyChecking is no");
      // Reported to the user by the caller (key_changed is set).
      logger()->debug("{}", decision.reason);
      return decision;
    }

    case HostKeyStatus::NotFound:
      break;
  }

  switch (policy.strict_host_key_checking) {
    case StrictHostKeyChecking::AcceptNew:
    case StrictHostKeyChecking::No:
      return add_and_accept(policy, name, lookup_host, lookup_port, key, decision);
    case StrictHostKeyChecking::Ask:
      if (policy.confirm && !policy.batch_mode) {
        if (policy.confirm(unknown_key_question(name, key, lookup))) {
          return add_and_accept(policy, name, lookup_host, lookup_port, key, decision);
        }
        return refuse(decision, "host key for " + described + " was not accepted");
      }
      break;  // no one to ask: as strict as Yes
    case StrictHostKeyChecking::Yes:
      break;
  }
  std::string why = "no " + key.type() + " host key is known for " + name + " (" +
                    key.fingerprint_sha256() + ") and strict checking is requested";
  if (!lookup.known_key_types.empty()) {
    why += "; keys of other types are known for it";
  }
  return refuse(decision, why);
}

std::optional<hostkeys::KnownHostKeys> known_host_keys_for_update(const HostKeyPolicy& policy,
                                                                  std::string_view hostname,
                                                                  std::uint16_t port) {
  if (!policy.update_host_keys) return std::nullopt;
  if (!policy.pinned_fingerprints.empty() || policy.user_known_hosts_files.empty()) {
    logger()->debug("UpdateHostKeys: not updating (pinned keys or no UserKnownHostsFile)");
    return std::nullopt;
  }
  std::vector<std::string> files = policy.user_known_hosts_files;
  files.insert(files.end(), policy.global_known_hosts_files.begin(),
               policy.global_known_hosts_files.end());
  const KnownHosts known_hosts = KnownHosts::load(files);
  return config::known_host_keys_for_update(known_hosts,
                                            known_hosts_name_for(policy, hostname, port),
                                            policy.user_known_hosts_files.front());
}

Status apply_host_key_update(const HostKeyPolicy& policy, std::string_view hostname,
                             std::uint16_t port, const std::vector<keys::PublicKey>& added,
                             const std::vector<Bytes>& removed) {
  if (policy.user_known_hosts_files.empty()) return {};
  const std::string& file = policy.user_known_hosts_files.front();
  const std::string name = known_hosts_name_for(policy, hostname, port);
  Botan::AutoSeeded_RNG rng;
  if (Status updated =
          update_known_host_keys(file, name, added, removed, policy.hash_known_hosts, rng);
      !updated) {
    logger()->warn("UpdateHostKeys: cannot update {}: {}", file, updated.error().message);
    return updated;
  }
  for (const auto& key : added) {
    logger()->info("Learned new host key for {}: {} ({})", name, describe_key(key), file);
  }
  for (const auto& blob : removed) {
    auto key = keys::PublicKey::from_blob(blob);
    logger()->info("Removed old host key for {}: {} ({})", name,
                   key ? describe_key(*key) : std::string("key of an unknown type"), file);
  }
  return {};
}

}  // namespace ssh::config
