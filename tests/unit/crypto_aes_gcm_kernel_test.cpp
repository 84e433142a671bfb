// Tests of the AES-NI/PCLMUL AES-GCM kernel (src/ssh/crypto/aes_gcm_kernel.*)
// that carries aes{128,256}-gcm@openssh.com packets when the CPU allows:
//  - the McGrew-Viega GCM test cases with 96-bit IVs (1-4 for AES-128,
//    13-16 for AES-256; the same values as NIST SP 800-38D's GCM vectors);
//  - agreement with Botan's GCM on random keys, nonces, additional data and
//    bodies of every length around the 8-block and 1-block boundaries;
//  - a flipped bit anywhere (tag, body, additional data, nonce) fails open().
#include <botan/aead.h>
#include <botan/auto_rng.h>
#include <botan/cpuid.h>
#include <botan/hex.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ssh/crypto/aes_gcm_kernel.hpp"

namespace ssh::crypto::detail {
namespace {

Bytes from_hex(std::string_view hex) {
  const auto decoded = Botan::hex_decode(std::string(hex));
  return Bytes(decoded.begin(), decoded.end());
}

Bytes random_bytes(Botan::RandomNumberGenerator& rng, std::size_t size) {
  Bytes bytes(size);
  rng.randomize(bytes.data(), bytes.size());
  return bytes;
}

std::string to_hex(ByteView bytes) {
  return Botan::hex_encode(bytes.data(), bytes.size(), false);
}

bool cpu_has_kernel_instructions() {
#if defined(__x86_64__) || defined(__i386__)
  return Botan::CPUID::has_aes_ni() && Botan::CPUID::has_clmul() && Botan::CPUID::has_ssse3() &&
         Botan::CPUID::has_sse41();
#else
  return false;
#endif
}

// The kernel exists exactly when the CPU has the instructions; where it does
// not, the packet code falls back to Botan (covered by crypto_cipher_test).
std::unique_ptr<AesGcmKernel> kernel_or_expect_fallback(ByteView key) {
  auto kernel = make_aes_gcm_kernel(key);
  EXPECT_EQ(kernel != nullptr, cpu_has_kernel_instructions());
  return kernel;
}

TEST(AesGcmKernel, AvailableExactlyWithAesNiAndClmul) {
  const Bytes key(16, 0);
  EXPECT_EQ(make_aes_gcm_kernel(key) != nullptr, cpu_has_kernel_instructions());
  EXPECT_EQ(make_aes_gcm_kernel(Bytes(24, 0)), nullptr) << "AES-192 is not an SSH GCM cipher";
  EXPECT_EQ(make_aes_gcm_kernel(Bytes(15, 0)), nullptr);
}

struct SpecCase {
  std::string_view name;
  std::string_view key;
  std::string_view nonce;
  std::string_view plaintext;
  std::string_view aad;
  std::string_view ciphertext;
  std::string_view tag;
};

constexpr std::string_view kCase3Plaintext =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
constexpr std::string_view kCase4Plaintext =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
constexpr std::string_view kCase4Aad = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
constexpr std::string_view kZeroNonce = "000000000000000000000000";
constexpr std::string_view kNonce = "cafebabefacedbaddecaf888";
constexpr std::string_view kKey128 = "feffe9928665731c6d6a8f9467308308";
constexpr std::string_view kKey256 =
    "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
constexpr std::string_view kZeroKey128 = "00000000000000000000000000000000";
constexpr std::string_view kZeroKey256 =
    "0000000000000000000000000000000000000000000000000000000000000000";

const SpecCase kSpecCases[] = {
    {"1", kZeroKey128, kZeroNonce, "", "", "", "58e2fccefa7e3061367f1d57a4e7455a"},
    {"2", kZeroKey128, kZeroNonce, "00000000000000000000000000000000", "",
     "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf"},
    {"3", kKey128, kNonce, kCase3Plaintext, "",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"4", kKey128, kNonce, kCase4Plaintext, kCase4Aad,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"13", kZeroKey256, kZeroNonce, "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"14", kZeroKey256, kZeroNonce, "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"15", kKey256, kNonce, kCase3Plaintext, "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"16", kKey256, kNonce, kCase4Plaintext, kCase4Aad,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(AesGcmKernel, McGrewViegaTestCases) {
  for (const SpecCase& test : kSpecCases) {
    SCOPED_TRACE("test case " + std::string(test.name));
    auto kernel = kernel_or_expect_fallback(from_hex(test.key));
    if (!kernel) return;  // expected above: no kernel on this CPU
    const Bytes nonce = from_hex(test.nonce);
    const Bytes aad = from_hex(test.aad);
    Bytes body = from_hex(test.plaintext);
    Bytes tag(kGcmTagSize);
    kernel->seal(nonce.data(), aad, body, tag.data());
    EXPECT_EQ(to_hex(body), test.ciphertext);
    EXPECT_EQ(to_hex(tag), test.tag);

    ASSERT_TRUE(kernel->open(nonce.data(), aad, body, tag.data()));
    EXPECT_EQ(to_hex(body), test.plaintext);
  }
}

struct BotanGcmResult {
  Bytes ciphertext;
  Bytes tag;
};

BotanGcmResult botan_seal(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext) {
  auto gcm = Botan::AEAD_Mode::create_or_throw("AES-" + std::to_string(key.size() * 8) + "/GCM",
                                               Botan::ENCRYPTION);
  gcm->set_key(key.data(), key.size());
  gcm->set_associated_data(aad.data(), aad.size());
  gcm->start(nonce.data(), nonce.size());
  Botan::secure_vector<std::uint8_t> buffer(plaintext.begin(), plaintext.end());
  gcm->finish(buffer);
  BotanGcmResult result;
  result.ciphertext.assign(buffer.begin(), buffer.end() - kGcmTagSize);
  result.tag.assign(buffer.end() - kGcmTagSize, buffer.end());
  return result;
}

TEST(AesGcmKernel, AgreesWithBotanOnRandomInputs) {
  Botan::AutoSeeded_RNG rng;
  std::vector<std::size_t> sizes;
  for (std::size_t size = 0; size <= 300; ++size) sizes.push_back(size);
  for (std::size_t size : {1000u, 4095u, 32768u, 32768u + 16u, 35000u, 65536u, 262144u}) {
    sizes.push_back(size);
  }
  const std::size_t aad_sizes[] = {0, 4, 13, 16, 20, 33};
  std::size_t case_index = 0;
  for (std::size_t key_size : {16u, 32u}) {
    for (std::size_t size : sizes) {
      const std::size_t aad_size = aad_sizes[case_index++ % std::size(aad_sizes)];
      SCOPED_TRACE("key " + std::to_string(key_size) + " body " + std::to_string(size) + " aad " +
                   std::to_string(aad_size));
      const Bytes key = random_bytes(rng, key_size);
      const Bytes nonce = random_bytes(rng, kGcmNonceSize);
      const Bytes aad = random_bytes(rng, aad_size);
      const Bytes plaintext = random_bytes(rng, size);
      auto kernel = kernel_or_expect_fallback(key);
      if (!kernel) return;  // expected above: no kernel on this CPU
      const BotanGcmResult expected = botan_seal(key, nonce, aad, plaintext);

      Bytes body = plaintext;
      Bytes tag(kGcmTagSize);
      kernel->seal(nonce.data(), aad, body, tag.data());
      ASSERT_EQ(body, expected.ciphertext);
      ASSERT_EQ(tag, expected.tag);
      ASSERT_TRUE(kernel->open(nonce.data(), aad, body, tag.data()));
      ASSERT_EQ(body, plaintext);
    }
  }
}

TEST(AesGcmKernel, AnyFlippedBitFailsOpen) {
  Botan::AutoSeeded_RNG rng;
  const Bytes key = random_bytes(rng, 16);
  auto kernel = kernel_or_expect_fallback(key);
  if (!kernel) return;  // expected above: no kernel on this CPU
  const Bytes nonce = random_bytes(rng, kGcmNonceSize);
  const Bytes aad = from_hex("00000090");
  const Bytes plaintext = random_bytes(rng, 0x90);
  Bytes sealed = plaintext;
  Bytes tag(kGcmTagSize);
  kernel->seal(nonce.data(), aad, sealed, tag.data());

  const auto opens = [&](Bytes n, Bytes a, Bytes body, Bytes t) {
    return kernel->open(n.data(), a, body, t.data());
  };
  EXPECT_TRUE(opens(nonce, aad, sealed, tag));
  for (std::size_t bit = 0; bit < tag.size() * 8; bit += 7) {
    Bytes bad = tag;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(opens(nonce, aad, sealed, bad)) << "tag bit " << bit;
  }
  for (std::size_t bit = 0; bit < sealed.size() * 8; bit += 13) {
    Bytes bad = sealed;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(opens(nonce, aad, bad, tag)) << "body bit " << bit;
  }
  for (std::size_t bit = 0; bit < aad.size() * 8; ++bit) {
    Bytes bad = aad;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(opens(nonce, bad, sealed, tag)) << "aad bit " << bit;
  }
  Bytes other_nonce = nonce;
  other_nonce[11] ^= 1;
  EXPECT_FALSE(opens(other_nonce, aad, sealed, tag));
}

}  // namespace
}  // namespace ssh::crypto::detail
