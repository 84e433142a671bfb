#include "ssh/kex/kex.hpp"

#include <exception>

#include "ssh/kex/kex_internal.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::kex {

namespace internal {

SecureBytes encode_shared_secret(ByteView big_endian_magnitude) {
  SecureBytes encoded;
  wire::SecureWriter writer(encoded);
  writer.mpint_unsigned(big_endian_magnitude);
  return encoded;
}

}  // namespace internal

Result<KexMethod::ServerReply> KexMethod::respond(ByteView client_public,
                                                  Botan::RandomNumberGenerator& rng) {
  ServerReply reply;
  reply.server_public = generate(rng);
  auto shared_secret = agree(client_public);
  if (!shared_secret) return shared_secret.take_error();
  reply.shared_secret = std::move(*shared_secret);
  return reply;
}

std::unique_ptr<KexMethod> make_kex(std::string_view name) {
  try {
    if (name == "mlkem768x25519-sha256") return internal::make_mlkem768x25519_sha256();
    if (name == "sntrup761x25519-sha512" || name == "sntrup761x25519-sha512@openssh.com") {
      return internal::make_sntrup761x25519_sha512();
    }
    if (name == "curve25519-sha256" || name == "curve25519-sha256@libssh.org") {
      return internal::make_curve25519_sha256();
    }
    if (name == "ecdh-sha2-nistp256") return internal::make_ecdh("secp256r1", "SHA-256");
    if (name == "ecdh-sha2-nistp384") return internal::make_ecdh("secp384r1", "SHA-384");
    if (name == "ecdh-sha2-nistp521") return internal::make_ecdh("secp521r1", "SHA-512");
    if (name == "diffie-hellman-group14-sha256") {
      return internal::make_finite_field_dh("modp/ietf/2048", "SHA-256");
    }
    if (name == "diffie-hellman-group16-sha512") {
      return internal::make_finite_field_dh("modp/ietf/4096", "SHA-512");
    }
    if (name == "diffie-hellman-group18-sha512") {
      return internal::make_finite_field_dh("modp/ietf/8192", "SHA-512");
    }
  } catch (const std::exception&) {
    // Only reachable if Botan lacks a built-in group; treat as unsupported.
  }
  return nullptr;
}

const std::vector<std::string>& supported_kex() {
  static const std::vector<std::string> names = {
      "mlkem768x25519-sha256",
      "sntrup761x25519-sha512",
      "sntrup761x25519-sha512@openssh.com",
      "curve25519-sha256",
      "curve25519-sha256@libssh.org",
      "ecdh-sha2-nistp256",
      "ecdh-sha2-nistp384",
      "ecdh-sha2-nistp521",
      "diffie-hellman-group14-sha256",
      "diffie-hellman-group16-sha512",
      "diffie-hellman-group18-sha512",
  };
  return names;
}

}  // namespace ssh::kex
