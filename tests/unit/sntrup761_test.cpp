#include "ssh/kex/sntrup761.hpp"

#include <botan/auto_rng.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>

#include "support/nist_kat_drbg.hpp"

namespace ssh::kex::sntrup761 {
namespace {

using ssh::test::NistKatDrbg;

// Published digests of the NIST-format known answers of the sntrup761
// reference implementation (data, not code): PQClean's
// crypto_kem/sntrup761/META.yml "nistkat-sha256" and liboqs'
// tests/KATs/kem/kats.json "single" are the SHA-256 of record count 0 as its
// nistkat tools print it; liboqs' "all" is the SHA-256 of all 100 records
// of the .rsp file, separated by blank lines (no header line, no blank line
// at the end).
constexpr const char* kFirstRecordSha256 =
    "AFC42C3A5B10F4EF69654250097EBDA9B9564570F4086744B24A6DAF2BD1F89A";
constexpr const char* kAllRecordsSha256 =
    "36E1E53D4E6E295E8FB804449958AD9A3719AA350E91933C65791B9117382D57";
// Every NIST PQC KEM KAT file starts with this seed (the DRBG seeded with
// bytes 0..47, first 48 bytes).
constexpr const char* kFirstSeed =
    "061550234D158C5EC95595FE04EF7A25767F2E24CC2BC479D09D86DC9ABCFDE7"
    "056A8C266F9EF97ED08541DBD2E1FFA1";

std::string sha256_hex(const std::string& text) {
  auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
  sha256->update(text);
  return Botan::hex_encode(sha256->final());
}

// As NIST's PQCgenKAT_kem.c: a master DRBG seeded with 0..47 hands out one
// 48-byte seed per record; each record reseeds the DRBG with its seed and
// runs key generation, encapsulation and decapsulation, the last of which
// must agree.
class KatGenerator {
 public:
  KatGenerator() : master_(entropy()) {}

  // One record in the .rsp text format (upper-case hex), without the blank
  // line that separates records in the file.
  std::string next_record(int count) {
    std::array<std::uint8_t, NistKatDrbg::kSeedSize> seed{};
    master_.randomize(seed.data(), seed.size());
    NistKatDrbg drbg(seed);
    const KeyPair pair = generate_key_pair(drbg);
    auto encapsulation = encapsulate(pair.public_key, drbg);
    EXPECT_TRUE(encapsulation.ok());
    if (!encapsulation.ok()) return {};
    auto decapsulated = decapsulate(pair.secret_key, encapsulation->ciphertext);
    EXPECT_TRUE(decapsulated.ok());
    if (decapsulated.ok()) {
      EXPECT_EQ(Botan::hex_encode(*decapsulated), Botan::hex_encode(encapsulation->shared_secret))
          << "count " << count;
    }
    return "count = " + std::to_string(count) +
           "\nseed = " + Botan::hex_encode(seed.data(), seed.size()) +
           "\npk = " + Botan::hex_encode(pair.public_key) +
           "\nsk = " + Botan::hex_encode(pair.secret_key) +
           "\nct = " + Botan::hex_encode(encapsulation->ciphertext) +
           "\nss = " + Botan::hex_encode(encapsulation->shared_secret) + "\n";
  }

 private:
  static std::array<std::uint8_t, NistKatDrbg::kSeedSize> entropy() {
    std::array<std::uint8_t, NistKatDrbg::kSeedSize> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i);
    return bytes;
  }

  NistKatDrbg master_;
};

TEST(Sntrup761Kat, DrbgGivesTheFirstPublishedSeed) {
  std::array<std::uint8_t, NistKatDrbg::kSeedSize> entropy{};
  for (std::size_t i = 0; i < entropy.size(); ++i) entropy[i] = static_cast<std::uint8_t>(i);
  NistKatDrbg drbg(entropy);
  std::array<std::uint8_t, NistKatDrbg::kSeedSize> seed{};
  drbg.randomize(seed.data(), seed.size());
  EXPECT_EQ(Botan::hex_encode(seed.data(), seed.size()), kFirstSeed);
}

TEST(Sntrup761Kat, FirstRecordMatchesPublishedDigest) {
  KatGenerator generator;
  const std::string record = generator.next_record(0);
  EXPECT_EQ(record.substr(0, 27),
            std::string("count = 0\nseed = ") + std::string(kFirstSeed).substr(0, 10));
  EXPECT_EQ(sha256_hex(record), kFirstRecordSha256);
}

TEST(Sntrup761Kat, AllHundredRecordsMatchPublishedDigest) {
  KatGenerator generator;
  std::string file;
  for (int count = 0; count < 100; ++count) {
    if (count > 0) file += "\n";
    file += generator.next_record(count);
  }
  EXPECT_EQ(sha256_hex(file), kAllRecordsSha256);
}

TEST(Sntrup761, SizesAreTheSpecs) {
  Botan::AutoSeeded_RNG rng;
  const KeyPair pair = generate_key_pair(rng);
  EXPECT_EQ(pair.public_key.size(), kPublicKeySize);
  EXPECT_EQ(pair.secret_key.size(), kSecretKeySize);
  auto encapsulation = encapsulate(pair.public_key, rng);
  ASSERT_TRUE(encapsulation.ok());
  EXPECT_EQ(encapsulation->ciphertext.size(), kCiphertextSize);
  EXPECT_EQ(encapsulation->shared_secret.size(), kSharedSecretSize);
}

TEST(Sntrup761, RoundTripWithRealRandomness) {
  Botan::AutoSeeded_RNG rng;
  for (int i = 0; i < 5; ++i) {
    const KeyPair pair = generate_key_pair(rng);
    auto encapsulation = encapsulate(pair.public_key, rng);
    ASSERT_TRUE(encapsulation.ok());
    auto decapsulated = decapsulate(pair.secret_key, encapsulation->ciphertext);
    ASSERT_TRUE(decapsulated.ok());
    EXPECT_EQ(*decapsulated, encapsulation->shared_secret);
  }
}

// Implicit rejection (spec): a ciphertext that does not re-encrypt to itself
// yields Hash_prefix(0, Hash_prefix(3, rho) || ciphertext), rho being the
// random bytes stored in the secret key after the public key.
SecureBytes rejection_key(const SecureBytes& secret_key, const Bytes& ciphertext) {
  constexpr std::size_t kSmallBytes = 191;
  constexpr std::size_t kRhoOffset = 2 * kSmallBytes + kPublicKeySize;
  auto sha512 = Botan::HashFunction::create_or_throw("SHA-512");
  sha512->update(3);
  sha512->update(secret_key.data() + kRhoOffset, kSmallBytes);
  const SecureBytes rho_hash = sha512->final();
  sha512->update(0);
  sha512->update(rho_hash.data(), 32);
  sha512->update(ciphertext);
  SecureBytes key = sha512->final();
  key.resize(32);
  return key;
}

TEST(Sntrup761, ModifiedCiphertextGivesTheRhoBasedKey) {
  Botan::AutoSeeded_RNG rng;
  const KeyPair pair = generate_key_pair(rng);
  auto encapsulation = encapsulate(pair.public_key, rng);
  ASSERT_TRUE(encapsulation.ok());
  // One flip in the rounded part, one in the confirmation hash.
  for (std::size_t position : {std::size_t{10}, kCiphertextSize - 1}) {
    Bytes modified = encapsulation->ciphertext;
    modified[position] ^= 0x01;
    auto decapsulated = decapsulate(pair.secret_key, modified);
    ASSERT_TRUE(decapsulated.ok());
    EXPECT_NE(*decapsulated, encapsulation->shared_secret) << "position " << position;
    EXPECT_EQ(*decapsulated, rejection_key(pair.secret_key, modified)) << "position " << position;
  }
  // The genuine ciphertext does not take the rejection path.
  EXPECT_NE(encapsulation->shared_secret,
            rejection_key(pair.secret_key, encapsulation->ciphertext));
}

// Bytes that are no encoding of a rounded polynomial still decode (every
// value is reduced mod its range), and take the rejection path.
TEST(Sntrup761, ArbitraryCiphertextBytesGiveTheRhoBasedKey) {
  Botan::AutoSeeded_RNG rng;
  const KeyPair pair = generate_key_pair(rng);
  Bytes random_bytes(kCiphertextSize);
  rng.randomize(random_bytes.data(), random_bytes.size());
  for (const Bytes& ciphertext :
       {Bytes(kCiphertextSize, 0x00), Bytes(kCiphertextSize, 0xff), random_bytes}) {
    auto decapsulated = decapsulate(pair.secret_key, ciphertext);
    ASSERT_TRUE(decapsulated.ok());
    EXPECT_EQ(*decapsulated, rejection_key(pair.secret_key, ciphertext));
  }
}

TEST(Sntrup761, WrongLengthsAreRefused) {
  Botan::AutoSeeded_RNG rng;
  const KeyPair pair = generate_key_pair(rng);
  auto encapsulation = encapsulate(pair.public_key, rng);
  ASSERT_TRUE(encapsulation.ok());

  const Bytes short_public_key(pair.public_key.begin(), pair.public_key.end() - 1);
  auto refused_encapsulation = encapsulate(short_public_key, rng);
  ASSERT_FALSE(refused_encapsulation.ok());
  EXPECT_EQ(refused_encapsulation.error().reason, DisconnectReason::KeyExchangeFailed);

  Bytes long_public_key = pair.public_key;
  long_public_key.push_back(0);
  EXPECT_FALSE(encapsulate(long_public_key, rng).ok());

  Bytes long_ciphertext = encapsulation->ciphertext;
  long_ciphertext.push_back(0);
  auto refused_ciphertext = decapsulate(pair.secret_key, long_ciphertext);
  ASSERT_FALSE(refused_ciphertext.ok());
  EXPECT_EQ(refused_ciphertext.error().reason, DisconnectReason::KeyExchangeFailed);
  EXPECT_FALSE(decapsulate(pair.secret_key, ByteView{}).ok());

  const SecureBytes short_secret_key(pair.secret_key.begin(), pair.secret_key.end() - 1);
  auto refused_secret_key = decapsulate(short_secret_key, encapsulation->ciphertext);
  ASSERT_FALSE(refused_secret_key.ok());
  EXPECT_EQ(refused_secret_key.error().reason, DisconnectReason::KeyExchangeFailed);
}

}  // namespace
}  // namespace ssh::kex::sntrup761
