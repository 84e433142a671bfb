#include "support/nist_kat_drbg.hpp"

#include <botan/mem_ops.h>

#include <algorithm>

namespace ssh::test {

NistKatDrbg::NistKatDrbg(std::span<const std::uint8_t, kSeedSize> entropy_input)
    : aes_(Botan::BlockCipher::create_or_throw("AES-256")) {
  // Key and V start at zero; no personalization string.
  aes_->set_key(key_.data(), key_.size());
  update(entropy_input.data());
}

void NistKatDrbg::increment_counter() {
  for (std::size_t i = counter_.size(); i-- > 0;) {
    if (++counter_[i] != 0) break;
  }
}

void NistKatDrbg::update(const std::uint8_t* provided_data) {
  std::array<std::uint8_t, kSeedSize> blocks{};
  for (std::size_t i = 0; i < 3; ++i) {
    increment_counter();
    aes_->encrypt(counter_.data(), blocks.data() + 16 * i);
  }
  if (provided_data != nullptr) {
    for (std::size_t i = 0; i < blocks.size(); ++i) blocks[i] ^= provided_data[i];
  }
  std::copy_n(blocks.begin(), key_.size(), key_.begin());
  std::copy_n(blocks.begin() + key_.size(), counter_.size(), counter_.begin());
  aes_->set_key(key_.data(), key_.size());
  Botan::secure_scrub_memory(blocks.data(), blocks.size());
}

void NistKatDrbg::randomize(std::uint8_t output[], std::size_t length) {
  std::array<std::uint8_t, 16> block{};
  while (length > 0) {
    increment_counter();
    aes_->encrypt(counter_.data(), block.data());
    const std::size_t taken = std::min(length, block.size());
    std::copy_n(block.begin(), taken, output);
    output += taken;
    length -= taken;
  }
  update(nullptr);
}

void NistKatDrbg::clear() {
  key_.fill(0);
  counter_.fill(0);
  aes_->set_key(key_.data(), key_.size());
}

}  // namespace ssh::test
