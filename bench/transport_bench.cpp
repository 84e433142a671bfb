// Transport throughput in memory: 32 KiB payloads from a client Transport to
// a server Transport, sealed and opened with each cipher, no sockets. The
// figure is what the packet codec and the cipher cost per byte, the ceiling
// for bulk transfer over a real connection.
#include <benchmark/benchmark.h>
#include <botan/auto_rng.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "ssh/keys/keys.hpp"
#include "ssh/transport/transport.hpp"

namespace {

using ssh::Bytes;
using ssh::ByteView;
using ssh::Status;
using ssh::transport::Transport;
using ssh::transport::TransportConfig;

// Counts what arrives; accepts any host key.
class CountingCallbacks : public ssh::transport::TransportCallbacks {
 public:
  Status on_transport_payload(ByteView payload) override {
    ++payloads;
    bytes += payload.size();
    return {};
  }
  Status verify_host_key(const ssh::keys::PublicKey&, std::string_view) override { return {}; }
  void on_key_exchange_complete(const ssh::transport::NegotiatedAlgorithms&, bool) override {}

  std::uint64_t payloads = 0;
  std::uint64_t bytes = 0;
};

const ssh::keys::PrivateKey& host_key() {
  static const ssh::keys::PrivateKey key = [] {
    Botan::AutoSeeded_RNG rng;
    auto generated = ssh::keys::PrivateKey::generate("ssh-ed25519", 0, rng);
    if (!generated) {
      std::cerr << "cannot generate a host key: " << generated.error().message << "\n";
      std::abort();
    }
    return *generated;
  }();
  return key;
}

class Pair {
 public:
  Pair(const std::string& cipher, const std::string& mac)
      : client_(config(ssh::Role::Client, cipher, mac), client_callbacks_, rng_),
        server_(config(ssh::Role::Server, cipher, mac), server_callbacks_, rng_) {}

  // Moves bytes both ways until both are quiet; false on any error.
  bool pump() {
    for (int round = 0; round < 1000; ++round) {
      if (!client_.has_output() && !server_.has_output()) return true;
      if (!move(client_, server_) || !move(server_, client_)) return false;
    }
    return false;
  }

  bool handshake() {
    client_.start(now_);
    server_.start(now_);
    return pump() && client_.first_kex_done() && server_.first_kex_done();
  }

  // One payload from the client, read by the server.
  bool send(ByteView payload) {
    if (!client_.send_payload(payload)) return false;
    if (!move(client_, server_)) return false;
    // A rekey (after 1 GiB by default) needs the client to hear back.
    return !server_.has_output() || pump();
  }

  Transport& client() { return client_; }
  const CountingCallbacks& server_callbacks() const { return server_callbacks_; }

 private:
  static TransportConfig config(ssh::Role role, const std::string& cipher, const std::string& mac) {
    TransportConfig config;
    config.role = role;
    config.policy.ciphers = {cipher};
    if (!mac.empty()) config.policy.macs = {mac};
    if (role == ssh::Role::Server) config.host_keys = {host_key()};
    return config;
  }

  bool move(Transport& from, Transport& to) {
    if (!from.has_output()) return true;
    from.take_output(buffer_);
    return to.receive(buffer_, now_).ok();
  }

  Botan::AutoSeeded_RNG rng_;
  CountingCallbacks client_callbacks_;
  CountingCallbacks server_callbacks_;
  Transport client_;
  Transport server_;
  ssh::transport::TimePoint now_ = ssh::transport::TimePoint{} + std::chrono::hours(1);
  Bytes buffer_;
};

void BM_TransportThroughput(benchmark::State& state, const std::string& cipher,
                            const std::string& mac) {
  Pair pair(cipher, mac);
  if (!pair.handshake()) {
    state.SkipWithError("handshake failed");
    return;
  }
  if (pair.client().algorithms().cipher_client_to_server != cipher) {
    state.SkipWithError("cipher not negotiated");
    return;
  }
  Bytes payload(32 * 1024);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i);
  payload[0] = 94;  // CHANNEL_DATA
  for (auto _ : state) {
    if (!pair.send(payload)) {
      state.SkipWithError("transfer failed");
      return;
    }
  }
  if (pair.server_callbacks().payloads != static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("payloads went missing");
    return;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(pair.server_callbacks().bytes));
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_TransportThroughput, aes128_gcm, std::string("aes128-gcm@openssh.com"),
                  std::string());
BENCHMARK_CAPTURE(BM_TransportThroughput, aes256_gcm, std::string("aes256-gcm@openssh.com"),
                  std::string());
BENCHMARK_CAPTURE(BM_TransportThroughput, chacha20_poly1305,
                  std::string("chacha20-poly1305@openssh.com"), std::string());
BENCHMARK_CAPTURE(BM_TransportThroughput, aes128_ctr_hmac_sha2_256_etm, std::string("aes128-ctr"),
                  std::string("hmac-sha2-256-etm@openssh.com"));

}  // namespace
