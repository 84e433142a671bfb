// File system operations whose POSIX and Windows forms differ: modes and
// permissions, appending to shared text files.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace platform {

// Why the private key file at path must not be used, or nullopt if it may.
// POSIX: like OpenSSH, a key of ours that group or others may access is
// refused ("UNPROTECTED PRIVATE KEY FILE!"). Windows has no POSIX mode bits
// (the C runtime reports every file as 0644 or so): nothing is refused
// there (checking the file's ACL as Windows OpenSSH does is left to do).
std::optional<std::string> private_key_permission_problem(const std::filesystem::path& path);

// Creates one directory, with mode 0700 on POSIX (like ~/.ssh). Returns 0,
// or the errno value (EEXIST if it is there already).
int make_private_directory(const std::filesystem::path& path);

struct FileError {
  std::string action;  // "open" or "write"
  int error_number = 0;
};

// Appends text to file (created 0644 if missing), in binary mode, with a
// '\n' first when the file's last byte is not one (appending there would
// glue the text onto the last line).
std::optional<FileError> append_to_text_file(const std::filesystem::path& file,
                                             std::string_view text);

// Writes content to file, replacing what it held. POSIX: created with mode
// (0600 for a private key, 0644 for a public one) and set to mode if it
// existed. Windows has no POSIX mode bits: the file gets the directory's
// inherited ACL, as files Windows OpenSSH's ssh-keygen writes under the
// user's profile do.
std::optional<FileError> write_file_with_mode(const std::filesystem::path& file,
                                              std::string_view content, unsigned mode);

// The existing paths that match a shell wildcard pattern (*, ? and [...]
// in any component), sorted; empty if none match; nullopt on an error.
// POSIX glob(3); on Windows our own matcher, case-insensitive as the file
// system is (neither \\ nor / escapes there: both are separators).
std::optional<std::vector<std::string>> expand_wildcards(const std::filesystem::path& pattern);

}  // namespace platform
