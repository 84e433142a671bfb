// ServerSession against our ClientSession in memory: authentication by
// every method the server offers, its limits (MaxAuthTries, login grace
// time, the packet limit before authentication, the idle timeout), and
// the hand-over to the connection layer once the client is in.
#include "ssh/server_session.hpp"

#include <botan/auto_rng.h>
#include <gtest/gtest.h>

#include <map>

#include "ssh/auth/messages.hpp"
#include "ssh/client_session.hpp"
#include "ssh/limits.hpp"
#include "ssh/wire/writer.hpp"
#include "support/session_pump.hpp"
#include "support/transport_pair.hpp"

namespace {

using namespace ssh;
using std::chrono::seconds;

keys::PrivateKey make_key() {
  Botan::AutoSeeded_RNG rng;
  return *keys::PrivateKey::generate("ssh-ed25519", 0, rng);
}

class ClientCallbacks : public ClientSessionCallbacks {
 public:
  Status verify_host_key(const keys::PublicKey&, std::string_view) override { return {}; }
  void on_authenticated() override { authenticated = true; }
  std::optional<std::string> password_for(std::string_view) override { return password; }
  std::optional<std::vector<std::string>> keyboard_interactive(
      const auth::UserauthInfoRequest& request) override {
    prompts_seen = request.prompts.size();
    return answers;
  }
  void banner(std::string_view text) override { banners.emplace_back(text); }

  bool authenticated = false;
  std::optional<std::string> password;
  std::optional<std::vector<std::string>> answers;
  std::size_t prompts_seen = 0;
  std::vector<std::string> banners;
};

class ServerCallbacks : public ServerSessionCallbacks {
 public:
  std::optional<auth::KeyAuthorization> authorize_key(std::string_view user,
                                                      const keys::PublicKey& key) override {
    ++key_checks;
    if (user != "alice") return std::nullopt;
    for (const auto& allowed : allowed_keys) {
      if (allowed.blob() == key.blob()) return auth::KeyAuthorization{options, "test"};
    }
    return std::nullopt;
  }
  bool check_password(std::string_view user, std::string_view password) override {
    return user == "alice" && password == "correct horse";
  }
  std::optional<auth::UserauthInfoRequest> keyboard_interactive_prompts(std::string_view) override {
    auth::UserauthInfoRequest request;
    request.prompts = {{"One time code: ", false}};
    return request;
  }
  bool check_keyboard_interactive(std::string_view user,
                                  const std::vector<std::string>& answers) override {
    return user == "alice" && answers == std::vector<std::string>{"123456"};
  }
  std::shared_ptr<connection::ConnectionHandler> on_authenticated(
      const auth::AuthenticatedUser& user) override {
    authenticated_user = user;
    return handler;
  }

  std::vector<keys::PublicKey> allowed_keys;
  config::AuthorizedKeyOptions options;
  std::size_t key_checks = 0;
  std::optional<auth::AuthenticatedUser> authenticated_user;
  std::shared_ptr<connection::ConnectionHandler> handler =
      std::make_shared<connection::ConnectionHandler>();
};

class ServerSessionTest : public ::testing::Test {
 protected:
  using TimePoint = transport::TimePoint;

  void make(ClientSessionConfig client_config, ServerSessionConfig server_config) {
    client_config.auth.user = client_config.auth.user.empty() ? "alice" : client_config.auth.user;
    server_config.transport.host_keys = {testing_support::cached_host_key("ssh-ed25519")};
    client_ = std::make_unique<ClientSession>(std::move(client_config), client_callbacks_, rng_);
    server_ = std::make_unique<ServerSession>(std::move(server_config), server_callbacks_, rng_);
    server_->start(now_);
    client_->start(now_);
  }

  void pump() { testing_support::pump_sessions(*client_, *server_, now_); }

  ClientSessionConfig client_with_keys(const std::vector<keys::PrivateKey>& private_keys) {
    ClientSessionConfig config;
    for (std::size_t i = 0; i < private_keys.size(); ++i) {
      config.auth.identities.emplace_back("key" + std::to_string(i), private_keys[i]);
    }
    return config;
  }

  Botan::AutoSeeded_RNG rng_;
  TimePoint now_ = TimePoint{} + seconds(1000);
  ClientCallbacks client_callbacks_;
  ServerCallbacks server_callbacks_;
  std::unique_ptr<ClientSession> client_;
  std::unique_ptr<ServerSession> server_;
};

TEST_F(ServerSessionTest, AcceptsAnAuthorizedKeyAndHandsOverTheConnection) {
  const auto key = make_key();
  server_callbacks_.allowed_keys = {key.public_key()};
  server_callbacks_.options.pty = false;
  make(client_with_keys({key}), {});
  pump();
  ASSERT_TRUE(client_->authenticated())
      << (client_->close_error() ? client_->close_error()->message : "");
  EXPECT_TRUE(server_->authenticated());
  ASSERT_TRUE(server_callbacks_.authenticated_user);
  EXPECT_EQ(server_callbacks_.authenticated_user->user, "alice");
  EXPECT_EQ(server_callbacks_.authenticated_user->method, "publickey");
  ASSERT_TRUE(server_callbacks_.authenticated_user->key);
  EXPECT_EQ(server_callbacks_.authenticated_user->key->blob(), key.public_key().blob());
  // The authorized_keys restrictions travel with the user.
  EXPECT_FALSE(server_callbacks_.authenticated_user->options.pty);
  // The connection layer now answers: the default handler refuses channels.
  auto handler = std::make_shared<connection::ChannelHandler>();
  ASSERT_TRUE(client_->connection().open_channel(connection::SessionOpen{}, handler).ok());
  pump();
  EXPECT_EQ(client_->connection().channel_count(), 0U);
  EXPECT_FALSE(server_->closed());
}

TEST_F(ServerSessionTest, SkipsUnauthorizedKeysAndTakesTheRightOne) {
  const auto wrong = make_key();
  const auto right = make_key();
  server_callbacks_.allowed_keys = {right.public_key()};
  make(client_with_keys({wrong, right}), {});
  pump();
  EXPECT_TRUE(client_->authenticated());
  EXPECT_TRUE(server_->authenticated());
}

TEST_F(ServerSessionTest, RefusesUnknownKeysWithPermissionDenied) {
  make(client_with_keys({make_key()}), {});
  pump();
  EXPECT_FALSE(server_->authenticated());
  ASSERT_TRUE(client_->closed());
  ASSERT_TRUE(client_->close_error());
  EXPECT_NE(client_->close_error()->message.find("Permission denied (publickey)"),
            std::string::npos)
      << client_->close_error()->message;
}

TEST_F(ServerSessionTest, ClosesAfterMaxAuthTries) {
  std::vector<keys::PrivateKey> keys;
  for (int i = 0; i < 5; ++i) keys.push_back(make_key());
  ServerSessionConfig server_config;
  server_config.auth.max_attempts = 3;
  make(client_with_keys(keys), server_config);
  pump();
  ASSERT_TRUE(server_->closed());
  ASSERT_TRUE(server_->close_error());
  EXPECT_EQ(server_->close_error()->reason, DisconnectReason::NoMoreAuthMethodsAvailable);
  EXPECT_NE(server_->close_error()->message.find("too many authentication failures"),
            std::string::npos);
  // Our client sends keys with their signatures at once: one check each.
  EXPECT_EQ(server_callbacks_.key_checks, 3U);
}

TEST_F(ServerSessionTest, DefaultAuthAttemptLimitAtAndPast) {
  ASSERT_EQ(ServerSessionConfig{}.auth.max_attempts, limits::kMaxAuthAttempts);
  // At the limit: kMaxAuthAttempts - 1 refused keys, then the right one.
  std::vector<keys::PrivateKey> keys;
  for (std::size_t i = 0; i + 1 < limits::kMaxAuthAttempts; ++i) keys.push_back(make_key());
  const auto right = make_key();
  keys.push_back(right);
  server_callbacks_.allowed_keys = {right.public_key()};
  make(client_with_keys(keys), {});
  pump();
  EXPECT_TRUE(server_->authenticated());
  EXPECT_EQ(server_callbacks_.key_checks, limits::kMaxAuthAttempts);
}

TEST_F(ServerSessionTest, DefaultAuthAttemptLimitPastIsRefused) {
  std::vector<keys::PrivateKey> keys;
  for (std::size_t i = 0; i < limits::kMaxAuthAttempts; ++i) keys.push_back(make_key());
  const auto right = make_key();
  keys.push_back(right);
  server_callbacks_.allowed_keys = {right.public_key()};
  make(client_with_keys(keys), {});
  pump();
  EXPECT_FALSE(server_->authenticated());
  ASSERT_TRUE(server_->close_error());
  EXPECT_EQ(server_->close_error()->reason, DisconnectReason::NoMoreAuthMethodsAvailable);
  EXPECT_EQ(server_callbacks_.key_checks, limits::kMaxAuthAttempts);
}

TEST(KeyboardInteractiveMessages, PromptCountLimitAtAndPast) {
  auto request_with = [](std::size_t prompts) {
    auth::UserauthInfoRequest request;
    for (std::size_t i = 0; i < prompts; ++i) request.prompts.push_back({"p", false});
    Bytes payload;
    wire::Writer writer(payload);
    request.encode(writer);
    return payload;
  };
  auto response_with = [](std::size_t answers) {
    auth::UserauthInfoResponse response;
    response.responses.assign(answers, "a");
    Bytes payload;
    wire::Writer writer(payload);
    response.encode(writer);
    return payload;
  };
  const std::size_t limit = limits::kMaxKeyboardInteractivePrompts;
  auto at_limit = auth::UserauthInfoRequest::decode(request_with(limit));
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(at_limit->prompts.size(), limit);
  EXPECT_FALSE(auth::UserauthInfoRequest::decode(request_with(limit + 1)));
  auto answered = auth::UserauthInfoResponse::decode(response_with(limit));
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->responses.size(), limit);
  EXPECT_FALSE(auth::UserauthInfoResponse::decode(response_with(limit + 1)));
}

TEST_F(ServerSessionTest, PasswordGoesThroughTheCallback) {
  ServerSessionConfig server_config;
  server_config.auth.methods = {"password"};
  client_callbacks_.password = "correct horse";
  make({}, server_config);
  pump();
  EXPECT_TRUE(client_->authenticated());
  ASSERT_TRUE(server_callbacks_.authenticated_user);
  EXPECT_EQ(server_callbacks_.authenticated_user->method, "password");
}

TEST_F(ServerSessionTest, WrongPasswordIsRefused) {
  ServerSessionConfig server_config;
  server_config.auth.methods = {"password"};
  client_callbacks_.password = "wrong";
  make({}, server_config);
  pump();
  EXPECT_FALSE(server_->authenticated());
  EXPECT_TRUE(client_->closed());
}

TEST_F(ServerSessionTest, KeyboardInteractiveGoesThroughTheCallbacks) {
  ServerSessionConfig server_config;
  server_config.auth.methods = {"keyboard-interactive"};
  server_config.auth.banner = "authorized use only\n";
  client_callbacks_.answers = std::vector<std::string>{"123456"};
  make({}, server_config);
  pump();
  EXPECT_TRUE(client_->authenticated());
  EXPECT_EQ(client_callbacks_.prompts_seen, 1U);
  EXPECT_EQ(client_callbacks_.banners, std::vector<std::string>{"authorized use only\n"});
}

TEST_F(ServerSessionTest, PasswordIsNotOfferedUnlessConfigured) {
  client_callbacks_.password = "correct horse";
  make({}, {});
  pump();
  EXPECT_FALSE(server_->authenticated());
  ASSERT_TRUE(client_->close_error());
  EXPECT_NE(client_->close_error()->message.find("(publickey)"), std::string::npos);
}

TEST_F(ServerSessionTest, LoginGraceTimeEndsASilentClient) {
  ServerSessionConfig server_config;
  server_config.login_grace_time = seconds(30);
  server_config.transport.host_keys = {testing_support::cached_host_key("ssh-ed25519")};
  server_ = std::make_unique<ServerSession>(server_config, server_callbacks_, rng_);
  server_->start(now_);
  ASSERT_TRUE(server_->next_timeout());
  EXPECT_EQ(*server_->next_timeout(), now_ + seconds(30));
  ASSERT_TRUE(server_->handle_timeout(now_ + seconds(29)).ok());
  EXPECT_FALSE(server_->closed());
  (void)server_->handle_timeout(now_ + seconds(30));
  ASSERT_TRUE(server_->closed());
  EXPECT_NE(server_->close_error()->message.find("login grace time"), std::string::npos);
}

TEST_F(ServerSessionTest, NoGraceDeadlineOnceAuthenticated) {
  const auto key = make_key();
  server_callbacks_.allowed_keys = {key.public_key()};
  make(client_with_keys({key}), {});
  pump();
  ASSERT_TRUE(server_->authenticated());
  EXPECT_FALSE(server_->next_timeout());
  ASSERT_TRUE(server_->handle_timeout(now_ + seconds(3600)).ok());
  EXPECT_FALSE(server_->closed());
}

TEST_F(ServerSessionTest, RefusesLargePacketsBeforeAuthentication) {
  ServerSessionConfig server_config;
  server_config.transport.host_keys = {testing_support::cached_host_key("ssh-ed25519")};
  server_ = std::make_unique<ServerSession>(server_config, server_callbacks_, rng_);
  server_->start(now_);
  // A plaintext packet header claiming 100000 bytes right after the version.
  Bytes bytes;
  const std::string version = "SSH-2.0-test\r\n";
  bytes.insert(bytes.end(), version.begin(), version.end());
  wire::Writer(bytes).u32(100000);
  auto space = server_->prepare_receive(bytes.size());
  std::copy(bytes.begin(), bytes.end(), space.begin());
  EXPECT_FALSE(server_->commit_received(bytes.size(), now_).ok());
  ASSERT_TRUE(server_->closed());
  EXPECT_NE(server_->close_error()->message.find("exceeds the limit of 65536"), std::string::npos)
      << server_->close_error()->message;
}

TEST_F(ServerSessionTest, IdleTimeoutClosesAConnectionWithoutChannels) {
  const auto key = make_key();
  server_callbacks_.allowed_keys = {key.public_key()};
  ServerSessionConfig server_config;
  server_config.idle_timeout = seconds(60);
  make(client_with_keys({key}), server_config);
  pump();
  ASSERT_TRUE(server_->authenticated());
  ASSERT_TRUE(server_->next_timeout());
  EXPECT_EQ(*server_->next_timeout(), now_ + seconds(60));
  (void)server_->handle_timeout(now_ + seconds(60));
  ASSERT_TRUE(server_->closed());
  EXPECT_NE(server_->close_error()->message.find("no open channels"), std::string::npos);
}

TEST_F(ServerSessionTest, RefusesOtherServicesThanUserauth) {
  // Exercise ServerAuth directly on a finished key exchange's session id.
  std::vector<Bytes> sent;
  auth::ServerAuth server_auth({}, server_callbacks_, [&](ByteView payload) {
    sent.emplace_back(payload.begin(), payload.end());
    return Status{};
  });
  server_auth.start(Bytes{1, 2, 3});
  Bytes request;
  wire::Writer writer(request);
  transport::ServiceRequestMessage{"ssh-connection"}.encode(writer);
  auto status = server_auth.handle(request);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().reason, DisconnectReason::ServiceNotAvailable);
  EXPECT_TRUE(sent.empty());
}

TEST_F(ServerSessionTest, UserauthBeforeServiceRequestIsAProtocolError) {
  std::vector<Bytes> sent;
  auth::ServerAuth server_auth({}, server_callbacks_, [&](ByteView payload) {
    sent.emplace_back(payload.begin(), payload.end());
    return Status{};
  });
  server_auth.start(Bytes{1, 2, 3});
  Bytes request;
  wire::Writer writer(request);
  auth::UserauthRequest{"alice", "ssh-connection", "none", {}}.encode(writer);
  auto status = server_auth.handle(request);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().reason, DisconnectReason::ProtocolError);
}

// Requests that never count as failures ("none", key queries) are bounded
// by limits::kMaxServerAuthRequests: the last one allowed may still log in,
// one more ends the connection.
TEST_F(ServerSessionTest, DefaultServerAuthRequestLimitAtAndPast) {
  const std::size_t limit = limits::kMaxServerAuthRequests;
  auto encode_request = [](const std::string& method, const Bytes& method_data) {
    Bytes payload;
    wire::Writer writer(payload);
    auth::UserauthRequest{"alice", "ssh-connection", method, method_data}.encode(writer);
    return payload;
  };
  Bytes password_data;
  wire::Writer password_writer(password_data);
  password_writer.boolean(false);
  password_writer.string("correct horse");
  for (const bool past : {false, true}) {
    SCOPED_TRACE(past ? "one past the limit" : "at the limit");
    ServerCallbacks callbacks;
    auth::ServerAuthConfig config;
    config.methods = {"password"};
    auth::ServerAuth server_auth(config, callbacks, [](ByteView) { return Status{}; });
    server_auth.start(Bytes{1, 2, 3});
    Bytes service_request;
    wire::Writer writer(service_request);
    transport::ServiceRequestMessage{"ssh-userauth"}.encode(writer);
    ASSERT_TRUE(server_auth.handle(service_request).ok());
    const std::size_t nones = past ? limit : limit - 1;
    for (std::size_t i = 0; i < nones; ++i) {
      auto status = server_auth.handle(encode_request("none", {}));
      ASSERT_TRUE(status.ok()) << "request " << i + 1 << ": " << status.error().message;
    }
    auto last = server_auth.handle(encode_request("password", password_data));
    if (past) {
      ASSERT_FALSE(last.ok());
      EXPECT_EQ(last.error().reason, DisconnectReason::NoMoreAuthMethodsAvailable);
      EXPECT_NE(last.error().message.find("too many authentication requests"), std::string::npos)
          << last.error().message;
      EXPECT_FALSE(server_auth.succeeded());
    } else {
      ASSERT_TRUE(last.ok()) << last.error().message;
      EXPECT_TRUE(server_auth.succeeded());
    }
    EXPECT_EQ(server_auth.failed_attempts(), 0U);
  }
}

// Our client sends at most limits::kMaxClientAuthRequests requests ("none"
// first, then one per key) to a server that keeps refusing; the server here
// allows far more failures than that so only the client's bound decides.
TEST_F(ServerSessionTest, DefaultClientAuthRequestLimitAtAndPast) {
  const std::size_t limit = limits::kMaxClientAuthRequests;
  std::vector<keys::PrivateKey> wrong_keys;
  for (std::size_t i = 0; i + 1 < limit - 1; ++i) wrong_keys.push_back(make_key());
  const auto right = make_key();
  for (const bool past : {false, true}) {
    SCOPED_TRACE(past ? "one past the limit" : "at the limit");
    // At the limit: "none", limit - 2 wrong keys, the right key last.
    std::vector<keys::PrivateKey> keys = wrong_keys;
    if (past) keys.push_back(make_key());
    keys.push_back(right);
    server_callbacks_ = ServerCallbacks{};
    server_callbacks_.allowed_keys = {right.public_key()};
    ServerSessionConfig server_config;
    server_config.auth.max_attempts = 10 * limit;
    make(client_with_keys(keys), server_config);
    pump();
    if (past) {
      EXPECT_FALSE(client_->authenticated());
      ASSERT_TRUE(client_->close_error());
      EXPECT_NE(client_->close_error()->message.find("Permission denied"), std::string::npos)
          << client_->close_error()->message;
      EXPECT_EQ(server_callbacks_.key_checks, limit - 1);  // the right key was never sent
    } else {
      EXPECT_TRUE(client_->authenticated())
          << (client_->close_error() ? client_->close_error()->message : "");
      EXPECT_EQ(server_callbacks_.key_checks, limit - 1);
    }
  }
}

// Before authentication the server takes packets up to
// limits::kMaxPreauthPacketLength: the largest aligned length within it
// waits for its bytes, the next one is refused from its header alone.
TEST_F(ServerSessionTest, DefaultPreauthPacketLimitAtAndPast) {
  ASSERT_EQ(ServerSessionConfig{}.preauth_max_packet, limits::kMaxPreauthPacketLength);
  // The length field does not count itself; plaintext packets align to 8.
  const std::uint32_t largest = limits::kMaxPreauthPacketLength - 4;
  for (const std::uint32_t length :
       {largest, largest + 8, static_cast<std::uint32_t>(limits::kMaxPreauthPacketLength + 1)}) {
    SCOPED_TRACE(length);
    ServerSessionConfig server_config;
    server_config.transport.host_keys = {testing_support::cached_host_key("ssh-ed25519")};
    server_ = std::make_unique<ServerSession>(server_config, server_callbacks_, rng_);
    server_->start(now_);
    Bytes bytes;
    const std::string version = "SSH-2.0-test\r\n";
    bytes.insert(bytes.end(), version.begin(), version.end());
    wire::Writer(bytes).u32(length);
    auto space = server_->prepare_receive(bytes.size());
    std::copy(bytes.begin(), bytes.end(), space.begin());
    const Status status = server_->commit_received(bytes.size(), now_);
    if (length == largest) {
      EXPECT_TRUE(status.ok()) << status.error().message;
      EXPECT_FALSE(server_->closed());
    } else {
      EXPECT_FALSE(status.ok());
      ASSERT_TRUE(server_->close_error());
      EXPECT_NE(server_->close_error()->message.find(
                    "exceeds the limit of " + std::to_string(limits::kMaxPreauthPacketLength)),
                std::string::npos)
          << server_->close_error()->message;
    }
  }
}

}  // namespace
