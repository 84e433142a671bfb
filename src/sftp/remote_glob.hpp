// Remote wildcards through SFTP, as OpenSSH's scp and sftp expand them
// (glob(3) over READDIR; the server itself has no notion of patterns).
//
// Each path component with a wildcard ('*', '?', "[...]") is matched
// against a listing of the directory reached so far (ssh::scp's
// filename_matches, fnmatch(3) without flags); components without one are
// taken as they are, with '\\' escapes removed. As glob(3): a name starting
// with '.' is only matched by a component that starts with '.', a directory
// that cannot be listed matches nothing, and a pattern whose last
// components are literal only yields paths that exist (one LSTAT each).
//
// Sans I/O like the client: the requests go out through `client`, and the
// callback runs from its on_input() once every listing is in.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sftp/client.hpp"

namespace sftp {

// True if `path` has an unescaped '*', '?' or '['.
bool has_glob_magic(std::string_view path);

// The matches, sorted; empty when nothing matched. ConnectionLost when the
// session ended before the expansion did.
using GlobCallback = std::function<void(ClientResult<std::vector<std::string>>)>;

// `pattern` is a server path (relative ones to its start directory).
void expand_remote_glob(Client& client, const std::string& pattern, GlobCallback callback);

}  // namespace sftp
