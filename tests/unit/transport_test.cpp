// The SSH transport (RFC 4253) driven in memory: a client and a server
// Transport wired to each other (tests/support/transport_pair.hpp), fake
// peers feeding hand-made bytes, the pure negotiation function, the packet
// codec on its own, and the connection layer running over two transports.
#include "ssh/transport/transport.hpp"

#include <botan/auto_rng.h>
#include <botan/hash.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "ssh/connection/connection.hpp"
#include "ssh/connection/messages.hpp"
#include "ssh/crypto/cipher.hpp"
#include "ssh/kex/kex.hpp"
#include "ssh/keys/keys.hpp"
#include "ssh/limits.hpp"
#include "ssh/transport/algorithms.hpp"
#include "ssh/transport/messages.hpp"
#include "ssh/transport/packet_codec.hpp"
#include "ssh/wire/message_numbers.hpp"
#include "ssh/wire/writer.hpp"
#include "support/transport_pair.hpp"

namespace ssh::transport {
namespace {

using namespace std::chrono_literals;
using testing_support::cached_host_key;
using testing_support::client_transport_config;
using testing_support::plain_packet;
using testing_support::plain_payloads;
using testing_support::server_transport_config;
using testing_support::TransportPair;
using Side = TransportPair::Side;

constexpr std::uint8_t kChannelData = 94;
constexpr std::uint8_t kIgnore = 2;
constexpr std::uint8_t kDebug = 4;
constexpr std::uint8_t kExtInfo = 7;
constexpr std::uint8_t kKexInit = 20;
constexpr std::uint8_t kNewKeys = 21;
constexpr std::uint8_t kKexEcdhReply = 31;

const std::vector<std::string>& host_key_algorithms() {
  static const std::vector<std::string> algorithms = {"ssh-ed25519",         "ecdsa-sha2-nistp256",
                                                      "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                                                      "rsa-sha2-256",        "rsa-sha2-512"};
  return algorithms;
}

const keys::PrivateKey& host_key_for(std::string_view algorithm) {
  return cached_host_key(keys::key_type_for_signature_algorithm(algorithm));
}

// One key of every type: the server picks the one the negotiated algorithm needs.
std::vector<keys::PrivateKey> all_host_keys() {
  return {cached_host_key("ssh-ed25519"), cached_host_key("ecdsa-sha2-nistp256"),
          cached_host_key("ecdsa-sha2-nistp384"), cached_host_key("ecdsa-sha2-nistp521"),
          cached_host_key("ssh-rsa")};
}

TransportConfig ed25519_server() {
  return server_transport_config({cached_host_key("ssh-ed25519")});
}

::testing::AssertionResult IsOk(const Status& status) {
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << status.error().message << " (" << disconnect_reason_name(status.error().reason) << ")";
}

// The error has this reason and its message mentions every fragment.
::testing::AssertionResult IsError(const std::optional<Error>& error, DisconnectReason reason,
                                   std::initializer_list<std::string_view> fragments) {
  if (!error) return ::testing::AssertionFailure() << "no error";
  if (error->reason != reason) {
    return ::testing::AssertionFailure()
           << "reason is " << disconnect_reason_name(error->reason) << ", expected "
           << disconnect_reason_name(reason) << " (message: " << error->message << ")";
  }
  for (auto fragment : fragments) {
    if (error->message.find(fragment) == std::string::npos) {
      return ::testing::AssertionFailure()
             << "\"" << error->message << "\" does not mention \"" << fragment << "\"";
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Fails(const Status& status, DisconnectReason reason,
                                 std::initializer_list<std::string_view> fragments) {
  if (status.ok()) return ::testing::AssertionFailure() << "succeeded";
  return IsError(status.error(), reason, fragments);
}

// The transport is closed, and for this reason.
::testing::AssertionResult ClosedWith(const Transport& transport, DisconnectReason reason,
                                      std::initializer_list<std::string_view> fragments) {
  if (!transport.is_closed()) return ::testing::AssertionFailure() << "transport is open";
  return IsError(transport.close_error(), reason, fragments);
}

// An upper-layer payload (CHANNEL_DATA numbered) whose bytes depend on the
// salt, so a payload delivered out of order or corrupted is noticed.
Bytes test_payload(std::size_t size, std::uint32_t salt) {
  Bytes payload(size);
  payload[0] = kChannelData;
  for (std::size_t i = 1; i < size; ++i) {
    payload[i] = static_cast<std::uint8_t>(i * 131 + salt * 17 + (i >> 9) + (salt >> 3));
  }
  return payload;
}

std::string param_name(std::string text) {
  for (char& c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return text;
}

std::size_t hash_size(std::string_view kex_name) {
  auto method = kex::make_kex(kex_name);
  if (!method) return 0;
  const auto hash = method->hash_name();
  return hash == "SHA-256" ? 32 : hash == "SHA-384" ? 48 : hash == "SHA-512" ? 64 : 0;
}

// What a client asks for; the server offers its defaults.
struct Choice {
  std::string kex = "curve25519-sha256";
  std::string host_key = "ssh-ed25519";
  std::string cipher = "aes128-gcm@openssh.com";
  std::string mac;  // empty: the default list (AEAD ciphers ignore it)
};

TransportConfig client_choosing(const Choice& choice) {
  TransportConfig config = client_transport_config();
  config.policy.kex = {choice.kex};
  config.policy.host_key = {choice.host_key};
  config.policy.ciphers = {choice.cipher};
  if (!choice.mac.empty()) config.policy.macs = {choice.mac};
  return config;
}

// Both sides negotiated what the client chose and share one session.
void expect_agreement(TransportPair& pair, const Choice& choice) {
  const NegotiatedAlgorithms& client = pair.client().algorithms();
  const NegotiatedAlgorithms& server = pair.server().algorithms();
  const bool aead = crypto::is_aead_cipher(choice.cipher);
  const std::string mac =
      aead ? std::string() : (choice.mac.empty() ? AlgorithmPolicy::default_macs()[0] : choice.mac);
  for (const NegotiatedAlgorithms* side : {&client, &server}) {
    EXPECT_EQ(side->kex, choice.kex);
    EXPECT_EQ(side->host_key, choice.host_key);
    EXPECT_EQ(side->cipher_client_to_server, choice.cipher);
    EXPECT_EQ(side->cipher_server_to_client, choice.cipher);
    EXPECT_EQ(side->mac_client_to_server, mac);
    EXPECT_EQ(side->mac_server_to_client, mac);
    EXPECT_EQ(side->compression_client_to_server, "none");
    EXPECT_EQ(side->compression_server_to_client, "none");
    EXPECT_TRUE(side->strict_kex);
  }
  EXPECT_TRUE(server.peer_wants_ext_info);
  EXPECT_FALSE(client.peer_wants_ext_info);

  EXPECT_EQ(pair.client().session_id().size(), hash_size(choice.kex));
  EXPECT_EQ(pair.client().session_id(), pair.server().session_id());
  EXPECT_EQ(pair.client().key_exchanges_completed(), 1U);
  EXPECT_EQ(pair.server().key_exchanges_completed(), 1U);
  EXPECT_FALSE(pair.client().kex_in_progress());
  EXPECT_FALSE(pair.server().kex_in_progress());
  EXPECT_EQ(pair.client().peer_version(), "SSH-2.0-" + std::string(kSoftwareVersion));
  EXPECT_EQ(pair.server().peer_version(), "SSH-2.0-" + std::string(kSoftwareVersion));

  // The client checked the right key, once, and remembers it.
  const keys::PublicKey& expected_key = host_key_for(choice.host_key).public_key();
  auto& client_callbacks = pair.client_callbacks();
  ASSERT_EQ(client_callbacks.host_keys_seen.size(), 1U);
  EXPECT_TRUE(client_callbacks.host_keys_seen[0] == expected_key);
  EXPECT_EQ(client_callbacks.host_key_algorithms_seen[0], choice.host_key);
  ASSERT_TRUE(pair.client().server_host_key().has_value());
  EXPECT_TRUE(*pair.client().server_host_key() == expected_key);
  EXPECT_TRUE(pair.server_callbacks().host_keys_seen.empty());

  EXPECT_EQ(client_callbacks.kex_completions, std::vector<bool>{true});
  EXPECT_EQ(pair.server_callbacks().kex_completions, std::vector<bool>{true});

  // RFC 8308: the client asked for EXT_INFO and got server-sig-algs.
  auto ext_info = client_callbacks.payloads_numbered(kExtInfo);
  ASSERT_EQ(ext_info.size(), 1U);
  auto decoded = ExtInfoMessage::decode(ext_info[0]);
  ASSERT_TRUE(decoded.has_value());
  ASSERT_FALSE(decoded->extensions.empty());
  EXPECT_EQ(decoded->extensions[0].first, "server-sig-algs");
  EXPECT_TRUE(pair.server_callbacks().payloads_numbered(kExtInfo).empty());
}

// Sends payloads of each size both ways and checks they arrive intact and
// in order.
// Earlier payloads stay recorded; only the new ones are compared.
void expect_payloads_cross(TransportPair& pair, const std::vector<std::size_t>& sizes) {
  auto& server_got = pair.server_callbacks().payloads;
  auto& client_got = pair.client_callbacks().payloads;
  server_got.clear();
  client_got.clear();
  std::vector<Bytes> to_server;
  std::vector<Bytes> to_client;
  std::uint32_t salt = 1;
  for (std::size_t size : sizes) {
    to_server.push_back(test_payload(size, salt++));
    to_client.push_back(test_payload(size, salt++));
    ASSERT_TRUE(IsOk(pair.client().send_payload(to_server.back())));
    ASSERT_TRUE(IsOk(pair.server().send_payload(to_client.back())));
  }
  ASSERT_TRUE(IsOk(pair.pump()));
  EXPECT_TRUE(server_got == to_server) << server_got.size() << " payloads arrived";
  EXPECT_TRUE(client_got == to_client) << client_got.size() << " payloads arrived";
  EXPECT_FALSE(pair.client().is_closed());
  EXPECT_FALSE(pair.server().is_closed());
}

std::vector<std::size_t> standard_sizes() {
  return {1, 1000, 32768, 200000};
}

// --- Handshakes: cipher x MAC ----------------------------------------------------

struct CipherCase {
  std::string cipher;
  std::string mac;  // empty for AEAD
};

std::vector<CipherCase> cipher_cases() {
  std::vector<CipherCase> cases;
  for (const auto& cipher : crypto::supported_ciphers()) {
    if (crypto::is_aead_cipher(cipher)) {
      cases.push_back({cipher, ""});
    } else {
      for (const auto& mac : crypto::supported_macs()) cases.push_back({cipher, mac});
    }
  }
  return cases;
}

std::string cipher_case_name(const ::testing::TestParamInfo<CipherCase>& info) {
  return param_name(info.param.cipher + (info.param.mac.empty() ? "" : "_" + info.param.mac));
}

class TransportCipherTest : public ::testing::TestWithParam<CipherCase> {};

TEST_P(TransportCipherTest, HandshakeAgreesAndCarriesPayloadsBothWays) {
  Choice choice;
  choice.cipher = GetParam().cipher;
  choice.mac = GetParam().mac;
  TransportPair pair(client_choosing(choice), server_transport_config(all_host_keys()));
  pair.set_chunking(97, 3);
  ASSERT_TRUE(IsOk(pair.handshake()));
  expect_agreement(pair, choice);
  expect_payloads_cross(pair, standard_sizes());
}

// A flipped byte anywhere in an encrypted packet is a MAC error, and the
// DISCONNECT saying so reaches the peer.
TEST_P(TransportCipherTest, FlippedByteAfterHandshakeIsMacError) {
  Choice choice;
  choice.cipher = GetParam().cipher;
  choice.mac = GetParam().mac;
  for (const bool flip_tag : {false, true}) {
    SCOPED_TRACE(flip_tag ? "flipped tag byte" : "flipped payload byte");
    TransportPair pair(client_choosing(choice), ed25519_server());
    ASSERT_TRUE(IsOk(pair.handshake()));
    ASSERT_TRUE(IsOk(pair.server().send_payload(test_payload(1000, 9))));
    Bytes wire;
    pair.server().take_output(wire);
    wire[flip_tag ? wire.size() - 1 : wire.size() / 2] ^= 0x20;
    EXPECT_TRUE(Fails(pair.client().receive(wire, pair.now()), DisconnectReason::MacError,
                      {"message authentication failed"}));
    EXPECT_TRUE(ClosedWith(pair.client(), DisconnectReason::MacError, {"authentication"}));
    EXPECT_TRUE(pair.client_callbacks().payloads_numbered(kChannelData).empty());
    // The client told the server, encrypted with the keys it still has.
    ASSERT_TRUE(pair.client().has_output());
    EXPECT_TRUE(Fails(pair.deliver(Side::kClient), DisconnectReason::ConnectionLost,
                      {"client closed the connection", "message authentication failed",
                       disconnect_reason_name(DisconnectReason::MacError)}));
    EXPECT_TRUE(pair.server().is_closed());
    // Closed is closed: more input and sending are refused.
    EXPECT_FALSE(pair.client().receive(wire, pair.now()).ok());
    EXPECT_TRUE(Fails(pair.client().send_payload(test_payload(10, 1)),
                      DisconnectReason::ConnectionLost, {"authentication"}));
  }
}

INSTANTIATE_TEST_SUITE_P(AllCiphersAndMacs, TransportCipherTest,
                         ::testing::ValuesIn(cipher_cases()), cipher_case_name);

// --- Handshakes: KEX x host key ----------------------------------------------------

constexpr std::string_view kSlowKex = "diffie-hellman-group18-sha512";

std::vector<std::string> kex_methods_but_slowest() {
  std::vector<std::string> methods;
  for (const auto& name : kex::supported_kex()) {
    if (name != kSlowKex) methods.push_back(name);
  }
  return methods;
}

using KexCase = std::tuple<std::string, std::string>;  // kex, host key algorithm

class TransportKexTest : public ::testing::TestWithParam<KexCase> {};

void run_kex_case(const std::string& kex, const std::string& host_key) {
  Choice choice;
  choice.kex = kex;
  choice.host_key = host_key;
  TransportPair pair(client_choosing(choice), server_transport_config(all_host_keys()));
  pair.set_chunking(61, 5);
  ASSERT_TRUE(IsOk(pair.handshake()));
  expect_agreement(pair, choice);
  expect_payloads_cross(pair, standard_sizes());
}

std::string kex_case_name(const ::testing::TestParamInfo<KexCase>& info) {
  return param_name(std::get<0>(info.param) + "_" + std::get<1>(info.param));
}

TEST_P(TransportKexTest, HandshakeAgreesAndCarriesPayloadsBothWays) {
  run_kex_case(std::get<0>(GetParam()), std::get<1>(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(AllKexAndHostKeys, TransportKexTest,
                         ::testing::Combine(::testing::ValuesIn(kex_methods_but_slowest()),
                                            ::testing::ValuesIn(host_key_algorithms())),
                         kex_case_name);

// DH group 18 (8192 bits) is slow: twice, not with every host key.
TEST(TransportHandshakeTest, DhGroup18WithRsaHostKey) {
  ASSERT_NE(std::find(kex::supported_kex().begin(), kex::supported_kex().end(), kSlowKex),
            kex::supported_kex().end());
  run_kex_case(std::string(kSlowKex), "rsa-sha2-512");
}

TEST(TransportHandshakeTest, DhGroup18WithEd25519HostKey) {
  run_kex_case(std::string(kSlowKex), "ssh-ed25519");
}

TEST(TransportHandshakeTest, DefaultsNegotiateFirstChoicesWithWholeBufferDelivery) {
  TransportPair pair(client_transport_config(), server_transport_config(all_host_keys()));
  ASSERT_TRUE(IsOk(pair.handshake()));
  Choice choice;
  choice.kex = AlgorithmPolicy::default_kex()[0];
  choice.host_key = AlgorithmPolicy::default_host_key()[0];
  choice.cipher = AlgorithmPolicy::default_ciphers()[0];
  expect_agreement(pair, choice);
  expect_payloads_cross(pair, {1, 2, 3, 255, 256, 257, 35000, limits::kMaxPacketLength - 1024});
}

TEST(TransportHandshakeTest, RefusedHostKeyFailsAndTellsServer) {
  TransportPair pair(client_transport_config(), ed25519_server());
  pair.client_callbacks().refuse_host_key = Error{DisconnectReason::ByApplication, "unknown host"};
  EXPECT_TRUE(
      Fails(pair.handshake(), DisconnectReason::HostKeyNotVerifiable, {"client:", "unknown host"}));
  EXPECT_TRUE(ClosedWith(pair.client(), DisconnectReason::HostKeyNotVerifiable, {"unknown host"}));
  ASSERT_EQ(pair.client_callbacks().host_keys_seen.size(), 1U);
  EXPECT_TRUE(pair.client_callbacks().host_keys_seen[0] ==
              cached_host_key("ssh-ed25519").public_key());
  // The DISCONNECT tells the server why.
  ASSERT_TRUE(pair.client().has_output());
  EXPECT_TRUE(Fails(pair.deliver(Side::kClient), DisconnectReason::ConnectionLost,
                    {"client closed the connection: unknown host",
                     disconnect_reason_name(DisconnectReason::HostKeyNotVerifiable)}));
  EXPECT_TRUE(pair.server().is_closed());
  EXPECT_FALSE(pair.client().first_kex_done());
  EXPECT_TRUE(pair.client_callbacks().kex_completions.empty());
}

TEST(TransportHandshakeTest, NoCommonCipherNamesBothLists) {
  TransportConfig client = client_transport_config();
  client.policy.ciphers = {"aes128-ctr"};
  TransportConfig server = ed25519_server();
  server.policy.ciphers = {"aes256-gcm@openssh.com"};
  TransportPair pair(client, server);
  // The server reads the client's KEXINIT first.
  EXPECT_TRUE(Fails(pair.handshake(), DisconnectReason::KeyExchangeFailed,
                    {"server:", "no matching cipher (client to server)",
                     "client offers [aes128-ctr]", "server offers [aes256-gcm@openssh.com]"}));
  EXPECT_TRUE(
      ClosedWith(pair.server(), DisconnectReason::KeyExchangeFailed, {"no matching cipher"}));
  // The client comes to the same conclusion from the server's KEXINIT,
  // which precedes the server's DISCONNECT.
  EXPECT_TRUE(Fails(pair.deliver(Side::kServer), DisconnectReason::KeyExchangeFailed,
                    {"no matching cipher"}));
  EXPECT_TRUE(ClosedWith(pair.client(), DisconnectReason::KeyExchangeFailed,
                         {"aes128-ctr", "aes256-gcm@openssh.com"}));
}

TEST(TransportHandshakeTest, ServerWithoutUsableHostKeyFailsClearly) {
  TransportConfig client = client_transport_config();
  client.policy.host_key = {"ecdsa-sha2-nistp384"};
  TransportPair pair(client, ed25519_server());
  EXPECT_TRUE(Fails(pair.handshake(), DisconnectReason::KeyExchangeFailed,
                    {"server:", "no matching host key type", "client offers [ecdsa-sha2-nistp384]",
                     "server offers [ssh-ed25519]"}));
  EXPECT_FALSE(pair.client().first_kex_done());
}

TEST(TransportHandshakeTest, PeerDisconnectClosesWithItsReason) {
  TransportPair pair(client_transport_config(), ed25519_server());
  ASSERT_TRUE(IsOk(pair.handshake()));
  pair.server().disconnect(DisconnectReason::ByApplication, "shutting down");
  EXPECT_TRUE(pair.server().is_closed());
  EXPECT_TRUE(Fails(pair.pump(), DisconnectReason::ConnectionLost, {"client:"}));
  EXPECT_TRUE(ClosedWith(pair.client(), DisconnectReason::ConnectionLost,
                         {"server closed the connection: shutting down",
                          disconnect_reason_name(DisconnectReason::ByApplication)}));
  // Nothing to tell a peer that is gone.
  EXPECT_FALSE(pair.client().has_output());
}

TEST(TransportHandshakeTest, UnknownTransportMessageGetsUnimplemented) {
  TransportPair pair(client_transport_config(), ed25519_server());
  ASSERT_TRUE(IsOk(pair.handshake()));
  const std::uint8_t unknown = 15;
  ASSERT_TRUE(IsOk(pair.server().send_payload(ByteView(&unknown, 1))));
  ASSERT_TRUE(IsOk(pair.deliver(Side::kServer)));
  EXPECT_FALSE(pair.client().is_closed());
  EXPECT_TRUE(pair.client().has_output());  // UNIMPLEMENTED
  ASSERT_TRUE(IsOk(pair.pump()));
  EXPECT_FALSE(pair.server().is_closed());
  expect_payloads_cross(pair, {10});
}

// --- Strict KEX ----------------------------------------------------------------------

// One transport of ours against a peer made of hand-written bytes.
class TransportFakePeerTest : public ::testing::Test {
 protected:
  void make(Role role) {
    TransportConfig config = role == Role::Client ? client_transport_config() : ed25519_server();
    transport_ = std::make_unique<Transport>(config, callbacks_, rng_);
    transport_->start(now_);
    transport_->take_output(first_output_);
  }

  Status feed(ByteView bytes) { return transport_->receive(bytes, now_); }
  Status feed_text(std::string_view text) { return feed(as_bytes(text)); }
  Status feed_payload(ByteView payload) { return feed(plain_packet(payload)); }
  template <class Message>
  Status feed_message(const Message& message) {
    return feed_payload(encode_payload(message));
  }
  Status feed_version() { return feed_text("SSH-2.0-OpenSSH_9.6\r\n"); }

  // The peer's KEXINIT; `initial` adds the ext-info and strict KEX markers.
  static KexInitMessage peer_kexinit(
      Role peer_role, bool initial, std::vector<std::string> kex = AlgorithmPolicy::default_kex()) {
    AlgorithmPolicy policy = AlgorithmPolicy::defaults();
    policy.kex = std::move(kex);
    return make_kex_init(policy, peer_role, initial, {});
  }

  // Payloads of the plain packets the transport sent since the last call.
  std::vector<Bytes> sent() {
    Bytes output;
    transport_->take_output(output);
    return plain_payloads(output, false);
  }
  static std::vector<std::uint8_t> numbers(const std::vector<Bytes>& payloads) {
    std::vector<std::uint8_t> result;
    for (const auto& payload : payloads) result.push_back(payload.empty() ? 0 : payload[0]);
    return result;
  }

  // The last thing the transport sent is a plain DISCONNECT with this reason.
  void expect_disconnect_sent(DisconnectReason reason, std::string_view fragment) {
    ASSERT_TRUE(transport_->has_output());
    auto payloads = sent();
    ASSERT_FALSE(payloads.empty());
    auto message = DisconnectMessage::decode(payloads.back());
    ASSERT_TRUE(message.has_value());
    EXPECT_EQ(message->reason, static_cast<std::uint32_t>(reason));
    EXPECT_NE(message->description.find(fragment), std::string::npos) << message->description;
  }

  // A transport that refused input is closed and says why.
  void expect_failure(const Status& status, DisconnectReason reason,
                      std::initializer_list<std::string_view> fragments) {
    EXPECT_TRUE(Fails(status, reason, fragments));
    EXPECT_TRUE(ClosedWith(*transport_, reason, fragments));
    EXPECT_FALSE(transport_->first_kex_done());
  }

  Botan::AutoSeeded_RNG rng_;
  testing_support::RecordingCallbacks callbacks_;
  TimePoint now_ = TimePoint{} + 5h;
  std::unique_ptr<Transport> transport_;
  Bytes first_output_;
};

TEST(TransportStrictKexTest, NegotiatedBetweenOurTransports) {
  TransportPair pair(client_transport_config(), ed25519_server());
  pair.start();
  Bytes client_hello;
  Bytes server_hello;
  pair.client().take_output(client_hello);
  pair.server().take_output(server_hello);
  EXPECT_TRUE(as_text(client_hello).starts_with("SSH-2.0-limactl_0.1\r\n"));
  EXPECT_TRUE(as_text(server_hello).starts_with("SSH-2.0-limactl_0.1\r\n"));
  auto client_payloads = plain_payloads(client_hello, true);
  auto server_payloads = plain_payloads(server_hello, true);
  ASSERT_EQ(client_payloads.size(), 1U);
  ASSERT_EQ(server_payloads.size(), 1U);
  auto client_kexinit = KexInitMessage::decode(client_payloads[0]);
  auto server_kexinit = KexInitMessage::decode(server_payloads[0]);
  ASSERT_TRUE(client_kexinit && server_kexinit);
  auto has = [](const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  EXPECT_TRUE(has(client_kexinit->kex_algorithms, kStrictKexClient));
  EXPECT_TRUE(has(client_kexinit->kex_algorithms, kExtInfoClient));
  EXPECT_TRUE(has(server_kexinit->kex_algorithms, kStrictKexServer));
  EXPECT_FALSE(has(server_kexinit->kex_algorithms, kStrictKexClient));
  EXPECT_FALSE(client_kexinit->first_kex_packet_follows);
  // The server only offers host key algorithms it has a key for.
  EXPECT_EQ(server_kexinit->server_host_key_algorithms, std::vector<std::string>{"ssh-ed25519"});

  ASSERT_TRUE(IsOk(pair.feed(Side::kServer, client_hello)));
  ASSERT_TRUE(IsOk(pair.feed(Side::kClient, server_hello)));
  ASSERT_TRUE(IsOk(pair.pump()));
  ASSERT_TRUE(pair.client().first_kex_done());
  EXPECT_TRUE(pair.client().algorithms().strict_kex);
  EXPECT_TRUE(pair.server().algorithms().strict_kex);
  // Sequence numbers restarted at NEWKEYS on both sides and still match.
  expect_payloads_cross(pair, {100});
  pair.client().request_rekey();
  ASSERT_TRUE(IsOk(pair.pump()));
  EXPECT_EQ(pair.client().key_exchanges_completed(), 2U);
  expect_payloads_cross(pair, {100});
}

TEST_F(TransportFakePeerTest, StrictKexRefusesIgnoreBeforeServerKexinit) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_version()));
  ASSERT_TRUE(IsOk(feed_message(IgnoreMessage{{1, 2, 3}})));  // strictness not known yet
  expect_failure(feed_message(peer_kexinit(Role::Server, true)), DisconnectReason::ProtocolError,
                 {"strict KEX", "KEXINIT was not the first packet"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "strict KEX");
}

TEST_F(TransportFakePeerTest, StrictKexRefusesIgnoreBeforeClientKexinit) {
  make(Role::Server);
  ASSERT_TRUE(IsOk(feed_version()));
  ASSERT_TRUE(IsOk(feed_message(IgnoreMessage{{}})));
  expect_failure(feed_message(peer_kexinit(Role::Client, true)), DisconnectReason::ProtocolError,
                 {"strict KEX", "KEXINIT was not the first packet"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "strict KEX");
}

TEST_F(TransportFakePeerTest, StrictKexRefusesIgnoreDuringInitialKex) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_version()));
  ASSERT_TRUE(IsOk(feed_message(peer_kexinit(Role::Server, true))));
  EXPECT_TRUE(transport_->algorithms().strict_kex);
  EXPECT_EQ(numbers(sent()), std::vector<std::uint8_t>{30});  // KEX_ECDH_INIT
  expect_failure(feed_message(IgnoreMessage{{7}}), DisconnectReason::ProtocolError,
                 {"strict KEX", "IGNORE", "initial key exchange"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "strict KEX");
}

TEST_F(TransportFakePeerTest, WithoutStrictKexClientToleratesIgnoreAndDebug) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_version()));
  ASSERT_TRUE(IsOk(feed_message(IgnoreMessage{{1, 2, 3}})));
  const Bytes debug = {kDebug, 0, 0, 0, 0, 2, 'h', 'i', 0, 0, 0, 0};
  ASSERT_TRUE(IsOk(feed_payload(debug)));
  ASSERT_TRUE(IsOk(feed_message(peer_kexinit(Role::Server, false))));
  ASSERT_TRUE(IsOk(feed_message(IgnoreMessage{{4}})));  // during the exchange too
  EXPECT_FALSE(transport_->is_closed());
  EXPECT_FALSE(transport_->algorithms().strict_kex);
  EXPECT_TRUE(transport_->kex_in_progress());
  EXPECT_EQ(transport_->peer_version(), "SSH-2.0-OpenSSH_9.6");
  EXPECT_EQ(numbers(sent()), std::vector<std::uint8_t>{30});
}

TEST_F(TransportFakePeerTest, WithoutStrictKexServerToleratesIgnoreAndAnswersKex) {
  make(Role::Server);
  ASSERT_TRUE(IsOk(feed_version()));
  ASSERT_TRUE(IsOk(feed_message(IgnoreMessage{{9, 9}})));
  const Bytes client_kexinit =
      encode_payload(peer_kexinit(Role::Client, false, {"curve25519-sha256"}));
  ASSERT_TRUE(IsOk(feed_payload(client_kexinit)));
  EXPECT_FALSE(transport_->algorithms().strict_kex);
  EXPECT_TRUE(sent().empty());  // its KEXINIT went out at start
  auto kex = kex::make_kex("curve25519-sha256");
  const Bytes client_public = kex->generate(rng_);
  ASSERT_TRUE(IsOk(feed_message(KexEcdhInitMessage{client_public})));
  auto answer = sent();
  ASSERT_EQ(numbers(answer), (std::vector<std::uint8_t>{kKexEcdhReply, kNewKeys}));
  auto reply = KexEcdhReplyMessage::decode(answer[0]);
  ASSERT_TRUE(reply.has_value());
  const keys::PublicKey& host_key = cached_host_key("ssh-ed25519").public_key();
  EXPECT_EQ(reply->host_key, host_key.blob());
  auto shared = kex->agree(reply->server_public);
  ASSERT_TRUE(shared.ok());
  EXPECT_FALSE(transport_->is_closed());

  // The signature covers the exchange hash of RFC 5656 section 4 / RFC 8731,
  // computed here independently of the transport.
  const auto server_payloads = plain_payloads(first_output_, true);
  ASSERT_EQ(server_payloads.size(), 1U);
  Bytes hashed;
  wire::Writer writer(hashed);
  writer.string("SSH-2.0-OpenSSH_9.6");
  writer.string("SSH-2.0-" + std::string(kSoftwareVersion));
  writer.string(ByteView(client_kexinit));
  writer.string(ByteView(server_payloads[0]));
  writer.string(ByteView(host_key.blob()));
  writer.string(ByteView(client_public));
  writer.string(ByteView(reply->server_public));
  writer.raw(*shared);
  auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
  sha256->update(hashed.data(), hashed.size());
  const auto exchange_hash = sha256->final_stdvec();
  EXPECT_TRUE(IsOk(host_key.verify("ssh-ed25519", exchange_hash, reply->signature)));
  EXPECT_EQ(transport_->session_id(), exchange_hash);
}

// RFC 4253 section 7: a guessed KEX packet is ignored when the guess is wrong.
TEST_F(TransportFakePeerTest, WrongGuessedKexPacketIsIgnored) {
  make(Role::Server);
  ASSERT_TRUE(IsOk(feed_version()));
  // The server prefers curve25519; the client guesses nistp256.
  KexInitMessage kexinit =
      peer_kexinit(Role::Client, false, {"ecdh-sha2-nistp256", "curve25519-sha256"});
  kexinit.first_kex_packet_follows = true;
  ASSERT_TRUE(IsOk(feed_message(kexinit)));
  EXPECT_TRUE(transport_->algorithms().ignore_guessed_packet);
  // A guess that would not even parse as the real thing.
  ASSERT_TRUE(IsOk(feed_payload(Bytes{30, 0, 0, 0, 1, 0xff})));
  EXPECT_TRUE(sent().empty());
  auto kex = kex::make_kex("ecdh-sha2-nistp256");
  ASSERT_TRUE(IsOk(feed_message(KexEcdhInitMessage{kex->generate(rng_)})));
  EXPECT_EQ(numbers(sent()), (std::vector<std::uint8_t>{kKexEcdhReply, kNewKeys}));
  EXPECT_EQ(transport_->algorithms().kex, "ecdh-sha2-nistp256");
}

TEST_F(TransportFakePeerTest, RightGuessedKexPacketIsUsed) {
  make(Role::Server);
  ASSERT_TRUE(IsOk(feed_version()));
  KexInitMessage kexinit = peer_kexinit(Role::Client, false);
  kexinit.server_host_key_algorithms = {"ssh-ed25519"};
  kexinit.first_kex_packet_follows = true;
  ASSERT_TRUE(IsOk(feed_message(kexinit)));
  EXPECT_FALSE(transport_->algorithms().ignore_guessed_packet);
  auto kex = kex::make_kex(AlgorithmPolicy::default_kex()[0]);
  ASSERT_TRUE(IsOk(feed_message(KexEcdhInitMessage{kex->generate(rng_)})));
  EXPECT_EQ(numbers(sent()), (std::vector<std::uint8_t>{kKexEcdhReply, kNewKeys}));
}

// --- Rekeying ------------------------------------------------------------------------

// Checks payloads arriving on one side against the sequence the other sent.
struct OrderedReceiver {
  std::uint32_t next = 0;
  std::uint64_t bytes = 0;
  std::function<Bytes(std::uint32_t)> expected;

  Status operator()(ByteView payload) {
    const Bytes want = expected(next);
    if (payload.size() != want.size() ||
        !std::equal(payload.begin(), payload.end(), want.begin())) {
      return protocol_error("payload #" + std::to_string(next) +
                            " arrived corrupted or out of order");
    }
    ++next;
    bytes += payload.size();
    return {};
  }
};

std::size_t stream_payload_size(std::uint32_t index) {
  return 16 * 1024 + (index * 7919U) % (16 * 1024) + 1;
}

// Streams 10 MiB each way with a 64 KiB rekey limit on one side.
void stream_with_small_rekey_limit(Side limited) {
  TransportConfig client = client_transport_config();
  TransportConfig server = ed25519_server();
  (limited == Side::kClient ? client : server).rekey_bytes = 64 * 1024;
  TransportPair pair(client, server);
  pair.set_chunking(8192, 11);
  ASSERT_TRUE(IsOk(pair.handshake()));
  const Bytes session_id = pair.client().session_id();

  auto upload = [](std::uint32_t i) { return test_payload(stream_payload_size(i), 2 * i); };
  auto download = [](std::uint32_t i) { return test_payload(stream_payload_size(i), 2 * i + 1); };
  OrderedReceiver at_server{0, 0, upload};
  OrderedReceiver at_client{0, 0, download};
  pair.server_callbacks().payload_hook = std::ref(at_server);
  pair.client_callbacks().payload_hook = std::ref(at_client);

  constexpr std::uint64_t kTotal = 10 * 1024 * 1024;
  std::uint64_t sent = 0;
  std::uint32_t count = 0;
  while (sent < kTotal) {
    const Bytes up = upload(count);
    const Bytes down = download(count);
    ASSERT_TRUE(IsOk(pair.client().send_payload(up)));
    ASSERT_TRUE(IsOk(pair.server().send_payload(down)));
    sent += up.size();
    ++count;
    if (count % 8 == 0) {
      ASSERT_TRUE(IsOk(pair.pump()));
    }
  }
  ASSERT_TRUE(IsOk(pair.pump()));

  EXPECT_EQ(at_server.next, count);
  EXPECT_EQ(at_client.next, count);
  EXPECT_EQ(at_server.bytes, sent);
  EXPECT_GE(at_client.bytes, kTotal);
  const auto rekeys = pair.client().key_exchanges_completed();
  EXPECT_GE(rekeys, 20U);
  EXPECT_EQ(pair.server().key_exchanges_completed(), rekeys);
  EXPECT_EQ(pair.client_callbacks().kex_completions.size(), rekeys);
  EXPECT_EQ(pair.server_callbacks().kex_completions.size(), rekeys);
  EXPECT_TRUE(pair.client_callbacks().kex_completions.front());
  EXPECT_EQ(std::count(pair.server_callbacks().kex_completions.begin(),
                       pair.server_callbacks().kex_completions.end(), false),
            static_cast<std::ptrdiff_t>(rekeys - 1));
  EXPECT_EQ(pair.client().session_id(), session_id);
  // The host key was checked once, not at every rekey.
  EXPECT_EQ(pair.client_callbacks().host_keys_seen.size(), 1U);
  // Nothing of the rekeying reached the layers above: only EXT_INFO did.
  EXPECT_EQ(pair.client_callbacks().payloads.size(), 1U);
  EXPECT_TRUE(pair.server_callbacks().payloads.empty());
}

TEST(TransportRekeyTest, ByClientBytesWhileStreamingTenMebibytesEachWay) {
  stream_with_small_rekey_limit(Side::kClient);
}

TEST(TransportRekeyTest, ByServerBytesWhileStreamingTenMebibytesEachWay) {
  stream_with_small_rekey_limit(Side::kServer);
}

TEST(TransportRekeyTest, ServerRequestsRekeyWhileBothSidesSend) {
  TransportPair pair(client_transport_config(), ed25519_server());
  ASSERT_TRUE(IsOk(pair.handshake()));
  const Bytes session_id = pair.client().session_id();

  pair.server().request_rekey();
  EXPECT_TRUE(pair.server().kex_in_progress());
  ASSERT_TRUE(pair.server().has_output());
  const std::size_t kexinit_size = pair.server().output_size();
  pair.server().request_rekey();  // already running: nothing more
  EXPECT_EQ(pair.server().output_size(), kexinit_size);
  // Held back until the new keys are in place.
  const Bytes held = test_payload(500, 1);
  ASSERT_TRUE(IsOk(pair.server().send_payload(held)));
  EXPECT_EQ(pair.server().output_size(), kexinit_size);
  // The client does not know yet and may send.
  const Bytes early = test_payload(600, 2);
  ASSERT_TRUE(IsOk(pair.client().send_payload(early)));

  ASSERT_TRUE(IsOk(pair.pump()));
  EXPECT_EQ(pair.client().key_exchanges_completed(), 2U);
  EXPECT_EQ(pair.server().key_exchanges_completed(), 2U);
  EXPECT_EQ(pair.client_callbacks().kex_completions, (std::vector<bool>{true, false}));
  EXPECT_EQ(pair.server_callbacks().kex_completions, (std::vector<bool>{true, false}));
  EXPECT_EQ(pair.client().session_id(), session_id);
  EXPECT_EQ(pair.client_callbacks().payloads_numbered(kChannelData), std::vector<Bytes>{held});
  EXPECT_EQ(pair.server_callbacks().payloads_numbered(kChannelData), std::vector<Bytes>{early});
  EXPECT_FALSE(pair.client().kex_in_progress());
  expect_payloads_cross(pair, {1, 70000});
}

TEST(TransportRekeyTest, BothSidesRequestAtOnceMakeOneExchange) {
  TransportPair pair(client_transport_config(), ed25519_server());
  pair.set_chunking(13, 2);
  ASSERT_TRUE(IsOk(pair.handshake()));
  pair.client().request_rekey();
  pair.server().request_rekey();
  ASSERT_TRUE(IsOk(pair.pump()));
  EXPECT_EQ(pair.client().key_exchanges_completed(), 2U);
  EXPECT_EQ(pair.server().key_exchanges_completed(), 2U);
  expect_payloads_cross(pair, {5000});
}

TEST(TransportRekeyTest, RequestBeforeFirstKexDoesNothing) {
  TransportPair pair(client_transport_config(), ed25519_server());
  pair.start();
  const std::size_t size = pair.client().output_size();
  pair.client().request_rekey();
  EXPECT_EQ(pair.client().output_size(), size);
  ASSERT_TRUE(IsOk(pair.pump()));
  EXPECT_EQ(pair.client().key_exchanges_completed(), 1U);
}

TEST(TransportRekeyTest, ByTimeThroughHandleTimeout) {
  TransportConfig client = client_transport_config();
  client.rekey_interval = std::chrono::seconds(3600);
  TransportPair pair(client, ed25519_server());
  EXPECT_FALSE(pair.client().next_timeout().has_value());  // not started
  ASSERT_TRUE(IsOk(pair.handshake()));
  const TimePoint done = pair.now();
  ASSERT_TRUE(pair.client().next_timeout().has_value());
  EXPECT_EQ(*pair.client().next_timeout(), done + 1h);
  EXPECT_FALSE(pair.server().next_timeout().has_value());

  pair.advance(59min);
  ASSERT_TRUE(IsOk(pair.client().handle_timeout(pair.now())));
  EXPECT_FALSE(pair.client().has_output());
  EXPECT_FALSE(pair.client().kex_in_progress());

  pair.advance(1min);
  ASSERT_TRUE(IsOk(pair.client().handle_timeout(pair.now())));
  EXPECT_TRUE(pair.client().has_output());
  EXPECT_TRUE(pair.client().kex_in_progress());
  // Nothing is due while the exchange runs: a driver must not spin on a
  // deadline that has passed.
  const auto during = pair.client().next_timeout();
  EXPECT_TRUE(!during || *during > pair.now());

  ASSERT_TRUE(IsOk(pair.pump()));
  EXPECT_EQ(pair.client().key_exchanges_completed(), 2U);
  EXPECT_EQ(pair.server_callbacks().kex_completions, (std::vector<bool>{true, false}));
  ASSERT_TRUE(pair.client().next_timeout().has_value());
  EXPECT_EQ(*pair.client().next_timeout(), pair.now() + 1h);
  expect_payloads_cross(pair, {42});
}

TEST(TransportRekeyTest, ByTimeWhenInputArrives) {
  TransportConfig client = client_transport_config();
  client.rekey_interval = std::chrono::seconds(600);
  TransportPair pair(client, ed25519_server());
  ASSERT_TRUE(IsOk(pair.handshake()));
  pair.advance(11min);
  ASSERT_TRUE(IsOk(pair.server().send_payload(test_payload(10, 3))));
  ASSERT_TRUE(IsOk(pair.deliver(Side::kServer)));
  EXPECT_TRUE(pair.client().kex_in_progress());
  ASSERT_TRUE(IsOk(pair.pump()));
  EXPECT_EQ(pair.client().key_exchanges_completed(), 2U);
  EXPECT_EQ(pair.client_callbacks().payloads_numbered(kChannelData).size(), 1U);
}

// --- Bad input to a client -------------------------------------------------------------

TEST_F(TransportFakePeerTest, GarbageBannerThenEofNamesTheGarbage) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_text("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")));
  EXPECT_FALSE(transport_->is_closed());
  EXPECT_FALSE(transport_->has_output());
  EXPECT_TRUE(Fails(transport_->receive_eof(), DisconnectReason::ConnectionLost,
                    {"without sending an SSH version line", "HTTP/1.1 400 Bad Request",
                     "is this an SSH server?"}));
  EXPECT_TRUE(ClosedWith(*transport_, DisconnectReason::ConnectionLost, {"HTTP/1.1 400"}));
  EXPECT_FALSE(transport_->has_output());
}

TEST_F(TransportFakePeerTest, PartialGarbageLineThenEofNamesIt) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_text("220 mail.example.org ESMTP")));
  EXPECT_TRUE(Fails(transport_->receive_eof(), DisconnectReason::ConnectionLost,
                    {"220 mail.example.org ESMTP"}));
}

TEST_F(TransportFakePeerTest, SilentPeerThenEof) {
  make(Role::Client);
  EXPECT_TRUE(Fails(transport_->receive_eof(), DisconnectReason::ConnectionLost,
                    {"before it sent its SSH version line"}));
}

TEST_F(TransportFakePeerTest, Ssh15BannerIsVersionNotSupported) {
  make(Role::Client);
  expect_failure(feed_text("SSH-1.5-OldServer_1.2\r\n"),
                 DisconnectReason::ProtocolVersionNotSupported,
                 {"unsupported protocol version", "SSH-1.5-OldServer_1.2"});
  expect_disconnect_sent(DisconnectReason::ProtocolVersionNotSupported, "SSH-1.5");
}

TEST_F(TransportFakePeerTest, Ssh199BannerIsAccepted) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_text("SSH-1.99-Compat\n")));
  EXPECT_EQ(transport_->peer_version(), "SSH-1.99-Compat");
  EXPECT_FALSE(transport_->is_closed());
}

TEST_F(TransportFakePeerTest, LinesBeforeBannerAreToleratedUpTo1024) {
  make(Role::Client);
  std::string lines;
  for (int i = 0; i < 1024; ++i) lines += "line " + std::to_string(i) + "\r\n";
  ASSERT_TRUE(IsOk(feed_text(lines)));
  ASSERT_TRUE(IsOk(feed_version()));
  EXPECT_EQ(transport_->peer_version(), "SSH-2.0-OpenSSH_9.6");
  ASSERT_TRUE(IsOk(feed_message(peer_kexinit(Role::Server, true))));
  EXPECT_FALSE(transport_->is_closed());
}

TEST_F(TransportFakePeerTest, MoreThan1024LinesBeforeBannerFail) {
  make(Role::Client);
  std::string lines;
  for (int i = 0; i < 1025; ++i) lines += "banner\r\n";
  expect_failure(feed_text(lines + "SSH-2.0-late\r\n"), DisconnectReason::ProtocolError,
                 {"no SSH version line", "banner"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "no SSH version line");
}

TEST_F(TransportFakePeerTest, VersionLineLengthLimitAtAndPast) {
  const std::string prefix = "SSH-2.0-";
  const std::string at_limit =
      prefix + std::string(limits::kMaxVersionLineLength - prefix.size(), 'v');
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_text(at_limit + "\r\n")));
  EXPECT_EQ(transport_->peer_version(), at_limit);
  make(Role::Client);
  expect_failure(feed_text(at_limit + "v\r\n"), DisconnectReason::ProtocolError,
                 {"version line is too long"});
}

TEST_F(TransportFakePeerTest, OverlongLineWithoutNewlineFails) {
  make(Role::Client);
  expect_failure(feed_text(std::string(limits::kMaxPreBannerBytes + 1, 'x')),
                 DisconnectReason::ProtocolError, {"over-long line"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "over-long line");
}

TEST_F(TransportFakePeerTest, ServerRefusesGarbageFromClient) {
  make(Role::Server);
  expect_failure(feed_text("GET / HTTP/1.1\r\n"), DisconnectReason::ProtocolError,
                 {"GET / HTTP/1.1", "instead of an SSH version line"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "GET /");
}

TEST_F(TransportFakePeerTest, PacketLengthOverLimitIsProtocolError) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_version()));
  const std::uint32_t length = limits::kMaxPacketLength + 4;
  const Bytes header = {static_cast<std::uint8_t>(length >> 24),
                        static_cast<std::uint8_t>(length >> 16),
                        static_cast<std::uint8_t>(length >> 8),
                        static_cast<std::uint8_t>(length),
                        4,
                        kIgnore};
  expect_failure(feed(header), DisconnectReason::ProtocolError,
                 {"packet length " + std::to_string(length), "exceeds"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "exceeds");
}

TEST_F(TransportFakePeerTest, MisalignedPacketLengthIsProtocolError) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_version()));
  expect_failure(feed(Bytes{0, 0, 0, 13, 4, kIgnore, 0, 0}), DisconnectReason::ProtocolError,
                 {"bad packet length 13"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "bad packet length");
}

TEST_F(TransportFakePeerTest, TinyPacketLengthIsProtocolError) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_version()));
  expect_failure(feed(Bytes{0, 0, 0, 4, 4, 0, 0, 0}), DisconnectReason::ProtocolError,
                 {"bad packet length 4"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "bad packet length");
}

TEST_F(TransportFakePeerTest, EmptyPayloadIsProtocolError) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_version()));
  expect_failure(feed_payload({}), DisconnectReason::ProtocolError, {"padding"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "padding");
}

TEST_F(TransportFakePeerTest, TruncatedPacketThenEofIsConnectionLost) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_version()));
  const Bytes packet = plain_packet(encode_payload(peer_kexinit(Role::Server, true)));
  ASSERT_TRUE(IsOk(feed(ByteView(packet).first(packet.size() / 2))));
  EXPECT_FALSE(transport_->is_closed());
  EXPECT_TRUE(Fails(transport_->receive_eof(), DisconnectReason::ConnectionLost,
                    {"closed by peer during key exchange"}));
  EXPECT_TRUE(ClosedWith(*transport_, DisconnectReason::ConnectionLost, {"closed by peer"}));
  EXPECT_FALSE(transport_->has_output());  // nobody to tell
  EXPECT_TRUE(Fails(transport_->send_payload(test_payload(3, 0)), DisconnectReason::ConnectionLost,
                    {"closed by peer"}));
}

TEST(TransportBadInputTest, TruncatedEncryptedPacketThenEofIsConnectionLost) {
  TransportPair pair(client_transport_config(), ed25519_server());
  ASSERT_TRUE(IsOk(pair.handshake()));
  ASSERT_TRUE(IsOk(pair.server().send_payload(test_payload(5000, 4))));
  Bytes wire;
  pair.server().take_output(wire);
  ASSERT_TRUE(IsOk(pair.client().receive(ByteView(wire).first(wire.size() - 10), pair.now())));
  EXPECT_TRUE(pair.client_callbacks().payloads_numbered(kChannelData).empty());
  EXPECT_FALSE(pair.client().is_closed());
  EXPECT_TRUE(Fails(pair.client().receive_eof(), DisconnectReason::ConnectionLost,
                    {"connection closed by peer"}));
  EXPECT_TRUE(pair.client().is_closed());
  EXPECT_FALSE(pair.client().has_output());
}

TEST_F(TransportFakePeerTest, KexReplyBeforeKexinitIsProtocolError) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_version()));
  expect_failure(feed_message(KexEcdhReplyMessage{{1}, {2}, {3}}), DisconnectReason::ProtocolError,
                 {"unexpected KEX_ECDH_REPLY", "key exchange state"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "KEX_ECDH_REPLY");
}

TEST_F(TransportFakePeerTest, KexInitMessageToClientIsProtocolError) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_version()));
  ASSERT_TRUE(IsOk(feed_message(peer_kexinit(Role::Server, true))));
  expect_failure(feed_message(KexEcdhInitMessage{{1, 2, 3}}), DisconnectReason::ProtocolError,
                 {"unexpected KEX_ECDH_INIT"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "KEX_ECDH_INIT");
}

TEST_F(TransportFakePeerTest, NewKeysBeforeKexReplyIsProtocolError) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_version()));
  ASSERT_TRUE(IsOk(feed_message(peer_kexinit(Role::Server, true))));
  expect_failure(feed_payload(Bytes{kNewKeys}), DisconnectReason::ProtocolError,
                 {"unexpected NEWKEYS"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "NEWKEYS");
}

TEST_F(TransportFakePeerTest, SecondKexinitIsProtocolError) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_version()));
  ASSERT_TRUE(IsOk(feed_message(peer_kexinit(Role::Server, true))));
  expect_failure(feed_message(peer_kexinit(Role::Server, false)), DisconnectReason::ProtocolError,
                 {"second KEXINIT"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "second KEXINIT");
}

TEST_F(TransportFakePeerTest, MalformedKexinitIsProtocolError) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_version()));
  expect_failure(feed_payload(Bytes{kKexInit, 1, 2, 3}), DisconnectReason::ProtocolError,
                 {"malformed KEXINIT"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "malformed KEXINIT");
}

TEST_F(TransportFakePeerTest, ConnectionMessageBeforeFirstKexIsProtocolError) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_version()));
  expect_failure(feed_payload(test_payload(20, 0)), DisconnectReason::ProtocolError,
                 {"unexpected CHANNEL_DATA", "during key exchange"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "CHANNEL_DATA");
  EXPECT_TRUE(callbacks_.payloads.empty());
}

TEST_F(TransportFakePeerTest, ConnectionMessageDuringFirstKexIsProtocolError) {
  make(Role::Client);
  ASSERT_TRUE(IsOk(feed_version()));
  ASSERT_TRUE(IsOk(feed_message(peer_kexinit(Role::Server, false))));
  expect_failure(feed_payload(Bytes{80, 0, 0, 0, 0, 0}), DisconnectReason::ProtocolError,
                 {"unexpected GLOBAL_REQUEST", "during key exchange"});
  expect_disconnect_sent(DisconnectReason::ProtocolError, "GLOBAL_REQUEST");
  EXPECT_TRUE(callbacks_.payloads.empty());
}

TEST(TransportBadInputTest, NewKeysAfterKexIsProtocolError) {
  TransportPair pair(client_transport_config(), ed25519_server());
  ASSERT_TRUE(IsOk(pair.handshake()));
  ASSERT_TRUE(IsOk(pair.server().send_payload(Bytes{kNewKeys})));
  EXPECT_TRUE(
      Fails(pair.deliver(Side::kServer), DisconnectReason::ProtocolError, {"unexpected NEWKEYS"}));
  EXPECT_TRUE(ClosedWith(pair.client(), DisconnectReason::ProtocolError, {"NEWKEYS"}));
  ASSERT_TRUE(pair.client().has_output());
  EXPECT_TRUE(Fails(pair.deliver(Side::kClient), DisconnectReason::ConnectionLost,
                    {"client closed the connection: unexpected NEWKEYS"}));
}

TEST(TransportBadInputTest, KexReplyOutsideKexIsProtocolError) {
  TransportPair pair(client_transport_config(), ed25519_server());
  ASSERT_TRUE(IsOk(pair.handshake()));
  ASSERT_TRUE(IsOk(pair.server().send_payload(encode_payload(KexEcdhReplyMessage{{1}, {2}, {3}}))));
  EXPECT_TRUE(Fails(pair.deliver(Side::kServer), DisconnectReason::ProtocolError,
                    {"unexpected KEX_ECDH_REPLY"}));
  EXPECT_TRUE(pair.client().has_output());
}

// --- Negotiation --------------------------------------------------------------------

KexInitMessage kexinit_with(std::vector<std::string> kex, std::vector<std::string> host_key,
                            std::vector<std::string> ciphers, std::vector<std::string> macs) {
  KexInitMessage message;
  message.kex_algorithms = std::move(kex);
  message.server_host_key_algorithms = std::move(host_key);
  message.ciphers_client_to_server = ciphers;
  message.ciphers_server_to_client = std::move(ciphers);
  message.macs_client_to_server = macs;
  message.macs_server_to_client = std::move(macs);
  message.compression_client_to_server = {"none"};
  message.compression_server_to_client = {"none"};
  return message;
}

KexInitMessage default_kexinit(Role role) {
  return make_kex_init(AlgorithmPolicy::defaults(), role, true, {});
}

TEST(NegotiateTest, FirstClientChoiceTheServerSupportsWins) {
  const KexInitMessage client = kexinit_with(
      {"sntrup761x25519-sha512@openssh.com", "ecdh-sha2-nistp384", "curve25519-sha256"},
      {"ssh-dss", "rsa-sha2-256", "ssh-ed25519"}, {"3des-cbc", "aes256-ctr", "aes128-ctr"},
      {"hmac-md5", "hmac-sha2-512", "hmac-sha2-256"});
  const KexInitMessage server =
      kexinit_with({"curve25519-sha256", "ecdh-sha2-nistp384"}, {"ssh-ed25519", "rsa-sha2-256"},
                   {"aes128-ctr", "aes256-ctr"}, {"hmac-sha2-256", "hmac-sha2-512"});
  for (Role role : {Role::Client, Role::Server}) {
    auto result = negotiate(client, server, role);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->kex, "ecdh-sha2-nistp384");
    EXPECT_EQ(result->host_key, "rsa-sha2-256");
    EXPECT_EQ(result->cipher_client_to_server, "aes256-ctr");
    EXPECT_EQ(result->cipher_server_to_client, "aes256-ctr");
    EXPECT_EQ(result->mac_client_to_server, "hmac-sha2-512");
    EXPECT_EQ(result->mac_server_to_client, "hmac-sha2-512");
    EXPECT_EQ(result->compression_client_to_server, "none");
    EXPECT_FALSE(result->strict_kex);
    EXPECT_FALSE(result->ignore_guessed_packet);
  }
}

TEST(NegotiateTest, DirectionsAreNegotiatedSeparately) {
  KexInitMessage client = default_kexinit(Role::Client);
  KexInitMessage server = default_kexinit(Role::Server);
  client.ciphers_client_to_server = {"aes256-ctr", "aes128-gcm@openssh.com"};
  client.ciphers_server_to_client = {"chacha20-poly1305@openssh.com"};
  client.macs_client_to_server = {"hmac-sha2-512"};
  client.compression_server_to_client = {"zlib@openssh.com", "none"};
  auto result = negotiate(client, server, Role::Client);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->cipher_client_to_server, "aes256-ctr");
  EXPECT_EQ(result->cipher_server_to_client, "chacha20-poly1305@openssh.com");
  EXPECT_EQ(result->mac_client_to_server, "hmac-sha2-512");
  EXPECT_EQ(result->mac_server_to_client, "");  // AEAD
  EXPECT_EQ(result->compression_server_to_client, "none");
  EXPECT_TRUE(result->strict_kex);
}

TEST(NegotiateTest, NoMatchNamesCategoryAndBothLists) {
  struct Case {
    std::string category;
    std::function<void(KexInitMessage&, KexInitMessage&)> change;
    std::vector<std::string> names;
  };
  const std::vector<Case> cases = {
      {"key exchange method",
       [](auto& c, auto& s) {
         c.kex_algorithms = {"diffie-hellman-group1-sha1", "ext-info-c"};
         s.kex_algorithms = {"curve25519-sha256", "ext-info-c"};
       },
       {"diffie-hellman-group1-sha1", "curve25519-sha256"}},
      {"host key type",
       [](auto& c, auto& s) {
         c.server_host_key_algorithms = {"ssh-dss"};
         s.server_host_key_algorithms = {"ssh-ed25519", "rsa-sha2-512"};
       },
       {"ssh-dss", "ssh-ed25519,rsa-sha2-512"}},
      {"cipher (client to server)",
       [](auto& c, auto& s) {
         c.ciphers_client_to_server = {"aes128-cbc"};
         s.ciphers_client_to_server = {"aes256-gcm@openssh.com"};
       },
       {"aes128-cbc", "aes256-gcm@openssh.com"}},
      {"cipher (server to client)",
       [](auto& c, auto& s) {
         c.ciphers_server_to_client = {"3des-cbc"};
         s.ciphers_server_to_client = {"aes128-ctr"};
       },
       {"3des-cbc", "aes128-ctr"}},
      {"MAC (client to server)",
       [](auto& c, auto& s) {
         c.ciphers_client_to_server = {"aes128-ctr"};
         c.macs_client_to_server = {"hmac-sha1"};
         s.macs_client_to_server = {"hmac-sha2-256"};
       },
       {"hmac-sha1", "hmac-sha2-256"}},
      {"compression (server to client)",
       [](auto& c, auto& s) {
         c.compression_server_to_client = {"zlib"};
         s.compression_server_to_client = {"none"};
       },
       {"zlib", "none"}},
  };
  for (const auto& test : cases) {
    SCOPED_TRACE(test.category);
    KexInitMessage client = default_kexinit(Role::Client);
    KexInitMessage server = default_kexinit(Role::Server);
    test.change(client, server);
    auto result = negotiate(client, server, Role::Client);
    ASSERT_FALSE(result.ok());
    EXPECT_TRUE(IsError(result.error(), DisconnectReason::KeyExchangeFailed,
                        {"no matching " + test.category, "client offers [" + test.names[0],
                         "server offers [" + test.names[1]}));
  }
}

TEST(NegotiateTest, AeadCiphersIgnoreMacLists) {
  KexInitMessage client = default_kexinit(Role::Client);
  KexInitMessage server = default_kexinit(Role::Server);
  for (const auto& cipher : crypto::supported_ciphers()) {
    SCOPED_TRACE(cipher);
    client.ciphers_client_to_server = client.ciphers_server_to_client = {cipher};
    client.macs_client_to_server = client.macs_server_to_client = {"hmac-nothing"};
    server.macs_client_to_server = server.macs_server_to_client = {};
    auto result = negotiate(client, server, Role::Server);
    if (crypto::is_aead_cipher(cipher)) {
      ASSERT_TRUE(result.ok()) << result.error().message;
      EXPECT_EQ(result->cipher_client_to_server, cipher);
      EXPECT_TRUE(result->mac_client_to_server.empty());
      EXPECT_TRUE(result->mac_server_to_client.empty());
    } else {
      ASSERT_FALSE(result.ok());
      EXPECT_TRUE(IsError(result.error(), DisconnectReason::KeyExchangeFailed,
                          {"no matching MAC", "hmac-nothing"}));
    }
  }
}

TEST(NegotiateTest, ExtensionMarkersAreNeverChosenAsKex) {
  const std::vector<std::string> markers = {
      std::string(kExtInfoClient), std::string(kExtInfoServer), std::string(kStrictKexClient),
      std::string(kStrictKexServer)};
  KexInitMessage client = default_kexinit(Role::Client);
  KexInitMessage server = default_kexinit(Role::Server);
  // Both list every marker first: still a real method wins.
  client.kex_algorithms = markers;
  client.kex_algorithms.push_back("ecdh-sha2-nistp256");
  server.kex_algorithms = markers;
  server.kex_algorithms.push_back("ecdh-sha2-nistp256");
  auto result = negotiate(client, server, Role::Client);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->kex, "ecdh-sha2-nistp256");
  EXPECT_TRUE(result->strict_kex);
  EXPECT_TRUE(result->peer_wants_ext_info);  // the server sent ext-info-s

  // Only markers in common: no method.
  client.kex_algorithms = markers;
  client.kex_algorithms.push_back("curve25519-sha256");
  auto none = negotiate(client, server, Role::Client);
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(IsError(none.error(), DisconnectReason::KeyExchangeFailed,
                      {"no matching key exchange method"}));
}

TEST(NegotiateTest, StrictKexAndExtInfoNeedTheRightSidesMarkers) {
  KexInitMessage client = default_kexinit(Role::Client);
  KexInitMessage server = default_kexinit(Role::Server);
  auto both = negotiate(client, server, Role::Server);
  ASSERT_TRUE(both.ok());
  EXPECT_TRUE(both->strict_kex);
  EXPECT_TRUE(both->peer_wants_ext_info);
  auto as_client = negotiate(client, server, Role::Client);
  ASSERT_TRUE(as_client.ok());
  EXPECT_FALSE(as_client->peer_wants_ext_info);  // servers do not send ext-info-s here

  // The server echoing the client's marker is not the server's marker.
  server.kex_algorithms = {"curve25519-sha256", std::string(kStrictKexClient)};
  auto echoed = negotiate(client, server, Role::Client);
  ASSERT_TRUE(echoed.ok());
  EXPECT_FALSE(echoed->strict_kex);

  // A rekey KEXINIT carries no markers.
  auto rekey =
      negotiate(make_kex_init(AlgorithmPolicy::defaults(), Role::Client, false, {}),
                make_kex_init(AlgorithmPolicy::defaults(), Role::Server, false, {}), Role::Server);
  ASSERT_TRUE(rekey.ok());
  EXPECT_FALSE(rekey->strict_kex);
  EXPECT_FALSE(rekey->peer_wants_ext_info);
}

TEST(NegotiateTest, GuessedKexPacketIsIgnoredOnlyWhenTheGuessIsWrong) {
  struct Case {
    std::string what;
    Role our_role;
    bool client_guesses;
    bool server_guesses;
    std::vector<std::string> client_kex;
    std::vector<std::string> client_host_keys;
    bool expect_ignore;
  };
  const std::vector<std::string> server_kex = {"curve25519-sha256", "ecdh-sha2-nistp256",
                                               std::string(kStrictKexServer)};
  const std::vector<std::string> server_host_keys = {"ssh-ed25519", "rsa-sha2-512"};
  const std::vector<Case> cases = {
      {"right guess", Role::Server, true, false, {"curve25519-sha256"}, {"ssh-ed25519"}, false},
      {"right guess behind markers",
       Role::Server,
       true,
       false,
       {std::string(kExtInfoClient), "curve25519-sha256"},
       {"ssh-ed25519"},
       false},
      {"wrong kex",
       Role::Server,
       true,
       false,
       {"ecdh-sha2-nistp256", "curve25519-sha256"},
       {"ssh-ed25519"},
       true},
      {"wrong host key",
       Role::Server,
       true,
       false,
       {"curve25519-sha256"},
       {"rsa-sha2-512", "ssh-ed25519"},
       true},
      {"no guess", Role::Server, false, false, {"ecdh-sha2-nistp256"}, {"rsa-sha2-512"}, false},
      {"only our own guess counts",
       Role::Client,
       true,
       false,
       {"ecdh-sha2-nistp256"},
       {"ssh-ed25519"},
       false},
      {"server guesses wrong",
       Role::Client,
       false,
       true,
       {"ecdh-sha2-nistp256"},
       {"ssh-ed25519"},
       true},
      {"server guesses right",
       Role::Client,
       false,
       true,
       {"curve25519-sha256"},
       {"ssh-ed25519"},
       false},
  };
  for (const auto& test : cases) {
    SCOPED_TRACE(test.what);
    KexInitMessage client = default_kexinit(Role::Client);
    KexInitMessage server = default_kexinit(Role::Server);
    client.kex_algorithms = test.client_kex;
    client.server_host_key_algorithms = test.client_host_keys;
    client.first_kex_packet_follows = test.client_guesses;
    server.kex_algorithms = server_kex;
    server.server_host_key_algorithms = server_host_keys;
    server.first_kex_packet_follows = test.server_guesses;
    auto result = negotiate(client, server, test.our_role);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->ignore_guessed_packet, test.expect_ignore);
  }
}

// --- PacketCodec ---------------------------------------------------------------------

std::uint32_t load_u32(const std::uint8_t* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

// Everything next_packet() hands out, copied, until it needs more bytes.
Result<std::vector<Bytes>> drain(PacketCodec& codec) {
  std::vector<Bytes> payloads;
  while (true) {
    auto next = codec.next_packet();
    if (!next) return next.take_error();
    if (!next->has_value()) return payloads;
    payloads.emplace_back((*next)->begin(), (*next)->end());
  }
}

// Feeds through the driver's path (prepare_receive / commit_received), one
// byte at a time, collecting packets as they complete.
Result<std::vector<Bytes>> feed_bytewise(PacketCodec& codec, ByteView bytes) {
  std::vector<Bytes> payloads;
  for (std::uint8_t byte : bytes) {
    auto space = codec.prepare_receive(1);
    space[0] = byte;
    codec.commit_received(1);
    auto more = drain(codec);
    if (!more) return more.take_error();
    payloads.insert(payloads.end(), more->begin(), more->end());
  }
  return payloads;
}

std::vector<std::size_t> codec_sizes() {
  return {1,  2,  3,   4,   5,   7,    8,    15,    16,    17,    31,
          32, 33, 100, 255, 256, 1000, 4096, 35000, 65536, 200000};
}

TEST(PacketCodecTest, PlainRoundTripWholeAndByteByByte) {
  const auto sizes = codec_sizes();
  Botan::AutoSeeded_RNG rng;
  PacketCodec sender;
  Bytes wire;
  std::vector<Bytes> payloads;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    payloads.push_back(test_payload(sizes[i], static_cast<std::uint32_t>(i)));
    // head and tail are concatenated
    const ByteView whole(payloads.back());
    const std::size_t split = whole.size() / 3;
    sender.encode(whole.first(split), whole.subspan(split), wire, rng);
    EXPECT_EQ(sender.send_sequence(), i + 1);
  }
  EXPECT_EQ(sender.packets_sent(), sizes.size());

  PacketCodec whole;
  whole.append_received(wire);
  auto received = drain(whole);
  ASSERT_TRUE(received.ok()) << received.error().message;
  EXPECT_TRUE(*received == payloads);
  EXPECT_EQ(whole.receive_sequence(), sizes.size());
  EXPECT_FALSE(whole.has_buffered_input());

  PacketCodec bytewise;
  auto slow = feed_bytewise(bytewise, wire);
  ASSERT_TRUE(slow.ok()) << slow.error().message;
  EXPECT_TRUE(*slow == payloads);
  EXPECT_EQ(bytewise.receive_sequence(), sizes.size());
}

TEST(PacketCodecTest, PlainPaddingIsAtLeastFourAndAligned) {
  Botan::AutoSeeded_RNG rng;
  PacketCodec codec;
  for (std::size_t size = 1; size <= 300; ++size) {
    SCOPED_TRACE(size);
    Bytes wire;
    const Bytes payload = test_payload(size, 7);
    codec.encode(payload, {}, wire, rng);
    ASSERT_GE(wire.size(), 16U);
    const std::uint32_t length = load_u32(wire.data());
    const std::size_t padding = wire[4];
    EXPECT_EQ(length + 4, wire.size());
    EXPECT_EQ((length + 4) % 8, 0U);
    EXPECT_GE(padding, 4U);
    EXPECT_LT(padding, 4U + 8U);  // no more than needed
    EXPECT_EQ(length - padding - 1, size);
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), wire.begin() + 5));
  }
}

// Seals nothing: shows the padding the codec chose for each packet shape.
class ShapeSealer final : public crypto::PacketSealer {
 public:
  ShapeSealer(std::size_t block, bool outside, std::size_t tag)
      : block_(block), outside_(outside), tag_(tag) {}
  std::size_t block_size() const override { return block_; }
  bool length_outside_alignment() const override { return outside_; }
  std::size_t tag_size() const override { return tag_; }
  void seal(std::uint32_t sequence, MutableByteView, MutableByteView tag) override {
    sequences.push_back(sequence);
    std::fill(tag.begin(), tag.end(), 0xee);
  }
  std::vector<std::uint32_t> sequences;

 private:
  std::size_t block_;
  bool outside_;
  std::size_t tag_;
};

TEST(PacketCodecTest, PaddingFitsEveryPacketShape) {
  Botan::AutoSeeded_RNG rng;
  struct Shape {
    std::size_t block;
    bool outside;
    std::size_t tag;
  };
  // encrypt-and-MAC AES, EtM / GCM, ChaCha20-Poly1305.
  for (const Shape shape : {Shape{16, false, 32}, Shape{16, true, 16}, Shape{8, true, 16}}) {
    SCOPED_TRACE("block " + std::to_string(shape.block) + (shape.outside ? " outside" : ""));
    PacketCodec codec;
    auto sealer = std::make_unique<ShapeSealer>(shape.block, shape.outside, shape.tag);
    ShapeSealer* seen = sealer.get();
    codec.set_sealer(std::move(sealer));
    for (std::size_t size = 1; size <= 100; ++size) {
      Bytes wire = {0xaa};  // appends, never overwrites
      codec.encode(test_payload(size, 1), {}, wire, rng);
      ASSERT_EQ(wire[0], 0xaa);
      const std::uint32_t length = load_u32(wire.data() + 1);
      const std::size_t padding = wire[5];
      EXPECT_EQ(wire.size(), 1 + 4 + length + shape.tag);
      EXPECT_EQ((length + (shape.outside ? 0 : 4)) % shape.block, 0U) << size;
      EXPECT_GE(padding, 4U);
      EXPECT_LT(padding, 4U + shape.block);
      EXPECT_EQ(length - padding - 1, size);
      EXPECT_EQ(wire.back(), 0xee);
    }
    ASSERT_EQ(seen->sequences.size(), 100U);
    EXPECT_EQ(seen->sequences.front(), 0U);
    EXPECT_EQ(seen->sequences.back(), 99U);
    codec.reset_send_sequence();
    EXPECT_EQ(codec.send_sequence(), 0U);
    Bytes wire;
    codec.encode(test_payload(9, 1), {}, wire, rng);
    EXPECT_EQ(seen->sequences.back(), 0U);  // strict KEX restarts at zero
    EXPECT_EQ(codec.send_sequence(), 1U);
    EXPECT_EQ(codec.packets_sent(), 101U);
  }
}

crypto::DirectionKeys fixed_keys(const CipherCase& test) {
  const auto sizes = crypto::key_sizes(test.cipher, test.mac);
  crypto::DirectionKeys keys;
  if (!sizes) return keys;
  for (std::size_t i = 0; i < sizes->iv; ++i) keys.iv.push_back(static_cast<std::uint8_t>(i));
  for (std::size_t i = 0; i < sizes->cipher_key; ++i) {
    keys.cipher_key.push_back(static_cast<std::uint8_t>(0x40 + i));
  }
  for (std::size_t i = 0; i < sizes->mac_key; ++i) {
    keys.mac_key.push_back(static_cast<std::uint8_t>(0x80 + i));
  }
  return keys;
}

class PacketCodecCipherTest : public ::testing::TestWithParam<CipherCase> {
 protected:
  void SetUp() override {
    keys_ = fixed_keys(GetParam());
    ASSERT_TRUE(crypto::key_sizes(GetParam().cipher, GetParam().mac).has_value());
  }
  std::unique_ptr<crypto::PacketSealer> sealer() {
    return crypto::make_sealer(GetParam().cipher, GetParam().mac, keys_);
  }
  std::unique_ptr<crypto::PacketOpener> opener() {
    return crypto::make_opener(GetParam().cipher, GetParam().mac, keys_);
  }

  crypto::DirectionKeys keys_;
  Botan::AutoSeeded_RNG rng_;
};

TEST_P(PacketCodecCipherTest, RoundTripsWholeAndByteByByte) {
  const auto sizes = codec_sizes();
  PacketCodec sender;
  auto made_sealer = sealer();
  ASSERT_NE(made_sealer, nullptr);
  sender.set_sealer(std::move(made_sealer));
  Bytes wire;
  std::vector<Bytes> payloads;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    payloads.push_back(test_payload(sizes[i], static_cast<std::uint32_t>(i)));
    sender.encode(payloads.back(), {}, wire, rng_);
  }
  EXPECT_EQ(sender.send_sequence(), sizes.size());
  // Encrypted: a long run of the last payload does not appear on the wire.
  const Bytes& last = payloads.back();
  EXPECT_EQ(std::search(wire.begin(), wire.end(), last.begin() + 100, last.begin() + 132),
            wire.end());

  PacketCodec whole;
  whole.set_opener(opener());
  whole.append_received(wire);
  auto received = drain(whole);
  ASSERT_TRUE(received.ok()) << received.error().message;
  EXPECT_TRUE(*received == payloads);
  EXPECT_EQ(whole.receive_sequence(), sizes.size());

  PacketCodec bytewise;
  bytewise.set_opener(opener());
  auto slow = feed_bytewise(bytewise, wire);
  ASSERT_TRUE(slow.ok()) << slow.error().message;
  EXPECT_TRUE(*slow == payloads);
}

TEST_P(PacketCodecCipherTest, SequenceNumbersAreAuthenticated) {
  PacketCodec sender;
  sender.set_sealer(sealer());
  Bytes first;
  Bytes second;
  sender.encode(test_payload(50, 1), {}, first, rng_);
  sender.encode(test_payload(50, 2), {}, second, rng_);
  // The second packet read as if it were the first (sequence 0, not 1).
  PacketCodec receiver;
  receiver.set_opener(opener());
  receiver.append_received(second);
  auto result = drain(receiver);
  ASSERT_FALSE(result.ok());
  const bool length_in_clear = GetParam().cipher.find("gcm") != std::string::npos ||
                               GetParam().mac.find("-etm") != std::string::npos;
  if (length_in_clear) {
    // Nothing but the sequence number (and the cipher state) is wrong.
    EXPECT_TRUE(IsError(result.error(), DisconnectReason::MacError, {"packet 0"}));
  } else {
    // The length decrypts to garbage first, or the MAC fails.
    EXPECT_TRUE(result.error().reason == DisconnectReason::MacError ||
                result.error().reason == DisconnectReason::ProtocolError)
        << result.error().message;
  }
  // In order, both packets open.
  PacketCodec in_order;
  in_order.set_opener(opener());
  in_order.append_received(first);
  in_order.append_received(second);
  auto both = drain(in_order);
  ASSERT_TRUE(both.ok()) << both.error().message;
  EXPECT_EQ(both->size(), 2U);
}

TEST_P(PacketCodecCipherTest, EveryFlippedByteIsRefused) {
  PacketCodec sender;
  sender.set_sealer(sealer());
  Bytes wire;
  sender.encode(test_payload(40, 5), {}, wire, rng_);
  for (std::size_t i = 0; i < wire.size(); ++i) {
    SCOPED_TRACE(i);
    Bytes damaged = wire;
    damaged[i] ^= 0x01;
    PacketCodec receiver;
    receiver.set_opener(opener());
    receiver.append_received(damaged);
    auto result = drain(receiver);
    // A damaged length may also just look like a longer packet still arriving.
    if (result.ok()) {
      EXPECT_TRUE(result->empty());
    } else {
      EXPECT_TRUE(result.error().reason == DisconnectReason::MacError ||
                  result.error().reason == DisconnectReason::ProtocolError)
          << result.error().message;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllCiphersAndMacs, PacketCodecCipherTest,
                         ::testing::ValuesIn(cipher_cases()), cipher_case_name);

TEST(PacketCodecTest, RefusesBadLengthsAndPadding) {
  auto first_error = [](Bytes bytes) -> std::optional<Error> {
    PacketCodec codec;
    codec.append_received(bytes);
    auto result = drain(codec);
    if (result.ok()) return std::nullopt;
    return result.error();
  };
  const std::uint32_t too_long = limits::kMaxPacketLength + 8;
  EXPECT_TRUE(IsError(
      first_error({static_cast<std::uint8_t>(too_long >> 24),
                   static_cast<std::uint8_t>(too_long >> 16),
                   static_cast<std::uint8_t>(too_long >> 8), static_cast<std::uint8_t>(too_long)}),
      DisconnectReason::ProtocolError, {"exceeds the limit"}));
  EXPECT_TRUE(
      IsError(first_error({0, 0, 0, 9}), DisconnectReason::ProtocolError, {"bad packet length 9"}));
  EXPECT_TRUE(
      IsError(first_error({0, 0, 0, 0}), DisconnectReason::ProtocolError, {"bad packet length 0"}));
  // packet_length 12: padding 3 is too little; 11 leaves no payload.
  EXPECT_TRUE(IsError(first_error({0, 0, 0, 12, 3, 94, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
                      DisconnectReason::ProtocolError, {"bad padding length 3"}));
  EXPECT_TRUE(IsError(first_error({0, 0, 0, 12, 11, 94, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
                      DisconnectReason::ProtocolError, {"bad padding length 11"}));
  // The largest allowed length is fine (and waits for its bytes).
  const std::uint32_t largest = limits::kMaxPacketLength - 4;
  EXPECT_FALSE(
      first_error({static_cast<std::uint8_t>(largest >> 24),
                   static_cast<std::uint8_t>(largest >> 16),
                   static_cast<std::uint8_t>(largest >> 8), static_cast<std::uint8_t>(largest)})
          .has_value());
}

TEST(PacketCodecTest, PartialPacketWaitsWithoutConsuming) {
  Botan::AutoSeeded_RNG rng;
  PacketCodec sender;
  Bytes wire;
  sender.encode(test_payload(100, 1), {}, wire, rng);
  PacketCodec receiver;
  receiver.append_received(ByteView(wire).first(3));
  auto none = receiver.next_packet();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  receiver.append_received(ByteView(wire).subspan(3, 50));
  none = receiver.next_packet();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_TRUE(receiver.has_buffered_input());
  EXPECT_EQ(receiver.receive_sequence(), 0U);
  receiver.append_received(ByteView(wire).subspan(53));
  auto payload = receiver.next_packet();
  ASSERT_TRUE(payload.ok());
  ASSERT_TRUE(payload->has_value());
  const Bytes expected = test_payload(100, 1);
  EXPECT_TRUE(std::equal((*payload)->begin(), (*payload)->end(), expected.begin(), expected.end()));
  EXPECT_EQ(receiver.receive_sequence(), 1U);
  EXPECT_FALSE(receiver.has_buffered_input());
}

// --- The connection layer over two transports ------------------------------------------

class ChannelRecorder : public connection::ChannelHandler {
 public:
  void on_open_confirmed(std::uint32_t channel) override {
    id = channel;
    confirmed = true;
  }
  void on_data(std::uint32_t, ByteView bytes) override {
    data.insert(data.end(), bytes.begin(), bytes.end());
    if (data_hook) data_hook();
  }
  void on_eof(std::uint32_t) override { eof = true; }
  void on_close(std::uint32_t) override { closed = true; }
  void on_send_window_available(std::uint32_t) override {
    if (window_hook) window_hook();
  }

  std::uint32_t id = 0xffffffff;
  bool confirmed = false;
  bool eof = false;
  bool closed = false;
  Bytes data;
  std::function<void()> data_hook;
  std::function<void()> window_hook;
};

class AcceptAll : public connection::ConnectionHandler {
 public:
  connection::OpenDecision on_channel_open(std::string_view type, ByteView) override {
    types.emplace_back(type);
    accepted.push_back(std::make_shared<ChannelRecorder>());
    return accepted.back();
  }
  std::vector<std::string> types;
  std::vector<std::shared_ptr<ChannelRecorder>> accepted;
};

class TransportSink : public connection::PayloadSink {
 public:
  explicit TransportSink(Transport& transport) : transport_(transport) {}
  Status send_payload(ByteView head, ByteView tail) override {
    return transport_.send_payload(head, tail);
  }

 private:
  Transport& transport_;
};

std::function<Status(ByteView)> route_to(connection::Connection& connection) {
  return [&connection](ByteView payload) -> Status {
    if (!wire::is_connection_message(payload[0])) {
      return protocol_error("unexpected " + std::string(wire::message_name(payload[0])));
    }
    return connection.handle_message(payload);
  };
}

// Sends what the channel window allows, the rest when it opens again.
struct WindowedSender {
  connection::Connection& connection;
  std::uint32_t id;
  const Bytes& data;
  std::size_t offset = 0;
  std::string error;
  void push() {
    while (offset < data.size()) {
      auto sent = connection.send_data(id, ByteView(data).subspan(offset));
      if (!sent) {
        error = sent.error().message;
        return;
      }
      offset += *sent;
      if (*sent == 0) break;
    }
  }
};

TEST(TransportConnectionTest, SessionChannelCarriesFiveMebibytesEachWayAcrossRekey) {
  TransportPair pair(client_transport_config(), ed25519_server());
  pair.set_chunking(16 * 1024, 21);
  ASSERT_TRUE(IsOk(pair.handshake()));

  TransportSink client_sink(pair.client());
  TransportSink server_sink(pair.server());
  auto acceptor = std::make_shared<AcceptAll>();
  connection::Connection client(Role::Client, {}, client_sink);
  connection::Connection server(Role::Server, {}, server_sink, acceptor);
  pair.client_callbacks().payload_hook = route_to(client);
  pair.server_callbacks().payload_hook = route_to(server);

  auto client_channel = std::make_shared<ChannelRecorder>();
  auto opened = client.open_channel(connection::SessionOpen{}, client_channel);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  ASSERT_TRUE(IsOk(pair.pump()));
  ASSERT_TRUE(client_channel->confirmed);
  ASSERT_EQ(acceptor->types, std::vector<std::string>{"session"});
  auto server_channel = acceptor->accepted[0];
  ASSERT_TRUE(server_channel->confirmed);

  constexpr std::size_t kSize = 5 * 1024 * 1024;
  Bytes upload(kSize);
  Bytes download(kSize);
  for (std::size_t i = 0; i < kSize; ++i) {
    upload[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
    download[i] = static_cast<std::uint8_t>(i * 13 + i / 241);
  }
  WindowedSender up{client, *opened, upload};
  WindowedSender down{server, server_channel->id, download};
  client_channel->window_hook = [&] { up.push(); };
  server_channel->window_hook = [&] { down.push(); };

  // Halfway through the upload the server asks for new keys.
  bool rekey_requested = false;
  server_channel->data_hook = [&] {
    if (!rekey_requested && server_channel->data.size() >= kSize / 2) {
      rekey_requested = true;
      pair.server().request_rekey();
    }
  };
  std::size_t uploaded_at_rekey = 0;
  std::size_t downloaded_at_rekey = 0;
  pair.server_callbacks().kex_hook = [&](bool first) {
    if (!first) uploaded_at_rekey = server_channel->data.size();
  };
  pair.client_callbacks().kex_hook = [&](bool first) {
    if (!first) downloaded_at_rekey = client_channel->data.size();
  };

  up.push();
  down.push();
  ASSERT_TRUE(IsOk(pair.pump()));
  EXPECT_EQ(up.error, "");
  EXPECT_EQ(down.error, "");
  EXPECT_EQ(up.offset, kSize);
  EXPECT_EQ(down.offset, kSize);
  EXPECT_TRUE(server_channel->data == upload);
  EXPECT_TRUE(client_channel->data == download);
  EXPECT_TRUE(rekey_requested);
  EXPECT_EQ(pair.client().key_exchanges_completed(), 2U);
  EXPECT_EQ(pair.server().key_exchanges_completed(), 2U);
  EXPECT_EQ(pair.client_callbacks().kex_completions, (std::vector<bool>{true, false}));
  // The exchange happened with data still to come.
  EXPECT_GE(uploaded_at_rekey, kSize / 2);
  EXPECT_LT(uploaded_at_rekey, kSize);
  EXPECT_LT(downloaded_at_rekey, kSize);

  ASSERT_TRUE(IsOk(client.send_eof(*opened)));
  ASSERT_TRUE(IsOk(client.close(*opened)));
  ASSERT_TRUE(IsOk(pair.pump()));
  EXPECT_TRUE(server_channel->eof);
  EXPECT_TRUE(server_channel->closed);
  EXPECT_TRUE(client_channel->closed);
  EXPECT_EQ(client.channel_count(), 0U);
  EXPECT_EQ(server.channel_count(), 0U);
  EXPECT_FALSE(pair.client().is_closed());
  EXPECT_FALSE(pair.server().is_closed());
}

}  // namespace
}  // namespace ssh::transport
