// libFuzzer target: ssh_config text applied for one host. Include reads
// files, so inputs with an Include keyword are passed over: the target stays
// off the file system (Include's own path handling is unit-tested).
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ssh/config/client_options.hpp"
#include "ssh/config/ssh_config.hpp"

namespace {

bool mentions_include(std::string_view text) {
  constexpr std::string_view kInclude = "include";
  return std::search(text.begin(), text.end(), kInclude.begin(), kInclude.end(),
                     [](char a, char b) {
                       return std::tolower(static_cast<unsigned char>(a)) == b;
                     }) != text.end();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (mentions_include(text)) return -1;  // keep out of the corpus

  ssh::config::ConfigFileSettings settings;
  settings.include_directory = "/nonexistent/limactl-fuzz";
  settings.home = "/nonexistent/limactl-fuzz-home";
  settings.local_user = "fuzzer";
  for (std::string_view host : {"example.com", "vm.lima.internal"}) {
    ssh::config::ClientOptions options;
    try {
      const auto warnings =
          ssh::config::apply_config_text(options, text, "fuzz_ssh_config", host, settings);
      for (const auto& warning : warnings) (void)warning.to_string();
    } catch (const ssh::config::ConfigError&) {
      // A syntax error or a bad value: the documented way to reject a file.
    }
  }
  return 0;
}
