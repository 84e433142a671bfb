#include "cli/validate_command.hpp"

#include <exception>
#include <iostream>

#include "vm/lima_config_defaults.hpp"
#include "vm/lima_config_load.hpp"
#include "vm/lima_config_validate.hpp"

namespace cli {
namespace {

constexpr int kExitFailure = 1;

// True when the file is valid.
bool validate_file(const std::string& file, const ValidateCommandOptions& options) {
  const vm::ConfigLoadResult loaded =
      vm::load_lima_config_with_defaults(file, vm::lima_home_directory(), vm::current_host_facts());
  for (const auto& warning : loaded.warnings) {
    std::cerr << "limactl validate: warning: " << warning.to_string() << "\n";
  }
  // Fields with type errors were left unset; checking the rest would report
  // follow-on errors (a missing image) that are not the user's.
  for (const auto& error : loaded.errors) {
    std::cerr << "limactl validate: " << error.to_string() << "\n";
  }
  if (!loaded.ok()) return false;
  const vm::ValidationResult checked = vm::validate_lima_config(loaded.config, file, loaded.lines);
  for (const auto& error : checked.errors) {
    std::cerr << "limactl validate: " << error.to_string() << "\n";
  }
  if (!checked.ok()) return false;
  std::cout << file << ": OK\n";
  if (options.fill) std::cout << vm::write_lima_config(loaded.config);
  return true;
}

}  // namespace

void setup_validate_command(CLI::App& app, ValidateCommandOptions& options) {
  auto* command = app.add_subcommand(
      "validate",
      "Check lima.yaml files: with $LIMA_HOME/_config/default.yaml and override.yaml and the "
      "built-in defaults, as `limactl create` would use them. Prints warnings for unknown "
      "fields and every error as FILE:LINE: FIELD: problem; exits 1 when any file is invalid.");
  command->add_option("FILE", options.files, "lima.yaml files")->required();
  command->add_flag("--fill", options.fill,
                    "Also print each valid file's configuration with every default filled in");
}

int run_validate_command(const ValidateCommandOptions& options) {
  bool all_valid = true;
  for (const std::string& file : options.files) {
    try {
      if (!validate_file(file, options)) all_valid = false;
    } catch (const std::exception& error) {
      std::cerr << "limactl validate: " << file << ": " << error.what() << "\n";
      all_valid = false;
    }
  }
  return all_valid ? 0 : kExitFailure;
}

}  // namespace cli
