// Host key rotation (OpenSSH PROTOCOL 2.5): the hostkeys-00 / hostkeys-prove-00
// messages, the client's decisions (new, known and removed keys; limits,
// duplicates, unusable blobs), the proofs for each key type over the exact
// bytes the protocol names, hostile servers (bad proofs, wrong counts, an
// announcement before authentication) through real sessions in memory, and
// the known_hosts rewrite.
#include <botan/auto_rng.h>
#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ssh/client_session.hpp"
#include "ssh/config/client_options.hpp"
#include "ssh/config/known_hosts.hpp"
#include "ssh/hostkeys/host_key_rotation.hpp"
#include "ssh/limits.hpp"
#include "ssh/server_session.hpp"
#include "support/session_pump.hpp"
#include "support/transport_pair.hpp"

namespace {

using namespace ssh;
using connection::HostKeysAnnouncement;
using connection::HostKeysProveReply;
using connection::HostKeysProveRequest;
using hostkeys::KnownHostKeys;
using testing_support::cached_host_key;

Bytes from_hex(std::string_view hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

const Bytes& ed25519_blob() {
  return cached_host_key("ssh-ed25519").public_key().blob();
}
const Bytes& ecdsa_blob() {
  return cached_host_key("ecdsa-sha2-nistp256").public_key().blob();
}
const Bytes& rsa_blob() {
  return cached_host_key("ssh-rsa").public_key().blob();
}

// A key that is not one of the cached host keys (a host's old key).
const keys::PrivateKey& old_key() {
  static const keys::PrivateKey key = [] {
    Botan::AutoSeeded_RNG rng;
    return *keys::PrivateKey::generate("ssh-ed25519", 0, rng);
  }();
  return key;
}

// --- Messages -------------------------------------------------------------------

TEST(HostKeysMessages, AnnouncementIsOneStringPerKey) {
  const HostKeysAnnouncement announcement{{from_hex("aabb"), from_hex("cc")}};
  EXPECT_EQ(connection::encode_to_bytes(announcement), from_hex("00000002aabb00000001cc"));
  const auto decoded = HostKeysAnnouncement::decode(from_hex("00000002aabb00000001cc"));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->host_keys, announcement.host_keys);
  EXPECT_EQ(HostKeysAnnouncement::kType, "hostkeys-00@openssh.com");
  EXPECT_EQ(HostKeysProveRequest::kType, "hostkeys-prove-00@openssh.com");
}

TEST(HostKeysMessages, TruncatedStringsAreMalformed) {
  EXPECT_FALSE(HostKeysAnnouncement::decode(from_hex("00000002aa")));
  EXPECT_FALSE(HostKeysProveRequest::decode(from_hex("000000")));
  EXPECT_FALSE(HostKeysProveReply::decode(from_hex("00000005aabbcc")));
  const auto empty = HostKeysProveReply::decode({});
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->signatures.empty());
}

TEST(HostKeysMessages, ProofSignsTheLayoutOfProtocol25) {
  // string("hostkeys-prove-00@openssh.com") || string(session id) || string(key blob)
  const Bytes expected = from_hex(
      "0000001d"
      "686f73746b6579732d70726f76652d3030406f70656e7373682e636f6d"
      "000000020102"
      "00000001aa");
  EXPECT_EQ(hostkeys::proof_signed_data(from_hex("0102"), from_hex("aa")), expected);
}

TEST(HostKeysServer, AnnouncementListsEveryHostKeyOnceInOrder) {
  const auto announcement = hostkeys::make_announcement({cached_host_key("ssh-ed25519"),
                                                         cached_host_key("ecdsa-sha2-nistp256"),
                                                         cached_host_key("ssh-ed25519")});
  EXPECT_EQ(announcement.host_keys, (std::vector<Bytes>{ed25519_blob(), ecdsa_blob()}));
}

// --- Client decisions -------------------------------------------------------------

TEST(HostKeysPlan, SplitsNewKnownAndRemovedKeys) {
  const HostKeysAnnouncement announcement{{ed25519_blob(), ecdsa_blob(), rsa_blob()}};
  KnownHostKeys known;
  known.known = {ed25519_blob(), old_key().public_key().blob()};
  known.removable = {ed25519_blob(), old_key().public_key().blob()};
  const auto plan = hostkeys::plan_update(announcement, known, {});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->offered.size(), 3U);
  ASSERT_EQ(plan->to_prove.size(), 2U);
  EXPECT_EQ(plan->to_prove[0].blob(), ecdsa_blob());
  EXPECT_EQ(plan->to_prove[1].blob(), rsa_blob());
  EXPECT_EQ(plan->to_remove, std::vector<Bytes>{old_key().public_key().blob()});
  EXPECT_EQ(plan->skipped, 0U);
  EXPECT_EQ(plan->summary(), "server offers 3 host keys, 2 new, 1 to remove, 0 skipped");
}

TEST(HostKeysPlan, KnownKeysThatMayNotBeRemovedStay) {
  const HostKeysAnnouncement announcement{{ed25519_blob()}};
  KnownHostKeys known;
  known.known = {ed25519_blob(), old_key().public_key().blob()};
  const auto plan = hostkeys::plan_update(announcement, known, {});
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->changes_nothing());
}

TEST(HostKeysPlan, RemovingAKeyOtherHostsShareIgnoresTheUpdate) {
  const HostKeysAnnouncement announcement{{ed25519_blob(), ecdsa_blob()}};
  KnownHostKeys known;
  known.known = {ed25519_blob(), old_key().public_key().blob()};
  known.removable = {old_key().public_key().blob()};
  known.also_for_other_hosts = {old_key().public_key().blob()};
  const auto plan = hostkeys::plan_update(announcement, known, {});
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("other hosts"), std::string::npos);
  // A shared key that stays is no reason to skip.
  known.removable = {ed25519_blob()};
  known.also_for_other_hosts = {ed25519_blob()};
  EXPECT_TRUE(hostkeys::plan_update(announcement, known, {}));
}

TEST(HostKeysPlan, UnparseableBlobsAreSkipped) {
  Bytes unknown_type;
  wire::Writer(unknown_type).string("ssh-dss-from-the-future");
  const HostKeysAnnouncement announcement{{from_hex("0000"), unknown_type, ecdsa_blob()}};
  KnownHostKeys known;
  known.known = {ed25519_blob()};
  const auto plan = hostkeys::plan_update(announcement, known, {});
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->skipped, 2U);
  ASSERT_EQ(plan->to_prove.size(), 1U);
  EXPECT_EQ(plan->to_prove[0].blob(), ecdsa_blob());
}

TEST(HostKeysPlan, KeysOutsideHostKeyAlgorithmsAndRevokedKeysAreSkipped) {
  const HostKeysAnnouncement announcement{{ed25519_blob(), ecdsa_blob(), rsa_blob()}};
  KnownHostKeys known;
  known.known = {ed25519_blob(), ecdsa_blob()};
  known.removable = {ecdsa_blob()};
  known.revoked = {rsa_blob()};
  // rsa-sha2-256 alone admits an RSA key; ECDSA is not listed.
  const auto plan = hostkeys::plan_update(announcement, known, {"ssh-ed25519", "rsa-sha2-256"});
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->skipped, 2U);
  EXPECT_TRUE(plan->to_prove.empty());
  // Skipped, but the server still holds it: it stays in known_hosts.
  EXPECT_TRUE(plan->to_remove.empty());
}

TEST(HostKeysPlan, DuplicateKeysIgnoreTheWholeAnnouncement) {
  const HostKeysAnnouncement announcement{{ecdsa_blob(), ed25519_blob(), ecdsa_blob()}};
  const auto plan = hostkeys::plan_update(announcement, {}, {});
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("twice"), std::string::npos);
}

TEST(HostKeysPlan, NoUsableKeyRemovesNothing) {
  const HostKeysAnnouncement announcement{{from_hex("00000001ff")}};
  KnownHostKeys known;
  known.known = {ed25519_blob()};
  known.removable = {ed25519_blob()};
  EXPECT_FALSE(hostkeys::plan_update(announcement, known, {}));
  EXPECT_FALSE(hostkeys::plan_update(HostKeysAnnouncement{}, known, {}));
}

TEST(HostKeysRotationTest, AnnouncementLimitAtAndPast) {
  // Distinct unparseable blobs fill the announcement up to the limit.
  HostKeysAnnouncement announcement{{ecdsa_blob()}};
  for (std::uint32_t i = 1; i < limits::kMaxHostKeysAnnounced; ++i) {
    Bytes junk;
    wire::Writer(junk).u32(i);
    announcement.host_keys.push_back(junk);
  }
  const auto at_limit = hostkeys::plan_update(announcement, {}, {});
  ASSERT_TRUE(at_limit) << at_limit.error().message;
  EXPECT_EQ(at_limit->skipped, limits::kMaxHostKeysAnnounced - 1);
  EXPECT_EQ(at_limit->to_prove.size(), 1U);

  announcement.host_keys.push_back(ed25519_blob());
  const auto past = hostkeys::plan_update(announcement, {}, {});
  ASSERT_FALSE(past);
  EXPECT_NE(past.error().message.find("65 host keys"), std::string::npos);
}

// --- Proofs --------------------------------------------------------------------------

struct ProofCase {
  std::string key_type;
  std::string kex_host_key_algorithm;
  std::string expected_signature_algorithm;
};

class HostKeysProof : public ::testing::TestWithParam<ProofCase> {};

TEST_P(HostKeysProof, RoundTripSignsTheExactBytes) {
  const auto& param = GetParam();
  Botan::AutoSeeded_RNG rng;
  const Bytes session_id =
      from_hex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  const std::vector<keys::PrivateKey> host_keys = {cached_host_key("ssh-ed25519"),
                                                   cached_host_key(param.key_type)};
  const auto& proved = cached_host_key(param.key_type).public_key();

  const HostKeysProveRequest request{{proved.blob()}};
  // Through the wire encoding, as the server receives it.
  const auto received = HostKeysProveRequest::decode(connection::encode_to_bytes(request));
  ASSERT_TRUE(received);
  auto reply = hostkeys::prove_host_keys(*received, host_keys, session_id,
                                         param.kex_host_key_algorithm, rng);
  ASSERT_TRUE(reply) << reply.error().message;
  ASSERT_EQ(reply->signatures.size(), 1U);

  // Checked independently of verify_proofs: the signature is over the bytes
  // PROTOCOL 2.5 names, with the expected algorithm.
  Bytes signed_bytes;
  wire::Writer out(signed_bytes);
  out.string("hostkeys-prove-00@openssh.com");
  out.string(session_id);
  out.string(proved.blob());
  EXPECT_TRUE(
      proved.verify(param.expected_signature_algorithm, signed_bytes, reply->signatures[0]).ok());

  hostkeys::HostKeyUpdatePlan plan;
  plan.to_prove = {proved};
  const Bytes reply_data = connection::encode_to_bytes(*reply);
  EXPECT_TRUE(
      hostkeys::verify_proofs(plan, reply_data, session_id, param.kex_host_key_algorithm).ok());
  // Another session's identifier makes it worthless.
  Bytes other_session = session_id;
  other_session[0] ^= 1;
  EXPECT_FALSE(
      hostkeys::verify_proofs(plan, reply_data, other_session, param.kex_host_key_algorithm).ok());
  // So does one flipped bit in the signature.
  auto tampered = *reply;
  tampered.signatures[0].back() ^= 1;
  EXPECT_FALSE(hostkeys::verify_proofs(plan, connection::encode_to_bytes(tampered), session_id,
                                       param.kex_host_key_algorithm)
                   .ok());
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, HostKeysProof,
                         ::testing::Values(ProofCase{"ssh-ed25519", "ssh-ed25519", "ssh-ed25519"},
                                           ProofCase{"ecdsa-sha2-nistp256", "ssh-ed25519",
                                                     "ecdsa-sha2-nistp256"},
                                           ProofCase{"ssh-rsa", "ssh-ed25519", "rsa-sha2-512"},
                                           ProofCase{"ssh-rsa", "rsa-sha2-256", "rsa-sha2-256"},
                                           ProofCase{"ssh-rsa", "rsa-sha2-512", "rsa-sha2-512"}),
                         [](const auto& test_info) {
                           std::string name = test_info.param.key_type + "_after_" +
                                              test_info.param.kex_host_key_algorithm;
                           for (auto& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(HostKeysProof, RsaProofMustUseTheRsaAlgorithmOfTheKeyExchange) {
  Botan::AutoSeeded_RNG rng;
  const Bytes session_id = from_hex("0102030405");
  const auto& rsa = cached_host_key("ssh-rsa");
  const auto reply = hostkeys::prove_host_keys({{rsa.public_key().blob()}}, {rsa}, session_id,
                                               "rsa-sha2-256", rng);
  ASSERT_TRUE(reply);
  hostkeys::HostKeyUpdatePlan plan;
  plan.to_prove = {rsa.public_key()};
  const Bytes data = connection::encode_to_bytes(*reply);
  EXPECT_TRUE(hostkeys::verify_proofs(plan, data, session_id, "rsa-sha2-256").ok());
  EXPECT_FALSE(hostkeys::verify_proofs(plan, data, session_id, "rsa-sha2-512").ok());
}

TEST(HostKeysProof, WrongNumberOfProofsIsRefused) {
  Botan::AutoSeeded_RNG rng;
  const Bytes session_id = from_hex("0102");
  const auto& ed25519 = cached_host_key("ssh-ed25519");
  const auto& ecdsa = cached_host_key("ecdsa-sha2-nistp256");
  auto reply = hostkeys::prove_host_keys({{ed25519.public_key().blob()}}, {ed25519, ecdsa},
                                         session_id, "ssh-ed25519", rng);
  ASSERT_TRUE(reply);
  hostkeys::HostKeyUpdatePlan plan;
  plan.to_prove = {ed25519.public_key(), ecdsa.public_key()};
  const auto verified =
      hostkeys::verify_proofs(plan, connection::encode_to_bytes(*reply), session_id, "ssh-ed25519");
  ASSERT_FALSE(verified.ok());
  EXPECT_NE(verified.error().message.find("1 proofs for 2 keys"), std::string::npos);
  // Proofs in the wrong order are bad proofs.
  auto both = hostkeys::prove_host_keys({{ecdsa.public_key().blob(), ed25519.public_key().blob()}},
                                        {ed25519, ecdsa}, session_id, "ssh-ed25519", rng);
  ASSERT_TRUE(both);
  EXPECT_FALSE(
      hostkeys::verify_proofs(plan, connection::encode_to_bytes(*both), session_id, "ssh-ed25519")
          .ok());
}

TEST(HostKeysServer, RefusesKeysItDoesNotHoldAndRepeats) {
  Botan::AutoSeeded_RNG rng;
  const std::vector<keys::PrivateKey> host_keys = {cached_host_key("ssh-ed25519")};
  EXPECT_FALSE(hostkeys::prove_host_keys({{ecdsa_blob()}}, host_keys, {}, "ssh-ed25519", rng));
  EXPECT_FALSE(hostkeys::prove_host_keys({{ed25519_blob(), ed25519_blob()}}, host_keys, {},
                                         "ssh-ed25519", rng));
  EXPECT_FALSE(hostkeys::prove_host_keys({}, host_keys, {}, "ssh-ed25519", rng));
}

TEST(HostKeysRotationTest, ServerRefusesProveRequestPastLimit) {
  Botan::AutoSeeded_RNG rng;
  const std::vector<keys::PrivateKey> host_keys = {cached_host_key("ssh-ed25519")};
  HostKeysProveRequest request{{ed25519_blob()}};
  for (std::uint32_t i = 1; i < limits::kMaxHostKeysAnnounced; ++i) {
    Bytes junk;
    wire::Writer(junk).u32(i);
    request.host_keys.push_back(junk);
  }
  // At the limit the request is judged on its keys (junk is not ours).
  const auto at_limit = hostkeys::prove_host_keys(request, host_keys, {}, "ssh-ed25519", rng);
  ASSERT_FALSE(at_limit);
  EXPECT_NE(at_limit.error().message.find("not ours"), std::string::npos);
  request.host_keys.push_back(from_hex("00"));
  const auto past = hostkeys::prove_host_keys(request, host_keys, {}, "ssh-ed25519", rng);
  ASSERT_FALSE(past);
  EXPECT_NE(past.error().message.find("65 host keys"), std::string::npos);
}

// --- Sessions in memory --------------------------------------------------------------

class RotationClientCallbacks : public ClientSessionCallbacks {
 public:
  Status verify_host_key(const keys::PublicKey&, std::string_view) override { return {}; }
  void on_authenticated() override { authenticated = true; }
  std::optional<std::string> password_for(std::string_view) override { return std::nullopt; }
  std::optional<std::vector<std::string>> keyboard_interactive(
      const auth::UserauthInfoRequest&) override {
    return std::nullopt;
  }
  void banner(std::string_view) override {}
  std::optional<KnownHostKeys> known_host_keys_for_update() override {
    ++asked;
    return known;
  }
  void update_known_host_keys(const std::vector<keys::PublicKey>& added,
                              const std::vector<Bytes>& removed) override {
    ++updates;
    added_keys = added;
    removed_keys = removed;
  }

  bool authenticated = false;
  std::optional<KnownHostKeys> known;
  int asked = 0;
  int updates = 0;
  std::vector<keys::PublicKey> added_keys;
  std::vector<Bytes> removed_keys;
};

// Answers prove requests itself when the ServerSession leaves them to the
// connection handler (announce_host_keys off): a server that lies.
class LyingProver : public connection::ConnectionHandler {
 public:
  std::optional<Bytes> on_global_request(std::string_view name, bool, ByteView data) override {
    if (name != HostKeysProveRequest::kType) return std::nullopt;
    ++requests;
    const auto request = HostKeysProveRequest::decode(data);
    if (!request || !answer) return std::nullopt;
    return answer(*request);
  }
  std::function<Bytes(const HostKeysProveRequest&)> answer;
  int requests = 0;
};

class RotationServerCallbacks : public ServerSessionCallbacks {
 public:
  std::optional<auth::KeyAuthorization> authorize_key(std::string_view,
                                                      const keys::PublicKey& key) override {
    if (on_authorize) on_authorize();
    if (key.blob() != client_key.blob()) return std::nullopt;
    return auth::KeyAuthorization{config::AuthorizedKeyOptions{}, "test"};
  }
  bool check_password(std::string_view, std::string_view) override { return false; }
  std::optional<auth::UserauthInfoRequest> keyboard_interactive_prompts(std::string_view) override {
    return std::nullopt;
  }
  bool check_keyboard_interactive(std::string_view, const std::vector<std::string>&) override {
    return false;
  }
  std::shared_ptr<connection::ConnectionHandler> on_authenticated(
      const auth::AuthenticatedUser&) override {
    return handler;
  }

  keys::PublicKey client_key = cached_host_key("ssh-ed25519").public_key();
  std::function<void()> on_authorize;
  std::shared_ptr<LyingProver> handler = std::make_shared<LyingProver>();
};

class HostKeysSession : public ::testing::Test {
 protected:
  using TimePoint = transport::TimePoint;

  void make(std::vector<keys::PrivateKey> server_keys, bool server_proves = true) {
    ClientSessionConfig client_config;
    client_config.auth.user = "alice";
    client_config.auth.identities.emplace_back("key", cached_host_key("ssh-ed25519"));
    // ed25519 first: the key exchange uses the key the client already knows.
    client_config.transport.policy.host_key = {"ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512",
                                               "rsa-sha2-256"};
    ServerSessionConfig server_config;
    server_config.transport.host_keys = std::move(server_keys);
    server_config.announce_host_keys = server_proves;
    client_ = std::make_unique<ClientSession>(std::move(client_config), client_callbacks_, rng_);
    server_ = std::make_unique<ServerSession>(std::move(server_config), server_callbacks_, rng_);
    server_->start(now_);
    client_->start(now_);
  }

  void pump() { testing_support::pump_sessions(*client_, *server_, now_); }

  // What a server without the extension can still send by hand.
  void announce_from_server(const std::vector<Bytes>& blobs) {
    ASSERT_TRUE(server_->connection()
                    .send_global_request(HostKeysAnnouncement::kType, false,
                                         connection::encode_to_bytes(HostKeysAnnouncement{blobs}))
                    .ok());
  }

  Botan::AutoSeeded_RNG rng_;
  TimePoint now_ = TimePoint{} + std::chrono::seconds(1000);
  RotationClientCallbacks client_callbacks_;
  RotationServerCallbacks server_callbacks_;
  std::unique_ptr<ClientSession> client_;
  std::unique_ptr<ServerSession> server_;
};

TEST_F(HostKeysSession, ClientLearnsProvedKeysAndForgetsOldOnes) {
  KnownHostKeys known;
  known.known = {ed25519_blob(), old_key().public_key().blob()};
  known.removable = known.known;
  client_callbacks_.known = known;
  make({cached_host_key("ssh-ed25519"), cached_host_key("ecdsa-sha2-nistp256"),
        cached_host_key("ssh-rsa")});
  pump();
  ASSERT_TRUE(client_->authenticated());
  EXPECT_FALSE(client_->closed());
  EXPECT_EQ(client_callbacks_.asked, 1);
  ASSERT_EQ(client_callbacks_.updates, 1);
  ASSERT_EQ(client_callbacks_.added_keys.size(), 2U);
  EXPECT_EQ(client_callbacks_.added_keys[0].blob(), ecdsa_blob());
  EXPECT_EQ(client_callbacks_.added_keys[1].blob(), rsa_blob());
  EXPECT_EQ(client_callbacks_.removed_keys, std::vector<Bytes>{old_key().public_key().blob()});
}

TEST_F(HostKeysSession, ServerProvesOncePerConnection) {
  make({cached_host_key("ssh-ed25519"), cached_host_key("ecdsa-sha2-nistp256")});
  pump();
  ASSERT_TRUE(client_->authenticated());
  std::vector<bool> outcomes;
  const auto ask = [&](const std::vector<Bytes>& blobs) {
    ASSERT_TRUE(client_->connection()
                    .send_global_request(
                        HostKeysProveRequest::kType, true,
                        connection::encode_to_bytes(HostKeysProveRequest{blobs}),
                        [&](bool success, ByteView data) {
                          outcomes.push_back(success);
                          if (!success) return;
                          hostkeys::HostKeyUpdatePlan plan;
                          plan.to_prove = {cached_host_key("ecdsa-sha2-nistp256").public_key()};
                          EXPECT_TRUE(hostkeys::verify_proofs(plan, data,
                                                              client_->transport().session_id(),
                                                              "ssh-ed25519")
                                          .ok());
                        })
                    .ok());
    pump();
  };
  ask({ecdsa_blob()});
  ask({ecdsa_blob()});
  EXPECT_EQ(outcomes, (std::vector<bool>{true, false}));
  EXPECT_FALSE(server_->closed());
}

TEST_F(HostKeysSession, ServerRefusesToProveKeysItLacks) {
  make({cached_host_key("ssh-ed25519")});
  pump();
  ASSERT_TRUE(client_->authenticated());
  std::optional<bool> outcome;
  ASSERT_TRUE(
      client_->connection()
          .send_global_request(HostKeysProveRequest::kType, true,
                               connection::encode_to_bytes(HostKeysProveRequest{{rsa_blob()}}),
                               [&](bool success, ByteView) { outcome = success; })
          .ok());
  pump();
  ASSERT_TRUE(outcome);
  EXPECT_FALSE(*outcome);
}

TEST_F(HostKeysSession, UpdateHostKeysOffAsksForNoProof) {
  make({cached_host_key("ssh-ed25519"), cached_host_key("ecdsa-sha2-nistp256")}, false);
  pump();
  ASSERT_TRUE(client_->authenticated());
  announce_from_server({ed25519_blob(), ecdsa_blob()});
  pump();
  EXPECT_EQ(client_callbacks_.asked, 1);
  EXPECT_EQ(server_callbacks_.handler->requests, 0);
  EXPECT_EQ(client_callbacks_.updates, 0);
  EXPECT_FALSE(client_->closed());
}

TEST_F(HostKeysSession, BadSignatureChangesNothing) {
  KnownHostKeys known;
  known.known = {ed25519_blob(), old_key().public_key().blob()};
  known.removable = known.known;
  client_callbacks_.known = known;
  // The server proves with the right key but over another session's id.
  server_callbacks_.handler->answer = [this](const HostKeysProveRequest& request) {
    auto reply = hostkeys::prove_host_keys(request, {cached_host_key("ecdsa-sha2-nistp256")},
                                           from_hex("0badc0de"), "ssh-ed25519", rng_);
    return connection::encode_to_bytes(*reply);
  };
  make({cached_host_key("ssh-ed25519")}, false);
  pump();
  ASSERT_TRUE(client_->authenticated());
  announce_from_server({ed25519_blob(), ecdsa_blob()});
  pump();
  EXPECT_EQ(server_callbacks_.handler->requests, 1);
  EXPECT_EQ(client_callbacks_.updates, 0);
  EXPECT_FALSE(client_->closed());
}

TEST_F(HostKeysSession, WrongProofCountChangesNothing) {
  KnownHostKeys known;
  known.known = {ed25519_blob()};
  client_callbacks_.known = known;
  server_callbacks_.handler->answer = [](const HostKeysProveRequest&) {
    return connection::encode_to_bytes(HostKeysProveReply{});
  };
  make({cached_host_key("ssh-ed25519")}, false);
  pump();
  announce_from_server({ed25519_blob(), ecdsa_blob()});
  pump();
  EXPECT_EQ(server_callbacks_.handler->requests, 1);
  EXPECT_EQ(client_callbacks_.updates, 0);
}

TEST_F(HostKeysSession, RefusedProofChangesNothing) {
  KnownHostKeys known;
  known.known = {ed25519_blob()};
  client_callbacks_.known = known;
  make({cached_host_key("ssh-ed25519")}, false);  // the handler has no answer: failure
  pump();
  announce_from_server({ed25519_blob(), ecdsa_blob()});
  pump();
  EXPECT_EQ(server_callbacks_.handler->requests, 1);
  EXPECT_EQ(client_callbacks_.updates, 0);
  EXPECT_FALSE(client_->closed());
}

TEST_F(HostKeysSession, AnnouncementBeforeAuthenticationIsIgnored) {
  KnownHostKeys known;
  known.known = {ed25519_blob()};
  client_callbacks_.known = known;
  server_callbacks_.on_authorize = [this] {
    server_callbacks_.on_authorize = nullptr;
    announce_from_server({ed25519_blob(), ecdsa_blob()});
  };
  make({cached_host_key("ssh-ed25519")}, false);
  pump();
  ASSERT_TRUE(client_->authenticated())
      << (client_->close_error() ? client_->close_error()->message : "");
  EXPECT_FALSE(client_->closed());
  EXPECT_EQ(client_callbacks_.asked, 0);
  EXPECT_EQ(server_callbacks_.handler->requests, 0);
}

TEST_F(HostKeysSession, SecondAnnouncementIsIgnored) {
  KnownHostKeys known;
  known.known = {ed25519_blob(), ecdsa_blob()};
  client_callbacks_.known = known;
  make({cached_host_key("ssh-ed25519"), cached_host_key("ecdsa-sha2-nistp256")});
  pump();
  EXPECT_EQ(client_callbacks_.asked, 1);
  announce_from_server({ed25519_blob(), rsa_blob()});
  pump();
  EXPECT_EQ(client_callbacks_.asked, 1);
  EXPECT_EQ(client_callbacks_.updates, 0);
  EXPECT_FALSE(client_->closed());
}

// --- known_hosts ------------------------------------------------------------------------

std::string line_for(std::string_view host, const keys::PublicKey& key) {
  return std::string(host) + " " + key.to_openssh_line();
}

TEST(HostKeysKnownHosts, UpdateKeepsOtherHostsCommentsAndSharedLines) {
  Botan::AutoSeeded_RNG rng;
  const auto& old_public = old_key().public_key();
  const auto& ed25519 = cached_host_key("ssh-ed25519").public_key();
  const auto& ecdsa = cached_host_key("ecdsa-sha2-nistp256").public_key();
  const std::string hashed_name =
      config::hash_known_hosts_name("[vm.example]:2222", from_hex(std::string(40, 'a')));
  const std::string text = "# my hosts\n" + line_for("[vm.example]:2222", old_public) + "\n" +
                           line_for("other.example", old_public) + "\n\n" +
                           line_for("[vm.example]:2222,10.0.0.5", old_public) + "\n" +
                           line_for("[vm.example]:*", old_public) + "\n" +
                           line_for("[vm.example]:2200", old_public) + "\n" + "@revoked " +
                           line_for("[vm.example]:2222", old_public) + "\n" +
                           line_for(hashed_name, old_public) + " hashed comment\n" +
                           line_for("[vm.example]:2222", ed25519) + " kept\n";
  const auto updated = config::update_known_host_keys_text(text, "[VM.example]:2222", {ecdsa},
                                                           {old_public.blob()}, false, rng);
  ASSERT_TRUE(updated);
  const std::string expected = "# my hosts\n" + line_for("other.example", old_public) + "\n\n" +
                               line_for("[vm.example]:2222,10.0.0.5", old_public) + "\n" +
                               line_for("[vm.example]:*", old_public) + "\n" +
                               line_for("[vm.example]:2200", old_public) + "\n" + "@revoked " +
                               line_for("[vm.example]:2222", old_public) + "\n" +
                               line_for("[vm.example]:2222", ed25519) + " kept\n" +
                               line_for("[vm.example]:2222", ecdsa) + "\n";
  EXPECT_EQ(*updated, expected);
}

TEST(HostKeysKnownHosts, AddedKeysAreHashedWhenAsked) {
  Botan::AutoSeeded_RNG rng;
  const auto& ecdsa = cached_host_key("ecdsa-sha2-nistp256").public_key();
  const auto updated =
      config::update_known_host_keys_text("other.example x\n", "vm", {ecdsa}, {}, true, rng);
  ASSERT_TRUE(updated);
  config::KnownHosts known_hosts;
  known_hosts.load_text(*updated, "known_hosts");
  ASSERT_EQ(known_hosts.entries().size(), 1U);  // the malformed line is kept, not parsed
  EXPECT_TRUE(known_hosts.entries()[0].hashed);
  EXPECT_TRUE(known_hosts.entries()[0].matches_name("vm"));
  EXPECT_EQ(known_hosts.entries()[0].key_blob, ecdsa.blob());
  EXPECT_EQ(updated->substr(0, 16), "other.example x\n");
}

TEST(HostKeysKnownHosts, KnownKeysForUpdateSeparateWhatMayBeRemoved) {
  const auto& old_public = old_key().public_key();
  const auto& ed25519 = cached_host_key("ssh-ed25519").public_key();
  const auto& ecdsa = cached_host_key("ecdsa-sha2-nistp256").public_key();
  const auto& rsa = cached_host_key("ssh-rsa").public_key();
  config::KnownHosts known_hosts;
  known_hosts.load_text(line_for("vm", old_public) + "\n" + line_for("vm,10.0.0.5", ed25519) +
                            "\n" + "@revoked " + line_for("vm", rsa) + "\n" +
                            line_for("vm", ecdsa) + "\n",
                        "/home/u/.ssh/known_hosts");
  // The global file also vouches for the ECDSA key: removing ours changes nothing.
  known_hosts.load_text(line_for("vm", ecdsa) + "\n", "/etc/ssh/ssh_known_hosts");
  const auto keys =
      config::known_host_keys_for_update(known_hosts, "VM", "/home/u/.ssh/known_hosts");
  EXPECT_EQ(keys.known, (std::vector<Bytes>{old_public.blob(), ed25519.blob(), ecdsa.blob()}));
  EXPECT_EQ(keys.removable, std::vector<Bytes>{old_public.blob()});
  EXPECT_EQ(keys.revoked, std::vector<Bytes>{rsa.blob()});
  EXPECT_TRUE(keys.also_for_other_hosts.empty());

  known_hosts.load_text("other.example " + old_public.to_openssh_line() + "\n", "/home/u/x");
  const auto shared =
      config::known_host_keys_for_update(known_hosts, "vm", "/home/u/.ssh/known_hosts");
  EXPECT_EQ(shared.also_for_other_hosts, std::vector<Bytes>{old_public.blob()});
}

TEST(HostKeysOptions, UpdateHostKeysIsOffUnlessYes) {
  config::ClientOptions defaults;
  EXPECT_FALSE(defaults.update_host_keys);
  for (const auto& [value, expected] : std::vector<std::pair<std::string, bool>>{
           {"yes", true}, {"no", false}, {"ask", false}, {"true", true}}) {
    config::ClientOptions options;
    config::apply_option(options, "UpdateHostKeys", value);
    EXPECT_EQ(options.update_host_keys, expected) << value;
  }
  config::ClientOptions options;
  EXPECT_THROW(config::apply_option(options, "UpdateHostKeys", "sometimes"), std::invalid_argument);
}

}  // namespace
