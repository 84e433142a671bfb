// Turns resolved ClientOptions into what the sans-I/O client needs: the
// session configuration (algorithm policy, rekey limits, auth methods,
// keepalives) and the identities loaded from their files.
#pragma once

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

// Reads IdentityFile entries (or the default files when none were given).
LoadedIdentities load_identities(const ClientOptions& options);

// The public keys of the same identity files, from their ".pub" files
// (skipped when the identity file itself or its .pub is missing or
// unreadable, as ssh does): they let agent keys be matched
// to identity files without loading the private keys (see
// auth::order_identities and IdentitiesOnly).
std::vector<auth::ConfiguredKey> load_configured_public_keys(const ClientOptions& options);

}  // namespace ssh::config
