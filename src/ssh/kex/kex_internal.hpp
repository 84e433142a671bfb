// Pieces shared by the key exchange methods; not part of the public interface.
#pragma once

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

// RFC 8731. Both names denote the same method.
std::unique_ptr<KexMethod> make_curve25519_sha256();
// RFC 5656 section 4, over the Botan EC group with the given name.
std::unique_ptr<KexMethod> make_ecdh(std::string_view botan_group_name, std::string_view hash_name);
// RFC 4253 section 8 / RFC 8268, over the Botan DL group with the given name.
std::unique_ptr<KexMethod> make_finite_field_dh(std::string_view botan_group_name,
                                                std::string_view hash_name);

}  // namespace ssh::kex::internal
