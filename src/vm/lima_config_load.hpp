// Reading and writing lima.yaml (yaml-cpp).
//
// Loading never throws for bad input: it collects every problem it finds.
// Type errors ("expected a boolean") and malformed YAML are errors; fields
// limactl does not know are warnings, as in Lima (which ignores them). Each
// names the file, the line and the field path, e.g.
//   lima.yaml:12: mounts[1].writable: expected a boolean, got "maybe"
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vm/lima_config.hpp"

namespace vm {

struct ConfigDiagnostic {
  std::string file;
  int line = 0;      // 1-based; 0 when unknown
  std::string path;  // field path, e.g. "mounts[1].writable"; empty for the whole file
  std::string message;

  // "file:line: path: message" (parts that are unknown are left out).
  std::string to_string() const;
  bool operator==(const ConfigDiagnostic&) const = default;
};

struct ConfigLoadResult {
  LimaConfig config;  // what could be read; fields with errors stay unset
  std::vector<ConfigDiagnostic> errors;
  std::vector<ConfigDiagnostic> warnings;
  // The line of every field path that was read, so later checks (validation)
  // can point at the line too.
  std::map<std::string, int> lines;

  bool ok() const { return errors.empty(); }
};

// `file_name` is only used in diagnostics.
ConfigLoadResult load_lima_config(std::string_view yaml_text, const std::string& file_name);
// A file that cannot be read is one error naming it.
ConfigLoadResult load_lima_config_file(const std::filesystem::path& file);

// YAML for the fields that are set, in Lima's field names; loading the result
// gives back an equal LimaConfig.
std::string write_lima_config(const LimaConfig& config);

// Lima's size strings (docker/go-units RAMInBytes, binary units): "4GiB",
// "4 GiB", "4G", "4gb", "512MiB", "1.5GiB", "1048576" (bytes). nullopt when
// the text is no size or does not fit 64 bits.
std::optional<std::uint64_t> parse_size(std::string_view text);
// The largest binary unit that divides the size exactly: "4GiB", "1536MiB",
// "123" for sizes that are no multiple of 1KiB.
std::string format_size(std::uint64_t bytes);

}  // namespace vm
