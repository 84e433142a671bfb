// `limactl scp`: OpenSSH's scp, in process. Over SFTP by default (the
// "subsystem sftp" channel, pipelined transfers); -O speaks the legacy scp
// protocol to a remote `scp -t` / `scp -f`.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cli {

struct ScpCommandOptions {
  int port = 0;  // -P; 0 = not given
  std::vector<std::string> identity_files;
  std::string config_file;
  std::vector<std::string> options;  // -o Key=Value
  bool recursive = false;
  bool preserve = false;
  bool quiet = false;
  bool compression = false;  // -C
  int verbosity = 0;
  bool legacy_protocol = false;       // -O
  bool resume = false;                // --resume (SFTP mode)
  std::vector<std::string> operands;  // SRC... DST
};

// One operand of scp: a remote "[user@]host:path" (also "[user@][v6]:path"),
// or a local path. As OpenSSH's scp: a leading ':' or a '/' before the first
// ':' makes it local.
struct ScpOperand {
  bool remote = false;
  std::string user;  // empty: not given
  std::string host;  // brackets removed
  std::string path;  // the remote path (may be empty: the home directory), or the local one
};
ScpOperand parse_scp_operand(std::string_view text);

void setup_scp_command(CLI::App& app, ScpCommandOptions& options);
int run_scp_command(const ScpCommandOptions& options);

}  // namespace cli
