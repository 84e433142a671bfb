#include "cli/instance_command.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace cli {

void add_verbosity_flags(CLI::App& command, int& verbosity) {
  command.add_flag("-v,--verbose", verbosity,
                   "Log the details (paths, QEMU's command line); twice for more");
  command.add_flag(
      "--debug", [&verbosity](std::int64_t) { verbosity = std::max(verbosity, 1); }, "Same as -v");
}

vm::InstancePaths existing_instance(const vm::LimaHome& home, const std::string& name) {
  if (auto problem = vm::instance_name_problem(name)) throw std::runtime_error(*problem);
  vm::InstancePaths paths(home.instance_directory(name));
  std::error_code error;
  if (!std::filesystem::exists(paths.lima_yaml(), error)) {
    throw std::runtime_error("no instance \"" + name + "\" in " + home.root().string() +
                             ": create it with `limactl create --name " + name + " TEMPLATE`");
  }
  return paths;
}

}  // namespace cli
