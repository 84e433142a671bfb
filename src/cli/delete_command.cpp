#include "cli/delete_command.hpp"

#include <exception>
#include <iostream>

#include "ssh/log.hpp"
#include "vm/instance_store.hpp"
#include "vm/lima_config_defaults.hpp"

namespace cli {

void setup_delete_command(CLI::App& app, DeleteCommandOptions& options) {
  auto* command = app.add_subcommand(
      "delete",
      "Delete instances and everything in their directories. A running instance is refused "
      "unless --force, which kills its VM first (no clean shutdown).");
  command->alias("rm");
  command->add_option("NAME", options.names, "Instances to delete")->required();
  command->add_flag("-f,--force", options.force, "Also delete running instances (kills the VM)");
}

int run_delete_command(const DeleteCommandOptions& options) {
  const vm::LimaHome home(vm::lima_home_directory());
  int status = 0;
  for (const std::string& name : options.names) {
    try {
      if (auto problem = vm::instance_name_problem(name)) throw std::runtime_error(*problem);
      const vm::InstancePaths paths(home.instance_directory(name));
      vm::delete_instance(paths, options.force);
      ssh::log::get("vm")->debug("deleted {}", paths.directory().string());
      std::cout << "Deleted instance \"" << name << "\" (" << paths.directory().string() << ")\n";
    } catch (const std::exception& error) {
      std::cerr << "limactl delete: " << error.what() << "\n";
      status = 1;
    }
  }
  return status;
}

}  // namespace cli
