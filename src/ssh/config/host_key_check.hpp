// Deciding whether to trust the host key a server presents, following
// OpenSSH's StrictHostKeyChecking rules (see ClientOptions), plus pinned
// fingerprints for programs that know the key in advance:
//
//   pins given       -> only a key with a pinned fingerprint; files ignored
//   @revoked key     -> refused, whatever the mode (OpenSSH lets "no" through
//                       with a warning; we never accept a revoked key)
//   known key        -> accepted
//   changed key      -> refused, except with "no": accepted with a warning and
//                       key_changed set (OpenSSH then disables password and
//                       keyboard-interactive authentication; callers should too)
//   unknown key      -> yes: refused; accept-new / no: appended to the first
//                       user known_hosts file and accepted; ask: the confirm
//                       callback decides (no callback, or BatchMode: refused)
//
// Every decision is logged on the "ssh.hostkeys" logger and comes with a
// one-line reason worded like OpenSSH's messages.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/config/client_options.hpp"
#include "ssh/config/known_hosts.hpp"
#include "ssh/keys/keys.hpp"

namespace ssh::config {

struct HostKeyPolicy {
  StrictHostKeyChecking strict_host_key_checking = StrictHostKeyChecking::Ask;
  // Paths as they are opened (already ~ and %-expanded). New keys are added
  // to the first user file.
  std::vector<std::string> user_known_hosts_files;
  std::vector<std::string> global_known_hosts_files;
  // "SHA256:..." fingerprints; when not empty they alone decide.
  std::vector<std::string> pinned_fingerprints;
  bool hash_known_hosts = false;
  // UpdateHostKeys=yes: record host keys the server proves after
  // authentication (see ClientSessionCallbacks::known_host_keys_for_update).
  bool update_host_keys = false;
  // Looked up and written instead of "[hostname]:port" when set.
  std::optional<std::string> host_key_alias;
  // BatchMode: never ask, even when a confirm callback exists.
  bool batch_mode = false;
  // For Ask: shows the question (OpenSSH's wording, several lines) and returns
  // whether the user trusts the key. Leave empty when there is no terminal.
  std::function<bool(const std::string& question)> confirm;

  // From options that went through finalize_options() (paths expanded).
  static HostKeyPolicy from_options(const ClientOptions& options);
};

struct HostKeyDecision {
  bool accepted = false;
  // One line: why, naming the host, key type and fingerprint, and the
  // known_hosts file and line that decided when there is one. Refusals start
  // with "Host key verification failed: ".
  std::string reason;
  // What the known_hosts files said (NotFound when pins decided).
  HostKeyStatus status = HostKeyStatus::NotFound;
  // Accepted although a different key is recorded (StrictHostKeyChecking=no).
  bool key_changed = false;
  // The file the key was appended to, when it was.
  std::string added_to;
};

// `hostname` and `port` are where we connected (ClientOptions::hostname and
// port); they name the host in known_hosts unless policy.host_key_alias is set.
HostKeyDecision check_host_key(const HostKeyPolicy& policy, std::string_view hostname,
                               std::uint16_t port, const keys::PublicKey& key);

// UpdateHostKeys: what the known_hosts files hold for the host, for
// hostkeys::plan_update(); nullopt when updating is off, keys are pinned or
// there is no user known_hosts file to write.
std::optional<hostkeys::KnownHostKeys> known_host_keys_for_update(const HostKeyPolicy& policy,
                                                                  std::string_view hostname,
                                                                  std::uint16_t port);

// Records keys the server proved and forgets the ones it no longer offers,
// in the first user known_hosts file, logging each key.
Status apply_host_key_update(const HostKeyPolicy& policy, std::string_view hostname,
                             std::uint16_t port, const std::vector<keys::PublicKey>& added,
                             const std::vector<Bytes>& removed);

}  // namespace ssh::config
