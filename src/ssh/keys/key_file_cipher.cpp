// The encryption of openssh-key-v1 private sections: bcrypt_pbkdf derives
// key || iv from the passphrase (PROTOCOL.key), and one of the ciphers
// OpenSSH's cipher.c lists encrypts the section. AEAD ciphers put their tag
// after the section, outside its length.
#include <botan/cipher_mode.h>
#include <botan/mac.h>
#include <botan/mem_ops.h>
#include <botan/pwdhash.h>
#include <botan/stream_cipher.h>

#include <array>
#include <exception>

#include "ssh/keys/keys_internal.hpp"

namespace ssh::keys::internal {
namespace {

constexpr std::size_t kAesBlock = 16;
constexpr std::size_t kGcmNonce = 12;
constexpr std::size_t kTagSize = 16;
// chacha20-poly1305@openssh.com takes 64 bytes of key (K_2 || K_1) and no IV;
// PROTOCOL.chacha20poly1305 pads to 8.
constexpr std::size_t kChaChaKeySize = 64;
constexpr std::size_t kChaChaBlock = 8;
constexpr std::size_t kChaChaHalfKey = 32;
constexpr std::size_t kPolyKeySize = 32;
constexpr std::size_t kChaChaKeystreamBlock = 64;

constexpr KeyFileCipher kCiphers[] = {
    {"aes128-ctr", 16, kAesBlock, kAesBlock, 0},
    {"aes192-ctr", 24, kAesBlock, kAesBlock, 0},
    {"aes256-ctr", 32, kAesBlock, kAesBlock, 0},
    {"aes128-cbc", 16, kAesBlock, kAesBlock, 0},
    {"aes192-cbc", 24, kAesBlock, kAesBlock, 0},
    {"aes256-cbc", 32, kAesBlock, kAesBlock, 0},
    {"aes128-gcm@openssh.com", 16, kGcmNonce, kAesBlock, kTagSize},
    {"aes256-gcm@openssh.com", 32, kGcmNonce, kAesBlock, kTagSize},
    {"chacha20-poly1305@openssh.com", kChaChaKeySize, 0, kChaChaBlock, kTagSize},
};

std::string aes_name(const KeyFileCipher& cipher) {
  return "AES-" + std::to_string(cipher.key_size * 8);
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// As OpenSSH's chachapoly_crypt with sequence number 0 and no AAD: the
// Poly1305 key is keystream block 0 of K_2, the data is encrypted from block
// 1, and the tag covers the ciphertext alone. K_1 only ever encrypts packet
// lengths, which a key file has none of.
bool chacha_crypt(ByteView key, bool encrypt, SecureBytes& section, std::span<std::uint8_t> tag) {
  auto chacha = Botan::StreamCipher::create_or_throw("ChaCha(20)");
  auto poly1305 = Botan::MessageAuthenticationCode::create_or_throw("Poly1305");
  chacha->set_key(key.data(), kChaChaHalfKey);
  const std::array<std::uint8_t, 8> nonce{};
  chacha->set_iv(nonce.data(), nonce.size());
  SecureBytes poly_key(kPolyKeySize);
  chacha->write_keystream(poly_key.data(), poly_key.size());
  poly1305->set_key(poly_key);
  chacha->seek(kChaChaKeystreamBlock);
  if (encrypt) {
    chacha->cipher1(section.data(), section.size());
    poly1305->update(section);
    poly1305->final(tag.data());
    return true;
  }
  poly1305->update(section);
  std::array<std::uint8_t, kTagSize> expected{};
  poly1305->final(expected.data());
  if (!Botan::constant_time_compare(expected.data(), tag.data(), kTagSize)) return false;
  chacha->cipher1(section.data(), section.size());
  return true;
}

}  // namespace

const KeyFileCipher* find_key_file_cipher(std::string_view name) {
  for (const KeyFileCipher& cipher : kCiphers) {
    if (cipher.name == name) return &cipher;
  }
  return nullptr;
}

bool crypt_private_section(const KeyFileCipher& cipher, ByteView key_and_iv, bool encrypt,
                           SecureBytes& section, std::span<std::uint8_t> tag) {
  if (key_and_iv.size() != cipher.key_size + cipher.iv_size || tag.size() != cipher.tag_size ||
      section.size() % cipher.block_size != 0) {
    return false;
  }
  const ByteView key = key_and_iv.first(cipher.key_size);
  const ByteView iv = key_and_iv.subspan(cipher.key_size);
  try {
    if (cipher.name == "chacha20-poly1305@openssh.com") {
      return chacha_crypt(key, encrypt, section, tag);
    }
    if (ends_with(cipher.name, "-ctr")) {
      auto ctr = Botan::StreamCipher::create_or_throw("CTR-BE(" + aes_name(cipher) + ")");
      ctr->set_key(key.data(), key.size());
      ctr->set_iv(iv.data(), iv.size());
      ctr->cipher1(section.data(), section.size());
      return true;
    }
    const bool gcm = ends_with(cipher.name, "-gcm@openssh.com");
    const std::string mode_name = aes_name(cipher) + (gcm ? "/GCM" : "/CBC/NoPadding");
    auto mode = Botan::Cipher_Mode::create_or_throw(
        mode_name, encrypt ? Botan::ENCRYPTION : Botan::DECRYPTION);
    mode->set_key(key.data(), key.size());
    mode->start(iv.data(), iv.size());
    if (gcm && !encrypt) section.insert(section.end(), tag.begin(), tag.end());
    mode->finish(section);  // GCM: throws Invalid_Authentication_Tag on a mismatch
    if (gcm && encrypt) {
      std::copy(section.end() - static_cast<std::ptrdiff_t>(kTagSize), section.end(), tag.begin());
      section.resize(section.size() - kTagSize);
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

SecureBytes bcrypt_pbkdf(ByteView passphrase, ByteView salt, std::uint32_t rounds,
                         std::size_t output_size) {
  auto family = Botan::PasswordHashFamily::create_or_throw("Bcrypt-PBKDF");
  auto kdf = family->from_iterations(rounds);
  SecureBytes output(output_size);
  kdf->derive_key(output.data(), output.size(), reinterpret_cast<const char*>(passphrase.data()),
                  passphrase.size(), salt.data(), salt.size());
  return output;
}

}  // namespace ssh::keys::internal
