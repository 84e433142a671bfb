// libFuzzer target: lima.yaml text through everything limactl does with it
// short of starting a VM: loading with its diagnostics, the writer (whose
// output must load back to the same configuration), Lima's layering (the
// text as default, instance and override layer at once), the built-in
// defaults with fixed host facts, and validation. Lima's size strings go
// through parse_size/format_size, which must round-trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "vm/lima_config.hpp"
#include "vm/lima_config_defaults.hpp"
#include "vm/lima_config_load.hpp"
#include "vm/lima_config_validate.hpp"

namespace {

// What the writer prints must read back as the same configuration, without
// errors: a config limactl wrote is one it can load.
void check_write_round_trip(const vm::LimaConfig& config) {
  const std::string written = vm::write_lima_config(config);
  const vm::ConfigLoadResult again = vm::load_lima_config(written, "written.yaml");
  if (!again.ok() || !(again.config == config)) std::abort();
}

void check_size_round_trip(std::string_view text) {
  // Size strings are short; a long input is no size and only costs time.
  if (text.size() > 64) return;
  if (auto bytes = vm::parse_size(text)) {
    if (vm::parse_size(vm::format_size(*bytes)) != bytes) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_size_round_trip(text);

  vm::ConfigLoadResult loaded = vm::load_lima_config(text, "lima.yaml");
  for (const auto& diagnostic : loaded.errors) (void)diagnostic.to_string();
  for (const auto& diagnostic : loaded.warnings) (void)diagnostic.to_string();
  check_write_round_trip(loaded.config);

  const vm::HostFacts host{"fuzzer", "1000", "/home/fuzzer", "x86_64"};
  const vm::LimaConfig merged = vm::merge_lima_configs(loaded.config, loaded.config, loaded.config);
  const vm::LimaConfig filled = vm::apply_builtin_defaults(merged, host);
  check_write_round_trip(filled);

  const vm::ValidationResult validation =
      vm::validate_lima_config(filled, "lima.yaml", loaded.lines);
  for (const auto& diagnostic : validation.errors) (void)diagnostic.to_string();
  return 0;
}
