// libFuzzer target: authorized_keys text (options, keys) and the queries a
// server asks of each parsed line, with a fixed client and a fixed time.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ssh/config/authorized_keys.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ssh::config::AuthorizedKeysFile file =
      ssh::config::parse_authorized_keys(text, "fuzz_authorized_keys");
  for (const auto& error : file.errors) (void)error.to_string();

  const ssh::config::ClientOrigin v4{"192.0.2.7", "client.example.com"};
  const ssh::config::ClientOrigin v6{"2001:db8::1", ""};
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'767'225'600));
  const std::chrono::seconds local_offset(3600);
  for (const auto& entry : file.keys) {
    const auto& options = entry.options;
    (void)ssh::config::allowed_from(options, v4);
    (void)ssh::config::allowed_from(options, v6);
    (void)ssh::config::valid_at(options, now, local_offset);
    (void)ssh::config::refusal_reason(options, v4, now, local_offset);
    (void)ssh::config::may_open_forward(options, "localhost", 80);
    (void)ssh::config::may_open_forward(options, "2001:db8::1", 443);
    (void)ssh::config::may_listen(options, "", 8080);
    (void)ssh::config::may_listen(options, "127.0.0.1", 2222);
    if (options.expiry_time) (void)options.expiry_time->to_unix_seconds(local_offset);
  }
  return 0;
}
