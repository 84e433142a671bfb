// `limactl sshd`: the embedded SSH server in the foreground, for hosts
// without OpenSSH and for testing. Options follow sshd's names (-p, -h,
// -o Key=value); it logs to stderr and prints "listening on ADDR:PORT" on
// stdout for each address once it accepts connections.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace cli {

struct SshdCommandOptions {
  int port = 22;                       // -p; 0 picks a free port
  std::vector<std::string> host_keys;  // -h, repeatable
  std::vector<std::string> options;    // -o Key=value
  bool debug = false;                  // -d
  int verbosity = 0;                   // -v count
  bool quiet = false;                  // -q
};

void setup_sshd_command(CLI::App& app, SshdCommandOptions& options);
// Returns the exit status: 0 after a clean shutdown (SIGTERM/SIGINT),
// 1 when the server cannot start (bad option, unreadable key, busy port).
int run_sshd_command(const SshdCommandOptions& options);

}  // namespace cli
