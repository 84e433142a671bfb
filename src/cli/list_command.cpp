#include "cli/list_command.hpp"

#include <algorithm>
#include <exception>
#include <iostream>
#include <nlohmann/json.hpp>

#include "platform/instance_lock.hpp"
#include "platform/user.hpp"
#include "vm/instance_start.hpp"
#include "vm/instance_store.hpp"
#include "vm/lima_config_defaults.hpp"
#include "vm/lima_config_load.hpp"

namespace cli {
namespace {

constexpr int kExitFailure = 1;

struct InstanceRow {
  std::string name;
  vm::InstanceState state;
  std::filesystem::path directory;
  vm::LimaConfig config;  // with defaults; fields unset when it could not be read
  std::vector<std::string> errors;
};

InstanceRow inspect(const vm::LimaHome& home, const std::string& name) {
  InstanceRow row;
  row.name = name;
  const vm::InstancePaths paths(home.instance_directory(name));
  row.directory = paths.directory();
  row.state = vm::inspect_instance(paths, platform::process_is_running);
  if (!row.state.problem.empty()) row.errors.push_back(row.state.problem);
  if (std::filesystem::exists(paths.lima_yaml())) {
    const vm::ConfigLoadResult loaded = vm::load_lima_config_with_defaults(
        paths.lima_yaml(), home.root(), vm::current_host_facts());
    row.config = loaded.config;
    for (const auto& error : loaded.errors) row.errors.push_back(error.to_string());
    if (!loaded.ok()) row.state.status = vm::InstanceStatus::Broken;
  }
  return row;
}

// "~/.lima/NAME" when under the home directory, as Lima shows it.
std::string display_directory(const std::filesystem::path& directory) {
  const std::string home = std::filesystem::path(platform::home_directory()).generic_string();
  const std::string dir = directory.generic_string();
  if (!home.empty() && dir.size() > home.size() && dir.starts_with(home) &&
      dir[home.size()] == '/') {
    return "~" + dir.substr(home.size());
  }
  return directory.string();
}

// The port the running VM got (ssh.config, written by start), else the
// configured one.
int ssh_port(const InstanceRow& row) {
  if (row.state.status == vm::InstanceStatus::Running) {
    if (auto port = vm::instance_ssh_port(vm::InstancePaths(row.directory))) return *port;
  }
  return row.config.ssh.local_port.value_or(0);
}

std::string ssh_address(const InstanceRow& row) {
  const int port = ssh_port(row);
  return port > 0 ? "127.0.0.1:" + std::to_string(port) : "-";
}

std::string text_or_dash(const std::optional<std::string>& value) {
  return value ? *value : "-";
}

void print_table(const std::vector<InstanceRow>& rows) {
  std::vector<std::vector<std::string>> table{
      {"NAME", "STATUS", "SSH", "VMTYPE", "ARCH", "CPUS", "MEMORY", "DISK", "DIR"}};
  for (const InstanceRow& row : rows) {
    table.push_back({row.name, std::string(vm::instance_status_name(row.state.status)),
                     ssh_address(row), text_or_dash(row.config.vm_type),
                     text_or_dash(row.config.arch),
                     row.config.cpus ? std::to_string(*row.config.cpus) : "-",
                     row.config.memory ? vm::format_size(*row.config.memory) : "-",
                     row.config.disk ? vm::format_size(*row.config.disk) : "-",
                     display_directory(row.directory)});
  }
  std::vector<std::size_t> widths(table.front().size(), 0);
  for (const auto& line : table) {
    for (std::size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], line[i].size());
  }
  for (const auto& line : table) {
    std::string text;
    for (std::size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text += std::string(widths[i] - line[i].size() + 4, ' ');
    }
    std::cout << text << "\n";
  }
}

nlohmann::json to_json(const InstanceRow& row) {
  nlohmann::json object{{"name", row.name},
                        {"status", std::string(vm::instance_status_name(row.state.status))},
                        {"dir", row.directory.string()}};
  if (row.config.vm_type) object["vmType"] = *row.config.vm_type;
  if (row.config.arch) object["arch"] = *row.config.arch;
  if (row.config.cpus) object["cpus"] = *row.config.cpus;
  if (row.config.memory) object["memory"] = *row.config.memory;
  if (row.config.disk) object["disk"] = *row.config.disk;
  object["sshLocalPort"] = ssh_port(row);
  object["sshAddress"] = "127.0.0.1";
  if (row.state.qemu_pid > 0) object["driverPID"] = row.state.qemu_pid;
  if (!row.errors.empty()) object["errors"] = row.errors;
  return object;
}

}  // namespace

void setup_list_command(CLI::App& app, ListCommandOptions& options) {
  auto* command = app.add_subcommand(
      "list",
      "List instances under $LIMA_HOME: NAME STATUS SSH VMTYPE ARCH CPUS MEMORY DISK DIR. "
      "STATUS is Running while the VM process in qemu.pid lives, Stopped without one, Broken "
      "when the pid file is stale or lima.yaml cannot be read.");
  command->alias("ls");
  command->add_option("NAME", options.names, "Only these instances");
  command->add_flag("--json", options.json, "One JSON object per instance and line");
  command->add_flag("-q,--quiet", options.quiet, "Only the names");
}

int run_list_command(const ListCommandOptions& options) {
  try {
    const vm::LimaHome home(vm::lima_home_directory());
    std::vector<std::string> names = vm::list_instance_names(home);
    int status = 0;
    if (!options.names.empty()) {
      std::vector<std::string> wanted;
      for (const std::string& name : options.names) {
        if (std::find(names.begin(), names.end(), name) == names.end()) {
          std::cerr << "limactl list: no instance named \"" << name << "\"\n";
          status = kExitFailure;
          continue;
        }
        wanted.push_back(name);
      }
      names = wanted;
    } else if (names.empty() && !options.json && !options.quiet) {
      std::cerr << "No instance found. Run `limactl create` to create an instance.\n";
      return 0;
    }
    std::vector<InstanceRow> rows;
    for (const std::string& name : names) rows.push_back(inspect(home, name));
    if (options.quiet) {
      for (const InstanceRow& row : rows) std::cout << row.name << "\n";
    } else if (options.json) {
      for (const InstanceRow& row : rows) std::cout << to_json(row).dump() << "\n";
    } else if (!rows.empty()) {
      print_table(rows);
    }
    return status;
  } catch (const std::exception& error) {
    std::cerr << "limactl list: " << error.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace cli
