// Pieces shared by the public and private key code; not part of the public
// interface.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "ssh/common.hpp"

namespace Botan {
class Public_Key;
}  // namespace Botan

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
inline constexpr std::size_t kMinRsaBits = 1024;
inline constexpr std::size_t kMaxRsaBits = 16384;

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

}  // namespace ssh::keys::internal
