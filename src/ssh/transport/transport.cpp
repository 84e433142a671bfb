#include "ssh/transport/transport.hpp"

#include <botan/hash.h>

#include <algorithm>
#include <array>
#include <exception>

#include "ssh/limits.hpp"
#include "ssh/log.hpp"
#include "ssh/wire/message_numbers.hpp"
#include "ssh/wire/reader.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::transport {
namespace {

using wire::MessageNumber;

// OpenSSH rekeys long before a 32-bit sequence number could wrap.
constexpr std::uint64_t kRekeyPackets = std::uint64_t{1} << 31;

std::shared_ptr<spdlog::logger> logger() {
  static const auto instance = log::get("transport");
  return instance;
}

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

Error kex_failed(std::string message) {
  return {DisconnectReason::KeyExchangeFailed, std::move(message)};
}

}  // namespace

// Packet protection for the next keys, made when the exchange hash is known
// and switched in at NEWKEYS, one direction at a time.
struct Transport::PendingKeys {
  std::unique_ptr<crypto::PacketSealer> sealer;
  std::unique_ptr<crypto::PacketOpener> opener;
};

Transport::Transport(TransportConfig config, TransportCallbacks& callbacks,
                     Botan::RandomNumberGenerator& rng)
    : config_(std::move(config)), callbacks_(callbacks), rng_(rng) {}

Transport::~Transport() = default;

void Transport::start(TimePoint now) {
  if (started_) return;
  started_ = true;
  last_kex_time_ = now;
  our_version_ = "SSH-2.0-" + config_.software_version;
  output_.insert(output_.end(), our_version_.begin(), our_version_.end());
  output_.push_back('\r');
  output_.push_back('\n');
  // Sending KEXINIT before the peer's version arrives saves a round trip.
  send_kexinit();
}

void Transport::take_output(Bytes& into) {
  into.clear();
  std::swap(into, output_);
}

template <class Message>
void Transport::write_message(const Message& message) {
  payload_scratch_.clear();
  wire::Writer writer(payload_scratch_);
  message.encode(writer);
  write_packet(payload_scratch_);
}

void Transport::write_packet(ByteView head, ByteView tail) {
  // The server's delayed compression starts after its USERAUTH_SUCCESS
  // (OpenSSH PROTOCOL 1.3); this is where that packet really goes out, even
  // when it was queued behind a key exchange.
  const bool sends_authentication_success = config_.role == Role::Server && !user_authenticated_ &&
                                            first_kex_done_ && !head.empty() &&
                                            head[0] == wire::number(MessageNumber::UserauthSuccess);
  const std::size_t before = output_.size();
  if (compressor_) {
    if (auto status = compressor_->compress(head, tail, compressed_scratch_); !status) {
      // No DISCONNECT: it would have to go through the failed stream.
      closed_ = true;
      close_error_ = status.take_error();
      return;
    }
    codec_.encode(compressed_scratch_, {}, output_, rng_);
  } else {
    codec_.encode(head, tail, output_, rng_);
  }
  bytes_since_kex_ += output_.size() - before;
  ++packets_since_kex_;
  if (sends_authentication_success) {
    if (auto status = start_delayed_compression(); !status) (void)fail(status.take_error());
  }
}

namespace {

bool compression_starts_now(std::string_view method, bool user_authenticated) {
  return method == kCompressionZlib || (method == kCompressionDelayedZlib && user_authenticated);
}

}  // namespace

Status Transport::switch_outgoing_compression() {
  if (compressor_) {
    logger()->debug("outgoing compression ({}) ends: {} bytes sent as {}", outgoing_compression_,
                    compressor_->bytes_in(), compressor_->bytes_out());
  }
  outgoing_compression_ = config_.role == Role::Client ? algorithms_.compression_client_to_server
                                                       : algorithms_.compression_server_to_client;
  return restart_stream(compressor_, outgoing_compression_, "outgoing");
}

Status Transport::switch_incoming_compression() {
  incoming_compression_ = config_.role == Role::Client ? algorithms_.compression_server_to_client
                                                       : algorithms_.compression_client_to_server;
  return restart_stream(decompressor_, incoming_compression_, "incoming");
}

template <class Stream>
Status Transport::restart_stream(std::unique_ptr<Stream>& stream, std::string_view method,
                                 std::string_view direction) {
  stream.reset();
  if (!compression_starts_now(method, user_authenticated_)) return {};
  try {
    stream = std::make_unique<Stream>();
  } catch (const std::exception& error) {
    return Error{DisconnectReason::CompressionError, error.what()};
  }
  logger()->debug("{} compression {} on", direction, method);
  return {};
}

Status Transport::start_delayed_compression() {
  user_authenticated_ = true;
  try {
    if (!compressor_ && outgoing_compression_ == kCompressionDelayedZlib) {
      compressor_ = std::make_unique<PayloadCompressor>();
      logger()->debug("outgoing compression {} on after authentication", outgoing_compression_);
    }
    if (!decompressor_ && incoming_compression_ == kCompressionDelayedZlib) {
      decompressor_ = std::make_unique<PayloadDecompressor>();
      logger()->debug("incoming compression {} on after authentication", incoming_compression_);
    }
  } catch (const std::exception& error) {
    return Error{DisconnectReason::CompressionError, error.what()};
  }
  return {};
}

Status Transport::fail(Error error) {
  if (!closed_) {
    logger()->debug("closing: {} ({})", error.message, disconnect_reason_name(error.reason));
    const bool tell_peer = error.reason != DisconnectReason::ConnectionLost &&
                           error.reason != DisconnectReason::ByApplication;
    if (tell_peer && started_) {
      write_message(DisconnectMessage{static_cast<std::uint32_t>(error.reason), error.message, ""});
    }
    closed_ = true;
    close_error_ = error;
  }
  return error;
}

void Transport::disconnect(DisconnectReason reason, std::string_view description) {
  if (closed_) return;
  if (started_) {
    write_message(
        DisconnectMessage{static_cast<std::uint32_t>(reason), std::string(description), ""});
  }
  closed_ = true;
}

Status Transport::receive(ByteView bytes, TimePoint now) {
  auto space = codec_.prepare_receive(bytes.size());
  std::copy(bytes.begin(), bytes.end(), space.begin());
  return commit_received(bytes.size(), now);
}

Status Transport::commit_received(std::size_t count, TimePoint now) {
  codec_.commit_received(count);
  if (closed_) return close_error_ ? Status(*close_error_) : Status{};
  return process_input(now);
}

Status Transport::receive_eof() {
  if (closed_) return close_error_ ? Status(*close_error_) : Status{};
  std::string message = "connection closed by peer";
  if (!version_received_) {
    message = codec_.buffered_input().empty() && pre_banner_lines_ == 0
                  ? "connection closed by peer before it sent its SSH version line"
                  : "peer closed the connection without sending an SSH version line (it sent \"" +
                        printable(first_pre_banner_line_.empty()
                                      ? std::string(as_text(codec_.buffered_input()))
                                      : first_pre_banner_line_) +
                        "\"); is this an SSH server?";
  } else if (!first_kex_done_) {
    message = "connection closed by peer during key exchange";
  }
  closed_ = true;
  close_error_ = Error{DisconnectReason::ConnectionLost, message};
  return *close_error_;
}

Status Transport::process_input(TimePoint now) {
  if (!version_received_) {
    if (auto status = process_version_exchange(); !status) return fail(status.take_error());
    if (!version_received_) return {};
  }
  while (!closed_) {
    auto next = codec_.next_packet();
    if (!next) return fail(next.take_error());
    if (!next->has_value()) break;
    ByteView payload = **next;
    ++packets_received_;
    ++packets_since_kex_;
    bytes_since_kex_ += payload.size() + 5;
    if (decompressor_) {
      if (auto status = decompressor_->decompress(payload, limits::kMaxDecompressedPayload,
                                                  decompressed_scratch_);
          !status) {
        return fail(status.take_error());
      }
      payload = decompressed_scratch_;
    }
    // The client's delayed compression starts after the server's
    // USERAUTH_SUCCESS, with the very next packet either way; started before
    // the payload goes up, because what the layers above send in answer
    // (the first channel open) must already be compressed.
    if (config_.role == Role::Client && !user_authenticated_ && first_kex_done_ &&
        !payload.empty() && payload[0] == wire::number(MessageNumber::UserauthSuccess)) {
      if (auto status = start_delayed_compression(); !status) return fail(status.take_error());
    }
    if (auto status = handle_packet(payload, now); !status) return fail(status.take_error());
  }
  if (!closed_) maybe_start_rekey(now);
  return {};
}

Status Transport::process_version_exchange() {
  while (!version_received_) {
    const ByteView buffered = codec_.buffered_input();
    const auto newline = std::find(buffered.begin(), buffered.end(), '\n');
    // No text line holds a NUL byte: binary data means this is no SSH peer
    // (OpenSSH stops there too instead of waiting for a newline).
    if (std::find(buffered.begin(), newline, '\0') != newline) {
      return Error{DisconnectReason::ProtocolError,
                   "peer sent binary data instead of an SSH version line: \"" +
                       printable(as_text(buffered)) + "\"; is this an SSH server?"};
    }
    if (newline == buffered.end()) {
      if (buffered.size() > limits::kMaxPreBannerBytes ||
          (buffered.size() > limits::kMaxVersionLineLength &&
           as_text(buffered).starts_with("SSH-"))) {
        return Error{DisconnectReason::ProtocolError,
                     "peer sent an over-long line instead of an SSH version line: \"" +
                         printable(as_text(buffered)) + "\""};
      }
      return {};
    }
    const std::size_t line_length = static_cast<std::size_t>(newline - buffered.begin());
    std::string line(as_text(buffered.first(line_length)));
    codec_.consume_input(line_length + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();

    if (line.starts_with("SSH-")) {
      if (line.size() > limits::kMaxVersionLineLength) {
        return protocol_error("peer's SSH version line is too long");
      }
      if (!line.starts_with("SSH-2.0-") && !line.starts_with("SSH-1.99-")) {
        return Error{DisconnectReason::ProtocolVersionNotSupported,
                     "peer speaks an unsupported protocol version: \"" + printable(line) + "\""};
      }
      peer_version_ = line;
      version_received_ = true;
      logger()->debug("peer version: {}", printable(peer_version_));
      break;
    }
    // RFC 4253 section 4.2: a server may send other lines first.
    if (config_.role == Role::Server) {
      return protocol_error("client sent \"" + printable(line) +
                            "\" instead of an SSH version line");
    }
    if (pre_banner_lines_ == 0) first_pre_banner_line_ = line;
    pre_banner_bytes_ += line_length + 1;
    if (++pre_banner_lines_ > limits::kMaxPreBannerLines ||
        pre_banner_bytes_ > limits::kMaxPreBannerBytes) {
      return protocol_error("no SSH version line from the server (it sent \"" +
                            printable(first_pre_banner_line_) + "\" ...); is this an SSH server?");
    }
    logger()->debug("ignoring line before the server's version: {}", printable(line));
  }
  return {};
}

Status Transport::handle_packet(ByteView payload, TimePoint now) {
  if (payload.empty()) return protocol_error("empty packet payload");
  const std::uint8_t type = payload[0];
  const bool initial_kex = !first_kex_done_;
  // Between the peer's KEXINIT and its NEWKEYS only key exchange messages
  // may arrive; with strict KEX not even IGNORE or DEBUG in the first one.
  const bool peer_in_kex = peer_kexinit_received_ && !newkeys_received_;

  if (type == wire::number(MessageNumber::Disconnect)) {
    auto message = DisconnectMessage::decode(payload);
    std::string text = "server closed the connection";
    if (config_.role == Role::Server) text = "client closed the connection";
    if (message) {
      text += ": " + printable(message->description) + " (" +
              std::string(disconnect_reason_name(static_cast<DisconnectReason>(message->reason))) +
              ")";
    }
    // The peer is gone; nothing to tell it.
    closed_ = true;
    close_error_ = Error{DisconnectReason::ConnectionLost, text};
    return *close_error_;
  }
  if (wire::is_transport_generic(type) && type <= wire::number(MessageNumber::Debug)) {
    if (strict_kex_ && initial_kex) {
      return protocol_error("strict KEX: unexpected " + std::string(wire::message_name(type)) +
                            " during the initial key exchange");
    }
    if (type == wire::number(MessageNumber::Debug)) {
      if (auto message = DebugMessage::decode(payload)) {
        logger()->debug("peer debug message: {}", printable(message->message));
      }
    } else if (type == wire::number(MessageNumber::Unimplemented)) {
      auto message = UnimplementedMessage::decode(payload);
      logger()->debug("peer could not handle our packet {}", message ? message->sequence : 0);
    }
    return {};
  }
  if (type == wire::number(MessageNumber::KexInit)) return handle_kexinit(payload, now);
  if (wire::is_kex_message(type)) {
    if (ignore_next_kex_packet_ && type >= 30) {
      ignore_next_kex_packet_ = false;
      logger()->debug("ignoring the peer's wrongly guessed key exchange packet");
      return {};
    }
    if (type == wire::number(MessageNumber::NewKeys)) return handle_newkeys(now);
    if (kex_ && config_.role == Role::Server && type == wire::number(MessageNumber::KexEcdhInit) &&
        !pending_keys_) {
      return handle_kex_init_message(payload);
    }
    if (kex_ && config_.role == Role::Client && type == wire::number(MessageNumber::KexEcdhReply) &&
        !pending_keys_) {
      return handle_kex_reply_message(payload);
    }
    return protocol_error("unexpected " + std::string(wire::message_name(type)) + " (message " +
                          std::to_string(type) + ") in key exchange state");
  }
  if (wire::is_transport_generic(type) && type > wire::number(MessageNumber::ExtInfo)) {
    // Unknown transport message: RFC 4253 section 11.4.
    write_message(UnimplementedMessage{codec_.receive_sequence() - 1});
    return {};
  }
  if (initial_kex || peer_in_kex) {
    return protocol_error("unexpected " + std::string(wire::message_name(type)) + " (message " +
                          std::to_string(type) + ") during key exchange");
  }
  return callbacks_.on_transport_payload(payload);
}

void Transport::send_kexinit() {
  std::array<std::uint8_t, 16> cookie{};
  rng_.randomize(cookie.data(), cookie.size());
  AlgorithmPolicy policy = config_.policy;
  if (config_.role == Role::Server) {
    // Offer only the host key algorithms some key of ours can sign with.
    std::vector<std::string> usable;
    for (const auto& algorithm : policy.host_key) {
      for (const auto& key : config_.host_keys) {
        auto algorithms = key.public_key().signature_algorithms();
        if (std::find(algorithms.begin(), algorithms.end(), algorithm) != algorithms.end()) {
          usable.push_back(algorithm);
          break;
        }
      }
    }
    policy.host_key = usable;
  }
  const auto message = make_kex_init(policy, config_.role, !first_kex_done_, cookie);
  our_kexinit_ = encode_payload(message);
  write_packet(our_kexinit_);
  our_kexinit_sent_ = true;
  logger()->debug("sent KEXINIT ({})", first_kex_done_ ? "rekey" : "initial");
}

Status Transport::handle_kexinit(ByteView payload, TimePoint now) {
  (void)now;
  if (peer_kexinit_received_) return protocol_error("second KEXINIT during a key exchange");
  auto peer = KexInitMessage::decode(payload);
  if (!peer) return protocol_error("malformed KEXINIT");
  peer_kexinit_.assign(payload.begin(), payload.end());
  peer_kexinit_received_ = true;
  if (!our_kexinit_sent_) send_kexinit();

  auto ours = KexInitMessage::decode(our_kexinit_);
  const KexInitMessage& client = config_.role == Role::Client ? *ours : *peer;
  const KexInitMessage& server = config_.role == Role::Client ? *peer : *ours;
  auto negotiated = negotiate(client, server, config_.role);
  if (!negotiated) return negotiated.take_error();
  if (!first_kex_done_) {
    strict_kex_ = negotiated->strict_kex;
    if (strict_kex_ && packets_received_ != 1) {
      return protocol_error("strict KEX: KEXINIT was not the first packet from the peer");
    }
  }
  algorithms_ = *negotiated;
  // Rekey KEXINITs carry no markers; what the first exchange agreed holds.
  algorithms_.strict_kex = strict_kex_;
  ignore_next_kex_packet_ = negotiated->ignore_guessed_packet;
  logger()->debug(
      "negotiated: kex {}, host key {}, cipher c2s {} s2c {}, mac c2s {} s2c {}{}", algorithms_.kex,
      algorithms_.host_key, algorithms_.cipher_client_to_server,
      algorithms_.cipher_server_to_client,
      algorithms_.mac_client_to_server.empty() ? "(aead)" : algorithms_.mac_client_to_server,
      algorithms_.mac_server_to_client.empty() ? "(aead)" : algorithms_.mac_server_to_client,
      strict_kex_ ? ", strict KEX" : "");

  kex_ = kex::make_kex(algorithms_.kex);
  if (!kex_) return kex_failed("key exchange method " + algorithms_.kex + " is not implemented");
  if (config_.role == Role::Client) {
    kex_our_public_ = kex_->generate(rng_);
    write_message(KexEcdhInitMessage{kex_our_public_});
  }
  return {};
}

Result<Bytes> Transport::exchange_hash(ByteView host_key_blob, ByteView client_public,
                                       ByteView server_public,
                                       const SecureBytes& shared_secret) const {
  const bool client = config_.role == Role::Client;
  SecureBytes input;
  wire::SecureWriter writer(input);
  writer.string(client ? our_version_ : peer_version_);
  writer.string(client ? peer_version_ : our_version_);
  writer.string(ByteView(client ? our_kexinit_ : peer_kexinit_));
  writer.string(ByteView(client ? peer_kexinit_ : our_kexinit_));
  writer.string(host_key_blob);
  writer.string(client_public);
  writer.string(server_public);
  writer.raw(shared_secret);
  auto hash = Botan::HashFunction::create(std::string(kex_->hash_name()));
  if (!hash) return kex_failed("hash " + std::string(kex_->hash_name()) + " unavailable");
  hash->update(input.data(), input.size());
  const auto digest = hash->final();
  return Bytes(digest.begin(), digest.end());
}

Status Transport::compute_keys(const SecureBytes& shared_secret, ByteView exchange_hash) {
  const bool client = config_.role == Role::Client;
  const auto& out_cipher =
      client ? algorithms_.cipher_client_to_server : algorithms_.cipher_server_to_client;
  const auto& out_mac =
      client ? algorithms_.mac_client_to_server : algorithms_.mac_server_to_client;
  const auto& in_cipher =
      client ? algorithms_.cipher_server_to_client : algorithms_.cipher_client_to_server;
  const auto& in_mac = client ? algorithms_.mac_server_to_client : algorithms_.mac_client_to_server;
  const auto out_sizes = crypto::key_sizes(out_cipher, out_mac);
  const auto in_sizes = crypto::key_sizes(in_cipher, in_mac);
  if (!out_sizes || !in_sizes) return kex_failed("negotiated cipher or MAC is not implemented");

  auto hash = Botan::HashFunction::create(std::string(kex_->hash_name()));
  // RFC 4253 section 7.2: HASH(K || H || letter || session_id), extended
  // with HASH(K || H || key so far) until long enough.
  auto derive = [&](char letter, std::size_t size) {
    SecureBytes key;
    if (size == 0) return key;
    hash->update(shared_secret.data(), shared_secret.size());
    hash->update(exchange_hash.data(), exchange_hash.size());
    hash->update(static_cast<std::uint8_t>(letter));
    hash->update(session_id_.data(), session_id_.size());
    key = hash->final();
    while (key.size() < size) {
      hash->update(shared_secret.data(), shared_secret.size());
      hash->update(exchange_hash.data(), exchange_hash.size());
      hash->update(key.data(), key.size());
      const auto more = hash->final();
      key.insert(key.end(), more.begin(), more.end());
    }
    key.resize(size);
    return key;
  };
  // Letters: A/B = IVs, C/D = cipher keys, E/F = MAC keys; the first of each
  // pair is client to server.
  auto keys_for = [&](bool client_to_server, const crypto::KeySizes& sizes) {
    crypto::DirectionKeys keys;
    keys.iv = derive(client_to_server ? 'A' : 'B', sizes.iv);
    keys.cipher_key = derive(client_to_server ? 'C' : 'D', sizes.cipher_key);
    keys.mac_key = derive(client_to_server ? 'E' : 'F', sizes.mac_key);
    return keys;
  };
  const auto out_keys = keys_for(client, *out_sizes);
  const auto in_keys = keys_for(!client, *in_sizes);
  pending_keys_ = std::make_unique<PendingKeys>();
  pending_keys_->sealer = crypto::make_sealer(out_cipher, out_mac, out_keys);
  pending_keys_->opener = crypto::make_opener(in_cipher, in_mac, in_keys);
  if (!pending_keys_->sealer || !pending_keys_->opener) {
    return kex_failed("cannot set up cipher " + out_cipher + "/" + in_cipher);
  }
  return {};
}

Status Transport::handle_kex_reply_message(ByteView payload) {
  auto reply = KexEcdhReplyMessage::decode(payload);
  if (!reply) return protocol_error("malformed KEX_ECDH_REPLY");
  auto host_key = keys::PublicKey::from_blob(reply->host_key);
  if (!host_key) {
    return kex_failed("server sent an unusable host key: " + host_key.error().message);
  }
  if (host_key->type() != keys::key_type_for_signature_algorithm(algorithms_.host_key)) {
    return kex_failed("server sent a " + host_key->type() + " host key for negotiated " +
                      algorithms_.host_key);
  }
  if (!first_kex_done_) {
    if (auto verdict = callbacks_.verify_host_key(*host_key, algorithms_.host_key); !verdict) {
      Error error = verdict.take_error();
      error.reason = DisconnectReason::HostKeyNotVerifiable;
      return error;
    }
  } else if (!server_host_key_ || !(*host_key == *server_host_key_)) {
    return kex_failed("server presented a different host key during rekey");
  }
  auto shared = kex_->agree(reply->server_public);
  if (!shared) return shared.take_error();
  auto hash = exchange_hash(reply->host_key, kex_our_public_, reply->server_public, *shared);
  if (!hash) return hash.take_error();
  if (auto verified = host_key->verify(algorithms_.host_key, *hash, reply->signature); !verified) {
    return kex_failed("server's signature on the key exchange does not verify: " +
                      verified.error().message);
  }
  if (!first_kex_done_) {
    session_id_ = *hash;
    server_host_key_ = *host_key;
  }
  if (auto status = compute_keys(*shared, *hash); !status) return status;
  send_newkeys();
  return {};
}

Status Transport::handle_kex_init_message(ByteView payload) {
  auto init = KexEcdhInitMessage::decode(payload);
  if (!init) return protocol_error("malformed KEX_ECDH_INIT");
  const keys::PrivateKey* host_key = nullptr;
  for (const auto& key : config_.host_keys) {
    auto algorithms = key.public_key().signature_algorithms();
    if (std::find(algorithms.begin(), algorithms.end(), algorithms_.host_key) != algorithms.end()) {
      host_key = &key;
      break;
    }
  }
  if (!host_key) return kex_failed("no host key for " + algorithms_.host_key);
  auto reply = kex_->respond(init->client_public, rng_);
  if (!reply) return reply.take_error();
  kex_our_public_ = std::move(reply->server_public);
  const SecureBytes& shared = reply->shared_secret;
  const Bytes& host_key_blob = host_key->public_key().blob();
  auto hash = exchange_hash(host_key_blob, init->client_public, kex_our_public_, shared);
  if (!hash) return hash.take_error();
  auto signature = host_key->sign(algorithms_.host_key, *hash, rng_);
  if (!signature) return kex_failed("cannot sign with the host key: " + signature.error().message);
  if (!first_kex_done_) session_id_ = *hash;
  if (auto status = compute_keys(shared, *hash); !status) return status;
  write_message(KexEcdhReplyMessage{host_key_blob, kex_our_public_, *signature});
  send_newkeys();
  return {};
}

void Transport::send_newkeys() {
  const std::uint8_t newkeys = wire::number(MessageNumber::NewKeys);
  write_packet(ByteView(&newkeys, 1));
  codec_.set_sealer(std::move(pending_keys_->sealer));
  if (strict_kex_) codec_.reset_send_sequence();
  newkeys_sent_ = true;
  if (auto status = switch_outgoing_compression(); !status) {
    (void)fail(status.take_error());
    return;
  }
  if (config_.role == Role::Server && !first_kex_done_ && algorithms_.peer_wants_ext_info) {
    // RFC 8308: EXT_INFO goes right after the server's first NEWKEYS.
    std::string signature_algorithms = join_names(AlgorithmPolicy::default_host_key());
    write_message(ExtInfoMessage{{{"server-sig-algs", signature_algorithms}}});
  }
  while (!queued_payloads_.empty()) {
    write_packet(queued_payloads_.front());
    queued_payloads_.pop_front();
  }
}

Status Transport::handle_newkeys(TimePoint now) {
  if (!pending_keys_ || !pending_keys_->opener || !newkeys_sent_) {
    return protocol_error("unexpected NEWKEYS");
  }
  codec_.set_opener(std::move(pending_keys_->opener));
  if (strict_kex_) codec_.reset_receive_sequence();
  newkeys_received_ = true;
  if (auto status = switch_incoming_compression(); !status) return status;
  finish_kex_if_done(now);
  return {};
}

void Transport::finish_kex_if_done(TimePoint now) {
  if (!newkeys_sent_ || !newkeys_received_) return;
  const bool first = !first_kex_done_;
  first_kex_done_ = true;
  our_kexinit_sent_ = peer_kexinit_received_ = false;
  newkeys_sent_ = newkeys_received_ = false;
  kex_.reset();
  pending_keys_.reset();
  kex_our_public_.clear();
  ++kex_count_;
  bytes_since_kex_ = 0;
  packets_since_kex_ = 0;
  last_kex_time_ = now;
  logger()->debug("key exchange {} complete", kex_count_);
  callbacks_.on_key_exchange_complete(algorithms_, first);
}

Status Transport::send_payload(ByteView head, ByteView tail) {
  if (closed_) {
    return close_error_ ? Error{DisconnectReason::ConnectionLost, close_error_->message}
                        : Error{DisconnectReason::ConnectionLost, "connection closed"};
  }
  if (our_kexinit_sent_ && !newkeys_sent_) {
    Bytes copy(head.begin(), head.end());
    copy.insert(copy.end(), tail.begin(), tail.end());
    queued_payloads_.push_back(std::move(copy));
    return {};
  }
  write_packet(head, tail);
  if (first_kex_done_ && !our_kexinit_sent_ &&
      (bytes_since_kex_ >= config_.rekey_bytes || packets_since_kex_ >= kRekeyPackets)) {
    logger()->debug("rekeying after {} bytes", bytes_since_kex_);
    send_kexinit();
  }
  return {};
}

void Transport::request_rekey() {
  if (closed_ || !first_kex_done_ || our_kexinit_sent_) return;
  send_kexinit();
}

void Transport::maybe_start_rekey(TimePoint now) {
  if (!first_kex_done_ || our_kexinit_sent_ || peer_kexinit_received_) return;
  const bool by_bytes =
      bytes_since_kex_ >= config_.rekey_bytes || packets_since_kex_ >= kRekeyPackets;
  const bool by_time = config_.rekey_interval && now - last_kex_time_ >= *config_.rekey_interval;
  if (by_bytes || by_time) {
    logger()->debug("rekeying ({})", by_bytes ? "byte limit" : "time limit");
    send_kexinit();
  }
}

std::optional<TimePoint> Transport::next_timeout() const {
  // While a key exchange runs the rekey deadline has passed and nothing is
  // due until it completes (which moves the deadline): reporting it would
  // make a driver's timer fire again and again.
  if (!config_.rekey_interval || !first_kex_done_ || closed_ || kex_in_progress()) {
    return std::nullopt;
  }
  return last_kex_time_ + *config_.rekey_interval;
}

Status Transport::handle_timeout(TimePoint now) {
  if (closed_) return {};
  maybe_start_rekey(now);
  return {};
}

}  // namespace ssh::transport
