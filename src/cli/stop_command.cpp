#include "cli/stop_command.hpp"

#include <exception>
#include <iostream>

#include "cli/instance_command.hpp"
#include "cli/instance_reporter.hpp"
#include "cli/logging.hpp"
#include "vm/instance_start.hpp"
#include "vm/instance_store.hpp"
#include "vm/lima_config_defaults.hpp"

namespace cli {

void setup_stop_command(CLI::App& app, StopCommandOptions& options) {
  auto* command = app.add_subcommand(
      "stop",
      "Stop a running instance: asks the guest to power off (ACPI, through QEMU's QMP socket) "
      "and waits for it; kills QEMU if it has not gone by --timeout.");
  command->add_option("NAME", options.name, "The instance")->required();
  add_verbosity_flags(*command, options.verbosity);
  command->add_flag("-f,--force", options.force, "Kill QEMU at once, without a clean power-off");
  command
      ->add_option("--timeout", options.timeout_seconds,
                   "Seconds the guest gets to power off before QEMU is killed")
      ->check(CLI::PositiveNumber);
}

int run_stop_command(const StopCommandOptions& options) {
  configure_logging_verbosity(options.verbosity, false);
  try {
    const vm::LimaHome home(vm::lima_home_directory());
    const vm::InstancePaths paths = existing_instance(home, options.name);
    const vm::InstanceLock lock = vm::InstanceLock::acquire(paths);
    TerminalInstanceReporter reporter("limactl stop");
    vm::StopOptions stop_options;
    stop_options.force = options.force;
    stop_options.timeout = std::chrono::seconds(options.timeout_seconds);
    vm::stop_instance(paths, stop_options, reporter.reporter());
    std::cout << "Instance \"" << options.name << "\" is stopped.\n";
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "limactl stop: " << error.what() << "\n";
    return 1;
  }
}

}  // namespace cli
