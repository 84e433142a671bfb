// The connection-sharing control protocol (docs/connection-sharing.md):
// every message survives encode/decode, frames split at any byte are
// reassembled, and truncated, oversized or unknown input is refused.

#include <gtest/gtest.h>

#include "ssh/control/protocol.hpp"

namespace ssh::control {
namespace {

std::vector<Message> one_of_each() {
  OpenSession session;
  session.command = "uname -a";
  session.want_pty = true;
  session.term = "xterm-256color";
  session.columns = 120;
  session.rows = 40;
  session.width_pixels = 960;
  session.height_pixels = 640;
  session.terminal_modes = {53, 0, 0, 0, 1, 0};
  session.environment = {{"LANG", "C.UTF-8"}, {"EMPTY", ""}};
  return {
      Hello{7},
      Check{},
      ExitMaster{},
      Forward{config::ForwardKind::Local, "8080:localhost:80"},
      Forward{config::ForwardKind::Remote, "/run/a.sock:/tmp/b.sock"},
      CancelForward{config::ForwardKind::Dynamic, "1080"},
      session,
      OpenSession{},
      Ok{"127.0.0.1:43210"},
      Failure{"no such forward"},
      Alive{4242},
      SessionOpened{},
      Data{Bytes{0, 1, 2, 255}},
      Data{},
      Stderr{Bytes(kMaxDataChunk, 0x41)},
      Eof{},
      WindowChange{80, 24, 0, 0},
      Signal{"TERM"},
      ExitStatus{3},
      ExitSignal{"KILL", true, "killed"},
      Closed{},
  };
}

Bytes body_of(const Message& message) {
  const Bytes frame = encode(message);
  return Bytes(frame.begin() + kLengthPrefixSize, frame.end());
}

TEST(ControlProtocolTest, EveryMessageRoundTrips) {
  for (const auto& message : one_of_each()) {
    const Bytes frame = encode(message);
    auto length = decode_length(ByteView(frame).first(kLengthPrefixSize));
    ASSERT_TRUE(length.ok()) << length.error().message;
    EXPECT_EQ(*length, frame.size() - kLengthPrefixSize);
    auto decoded = decode_body(body_of(message));
    ASSERT_TRUE(decoded.ok()) << "type index " << message.index() << ": "
                              << decoded.error().message;
    EXPECT_EQ(*decoded, message) << "type index " << message.index();
  }
}

TEST(ControlProtocolTest, FrameDecoderReassemblesByteByByte) {
  const auto messages = one_of_each();
  Bytes stream;
  for (const auto& message : messages) {
    const Bytes frame = encode(message);
    stream.insert(stream.end(), frame.begin(), frame.end());
  }
  FrameDecoder decoder;
  std::vector<Message> decoded;
  for (std::uint8_t byte : stream) {
    decoder.feed(ByteView(&byte, 1));
    for (;;) {
      auto next = decoder.next();
      ASSERT_TRUE(next.ok()) << next.error().message;
      if (!next->has_value()) break;
      decoded.push_back(std::move(**next));
    }
  }
  EXPECT_EQ(decoded, messages);
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(ControlProtocolTest, EveryTruncationIsRefused) {
  for (const auto& message : one_of_each()) {
    const Bytes body = body_of(message);
    for (std::size_t cut = 0; cut < body.size(); ++cut) {
      // Some cuts of a data chunk leave a valid shorter message only if the
      // string length were re-encoded; a cut body never decodes.
      auto decoded = decode_body(ByteView(body).first(cut));
      EXPECT_FALSE(decoded.ok()) << "type index " << message.index() << " cut at " << cut;
    }
  }
}

TEST(ControlProtocolTest, TrailingBytesAreRefused) {
  for (const auto& message : one_of_each()) {
    Bytes body = body_of(message);
    body.push_back(0);
    EXPECT_FALSE(decode_body(body).ok()) << "type index " << message.index();
  }
}

TEST(ControlProtocolTest, OversizedAndEmptyLengthsAreRefused) {
  const Bytes too_large = {0x00, 0x04, 0x00, 0x01};  // 256 KiB + 1
  EXPECT_FALSE(decode_length(too_large).ok());
  const Bytes largest = {0x00, 0x04, 0x00, 0x00};
  EXPECT_EQ(*decode_length(largest), kMaxMessageSize);
  const Bytes empty = {0, 0, 0, 0};
  EXPECT_FALSE(decode_length(empty).ok());
  const Bytes huge = {0xff, 0xff, 0xff, 0xff};
  FrameDecoder decoder;
  decoder.feed(huge);
  auto next = decoder.next();
  EXPECT_FALSE(next.ok());
  // An error is final, even if good bytes follow.
  decoder.feed(encode(Check{}));
  EXPECT_FALSE(decoder.next().ok());
}

TEST(ControlProtocolTest, OversizedDataAndEnvironmentAndUnknownTypesAreRefused) {
  // At the limits: the largest chunk and the most variables decode.
  auto largest_chunk = decode_body(body_of(Data{Bytes(kMaxDataChunk, 0)}));
  ASSERT_TRUE(largest_chunk.ok()) << largest_chunk.error().message;
  EXPECT_EQ(std::get<Data>(*largest_chunk).bytes.size(), kMaxDataChunk);
  OpenSession full;
  for (std::size_t i = 0; i < kMaxEnvironment; ++i) full.environment.emplace_back("V", "x");
  auto full_decoded = decode_body(body_of(full));
  ASSERT_TRUE(full_decoded.ok()) << full_decoded.error().message;
  EXPECT_EQ(std::get<OpenSession>(*full_decoded).environment.size(), kMaxEnvironment);
  // One past them.
  EXPECT_FALSE(decode_body(body_of(Data{Bytes(kMaxDataChunk + 1, 0)})).ok());
  OpenSession crowded = full;
  crowded.environment.emplace_back("V", "x");
  EXPECT_FALSE(decode_body(body_of(crowded)).ok());
  // A count far beyond the bytes present is refused without allocating.
  Bytes lying = body_of(OpenSession{});
  lying[lying.size() - 4] = 0x7f;
  EXPECT_FALSE(decode_body(lying).ok());
  const Bytes unknown = {99};
  EXPECT_FALSE(decode_body(unknown).ok());
  const Bytes bad_kind = {4, 9, 0, 0, 0, 0};
  EXPECT_FALSE(decode_body(bad_kind).ok());
}

}  // namespace
}  // namespace ssh::control
