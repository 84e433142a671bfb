// Packet protection: one object per direction, created from the negotiated
// cipher and MAC names and the keys derived after a key exchange.
//
// Three shapes exist on the wire and all fit this interface:
//  - AEAD (chacha20-poly1305@openssh.com, aes*-gcm@openssh.com): the packet
//    length is additional data (GCM: sent in clear; ChaCha: encrypted with its
//    own key), padding aligns the part after the length field;
//  - encrypt-then-MAC (*-etm@openssh.com): length in clear, MAC over the
//    ciphertext, padding aligns the part after the length field;
//  - encrypt-and-MAC (RFC 4253): the whole packet is encrypted, MAC over the
//    plaintext, padding aligns the whole packet including its length.
// All work is done in place: no allocation per packet.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/common.hpp"

namespace ssh::crypto {

struct DirectionKeys {
  SecureBytes iv;
  SecureBytes cipher_key;
  SecureBytes mac_key;
};

// How much key material a (cipher, MAC) pair needs; the MAC is ignored for
// AEAD ciphers. Returns nullopt for unknown names.
struct KeySizes {
  std::size_t iv = 0;
  std::size_t cipher_key = 0;
  std::size_t mac_key = 0;
  bool aead = false;
};
std::optional<KeySizes> key_sizes(std::string_view cipher, std::string_view mac);

bool is_aead_cipher(std::string_view cipher);
// Names we implement, in no particular order (policy orders them).
const std::vector<std::string>& supported_ciphers();
const std::vector<std::string>& supported_macs();

class PacketSealer {
 public:
  virtual ~PacketSealer() = default;
  // Padding makes the aligned region a multiple of this (at least 8).
  virtual std::size_t block_size() const = 0;
  // True when the 4-byte length field is outside the aligned region.
  virtual bool length_outside_alignment() const = 0;
  virtual std::size_t tag_size() const = 0;
  // packet is [uint32 packet_length][byte padding_length][payload][padding]
  // in plaintext; it is encrypted in place and tag_size() bytes written to tag.
  virtual void seal(std::uint32_t sequence, MutableByteView packet, MutableByteView tag) = 0;
};

class PacketOpener {
 public:
  virtual ~PacketOpener() = default;
  virtual std::size_t block_size() const = 0;
  virtual bool length_outside_alignment() const = 0;
  virtual std::size_t tag_size() const = 0;
  // Bytes needed from the start of a packet to learn its length: 4 when the
  // length is additional data, one cipher block otherwise.
  virtual std::size_t length_prefix_size() const = 0;
  // Returns the packet_length field. May decrypt the prefix in place
  // (encrypt-and-MAC modes); must leave it as received otherwise.
  virtual std::uint32_t decrypt_length(std::uint32_t sequence, MutableByteView prefix) = 0;
  // packet is the whole packet (4 + packet_length bytes) after
  // decrypt_length; tag is what followed it. Verifies and decrypts in place:
  // afterwards packet holds the plaintext, length field included. Returns
  // false when authentication fails (the contents are then unspecified).
  virtual bool open(std::uint32_t sequence, MutableByteView packet, ByteView tag) = 0;
};

// "none" protection used before the first NEWKEYS.
std::unique_ptr<PacketSealer> make_plain_sealer();
std::unique_ptr<PacketOpener> make_plain_opener();

// Returns nullptr for unknown names or wrong key sizes.
std::unique_ptr<PacketSealer> make_sealer(std::string_view cipher, std::string_view mac,
                                          const DirectionKeys& keys);
std::unique_ptr<PacketOpener> make_opener(std::string_view cipher, std::string_view mac,
                                          const DirectionKeys& keys);

// Whether this CPU has AES instructions (AES-GCM is then preferred).
bool cpu_has_aes();

}  // namespace ssh::crypto
