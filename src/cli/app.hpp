// The limactl command line: one file per subcommand, each a setup/run pair
// over a plain options struct, all registered here.
#pragma once

namespace cli {

// Parses argv and runs the chosen subcommand; returns the process exit code.
int run_limactl(int argc, char** argv);

}  // namespace cli
