#include "cli/app.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace cli {

int run_limactl(int argc, char** argv) {
  CLI::App app{"limactl: Lima-style VM manager with a built-in SSH stack"};
  app.set_version_flag("--version", std::string("limactl ") + LIMACTL_VERSION);
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}

}  // namespace cli
