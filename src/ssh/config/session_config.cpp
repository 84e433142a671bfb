#include "ssh/config/session_config.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "platform/files.hpp"
#include "ssh/crypto/cipher.hpp"
#include "ssh/kex/kex.hpp"
#include "ssh/keys/key_files.hpp"
#include "ssh/keys/keys.hpp"
#include "ssh/log.hpp"

namespace ssh::config {
namespace {

std::vector<std::string> resolve(const std::string& spec, const std::vector<std::string>& defaults,
                                 const std::vector<std::string>& supported) {
  if (spec.empty()) return defaults;
  return resolve_algorithm_list(spec, defaults, supported);
}

// PubkeyAcceptedAlgorithms may name algorithms OpenSSH has and we do not
// (ssh-rsa, certificates, security keys); they are accepted and dropped, so
// that configs written for ssh keep working.
std::vector<std::string> resolve_pubkey_algorithms(const std::string& spec) {
  const auto& ours = keys::supported_signature_algorithms();
  std::vector<std::string> known = ours;
  for (const char* name :
       {"ssh-rsa", "ssh-dss", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
        "webauthn-sk-ecdsa-sha2-nistp256@openssh.com", "ssh-ed25519-cert-v01@openssh.com",
        "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
        "ecdsa-sha2-nistp521-cert-v01@openssh.com", "rsa-sha2-512-cert-v01@openssh.com",
        "rsa-sha2-256-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com",
        "sk-ssh-ed25519-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com"}) {
    known.emplace_back(name);
  }
  auto resolved = resolve_algorithm_list(spec, ours, known);
  std::erase_if(resolved, [&](const std::string& name) {
    return std::find(ours.begin(), ours.end(), name) == ours.end();
  });
  return resolved;
}

}  // namespace

ClientSessionConfig make_session_config(const ClientOptions& options) {
  ClientSessionConfig config;
  auto& policy = config.transport.policy;
  using transport::AlgorithmPolicy;
  policy.kex =
      resolve(options.kex_algorithms, AlgorithmPolicy::default_kex(), kex::supported_kex());
  policy.host_key = resolve(options.host_key_algorithms, AlgorithmPolicy::default_host_key(),
                            keys::supported_signature_algorithms());
  policy.ciphers =
      resolve(options.ciphers, AlgorithmPolicy::default_ciphers(), crypto::supported_ciphers());
  policy.macs = resolve(options.macs, AlgorithmPolicy::default_macs(), crypto::supported_macs());
  if (options.compression) policy.compression = AlgorithmPolicy::client_compression();
  if (options.rekey_limit_bytes && *options.rekey_limit_bytes > 0) {
    config.transport.rekey_bytes = *options.rekey_limit_bytes;
  }
  config.transport.rekey_interval = options.rekey_limit_seconds;

  config.auth.user = options.user;
  if (!options.pubkey_accepted_algorithms.empty()) {
    config.auth.signature_algorithms =
        resolve_pubkey_algorithms(options.pubkey_accepted_algorithms);
  }
  std::vector<std::string> methods = options.preferred_authentications;
  if (methods.empty()) methods = {"publickey", "keyboard-interactive", "password"};
  config.auth.methods.clear();
  for (const auto& method : methods) {
    if (method == "publickey" && !options.pubkey_authentication) continue;
    if (method == "password" && (!options.password_authentication)) continue;
    if (method == "keyboard-interactive" && !options.kbd_interactive_authentication) continue;
    config.auth.methods.push_back(method);
  }
  config.keepalive_interval = options.server_alive_interval;
  config.keepalive_count_max = options.server_alive_count_max;
  return config;
}

LoadedIdentities load_identities(const ClientOptions& options,
                                 const IdentityPassphrasePrompt& prompt) {
  // ssh's NumberOfPasswordPrompts default, for passphrases too.
  constexpr int kPassphraseAttempts = 3;
  LoadedIdentities loaded;
  if (!options.pubkey_authentication) return loaded;
  const bool defaults = options.identity_files.empty();
  const auto files = defaults ? default_identity_files(home_directory()) : options.identity_files;
  for (const auto& file : files) {
    std::error_code error;
    if (!std::filesystem::exists(file, error)) {
      if (!defaults) loaded.warnings.push_back("no such identity: " + file);
      log::get("auth")->debug("identity file {} not found", file);
      continue;
    }
    if (auto problem = platform::private_key_permission_problem(file)) {
      loaded.warnings.push_back(*problem);
      continue;
    }
    auto text = keys::read_key_file_text(file);
    if (!text) {
      loaded.warnings.push_back("cannot read identity " + text.error().message);
      continue;
    }
    const bool encrypted = keys::PrivateKey::is_encrypted(*text);
    if (encrypted && !prompt) {
      log::get("auth")->debug(
          "identity file {} is encrypted and there is no one to ask for its "
          "passphrase; skipped",
          file);
      continue;
    }
    bool skipped = false;
    auto ask = [&]() -> std::optional<SecureBytes> {
      auto passphrase = prompt(file);
      if (!passphrase || passphrase->empty()) skipped = true;
      return skipped ? std::nullopt : passphrase;
    };
    auto key = keys::PrivateKey::from_file_text(*text, ask);
    for (int attempt = 1; encrypted && !key && !skipped && attempt < kPassphraseAttempts &&
                          keys::is_incorrect_passphrase(key.error());
         ++attempt) {
      log::get("auth")->debug("identity file {}: incorrect passphrase", file);
      key = keys::PrivateKey::from_file_text(*text, ask);
    }
    Botan::secure_scrub_memory(text->data(), text->size());
    if (skipped) {
      log::get("auth")->debug("identity file {}: no passphrase given; skipped", file);
      continue;
    }
    if (!key) {
      loaded.warnings.push_back("cannot load identity " + file + ": " + key.error().message);
      continue;
    }
    log::get("auth")->debug("loaded identity {} ({} {})", file, key->public_key().type(),
                            key->public_key().fingerprint_sha256());
    loaded.identities.push_back({file, std::move(*key)});
  }
  return loaded;
}

std::vector<auth::ConfiguredKey> load_configured_public_keys(const ClientOptions& options) {
  std::vector<auth::ConfiguredKey> configured;
  const auto files = options.identity_files.empty() ? default_identity_files(home_directory())
                                                    : options.identity_files;
  for (const auto& file : files) {
    // As ssh: an identity file that is not there counts for nothing, even
    // when its .pub is.
    std::error_code error;
    if (!std::filesystem::exists(file, error)) continue;
    std::ifstream in(file + ".pub", std::ios::binary);
    if (!in) continue;
    std::string line;
    std::getline(in, line);
    auto key = keys::PublicKey::from_openssh_line(line);
    if (!key) {
      log::get("auth")->debug("ignoring {}.pub: {}", file, key.error().message);
      continue;
    }
    configured.push_back({file, std::move(*key)});
  }
  return configured;
}

}  // namespace ssh::config
