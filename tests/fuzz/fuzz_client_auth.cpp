// libFuzzer target: the client side of user authentication fed what a
// hostile server sends (the input cut into payloads as fuzz_input.hpp
// says): FAILURE with any method lists, BANNER, SUCCESS, PK_OK,
// keyboard-interactive INFO_REQUESTs and EXT_INFO. A SERVICE_ACCEPT goes
// first so every message reaches the request loop. The client has one key,
// a password and answers for any prompts, so every method runs.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "ssh/auth/client_auth.hpp"
#include "ssh/transport/messages.hpp"
#include "ssh/wire/writer.hpp"

namespace {

class Callbacks : public ssh::auth::ClientAuthCallbacks {
 public:
  std::optional<std::string> password_for(std::string_view) override { return "fuzz"; }
  std::optional<std::vector<std::string>> keyboard_interactive(
      const ssh::auth::UserauthInfoRequest& request) override {
    return std::vector<std::string>(request.prompts.size(), "fuzz");
  }
  void banner(std::string_view) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Callbacks callbacks;
  ssh::auth::ClientAuthConfig config;
  config.user = "fuzzer";
  config.identities.emplace_back("fuzz-key", fuzz::host_key());
  auto rng = fuzz::seeded_rng(3);
  std::size_t sent_bytes = 0;
  ssh::auth::ClientAuth auth(
      config, callbacks,
      [&](ssh::ByteView payload) {
        sent_bytes += payload.size();
        return ssh::Status{};
      },
      rng);
  if (!auth.start(ssh::Bytes(32, 0x42)).ok()) return 0;
  ssh::Bytes accept;
  ssh::wire::Writer writer(accept);
  ssh::transport::ServiceAcceptMessage{"ssh-userauth"}.encode(writer);
  if (!auth.handle(accept).ok()) return 0;

  for (const auto& message : fuzz::split_messages(data, size)) {
    if (!auth.handle(message.bytes).ok()) break;
  }
  (void)auth.succeeded();
  (void)auth.method_used();
  return 0;
}
