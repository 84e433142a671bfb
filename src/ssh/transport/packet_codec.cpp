#include "ssh/transport/packet_codec.hpp"

#include <algorithm>
#include <cstring>

#include "ssh/limits.hpp"

namespace ssh::transport {
namespace {

constexpr std::size_t kPaddingPoolSize = 4096;
constexpr std::size_t kMinPadding = 4;

void store_u32(std::uint8_t* out, std::uint32_t value) {
  out[0] = static_cast<std::uint8_t>(value >> 24);
  out[1] = static_cast<std::uint8_t>(value >> 16);
  out[2] = static_cast<std::uint8_t>(value >> 8);
  out[3] = static_cast<std::uint8_t>(value);
}

}  // namespace

PacketCodec::PacketCodec()
    : sealer_(crypto::make_plain_sealer()), opener_(crypto::make_plain_opener()) {}

void PacketCodec::set_sealer(std::unique_ptr<crypto::PacketSealer> sealer) {
  sealer_ = std::move(sealer);
}

void PacketCodec::set_opener(std::unique_ptr<crypto::PacketOpener> opener) {
  opener_ = std::move(opener);
}

void PacketCodec::refill_padding_pool(Botan::RandomNumberGenerator& rng) {
  padding_pool_.resize(kPaddingPoolSize);
  rng.randomize(padding_pool_.data(), padding_pool_.size());
  padding_pool_pos_ = 0;
}

void PacketCodec::encode(ByteView head, ByteView tail, Bytes& out,
                         Botan::RandomNumberGenerator& rng) {
  const std::size_t payload_size = head.size() + tail.size();
  const std::size_t block = std::max<std::size_t>(sealer_->block_size(), 8);
  const std::size_t unpadded = 1 + payload_size + (sealer_->length_outside_alignment() ? 0 : 4);
  std::size_t padding = block - (unpadded % block);
  if (padding < kMinPadding) padding += block;
  const std::size_t packet_length = 1 + payload_size + padding;
  const std::size_t tag_size = sealer_->tag_size();

  const std::size_t start = out.size();
  out.resize(start + 4 + packet_length + tag_size);
  std::uint8_t* packet = out.data() + start;
  store_u32(packet, static_cast<std::uint32_t>(packet_length));
  packet[4] = static_cast<std::uint8_t>(padding);
  if (!head.empty()) std::memcpy(packet + 5, head.data(), head.size());
  if (!tail.empty()) std::memcpy(packet + 5 + head.size(), tail.data(), tail.size());
  if (padding_pool_pos_ + padding > padding_pool_.size()) refill_padding_pool(rng);
  std::memcpy(packet + 5 + payload_size, padding_pool_.data() + padding_pool_pos_, padding);
  padding_pool_pos_ += padding;

  sealer_->seal(send_sequence_, MutableByteView(packet, 4 + packet_length),
                MutableByteView(packet + 4 + packet_length, tag_size));
  ++send_sequence_;
  ++packets_sent_;
}

void PacketCodec::compact_input() {
  if (read_pos_ == 0) return;
  const std::size_t unread = input_fill_ - read_pos_;
  if (unread > 0) std::memmove(input_.data(), input_.data() + read_pos_, unread);
  input_fill_ = unread;
  read_pos_ = 0;
}

MutableByteView PacketCodec::prepare_receive(std::size_t at_least) {
  // Move unread bytes to the front only when it frees real space; a payload
  // view handed out earlier is dead by the time the driver reads again.
  if (read_pos_ > 0 && (read_pos_ == input_fill_ || read_pos_ >= input_.size() / 2)) {
    compact_input();
  }
  if (input_.size() - input_fill_ < at_least) input_.resize(input_fill_ + at_least);
  return MutableByteView(input_.data() + input_fill_, input_.size() - input_fill_);
}

void PacketCodec::commit_received(std::size_t count) {
  input_fill_ = std::min(input_fill_ + count, input_.size());
}

void PacketCodec::append_received(ByteView bytes) {
  // memcpy from an empty view's null pointer is undefined even for 0 bytes
  // (UBSan reported it).
  if (bytes.empty()) return;
  auto space = prepare_receive(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  commit_received(bytes.size());
}

Result<std::optional<ByteView>> PacketCodec::next_packet() {
  const std::size_t available = input_fill_ - read_pos_;
  std::uint8_t* start = input_.data() + read_pos_;
  if (!pending_length_) {
    const std::size_t prefix = opener_->length_prefix_size();
    if (available < prefix) return std::optional<ByteView>{};
    const std::uint32_t length =
        opener_->decrypt_length(receive_sequence_, MutableByteView(start, prefix));
    if (length > max_packet_length_) {
      return protocol_error("packet length " + std::to_string(length) + " exceeds the limit of " +
                            std::to_string(max_packet_length_) + " bytes");
    }
    const std::size_t block = std::max<std::size_t>(opener_->block_size(), 8);
    const std::size_t aligned = length + (opener_->length_outside_alignment() ? 0 : 4);
    if (length < limits::kMinPacketLength + kMinPadding - 1 || aligned % block != 0) {
      return protocol_error("bad packet length " + std::to_string(length));
    }
    pending_length_ = length;
  }
  const std::size_t length = *pending_length_;
  const std::size_t tag_size = opener_->tag_size();
  const std::size_t total = 4 + length + tag_size;
  if (available < total) return std::optional<ByteView>{};

  MutableByteView packet(start, 4 + length);
  if (!opener_->open(receive_sequence_, packet, ByteView(start + 4 + length, tag_size))) {
    return Error{DisconnectReason::MacError, "message authentication failed on packet " +
                                                 std::to_string(receive_sequence_) +
                                                 " (corrupted or tampered data)"};
  }
  const std::size_t padding = packet[4];
  if (padding < kMinPadding || padding + 1 >= length) {
    return protocol_error("bad padding length " + std::to_string(padding));
  }
  read_pos_ += total;
  pending_length_.reset();
  ++receive_sequence_;
  return std::optional<ByteView>(ByteView(start + 5, length - padding - 1));
}

}  // namespace ssh::transport
