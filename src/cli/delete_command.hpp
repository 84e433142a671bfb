// `limactl delete [-f] NAME...`: removes instances. A running one is
// refused unless --force, which kills its VM first.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace cli {

struct DeleteCommandOptions {
  std::vector<std::string> names;
  bool force = false;
};

void setup_delete_command(CLI::App& app, DeleteCommandOptions& options);
int run_delete_command(const DeleteCommandOptions& options);

}  // namespace cli
