// Two SSH transports (client and server) wired to each other in memory, for
// tests of the transport and of the layers above it. No sockets, no threads,
// no real clock: bytes move only when the test calls pump() or deliver(),
// and time is a fake clock the test advances.
#pragma once

#include <botan/auto_rng.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/keys/keys.hpp"
#include "ssh/transport/transport.hpp"

namespace testing_support {

// A host key of the given type ("ssh-ed25519", "ecdsa-sha2-nistp256/384/521"
// or "ssh-rsa", which has 2048 bits), generated on first use and kept for
// the life of the process: RSA generation is slow. Aborts the test program
// if generation fails.
const ssh::keys::PrivateKey& cached_host_key(std::string_view key_type);

// A server config offering the given host keys, everything else default.
ssh::transport::TransportConfig server_transport_config(
    std::vector<ssh::keys::PrivateKey> host_keys);
ssh::transport::TransportConfig client_transport_config();

// Records everything a transport tells the layers above it.
class RecordingCallbacks : public ssh::transport::TransportCallbacks {
 public:
  ssh::Status on_transport_payload(ssh::ByteView payload) override;
  ssh::Status verify_host_key(const ssh::keys::PublicKey& host_key,
                              std::string_view signature_algorithm) override;
  void on_key_exchange_complete(const ssh::transport::NegotiatedAlgorithms& algorithms,
                                bool first) override;

  // Payloads with this message number or higher (upper layers: 50 and up)
  // go to payload_hook when it is set instead of being recorded; lower ones
  // (SERVICE_*, EXT_INFO) are always recorded.
  std::function<ssh::Status(ssh::ByteView)> payload_hook;
  // When set, verify_host_key refuses every key with this error.
  std::optional<ssh::Error> refuse_host_key;
  // Called after every completed key exchange.
  std::function<void(bool first)> kex_hook;

  std::vector<ssh::Bytes> payloads;
  std::vector<ssh::keys::PublicKey> host_keys_seen;
  std::vector<std::string> host_key_algorithms_seen;
  // The `first` flag of each completed key exchange, in order.
  std::vector<bool> kex_completions;
  std::vector<ssh::transport::NegotiatedAlgorithms> negotiated;

  // Recorded payloads whose first byte is `number`.
  std::vector<ssh::Bytes> payloads_numbered(std::uint8_t number) const;
};

class TransportPair {
 public:
  using TimePoint = ssh::transport::TimePoint;
  enum class Side { kClient, kServer };

  // The roles in the configs are set here, whatever they say.
  TransportPair(ssh::transport::TransportConfig client_config,
                ssh::transport::TransportConfig server_config);
  TransportPair(const TransportPair&) = delete;
  TransportPair& operator=(const TransportPair&) = delete;

  ssh::transport::Transport& client() { return client_; }
  ssh::transport::Transport& server() { return server_; }
  ssh::transport::Transport& transport(Side side) {
    return side == Side::kClient ? client_ : server_;
  }
  RecordingCallbacks& client_callbacks() { return client_callbacks_; }
  RecordingCallbacks& server_callbacks() { return server_callbacks_; }
  Botan::RandomNumberGenerator& rng() { return rng_; }

  // The fake clock: starts at an arbitrary fixed point, moves only here.
  TimePoint now() const { return now_; }
  void advance(std::chrono::nanoseconds by) { now_ += by; }

  // From now on each delivery is cut into chunks of 1..max_chunk bytes
  // (random, from a generator seeded with `seed`); 0 delivers whole buffers.
  void set_chunking(std::size_t max_chunk, std::uint64_t seed = 1);

  // Queues both sides' version lines and KEXINITs.
  void start();
  // Moves each side's pending output to the other until neither has any.
  // Stops at the first receive error, which is returned prefixed with the
  // side that refused ("server: ..."), or after max_rounds rounds (an error
  // too, so a transport that keeps talking cannot hang a test).
  ssh::Status pump(std::size_t max_rounds = 10000);
  // start() and pump(); an error unless both sides finished the first KEX.
  ssh::Status handshake();
  // Moves `from`'s pending output to the other side once (no error prefix).
  ssh::Status deliver(Side from);
  // Feeds raw bytes to one side, honouring the chunking.
  ssh::Status feed(Side to, ssh::ByteView bytes);

  std::uint64_t bytes_delivered(Side from) const {
    return from == Side::kClient ? client_to_server_bytes_ : server_to_client_bytes_;
  }

 private:
  Botan::AutoSeeded_RNG rng_;
  RecordingCallbacks client_callbacks_;
  RecordingCallbacks server_callbacks_;
  ssh::transport::Transport client_;
  ssh::transport::Transport server_;
  TimePoint now_;
  std::size_t max_chunk_ = 0;
  std::mt19937_64 chunk_random_;
  ssh::Bytes buffer_;          // client to server
  ssh::Bytes reverse_buffer_;  // server to client
  std::uint64_t client_to_server_bytes_ = 0;
  std::uint64_t server_to_client_bytes_ = 0;
};

// Plain (unencrypted) packets, as they are on the wire before the first
// NEWKEYS: for feeding hand-made input to a transport and for reading what
// it sent before keys were in place.
ssh::Bytes plain_packet(ssh::ByteView payload);
// Splits a transport's output that starts with its version line (optional)
// and continues with plain packets into those packets' payloads. Stops at
// the first incomplete or undecodable packet.
std::vector<ssh::Bytes> plain_payloads(ssh::ByteView output, bool skip_version_line);

}  // namespace testing_support
