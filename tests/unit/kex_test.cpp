#include "ssh/kex/kex.hpp"

#include <botan/auto_rng.h>
#include <botan/bigint.h>
#include <botan/dl_group.h>
#include <botan/hex.h>
#include <botan/rng.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>

#include "ssh/wire/reader.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::kex {
namespace {

// Hands out exactly the bytes it was given, so a key exchange can be run
// with a known private key through the public interface.
class FixedBytesRng final : public Botan::RandomNumberGenerator {
 public:
  explicit FixedBytesRng(Bytes bytes) : bytes_(std::move(bytes)) {}

  void randomize(std::uint8_t output[], std::size_t length) override {
    if (length > bytes_.size() - used_) throw std::runtime_error("FixedBytesRng exhausted");
    std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(used_), length, output);
    used_ += length;
  }
  bool accepts_input() const override { return false; }
  void add_entropy(const std::uint8_t[], std::size_t) override {}
  std::string name() const override { return "FixedBytesRng"; }
  void clear() override {}
  bool is_seeded() const override { return true; }

 private:
  Bytes bytes_;
  std::size_t used_ = 0;
};

Bytes from_hex(std::string_view hex) {
  return Botan::hex_decode(std::string(hex));
}

// K exactly as agree() must return it for the given unsigned magnitude.
SecureBytes expected_k(ByteView magnitude) {
  SecureBytes encoded;
  wire::SecureWriter writer(encoded);
  writer.mpint_unsigned(magnitude);
  return encoded;
}

// The mpint contents (what DH generate() returns) of a non-negative number.
Bytes dh_value(const Botan::BigInt& value) {
  Bytes encoded;
  wire::Writer writer(encoded);
  writer.mpint_unsigned(Botan::BigInt::encode(value));
  wire::Reader reader(encoded);
  return to_bytes(reader.mpint());
}

void expect_kex_failure(const Result<SecureBytes>& result) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason, DisconnectReason::KeyExchangeFailed);
  EXPECT_FALSE(result.error().message.empty());
}

// ---------------------------------------------------------------------------
// Every method: two parties agree on the same K.

class KexAgreement : public testing::TestWithParam<std::string> {};

bool is_hybrid(std::string_view name) {
  return name.find("x25519-sha") != std::string::npos;
}

TEST_P(KexAgreement, BothSidesDeriveTheSameWireEncodedSecret) {
  Botan::AutoSeeded_RNG rng;
  auto client = make_kex(GetParam());
  auto server = make_kex(GetParam());
  ASSERT_NE(client, nullptr);
  ASSERT_NE(server, nullptr);
  const Bytes client_public = client->generate(rng);
  ASSERT_FALSE(client_public.empty());
  auto reply = server->respond(client_public, rng);
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  ASSERT_FALSE(reply->server_public.empty());
  EXPECT_NE(client_public, reply->server_public);

  auto client_k = client->agree(reply->server_public);
  ASSERT_TRUE(client_k.ok()) << client_k.error().message;
  EXPECT_EQ(*client_k, reply->shared_secret);

  // K is one valid mpint (Diffie-Hellman) or one hash-sized string (the
  // hybrids) and nothing else.
  wire::Reader reader(*client_k);
  if (is_hybrid(GetParam())) {
    EXPECT_EQ(reader.string().size(), GetParam().find("sha512") != std::string::npos ? 64U : 32U);
  } else {
    EXPECT_FALSE(reader.mpint().empty());
  }
  EXPECT_TRUE(reader.finished());
}

TEST_P(KexAgreement, RespondRejectsEmptyAndTruncatedClientValues) {
  Botan::AutoSeeded_RNG rng;
  auto client = make_kex(GetParam());
  const Bytes client_public = client->generate(rng);
  std::vector<Bytes> bad_values = {Bytes{}};
  // A finite-field DH value one byte short is merely a smaller number.
  if (!GetParam().starts_with("diffie-hellman")) {
    bad_values.emplace_back(client_public.begin(), client_public.end() - 1);
  }
  for (const Bytes& bad : bad_values) {
    auto server = make_kex(GetParam());
    auto reply = server->respond(bad, rng);
    ASSERT_FALSE(reply.ok()) << "accepted " << bad.size() << " bytes";
    EXPECT_EQ(reply.error().reason, DisconnectReason::KeyExchangeFailed);
  }
}

TEST_P(KexAgreement, NamesAnExchangeHash) {
  auto method = make_kex(GetParam());
  ASSERT_NE(method, nullptr);
  const std::string_view hash = method->hash_name();
  EXPECT_TRUE(hash == "SHA-256" || hash == "SHA-384" || hash == "SHA-512") << hash;
  const std::string& name = GetParam();
  if (name.find("sha256") != std::string::npos || name.ends_with("nistp256")) {
    EXPECT_EQ(hash, "SHA-256");
  } else if (name.ends_with("nistp384")) {
    EXPECT_EQ(hash, "SHA-384");
  } else {
    EXPECT_EQ(hash, "SHA-512");
  }
}

TEST_P(KexAgreement, AgreeBeforeGenerateFails) {
  auto method = make_kex(GetParam());
  ASSERT_NE(method, nullptr);
  Botan::AutoSeeded_RNG rng;
  auto peer = make_kex(GetParam());
  expect_kex_failure(method->agree(peer->generate(rng)));
}

TEST_P(KexAgreement, EmptyPeerValueIsRejected) {
  Botan::AutoSeeded_RNG rng;
  auto method = make_kex(GetParam());
  ASSERT_NE(method, nullptr);
  (void)method->generate(rng);
  expect_kex_failure(method->agree({}));
}

INSTANTIATE_TEST_SUITE_P(KexMethods, KexAgreement, testing::ValuesIn(supported_kex()),
                         [](const testing::TestParamInfo<std::string>& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(KexFactory, UnknownNamesGiveNull) {
  EXPECT_EQ(make_kex("diffie-hellman-group1-sha1"), nullptr);
  EXPECT_EQ(make_kex("diffie-hellman-group14-sha1"), nullptr);
  EXPECT_EQ(make_kex("sntrup4591761x25519-sha512@tinyssh.org"), nullptr);
  EXPECT_EQ(make_kex("mlkem768nistp256-sha256"), nullptr);
  EXPECT_EQ(make_kex(""), nullptr);
  EXPECT_EQ(supported_kex().size(), 11U);
}

// ---------------------------------------------------------------------------
// curve25519-sha256

// RFC 7748 section 6.1.
constexpr std::string_view kAlicePrivate =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr std::string_view kAlicePublic =
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
constexpr std::string_view kBobPrivate =
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
constexpr std::string_view kBobPublic =
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
constexpr std::string_view kSharedSecret =
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

TEST(KexCurve25519, Rfc7748KnownAnswerThroughTheInterface) {
  for (const char* name : {"curve25519-sha256", "curve25519-sha256@libssh.org"}) {
    SCOPED_TRACE(name);
    auto alice = make_kex(name);
    auto bob = make_kex(name);
    ASSERT_NE(alice, nullptr);
    ASSERT_NE(bob, nullptr);
    FixedBytesRng alice_rng(from_hex(kAlicePrivate));
    FixedBytesRng bob_rng(from_hex(kBobPrivate));
    EXPECT_EQ(alice->generate(alice_rng), from_hex(kAlicePublic));
    EXPECT_EQ(bob->generate(bob_rng), from_hex(kBobPublic));

    auto alice_k = alice->agree(from_hex(kBobPublic));
    auto bob_k = bob->agree(from_hex(kAlicePublic));
    ASSERT_TRUE(alice_k.ok()) << alice_k.error().message;
    ASSERT_TRUE(bob_k.ok()) << bob_k.error().message;
    const SecureBytes expected = expected_k(from_hex(kSharedSecret));
    EXPECT_EQ(*alice_k, expected);
    EXPECT_EQ(*bob_k, expected);
    // 0x4a has its top bit clear: the mpint is the 32 bytes with no pad.
    EXPECT_EQ(expected.size(), 4U + 32U);
  }
}

TEST(KexCurve25519, SharedSecretWithTopBitSetGetsAZeroPad) {
  // The scalar is fixed; search a few peer keys for a secret whose first byte
  // has the top bit set, and check K has the mpint's leading zero.
  Botan::AutoSeeded_RNG rng;
  for (int attempt = 0; attempt < 64; ++attempt) {
    auto ours = make_kex("curve25519-sha256");
    auto peer = make_kex("curve25519-sha256");
    (void)ours->generate(rng);
    auto k = ours->agree(peer->generate(rng));
    ASSERT_TRUE(k.ok());
    wire::Reader reader(*k);
    const ByteView digits = reader.mpint();
    ASSERT_TRUE(reader.finished());
    if (digits.size() == 33) {
      EXPECT_EQ(digits[0], 0);
      return;
    }
  }
  FAIL() << "no shared secret with the top bit set in 64 tries";
}

TEST(KexCurve25519, LowOrderPeerPointsAreRejected) {
  Botan::AutoSeeded_RNG rng;
  // u = 0 and u = 1 are points of small order: every scalar maps them to the
  // all-zero output (RFC 7748 section 6.1, RFC 8731 section 3).
  Bytes zero(32, 0);
  Bytes one(32, 0);
  one[0] = 1;
  for (const Bytes& point : {zero, one}) {
    auto method = make_kex("curve25519-sha256");
    (void)method->generate(rng);
    expect_kex_failure(method->agree(point));
  }
}

TEST(KexCurve25519, WrongSizedPeerKeyIsRejected) {
  Botan::AutoSeeded_RNG rng;
  auto method = make_kex("curve25519-sha256");
  (void)method->generate(rng);
  expect_kex_failure(method->agree(Bytes(31, 9)));
  expect_kex_failure(method->agree(Bytes(33, 9)));
}

// ---------------------------------------------------------------------------
// ecdh-sha2-nistp*

class KexEcdh : public testing::TestWithParam<const char*> {};

TEST_P(KexEcdh, PublicValueIsAnUncompressedPoint) {
  Botan::AutoSeeded_RNG rng;
  auto method = make_kex(GetParam());
  const Bytes point = method->generate(rng);
  ASSERT_FALSE(point.empty());
  EXPECT_EQ(point[0], 0x04);
  EXPECT_EQ(point.size() % 2, 1U);
}

TEST_P(KexEcdh, OffCurvePointIsRejected) {
  Botan::AutoSeeded_RNG rng;
  auto method = make_kex(GetParam());
  (void)method->generate(rng);
  Bytes point = make_kex(GetParam())->generate(rng);
  point.back() ^= 0x01;  // y no longer matches x
  expect_kex_failure(method->agree(point));
}

TEST_P(KexEcdh, MalformedPointsAreRejected) {
  Botan::AutoSeeded_RNG rng;
  auto method = make_kex(GetParam());
  const Bytes valid = make_kex(GetParam())->generate(rng);
  (void)method->generate(rng);

  expect_kex_failure(method->agree(Bytes{0x00}));  // the point at infinity

  Bytes compressed(valid.begin(), valid.begin() + 1 + (valid.size() - 1) / 2);
  compressed[0] = 0x02 | (valid.back() & 1);
  expect_kex_failure(method->agree(compressed));

  Bytes truncated(valid.begin(), valid.end() - 1);
  expect_kex_failure(method->agree(truncated));

  Bytes wrong_tag = valid;
  wrong_tag[0] = 0x06;  // "hybrid" encoding, not allowed in SSH
  expect_kex_failure(method->agree(wrong_tag));

  Bytes all_zero(valid.size(), 0);
  all_zero[0] = 0x04;
  expect_kex_failure(method->agree(all_zero));

  // The point is still usable after the rejected attempts.
  auto peer = make_kex(GetParam());
  const Bytes peer_public = peer->generate(rng);
  auto k = method->agree(peer_public);
  ASSERT_TRUE(k.ok()) << k.error().message;
}

INSTANTIATE_TEST_SUITE_P(KexCurves, KexEcdh,
                         testing::Values("ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
                                         "ecdh-sha2-nistp521"));

// ---------------------------------------------------------------------------
// diffie-hellman-group*

struct DhCase {
  const char* name;
  const char* botan_group;
};

class KexFiniteFieldDh : public testing::TestWithParam<DhCase> {};

TEST_P(KexFiniteFieldDh, PublicValueIsMinimalPositiveMpintBelowP) {
  Botan::AutoSeeded_RNG rng;
  auto method = make_kex(GetParam().name);
  const Bytes e = method->generate(rng);
  Bytes wrapped;
  wire::Writer writer(wrapped);
  writer.string(e);
  wire::Reader reader(wrapped);
  const ByteView digits = reader.mpint();
  ASSERT_TRUE(reader.finished());
  const Botan::BigInt value(digits.data(), digits.size());
  const Botan::DL_Group group(GetParam().botan_group);
  EXPECT_GT(value, Botan::BigInt(1));
  EXPECT_LT(value, group.get_p() - 1);
}

TEST_P(KexFiniteFieldDh, OutOfRangePeerValuesAreRejected) {
  Botan::AutoSeeded_RNG rng;
  auto method = make_kex(GetParam().name);
  (void)method->generate(rng);
  const Botan::DL_Group group(GetParam().botan_group);
  const Botan::BigInt& p = group.get_p();
  expect_kex_failure(method->agree(dh_value(0)));
  expect_kex_failure(method->agree(dh_value(1)));
  expect_kex_failure(method->agree(dh_value(p - 1)));
  expect_kex_failure(method->agree(dh_value(p)));
  expect_kex_failure(method->agree(dh_value(p + 1)));
  // Boundaries just inside the range are fine.
  EXPECT_TRUE(method->agree(dh_value(2)).ok());
  EXPECT_TRUE(method->agree(dh_value(p - 2)).ok());
}

TEST_P(KexFiniteFieldDh, NonCanonicalMpintsAreRejected) {
  Botan::AutoSeeded_RNG rng;
  auto method = make_kex(GetParam().name);
  (void)method->generate(rng);
  expect_kex_failure(method->agree(Bytes{0x80, 0x01}));  // negative
  expect_kex_failure(method->agree(Bytes{0x00, 0x05}));  // redundant leading zero
}

INSTANTIATE_TEST_SUITE_P(
    KexGroups, KexFiniteFieldDh,
    testing::Values(DhCase{"diffie-hellman-group14-sha256", "modp/ietf/2048"},
                    DhCase{"diffie-hellman-group16-sha512", "modp/ietf/4096"},
                    DhCase{"diffie-hellman-group18-sha512", "modp/ietf/8192"}),
    [](const testing::TestParamInfo<DhCase>& param_info) {
      return std::string(param_info.param.name).substr(std::string("diffie-hellman-").size(), 7);
    });

}  // namespace
}  // namespace ssh::kex
