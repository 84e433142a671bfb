// `limactl list [NAME...] [--json] [-q]`: the instances under $LIMA_HOME
// with Lima's columns (NAME STATUS SSH VMTYPE ARCH CPUS MEMORY DISK DIR),
// or one JSON object per line, or only the names.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace cli {

struct ListCommandOptions {
  std::vector<std::string> names;
  bool json = false;
  bool quiet = false;
};

void setup_list_command(CLI::App& app, ListCommandOptions& options);
int run_list_command(const ListCommandOptions& options);

}  // namespace cli
