// Private to src/ssh/crypto: the constructors of each packet protection
// construction, called by the name-based factories in cipher.cpp once the
// names and key sizes have been checked, plus small helpers they share.
#pragma once

#include <botan/loadstor.h>
#include <botan/mem_ops.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "ssh/common.hpp"
#include "ssh/crypto/cipher.hpp"

namespace ssh::crypto::detail {

// Every SSH packet starts with its uint32 packet_length.
inline constexpr std::size_t kLengthFieldSize = 4;

inline std::uint32_t load_u32_be(const std::uint8_t* bytes) {
  return Botan::load_be<std::uint32_t>(bytes, 0);
}

// Makes a sealed packet useless if sealing failed halfway (which Botan does
// not do once keyed, but seal() has no way to report it): the peer then sees
// a bad tag instead of a partly encrypted packet.
inline void scrub_failed_seal(MutableByteView packet, MutableByteView tag) {
  Botan::clear_mem(packet.data(), packet.size());
  Botan::clear_mem(tag.data(), tag.size());
}

// chacha20-poly1305@openssh.com; key is the 64 bytes K_2 || K_1.
std::unique_ptr<PacketSealer> make_chacha20_poly1305_sealer(ByteView key);
std::unique_ptr<PacketOpener> make_chacha20_poly1305_opener(ByteView key);

// aes{128,256}-gcm@openssh.com; key is 16 or 32 bytes, iv is 12 bytes.
std::unique_ptr<PacketSealer> make_aes_gcm_sealer(ByteView key, ByteView iv);
std::unique_ptr<PacketOpener> make_aes_gcm_opener(ByteView key, ByteView iv);

// The HMAC variants usable with AES-CTR.
struct HmacSpec {
  std::string_view botan_name;  // e.g. "HMAC(SHA-256)"
  std::size_t key_size = 0;
  std::size_t tag_size = 0;
  bool encrypt_then_mac = false;
};

// aes{128,192,256}-ctr with an HMAC; key is 16, 24 or 32 bytes, iv 16 bytes.
std::unique_ptr<PacketSealer> make_aes_ctr_hmac_sealer(ByteView key, ByteView iv, ByteView mac_key,
                                                       const HmacSpec& mac);
std::unique_ptr<PacketOpener> make_aes_ctr_hmac_opener(ByteView key, ByteView iv, ByteView mac_key,
                                                       const HmacSpec& mac);

}  // namespace ssh::crypto::detail
