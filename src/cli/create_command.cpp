#include "cli/create_command.hpp"

#include <cmath>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "ssh/log.hpp"
#include "vm/image_download.hpp"
#include "vm/instance_store.hpp"
#include "vm/lima_config_defaults.hpp"
#include "vm/lima_config_load.hpp"
#include "vm/lima_config_validate.hpp"
#include "vm/templates.hpp"

namespace cli {
namespace {

constexpr int kExitFailure = 1;
// A lima.yaml is a few KiB; more from a URL is not one.
constexpr std::size_t kMaxRemoteConfigBytes = 1024 * 1024;

struct Source {
  std::string text;
  std::string default_name;
};

std::string join_names(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

Source read_source(const std::string& argument) {
  const std::string source =
      argument.empty() ? std::string(vm::kTemplatePrefix) + std::string(vm::kDefaultTemplateName)
                       : argument;
  if (source.starts_with(vm::kTemplatePrefix)) {
    const std::string name = source.substr(vm::kTemplatePrefix.size());
    auto text = vm::template_text(name, vm::local_guest_image_directory());
    if (!text) {
      throw std::runtime_error("no template named \"" + name +
                               "\"; built-in templates: " + join_names(vm::template_names()));
    }
    return {*text, name};
  }
  if (source.starts_with("http://") || source.starts_with("https://")) {
    return {vm::fetch_text(source, kMaxRemoteConfigBytes), vm::url_file_stem(source)};
  }
  std::ifstream in(source, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + source + ": no such file");
  std::ostringstream text;
  text << in.rdbuf();
  std::filesystem::path path(source);
  std::string name = path.stem().string();
  if (name == "lima") name = path.parent_path().filename().string();  // .../NAME/lima.yaml
  return {text.str(), name};
}

std::uint64_t gib_to_bytes(double gib, const char* flag) {
  if (!(gib > 0) || gib > 1024 * 1024) {
    throw std::runtime_error(std::string(flag) + " must be a positive number of GiB");
  }
  return static_cast<std::uint64_t>(std::llround(gib * 1024.0 * 1024.0 * 1024.0));
}

vm::Mount parse_mount(const std::string& flag) {
  vm::Mount mount;
  std::string location = flag;
  // DIR:w, but not a Windows drive letter (C:\x is a directory).
  if (location.size() > 2 && location.ends_with(":w")) {
    location.resize(location.size() - 2);
    mount.writable = true;
  }
  if (location.empty()) throw std::runtime_error("--mount needs a directory");
  mount.location = location;
  return mount;
}

bool has_overrides(const CreateCommandOptions& options) {
  return options.cpus || options.memory_gib || options.disk_gib || !options.mounts.empty();
}

// The template with the command line's settings applied. Without any, the
// text stays as written (comments and all).
std::string apply_overrides(const std::string& text, const std::string& source_name,
                            const CreateCommandOptions& options) {
  if (!has_overrides(options)) return text;
  vm::ConfigLoadResult loaded = vm::load_lima_config(text, source_name);
  if (!loaded.ok()) {
    std::string message = "cannot apply the command line settings to " + source_name + ":";
    for (const auto& error : loaded.errors) message += "\n  " + error.to_string();
    throw std::runtime_error(message);
  }
  vm::LimaConfig config = loaded.config;
  if (options.cpus) config.cpus = *options.cpus;
  if (options.memory_gib) config.memory = gib_to_bytes(*options.memory_gib, "--memory");
  if (options.disk_gib) config.disk = gib_to_bytes(*options.disk_gib, "--disk");
  for (const std::string& mount : options.mounts) config.mounts.push_back(parse_mount(mount));
  return vm::write_lima_config(config);
}

}  // namespace

void setup_create_command(CLI::App& app, CreateCommandOptions& options) {
  auto* command = app.add_subcommand(
      "create",
      "Create an instance from a template (template:default, template:debian-local), a "
      "lima.yaml file or an http(s) URL of one: writes $LIMA_HOME/NAME/lima.yaml, checked with "
      "$LIMA_HOME/_config/default.yaml and override.yaml. Does not start it. https is checked "
      "against the system's CA certificates; $LIMACTL_CA_FILE may name a PEM file of more "
      "(a private CA).");
  command->add_option("TEMPLATE", options.source,
                      "template:NAME, a lima.yaml file or an http(s) URL of one (default: "
                      "template:default)");
  command->add_option("--name", options.name,
                      "Instance name (default: the template's, file's or URL's file name)");
  command->add_option("--cpus", options.cpus, "Number of CPUs")->check(CLI::PositiveNumber);
  command->add_option("--memory", options.memory_gib, "Memory in GiB (e.g. 1.5)");
  command->add_option("--disk", options.disk_gib, "Disk size in GiB");
  command->add_option("--mount", options.mounts,
                      "Also mount this host directory (DIR, or DIR:w for writable)");
}

int run_create_command(const CreateCommandOptions& options) {
  auto log = ssh::log::get("vm");
  try {
    const Source source = read_source(options.source);
    const std::string name = options.name.empty() ? source.default_name : options.name;
    if (name.empty()) {
      throw std::runtime_error("cannot tell an instance name from " + options.source +
                               "; pass --name NAME");
    }
    const std::string source_name = options.source.empty() ? "template:default" : options.source;
    const std::string text = apply_overrides(source.text, source_name, options);
    const vm::LimaHome home(vm::lima_home_directory());
    log->debug("creating instance {} from {} in {}", name, source_name, home.root().string());
    const vm::InstancePaths paths = vm::create_instance_directory(home, name, text);

    // Checked as `limactl start` will read it: with the user's default and
    // override files and the built-in defaults.
    const vm::ConfigLoadResult loaded = vm::load_lima_config_with_defaults(
        paths.lima_yaml(), home.root(), vm::current_host_facts());
    for (const auto& warning : loaded.warnings) {
      std::cerr << "limactl create: warning: " << warning.to_string() << "\n";
    }
    std::vector<vm::ConfigDiagnostic> errors = loaded.errors;
    if (loaded.ok()) {
      const vm::ValidationResult checked =
          vm::validate_lima_config(loaded.config, paths.lima_yaml().string(), loaded.lines);
      errors = checked.errors;
    }
    if (!errors.empty()) {
      for (vm::ConfigDiagnostic error : errors) {
        // Unchanged text has the lines of the user's file: name that file,
        // not the copy about to be removed.
        if (!has_overrides(options) && error.file == paths.lima_yaml().string()) {
          error.file = source_name;
        }
        std::cerr << "limactl create: " << error.to_string() << "\n";
      }
      vm::delete_instance(paths, false);
      std::cerr << "limactl create: " << source_name << " is not a valid configuration; "
                << "no instance was created\n";
      return kExitFailure;
    }
    std::cout << "Created instance \"" << name << "\" in " << paths.directory().string() << "\n"
              << "Run `limactl start " << name << "` to start it.\n";
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "limactl create: " << error.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace cli
