// Name-based factories for packet protection, the "none" protection used
// before the first NEWKEYS, and the tables of what we implement.
#include "ssh/crypto/cipher.hpp"

#include <botan/cpuid.h>

#include <array>
#include <exception>

#include "ssh/crypto/cipher_internal.hpp"

namespace ssh::crypto {
namespace {

enum class Construction { ChaCha20Poly1305, AesGcm, AesCtr };

struct CipherSpec {
  std::string_view name;
  Construction construction;
  std::size_t key_size;
  std::size_t iv_size;
};

constexpr std::array kCiphers = {
    // 64 bytes: K_2 (payload and Poly1305 key) then K_1 (length); no IV, the
    // nonce is the sequence number.
    CipherSpec{"chacha20-poly1305@openssh.com", Construction::ChaCha20Poly1305, 64, 0},
    // RFC 5647: 12-byte initial IV (fixed field + invocation counter).
    CipherSpec{"aes128-gcm@openssh.com", Construction::AesGcm, 16, 12},
    CipherSpec{"aes256-gcm@openssh.com", Construction::AesGcm, 32, 12},
    // RFC 4344: the IV is the initial 128-bit counter block.
    CipherSpec{"aes128-ctr", Construction::AesCtr, 16, 16},
    CipherSpec{"aes192-ctr", Construction::AesCtr, 24, 16},
    CipherSpec{"aes256-ctr", Construction::AesCtr, 32, 16},
};

struct MacSpec {
  std::string_view name;
  detail::HmacSpec hmac;
};

// RFC 6668 and OpenSSH's PROTOCOL: the key is as long as the digest, and the
// tag is the untruncated digest.
constexpr std::array kMacs = {
    MacSpec{"hmac-sha2-256", {"HMAC(SHA-256)", 32, 32, false}},
    MacSpec{"hmac-sha2-512", {"HMAC(SHA-512)", 64, 64, false}},
    MacSpec{"hmac-sha2-256-etm@openssh.com", {"HMAC(SHA-256)", 32, 32, true}},
    MacSpec{"hmac-sha2-512-etm@openssh.com", {"HMAC(SHA-512)", 64, 64, true}},
};

const CipherSpec* find_cipher(std::string_view name) {
  for (const auto& spec : kCiphers) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const MacSpec* find_mac(std::string_view name) {
  for (const auto& spec : kMacs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

bool is_aead(const CipherSpec& cipher) {
  return cipher.construction != Construction::AesCtr;
}

// Only the fields a construction uses must have the right size; AEAD ciphers
// ignore the MAC key (it is not derived for them) and ChaCha ignores the IV.
bool keys_fit(const KeySizes& sizes, const DirectionKeys& keys) {
  if (keys.cipher_key.size() != sizes.cipher_key) return false;
  if (sizes.iv != 0 && keys.iv.size() != sizes.iv) return false;
  if (!sizes.aead && keys.mac_key.size() != sizes.mac_key) return false;
  return true;
}

class PlainSealer final : public PacketSealer {
 public:
  std::size_t block_size() const override { return 8; }
  bool length_outside_alignment() const override { return false; }
  std::size_t tag_size() const override { return 0; }
  void seal(std::uint32_t, MutableByteView, MutableByteView) override {}
};

class PlainOpener final : public PacketOpener {
 public:
  std::size_t block_size() const override { return 8; }
  bool length_outside_alignment() const override { return false; }
  std::size_t tag_size() const override { return 0; }
  // The length is in clear, so it can be read as soon as it arrives.
  std::size_t length_prefix_size() const override { return detail::kLengthFieldSize; }
  std::uint32_t decrypt_length(std::uint32_t, MutableByteView prefix) override {
    if (prefix.size() < detail::kLengthFieldSize) return 0;
    return detail::load_u32_be(prefix.data());
  }
  bool open(std::uint32_t, MutableByteView, ByteView tag) override { return tag.empty(); }
};

// Which factory to call, with the checks shared by sealer and opener.
template <class Made, class ChaChaFactory, class GcmFactory, class CtrFactory>
std::unique_ptr<Made> make_protection(std::string_view cipher, std::string_view mac,
                                      const DirectionKeys& keys, ChaChaFactory make_chacha,
                                      GcmFactory make_gcm, CtrFactory make_ctr) {
  const auto sizes = key_sizes(cipher, mac);
  if (!sizes || !keys_fit(*sizes, keys)) return nullptr;
  const CipherSpec& spec = *find_cipher(cipher);
  try {
    switch (spec.construction) {
      case Construction::ChaCha20Poly1305:
        return make_chacha(keys.cipher_key);
      case Construction::AesGcm:
        return make_gcm(keys.cipher_key, keys.iv);
      case Construction::AesCtr:
        return make_ctr(keys.cipher_key, keys.iv, keys.mac_key, find_mac(mac)->hmac);
    }
  } catch (const std::exception&) {
    // An algorithm missing from this Botan build: treat the name as unknown.
  }
  return nullptr;
}

}  // namespace

std::optional<KeySizes> key_sizes(std::string_view cipher, std::string_view mac) {
  const CipherSpec* cipher_spec = find_cipher(cipher);
  if (cipher_spec == nullptr) return std::nullopt;
  KeySizes sizes;
  sizes.cipher_key = cipher_spec->key_size;
  sizes.iv = cipher_spec->iv_size;
  if (is_aead(*cipher_spec)) {
    sizes.aead = true;
    return sizes;
  }
  const MacSpec* mac_spec = find_mac(mac);
  if (mac_spec == nullptr) return std::nullopt;
  sizes.mac_key = mac_spec->hmac.key_size;
  return sizes;
}

bool is_aead_cipher(std::string_view cipher) {
  const CipherSpec* spec = find_cipher(cipher);
  return spec != nullptr && is_aead(*spec);
}

const std::vector<std::string>& supported_ciphers() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> result;
    for (const auto& spec : kCiphers) result.emplace_back(spec.name);
    return result;
  }();
  return names;
}

const std::vector<std::string>& supported_macs() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> result;
    for (const auto& spec : kMacs) result.emplace_back(spec.name);
    return result;
  }();
  return names;
}

std::unique_ptr<PacketSealer> make_plain_sealer() {
  return std::make_unique<PlainSealer>();
}
std::unique_ptr<PacketOpener> make_plain_opener() {
  return std::make_unique<PlainOpener>();
}

std::unique_ptr<PacketSealer> make_sealer(std::string_view cipher, std::string_view mac,
                                          const DirectionKeys& keys) {
  return make_protection<PacketSealer>(cipher, mac, keys, detail::make_chacha20_poly1305_sealer,
                                       detail::make_aes_gcm_sealer,
                                       detail::make_aes_ctr_hmac_sealer);
}

std::unique_ptr<PacketOpener> make_opener(std::string_view cipher, std::string_view mac,
                                          const DirectionKeys& keys) {
  return make_protection<PacketOpener>(cipher, mac, keys, detail::make_chacha20_poly1305_opener,
                                       detail::make_aes_gcm_opener,
                                       detail::make_aes_ctr_hmac_opener);
}

bool cpu_has_aes() {
  try {
    return Botan::CPUID::has_hw_aes();
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace ssh::crypto
