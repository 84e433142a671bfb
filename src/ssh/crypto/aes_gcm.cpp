// aes128-gcm@openssh.com and aes256-gcm@openssh.com: RFC 5647 as OpenSSH
// implements it. The 12-byte nonce is a 4-byte fixed field followed by a
// 64-bit invocation counter that is incremented (wrapping within those 8
// bytes) after every packet, so the sequence number plays no part. The
// packet length is sent in clear as additional authenticated data, and the
// negotiated MAC name is ignored.
#include <botan/aead.h>
#include <botan/exceptn.h>

#include <algorithm>
#include <array>
#include <exception>
#include <string>

#include "ssh/crypto/aes_gcm_kernel.hpp"
#include "ssh/crypto/cipher_internal.hpp"

namespace ssh::crypto::detail {
namespace {

constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kFixedFieldSize = 4;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kAesBlockSize = 16;

// Uses the AES-NI/PCLMUL kernel when the CPU has those instructions (one
// pass instead of Botan's three), otherwise Botan's GCM.
class AesGcm {
 public:
  AesGcm(ByteView key, ByteView iv, Botan::Cipher_Dir direction)
      : kernel_(make_aes_gcm_kernel(key)) {
    std::copy(iv.begin(), iv.end(), nonce_.begin());
    if (kernel_) return;
    mode_ = Botan::AEAD_Mode::create_or_throw(mode_name(key.size()), direction);
    mode_->set_key(key.data(), key.size());
    granularity_ = mode_->update_granularity();
    if (granularity_ == 0) throw Botan::Invalid_State("GCM without incremental processing");
    // Sized once so finish() never has to grow it on the data path.
    final_block_.reserve(granularity_ + kTagSize);
  }

  void seal(MutableByteView packet, MutableByteView tag) {
    if (kernel_) {
      kernel_->seal(nonce_.data(), packet.first(kLengthFieldSize), packet.subspan(kLengthFieldSize),
                    tag.data());
      increment_invocation_counter();
      return;
    }
    MutableByteView body = start_packet(packet);
    const std::size_t bulk = process_bulk(body);
    final_block_.assign(body.begin() + bulk, body.end());
    mode_->finish(final_block_);
    const std::size_t rest = body.size() - bulk;
    std::copy_n(final_block_.begin(), rest, body.begin() + bulk);
    std::copy_n(final_block_.begin() + rest, kTagSize, tag.begin());
  }

  // The bulk is decrypted before the tag is checked (one pass, in place);
  // that is allowed because callers drop the packet when open() fails.
  bool open(MutableByteView packet, ByteView tag) {
    if (kernel_) {
      const bool authentic = kernel_->open(nonce_.data(), packet.first(kLengthFieldSize),
                                           packet.subspan(kLengthFieldSize), tag.data());
      increment_invocation_counter();
      return authentic;
    }
    MutableByteView body = start_packet(packet);
    const std::size_t bulk = process_bulk(body);
    final_block_.assign(body.begin() + bulk, body.end());
    final_block_.insert(final_block_.end(), tag.begin(), tag.end());
    try {
      mode_->finish(final_block_);
    } catch (const Botan::Invalid_Authentication_Tag&) {
      return false;
    }
    std::copy(final_block_.begin(), final_block_.end(), body.begin() + bulk);
    return true;
  }

 private:
  static std::string mode_name(std::size_t key_size) {
    return "AES-" + std::to_string(key_size * 8) + "/GCM";
  }

  // Starts a message under the current nonce with the length field as
  // additional data (Botan wants it before start()), advances the
  // invocation counter for the next packet, and returns what is encrypted.
  MutableByteView start_packet(MutableByteView packet) {
    mode_->set_associated_data(packet.data(), kLengthFieldSize);
    mode_->start(nonce_.data(), nonce_.size());
    increment_invocation_counter();
    return packet.subspan(kLengthFieldSize);
  }

  // Botan's process() takes whole multiples of its granularity; the rest goes
  // through finish() together with the tag.
  std::size_t process_bulk(MutableByteView body) {
    const std::size_t bulk = body.size() - body.size() % granularity_;
    if (bulk != 0) mode_->process(body.data(), bulk);
    return bulk;
  }

  void increment_invocation_counter() {
    std::uint8_t* counter = nonce_.data() + kFixedFieldSize;
    Botan::store_be(Botan::load_be<std::uint64_t>(counter, 0) + 1, counter);
  }

  std::unique_ptr<AesGcmKernel> kernel_;
  std::unique_ptr<Botan::AEAD_Mode> mode_;  // only without kernel_
  std::array<std::uint8_t, kNonceSize> nonce_{};
  std::size_t granularity_ = kAesBlockSize;
  SecureBytes final_block_;
};

class AesGcmSealer final : public PacketSealer {
 public:
  AesGcmSealer(ByteView key, ByteView iv) : cipher_(key, iv, Botan::ENCRYPTION) {}

  std::size_t block_size() const override { return kAesBlockSize; }
  bool length_outside_alignment() const override { return true; }
  std::size_t tag_size() const override { return kTagSize; }

  void seal(std::uint32_t, MutableByteView packet, MutableByteView tag) override {
    if (packet.size() < kLengthFieldSize || tag.size() < kTagSize) {
      scrub_failed_seal(packet, tag);
      return;
    }
    try {
      cipher_.seal(packet, tag);
    } catch (const std::exception&) {
      scrub_failed_seal(packet, tag);
    }
  }

 private:
  AesGcm cipher_;
};

class AesGcmOpener final : public PacketOpener {
 public:
  AesGcmOpener(ByteView key, ByteView iv) : cipher_(key, iv, Botan::DECRYPTION) {}

  std::size_t block_size() const override { return kAesBlockSize; }
  bool length_outside_alignment() const override { return true; }
  std::size_t tag_size() const override { return kTagSize; }
  std::size_t length_prefix_size() const override { return kLengthFieldSize; }

  std::uint32_t decrypt_length(std::uint32_t, MutableByteView prefix) override {
    if (prefix.size() < kLengthFieldSize) return 0;
    return load_u32_be(prefix.data());
  }

  bool open(std::uint32_t, MutableByteView packet, ByteView tag) override {
    if (packet.size() < kLengthFieldSize || tag.size() != kTagSize) return false;
    try {
      return cipher_.open(packet, tag);
    } catch (const std::exception&) {
      return false;
    }
  }

 private:
  AesGcm cipher_;
};

bool valid_sizes(ByteView key, ByteView iv) {
  return (key.size() == 16 || key.size() == 32) && iv.size() == kNonceSize;
}

}  // namespace

std::unique_ptr<PacketSealer> make_aes_gcm_sealer(ByteView key, ByteView iv) {
  if (!valid_sizes(key, iv)) return nullptr;
  return std::make_unique<AesGcmSealer>(key, iv);
}

std::unique_ptr<PacketOpener> make_aes_gcm_opener(ByteView key, ByteView iv) {
  if (!valid_sizes(key, iv)) return nullptr;
  return std::make_unique<AesGcmOpener>(key, iv);
}

}  // namespace ssh::crypto::detail
