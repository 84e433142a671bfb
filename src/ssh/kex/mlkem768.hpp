// ML-KEM-768, the module-lattice key encapsulation mechanism of FIPS 203 (August 2024),
// built on Botan's Keccak permutation. It backs the hybrid key exchange
// mlkem768x25519-sha256.
#pragma once

#include <botan/rng.h>

#include <cstddef>

#include "ssh/common.hpp"
#include "ssh/kex/kem.hpp"

namespace ssh::kex::mlkem768 {

inline constexpr std::size_t kPublicKeySize = 1184, kSecretKeySize = 2400, kCiphertextSize = 1088,
                             kSharedSecretSize = 32, kSeedSize = 32;

using KeyPair = KemKeyPair;
using Encapsulation = KemEncapsulation;

// ML-KEM.KeyGen_internal(d, z) (FIPS 203 algorithm 16): deterministic, for known-answer tests.
// d and z must be kSeedSize bytes each (a precondition: std::invalid_argument otherwise).
KeyPair generate_key_pair(ByteView d, ByteView z);
// ML-KEM.KeyGen (algorithm 19). Exceptions from the generator propagate.
KeyPair generate_key_pair(Botan::RandomNumberGenerator& rng);

// ML-KEM.Encaps_internal(ek, m) (algorithm 17) after the encapsulation-key checks of FIPS 203
// section 7.2 (length, modulus check): a bad key is an error value
// (DisconnectReason::KeyExchangeFailed), never an exception. m must be kSeedSize bytes.
Result<Encapsulation> encapsulate(ByteView public_key, ByteView m);
// ML-KEM.Encaps (algorithm 20); a failing generator is an error value too.
Result<Encapsulation> encapsulate(ByteView public_key, Botan::RandomNumberGenerator& rng);

// ML-KEM.Decaps (algorithm 21) with the decapsulation-input checks of section 7.3 (lengths, the
// hash check of the secret key). A ciphertext whose re-encryption differs gives the implicit
// rejection key J(z || c), selected in constant time.
Result<SecureBytes> decapsulate(ByteView secret_key, ByteView ciphertext);

}  // namespace ssh::kex::mlkem768
