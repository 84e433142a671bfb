// Checks of a lima.yaml, after merging and built-in defaults, with Lima's
// rules (pkg/limayaml/validate.go) for the fields limactl knows, narrowed to
// what limactl supports (vmType qemu, mountType reverse-sshfs, os Linux).
// Every problem is reported, each with its field path.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "vm/lima_config.hpp"
#include "vm/lima_config_load.hpp"

namespace vm {

struct ValidationResult {
  std::vector<ConfigDiagnostic> errors;

  bool ok() const { return errors.empty(); }
};

// `file_name` and `lines` (ConfigLoadResult::lines) only place the
// diagnostics: a field's own line, else the line of the nearest enclosing
// field that has one.
ValidationResult validate_lima_config(const LimaConfig& config, const std::string& file_name = "",
                                      const std::map<std::string, int>& lines = {});

// "sha256:" with 64 hex digits or "sha512:" with 128 (lowercase, as Lima's
// go-digest wants).
bool valid_digest(const std::string& digest);

}  // namespace vm
