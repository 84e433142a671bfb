// curve25519-sha256 (RFC 8731): X25519 (RFC 7748) with SHA-256.

#include <botan/curve25519.h>

#include <cstdint>
#include <exception>

#include "ssh/kex/kex_internal.hpp"

namespace ssh::kex::internal {

Bytes x25519_generate(Botan::RandomNumberGenerator& rng, SecureBytes& private_scalar) {
  // X25519 takes any 32 random bytes as the scalar; the clamping of
  // RFC 7748 section 5 happens inside the scalar multiplication.
  private_scalar.resize(kX25519Size);
  rng.randomize(private_scalar.data(), private_scalar.size());
  Bytes public_value(kX25519Size);
  Botan::curve25519_basepoint(public_value.data(), private_scalar.data());
  return public_value;
}

Result<SecureBytes> x25519_agree(const SecureBytes& private_scalar, ByteView peer_public,
                                 std::string_view method) {
  if (private_scalar.size() != kX25519Size) {
    return kex_failed(std::string(method) + ": no key pair (generate() not called or failed)");
  }
  if (peer_public.size() != kX25519Size) {
    return kex_failed(std::string(method) + ": peer X25519 public key must be 32 bytes, got " +
                      std::to_string(peer_public.size()));
  }
  SecureBytes shared_secret(kX25519Size);
  Botan::curve25519_donna(shared_secret.data(), private_scalar.data(), peer_public.data());
  // Checked without an early exit so the timing does not depend on the secret.
  std::uint8_t any_bit_set = 0;
  for (std::uint8_t byte : shared_secret) any_bit_set |= byte;
  if (any_bit_set == 0) {
    return kex_failed(std::string(method) +
                      ": X25519 shared secret is all zero (low-order peer point)");
  }
  return shared_secret;
}

namespace {

class Curve25519Sha256 final : public KexMethod {
 public:
  std::string_view hash_name() const override { return "SHA-256"; }

  Bytes generate(Botan::RandomNumberGenerator& rng) override {
    try {
      return x25519_generate(rng, private_scalar_);
    } catch (const std::exception&) {
      // The interface has no error channel here; agree() reports it.
      private_scalar_.clear();
      return {};
    }
  }

  Result<SecureBytes> agree(ByteView peer_public) override {
    auto shared_secret = x25519_agree(private_scalar_, peer_public, "curve25519");
    if (!shared_secret) return shared_secret.take_error();
    // RFC 8731 section 3.1: the 32 bytes are an unsigned big-endian integer
    // encoded as an mpint.
    return encode_shared_secret(*shared_secret);
  }

 private:
  SecureBytes private_scalar_;
};

}  // namespace

std::unique_ptr<KexMethod> make_curve25519_sha256() {
  return std::make_unique<Curve25519Sha256>();
}

}  // namespace ssh::kex::internal
