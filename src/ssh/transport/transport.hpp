// The SSH transport layer as a sans-I/O state machine (RFC 4253): version
// exchange, key exchange and rekeying, strict KEX, and the packet codec.
//
// Bytes go in through prepare_receive()/commit_received(); bytes to send
// collect in an output buffer the driver drains with take_output(). Payloads
// for the layers above (message numbers 5-7 and 50 and up) go out through
// TransportCallbacks; payloads from them come in through send_payload(),
// which queues them while a key exchange is running, so rekeying is
// invisible above this layer. Time is a parameter, never read here.
#pragma once

#include <botan/rng.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/kex/kex.hpp"
#include "ssh/keys/keys.hpp"
#include "ssh/transport/algorithms.hpp"
#include "ssh/transport/compression.hpp"
#include "ssh/transport/messages.hpp"
#include "ssh/transport/packet_codec.hpp"

namespace ssh::transport {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

inline constexpr std::string_view kSoftwareVersion = "limactl_0.1";

struct TransportConfig {
  Role role = Role::Client;
  AlgorithmPolicy policy = AlgorithmPolicy::defaults();
  // Rekey after this many bytes in either direction (OpenSSH: 1 GiB-ish).
  std::uint64_t rekey_bytes = std::uint64_t{1} << 30;
  // Rekey after this long, if set.
  std::optional<std::chrono::seconds> rekey_interval;
  // Server role: the host keys we can prove.
  std::vector<keys::PrivateKey> host_keys;
  std::string software_version = std::string(kSoftwareVersion);
};

class TransportCallbacks {
 public:
  virtual ~TransportCallbacks() = default;
  // A payload for the layers above (service, auth, connection, EXT_INFO).
  virtual Status on_transport_payload(ByteView payload) = 0;
  // Client role: accept or refuse the server's host key. Called during the
  // first key exchange only; rekeys must present the same key.
  virtual Status verify_host_key(const keys::PublicKey& host_key,
                                 std::string_view signature_algorithm) = 0;
  // Called when a key exchange completed in both directions.
  virtual void on_key_exchange_complete(const NegotiatedAlgorithms& algorithms, bool first) = 0;
};

class Transport {
 public:
  Transport(TransportConfig config, TransportCallbacks& callbacks,
            Botan::RandomNumberGenerator& rng);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Queues our version line and first KEXINIT.
  void start(TimePoint now);

  MutableByteView prepare_receive(std::size_t at_least) { return codec_.prepare_receive(at_least); }
  // Processes what was read into prepare_receive()'s space. An error ends the
  // transport: a DISCONNECT is queued when possible and is_closed() is true.
  Status commit_received(std::size_t count, TimePoint now);
  // Convenience: copies bytes in and processes them.
  Status receive(ByteView bytes, TimePoint now);
  // The peer closed its side of the stream.
  Status receive_eof();

  // Sends an upper-layer payload (head followed by tail).
  Status send_payload(ByteView head, ByteView tail = {});
  bool has_output() const { return !output_.empty(); }
  // Swaps the pending output into `into` (whose old contents are dropped),
  // so the driver and the transport reuse two buffers.
  void take_output(Bytes& into);
  std::size_t output_size() const { return output_.size(); }

  std::optional<TimePoint> next_timeout() const;
  Status handle_timeout(TimePoint now);

  // Refuses incoming packets longer than this (see PacketCodec).
  void set_max_packet_length(std::size_t length) { codec_.set_max_packet_length(length); }

  // Starts a key exchange now (no effect if one is running).
  void request_rekey();
  // Queues DISCONNECT and closes.
  void disconnect(DisconnectReason reason, std::string_view description);
  // Closes because of an error found above the transport: queues DISCONNECT
  // with the error's reason and keeps the error as close_error().
  void abort(Error error) { (void)fail(std::move(error)); }

  bool is_closed() const { return closed_; }
  // Why the transport closed, if it closed because of an error.
  const std::optional<Error>& close_error() const { return close_error_; }
  bool first_kex_done() const { return first_kex_done_; }
  bool kex_in_progress() const { return kex_ != nullptr || our_kexinit_sent_; }
  const Bytes& session_id() const { return session_id_; }
  const NegotiatedAlgorithms& algorithms() const { return algorithms_; }
  const std::string& peer_version() const { return peer_version_; }
  const std::optional<keys::PublicKey>& server_host_key() const { return server_host_key_; }
  std::uint64_t key_exchanges_completed() const { return kex_count_; }
  Role role() const { return config_.role; }

 private:
  struct PendingKeys;

  Status process_input(TimePoint now);
  Status process_version_exchange();
  Status handle_packet(ByteView payload, TimePoint now);
  Status handle_kexinit(ByteView payload, TimePoint now);
  Status handle_kex_init_message(ByteView payload);   // server: KEX_ECDH_INIT
  Status handle_kex_reply_message(ByteView payload);  // client: KEX_ECDH_REPLY
  Status handle_newkeys(TimePoint now);
  Status fail(Error error);

  void send_kexinit();
  void send_newkeys();
  void write_packet(ByteView head, ByteView tail = {});
  template <class Message>
  void write_message(const Message& message);
  void maybe_start_rekey(TimePoint now);
  Status compute_keys(const SecureBytes& shared_secret, ByteView exchange_hash);
  Result<Bytes> exchange_hash(ByteView host_key_blob, ByteView client_public,
                              ByteView server_public, const SecureBytes& shared_secret) const;
  void finish_kex_if_done(TimePoint now);
  // Starts or stops compression in one direction at its NEWKEYS, and both
  // delayed ones at the user's authentication.
  Status switch_outgoing_compression();
  Status switch_incoming_compression();
  Status start_delayed_compression();
  // A fresh stream for `method` in one direction, or none.
  template <class Stream>
  Status restart_stream(std::unique_ptr<Stream>& stream, std::string_view method,
                        std::string_view direction);

  TransportConfig config_;
  TransportCallbacks& callbacks_;
  Botan::RandomNumberGenerator& rng_;
  PacketCodec codec_;
  Bytes output_;
  Bytes payload_scratch_;

  bool started_ = false;
  bool version_received_ = false;
  std::string our_version_;
  std::string peer_version_;
  std::size_t pre_banner_lines_ = 0;
  std::size_t pre_banner_bytes_ = 0;
  std::string first_pre_banner_line_;

  // Key exchange state.
  Bytes our_kexinit_;
  Bytes peer_kexinit_;
  bool our_kexinit_sent_ = false;
  bool peer_kexinit_received_ = false;
  bool newkeys_sent_ = false;
  bool newkeys_received_ = false;
  bool ignore_next_kex_packet_ = false;
  bool first_kex_done_ = false;
  bool strict_kex_ = false;
  std::uint64_t packets_received_ = 0;
  std::uint64_t kex_count_ = 0;
  std::unique_ptr<kex::KexMethod> kex_;
  Bytes kex_our_public_;
  std::unique_ptr<PendingKeys> pending_keys_;
  NegotiatedAlgorithms algorithms_;
  Bytes session_id_;
  std::optional<keys::PublicKey> server_host_key_;
  std::deque<Bytes> queued_payloads_;

  // Compression (compression.hpp); null while a direction is uncompressed.
  std::unique_ptr<PayloadCompressor> compressor_;
  std::unique_ptr<PayloadDecompressor> decompressor_;
  Bytes compressed_scratch_;
  Bytes decompressed_scratch_;
  // USERAUTH_SUCCESS sent (server) or received (client): zlib@openssh.com
  // starts there.
  bool user_authenticated_ = false;
  // The compression each direction uses under its current keys.
  std::string outgoing_compression_{kCompressionNone};
  std::string incoming_compression_{kCompressionNone};

  // Rekey accounting since the last completed key exchange.
  std::uint64_t bytes_since_kex_ = 0;
  std::uint64_t packets_since_kex_ = 0;
  TimePoint last_kex_time_{};

  bool closed_ = false;
  std::optional<Error> close_error_;
};

}  // namespace ssh::transport
