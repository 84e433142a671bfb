// libFuzzer target: the connection-sharing control protocol
// (src/ssh/control/protocol.hpp), what a master reads from any local
// process that connects to its socket. The input is a byte stream cut in
// pieces of 1..64 bytes (sizes from the input's first byte) fed to a
// FrameDecoder; each decoded message must re-encode to a frame that
// decodes to the same message (else abort). The whole input is also tried
// as one body.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "ssh/control/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  const ssh::ByteView stream(data + 1, size - 1);
  (void)ssh::control::decode_body(stream);

  ssh::control::FrameDecoder decoder;
  for (std::size_t offset = 0; offset < stream.size(); offset += piece) {
    decoder.feed(stream.subspan(offset, std::min(piece, stream.size() - offset)));
    for (;;) {
      auto next = decoder.next();
      if (!next) return 0;
      if (!next->has_value()) break;
      const ssh::Bytes frame = ssh::control::encode(**next);
      ssh::control::FrameDecoder again;
      again.feed(frame);
      auto round_trip = again.next();
      if (!round_trip || !round_trip->has_value() || **round_trip != **next) __builtin_trap();
    }
  }
  return 0;
}
