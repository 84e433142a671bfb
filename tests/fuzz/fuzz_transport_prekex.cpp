// libFuzzer target: a transport before its first key exchange completes,
// fed whatever a peer could send first: lines before the banner, the
// version line, plain packets (KEXINIT, the key exchange's messages, or
// anything else). The first input byte picks the role (bit 0: client) and
// where the rest is cut in two deliveries, so partial packets are buffered
// too; a timeout is handled at the end.
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "ssh/transport/transport.hpp"

namespace {

class AcceptingCallbacks : public ssh::transport::TransportCallbacks {
 public:
  ssh::Status on_transport_payload(ssh::ByteView) override { return {}; }
  ssh::Status verify_host_key(const ssh::keys::PublicKey&, std::string_view) override { return {}; }
  void on_key_exchange_complete(const ssh::transport::NegotiatedAlgorithms&, bool) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool client = (data[0] & 1) != 0;
  const std::size_t rest = size - 1;
  const std::size_t cut = rest == 0 ? 0 : (std::size_t{data[0]} * 131) % (rest + 1);
  const ssh::ByteView input(data + 1, rest);

  auto rng = fuzz::seeded_rng(1);
  AcceptingCallbacks callbacks;
  ssh::transport::TransportConfig config;
  config.role = client ? ssh::Role::Client : ssh::Role::Server;
  if (!client) config.host_keys.push_back(fuzz::host_key());
  ssh::transport::Transport transport(std::move(config), callbacks, rng);
  const ssh::transport::TimePoint start{std::chrono::seconds(1000)};
  transport.start(start);
  ssh::Bytes output;
  transport.take_output(output);
  if (transport.receive(input.subspan(0, cut), start).ok()) {
    (void)transport.receive(input.subspan(cut), start);
  }
  transport.take_output(output);
  (void)transport.handle_timeout(start + std::chrono::hours(1));
  return 0;
}
