// `limactl sftp-server`: the SFTP server on stdin/stdout, a drop-in for
// OpenSSH's sftp-server (sftp -D, sshfs -o passive/slave, reverse-sshfs),
// with --root to confine the client to one directory.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace cli {

struct SftpServerCommandOptions {
  std::string start_directory;  // -d (%d: home, %u: user name)
  bool read_only = false;       // -R
  bool log_to_stderr = false;   // -e
  std::string umask;            // -u, octal
  std::string log_level;        // -l (QUIET ... DEBUG3)
  std::string log_facility;     // -f, accepted for compatibility (no syslog)
  std::string root;             // --root
};

void setup_sftp_server_command(CLI::App& app, SftpServerCommandOptions& options);
// 0 when the client closed the stream, 1 on a bad option or a protocol error.
int run_sftp_server_command(const SftpServerCommandOptions& options);

}  // namespace cli
