// libFuzzer target: packet decompression (zlib, zlib@openssh.com). The input
// is a list of packets (fuzz_input.hpp) inflated by one stream with the
// payload limit, as the transport does; every packet is also compressed and
// inflated again by a second pair of streams, which must give it back.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz_input.hpp"
#include "ssh/limits.hpp"
#include "ssh/transport/compression.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ssh::transport::PayloadDecompressor hostile;
  ssh::transport::PayloadCompressor compressor;
  ssh::transport::PayloadDecompressor decompressor;
  ssh::Bytes out;
  ssh::Bytes compressed;
  ssh::Bytes round_trip;
  bool hostile_stream_alive = true;
  for (const auto& message : fuzz::split_messages(data, size)) {
    if (hostile_stream_alive) {
      const auto status =
          hostile.decompress(message.bytes, ssh::limits::kMaxDecompressedPayload, out);
      if (status && out.size() > ssh::limits::kMaxDecompressedPayload) __builtin_trap();
      // After an error the transport closes; the stream is not used again.
      hostile_stream_alive = status.ok();
    }
    const std::size_t split = message.flag ? message.bytes.size() / 2 : 0;
    if (!compressor.compress(message.bytes.first(split), message.bytes.subspan(split),
                             compressed)) {
      __builtin_trap();
    }
    if (!decompressor.decompress(compressed, ssh::limits::kMaxDecompressedPayload, round_trip) ||
        round_trip.size() != message.bytes.size() ||
        std::memcmp(round_trip.data(), message.bytes.data(), round_trip.size()) != 0) {
      __builtin_trap();
    }
  }
  return 0;
}
