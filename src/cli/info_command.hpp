// `limactl info`: what this limactl is and where it keeps things, as one
// JSON object (Lima's command of the same name; its defaultTemplate and
// per-VM-type details are not given).
#pragma once

#include <CLI/CLI.hpp>

namespace cli {

struct InfoCommandOptions {};

void setup_info_command(CLI::App& app, InfoCommandOptions& options);
int run_info_command(const InfoCommandOptions& options);

}  // namespace cli
