// diffie-hellman-group14-sha256, -group16-sha512 and -group18-sha512
// (RFC 4253 section 8, RFC 8268) over the RFC 3526 MODP groups.

#include <botan/bigint.h>
#include <botan/dh.h>
#include <botan/dl_group.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>

#include <exception>
#include <optional>
#include <string>

#include "ssh/kex/kex_internal.hpp"
#include "ssh/wire/reader.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::kex::internal {
namespace {

// Twice the 256-bit strength of the strongest session keys this exchange can
// feed (Pollard rho halves an exponent's strength), as OpenSSH does for
// AES-256 sessions. None of the groups offers more than 256 bits itself, so
// a longer exponent would only cost time.
constexpr std::size_t kPrivateExponentBits = 512;

// The contents of an mpint holding an unsigned magnitude.
Bytes mpint_contents(ByteView magnitude) {
  Bytes encoded;
  wire::Writer writer(encoded);
  writer.mpint_unsigned(magnitude);
  wire::Reader reader(encoded);
  return to_bytes(reader.mpint());
}

// The magnitude of an mpint given by its contents; nullopt when the contents
// are not a valid non-negative mpint.
std::optional<Botan::BigInt> parse_mpint_contents(ByteView contents) {
  Bytes encoded;
  wire::Writer writer(encoded);
  writer.string(contents);
  wire::Reader reader(encoded);
  const ByteView digits = reader.mpint();
  if (!reader.finished()) return std::nullopt;
  return Botan::BigInt(digits.data(), digits.size());
}

class FiniteFieldDh final : public KexMethod {
 public:
  FiniteFieldDh(std::string_view botan_group_name, std::string_view hash_name)
      : group_(std::string(botan_group_name)), hash_name_(hash_name) {}

  std::string_view hash_name() const override { return hash_name_; }

  Bytes generate(Botan::RandomNumberGenerator& rng) override {
    try {
      Botan::BigInt exponent;
      exponent.randomize(rng, kPrivateExponentBits, /*set_high_bit=*/true);
      private_key_ = std::make_unique<Botan::DH_PrivateKey>(rng, group_, exponent);
      return mpint_contents(private_key_->public_value());
    } catch (const std::exception&) {
      // The interface has no error channel here; agree() reports it.
      private_key_.reset();
      return {};
    }
  }

  Result<SecureBytes> agree(ByteView peer_public) override {
    if (!private_key_) return kex_failed("dh: no key pair (generate() not called or failed)");
    try {
      const auto peer_value = parse_mpint_contents(peer_public);
      if (!peer_value) return kex_failed("dh: peer public value is not a valid mpint");
      // RFC 4253 section 8: values outside [2, p-2] would force K into a
      // tiny subgroup ({1} or {1, p-1}).
      const Botan::BigInt& p = group_.get_p();
      if (*peer_value <= 1 || *peer_value >= p - 1) {
        return kex_failed("dh: peer public value is out of range");
      }
      const Bytes peer_magnitude = Botan::BigInt::encode(*peer_value);
      // agree() gets no RNG from the caller; the OS RNG only feeds Botan's
      // blinding and lives as long as the program.
      Botan::PK_Key_Agreement agreement(*private_key_, Botan::system_rng(), "Raw");
      const SecureBytes shared_secret =
          agreement.derive_key(0, peer_magnitude.data(), peer_magnitude.size()).bits_of();
      return encode_shared_secret(shared_secret);
    } catch (const std::exception&) {
      return kex_failed("dh: key agreement failed");
    }
  }

 private:
  Botan::DL_Group group_;
  std::string hash_name_;
  std::unique_ptr<Botan::DH_PrivateKey> private_key_;
};

}  // namespace

std::unique_ptr<KexMethod> make_finite_field_dh(std::string_view botan_group_name,
                                                std::string_view hash_name) {
  return std::make_unique<FiniteFieldDh>(botan_group_name, hash_name);
}

}  // namespace ssh::kex::internal
