// Turns resolved ClientOptions into what the sans-I/O client needs: the
// session configuration (algorithm policy, rekey limits, auth methods,
// keepalives) and the identities loaded from their files.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ssh/auth/client_auth.hpp"
#include "ssh/client_session.hpp"
#include "ssh/config/client_options.hpp"

namespace ssh::config {

// Throws std::invalid_argument for algorithm lists naming unknown algorithms.
ClientSessionConfig make_session_config(const ClientOptions& options);

struct LoadedIdentities {
  std::vector<auth::Identity> identities;
  // One line per file that could not be used (missing files are skipped
  // silently when they are defaults, as ssh does).
  std::vector<std::string> warnings;
};

// Asks for the passphrase of the encrypted key file named; nullopt (or an
// empty passphrase) skips the key, as ssh does when the user just presses
// enter or there is nobody to ask.
using IdentityPassphrasePrompt = std::function<std::optional<SecureBytes>(const std::string& file)>;

// Reads IdentityFile entries (or the default files when none were given).
// Encrypted keys are decrypted with what prompt gives (asked again after a
// wrong passphrase, up to NumberOfPasswordPrompts' default of 3 times), or
// skipped with a debug log without a prompt.
LoadedIdentities load_identities(const ClientOptions& options,
                                 const IdentityPassphrasePrompt& prompt = {});

// The public keys of the same identity files, from their ".pub" files
// (skipped when the identity file itself or its .pub is missing or
// unreadable, as ssh does): they let agent keys be matched
// to identity files without loading the private keys (see
// auth::order_identities and IdentitiesOnly).
std::vector<auth::ConfiguredKey> load_configured_public_keys(const ClientOptions& options);

}  // namespace ssh::config
