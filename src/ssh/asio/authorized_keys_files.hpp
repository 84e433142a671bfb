// Publickey authorization from authorized_keys files, as sshd does it: the
// files are read at every attempt (edits apply at once), lines are matched
// by key, and from= / expiry-time are checked against the client and the
// clock. This is the I/O side of ssh/config/authorized_keys (which only
// parses and answers queries).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ssh/auth/server_auth.hpp"
#include "ssh/config/authorized_keys.hpp"

namespace ssh::net {

struct AuthorizedKeysFiles {
  std::vector<std::filesystem::path> files;
  // The one user the server lets in (the user it runs as); empty = any.
  std::string user;
};

// The authorization for `key`, or nullopt (each reason logged with `peer`).
// Files that are missing are skipped; files others may write are refused
// on POSIX (sshd's StrictModes).
std::optional<auth::KeyAuthorization> authorize_from_files(
    const AuthorizedKeysFiles& source, const config::ClientOrigin& origin, std::string_view user,
    const keys::PublicKey& key, std::chrono::system_clock::time_point now);

}  // namespace ssh::net
