// Pieces shared by the key exchange methods; not part of the public interface.
#pragma once

#include <botan/rng.h>

#include <memory>
#include <string>
#include <string_view>

#include "ssh/common.hpp"
#include "ssh/kex/kex.hpp"

namespace ssh::kex::internal {

inline Error kex_failed(std::string message) {
  return {DisconnectReason::KeyExchangeFailed, std::move(message)};
}

// K as it enters the exchange hash and key derivation (uint32 length + mpint),
// from the shared secret as an unsigned big-endian number of any width.
SecureBytes encode_shared_secret(ByteView big_endian_magnitude);

// X25519 (RFC 7748) as the curve25519 and hybrid methods use it.
inline constexpr std::size_t kX25519Size = 32;
// Fills private_scalar with 32 random bytes and returns the matching public
// value. Throws only if the RNG fails.
Bytes x25519_generate(Botan::RandomNumberGenerator& rng, SecureBytes& private_scalar);
// The raw 32-byte shared secret; an error for a wrong-sized peer value and
// for the all-zero result of a low-order peer point (RFC 8731 section 3),
// which would make the secret known to anyone. `method` names the caller in
// messages.
Result<SecureBytes> x25519_agree(const SecureBytes& private_scalar, ByteView peer_public,
                                 std::string_view method);

// RFC 8731. Both names denote the same method.
std::unique_ptr<KexMethod> make_curve25519_sha256();
// The post-quantum hybrids: a KEM combined with X25519, K = HASH(K_pq || K_x25519)
// as a string (OpenSSH PROTOCOL, draft-ietf-sshm-mlkem-hybrid-kex).
std::unique_ptr<KexMethod> make_mlkem768x25519_sha256();
std::unique_ptr<KexMethod> make_sntrup761x25519_sha512();
// RFC 5656 section 4, over the Botan EC group with the given name.
std::unique_ptr<KexMethod> make_ecdh(std::string_view botan_group_name, std::string_view hash_name);
// RFC 4253 section 8 / RFC 8268, over the Botan DL group with the given name.
std::unique_ptr<KexMethod> make_finite_field_dh(std::string_view botan_group_name,
                                                std::string_view hash_name);

}  // namespace ssh::kex::internal
