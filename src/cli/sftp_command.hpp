// `limactl sftp`: OpenSSH's sftp client, in process: an interactive prompt
// ("sftp> " when stdin is a terminal, plain lines otherwise) or a batch
// file (-b) of the commands cli/sftp_shell.hpp runs, over an SSH
// "subsystem sftp" channel.
//
// As OpenSSH's sftp: in batch mode every command is echoed after "sftp> ",
// the first one that fails ends the run with exit status 1 unless it starts
// with '-', and nothing but the commands' own output goes to stdout.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace cli {

struct SftpCommandOptions {
  std::string batch_file;  // -b; "-" is stdin
  int port = 0;            // -P; 0 = not given
  std::vector<std::string> identity_files;
  std::string config_file;
  std::vector<std::string> options;  // -o Key=Value
  bool quiet = false;
  bool compression = false;  // -C
  int verbosity = 0;
  std::string destination;  // [user@]host
};

void setup_sftp_command(CLI::App& app, SftpCommandOptions& options);
int run_sftp_command(const SftpCommandOptions& options);

}  // namespace cli
