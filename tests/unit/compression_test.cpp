// Payload compression: the zlib stream per direction (compression.hpp), and
// the transport starting it at NEWKEYS ("zlib") or at the user's
// authentication ("zlib@openssh.com"). Interop with OpenSSH is in
// tests/interop/compression_interop_test.cpp.
#include "ssh/transport/compression.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "ssh/limits.hpp"
#include "ssh/transport/algorithms.hpp"
#include "ssh/transport/transport.hpp"
#include "ssh/wire/message_numbers.hpp"
#include "support/transport_pair.hpp"

namespace ssh::transport {
namespace {

using testing_support::cached_host_key;
using testing_support::client_transport_config;
using testing_support::server_transport_config;
using testing_support::TransportPair;

constexpr std::uint8_t kChannelData = 94;

Bytes compressible(std::size_t size, char salt) {
  Bytes payload(size);
  payload[0] = kChannelData;
  const std::string line =
      std::string("the quick brown fox jumps over the lazy dog ") + salt + "\n";
  for (std::size_t i = 1; i < size; ++i)
    payload[i] = static_cast<std::uint8_t>(line[i % line.size()]);
  return payload;
}

Bytes random_bytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 random(seed);
  Bytes payload(size);
  for (auto& byte : payload) byte = static_cast<std::uint8_t>(random());
  payload[0] = kChannelData;
  return payload;
}

TEST(PayloadCompression, StreamRoundTripsEachPayloadAsItArrives) {
  PayloadCompressor compressor;
  PayloadDecompressor decompressor;
  std::vector<Bytes> payloads = {compressible(1, 'a'), compressible(100000, 'b'),
                                 random_bytes(70000, 1), Bytes{kChannelData, 0, 1},
                                 compressible(limits::kMaxDecompressedPayload, 'c')};
  Bytes compressed;
  Bytes decompressed;
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    // The payload may come as head and tail (header, then data).
    const ByteView whole(payloads[i]);
    const std::size_t split = whole.size() / 3;
    ASSERT_TRUE(compressor.compress(whole.first(split), whole.subspan(split), compressed).ok());
    ASSERT_TRUE(
        decompressor.decompress(compressed, limits::kMaxDecompressedPayload, decompressed).ok())
        << "payload " << i;
    EXPECT_TRUE(decompressed == payloads[i]) << "payload " << i;
  }
  // The repeated text compresses; the stream's window carries over packets.
  EXPECT_LT(compressor.bytes_out(), compressor.bytes_in() / 2);
}

TEST(PayloadCompression, DecompressedSizeLimitAtAndPast) {
  for (std::size_t size : {limits::kMaxDecompressedPayload, limits::kMaxDecompressedPayload + 1}) {
    PayloadCompressor compressor;
    PayloadDecompressor decompressor;
    Bytes compressed;
    Bytes decompressed;
    ASSERT_TRUE(compressor.compress(Bytes(size, 'x'), {}, compressed).ok());
    // A bomb: a few hundred bytes that would inflate to the limit or past it.
    EXPECT_LT(compressed.size(), 2048U);
    const Status status =
        decompressor.decompress(compressed, limits::kMaxDecompressedPayload, decompressed);
    if (size <= limits::kMaxDecompressedPayload) {
      EXPECT_TRUE(status.ok()) << status.error().message;
      EXPECT_EQ(decompressed.size(), size);
    } else {
      ASSERT_FALSE(status.ok());
      EXPECT_EQ(status.error().reason, DisconnectReason::CompressionError);
      EXPECT_NE(status.error().message.find("inflates past"), std::string::npos);
    }
  }
}

TEST(PayloadCompression, CorruptDataIsCompressionError) {
  PayloadDecompressor decompressor;
  Bytes decompressed;
  const Bytes garbage = {0xff, 0xff, 0xff, 0xff, 0x00, 0x12};
  const Status status = decompressor.decompress(garbage, 1024, decompressed);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().reason, DisconnectReason::CompressionError);
}

TEST(PayloadCompression, KnowsTheMethodNames) {
  EXPECT_TRUE(is_compression_method("none"));
  EXPECT_TRUE(is_compression_method("zlib"));
  EXPECT_TRUE(is_compression_method("zlib@openssh.com"));
  EXPECT_FALSE(is_compression_method("zlib@example.com"));
}

// --- in the transport ------------------------------------------------------------

struct CompressedPair {
  explicit CompressedPair(
      std::vector<std::string> client_compression,
      std::vector<std::string> server_compression = AlgorithmPolicy::server_compression()) {
    TransportConfig client = client_transport_config();
    client.policy.compression = std::move(client_compression);
    TransportConfig server = server_transport_config({cached_host_key("ssh-ed25519")});
    server.policy.compression = std::move(server_compression);
    pair = std::make_unique<TransportPair>(std::move(client), std::move(server));
  }
  // Bytes one payload takes on the wire from `side`.
  std::size_t wire_size(TransportPair::Side side, const Bytes& payload) {
    Transport& transport = pair->transport(side);
    const std::size_t before = transport.output_size();
    EXPECT_TRUE(transport.send_payload(payload).ok());
    return transport.output_size() - before;
  }
  // Sends from both sides and checks they arrive intact; returns the wire
  // sizes (client's, server's).
  std::pair<std::size_t, std::size_t> cross(const Bytes& to_server, const Bytes& to_client) {
    pair->client_callbacks().payloads.clear();
    pair->server_callbacks().payloads.clear();
    const std::size_t from_client = wire_size(TransportPair::Side::kClient, to_server);
    const std::size_t from_server = wire_size(TransportPair::Side::kServer, to_client);
    const Status pumped = pair->pump();
    EXPECT_TRUE(pumped.ok()) << pumped.error().message;
    EXPECT_EQ(pair->server_callbacks().payloads, std::vector<Bytes>{to_server});
    EXPECT_EQ(pair->client_callbacks().payloads, std::vector<Bytes>{to_client});
    return {from_client, from_server};
  }
  // What a server's ServerSession sends at the end of authentication.
  void authenticate() {
    const std::uint8_t success = wire::number(wire::MessageNumber::UserauthSuccess);
    ASSERT_TRUE(pair->server().send_payload(ByteView(&success, 1)).ok());
    const Status pumped = pair->pump();
    ASSERT_TRUE(pumped.ok()) << pumped.error().message;
  }
  std::unique_ptr<TransportPair> pair;
};

TEST(TransportCompression, ZlibStartsAtNewkeysBothWays) {
  CompressedPair test({"zlib", "none"});
  ASSERT_TRUE(test.pair->handshake().ok());
  for (Transport* side : {&test.pair->client(), &test.pair->server()}) {
    EXPECT_EQ(side->algorithms().compression_client_to_server, "zlib");
    EXPECT_EQ(side->algorithms().compression_server_to_client, "zlib");
  }
  const Bytes text = compressible(60000, 'x');
  const auto [client_wire, server_wire] = test.cross(text, text);
  EXPECT_LT(client_wire, text.size() / 10);
  EXPECT_LT(server_wire, text.size() / 10);
  // Incompressible data still arrives whole (a little larger on the wire).
  test.cross(random_bytes(100000, 7), random_bytes(100000, 8));
}

TEST(TransportCompression, DelayedZlibWaitsForTheUsersAuthentication) {
  CompressedPair test(AlgorithmPolicy::client_compression());
  ASSERT_TRUE(test.pair->handshake().ok());
  EXPECT_EQ(test.pair->client().algorithms().compression_client_to_server, "zlib@openssh.com");
  const Bytes text = compressible(60000, 'y');
  // Before authentication nothing is compressed, neither way.
  const auto [client_before, server_before] = test.cross(text, text);
  EXPECT_GT(client_before, text.size());
  EXPECT_GT(server_before, text.size());

  // The client answers the USERAUTH_SUCCESS at once (as its connection
  // layer opens the first channel): that answer already goes compressed.
  const Bytes answer = compressible(5000, 'w');
  bool answered = false;
  test.pair->client_callbacks().payload_hook = [&](ByteView payload) -> Status {
    if (payload[0] == wire::number(wire::MessageNumber::UserauthSuccess)) {
      answered = true;
      EXPECT_LT(test.wire_size(TransportPair::Side::kClient, answer), answer.size() / 5);
      return {};
    }
    test.pair->client_callbacks().payloads.push_back(to_bytes(payload));
    return {};
  };
  test.authenticate();
  EXPECT_TRUE(answered);
  EXPECT_EQ(test.pair->server_callbacks().payloads.back(), answer);
  const auto [client_after, server_after] = test.cross(text, text);
  EXPECT_LT(client_after, text.size() / 10);
  EXPECT_LT(server_after, text.size() / 10);

  // A rekey restarts both streams at its NEWKEYS; data keeps flowing.
  test.pair->client().request_rekey();
  ASSERT_TRUE(test.pair->pump().ok());
  EXPECT_EQ(test.pair->client().key_exchanges_completed(), 2U);
  const auto [client_rekeyed, server_rekeyed] = test.cross(text, text);
  EXPECT_LT(client_rekeyed, text.size() / 10);
  EXPECT_LT(server_rekeyed, text.size() / 10);
}

TEST(TransportCompression, NoneUnlessBothSidesWantIt) {
  {
    CompressedPair test({"none"});  // a client not asked to compress
    ASSERT_TRUE(test.pair->handshake().ok());
    EXPECT_EQ(test.pair->server().algorithms().compression_client_to_server, "none");
  }
  {
    CompressedPair test(AlgorithmPolicy::client_compression(), {"none"});  // Compression no
    ASSERT_TRUE(test.pair->handshake().ok());
    EXPECT_EQ(test.pair->client().algorithms().compression_server_to_client, "none");
    const Bytes text = compressible(10000, 'z');
    test.authenticate();
    EXPECT_GT(test.cross(text, text).first, text.size());
  }
}

TEST(PayloadCompression, PacketWithoutTheStreamBeforeItIsCompressionError) {
  // A packet is only meaningful after the ones before it in its stream: the
  // second alone (no zlib header) is refused, not misread.
  PayloadCompressor running;
  Bytes first;
  Bytes second;
  ASSERT_TRUE(running.compress(compressible(1000, 's'), {}, first).ok());
  ASSERT_TRUE(running.compress(compressible(1000, 't'), {}, second).ok());
  PayloadDecompressor fresh;
  Bytes out;
  const Status status = fresh.decompress(second, 4096, out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().reason, DisconnectReason::CompressionError);
}

}  // namespace
}  // namespace ssh::transport
