// Key exchange methods. Each is a small object that makes one ephemeral key
// pair and agrees on a shared secret with the peer's public value; the
// transport does the rest (messages, exchange hash, key derivation).
// The client calls generate() for its KEX_ECDH_INIT / KEXDH_INIT value and
// agree() on the server's reply; the server calls respond() on the client's
// value. For Diffie-Hellman methods respond() is generate() then agree(); the
// post-quantum hybrids are KEMs, where the server's reply (a ciphertext)
// depends on the client's value.
#pragma once

#include <botan/rng.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/common.hpp"

namespace ssh::kex {

class KexMethod {
 public:
  virtual ~KexMethod() = default;
  // Botan name of the exchange hash: "SHA-256", "SHA-384" or "SHA-512".
  virtual std::string_view hash_name() const = 0;
  // Makes our ephemeral key pair and returns our public value exactly as the
  // bytes inside the wire string: Q_C/Q_S for ECDH and curve25519, the mpint
  // contents (two's complement, minimal) of e/f for finite-field DH. Call once.
  virtual Bytes generate(Botan::RandomNumberGenerator& rng) = 0;
  // Checks the peer's public value (same encoding as generate) and returns the
  // shared secret K fully wire-encoded as it enters the exchange hash and the
  // key derivation: uint32 length + mpint bytes for every method here
  // (RFC 5656, RFC 8731, RFC 4253). Invalid peer values (point not on the
  // curve, all-zero X25519 result, DH value outside [2, p-2]) are errors with
  // DisconnectReason::KeyExchangeFailed.
  virtual Result<SecureBytes> agree(ByteView peer_public) = 0;

  struct ServerReply {
    Bytes server_public;        // Q_S / f / the hybrid's ciphertext || Q_S
    SecureBytes shared_secret;  // K, encoded as agree() returns it
  };
  // The server's side: checks the client's value and returns our reply value
  // and K. Call once, instead of generate() and agree().
  virtual Result<ServerReply> respond(ByteView client_public, Botan::RandomNumberGenerator& rng);
};

// nullptr for names we do not implement. Names: mlkem768x25519-sha256,
// sntrup761x25519-sha512, sntrup761x25519-sha512@openssh.com, curve25519-sha256,
// curve25519-sha256@libssh.org, ecdh-sha2-nistp256/384/521,
// diffie-hellman-group14-sha256, diffie-hellman-group16-sha512,
// diffie-hellman-group18-sha512.
std::unique_ptr<KexMethod> make_kex(std::string_view name);
const std::vector<std::string>& supported_kex();

}  // namespace ssh::kex
