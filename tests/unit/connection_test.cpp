// The connection layer (RFC 4254): message codecs, and a client and a server
// Connection wired to each other in memory.
#include "ssh/connection/connection.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include "ssh/connection/messages.hpp"
#include "ssh/limits.hpp"

namespace ssh::connection {
namespace {

// --- Message codecs -----------------------------------------------------------

template <class T>
Bytes encoded(const T& message) {
  return encode_to_bytes(message);
}

// Decoding an encoding and encoding it again gives the same bytes: every
// field survived.
template <class T>
T expect_round_trip(const T& message) {
  const Bytes bytes = encoded(message);
  auto decoded = T::decode(bytes);
  EXPECT_TRUE(decoded.has_value()) << typeid(T).name();
  if (!decoded) return message;
  EXPECT_EQ(encoded(*decoded), bytes) << typeid(T).name();
  return *decoded;
}

// Every proper prefix of the encoding is refused.
template <class T>
void expect_truncations_rejected(const T& message) {
  const Bytes bytes = encoded(message);
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_FALSE(T::decode(ByteView(bytes).first(length)).has_value())
        << typeid(T).name() << " truncated to " << length << " of " << bytes.size();
  }
}

// For fixed layouts: a byte more is refused too.
template <class T>
void expect_trailing_byte_rejected(const T& message) {
  Bytes bytes = encoded(message);
  bytes.push_back(0);
  EXPECT_FALSE(T::decode(bytes).has_value()) << typeid(T).name();
}

template <class T>
void expect_strict_codec(const T& message) {
  expect_round_trip(message);
  expect_truncations_rejected(message);
  expect_trailing_byte_rejected(message);
}

TEST(ChannelMessageTest, RoundTripsGlobalRequestsAndReplies) {
  auto request = expect_round_trip(GlobalRequest{"tcpip-forward", true, {0, 0, 0, 1, 'x'}});
  EXPECT_EQ(request.name, "tcpip-forward");
  EXPECT_TRUE(request.want_reply);
  EXPECT_EQ(request.data, (Bytes{0, 0, 0, 1, 'x'}));
  EXPECT_EQ(expect_round_trip(RequestSuccess{{0, 0, 0x1f, 0x90}}).data, (Bytes{0, 0, 0x1f, 0x90}));
  expect_strict_codec(RequestFailure{});
  // With empty request data every prefix lacks a fixed field.
  expect_truncations_rejected(GlobalRequest{"keepalive@openssh.com", true, {}});
}

TEST(ChannelMessageTest, RoundTripsChannelOpenMessages) {
  auto open = expect_round_trip(
      make_channel_open(DirectTcpipOpen{"example.org", 443, "127.0.0.1", 50000}, 7, 65536, 32768));
  EXPECT_EQ(open.type, "direct-tcpip");
  EXPECT_EQ(open.sender_channel, 7U);
  EXPECT_EQ(open.initial_window, 65536U);
  EXPECT_EQ(open.max_packet, 32768U);
  auto tcpip = decode_typed<DirectTcpipOpen>(open.type, open.type_specific);
  ASSERT_TRUE(tcpip);
  EXPECT_EQ(tcpip->host_to_connect, "example.org");
  EXPECT_EQ(tcpip->port_to_connect, 443);
  EXPECT_EQ(tcpip->originator_address, "127.0.0.1");
  EXPECT_EQ(tcpip->originator_port, 50000);
  EXPECT_FALSE(decode_typed<ForwardedTcpipOpen>(open.type, open.type_specific));
  expect_truncations_rejected(ChannelOpen{"session", 1, 2, 3, {}});

  auto confirmation = expect_round_trip(ChannelOpenConfirmation{1, 2, 3, 4, {}});
  EXPECT_EQ(confirmation.recipient_channel, 1U);
  EXPECT_EQ(confirmation.sender_channel, 2U);
  EXPECT_EQ(confirmation.initial_window, 3U);
  EXPECT_EQ(confirmation.max_packet, 4U);
  expect_truncations_rejected(confirmation);

  auto failure = expect_round_trip(
      ChannelOpenFailure{9, OpenFailureReason::ConnectFailed, "connection refused", "en"});
  EXPECT_EQ(failure.reason, OpenFailureReason::ConnectFailed);
  EXPECT_EQ(failure.description, "connection refused");
  expect_strict_codec(failure);
  for (std::uint32_t reason = 1; reason <= 4; ++reason) {
    expect_strict_codec(ChannelOpenFailure{1, static_cast<OpenFailureReason>(reason), "", ""});
  }
}

TEST(ChannelMessageTest, RoundTripsChannelMessages) {
  expect_strict_codec(ChannelWindowAdjust{3, 0xfffffff0});
  expect_strict_codec(ChannelEof{3});
  expect_strict_codec(ChannelClose{3});
  expect_strict_codec(ChannelSuccess{3});
  expect_strict_codec(ChannelFailure{3});

  auto request =
      expect_round_trip(ChannelRequest{5, "exec", true, encode_to_bytes(ExecRequest{"uname -a"})});
  EXPECT_EQ(request.recipient_channel, 5U);
  EXPECT_EQ(request.type, "exec");
  EXPECT_TRUE(request.want_reply);
  auto exec = decode_typed<ExecRequest>(request.type, request.data);
  ASSERT_TRUE(exec);
  EXPECT_EQ(exec->command, "uname -a");
  expect_truncations_rejected(ChannelRequest{5, "shell", true, {}});
}

TEST(ChannelMessageTest, DataDecodesAsViewIntoPayload) {
  const Bytes text = {'h', 'i', '!'};
  const Bytes payload = encoded(ChannelData{4, text});
  auto data = ChannelData::decode(payload);
  ASSERT_TRUE(data);
  EXPECT_EQ(data->recipient_channel, 4U);
  ASSERT_EQ(data->data.size(), 3U);
  EXPECT_EQ(data->data.data(), payload.data() + ChannelData::kHeaderSize);
  expect_strict_codec(ChannelData{4, text});

  const Bytes extended_payload = encoded(ChannelExtendedData{4, kExtendedDataStderr, text});
  auto extended = ChannelExtendedData::decode(extended_payload);
  ASSERT_TRUE(extended);
  EXPECT_EQ(extended->data_type, kExtendedDataStderr);
  EXPECT_EQ(extended->data.data(), extended_payload.data() + ChannelExtendedData::kHeaderSize);
  expect_strict_codec(ChannelExtendedData{4, 1, text});

  // The header alone is the start of the full encoding.
  Bytes header;
  wire::Writer writer(header);
  ChannelData::encode_header(writer, 4, 3);
  EXPECT_EQ(header.size(), ChannelData::kHeaderSize);
  EXPECT_TRUE(std::equal(header.begin(), header.end(), payload.begin()));
}

TEST(ChannelMessageTest, RejectsWrongMessageNumber) {
  Bytes payload = encoded(ChannelEof{1});
  payload[0] = kMsgChannelClose;
  EXPECT_FALSE(ChannelEof::decode(payload));
  EXPECT_TRUE(ChannelClose::decode(payload));
  EXPECT_FALSE(ChannelData::decode(encoded(ChannelExtendedData{1, 1, {}})));
  EXPECT_FALSE(GlobalRequest::decode(Bytes{}));
}

TEST(ChannelMessageTest, RoundTripsChannelTypes) {
  expect_strict_codec(DirectTcpipOpen{"localhost", 22, "10.0.0.1", 4000});
  expect_strict_codec(ForwardedTcpipOpen{"0.0.0.0", 8080, "192.0.2.1", 5555});
  expect_strict_codec(DirectStreamlocalOpen{"/run/docker.sock", "", 0});
  expect_strict_codec(ForwardedStreamlocalOpen{"/tmp/listen.sock", ""});
  expect_trailing_byte_rejected(SessionOpen{});
  expect_trailing_byte_rejected(AuthAgentOpen{});
  EXPECT_TRUE(SessionOpen::decode({}));
  EXPECT_TRUE(AuthAgentOpen::decode({}));

  // Ports beyond 65535 are refused, not truncated.
  Bytes bad_port;
  wire::Writer writer(bad_port);
  writer.string("host");
  writer.u32(70000);
  writer.string("origin");
  writer.u32(1);
  EXPECT_FALSE(DirectTcpipOpen::decode(bad_port));
}

TEST(ChannelMessageTest, RoundTripsChannelRequestTypes) {
  const TerminalMode modes[] = {{kTtyOpIspeed, 38400}, {kTtyOpOspeed, 38400}, {53, 1}};
  auto pty = expect_round_trip(
      PtyRequest{"xterm-256color", 80, 24, 640, 480, encode_terminal_modes(modes)});
  EXPECT_EQ(pty.term, "xterm-256color");
  EXPECT_EQ(pty.columns, 80U);
  EXPECT_EQ(pty.rows, 24U);
  EXPECT_EQ(pty.width_pixels, 640U);
  EXPECT_EQ(pty.height_pixels, 480U);
  auto decoded_modes = decode_terminal_modes(pty.modes);
  ASSERT_TRUE(decoded_modes);
  EXPECT_EQ(*decoded_modes, std::vector<TerminalMode>(std::begin(modes), std::end(modes)));
  expect_strict_codec(pty);

  expect_strict_codec(EnvRequest{"LANG", "C.UTF-8"});
  expect_strict_codec(ExecRequest{"ls -l"});
  expect_strict_codec(SubsystemRequest{"sftp"});
  expect_strict_codec(WindowChangeRequest{120, 40, 0, 0});
  expect_strict_codec(SignalRequest{"TERM"});
  expect_strict_codec(ExitStatusRequest{127});
  expect_strict_codec(ExitSignalRequest{"KILL", true, "killed", "en"});
  for (ByteView empty_request :
       {ByteView(encoded(ShellRequest{})), ByteView(encoded(KeepaliveRequest{})),
        ByteView(encoded(AuthAgentRequest{})), ByteView(encoded(EowRequest{}))}) {
    EXPECT_TRUE(empty_request.empty());
  }
  EXPECT_TRUE(ShellRequest::decode({}));
  expect_trailing_byte_rejected(ShellRequest{});
  expect_trailing_byte_rejected(KeepaliveRequest{});
  expect_trailing_byte_rejected(AuthAgentRequest{});
  expect_trailing_byte_rejected(EowRequest{});

  auto exit_status = decode_typed<ExitStatusRequest>("exit-status", encoded(ExitStatusRequest{2}));
  ASSERT_TRUE(exit_status);
  EXPECT_EQ(exit_status->exit_status, 2U);
}

TEST(ChannelMessageTest, RoundTripsGlobalRequestTypes) {
  expect_strict_codec(TcpipForwardRequest{"localhost", 0});
  expect_strict_codec(TcpipForwardReply{40000});
  expect_strict_codec(StreamlocalForwardRequest{"/tmp/agent.sock"});
}

TEST(ChannelMessageTest, TerminalModesStopAtEndOrUndefinedOpcode) {
  // TTY_OP_END ends the list; what follows is ignored.
  const Bytes ended = {1, 0, 0, 0, 3, kTtyOpEnd, 0xff, 0xff};
  auto modes = decode_terminal_modes(ended);
  ASSERT_TRUE(modes);
  EXPECT_EQ(*modes, (std::vector<TerminalMode>{{1, 3}}));
  // An opcode of 160 or more has an unknown argument: parsing stops.
  const Bytes undefined = {1, 0, 0, 0, 3, 200, 1};
  modes = decode_terminal_modes(undefined);
  ASSERT_TRUE(modes);
  EXPECT_EQ(modes->size(), 1U);
  EXPECT_FALSE(decode_terminal_modes(Bytes{1, 0, 0}));
  EXPECT_FALSE(decode_terminal_modes(Bytes{1, 0, 0, 0, 3}));  // no TTY_OP_END
  EXPECT_EQ(encode_terminal_modes({}), Bytes{kTtyOpEnd});
}

// --- In-memory client/server pair ---------------------------------------------------

// Queues every payload, as a transport would send it.
class QueueSink : public PayloadSink {
 public:
  Status send_payload(ByteView head, ByteView tail) override {
    if (fail) return Error{DisconnectReason::ConnectionLost, "sink closed"};
    Bytes payload;
    payload.reserve(head.size() + tail.size());
    payload.insert(payload.end(), head.begin(), head.end());
    payload.insert(payload.end(), tail.begin(), tail.end());
    if (payload[0] == kMsgChannelData || payload[0] == kMsgChannelExtendedData) {
      ++data_packets;
      largest_data = std::max(largest_data, tail.size());
    }
    if (payload[0] == kMsgChannelWindowAdjust) ++window_adjusts;
    queue.push_back(std::move(payload));
    return {};
  }

  // Number of queued messages with this number.
  std::size_t count(std::uint8_t number) const {
    return std::count_if(queue.begin(), queue.end(),
                         [&](const Bytes& payload) { return payload[0] == number; });
  }

  std::deque<Bytes> queue;
  bool fail = false;
  std::size_t data_packets = 0;
  std::size_t largest_data = 0;
  std::size_t window_adjusts = 0;
};

// Records what a channel hears; hooks let a test react.
class RecordingHandler : public ChannelHandler {
 public:
  void on_open_pending(std::uint32_t channel) override {
    id = channel;
    if (on_pending_hook) on_pending_hook(channel);
  }
  void on_open_confirmed(std::uint32_t channel) override {
    id = channel;
    events.push_back("confirmed");
    if (on_confirmed_hook) on_confirmed_hook(channel);
  }
  void on_open_failed(std::uint32_t channel, OpenFailureReason reason,
                      std::string_view description) override {
    id = channel;
    failure = reason;
    failure_description = description;
    events.push_back("failed");
  }
  void on_data(std::uint32_t /*channel*/, ByteView bytes) override {
    data.insert(data.end(), bytes.begin(), bytes.end());
    if (on_data_hook) on_data_hook(bytes);
  }
  void on_extended_data(std::uint32_t /*channel*/, std::uint32_t type, ByteView bytes) override {
    extended_type = type;
    extended.insert(extended.end(), bytes.begin(), bytes.end());
  }
  void on_eof(std::uint32_t /*channel*/) override {
    events.push_back("eof");
    if (on_eof_hook) on_eof_hook();
  }
  void on_close(std::uint32_t /*channel*/) override { events.push_back("close"); }
  bool on_request(std::uint32_t /*channel*/, std::string_view type, bool /*want_reply*/,
                  ByteView request_data) override {
    events.push_back("request " + std::string(type));
    if (auto exit = decode_typed<ExitStatusRequest>(type, request_data)) {
      exit_status = exit->exit_status;
    }
    if (auto exec = decode_typed<ExecRequest>(type, request_data)) command = exec->command;
    return accept_requests;
  }
  void on_request_reply(std::uint32_t /*channel*/, bool success) override {
    replies.push_back(success);
  }
  void on_send_window_available(std::uint32_t channel) override {
    ++window_available;
    if (on_window_hook) on_window_hook(channel);
  }

  std::uint32_t id = 0xffffffff;
  std::vector<std::string> events;
  Bytes data;
  Bytes extended;
  std::uint32_t extended_type = 0;
  std::optional<std::uint32_t> exit_status;
  std::string command;
  std::vector<bool> replies;
  std::optional<OpenFailureReason> failure;
  std::string failure_description;
  std::size_t window_available = 0;
  bool accept_requests = true;

  std::function<void(std::uint32_t)> on_confirmed_hook;
  std::function<void(std::uint32_t)> on_pending_hook;
  std::function<void(ByteView)> on_data_hook;
  std::function<void()> on_eof_hook;
  std::function<void(std::uint32_t)> on_window_hook;
};

// Accepts every channel with a RecordingHandler; answers global requests
// from a table.
class AcceptingHandler : public ConnectionHandler {
 public:
  OpenDecision on_channel_open(std::string_view type, ByteView /*data*/) override {
    opened_types.emplace_back(type);
    auto handler = std::make_shared<RecordingHandler>();
    if (prepare) prepare(*handler);
    accepted.push_back(handler);
    if (defer) return DeferredOpen{handler};
    return handler;
  }
  std::optional<Bytes> on_global_request(std::string_view name, bool /*want_reply*/,
                                         ByteView /*data*/) override {
    global_requests.emplace_back(name);
    auto answer = global_answers.find(std::string(name));
    if (answer == global_answers.end()) return std::nullopt;
    return answer->second;
  }

  std::function<void(RecordingHandler&)> prepare;
  bool defer = false;
  std::vector<std::shared_ptr<RecordingHandler>> accepted;
  std::vector<std::string> opened_types;
  std::vector<std::string> global_requests;
  std::map<std::string, Bytes> global_answers;
};

ConnectionConfig small_config(std::uint32_t window, std::uint32_t max_packet) {
  ConnectionConfig config;
  config.initial_window = window;
  config.max_packet = max_packet;
  return config;
}

class ConnectionTest : public ::testing::Test {
 protected:
  // Rebuilds the pair with other settings.
  void make_pair(ConnectionConfig client_config, ConnectionConfig server_config) {
    client_ =
        std::make_unique<Connection>(Role::Client, client_config, client_out_, client_handler_);
    server_ =
        std::make_unique<Connection>(Role::Server, server_config, server_out_, server_handler_);
  }

  void SetUp() override { make_pair({}, {}); }

  // Delivers queued payloads both ways until nothing is in flight.
  Status pump() {
    while (!client_out_.queue.empty() || !server_out_.queue.empty()) {
      if (!client_out_.queue.empty()) {
        Bytes payload = std::move(client_out_.queue.front());
        client_out_.queue.pop_front();
        if (Status status = server_->handle_message(payload); !status) return status;
      }
      if (!server_out_.queue.empty()) {
        Bytes payload = std::move(server_out_.queue.front());
        server_out_.queue.pop_front();
        if (Status status = client_->handle_message(payload); !status) return status;
      }
    }
    return {};
  }

  void expect_pump_ok() {
    Status status = pump();
    ASSERT_TRUE(status.ok()) << status.error().message;
  }

  struct Session {
    std::uint32_t client_id = 0;
    std::shared_ptr<RecordingHandler> client;
    std::shared_ptr<RecordingHandler> server;
  };

  // Opens a session channel from the client and lets the server accept it.
  Session open_session() {
    Session session;
    session.client = std::make_shared<RecordingHandler>();
    auto id = client_->open_channel(SessionOpen{}, session.client);
    EXPECT_TRUE(id.ok());
    session.client_id = *id;
    expect_pump_ok();
    EXPECT_EQ(session.client->events, std::vector<std::string>{"confirmed"});
    EXPECT_FALSE(server_handler_->accepted.empty());
    if (!server_handler_->accepted.empty()) session.server = server_handler_->accepted.back();
    return session;
  }

  // Feeds a hand-made message to the server (as if from the client) and
  // expects a protocol error whose message mentions every fragment.
  static void expect_protocol_error(Status status, std::initializer_list<std::string> fragments) {
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().reason, DisconnectReason::ProtocolError);
    for (const auto& fragment : fragments) {
      EXPECT_NE(status.error().message.find(fragment), std::string::npos)
          << "\"" << status.error().message << "\" lacks \"" << fragment << "\"";
    }
  }

  template <class Message>
  Status deliver_to_server(const Message& message) {
    return server_->handle_message(encode_to_bytes(message));
  }
  template <class Message>
  Status deliver_to_client(const Message& message) {
    return client_->handle_message(encode_to_bytes(message));
  }

  QueueSink client_out_;
  QueueSink server_out_;
  std::shared_ptr<AcceptingHandler> client_handler_ = std::make_shared<AcceptingHandler>();
  std::shared_ptr<AcceptingHandler> server_handler_ = std::make_shared<AcceptingHandler>();
  std::unique_ptr<Connection> client_;
  std::unique_ptr<Connection> server_;
};

TEST_F(ConnectionTest, OpensSessionAndExecsWithReply) {
  Session session = open_session();
  EXPECT_EQ(server_handler_->opened_types, std::vector<std::string>{"session"});
  EXPECT_EQ(session.server->events, std::vector<std::string>{"confirmed"});
  EXPECT_EQ(client_->channel_count(), 1U);
  EXPECT_EQ(server_->channel_count(), 1U);
  EXPECT_TRUE(client_->has_channel(session.client_id));
  EXPECT_TRUE(server_->has_channel(session.server->id));

  ASSERT_TRUE(client_->send_env(session.client_id, "LANG", "C").ok());
  ASSERT_TRUE(client_->request_exec(session.client_id, "echo hi").ok());
  expect_pump_ok();
  session.server->accept_requests = false;
  ASSERT_TRUE(client_->request_subsystem(session.client_id, "sftp").ok());
  expect_pump_ok();
  EXPECT_EQ(
      session.server->events,
      (std::vector<std::string>{"confirmed", "request env", "request exec", "request subsystem"}));
  EXPECT_EQ(session.server->command, "echo hi");
  // env had no want_reply: only exec and subsystem are answered, in order.
  EXPECT_EQ(session.client->replies, (std::vector<bool>{true, false}));
}

TEST_F(ConnectionTest, CarriesDataExtendedDataEofAndExitStatus) {
  Session session = open_session();
  const std::uint32_t server_id = session.server->id;
  // The server echoes what it receives.
  session.server->on_data_hook = [&](ByteView data) {
    auto sent = server_->send_data(server_id, data);
    ASSERT_TRUE(sent.ok());
    EXPECT_EQ(*sent, data.size());
  };
  auto sent = client_->send_data(session.client_id, as_bytes("ping"));
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(*sent, 4U);
  expect_pump_ok();
  EXPECT_EQ(as_text(session.server->data), "ping");
  EXPECT_EQ(as_text(session.client->data), "ping");

  ASSERT_TRUE(server_->send_extended_data(server_id, kExtendedDataStderr, as_bytes("oops")).ok());
  ASSERT_TRUE(client_->send_eof(session.client_id).ok());
  expect_pump_ok();
  ASSERT_TRUE(server_->send_eof(server_id).ok());
  ASSERT_TRUE(server_->send_exit_status(server_id, 3).ok());
  ASSERT_TRUE(server_->close(server_id).ok());
  expect_pump_ok();

  EXPECT_EQ(as_text(session.client->extended), "oops");
  EXPECT_EQ(session.client->extended_type, kExtendedDataStderr);
  EXPECT_EQ(session.client->exit_status, 3U);
  EXPECT_EQ(session.client->events,
            (std::vector<std::string>{"confirmed", "eof", "request exit-status", "close"}));
  EXPECT_EQ(session.server->events, (std::vector<std::string>{"confirmed", "eof", "close"}));
  EXPECT_EQ(client_->channel_count(), 0U);
  EXPECT_EQ(server_->channel_count(), 0U);
  EXPECT_FALSE(client_->has_channel(session.client_id));
}

TEST_F(ConnectionTest, ClosesFromClientSide) {
  Session session = open_session();
  ASSERT_TRUE(client_->close(session.client_id).ok());
  ASSERT_TRUE(client_->close(session.client_id).ok());  // harmless twice
  EXPECT_EQ(client_out_.count(kMsgChannelClose), 1U);
  // Closed locally: no more data or requests, but the id lives until the
  // peer's CLOSE.
  EXPECT_FALSE(client_->send_data(session.client_id, as_bytes("late")).ok());
  EXPECT_FALSE(client_->request_shell(session.client_id).ok());
  EXPECT_TRUE(client_->has_channel(session.client_id));
  expect_pump_ok();
  EXPECT_EQ(session.client->events, (std::vector<std::string>{"confirmed", "close"}));
  EXPECT_EQ(session.server->events, (std::vector<std::string>{"confirmed", "close"}));
  EXPECT_EQ(client_->channel_count(), 0U);
  EXPECT_EQ(server_->channel_count(), 0U);
  auto after = client_->send_data(session.client_id, as_bytes("x"));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().reason, DisconnectReason::ByApplication);
}

TEST_F(ConnectionTest, ClosesFromServerSide) {
  Session session = open_session();
  ASSERT_TRUE(server_->send_data(session.server->id, as_bytes("bye")).ok());
  ASSERT_TRUE(server_->close(session.server->id).ok());
  expect_pump_ok();
  EXPECT_EQ(as_text(session.client->data), "bye");
  EXPECT_EQ(session.client->events, (std::vector<std::string>{"confirmed", "close"}));
  EXPECT_EQ(session.server->events, (std::vector<std::string>{"confirmed", "close"}));
  EXPECT_EQ(client_->channel_count(), 0U);
  EXPECT_EQ(server_->channel_count(), 0U);
}

TEST_F(ConnectionTest, DataAfterEofIsRefusedLocally) {
  Session session = open_session();
  ASSERT_TRUE(client_->send_eof(session.client_id).ok());
  ASSERT_TRUE(client_->send_eof(session.client_id).ok());  // harmless twice
  EXPECT_EQ(client_out_.count(kMsgChannelEof), 1U);
  auto sent = client_->send_data(session.client_id, as_bytes("late"));
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().reason, DisconnectReason::ByApplication);
  EXPECT_FALSE(client_->send_extended_data(session.client_id, 1, as_bytes("late")).ok());
  // Requests may still follow EOF (exit-status does, from servers).
  EXPECT_TRUE(client_->send_window_change(session.client_id, {100, 50, 0, 0}).ok());
  expect_pump_ok();
  EXPECT_EQ(session.server->events,
            (std::vector<std::string>{"confirmed", "eof", "request window-change"}));
}

TEST_F(ConnectionTest, TransfersTenMebibytesBothWaysThroughSmallWindow) {
  constexpr std::uint32_t kWindow = 64 * 1024;
  constexpr std::uint32_t kMaxPacket = 4 * 1024;
  make_pair(small_config(kWindow, kMaxPacket), small_config(kWindow, kMaxPacket));
  Session session = open_session();
  const std::uint32_t server_id = session.server->id;

  constexpr std::size_t kSize = 10 * 1024 * 1024;
  Bytes upload(kSize);
  Bytes download(kSize);
  for (std::size_t i = 0; i < kSize; ++i) {
    upload[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
    download[i] = static_cast<std::uint8_t>(i * 13 + i / 241);
  }

  // Sends what the window allows; the rest when the window opens again.
  struct Sender {
    Connection& connection;
    std::uint32_t id;
    const Bytes& data;
    std::size_t offset = 0;
    void push() {
      while (offset < data.size()) {
        auto sent = connection.send_data(id, ByteView(data).subspan(offset));
        ASSERT_TRUE(sent.ok()) << sent.error().message;
        offset += *sent;
        if (*sent == 0 || offset < data.size()) break;
      }
      if (offset == data.size()) {
        ASSERT_TRUE(connection.send_eof(id).ok());
      }
    }
  };
  Sender client_sender{*client_, session.client_id, upload};
  Sender server_sender{*server_, server_id, download};
  session.client->on_window_hook = [&](std::uint32_t) { client_sender.push(); };
  session.server->on_window_hook = [&](std::uint32_t) { server_sender.push(); };

  client_sender.push();
  server_sender.push();
  EXPECT_EQ(client_sender.offset, kWindow);  // the window stops the first send
  EXPECT_EQ(client_->send_window(session.client_id), 0U);
  expect_pump_ok();

  EXPECT_EQ(client_sender.offset, kSize);
  EXPECT_EQ(server_sender.offset, kSize);
  EXPECT_TRUE(session.server->data == upload);
  EXPECT_TRUE(session.client->data == download);
  EXPECT_GT(session.client->window_available, 100U);
  EXPECT_GT(session.server->window_available, 100U);
  EXPECT_EQ(client_out_.largest_data, kMaxPacket);
  EXPECT_EQ(server_out_.largest_data, kMaxPacket);
  EXPECT_EQ(client_out_.data_packets, kSize / kMaxPacket);
  // The receiver re-grants in halves of its window.
  EXPECT_EQ(server_out_.window_adjusts, kSize / (kWindow / 2));
  EXPECT_EQ(session.server->events, (std::vector<std::string>{"confirmed", "eof"}));
  EXPECT_EQ(session.client->events, (std::vector<std::string>{"confirmed", "eof"}));
}

TEST_F(ConnectionTest, SendsWindowAdjustOnceHalfTheWindowIsConsumed) {
  make_pair({}, small_config(1000, 1000));
  Session session = open_session();
  ASSERT_EQ(client_->send_window(session.client_id), 1000U);
  ASSERT_EQ(*client_->send_data(session.client_id, Bytes(499)), 499U);
  expect_pump_ok();
  EXPECT_EQ(server_out_.window_adjusts, 0U);
  EXPECT_EQ(client_->send_window(session.client_id), 501U);
  ASSERT_EQ(*client_->send_data(session.client_id, Bytes(1)), 1U);
  expect_pump_ok();
  EXPECT_EQ(server_out_.window_adjusts, 1U);
  EXPECT_EQ(client_->send_window(session.client_id), 1000U);
}

TEST_F(ConnectionTest, DeferredConsumptionHoldsTheWindowUntilConsumed) {
  make_pair({}, small_config(1000, 1000));
  Session session = open_session();
  ASSERT_TRUE(server_->defer_consumption(session.server->id).ok());
  ASSERT_EQ(*client_->send_data(session.client_id, Bytes(1000)), 1000U);
  expect_pump_ok();
  EXPECT_EQ(session.server->data.size(), 1000U);
  // Delivered but not used: the client may send nothing more.
  EXPECT_EQ(server_out_.window_adjusts, 0U);
  EXPECT_EQ(*client_->send_data(session.client_id, Bytes(1)), 0U);
  ASSERT_TRUE(server_->consume(session.server->id, 400).ok());
  expect_pump_ok();
  EXPECT_EQ(server_out_.window_adjusts, 0U);
  ASSERT_TRUE(server_->consume(session.server->id, 200).ok());
  expect_pump_ok();
  EXPECT_EQ(server_out_.window_adjusts, 1U);
  EXPECT_EQ(client_->send_window(session.client_id), 600U);
  // More than was delivered is a local mistake, not a grant.
  EXPECT_FALSE(server_->consume(session.server->id, 401).ok());
  EXPECT_TRUE(server_->consume(session.server->id, 400).ok());
}

TEST_F(ConnectionTest, DeferredOpenIsConfirmedOrRefusedLater) {
  server_handler_->defer = true;
  std::uint32_t pending_id = 0;
  server_handler_->prepare = [&](RecordingHandler& handler) {
    handler.on_pending_hook = [&](std::uint32_t id) { pending_id = id; };
  };
  auto first = std::make_shared<RecordingHandler>();
  auto first_id = client_->open_channel(SessionOpen{}, first);
  ASSERT_TRUE(first_id.ok());
  expect_pump_ok();
  EXPECT_TRUE(first->events.empty());
  EXPECT_EQ(server_->channel_count(), 1U);
  // Not open yet: nothing may be sent on it.
  EXPECT_FALSE(server_->send_data(pending_id, Bytes(1)).ok());
  ASSERT_TRUE(server_->accept_open(pending_id).ok());
  expect_pump_ok();
  EXPECT_EQ(first->events, std::vector<std::string>{"confirmed"});
  EXPECT_EQ(server_handler_->accepted.back()->events, std::vector<std::string>{"confirmed"});
  EXPECT_FALSE(server_->accept_open(pending_id).ok());

  auto second = std::make_shared<RecordingHandler>();
  ASSERT_TRUE(client_->open_channel(SessionOpen{}, second).ok());
  expect_pump_ok();
  ASSERT_TRUE(server_->refuse_open(pending_id, OpenFailureReason::ConnectFailed, "no route").ok());
  expect_pump_ok();
  EXPECT_EQ(second->events, std::vector<std::string>{"failed"});
  EXPECT_EQ(second->failure_description, "no route");
  EXPECT_EQ(server_->channel_count(), 1U);
  EXPECT_EQ(client_->channel_count(), 1U);

  // A deferred channel still waiting when the connection ends hears so.
  auto third = std::make_shared<RecordingHandler>();
  ASSERT_TRUE(client_->open_channel(SessionOpen{}, third).ok());
  expect_pump_ok();
  auto waiting = server_handler_->accepted.back();
  server_->abort_all();
  EXPECT_EQ(waiting->events, std::vector<std::string>{"failed"});
}

TEST_F(ConnectionTest, OpensThousandChannelsAtOnce) {
  constexpr std::size_t kChannels = 1000;
  // Each server channel echoes its data back.
  server_handler_->prepare = [&](RecordingHandler& handler) {
    handler.on_data_hook = [&handler, this](ByteView data) {
      ASSERT_TRUE(server_->send_data(handler.id, data).ok());
    };
  };
  std::vector<std::shared_ptr<RecordingHandler>> handlers;
  std::vector<std::uint32_t> ids;
  for (std::size_t i = 0; i < kChannels; ++i) {
    handlers.push_back(std::make_shared<RecordingHandler>());
    auto id = client_->open_channel(SessionOpen{}, handlers.back());
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  EXPECT_EQ(client_->channel_count(), kChannels);
  expect_pump_ok();
  EXPECT_EQ(server_->channel_count(), kChannels);
  for (std::size_t i = 0; i < kChannels; ++i) {
    ASSERT_EQ(handlers[i]->events, std::vector<std::string>{"confirmed"});
    ASSERT_TRUE(client_->send_data(ids[i], as_bytes("channel " + std::to_string(i))).ok());
  }
  expect_pump_ok();
  for (std::size_t i = 0; i < kChannels; ++i) {
    EXPECT_EQ(as_text(handlers[i]->data), "channel " + std::to_string(i));
    ASSERT_TRUE(client_->close(ids[i]).ok());
  }
  expect_pump_ok();
  EXPECT_EQ(client_->channel_count(), 0U);
  EXPECT_EQ(server_->channel_count(), 0U);
  for (const auto& handler : server_handler_->accepted) {
    EXPECT_EQ(handler->events.back(), "close");
  }
}

TEST_F(ConnectionTest, RecyclesChannelIdsSafely) {
  Session first = open_session();
  ASSERT_TRUE(client_->close(first.client_id).ok());
  expect_pump_ok();
  Session second = open_session();
  // The slot is reused but the id is new, so the stale id stays invalid.
  EXPECT_NE(second.client_id, first.client_id);
  EXPECT_FALSE(client_->has_channel(first.client_id));
  EXPECT_TRUE(client_->has_channel(second.client_id));
  EXPECT_FALSE(client_->send_data(first.client_id, as_bytes("stale")).ok());
  expect_protocol_error(
      deliver_to_client(ChannelData{first.client_id, as_bytes("stale")}),
      {"SSH_MSG_CHANNEL_DATA", "unknown channel", std::to_string(first.client_id)});
  ASSERT_TRUE(client_->send_data(second.client_id, as_bytes("fresh")).ok());
  expect_pump_ok();
  EXPECT_EQ(as_text(second.server->data), "fresh");
}

TEST_F(ConnectionTest, AnswersGlobalRequestsInOrder) {
  server_handler_->global_answers["first"] = Bytes{1, 2};
  server_handler_->global_answers["third"] = Bytes{};
  std::vector<std::string> replies;
  auto record = [&](std::string name) {
    return [&replies, name](bool success, ByteView data) {
      replies.push_back(name + (success ? " ok " : " failed ") + std::to_string(data.size()));
    };
  };
  ASSERT_TRUE(client_->send_global_request("first", true, {}, record("first")).ok());
  ASSERT_TRUE(client_->send_global_request("second", true, {}, record("second")).ok());
  ASSERT_TRUE(client_->send_global_request("quiet", false, {}, record("quiet")).ok());
  ASSERT_TRUE(client_->send_global_request("third", true, {9}, record("third")).ok());
  expect_pump_ok();
  EXPECT_EQ(server_handler_->global_requests,
            (std::vector<std::string>{"first", "second", "quiet", "third"}));
  EXPECT_EQ(replies, (std::vector<std::string>{"first ok 2", "second failed 0", "third ok 0"}));
  EXPECT_EQ(server_out_.count(kMsgRequestSuccess) + server_out_.count(kMsgRequestFailure), 0U);
}

TEST_F(ConnectionTest, DefaultHandlerFailsKeepaliveAndRefusesOpens) {
  client_->set_handler(nullptr);  // the default ConnectionHandler
  std::optional<bool> keepalive;
  ASSERT_TRUE(server_
                  ->send_global_request(KeepaliveRequest::kType, true, {},
                                        [&](bool success, ByteView) { keepalive = success; })
                  .ok());
  auto forwarded = std::make_shared<RecordingHandler>();
  ASSERT_TRUE(
      server_->open_channel(ForwardedTcpipOpen{"127.0.0.1", 80, "1.2.3.4", 999}, forwarded).ok());
  expect_pump_ok();
  EXPECT_EQ(keepalive, false);
  EXPECT_EQ(forwarded->events, std::vector<std::string>{"failed"});
  EXPECT_EQ(forwarded->failure, OpenFailureReason::AdministrativelyProhibited);
  EXPECT_EQ(server_->channel_count(), 0U);
}

TEST_F(ConnectionTest, RefusesChannelTypesThePeerRoleMayNotOpen) {
  // A server may not open a session to a client, even one that accepts all.
  ASSERT_TRUE(deliver_to_client(ChannelOpen{"session", 5, 1000, 1000, {}}).ok());
  ASSERT_EQ(client_out_.queue.size(), 1U);
  auto refusal = ChannelOpenFailure::decode(client_out_.queue.front());
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->recipient_channel, 5U);
  EXPECT_EQ(refusal->reason, OpenFailureReason::AdministrativelyProhibited);
  EXPECT_TRUE(client_handler_->accepted.empty());
  EXPECT_EQ(client_->channel_count(), 0U);
  client_out_.queue.clear();  // channel 5 never existed on the server
  // And we do not send such opens or requests ourselves.
  EXPECT_FALSE(server_->open_channel(SessionOpen{}, std::make_shared<RecordingHandler>()).ok());
  Session session = open_session();
  EXPECT_FALSE(client_->send_exit_status(session.client_id, 0).ok());
  EXPECT_FALSE(server_->request_exec(session.server->id, "ls").ok());
}

TEST_F(ConnectionTest, RefusesRequestsThePeerRoleMayNotSend) {
  Session session = open_session();
  // exit-status from a client is refused without asking the handler.
  ASSERT_TRUE(deliver_to_server(ChannelRequest{session.server->id, "exit-status", true,
                                               encode_to_bytes(ExitStatusRequest{0})})
                  .ok());
  ASSERT_EQ(server_out_.queue.size(), 1U);
  EXPECT_EQ(server_out_.queue.front()[0], kMsgChannelFailure);
  EXPECT_EQ(session.server->events, std::vector<std::string>{"confirmed"});
}

TEST_F(ConnectionTest, EnforcesMaxChannels) {
  ConnectionConfig limited;
  limited.max_channels = 2;
  make_pair(limited, limited);
  std::vector<std::shared_ptr<RecordingHandler>> handlers;
  for (int i = 0; i < 2; ++i) {
    handlers.push_back(std::make_shared<RecordingHandler>());
    ASSERT_TRUE(client_->open_channel(SessionOpen{}, handlers.back()).ok());
  }
  // Our own limit refuses locally.
  auto third = client_->open_channel(SessionOpen{}, std::make_shared<RecordingHandler>());
  EXPECT_FALSE(third.ok());
  expect_pump_ok();

  // The peer's limit refuses with RESOURCE_SHORTAGE.
  make_pair({}, limited);
  for (int i = 0; i < 3; ++i) {
    handlers.push_back(std::make_shared<RecordingHandler>());
    ASSERT_TRUE(client_->open_channel(SessionOpen{}, handlers.back()).ok());
  }
  expect_pump_ok();
  EXPECT_EQ(handlers[2]->events, std::vector<std::string>{"confirmed"});
  EXPECT_EQ(handlers[3]->events, std::vector<std::string>{"confirmed"});
  EXPECT_EQ(handlers[4]->events, std::vector<std::string>{"failed"});
  EXPECT_EQ(handlers[4]->failure, OpenFailureReason::ResourceShortage);
  EXPECT_EQ(server_->channel_count(), 2U);
  EXPECT_EQ(client_->channel_count(), 2U);
}

TEST_F(ConnectionTest, DefaultChannelLimitAtAndPast) {
  make_pair({}, {});
  ASSERT_EQ(ConnectionConfig{}.max_channels, limits::kMaxChannels);
  std::vector<std::shared_ptr<RecordingHandler>> handlers;
  for (std::size_t i = 0; i < limits::kMaxChannels; ++i) {
    handlers.push_back(std::make_shared<RecordingHandler>());
    ASSERT_TRUE(client_->open_channel(SessionOpen{}, handlers.back()).ok()) << "channel " << i;
  }
  expect_pump_ok();
  EXPECT_EQ(server_->channel_count(), limits::kMaxChannels);
  EXPECT_EQ(handlers.back()->events, std::vector<std::string>{"confirmed"});
  EXPECT_FALSE(client_->open_channel(SessionOpen{}, std::make_shared<RecordingHandler>()).ok());
}

TEST_F(ConnectionTest, ReportsOpenFailureToHandler) {
  class Refusing : public ConnectionHandler {
    OpenDecision on_channel_open(std::string_view, ByteView) override {
      return OpenFailure{OpenFailureReason::ConnectFailed, "no route"};
    }
  };
  server_->set_handler(std::make_shared<Refusing>());
  auto handler = std::make_shared<RecordingHandler>();
  auto id = client_->open_channel(DirectTcpipOpen{"10.1.1.1", 22, "127.0.0.1", 1234}, handler);
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(client_->has_channel(*id));
  expect_pump_ok();
  EXPECT_EQ(handler->events, std::vector<std::string>{"failed"});
  EXPECT_EQ(handler->id, *id);
  EXPECT_EQ(handler->failure, OpenFailureReason::ConnectFailed);
  EXPECT_EQ(handler->failure_description, "no route");
  EXPECT_FALSE(client_->has_channel(*id));
}

TEST_F(ConnectionTest, CloseWhileOpeningIsSentOnConfirmation) {
  auto handler = std::make_shared<RecordingHandler>();
  auto id = client_->open_channel(SessionOpen{}, handler);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(client_->close(*id).ok());
  EXPECT_FALSE(client_->send_data(*id, as_bytes("x")).ok());
  expect_pump_ok();
  EXPECT_EQ(handler->events, std::vector<std::string>{"close"});
  EXPECT_EQ(client_->channel_count(), 0U);
  EXPECT_EQ(server_->channel_count(), 0U);
}

TEST_F(ConnectionTest, AbortAllTellsEveryone) {
  Session session = open_session();
  auto pending = std::make_shared<RecordingHandler>();
  ASSERT_TRUE(client_->open_channel(SessionOpen{}, pending).ok());
  std::optional<bool> reply;
  ASSERT_TRUE(
      client_->send_global_request("x", true, {}, [&](bool ok, ByteView) { reply = ok; }).ok());
  client_->abort_all();
  EXPECT_EQ(client_->channel_count(), 0U);
  EXPECT_EQ(session.client->events, (std::vector<std::string>{"confirmed", "close"}));
  EXPECT_EQ(pending->events, std::vector<std::string>{"failed"});
  EXPECT_EQ(pending->failure, OpenFailureReason::ConnectFailed);
  EXPECT_EQ(reply, false);
}

TEST_F(ConnectionTest, PassesSinkErrorsThrough) {
  Session session = open_session();
  client_out_.fail = true;
  auto sent = client_->send_data(session.client_id, as_bytes("x"));
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().reason, DisconnectReason::ConnectionLost);
  auto id = client_->open_channel(SessionOpen{}, std::make_shared<RecordingHandler>());
  EXPECT_FALSE(id.ok());
  EXPECT_EQ(client_->channel_count(), 1U);  // the failed open left nothing behind
}

// --- Protocol violations by the peer ------------------------------------------

TEST_F(ConnectionTest, RejectsMessagesForUnknownChannel) {
  expect_protocol_error(deliver_to_server(ChannelData{42, as_bytes("x")}),
                        {"SSH_MSG_CHANNEL_DATA", "unknown channel 42"});
  expect_protocol_error(deliver_to_server(ChannelWindowAdjust{42, 1}),
                        {"SSH_MSG_CHANNEL_WINDOW_ADJUST", "42"});
  expect_protocol_error(deliver_to_server(ChannelEof{42}), {"SSH_MSG_CHANNEL_EOF", "42"});
  expect_protocol_error(deliver_to_server(ChannelClose{42}), {"SSH_MSG_CHANNEL_CLOSE", "42"});
  expect_protocol_error(deliver_to_server(ChannelRequest{42, "shell", true, {}}),
                        {"SSH_MSG_CHANNEL_REQUEST", "42"});
  expect_protocol_error(deliver_to_server(ChannelSuccess{42}), {"SSH_MSG_CHANNEL_SUCCESS", "42"});
  expect_protocol_error(deliver_to_server(ChannelOpenConfirmation{42, 1, 1, 1, {}}),
                        {"SSH_MSG_CHANNEL_OPEN_CONFIRMATION", "42"});
  expect_protocol_error(
      deliver_to_server(ChannelOpenFailure{42, OpenFailureReason::ConnectFailed, "", ""}),
      {"SSH_MSG_CHANNEL_OPEN_FAILURE", "42"});
}

TEST_F(ConnectionTest, RejectsDataAfterEof) {
  Session session = open_session();
  const std::uint32_t id = session.server->id;
  ASSERT_TRUE(deliver_to_server(ChannelEof{id}).ok());
  expect_protocol_error(deliver_to_server(ChannelData{id, as_bytes("x")}),
                        {"SSH_MSG_CHANNEL_DATA", "after its EOF", std::to_string(id)});
  expect_protocol_error(deliver_to_server(ChannelExtendedData{id, 1, as_bytes("x")}),
                        {"SSH_MSG_CHANNEL_EXTENDED_DATA", "after its EOF"});
  expect_protocol_error(deliver_to_server(ChannelEof{id}), {"second SSH_MSG_CHANNEL_EOF"});
}

TEST_F(ConnectionTest, RejectsOpenConfirmationOrFailureForOpenChannel) {
  Session session = open_session();
  expect_protocol_error(
      deliver_to_client(ChannelOpenConfirmation{session.client_id, 9, 100, 100, {}}),
      {"SSH_MSG_CHANNEL_OPEN_CONFIRMATION", "not being opened", std::to_string(session.client_id)});
  expect_protocol_error(deliver_to_client(ChannelOpenFailure{
                            session.client_id, OpenFailureReason::ConnectFailed, "", ""}),
                        {"SSH_MSG_CHANNEL_OPEN_FAILURE", "not being opened"});
}

TEST_F(ConnectionTest, RejectsMessagesBeforeConfirmation) {
  auto handler = std::make_shared<RecordingHandler>();
  auto id = client_->open_channel(SessionOpen{}, handler);
  ASSERT_TRUE(id.ok());
  expect_protocol_error(deliver_to_client(ChannelData{*id, as_bytes("x")}),
                        {"SSH_MSG_CHANNEL_DATA", "before its open was confirmed"});
  expect_protocol_error(deliver_to_client(ChannelClose{*id}),
                        {"SSH_MSG_CHANNEL_CLOSE", "before its open was confirmed"});
  expect_protocol_error(deliver_to_client(ChannelOpenConfirmation{*id, 1, 100, 0, {}}),
                        {"maximum packet size of 0"});
}

TEST_F(ConnectionTest, RejectsDoubleClose) {
  Session session = open_session();
  const std::uint32_t id = session.server->id;
  ASSERT_TRUE(deliver_to_server(ChannelClose{id}).ok());
  EXPECT_EQ(session.server->events.back(), "close");
  expect_protocol_error(deliver_to_server(ChannelClose{id}),
                        {"SSH_MSG_CHANNEL_CLOSE", "unknown channel", std::to_string(id)});
}

TEST_F(ConnectionTest, RejectsUnsolicitedReplies) {
  Session session = open_session();
  expect_protocol_error(deliver_to_client(ChannelSuccess{session.client_id}),
                        {"SSH_MSG_CHANNEL_SUCCESS", "without an outstanding request"});
  expect_protocol_error(deliver_to_client(ChannelFailure{session.client_id}),
                        {"SSH_MSG_CHANNEL_FAILURE", "without an outstanding request"});
  expect_protocol_error(deliver_to_client(RequestSuccess{}),
                        {"SSH_MSG_REQUEST_SUCCESS", "without an outstanding global request"});
  expect_protocol_error(deliver_to_client(RequestFailure{}),
                        {"SSH_MSG_REQUEST_FAILURE", "without an outstanding global request"});
  // One request, one reply.
  ASSERT_TRUE(client_->request_shell(session.client_id).ok());
  expect_pump_ok();
  expect_protocol_error(deliver_to_client(ChannelSuccess{session.client_id}),
                        {"without an outstanding request"});
}

TEST_F(ConnectionTest, RejectsWindowOverflow) {
  Session session = open_session();
  const std::uint32_t window = client_->send_window(session.client_id);
  ASSERT_TRUE(deliver_to_client(ChannelWindowAdjust{session.client_id, 0xffffffff - window}).ok());
  EXPECT_EQ(client_->send_window(session.client_id), 0xffffffffU);
  expect_protocol_error(deliver_to_client(ChannelWindowAdjust{session.client_id, 1}),
                        {"SSH_MSG_CHANNEL_WINDOW_ADJUST", "2^32-1"});
}

TEST_F(ConnectionTest, RejectsDataBeyondWindow) {
  make_pair({}, small_config(1000, 4000));
  Session session = open_session();
  const std::uint32_t id = session.server->id;
  expect_protocol_error(
      deliver_to_server(ChannelData{id, Bytes(1001)}),
      {"SSH_MSG_CHANNEL_DATA", "exceeds the window of 1000 bytes", std::to_string(id)});
  // 400 bytes are consumed but not yet re-granted (that happens at half the
  // window), so 600 are left.
  ASSERT_TRUE(deliver_to_server(ChannelExtendedData{id, 1, Bytes(400)}).ok());
  EXPECT_EQ(server_out_.window_adjusts, 0U);
  expect_protocol_error(deliver_to_server(ChannelData{id, Bytes(601)}),
                        {"SSH_MSG_CHANNEL_DATA", "exceeds the window of 600 bytes"});
}

TEST_F(ConnectionTest, RejectsDataLargerThanMaxPacket) {
  make_pair({}, small_config(64 * 1024, 1024));
  Session session = open_session();
  const std::uint32_t id = session.server->id;
  ASSERT_TRUE(deliver_to_server(ChannelData{id, Bytes(1024)}).ok());
  expect_protocol_error(deliver_to_server(ChannelData{id, Bytes(1025)}),
                        {"SSH_MSG_CHANNEL_DATA", "maximum packet size"});
}

TEST_F(ConnectionTest, RejectsMalformedAndUnassignedMessages) {
  Session session = open_session();
  Bytes truncated = encode_to_bytes(ChannelData{session.server->id, as_bytes("abc")});
  truncated.pop_back();
  expect_protocol_error(server_->handle_message(truncated), {"malformed SSH_MSG_CHANNEL_DATA"});
  expect_protocol_error(server_->handle_message(Bytes{kMsgChannelOpen}),
                        {"malformed SSH_MSG_CHANNEL_OPEN"});
  expect_protocol_error(server_->handle_message(Bytes{85, 0}), {"85"});
  expect_protocol_error(server_->handle_message(Bytes{}), {"empty"});
  expect_protocol_error(deliver_to_server(ChannelOpen{"session", 1, 100, 0, {}}),
                        {"maximum packet size of 0"});
  EXPECT_FALSE(is_connection_message(85));
  EXPECT_TRUE(is_connection_message(kMsgChannelData));
}

}  // namespace
}  // namespace ssh::connection
