// `limactl validate FILE...`: as Lima's, loads each lima.yaml with
// $LIMA_HOME/_config/default.yaml and override.yaml and the built-in
// defaults, prints warnings (unknown fields), and fails with every error.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace cli {

struct ValidateCommandOptions {
  std::vector<std::string> files;
  bool fill = false;  // --fill: print the config with defaults applied
};

void setup_validate_command(CLI::App& app, ValidateCommandOptions& options);
// 0 when every file is valid, else 1.
int run_validate_command(const ValidateCommandOptions& options);

}  // namespace cli
