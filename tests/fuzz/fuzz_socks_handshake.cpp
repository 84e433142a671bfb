// libFuzzer target: the SOCKS4/4a/5 server handshake of dynamic forwarding
// (src/ssh/socks/socks_handshake.hpp), what any local program that connects
// to a -D port sends. The first byte picks the piece size (1..64) the rest
// arrives in; the same bytes fed at once must reach the same decision, host
// and port (else abort), as long as they fit the handshake bound.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "ssh/socks/socks_handshake.hpp"

namespace {

using ssh::socks::Handshake;

void finish(Handshake& handshake, bool granted) {
  (void)handshake.take_output();
  if (handshake.state() == Handshake::State::Ready) {
    (void)handshake.early_data();
    handshake.reply(granted, Handshake::kConnectionRefused);
    (void)handshake.take_output();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  const ssh::ByteView stream(data + 1, size - 1);

  Handshake in_pieces;
  for (std::size_t offset = 0; offset < stream.size(); offset += piece) {
    const auto state =
        in_pieces.feed(stream.subspan(offset, std::min(piece, stream.size() - offset)));
    if (state != Handshake::State::NeedMore) break;
    (void)in_pieces.take_output();
  }
  Handshake at_once;
  at_once.feed(stream);

  if (stream.size() <= ssh::socks::kMaxHandshakeLength) {
    if (in_pieces.state() != at_once.state()) std::abort();
    if (at_once.state() == Handshake::State::Ready &&
        (in_pieces.host() != at_once.host() || in_pieces.port() != at_once.port() ||
         at_once.host().empty())) {
      std::abort();
    }
  }
  finish(in_pieces, true);
  finish(at_once, false);
  return 0;
}
