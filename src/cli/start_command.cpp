#include "cli/start_command.hpp"

#include <exception>
#include <iostream>

#include "cli/instance_command.hpp"
#include "cli/instance_reporter.hpp"
#include "cli/logging.hpp"
#include "platform/instance_lock.hpp"
#include "ssh/log.hpp"
#include "vm/instance_start.hpp"
#include "vm/instance_store.hpp"
#include "vm/lima_config_defaults.hpp"
#include "vm/lima_config_validate.hpp"

namespace cli {
namespace {

constexpr int kExitFailure = 1;

vm::LimaConfig load_checked_config(const vm::LimaHome& home, const vm::InstancePaths& paths) {
  const vm::ConfigLoadResult loaded =
      vm::load_lima_config_with_defaults(paths.lima_yaml(), home.root(), vm::current_host_facts());
  for (const auto& warning : loaded.warnings) {
    std::cerr << "limactl start: warning: " << warning.to_string() << "\n";
  }
  std::vector<vm::ConfigDiagnostic> errors = loaded.errors;
  if (loaded.ok()) {
    errors =
        vm::validate_lima_config(loaded.config, paths.lima_yaml().string(), loaded.lines).errors;
  }
  if (!errors.empty()) {
    std::string message = paths.lima_yaml().string() + " is not valid:";
    for (const auto& error : errors) message += "\n  " + error.to_string();
    throw std::runtime_error(message);
  }
  return loaded.config;
}

}  // namespace

void setup_start_command(CLI::App& app, StartCommandOptions& options) {
  auto* command = app.add_subcommand(
      "start",
      "Start an instance made by `limactl create`: prepares its disk, cidata.iso and keys, "
      "starts QEMU in the background (KVM when it really runs guests here, else TCG) and "
      "follows the boot on the serial console until the guest's boot script is done. Writes "
      "$LIMA_HOME/NAME/ssh.config for `ssh -F` with the guest's host key pinned.");
  command->add_option("NAME", options.name, "The instance")->required();
  add_verbosity_flags(*command, options.verbosity);
  command
      ->add_option("--timeout", options.timeout_seconds,
                   "Seconds the boot may take before start gives up (the VM keeps running)")
      ->check(CLI::PositiveNumber);
}

int run_start_command(const StartCommandOptions& options) {
  configure_logging_verbosity(options.verbosity, false);
  try {
    const vm::LimaHome home(vm::lima_home_directory());
    const vm::InstancePaths paths = existing_instance(home, options.name);
    const vm::InstanceLock lock = vm::InstanceLock::acquire(paths);
    const vm::InstanceState state = vm::inspect_instance(paths, platform::process_is_running);
    if (state.status == vm::InstanceStatus::Running) {
      const auto port = vm::instance_ssh_port(paths);
      std::cout << "Instance \"" << options.name << "\" is already running (pid " << state.qemu_pid
                << (port ? ", SSH on 127.0.0.1:" + std::to_string(*port) : std::string()) << ")\n";
      return 0;
    }
    if (state.status == vm::InstanceStatus::Broken) {
      ssh::log::get("vm")->info("starting over a broken instance: {}", state.problem);
      std::error_code error;
      std::filesystem::remove(paths.qemu_pid(), error);
    }
    const vm::LimaConfig config = load_checked_config(home, paths);
    TerminalInstanceReporter reporter("limactl start");
    vm::StartOptions start_options;
    start_options.boot_timeout = std::chrono::seconds(options.timeout_seconds);
    const vm::StartedInstance started =
        vm::start_instance(home, paths, config, start_options, reporter.reporter());
    std::cout << "Instance \"" << options.name << "\" is running (QEMU pid " << started.qemu_pid
              << ", " << vm::accelerator_name(started.accelerator)
              << ", SSH on 127.0.0.1:" << started.ssh_port << ").\n"
              << "Its console: " << paths.serial_log().string() << "\n"
              << "SSH: limactl ssh -F " << paths.ssh_config().string() << " lima-" << options.name
              << "\n";
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "limactl start: " << error.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace cli
