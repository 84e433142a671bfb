// Shared by the protocol fuzz targets: how an input is cut into messages,
// a deterministic RNG (a crash must replay from its input alone) and a
// fixed host key.
#pragma once

#include <botan/chacha_rng.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/keys/keys.hpp"

namespace fuzz {

// The input as messages: each is a 2-byte big-endian length and that many
// bytes; a length of 0 or past the end stops the list. The high bit of the
// length's first byte is handed back as `flag` (a direction, a role).
struct Message {
  ssh::ByteView bytes;
  bool flag = false;
};

inline std::vector<Message> split_messages(const std::uint8_t* data, std::size_t size) {
  std::vector<Message> messages;
  std::size_t offset = 0;
  while (offset + 2 <= size) {
    const bool flag = (data[offset] & 0x80) != 0;
    const std::size_t length = (std::size_t{data[offset] & 0x7fU} << 8) | data[offset + 1];
    offset += 2;
    if (length == 0 || length > size - offset) break;
    messages.push_back({ssh::ByteView(data + offset, length), flag});
    offset += length;
  }
  return messages;
}

inline Botan::ChaCha_RNG seeded_rng(std::uint8_t seed) {
  const Botan::secure_vector<std::uint8_t> key(32, seed);
  return Botan::ChaCha_RNG(key);
}

// Ed25519, from a fixed seed: the same key in every run.
inline const ssh::keys::PrivateKey& host_key() {
  static const ssh::keys::PrivateKey key = [] {
    auto rng = seeded_rng(7);
    return ssh::keys::PrivateKey::generate("ssh-ed25519", 0, rng).value();
  }();
  return key;
}

}  // namespace fuzz
