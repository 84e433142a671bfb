// chacha20-poly1305@openssh.com, as OpenSSH's PROTOCOL.chacha20poly1305
// defines it. This is not RFC 8439's AEAD: two ChaCha20 instances with 64-bit
// nonces, one (K_1) only encrypting the 4-byte length, the other (K_2)
// providing the one-time Poly1305 key from keystream block 0 and encrypting
// the rest of the packet from block 1. The tag covers the encrypted length
// and the ciphertext, without padding or lengths as RFC 8439 would add.
#include <botan/mac.h>
#include <botan/stream_cipher.h>

#include <array>
#include <exception>

#include "ssh/crypto/cipher_internal.hpp"

namespace ssh::crypto::detail {
namespace {

constexpr std::size_t kHalfKeySize = 32;
constexpr std::size_t kPolyKeySize = 32;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kChaChaBlockSize = 64;

class ChaCha20Poly1305 {
 public:
  explicit ChaCha20Poly1305(ByteView key)
      : main_cipher_(Botan::StreamCipher::create_or_throw("ChaCha(20)")),
        length_cipher_(Botan::StreamCipher::create_or_throw("ChaCha(20)")),
        poly1305_(Botan::MessageAuthenticationCode::create_or_throw("Poly1305")),
        poly_key_(kPolyKeySize) {
    // The first half of the key material is K_2, the second K_1.
    main_cipher_->set_key(key.data(), kHalfKeySize);
    length_cipher_->set_key(key.data() + kHalfKeySize, kHalfKeySize);
  }

  void seal(std::uint32_t sequence, MutableByteView packet, MutableByteView tag) {
    const auto nonce = nonce_for(sequence);
    length_cipher_->set_iv(nonce.data(), nonce.size());
    length_cipher_->cipher1(packet.data(), kLengthFieldSize);
    start_main_cipher(nonce);
    main_cipher_->cipher1(packet.data() + kLengthFieldSize, packet.size() - kLengthFieldSize);
    compute_tag(packet, tag.data());
  }

  std::uint32_t decrypt_length(std::uint32_t sequence, ByteView prefix) {
    // The prefix stays encrypted because the tag is computed over it later.
    std::uint8_t length[kLengthFieldSize];
    Botan::copy_mem(length, prefix.data(), kLengthFieldSize);
    const auto nonce = nonce_for(sequence);
    length_cipher_->set_iv(nonce.data(), nonce.size());
    length_cipher_->cipher1(length, kLengthFieldSize);
    return load_u32_be(length);
  }

  bool open(std::uint32_t sequence, MutableByteView packet, ByteView tag) {
    const auto nonce = nonce_for(sequence);
    start_main_cipher(nonce);
    std::uint8_t expected_tag[kTagSize];
    compute_tag(packet, expected_tag);
    if (!Botan::constant_time_compare(expected_tag, tag.data(), kTagSize)) return false;
    length_cipher_->set_iv(nonce.data(), nonce.size());
    length_cipher_->cipher1(packet.data(), kLengthFieldSize);
    main_cipher_->cipher1(packet.data() + kLengthFieldSize, packet.size() - kLengthFieldSize);
    return true;
  }

 private:
  using Nonce = std::array<std::uint8_t, 8>;

  // The nonce is the sequence number as a 64-bit big-endian integer.
  static Nonce nonce_for(std::uint32_t sequence) {
    Nonce nonce{};
    Botan::store_be(sequence, nonce.data() + 4);
    return nonce;
  }

  // Takes the Poly1305 key from keystream block 0 and leaves the main cipher
  // at block 1, where the payload starts.
  void start_main_cipher(const Nonce& nonce) {
    main_cipher_->set_iv(nonce.data(), nonce.size());
    main_cipher_->write_keystream(poly_key_.data(), kPolyKeySize);
    main_cipher_->seek(kChaChaBlockSize);
    poly1305_->set_key(poly_key_);
  }

  void compute_tag(ByteView packet, std::uint8_t* tag) {
    poly1305_->update(packet.data(), packet.size());
    poly1305_->final(tag);
  }

  std::unique_ptr<Botan::StreamCipher> main_cipher_;    // K_2
  std::unique_ptr<Botan::StreamCipher> length_cipher_;  // K_1
  std::unique_ptr<Botan::MessageAuthenticationCode> poly1305_;
  SecureBytes poly_key_;
};

class ChaCha20Poly1305Sealer final : public PacketSealer {
 public:
  explicit ChaCha20Poly1305Sealer(ByteView key) : cipher_(key) {}

  std::size_t block_size() const override { return 8; }
  bool length_outside_alignment() const override { return true; }
  std::size_t tag_size() const override { return kTagSize; }

  void seal(std::uint32_t sequence, MutableByteView packet, MutableByteView tag) override {
    if (packet.size() < kLengthFieldSize || tag.size() < kTagSize) {
      scrub_failed_seal(packet, tag);
      return;
    }
    try {
      cipher_.seal(sequence, packet, tag);
    } catch (const std::exception&) {
      scrub_failed_seal(packet, tag);
    }
  }

 private:
  ChaCha20Poly1305 cipher_;
};

class ChaCha20Poly1305Opener final : public PacketOpener {
 public:
  explicit ChaCha20Poly1305Opener(ByteView key) : cipher_(key) {}

  std::size_t block_size() const override { return 8; }
  bool length_outside_alignment() const override { return true; }
  std::size_t tag_size() const override { return kTagSize; }
  std::size_t length_prefix_size() const override { return kLengthFieldSize; }

  std::uint32_t decrypt_length(std::uint32_t sequence, MutableByteView prefix) override {
    if (prefix.size() < kLengthFieldSize) return 0;
    try {
      return cipher_.decrypt_length(sequence, prefix);
    } catch (const std::exception&) {
      return 0;
    }
  }

  bool open(std::uint32_t sequence, MutableByteView packet, ByteView tag) override {
    if (packet.size() < kLengthFieldSize || tag.size() != kTagSize) return false;
    try {
      return cipher_.open(sequence, packet, tag);
    } catch (const std::exception&) {
      return false;
    }
  }

 private:
  ChaCha20Poly1305 cipher_;
};

}  // namespace

std::unique_ptr<PacketSealer> make_chacha20_poly1305_sealer(ByteView key) {
  if (key.size() != 2 * kHalfKeySize) return nullptr;
  return std::make_unique<ChaCha20Poly1305Sealer>(key);
}

std::unique_ptr<PacketOpener> make_chacha20_poly1305_opener(ByteView key) {
  if (key.size() != 2 * kHalfKeySize) return nullptr;
  return std::make_unique<ChaCha20Poly1305Opener>(key);
}

}  // namespace ssh::crypto::detail
