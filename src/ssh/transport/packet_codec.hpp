// The binary packet protocol (RFC 4253 section 6): framing, padding,
// sequence numbers and packet protection for both directions.
//
// Incoming bytes are decrypted in place inside the codec's own buffer, and
// payloads are handed out as views into it; outgoing packets are built and
// encrypted in place at the end of the caller's output buffer.
#pragma once

#include <botan/rng.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>

#include "ssh/common.hpp"
#include "ssh/crypto/cipher.hpp"
#include "ssh/limits.hpp"

namespace ssh::transport {

class PacketCodec {
 public:
  PacketCodec();

  // --- outgoing ---
  // Appends one packet carrying payload head+tail to out.
  void encode(ByteView head, ByteView tail, Bytes& out, Botan::RandomNumberGenerator& rng);
  void set_sealer(std::unique_ptr<crypto::PacketSealer> sealer);
  std::uint32_t send_sequence() const { return send_sequence_; }
  void reset_send_sequence() { send_sequence_ = 0; }
  std::uint64_t packets_sent() const { return packets_sent_; }

  // --- incoming ---
  // Space to read socket data into; commit_received() says how much arrived.
  MutableByteView prepare_receive(std::size_t at_least);
  void commit_received(std::size_t count);
  // Appends bytes that were already read (e.g. after the version line).
  void append_received(ByteView bytes);
  // The next complete packet's payload (valid until the next call), nullopt
  // when more bytes are needed, or an error (bad length, bad MAC, bad padding).
  Result<std::optional<ByteView>> next_packet();
  void set_opener(std::unique_ptr<crypto::PacketOpener> opener);
  // Incoming packets longer than this are refused (at most
  // limits::kMaxPacketLength; a server lowers it until authentication).
  void set_max_packet_length(std::size_t length) {
    max_packet_length_ = std::min(length, limits::kMaxPacketLength);
  }
  std::uint32_t receive_sequence() const { return receive_sequence_; }
  void reset_receive_sequence() { receive_sequence_ = 0; }
  // Whether unparsed received bytes are buffered.
  bool has_buffered_input() const { return read_pos_ < input_fill_; }
  // Raw access for the version exchange, which precedes packet framing.
  ByteView buffered_input() const {
    return ByteView(input_.data() + read_pos_, input_fill_ - read_pos_);
  }
  void consume_input(std::size_t count) { read_pos_ += std::min(count, input_fill_ - read_pos_); }

 private:
  void compact_input();
  void refill_padding_pool(Botan::RandomNumberGenerator& rng);

  std::unique_ptr<crypto::PacketSealer> sealer_;
  std::unique_ptr<crypto::PacketOpener> opener_;
  std::uint32_t send_sequence_ = 0;
  std::uint32_t receive_sequence_ = 0;
  std::uint64_t packets_sent_ = 0;

  Bytes input_;  // received bytes; [read_pos_, input_.size()) unparsed
  std::size_t read_pos_ = 0;
  std::size_t input_fill_ = 0;  // bytes of input_ holding data (rest is read space)
  // Length of the packet whose prefix has been decrypted, if any.
  std::optional<std::uint32_t> pending_length_;
  std::size_t max_packet_length_ = limits::kMaxPacketLength;

  // Random padding is drawn from a pool refilled in bulk: one RNG call per
  // few hundred packets instead of one per packet.
  Bytes padding_pool_;
  std::size_t padding_pool_pos_ = 0;
};

}  // namespace ssh::transport
