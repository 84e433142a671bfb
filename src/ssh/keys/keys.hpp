// Public and private keys as SSH uses them: wire blobs (RFC 4253 section
// 6.6, RFC 5656, RFC 8709, RFC 8332), signatures, fingerprints and
// OpenSSH's private key file format (PROTOCOL.key).
#pragma once

#include <botan/rng.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/common.hpp"

namespace Botan {
class Public_Key;
class Private_Key;
}  // namespace Botan

namespace ssh::keys {

class PublicKey {
 public:
  // Parses a public key blob: ssh-ed25519, ecdsa-sha2-nistp256/384/521,
  // ssh-rsa. Anything else or malformed is an error.
  static Result<PublicKey> from_blob(ByteView blob);
  // Parses "type base64 [comment]" as in .pub files and authorized_keys.
  static Result<PublicKey> from_openssh_line(std::string_view line);

  // Key type as in the blob: "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"...
  const std::string& type() const { return type_; }
  const Bytes& blob() const { return blob_; }
  // Signature algorithms this key can verify, preferred first. For ssh-rsa
  // keys: rsa-sha2-512, rsa-sha2-256 (never SHA-1 ssh-rsa).
  std::vector<std::string> signature_algorithms() const;
  // Verifies a signature blob (string algorithm, string signature) over data.
  // The algorithm inside the blob must equal expected_algorithm.
  Status verify(std::string_view expected_algorithm, ByteView data, ByteView signature_blob) const;

  // "SHA256:" + unpadded base64 of SHA-256 of the blob, as ssh-keygen -l.
  std::string fingerprint_sha256() const;
  // "MD5:" + colon-separated hex.
  std::string fingerprint_md5() const;
  // "type base64" (+ " comment" when not empty).
  std::string to_openssh_line(std::string_view comment = {}) const;
  // RFC 4716: "---- BEGIN SSH2 PUBLIC KEY ----", a Comment header when
  // comment is not empty, the base64 blob, the END line (as ssh-keygen -e).
  std::string to_rfc4716(std::string_view comment = {}) const;
  // The key's size as ssh-keygen -l prints it: the RSA modulus bits, the
  // curve size for ECDSA, 256 for Ed25519.
  std::size_t bits() const;
  // "ED25519", "ECDSA" or "RSA", as in ssh-keygen -l's last column.
  std::string short_type_name() const;

  friend bool operator==(const PublicKey& a, const PublicKey& b) { return a.blob_ == b.blob_; }

  const Botan::Public_Key& botan_key() const { return *key_; }

 private:
  std::string type_;
  Bytes blob_;
  std::shared_ptr<const Botan::Public_Key> key_;
};

// A public key as a .pub file holds it.
struct PublicKeyWithComment {
  PublicKey key;
  std::string comment;
};

// Parses a public key file's text: an OpenSSH "type base64 [comment]" line
// (blank lines and # comments around it are skipped) or an RFC 4716 block
// (headers, continuation lines; the Comment header becomes the comment).
Result<PublicKeyWithComment> parse_public_key_text(std::string_view text);

// Gives the passphrase of an encrypted private key file: called at most
// once per file, and only when the file is encrypted. nullopt when none can
// be had (no terminal, the user gave up): the load then fails.
using PassphraseSource = std::function<std::optional<SecureBytes>()>;

// The error message tail of a wrong passphrase (a check-int mismatch, an
// authentication tag or padding failure after decryption).
inline constexpr std::string_view kIncorrectPassphrase = "incorrect passphrase";
// The error message of an encrypted key with no passphrase to be had.
inline constexpr std::string_view kPassphraseRequired = "passphrase required";
bool is_incorrect_passphrase(const Error& error);

// ssh-keygen's default bcrypt-pbkdf rounds for new keys (-a).
inline constexpr std::uint32_t kDefaultKdfRounds = 16;

class PrivateKey {
 public:
  // type: "ssh-ed25519", "ecdsa-sha2-nistp256/384/521" or "ssh-rsa" (bits).
  static Result<PrivateKey> generate(std::string_view type, std::size_t rsa_bits,
                                     Botan::RandomNumberGenerator& rng);
  // Reads a private key file's text, in any format ssh-keygen writes:
  //  - "OPENSSH PRIVATE KEY" (openssh-key-v1): unencrypted, or bcrypt-pbkdf
  //    with aes128/192/256-ctr, aes128/192/256-cbc, aes128/256-gcm@openssh.com
  //    or chacha20-poly1305@openssh.com;
  //  - "RSA PRIVATE KEY" / "EC PRIVATE KEY" (PKCS#1, SEC 1), also encrypted
  //    with Proc-Type/DEK-Info AES-128/192/256-CBC headers (OpenSSL's
  //    EVP_BytesToKey MD5 derivation);
  //  - "PRIVATE KEY" / "ENCRYPTED PRIVATE KEY" (PKCS#8, PBES2).
  // passphrase is asked only for an encrypted file. Errors say what is
  // wrong, not which file (see load_private_key_file for that).
  static Result<PrivateKey> from_file_text(std::string_view file_text,
                                           const PassphraseSource& passphrase = {});
  static Result<PrivateKey> from_file_text(std::string_view file_text,
                                           const SecureBytes& passphrase);
  // from_file_text without a passphrase (kept for existing callers).
  static Result<PrivateKey> from_openssh(std::string_view file_text);
  // Whether reading file_text needs a passphrase; false for text that is no
  // private key at all (reading it tells what is wrong).
  static bool is_encrypted(std::string_view file_text);
  // The public key (and comment, when stored in clear) of a private key file
  // whose public half can be read without its passphrase: openssh-key-v1
  // keeps it unencrypted. Errors for the other formats when encrypted.
  static Result<PublicKeyWithComment> public_key_from_file_text(std::string_view file_text);

  // Writes an openssh-key-v1 file as ssh-keygen does: unencrypted when the
  // passphrase is empty, else bcrypt-pbkdf (16-byte salt, kdf_rounds) with
  // aes256-ctr. Empty on failure.
  std::string to_openssh(std::string_view comment, Botan::RandomNumberGenerator& rng,
                         const SecureBytes& passphrase = {},
                         std::uint32_t kdf_rounds = kDefaultKdfRounds) const;

  const PublicKey& public_key() const { return public_; }
  const std::string& comment() const { return comment_; }
  // Signs data with the given signature algorithm (which must be one of
  // public_key().signature_algorithms()); returns the signature blob
  // (string algorithm, string signature).
  Result<Bytes> sign(std::string_view signature_algorithm, ByteView data,
                     Botan::RandomNumberGenerator& rng) const;

 private:
  friend struct PrivateKeyAccess;
  PublicKey public_;
  std::string comment_;
  std::shared_ptr<const Botan::Private_Key> key_;
};

// Host key algorithm names we accept in negotiation, in no particular order:
// ssh-ed25519, ecdsa-sha2-nistp256/384/521, rsa-sha2-512, rsa-sha2-256.
const std::vector<std::string>& supported_signature_algorithms();
// The key type a signature algorithm belongs to (rsa-sha2-256 -> ssh-rsa).
std::string key_type_for_signature_algorithm(std::string_view algorithm);

}  // namespace ssh::keys
