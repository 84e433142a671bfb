// `limactl create [--name NAME] [TEMPLATE|FILE|URL] [--cpus N] [--memory GiB]
// [--disk GiB] [--mount DIR[:w]]...`: makes $LIMA_HOME/NAME with its
// lima.yaml, checked as `limactl validate` checks it. Nothing is left
// behind when it fails.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace cli {

struct CreateCommandOptions {
  std::string source;  // template:NAME, a lima.yaml path or URL; empty = template:default
  std::string name;
  std::optional<int> cpus;
  std::optional<double> memory_gib;
  std::optional<double> disk_gib;
  std::vector<std::string> mounts;  // DIR or DIR:w
};

void setup_create_command(CLI::App& app, CreateCommandOptions& options);
int run_create_command(const CreateCommandOptions& options);

}  // namespace cli
