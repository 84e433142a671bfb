// The ssh-agent client: message codec, the blocking client over an
// in-memory stream (fed with replies made by the codec's encoders, or with
// hand-made malformed ones), and the order identities are tried in.
#include <botan/auto_rng.h>
#include <gtest/gtest.h>

#include <deque>

#include "ssh/agent/client.hpp"
#include "ssh/agent/protocol.hpp"
#include "ssh/auth/identity.hpp"
#include "ssh/wire/reader.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::agent {
namespace {

TEST(AgentProtocol, RequestIdentitiesIsOneByteFramed) {
  EXPECT_EQ(encode_request_identities(), (Bytes{0, 0, 0, 1, 11}));
}

TEST(AgentProtocol, SignRequestCarriesBlobDataAndFlags) {
  const Bytes blob = {1, 2, 3};
  const Bytes data = {9, 8};
  const Bytes framed = encode_sign_request(blob, data, kSignFlagRsaSha2_512);
  wire::Reader reader(framed);
  EXPECT_EQ(reader.u32(), framed.size() - 4);
  EXPECT_EQ(reader.u8(), 13);
  EXPECT_EQ(to_bytes(reader.string()), blob);
  EXPECT_EQ(to_bytes(reader.string()), data);
  EXPECT_EQ(reader.u32(), 4u);
  EXPECT_TRUE(reader.finished());
}

TEST(AgentProtocol, SignFlagsFollowTheRsaAlgorithm) {
  EXPECT_EQ(sign_flags_for("rsa-sha2-256"), 2u);
  EXPECT_EQ(sign_flags_for("rsa-sha2-512"), 4u);
  EXPECT_EQ(sign_flags_for("ssh-ed25519"), 0u);
  EXPECT_EQ(sign_flags_for("ecdsa-sha2-nistp384"), 0u);
}

TEST(AgentProtocol, IdentitiesAnswerRoundTrip) {
  const std::vector<AgentIdentity> identities = {{{1, 2, 3}, "first"}, {{4}, ""}};
  auto decoded = decode_identities_answer(encode_identities_answer(identities));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[0].key_blob, identities[0].key_blob);
  EXPECT_EQ((*decoded)[0].comment, "first");
  EXPECT_EQ((*decoded)[1].key_blob, identities[1].key_blob);
}

TEST(AgentProtocol, MalformedIdentitiesAnswersAreErrors) {
  // Failure reply.
  auto refused = decode_identities_answer(Bytes{5});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("refused"), std::string::npos);
  // Wrong message number.
  EXPECT_FALSE(decode_identities_answer(Bytes{14, 0, 0, 0, 0}).ok());
  // Count larger than the data can hold (would reserve 4 G entries).
  EXPECT_FALSE(decode_identities_answer(Bytes{12, 0xff, 0xff, 0xff, 0xff}).ok());
  auto too_many = decode_identities_answer(Bytes{12, 0, 0, 0x08, 0x01});
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.error().message.find("too many"), std::string::npos);
  // Truncated entry.
  Bytes truncated = encode_identities_answer({{{1, 2, 3}, "c"}});
  truncated.pop_back();
  EXPECT_FALSE(decode_identities_answer(truncated).ok());
  // Trailing bytes.
  Bytes trailing = encode_identities_answer({{{1}, "c"}});
  trailing.push_back(0);
  EXPECT_FALSE(decode_identities_answer(trailing).ok());
  EXPECT_FALSE(decode_identities_answer(Bytes{}).ok());
}

TEST(AgentProtocol, IdentityCountLimitAtAndPast) {
  std::vector<AgentIdentity> identities(kMaxIdentities, AgentIdentity{{1}, ""});
  auto at_limit = decode_identities_answer(encode_identities_answer(identities));
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message;
  EXPECT_EQ(at_limit->size(), std::size_t{kMaxIdentities});
  identities.push_back(AgentIdentity{{1}, ""});
  auto past = decode_identities_answer(encode_identities_answer(identities));
  ASSERT_FALSE(past.ok());
  EXPECT_NE(past.error().message.find("too many"), std::string::npos) << past.error().message;
}

TEST(AgentProtocol, SignResponseDecoding) {
  const Bytes signature = {7, 7, 7};
  auto decoded = decode_sign_response(encode_sign_response(signature));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, signature);
  EXPECT_FALSE(decode_sign_response(Bytes{5}).ok());
  EXPECT_FALSE(decode_sign_response(Bytes{28}).ok());
  EXPECT_FALSE(decode_sign_response(Bytes{14, 0, 0, 0, 9, 1}).ok());
  EXPECT_FALSE(decode_sign_response(encode_sign_response({})).ok());
  EXPECT_FALSE(decode_sign_response(Bytes{12, 0, 0, 0, 0}).ok());
}

TEST(AgentProtocol, MessageLengthChecksBeforeAllocating) {
  EXPECT_FALSE(message_length(Bytes{0, 0, 1})->has_value());
  EXPECT_EQ(*message_length(Bytes{0, 0, 1, 0}), std::optional<std::size_t>(256));
  EXPECT_EQ(*message_length(Bytes{0, 4, 0, 0}), std::optional<std::size_t>(kMaxMessageLength));
  EXPECT_FALSE(message_length(Bytes{0, 4, 0, 1}).ok());
  EXPECT_FALSE(message_length(Bytes{0xff, 0xff, 0xff, 0xff}).ok());
  EXPECT_FALSE(message_length(Bytes{0, 0, 0, 0}).ok());
}

// An in-memory agent connection: records what the client writes and hands
// out scripted reply bytes in small pieces (as a socket may).
class ScriptedTransport : public AgentTransport {
 public:
  explicit ScriptedTransport(Bytes replies, Bytes* written)
      : replies_(std::move(replies)), written_(written) {}
  Status write_all(ByteView data) override {
    written_->insert(written_->end(), data.begin(), data.end());
    return {};
  }
  Result<std::size_t> read_some(MutableByteView into) override {
    const std::size_t count = std::min({into.size(), replies_.size() - offset_, std::size_t{3}});
    std::copy_n(replies_.begin() + static_cast<std::ptrdiff_t>(offset_), count, into.begin());
    offset_ += count;
    return count;
  }

 private:
  Bytes replies_;
  std::size_t offset_ = 0;
  Bytes* written_;
};

TEST(AgentClientTest, ListsAndSignsOverTheStream) {
  Bytes replies = frame(encode_identities_answer({{{1, 2}, "key one"}}));
  const Bytes signature = frame(encode_sign_response(Bytes{5, 5}));
  replies.insert(replies.end(), signature.begin(), signature.end());
  Bytes written;
  AgentClient client(std::make_unique<ScriptedTransport>(replies, &written));
  auto listed = client.list_identities();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].comment, "key one");
  auto signed_blob = client.sign(Bytes{1, 2}, Bytes{3}, kSignFlagRsaSha2_256);
  ASSERT_TRUE(signed_blob.ok()) << signed_blob.error().message;
  EXPECT_EQ(*signed_blob, (Bytes{5, 5}));
  Bytes expected = encode_request_identities();
  const Bytes sign_request = encode_sign_request(Bytes{1, 2}, Bytes{3}, 2);
  expected.insert(expected.end(), sign_request.begin(), sign_request.end());
  EXPECT_EQ(written, expected);
}

TEST(AgentClientTest, OversizedReplyIsRefusedWithoutReadingIt) {
  Bytes written;
  AgentClient client(
      std::make_unique<ScriptedTransport>(Bytes{0x10, 0, 0, 0, 12, 0, 0, 0, 0}, &written));
  auto listed = client.list_identities();
  ASSERT_FALSE(listed.ok());
  EXPECT_NE(listed.error().message.find("exceeds"), std::string::npos) << listed.error().message;
  // The stream is out of step now: no further use.
  EXPECT_FALSE(client.list_identities().ok());
}

TEST(AgentClientTest, ShortReplyIsAnError) {
  Bytes written;
  AgentClient client(std::make_unique<ScriptedTransport>(Bytes{0, 0, 0, 9, 12, 0}, &written));
  auto listed = client.list_identities();
  ASSERT_FALSE(listed.ok());
  EXPECT_NE(listed.error().message.find("closed"), std::string::npos) << listed.error().message;
}

TEST(AgentClientTest, FailureReplyIsARefusal) {
  Bytes written;
  AgentClient client(std::make_unique<ScriptedTransport>(frame(Bytes{5}), &written));
  auto signed_blob = client.sign(Bytes{1}, Bytes{2}, 0);
  ASSERT_FALSE(signed_blob.ok());
  EXPECT_NE(signed_blob.error().message.find("refused"), std::string::npos);
}

}  // namespace
}  // namespace ssh::agent

namespace ssh::auth {
namespace {

keys::PrivateKey make_key(const char* type = "ssh-ed25519") {
  static Botan::AutoSeeded_RNG rng;
  auto key = keys::PrivateKey::generate(type, 2048, rng);
  EXPECT_TRUE(key.ok());
  return std::move(*key);
}

// An agent-side signer that really signs (with the private key the "agent"
// holds), so the ordering tests can check which signer an identity uses.
class CountingSigner : public Signer {
 public:
  explicit CountingSigner(keys::PrivateKey key) : key_(std::move(key)) {}
  Result<Bytes> sign(std::string_view algorithm, ByteView data,
                     Botan::RandomNumberGenerator& rng) const override {
    ++uses;
    return key_.sign(algorithm, data, rng);
  }
  mutable int uses = 0;

 private:
  keys::PrivateKey key_;
};

Identity agent_identity(const keys::PrivateKey& key, std::string comment) {
  return Identity(std::move(comment), key.public_key(), std::make_shared<CountingSigner>(key),
                  IdentityOrigin::Agent);
}

std::vector<std::string> sources(const std::vector<Identity>& identities) {
  std::vector<std::string> names;
  for (const auto& identity : identities) names.push_back(identity.source);
  return names;
}

TEST(IdentityOrder, AgentKeysFirstThenFilesAsOpenSsh) {
  const auto file_key = make_key();
  const auto agent_only = make_key("ecdsa-sha2-nistp256");
  std::vector<Identity> files;
  files.emplace_back("/home/u/.ssh/id_file", file_key);
  const auto ordered =
      order_identities(std::move(files), {}, {agent_identity(agent_only, "agent key")}, false);
  EXPECT_EQ(sources(ordered), (std::vector<std::string>{"agent key", "/home/u/.ssh/id_file"}));
  EXPECT_EQ(ordered[0].origin, IdentityOrigin::Agent);
  EXPECT_FALSE(ordered[0].explicitly_configured);
  EXPECT_TRUE(ordered[1].explicitly_configured);
}

TEST(IdentityOrder, KeyInAgentAndFileIsOfferedOnceThroughTheAgent) {
  const auto shared = make_key();
  const auto other = make_key();
  std::vector<Identity> files;
  files.emplace_back("/k/shared", shared);
  auto ordered =
      order_identities(std::move(files), {},
                       {agent_identity(other, "other"), agent_identity(shared, "comment"),
                        agent_identity(shared, "duplicate in agent")},
                       false);
  ASSERT_EQ(sources(ordered), (std::vector<std::string>{"other", "/k/shared"}));
  EXPECT_EQ(ordered[1].origin, IdentityOrigin::Agent);
  EXPECT_TRUE(ordered[1].explicitly_configured);
  Botan::AutoSeeded_RNG rng;
  const Bytes data = {1, 2, 3};
  auto signature = ordered[1].signer->sign("ssh-ed25519", data, rng);
  ASSERT_TRUE(signature.ok());
  EXPECT_TRUE(shared.public_key().verify("ssh-ed25519", data, *signature).ok());
}

TEST(IdentityOrder, IdentitiesOnlyKeepsAgentKeysMatchingConfiguredFiles) {
  const auto encrypted_file_key = make_key();  // its private half is not loaded
  const auto loaded_file_key = make_key("ecdsa-sha2-nistp384");
  const auto unrelated = make_key();
  std::vector<Identity> files;
  files.emplace_back("/k/loaded", loaded_file_key);
  const std::vector<ConfiguredKey> configured = {{"/k/encrypted", encrypted_file_key.public_key()}};
  const auto ordered = order_identities(
      std::move(files), configured,
      {agent_identity(unrelated, "unrelated"), agent_identity(encrypted_file_key, "enc")}, true);
  EXPECT_EQ(sources(ordered), (std::vector<std::string>{"/k/encrypted", "/k/loaded"}));
  EXPECT_EQ(ordered[0].origin, IdentityOrigin::Agent);
  EXPECT_EQ(ordered[1].origin, IdentityOrigin::File);

  // Without IdentitiesOnly the unrelated agent key is offered too, first.
  std::vector<Identity> files_again;
  files_again.emplace_back("/k/loaded", loaded_file_key);
  const auto all = order_identities(
      std::move(files_again), configured,
      {agent_identity(unrelated, "unrelated"), agent_identity(encrypted_file_key, "enc")}, false);
  EXPECT_EQ(sources(all), (std::vector<std::string>{"unrelated", "/k/encrypted", "/k/loaded"}));
}

TEST(IdentityOrder, NoAgentMeansFilesInOrder) {
  std::vector<Identity> files;
  files.emplace_back("/k/a", make_key());
  files.emplace_back("/k/b", make_key());
  const auto ordered = order_identities(std::move(files), {}, {}, true);
  EXPECT_EQ(sources(ordered), (std::vector<std::string>{"/k/a", "/k/b"}));
}

}  // namespace
}  // namespace ssh::auth
