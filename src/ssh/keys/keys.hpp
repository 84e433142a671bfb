// Public and private keys as SSH uses them: wire blobs (RFC 4253 section
// 6.6, RFC 5656, RFC 8709, RFC 8332), signatures, fingerprints and
// OpenSSH's private key file format (PROTOCOL.key).
#pragma once

#include <botan/rng.h>

#include <memory>
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

  friend bool operator==(const PublicKey& a, const PublicKey& b) { return a.blob_ == b.blob_; }

  const Botan::Public_Key& botan_key() const { return *key_; }

 private:
  std::string type_;
  Bytes blob_;
  std::shared_ptr<const Botan::Public_Key> key_;
};

class PrivateKey {
 public:
  // type: "ssh-ed25519", "ecdsa-sha2-nistp256/384/521" or "ssh-rsa" (bits).
  static Result<PrivateKey> generate(std::string_view type, std::size_t rsa_bits,
                                     Botan::RandomNumberGenerator& rng);
  // Reads an unencrypted "-----BEGIN OPENSSH PRIVATE KEY-----" file's text.
  static Result<PrivateKey> from_openssh(std::string_view file_text);

  // Writes an unencrypted openssh-key-v1 file, as ssh-keygen -N '' does.
  std::string to_openssh(std::string_view comment, Botan::RandomNumberGenerator& rng) const;

  const PublicKey& public_key() const { return public_; }
  const std::string& comment() const { return comment_; }
  // Signs data with the given signature algorithm (which must be one of
  // public_key().signature_algorithms()); returns the signature blob
  // (string algorithm, string signature).
  Result<Bytes> sign(std::string_view signature_algorithm, ByteView data,
                     Botan::RandomNumberGenerator& rng) const;

 private:
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
