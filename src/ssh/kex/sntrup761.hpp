// Streamlined NTRU Prime sntrup761 (NTRU Prime round 3 specification:
// p = 761, q = 4591, w = 286), the KEM with the round-3 key format (rho for
// implicit rejection, cached hash of the public key) and the SHA-512 based
// hashes with prefix bytes. It backs sntrup761x25519-sha512@openssh.com, so
// every encoding is bit-exact with the reference implementation.
#pragma once

#include <botan/rng.h>

#include <cstddef>

#include "ssh/common.hpp"
#include "ssh/kex/kem.hpp"

namespace ssh::kex::sntrup761 {

inline constexpr std::size_t kPublicKeySize = 1158, kSecretKeySize = 1763, kCiphertextSize = 1039,
                             kSharedSecretSize = 32;

using KeyPair = KemKeyPair;
using Encapsulation = KemEncapsulation;

// Randomness is drawn from rng in the reference implementation's order and
// amounts (one 4p-byte request per Small_random / Short_random, then rho), so
// the NIST KAT DRBG reproduces the published KAT. There is no error channel:
// it throws only what rng or Botan's SHA-512 lookup throws.
KeyPair generate_key_pair(Botan::RandomNumberGenerator& rng);

// Wrong length -> error value (DisconnectReason::KeyExchangeFailed), never an
// exception (a failing rng is reported the same way). Any 1158 bytes are a
// usable public key: the encoding reduces every value into range.
Result<Encapsulation> encapsulate(ByteView public_key, Botan::RandomNumberGenerator& rng);

// Implicit rejection as the spec: a bad ciphertext yields the rho-based key,
// chosen in constant time.
Result<SecureBytes> decapsulate(ByteView secret_key, ByteView ciphertext);

}  // namespace ssh::kex::sntrup761
