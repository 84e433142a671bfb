// `limactl start NAME`: boots an instance's VM under QEMU and follows the
// boot on its serial console until the guest's boot script is done.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace cli {

struct StartCommandOptions {
  std::string name;
  int verbosity = 0;
  int timeout_seconds = 600;
};

void setup_start_command(CLI::App& app, StartCommandOptions& options);
int run_start_command(const StartCommandOptions& options);

}  // namespace cli
