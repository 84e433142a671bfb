// The AES-256 CTR_DRBG of NIST's rng.c (randombytes_init / randombytes) that
// generated the PQC known-answer files: no derivation function, no reseeding.
// Test-only: its output is fully determined by the 48-byte seed.
//
// Each randomize() call is one randombytes() call. The state update after
// every call (and the discarded rest of the last block) makes the split of
// requests part of the output, which is why the KEMs draw randomness in the
// reference implementations' amounts.
#pragma once

#include <botan/block_cipher.h>
#include <botan/rng.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace ssh::test {

class NistKatDrbg final : public Botan::RandomNumberGenerator {
 public:
  static constexpr std::size_t kSeedSize = 48;

  // randombytes_init(entropy_input, NULL, 256).
  explicit NistKatDrbg(std::span<const std::uint8_t, kSeedSize> entropy_input);

  // randombytes(output, length).
  void randomize(std::uint8_t output[], std::size_t length) override;

  bool accepts_input() const override { return false; }
  void add_entropy(const std::uint8_t[], std::size_t) override {}
  std::string name() const override { return "NIST-KAT-CTR_DRBG(AES-256)"; }
  void clear() override;
  bool is_seeded() const override { return true; }

 private:
  // AES256_CTR_DRBG_Update: three counter blocks become the new key and V,
  // xored with provided_data (kSeedSize bytes) when given.
  void update(const std::uint8_t* provided_data);
  // V as a 128-bit big-endian counter.
  void increment_counter();

  std::unique_ptr<Botan::BlockCipher> aes_;
  std::array<std::uint8_t, 32> key_{};
  std::array<std::uint8_t, 16> counter_{};
};

}  // namespace ssh::test
