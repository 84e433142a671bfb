#include "ssh/transport/compression.hpp"

#include <zlib.h>

#include <stdexcept>
#include <string>

namespace ssh::transport {
namespace {

Error compression_error(std::string message) {
  return {DisconnectReason::CompressionError, std::move(message)};
}

// zlib's counters are uInt; payloads are far below that, but a view's size
// is checked rather than assumed.
constexpr std::size_t kChunk = 16 * 1024;

}  // namespace

bool is_compression_method(std::string_view name) {
  return name == kCompressionNone || name == kCompressionZlib || name == kCompressionDelayedZlib;
}

struct PayloadCompressor::Stream {
  z_stream z{};
  ~Stream() { deflateEnd(&z); }
};

PayloadCompressor::PayloadCompressor(int level) : stream_(std::make_unique<Stream>()) {
  if (deflateInit(&stream_->z, level) != Z_OK) {
    // Only an out-of-memory condition or a bad level; not peer-triggered.
    throw std::runtime_error("zlib: deflateInit failed");
  }
}

PayloadCompressor::~PayloadCompressor() = default;

Status PayloadCompressor::compress(ByteView head, ByteView tail, Bytes& out) {
  out.clear();
  z_stream& z = stream_->z;
  for (ByteView part : {head, tail}) {
    if (part.empty()) continue;
    z.next_in = const_cast<Bytef*>(part.data());  // zlib's API is not const-correct
    z.avail_in = static_cast<uInt>(part.size());
    const bool last = part.data() == tail.data() || tail.empty();
    // Deflate until this part is consumed and, for the last part, until the
    // partial flush is complete (output space left over).
    for (;;) {
      const std::size_t used = out.size();
      out.resize(used + kChunk);
      z.next_out = out.data() + used;
      z.avail_out = static_cast<uInt>(kChunk);
      const int status = deflate(&z, last ? Z_PARTIAL_FLUSH : Z_NO_FLUSH);
      out.resize(used + kChunk - z.avail_out);
      if (status != Z_OK && status != Z_BUF_ERROR) {
        return compression_error("zlib: deflate failed (" + std::to_string(status) + ")");
      }
      if (z.avail_in == 0 && z.avail_out != 0) break;
    }
  }
  bytes_in_ += head.size() + tail.size();
  bytes_out_ += out.size();
  return {};
}

struct PayloadDecompressor::Stream {
  z_stream z{};
  ~Stream() { inflateEnd(&z); }
};

PayloadDecompressor::PayloadDecompressor() : stream_(std::make_unique<Stream>()) {
  if (inflateInit(&stream_->z) != Z_OK) throw std::runtime_error("zlib: inflateInit failed");
}

PayloadDecompressor::~PayloadDecompressor() = default;

Status PayloadDecompressor::decompress(ByteView compressed, std::size_t max_size, Bytes& out) {
  out.clear();
  z_stream& z = stream_->z;
  z.next_in = const_cast<Bytef*>(compressed.data());  // zlib's API is not const-correct
  z.avail_in = static_cast<uInt>(compressed.size());
  for (;;) {
    const std::size_t used = out.size();
    // One byte past the limit tells "exactly at" from "past" apart.
    const std::size_t room = std::min(kChunk, max_size + 1 - used);
    out.resize(used + room);
    z.next_out = out.data() + used;
    z.avail_out = static_cast<uInt>(room);
    const int status = inflate(&z, Z_SYNC_FLUSH);
    out.resize(used + room - z.avail_out);
    if (out.size() > max_size) {
      return compression_error("compressed packet inflates past " + std::to_string(max_size) +
                               " bytes");
    }
    if (status == Z_STREAM_END) {
      return compression_error("peer ended its compression stream");
    }
    if (status != Z_OK && status != Z_BUF_ERROR) {
      return compression_error(std::string("corrupt compressed data (zlib: ") +
                               (z.msg != nullptr ? z.msg : std::to_string(status)) + ")");
    }
    // Done when the input is used up and zlib had output space to spare:
    // everything this packet carried has come out.
    if (z.avail_in == 0 && z.avail_out != 0) break;
    if (status == Z_BUF_ERROR && z.avail_out != 0) {
      return compression_error("compressed packet is truncated");
    }
  }
  return {};
}

}  // namespace ssh::transport
