// libFuzzer target: the server side of user authentication fed hostile
// messages (the input cut into payloads as fuzz_input.hpp says). A
// SERVICE_REQUEST for ssh-userauth goes first so the requests reach every
// method, and one fixed key is "authorized" so the PK_OK and signature
// paths run too.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_input.hpp"
#include "ssh/auth/server_auth.hpp"
#include "ssh/transport/messages.hpp"
#include "ssh/wire/writer.hpp"

namespace {

const ssh::keys::PublicKey& authorized_key() {
  static const ssh::keys::PublicKey key =
      ssh::keys::PublicKey::from_openssh_line(
          "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl")
          .value();
  return key;
}

class Callbacks : public ssh::auth::ServerAuthCallbacks {
 public:
  std::optional<ssh::auth::KeyAuthorization> authorize_key(
      std::string_view, const ssh::keys::PublicKey& key) override {
    if (key.blob() != authorized_key().blob()) return std::nullopt;
    return ssh::auth::KeyAuthorization{};
  }
  bool check_password(std::string_view, std::string_view password) override {
    return password == "fuzz";
  }
  std::optional<ssh::auth::UserauthInfoRequest> keyboard_interactive_prompts(
      std::string_view) override {
    ssh::auth::UserauthInfoRequest request;
    request.prompts = {{"code: ", false}};
    return request;
  }
  bool check_keyboard_interactive(std::string_view,
                                  const std::vector<std::string>& answers) override {
    return answers.size() == 1 && answers[0] == "fuzz";
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Callbacks callbacks;
  ssh::auth::ServerAuthConfig config;
  config.methods = {"publickey", "password", "keyboard-interactive"};
  config.banner = "fuzz banner";
  std::size_t sent_bytes = 0;
  ssh::auth::ServerAuth auth(config, callbacks, [&](ssh::ByteView payload) {
    sent_bytes += payload.size();
    return ssh::Status{};
  });
  auth.start(ssh::Bytes(32, 0x42));
  ssh::Bytes service;
  ssh::wire::Writer writer(service);
  ssh::transport::ServiceRequestMessage{"ssh-userauth"}.encode(writer);
  if (!auth.handle(service).ok()) return 0;

  for (const auto& message : fuzz::split_messages(data, size)) {
    if (!auth.handle(message.bytes).ok()) break;
  }
  return 0;
}
