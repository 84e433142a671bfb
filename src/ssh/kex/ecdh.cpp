// ecdh-sha2-nistp256/384/521 (RFC 5656 section 4).

#include <botan/ec_group.h>
#include <botan/ecdh.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>

#include <cstdint>
#include <exception>
#include <string>

#include "ssh/kex/kex_internal.hpp"

namespace ssh::kex::internal {
namespace {

// SEC1 marker of an uncompressed point; RFC 5656 section 3.1 requires them.
constexpr std::uint8_t kUncompressedPointTag = 0x04;

class Ecdh final : public KexMethod {
 public:
  Ecdh(std::string_view botan_group_name, std::string_view hash_name)
      : group_(std::string(botan_group_name)), hash_name_(hash_name) {}

  std::string_view hash_name() const override { return hash_name_; }

  Bytes generate(Botan::RandomNumberGenerator& rng) override {
    try {
      private_key_ = std::make_unique<Botan::ECDH_PrivateKey>(rng, group_);
      return private_key_->public_value(Botan::PointGFp::UNCOMPRESSED);
    } catch (const std::exception&) {
      // The interface has no error channel here; agree() reports it.
      private_key_.reset();
      return {};
    }
  }

  Result<SecureBytes> agree(ByteView peer_public) override {
    if (!private_key_) return kex_failed("ecdh: no key pair (generate() not called or failed)");
    const std::size_t coordinate_size = group_.get_p_bytes();
    if (peer_public.size() != 1 + 2 * coordinate_size || peer_public[0] != kUncompressedPointTag) {
      return kex_failed("ecdh: peer public key is not an uncompressed point on the curve");
    }
    try {
      // Decoding checks the point is on the curve; verify_public_element also
      // refuses the identity and points outside the prime-order subgroup.
      const Botan::PointGFp peer_point = group_.OS2ECP(peer_public.data(), peer_public.size());
      if (!group_.verify_public_element(peer_point)) {
        return kex_failed("ecdh: peer public key is not a valid point on the curve");
      }
      // agree() gets no RNG from the caller; the OS RNG only feeds Botan's
      // scalar blinding and lives as long as the program.
      Botan::PK_Key_Agreement agreement(*private_key_, Botan::system_rng(), "Raw");
      // "Raw" yields the x-coordinate of the shared point, which is K.
      const SecureBytes x_coordinate =
          agreement.derive_key(0, peer_public.data(), peer_public.size()).bits_of();
      return encode_shared_secret(x_coordinate);
    } catch (const std::exception&) {
      return kex_failed("ecdh: peer public key is not a valid point on the curve");
    }
  }

 private:
  Botan::EC_Group group_;
  std::string hash_name_;
  std::unique_ptr<Botan::ECDH_PrivateKey> private_key_;
};

}  // namespace

std::unique_ptr<KexMethod> make_ecdh(std::string_view botan_group_name,
                                     std::string_view hash_name) {
  return std::make_unique<Ecdh>(botan_group_name, hash_name);
}

}  // namespace ssh::kex::internal
