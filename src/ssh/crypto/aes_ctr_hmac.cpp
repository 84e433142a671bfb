// aes{128,192,256}-ctr (RFC 4344) with HMAC-SHA2 (RFC 6668), in both MAC
// orders:
//  - encrypt-and-MAC (RFC 4253 section 6.4): the whole packet, length
//    included, is encrypted; the MAC is over uint32 sequence || plaintext
//    packet. The receiver must decrypt the first block to learn the length.
//  - encrypt-then-MAC (*-etm@openssh.com, OpenSSH's PROTOCOL 1.7): the
//    length stays in clear and everything after it is encrypted; the MAC is
//    over uint32 sequence || length || ciphertext and is checked before
//    anything is decrypted.
// The CTR keystream runs on across packets: the counter block is never reset
// after NEWKEYS.
#include <botan/exceptn.h>
#include <botan/mac.h>
#include <botan/stream_cipher.h>

#include <exception>
#include <string>

#include "ssh/crypto/cipher_internal.hpp"

namespace ssh::crypto::detail {
namespace {

constexpr std::size_t kAesBlockSize = 16;
constexpr std::size_t kMaxTagSize = 64;

class AesCtrHmac {
 public:
  AesCtrHmac(ByteView key, ByteView iv, ByteView mac_key, const HmacSpec& mac)
      : ctr_(Botan::StreamCipher::create_or_throw("CTR-BE(AES-" + std::to_string(key.size() * 8) +
                                                  ")")),
        hmac_(Botan::MessageAuthenticationCode::create_or_throw(std::string(mac.botan_name))),
        tag_size_(mac.tag_size),
        encrypt_then_mac_(mac.encrypt_then_mac),
        expected_tag_(kMaxTagSize) {
    ctr_->set_key(key.data(), key.size());
    ctr_->set_iv(iv.data(), iv.size());
    hmac_->set_key(mac_key.data(), mac_key.size());
    if (hmac_->output_length() != tag_size_ || tag_size_ > kMaxTagSize) {
      throw Botan::Invalid_Argument("unexpected HMAC output length");
    }
  }

  std::size_t tag_size() const { return tag_size_; }
  bool encrypt_then_mac() const { return encrypt_then_mac_; }

  void seal(std::uint32_t sequence, MutableByteView packet, MutableByteView tag) {
    if (encrypt_then_mac_) {
      encrypt(packet.subspan(kLengthFieldSize));
      compute_mac(sequence, packet, tag.data());
    } else {
      compute_mac(sequence, packet, tag.data());
      encrypt(packet);
    }
  }

  // Encrypt-and-MAC only: decrypts the first block in place.
  std::uint32_t decrypt_first_block(MutableByteView prefix) {
    encrypt(prefix.first(kAesBlockSize));
    return load_u32_be(prefix.data());
  }

  // For encrypt-and-MAC, the first block was already decrypted by
  // decrypt_first_block().
  bool open(std::uint32_t sequence, MutableByteView packet, ByteView tag) {
    if (encrypt_then_mac_) {
      if (!mac_matches(sequence, packet, tag)) return false;
      encrypt(packet.subspan(kLengthFieldSize));
      return true;
    }
    encrypt(packet.subspan(kAesBlockSize));
    return mac_matches(sequence, packet, tag);
  }

 private:
  // CTR mode: decryption is the same keystream XOR.
  void encrypt(MutableByteView bytes) { ctr_->cipher1(bytes.data(), bytes.size()); }

  void compute_mac(std::uint32_t sequence, ByteView data, std::uint8_t* out) {
    std::uint8_t sequence_bytes[4];
    Botan::store_be(sequence, sequence_bytes);
    hmac_->update(sequence_bytes, sizeof(sequence_bytes));
    hmac_->update(data.data(), data.size());
    hmac_->final(out);
  }

  bool mac_matches(std::uint32_t sequence, ByteView data, ByteView tag) {
    compute_mac(sequence, data, expected_tag_.data());
    return Botan::constant_time_compare(expected_tag_.data(), tag.data(), tag_size_);
  }

  std::unique_ptr<Botan::StreamCipher> ctr_;
  std::unique_ptr<Botan::MessageAuthenticationCode> hmac_;
  std::size_t tag_size_;
  bool encrypt_then_mac_;
  // The MAC of plaintext (encrypt-and-MAC) says something about it; keep it
  // out of ordinary memory.
  SecureBytes expected_tag_;
};

class AesCtrHmacSealer final : public PacketSealer {
 public:
  AesCtrHmacSealer(ByteView key, ByteView iv, ByteView mac_key, const HmacSpec& mac)
      : cipher_(key, iv, mac_key, mac) {}

  std::size_t block_size() const override { return kAesBlockSize; }
  bool length_outside_alignment() const override { return cipher_.encrypt_then_mac(); }
  std::size_t tag_size() const override { return cipher_.tag_size(); }

  void seal(std::uint32_t sequence, MutableByteView packet, MutableByteView tag) override {
    if (packet.size() < kLengthFieldSize || tag.size() < cipher_.tag_size()) {
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
  AesCtrHmac cipher_;
};

class AesCtrHmacOpener final : public PacketOpener {
 public:
  AesCtrHmacOpener(ByteView key, ByteView iv, ByteView mac_key, const HmacSpec& mac)
      : cipher_(key, iv, mac_key, mac) {}

  std::size_t block_size() const override { return kAesBlockSize; }
  bool length_outside_alignment() const override { return cipher_.encrypt_then_mac(); }
  std::size_t tag_size() const override { return cipher_.tag_size(); }
  std::size_t length_prefix_size() const override {
    return cipher_.encrypt_then_mac() ? kLengthFieldSize : kAesBlockSize;
  }

  std::uint32_t decrypt_length(std::uint32_t, MutableByteView prefix) override {
    if (prefix.size() < length_prefix_size()) return 0;
    if (cipher_.encrypt_then_mac()) return load_u32_be(prefix.data());
    try {
      return cipher_.decrypt_first_block(prefix);
    } catch (const std::exception&) {
      return 0;
    }
  }

  bool open(std::uint32_t sequence, MutableByteView packet, ByteView tag) override {
    if (packet.size() < length_prefix_size() || tag.size() != cipher_.tag_size()) return false;
    try {
      return cipher_.open(sequence, packet, tag);
    } catch (const std::exception&) {
      return false;
    }
  }

 private:
  AesCtrHmac cipher_;
};

bool valid_sizes(ByteView key, ByteView iv, ByteView mac_key, const HmacSpec& mac) {
  return (key.size() == 16 || key.size() == 24 || key.size() == 32) && iv.size() == kAesBlockSize &&
         mac_key.size() == mac.key_size;
}

}  // namespace

std::unique_ptr<PacketSealer> make_aes_ctr_hmac_sealer(ByteView key, ByteView iv, ByteView mac_key,
                                                       const HmacSpec& mac) {
  if (!valid_sizes(key, iv, mac_key, mac)) return nullptr;
  return std::make_unique<AesCtrHmacSealer>(key, iv, mac_key, mac);
}

std::unique_ptr<PacketOpener> make_aes_ctr_hmac_opener(ByteView key, ByteView iv, ByteView mac_key,
                                                       const HmacSpec& mac) {
  if (!valid_sizes(key, iv, mac_key, mac)) return nullptr;
  return std::make_unique<AesCtrHmacOpener>(key, iv, mac_key, mac);
}

}  // namespace ssh::crypto::detail
