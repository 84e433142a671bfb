// Payload compression (RFC 4253 section 6.2): "zlib" from the first NEWKEYS,
// "zlib@openssh.com" (OpenSSH PROTOCOL section 1.3) from the user's
// successful authentication on, so nothing unauthenticated is inflated.
// Each direction is one zlib stream; every payload is flushed on its own
// (Z_PARTIAL_FLUSH) so the peer can decompress each packet as it arrives.
// A stream lasts until the next NEWKEYS in its direction.
#pragma once

#include <memory>
#include <string_view>

#include "ssh/common.hpp"

namespace ssh::transport {

inline constexpr std::string_view kCompressionNone = "none";
inline constexpr std::string_view kCompressionZlib = "zlib";
inline constexpr std::string_view kCompressionDelayedZlib = "zlib@openssh.com";

bool is_compression_method(std::string_view name);

class PayloadCompressor {
 public:
  // Level 1-9 as zlib's; OpenSSH uses 6.
  explicit PayloadCompressor(int level = 6);
  ~PayloadCompressor();
  PayloadCompressor(const PayloadCompressor&) = delete;
  PayloadCompressor& operator=(const PayloadCompressor&) = delete;

  // Replaces `out` with the compressed form of head+tail.
  Status compress(ByteView head, ByteView tail, Bytes& out);
  std::uint64_t bytes_in() const { return bytes_in_; }
  std::uint64_t bytes_out() const { return bytes_out_; }

 private:
  struct Stream;
  std::unique_ptr<Stream> stream_;
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
};

class PayloadDecompressor {
 public:
  PayloadDecompressor();
  ~PayloadDecompressor();
  PayloadDecompressor(const PayloadDecompressor&) = delete;
  PayloadDecompressor& operator=(const PayloadDecompressor&) = delete;

  // Replaces `out` with the decompressed form of `compressed`; a payload
  // that would inflate past max_size, or corrupt data, is a CompressionError.
  Status decompress(ByteView compressed, std::size_t max_size, Bytes& out);

 private:
  struct Stream;
  std::unique_ptr<Stream> stream_;
};

}  // namespace ssh::transport
