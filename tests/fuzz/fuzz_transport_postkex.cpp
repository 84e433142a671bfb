// libFuzzer target: a transport after its first key exchange, fed hostile
// payloads through the encrypted channel. Two transports (client, server)
// complete a key exchange in memory with a fixed-seed RNG; then each input
// message (fuzz_input.hpp) is sent as a payload by one side (the message's
// flag: set = the server sends) and delivered to the other, and whatever
// either answers (a KEXINIT starting a rekey, UNIMPLEMENTED, DISCONNECT) is
// moved back and forth until both are quiet. Reaches rekeying mid-stream,
// strict-KEX rules, messages out of place and the upper-layer hand-off.
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "ssh/transport/transport.hpp"

namespace {

using ssh::transport::TimePoint;
using ssh::transport::Transport;

class AcceptingCallbacks : public ssh::transport::TransportCallbacks {
 public:
  ssh::Status on_transport_payload(ssh::ByteView) override { return {}; }
  ssh::Status verify_host_key(const ssh::keys::PublicKey&, std::string_view) override { return {}; }
  void on_key_exchange_complete(const ssh::transport::NegotiatedAlgorithms&, bool) override {}
};

// Moves pending output both ways until neither side has any (bounded).
bool exchange(Transport& client, Transport& server, TimePoint now) {
  ssh::Bytes buffer;
  for (int round = 0; round < 64; ++round) {
    bool moved = false;
    if (client.has_output()) {
      client.take_output(buffer);
      if (!server.receive(buffer, now).ok()) return false;
      moved = true;
    }
    if (server.has_output()) {
      server.take_output(buffer);
      if (!client.receive(buffer, now).ok()) return false;
      moved = true;
    }
    if (!moved) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto client_rng = fuzz::seeded_rng(1);
  auto server_rng = fuzz::seeded_rng(2);
  AcceptingCallbacks client_callbacks;
  AcceptingCallbacks server_callbacks;
  ssh::transport::TransportConfig client_config;
  client_config.role = ssh::Role::Client;
  ssh::transport::TransportConfig server_config;
  server_config.role = ssh::Role::Server;
  server_config.host_keys.push_back(fuzz::host_key());
  Transport client(std::move(client_config), client_callbacks, client_rng);
  Transport server(std::move(server_config), server_callbacks, server_rng);
  const TimePoint now{std::chrono::seconds(1000)};
  client.start(now);
  server.start(now);
  if (!exchange(client, server, now) || !client.first_kex_done() || !server.first_kex_done()) {
    __builtin_trap();  // the fixture itself is broken: no input can be blamed
  }

  for (const auto& message : fuzz::split_messages(data, size)) {
    Transport& sender = message.flag ? server : client;
    if (sender.is_closed() || !sender.send_payload(message.bytes).ok()) break;
    if (!exchange(client, server, now)) break;
  }
  return 0;
}
