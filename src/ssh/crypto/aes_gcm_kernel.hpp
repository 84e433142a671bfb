// Private to src/ssh/crypto: AES-GCM (NIST SP 800-38D, 96-bit IVs only)
// done with the CPU's AES and carry-less multiply instructions, for the
// packet path of aes{128,256}-gcm@openssh.com. Botan 2.19's GCM makes one
// pass for the keystream, one for the XOR and one for GHASH; this kernel
// does all three in a single pass over eight blocks at a time (seal+open of
// 32 KiB packets: ~1.34 GB/s vs Botan's ~1.04 GB/s in micro_bench under
// load; its share of the client's CPU on uploads fell from 25% to 12%).
//
// make_aes_gcm_kernel() returns nullptr when the CPU lacks the instructions
// (or the build is not for x86); callers then use Botan's GCM.
#pragma once

#include <cstdint>
#include <memory>

#include "ssh/common.hpp"

namespace ssh::crypto::detail {

inline constexpr std::size_t kGcmNonceSize = 12;
inline constexpr std::size_t kGcmTagSize = 16;

class AesGcmKernel {
 public:
  virtual ~AesGcmKernel() = default;
  // Encrypts body in place and writes the 16-byte tag over aad || body.
  virtual void seal(const std::uint8_t* nonce, ByteView aad, MutableByteView body,
                    std::uint8_t* tag) = 0;
  // Decrypts body in place; false (body then holds garbage the caller must
  // drop) when the tag does not match. The tag is compared in constant time.
  virtual bool open(const std::uint8_t* nonce, ByteView aad, MutableByteView body,
                    const std::uint8_t* tag) = 0;
};

// key is 16 or 32 bytes; nullptr for other sizes or without CPU support.
std::unique_ptr<AesGcmKernel> make_aes_gcm_kernel(ByteView key);

}  // namespace ssh::crypto::detail
