// Pieces shared by the public and private key code; not part of the public
// interface.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/keys/keys.hpp"
#include "ssh/limits.hpp"

namespace Botan {
class Public_Key;
class Private_Key;
}  // namespace Botan

namespace ssh::keys {

// Lets the format readers in other files build a PrivateKey.
struct PrivateKeyAccess {
  // The SSH key behind a Botan key: Ed25519, ECDSA on one of our curves, or
  // RSA of an accepted size; anything else is an error.
  static Result<PrivateKey> from_botan(std::shared_ptr<const Botan::Private_Key> key,
                                       std::string comment);
};

}  // namespace ssh::keys

namespace ssh::keys::internal {

inline constexpr std::string_view kEd25519 = "ssh-ed25519";
inline constexpr std::string_view kRsa = "ssh-rsa";
inline constexpr std::string_view kRsaSha256 = "rsa-sha2-256";
inline constexpr std::string_view kRsaSha512 = "rsa-sha2-512";

inline constexpr std::size_t kEd25519PublicKeySize = 32;
inline constexpr std::size_t kEd25519SignatureSize = 64;
// OpenSSH refuses smaller moduli (SSH_RSA_MINIMUM_MODULUS_SIZE) and larger
// ones (OPENSSL_RSA_MAX_MODULUS_BITS); the upper bound also caps the cost a
// peer can make us pay per verification.
inline constexpr std::size_t kMinRsaBits = limits::kMinRsaBits;
inline constexpr std::size_t kMaxRsaBits = limits::kMaxRsaBits;

inline Error key_error(std::string message) {
  return protocol_error(std::move(message));
}

// An ECDSA key type of RFC 5656 with everything needed to use it.
struct EcdsaCurve {
  std::string_view key_type;     // "ecdsa-sha2-nistp256"
  std::string_view curve_name;   // "nistp256", the identifier inside blobs
  std::string_view botan_group;  // "secp256r1"
  std::string_view hash;         // "SHA-256" (RFC 5656 section 6.2.1)
};
const EcdsaCurve* find_ecdsa_curve(std::string_view key_type);

// Botan's padding/encoding name for a signature algorithm we support
// ("Pure", "EMSA1(SHA-256)", "EMSA3(SHA-512)"...); empty for others.
std::string botan_padding_for(std::string_view signature_algorithm);

// The SSH public key blob of a Botan key of the given SSH key type.
Bytes encode_public_blob(std::string_view key_type, const Botan::Public_Key& key);

// A cipher an openssh-key-v1 file may be encrypted with (PROTOCOL.key; the
// set is OpenSSH's cipher.c minus the legacy ones ssh-keygen cannot write).
struct KeyFileCipher {
  std::string_view name;  // "aes256-ctr"
  std::size_t key_size;
  std::size_t iv_size;
  std::size_t block_size;  // the private section is padded to this
  std::size_t tag_size;    // authentication tag after the section (AEAD)
};
const KeyFileCipher* find_key_file_cipher(std::string_view name);

// Encrypts or decrypts a private section in place with key || iv as the
// bcrypt-pbkdf output gives them. Decryption checks the tag of AEAD ciphers
// (tag is read) and fails on a mismatch; encryption writes tag.
bool crypt_private_section(const KeyFileCipher& cipher, ByteView key_and_iv, bool encrypt,
                           SecureBytes& section, std::span<std::uint8_t> tag);

// bcrypt_pbkdf (OpenBSD) of the passphrase and salt, output_size bytes.
SecureBytes bcrypt_pbkdf(ByteView passphrase, ByteView salt, std::uint32_t rounds,
                         std::size_t output_size);

// PEM-armored private keys other than openssh-key-v1.
struct PemBlock {
  std::string label;                                         // "RSA PRIVATE KEY"
  std::vector<std::pair<std::string, std::string>> headers;  // Proc-Type, DEK-Info
  SecureBytes body;
};
// The first "-----BEGIN <label>-----" block of text; nullopt without one.
Result<PemBlock> parse_pem(std::string_view text);
// The label of the first BEGIN line in text, or empty.
std::string first_pem_label(std::string_view text);
bool pem_is_encrypted(const PemBlock& block);
Result<PrivateKey> read_pem_private_key(const PemBlock& block, const PassphraseSource& passphrase);

}  // namespace ssh::keys::internal
