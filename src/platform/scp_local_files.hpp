// The local disk as the scp protocol's file system (ssh/scp/scp_filesystem.hpp),
// for `scp -t` / `scp -f` served inside the server. POSIX: open(2) with
// modes, fchmod, utimensat, the process umask. Windows: the C runtime's
// _wopen family and std::filesystem; there are no POSIX mode bits there (a
// mode without owner-write makes the file read-only; files are reported as
// 0644 or 0444, directories 0755, as under umask 022) and access times are
// not set.
#pragma once

#include <memory>
#include <string>

#include "ssh/scp/scp_filesystem.hpp"

namespace platform {

// Relative paths are taken relative to base_directory (the session's
// working directory), not the process's current directory.
std::unique_ptr<ssh::scp::FileSystem> make_local_scp_file_system(std::string base_directory);

}  // namespace platform
