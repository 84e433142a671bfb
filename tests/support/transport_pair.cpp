#include "support/transport_pair.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "ssh/transport/packet_codec.hpp"

namespace testing_support {

using ssh::Bytes;
using ssh::ByteView;
using ssh::Error;
using ssh::Status;
using ssh::transport::Transport;
using ssh::transport::TransportConfig;

const ssh::keys::PrivateKey& cached_host_key(std::string_view key_type) {
  static std::mutex mutex;
  // Never destroyed: Botan's secure-memory pool is a static too, and keys
  // freed after it at exit crash the process.
  static auto& keys = *new std::map<std::string, ssh::keys::PrivateKey, std::less<>>;
  std::lock_guard lock(mutex);
  if (auto found = keys.find(key_type); found != keys.end()) return found->second;
  Botan::AutoSeeded_RNG rng;
  const std::size_t bits = key_type == "ssh-rsa" ? 2048 : 0;
  auto key = ssh::keys::PrivateKey::generate(key_type, bits, rng);
  if (!key) {
    throw std::runtime_error("cannot generate a " + std::string(key_type) +
                             " host key: " + key.error().message);
  }
  return keys.emplace(std::string(key_type), std::move(*key)).first->second;
}

TransportConfig server_transport_config(std::vector<ssh::keys::PrivateKey> host_keys) {
  TransportConfig config;
  config.role = ssh::Role::Server;
  config.host_keys = std::move(host_keys);
  return config;
}

TransportConfig client_transport_config() {
  TransportConfig config;
  config.role = ssh::Role::Client;
  return config;
}

// --- RecordingCallbacks --------------------------------------------------------

Status RecordingCallbacks::on_transport_payload(ByteView payload) {
  if (payload_hook && !payload.empty() && payload[0] >= 50) return payload_hook(payload);
  payloads.emplace_back(payload.begin(), payload.end());
  return {};
}

Status RecordingCallbacks::verify_host_key(const ssh::keys::PublicKey& host_key,
                                           std::string_view signature_algorithm) {
  host_keys_seen.push_back(host_key);
  host_key_algorithms_seen.emplace_back(signature_algorithm);
  if (refuse_host_key) return *refuse_host_key;
  return {};
}

void RecordingCallbacks::on_key_exchange_complete(
    const ssh::transport::NegotiatedAlgorithms& algorithms, bool first) {
  kex_completions.push_back(first);
  negotiated.push_back(algorithms);
  if (kex_hook) kex_hook(first);
}

std::vector<Bytes> RecordingCallbacks::payloads_numbered(std::uint8_t number) const {
  std::vector<Bytes> result;
  for (const auto& payload : payloads) {
    if (!payload.empty() && payload[0] == number) result.push_back(payload);
  }
  return result;
}

// --- TransportPair -------------------------------------------------------------

namespace {

TransportConfig with_role(TransportConfig config, ssh::Role role) {
  config.role = role;
  return config;
}

Error prefixed(std::string_view side, Error error) {
  error.message = std::string(side) + ": " + error.message;
  return error;
}

}  // namespace

TransportPair::TransportPair(TransportConfig client_config, TransportConfig server_config)
    : client_(with_role(std::move(client_config), ssh::Role::Client), client_callbacks_, rng_),
      server_(with_role(std::move(server_config), ssh::Role::Server), server_callbacks_, rng_),
      now_(TimePoint{} + std::chrono::hours(1000)) {}

void TransportPair::set_chunking(std::size_t max_chunk, std::uint64_t seed) {
  max_chunk_ = max_chunk;
  chunk_random_.seed(seed);
}

void TransportPair::start() {
  client_.start(now_);
  server_.start(now_);
}

Status TransportPair::feed(Side to, ByteView bytes) {
  Transport& target = transport(to);
  if (max_chunk_ == 0) return target.receive(bytes, now_);
  std::uniform_int_distribution<std::size_t> chunk_size(1, max_chunk_);
  while (!bytes.empty()) {
    const std::size_t size = std::min(chunk_size(chunk_random_), bytes.size());
    if (Status status = target.receive(bytes.first(size), now_); !status) return status;
    bytes = bytes.subspan(size);
  }
  return {};
}

Status TransportPair::deliver(Side from) {
  Transport& source = transport(from);
  if (!source.has_output()) return {};
  // One buffer per direction: a callback run by the receiver may make the
  // receiver send, but never makes the sender's output move again here.
  Bytes& buffer = from == Side::kClient ? buffer_ : reverse_buffer_;
  source.take_output(buffer);
  (from == Side::kClient ? client_to_server_bytes_ : server_to_client_bytes_) += buffer.size();
  return feed(from == Side::kClient ? Side::kServer : Side::kClient, buffer);
}

Status TransportPair::pump(std::size_t max_rounds) {
  for (std::size_t round = 0; round < max_rounds; ++round) {
    if (!client_.has_output() && !server_.has_output()) return {};
    if (Status status = deliver(Side::kClient); !status) {
      return prefixed("server", status.take_error());
    }
    if (Status status = deliver(Side::kServer); !status) {
      return prefixed("client", status.take_error());
    }
  }
  return Error{
      ssh::DisconnectReason::ProtocolError,
      "pump: the transports were still sending after " + std::to_string(max_rounds) + " rounds"};
}

Status TransportPair::handshake() {
  start();
  if (Status status = pump(); !status) return status;
  if (!client_.first_kex_done() || !server_.first_kex_done()) {
    return Error{ssh::DisconnectReason::KeyExchangeFailed,
                 std::string("handshake: the transports went quiet before the key exchange "
                             "finished (client ") +
                     (client_.first_kex_done() ? "done" : "not done") + ", server " +
                     (server_.first_kex_done() ? "done" : "not done") + ")"};
  }
  return {};
}

// --- Plain packets -------------------------------------------------------------

Bytes plain_packet(ByteView payload) {
  static auto& rng = *new Botan::AutoSeeded_RNG;  // never destroyed: see above
  ssh::transport::PacketCodec codec;
  Bytes out;
  codec.encode(payload, {}, out, rng);
  return out;
}

std::vector<Bytes> plain_payloads(ByteView output, bool skip_version_line) {
  if (skip_version_line) {
    const auto newline = std::find(output.begin(), output.end(), '\n');
    if (newline == output.end()) return {};
    output = output.subspan(static_cast<std::size_t>(newline - output.begin()) + 1);
  }
  ssh::transport::PacketCodec codec;
  codec.append_received(output);
  std::vector<Bytes> payloads;
  while (true) {
    auto next = codec.next_packet();
    if (!next || !next->has_value()) break;
    payloads.emplace_back((*next)->begin(), (*next)->end());
  }
  return payloads;
}

}  // namespace testing_support
