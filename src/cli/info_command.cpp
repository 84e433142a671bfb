#include "cli/info_command.hpp"

#include <iostream>
#include <nlohmann/json.hpp>

#include "vm/lima_config_defaults.hpp"
#include "vm/templates.hpp"

namespace cli {

void setup_info_command(CLI::App& app, InfoCommandOptions&) {
  app.add_subcommand("info",
                     "Print, as JSON: limactl's version, $LIMA_HOME, the VM types and built-in "
                     "templates, the host's architecture, and where template:debian-local looks "
                     "for the locally built guest image.");
}

int run_info_command(const InfoCommandOptions&) {
  nlohmann::json templates = nlohmann::json::array();
  for (const std::string& name : vm::template_names()) {
    templates.push_back({{"name", name}, {"location", std::string(vm::kTemplatePrefix) + name}});
  }
  const nlohmann::json info{
      {"version", LIMACTL_VERSION},
      {"limaHome", vm::lima_home_directory().string()},
      {"vmTypes", {"qemu"}},
      {"templates", templates},
      {"hostArch", vm::host_arch()},
      {"guestImageDirectory", vm::local_guest_image_directory().string()},
  };
  std::cout << info.dump(2) << "\n";
  return 0;
}

}  // namespace cli
