// `limactl stop [-f] NAME`: powers an instance's VM off (QMP
// system_powerdown), killing QEMU if the guest does not go by the deadline.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace cli {

struct StopCommandOptions {
  std::string name;
  int verbosity = 0;
  bool force = false;
  int timeout_seconds = 180;
};

void setup_stop_command(CLI::App& app, StopCommandOptions& options);
int run_stop_command(const StopCommandOptions& options);

}  // namespace cli
