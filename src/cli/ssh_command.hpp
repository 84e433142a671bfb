// `limactl ssh`: OpenSSH's ssh client, in process.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/ssh_forwarding.hpp"

namespace cli {

struct SshCommandOptions {
  int port = 0;  // 0 = not given
  std::string login_name;
  std::vector<std::string> identity_files;
  std::vector<std::string> options;  // -o Key=Value
  std::string config_file;
  int force_tty = 0;  // -t count
  bool disable_tty = false;
  bool quiet = false;
  bool compression = false;  // -C
  int verbosity = 0;
  bool forward_agent = false;     // -A
  bool no_forward_agent = false;  // -a
  ForwardingFlags forwarding;     // -L -R -D -W -N -f
  int control_master = 0;         // -M count
  std::string control_path;       // -S
  std::string control_command;    // -O
  // Destination followed by the remote command words.
  std::vector<std::string> destination_and_command;
};

void setup_ssh_command(CLI::App& app, SshCommandOptions& options);
int run_ssh_command(const SshCommandOptions& options);

}  // namespace cli
