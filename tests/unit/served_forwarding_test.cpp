// The server's forwarding (ServedForwarding and the ChannelStreamRelay under
// it) between a real client Connection and a real server Connection wired to
// each other in memory, with real loopback sockets on the far side: echo
// servers for direct-tcpip/streamlocal, connections into the listeners of
// tcpip-forward/streamlocal-forward and the agent socket.
//
// Everything runs on the test thread: run_until() alternates running the
// io_context with pumping the two Connections' queued payloads into each
// other. The echo servers are blocking, on threads of their own.
#include "ssh/asio/served_forwarding.hpp"

#include <botan/hash.h>
#include <botan/hex.h>
#include <gtest/gtest.h>

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ssh/connection/connection.hpp"
#include "ssh/connection/messages.hpp"
#include "ssh/limits.hpp"
#include "support/connection_pair.hpp"
#include "support/temp_dir.hpp"

#ifndef _WIN32
#include <unistd.h>
#endif

namespace ssh::net {
namespace {

using asio::ip::tcp;
using connection::ChannelHandler;
using connection::Connection;
using connection::ConnectionHandler;
using connection::OpenDecision;
using connection::OpenFailureReason;
using namespace std::chrono_literals;

// The client's end of one channel: what it heard.
class ClientChannel : public ChannelHandler {
 public:
  void on_open_confirmed(std::uint32_t channel) override {
    id = channel;
    confirmed = true;
  }
  void on_open_failed(std::uint32_t, OpenFailureReason reason,
                      std::string_view description) override {
    failure = reason;
    failure_text = std::string(description);
  }
  void on_data(std::uint32_t, ByteView data) override {
    received.insert(received.end(), data.begin(), data.end());
  }
  void on_eof(std::uint32_t) override { eof = true; }
  void on_close(std::uint32_t) override { closed = true; }

  std::uint32_t id = 0;
  bool confirmed = false;
  std::optional<OpenFailureReason> failure;
  std::string failure_text;
  Bytes received;
  bool eof = false;
  bool closed = false;
};

// What the test's client accepts from the server: every channel, recorded.
class ClientHandler : public ConnectionHandler {
 public:
  struct Opened {
    std::string type;
    Bytes data;
    std::shared_ptr<ClientChannel> channel;
  };
  OpenDecision on_channel_open(std::string_view type, ByteView data) override {
    auto channel = std::make_shared<ClientChannel>();
    opened.push_back({std::string(type), to_bytes(data), channel});
    return channel;
  }
  std::vector<Opened> opened;
};

// The server's ConnectionHandler as far as forwarding goes.
class ServerHandler : public ConnectionHandler {
 public:
  OpenDecision on_channel_open(std::string_view type, ByteView data) override {
    if (type == connection::DirectTcpipOpen::kType) return forwarding->open_direct_tcpip(data);
    if (type == connection::DirectStreamlocalOpen::kType) {
      return forwarding->open_direct_streamlocal(data);
    }
    return ConnectionHandler::on_channel_open(type, data);
  }
  std::optional<Bytes> on_global_request(std::string_view name, bool want_reply,
                                         ByteView data) override {
    return forwarding->global_request(name, want_reply, data);
  }
  ServedForwarding* forwarding = nullptr;
};

std::string text_of(const Bytes& bytes) {
  return std::string(as_text(bytes));
}

class ServedForwardingTest : public ::testing::Test {
 protected:
  ~ServedForwardingTest() override { tear_down(); }

  // Builds the connection pair with the current policy and restrictions.
  void start() {
    client_handler = std::make_shared<ClientHandler>();
    server_handler = std::make_shared<ServerHandler>();
    client = std::make_unique<Connection>(Role::Client, connection::ConnectionConfig{}, client_out,
                                          client_handler);
    server = std::make_unique<Connection>(Role::Server, connection::ConnectionConfig{}, server_out,
                                          server_handler);
    context.reset(new ServerConnectionContext{
        io, *server, [this] { ++kicks; }, "tester", "192.0.2.7:50000",
        config::ClientOrigin{"192.0.2.7", ""}, restrictions, policy, nullptr, nullptr, nullptr});
    forwarding = std::make_unique<ServedForwarding>(context);
    server_handler->forwarding = forwarding.get();
  }

  void tear_down() {
    if (forwarding) forwarding->shutdown();
    if (client) client->abort_all();
    if (server) server->abort_all();
    io.restart();
    io.poll();
    forwarding.reset();
    client_out.queue.clear();
    server_out.queue.clear();
  }

  // Delivers queued payloads both ways until neither side has any.
  void pump() { deliver_payloads(client_out, *client, server_out, *server); }

  // Runs the io_context and pumps until done() holds; false on timeout.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 20s) {
    return run_io_until(
        io, [this] { pump(); }, done, timeout);
  }

  std::shared_ptr<ClientChannel> open(const auto& typed) {
    auto channel = std::make_shared<ClientChannel>();
    auto id = client->open_channel(typed, channel);
    EXPECT_TRUE(id.ok());
    if (id) channel->id = *id;
    return channel;
  }

  // Sends a global request; the reply lands in the returned optional
  // (engaged once it arrived: true/false and the data).
  struct Reply {
    bool arrived = false;
    bool success = false;
    Bytes data;
  };
  std::shared_ptr<Reply> global_request(std::string_view name, Bytes data) {
    auto reply = std::make_shared<Reply>();
    Status sent = client->send_global_request(name, true, std::move(data),
                                              [reply](bool success, ByteView reply_data) {
                                                reply->arrived = true;
                                                reply->success = success;
                                                reply->data = to_bytes(reply_data);
                                              });
    EXPECT_TRUE(sent.ok());
    EXPECT_TRUE(run_until([&] { return reply->arrived; }));
    return reply;
  }

  // Sends `payload` on the channel as the window allows, then EOF, and
  // waits until the channel is closed both ways.
  void send_all_and_finish(ClientChannel& channel, const Bytes& payload) {
    std::size_t offset = 0;
    bool eof_sent = false;
    const bool finished = run_until([&] {
      while (offset < payload.size()) {
        auto sent = client->send_data(channel.id, ByteView(payload).subspan(offset));
        if (!sent.ok() || *sent == 0) break;
        offset += *sent;
      }
      if (offset == payload.size() && !eof_sent) {
        eof_sent = client->send_eof(channel.id).ok();
      }
      return channel.closed;
    });
    EXPECT_TRUE(finished) << "sent " << offset << " of " << payload.size() << ", received "
                          << channel.received.size() << ", eof " << channel.eof;
  }

  // A loopback TCP port nobody listens on (bound, then released).
  static std::uint16_t closed_port() {
    asio::io_context scratch;
    tcp::acceptor acceptor(scratch, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    return acceptor.local_endpoint().port();
  }

  asio::io_context io;
  QueueSink client_out;
  QueueSink server_out;
  ServerSessionPolicy policy;
  config::AuthorizedKeyOptions restrictions;
  std::shared_ptr<ClientHandler> client_handler;
  std::shared_ptr<ServerHandler> server_handler;
  std::unique_ptr<Connection> client;
  std::unique_ptr<Connection> server;
  std::shared_ptr<ServerConnectionContext> context;
  std::unique_ptr<ServedForwarding> forwarding;
  int kicks = 0;
};

// --- direct-tcpip ------------------------------------------------------------------

TEST_F(ServedForwardingTest, DirectTcpipRelaysMebibytesToAnEchoServerBothWays) {
  start();
  EchoServer<tcp> echo(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  auto channel =
      open(connection::DirectTcpipOpen{"127.0.0.1", echo.endpoint().port(), "198.51.100.1", 4242});
  ASSERT_TRUE(run_until([&] { return channel->confirmed || channel->failure; }));
  ASSERT_TRUE(channel->confirmed) << channel->failure_text;

  // Larger than the 2 MiB windows both ways, so flow control has to work.
  const Bytes payload = random_bytes(5 * 1024 * 1024 + 123, 7);
  send_all_and_finish(*channel, payload);
  EXPECT_TRUE(channel->eof);
  EXPECT_EQ(channel->received.size(), payload.size());
  EXPECT_EQ(sha256(channel->received), sha256(payload));
  EXPECT_EQ(echo.echoed(), payload.size());
  EXPECT_EQ(server->channel_count(), 0u);
  EXPECT_EQ(client->channel_count(), 0u);
  EXPECT_GT(kicks, 0);
}

TEST_F(ServedForwardingTest, DirectTcpipTargetThatDoesNotReadStallsTheClient) {
  start();
  // A target that accepts and then reads nothing until told to.
  tcp::acceptor target(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket target_side(io);
  target.async_accept(target_side, [](std::error_code) {});
  auto channel = open(
      connection::DirectTcpipOpen{"127.0.0.1", target.local_endpoint().port(), "198.51.100.1", 1});
  ASSERT_TRUE(run_until([&] { return channel->confirmed || channel->failure.has_value(); }));
  ASSERT_TRUE(channel->confirmed) << channel->failure_text;

  // Send until the window stays shut: the server re-grants only what it
  // wrote, so what is in flight is bounded by the window plus the kernel's
  // socket buffers, far below what we try to send.
  const Bytes payload = random_bytes(64 * 1024 * 1024, 3);
  std::size_t offset = 0;
  auto push = [&] {
    while (offset < payload.size()) {
      auto sent = client->send_data(channel->id, ByteView(payload).subspan(offset));
      if (!sent.ok() || *sent == 0) break;
      offset += *sent;
    }
  };
  std::size_t last_offset = 0;
  int quiet_rounds = 0;
  ASSERT_TRUE(run_until([&] {
    push();
    quiet_rounds = offset == last_offset ? quiet_rounds + 1 : 0;
    last_offset = offset;
    return quiet_rounds >= 50;
  }));
  EXPECT_EQ(client->send_window(channel->id), 0u);
  EXPECT_LT(offset, 32u * 1024 * 1024) << "the server took far more than its window";
  EXPECT_GE(offset, std::size_t{limits::kDefaultWindowSize});

  // The target reads: the transfer resumes and completes intact.
  Bytes received;
  received.reserve(payload.size());
  std::vector<std::uint8_t> buffer(256 * 1024);
  bool eof_sent = false;
  ASSERT_TRUE(run_until(
      [&] {
        push();
        if (offset == payload.size() && !eof_sent) eof_sent = client->send_eof(channel->id).ok();
        std::error_code error;
        while (target_side.available(error) > 0) {
          const std::size_t length = target_side.read_some(asio::buffer(buffer), error);
          if (error) break;
          received.insert(received.end(), buffer.begin(), buffer.begin() + length);
        }
        return received.size() == payload.size();
      },
      60s));
  EXPECT_EQ(sha256(received), sha256(payload));
}

TEST_F(ServedForwardingTest, ChannelCloseOrConnectionEndClosesTheTargetConnection) {
  start();
  tcp::acceptor target(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  std::vector<tcp::socket> target_sides;
  auto accept_next = [&] {
    target.async_accept([&](std::error_code error, tcp::socket socket) {
      if (!error) target_sides.push_back(std::move(socket));
    });
  };
  const std::uint16_t port = target.local_endpoint().port();
  auto expect_end_of_stream = [&](tcp::socket& socket) {
    // What the client sent before closing still arrives, then EOF.
    std::string got;
    std::error_code error;
    ASSERT_TRUE(run_until([&] {
      char buffer[64];
      while (socket.available(error) > 0) {
        got.append(buffer, socket.read_some(asio::buffer(buffer), error));
      }
      if (got.size() < 4) return false;
      socket.non_blocking(true);
      socket.read_some(asio::buffer(buffer), error);
      socket.non_blocking(false);
      return error != asio::error::would_block;
    }));
    EXPECT_EQ(got, "last");
    EXPECT_EQ(error, asio::error::eof);
  };

  // The client closes its channel without EOF.
  accept_next();
  auto channel = open(connection::DirectTcpipOpen{"127.0.0.1", port, "198.51.100.1", 1});
  ASSERT_TRUE(run_until([&] { return channel->confirmed && target_sides.size() == 1; }));
  ASSERT_TRUE(client->send_data(channel->id, as_bytes("last")).ok());
  ASSERT_TRUE(client->close(channel->id).ok());
  ASSERT_TRUE(run_until([&] { return channel->closed; }));
  expect_end_of_stream(target_sides[0]);
  EXPECT_EQ(server->channel_count(), 0u);

  // The connection ends (the driver aborts every channel).
  accept_next();
  channel = open(connection::DirectTcpipOpen{"127.0.0.1", port, "198.51.100.1", 2});
  ASSERT_TRUE(run_until([&] { return channel->confirmed && target_sides.size() == 2; }));
  ASSERT_TRUE(client->send_data(channel->id, as_bytes("last")).ok());
  pump();
  server->abort_all();
  expect_end_of_stream(target_sides[1]);
}

TEST_F(ServedForwardingTest, DirectTcpipConnectFailureIsAnOpenFailureWithTheReason) {
  start();
  const std::uint16_t port = closed_port();
  auto channel = open(connection::DirectTcpipOpen{"127.0.0.1", port, "198.51.100.1", 4242});
  ASSERT_TRUE(run_until([&] { return channel->confirmed || channel->failure.has_value(); }));
  ASSERT_TRUE(channel->failure.has_value());
  EXPECT_EQ(*channel->failure, OpenFailureReason::ConnectFailed);
  EXPECT_NE(
      channel->failure_text.find("connect to 127.0.0.1:" + std::to_string(port) + " failed: "),
      std::string::npos)
      << channel->failure_text;
  EXPECT_EQ(server->channel_count(), 0u);
}

TEST_F(ServedForwardingTest, DirectTcpipOutsidePermitOpenIsProhibited) {
  restrictions.permit_open = {{"127.0.0.1", 1}};
  start();
  EchoServer<tcp> echo(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  auto channel =
      open(connection::DirectTcpipOpen{"127.0.0.1", echo.endpoint().port(), "198.51.100.1", 1});
  ASSERT_TRUE(run_until([&] { return channel->confirmed || channel->failure.has_value(); }));
  ASSERT_TRUE(channel->failure.has_value());
  EXPECT_EQ(*channel->failure, OpenFailureReason::AdministrativelyProhibited);
  EXPECT_NE(channel->failure_text.find("permitopen"), std::string::npos) << channel->failure_text;
}

TEST_F(ServedForwardingTest, DirectTcpipIsProhibitedWhenThePolicyDisablesIt) {
  policy.allow_tcp_forwarding = false;
  start();
  auto channel = open(connection::DirectTcpipOpen{"127.0.0.1", 22, "198.51.100.1", 1});
  ASSERT_TRUE(run_until([&] { return channel->confirmed || channel->failure.has_value(); }));
  ASSERT_TRUE(channel->failure.has_value());
  EXPECT_EQ(*channel->failure, OpenFailureReason::AdministrativelyProhibited);
}

// --- tcpip-forward -----------------------------------------------------------------

TEST_F(ServedForwardingTest, TcpipForwardOfPortZeroRepliesThePortAndForwardsConnections) {
  start();
  auto reply = global_request("tcpip-forward",
                              connection::encode_to_bytes(connection::TcpipForwardRequest{"", 0}));
  ASSERT_TRUE(reply->success);
  auto bound = connection::TcpipForwardReply::decode(reply->data);
  ASSERT_TRUE(bound.has_value());
  const std::uint16_t port = bound->bound_port;
  ASSERT_NE(port, 0);
  for (const auto& endpoint : forwarding->tcp_listen_endpoints()) {
    EXPECT_TRUE(endpoint == "127.0.0.1:" + std::to_string(port) ||
                endpoint == "[::1]:" + std::to_string(port))
        << endpoint;
  }

  tcp::socket outside(io);
  outside.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
  ASSERT_TRUE(run_until([&] {
    return !client_handler->opened.empty() && client_handler->opened[0].channel->confirmed;
  }));
  const auto& opened = client_handler->opened[0];
  EXPECT_EQ(opened.type, "forwarded-tcpip");
  auto open = connection::ForwardedTcpipOpen::decode(opened.data);
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ(open->connected_address, "");
  EXPECT_EQ(open->connected_port, port);
  EXPECT_EQ(open->originator_address, "127.0.0.1");
  EXPECT_EQ(open->originator_port, outside.local_endpoint().port());

  // Outside -> client.
  asio::write(outside, asio::buffer(std::string("ping from outside")));
  auto& channel = *opened.channel;
  ASSERT_TRUE(run_until([&] { return channel.received.size() >= 17; }));
  EXPECT_EQ(text_of(channel.received), "ping from outside");

  // Client -> outside, then EOF both ways closes the channel.
  ASSERT_TRUE(client->send_data(channel.id, as_bytes("pong from client")).ok());
  ASSERT_TRUE(client->send_eof(channel.id).ok());
  ASSERT_TRUE(run_until([&] { return outside.available() >= 16; }));
  std::string answer(16, '\0');
  asio::read(outside, asio::buffer(answer));
  EXPECT_EQ(answer, "pong from client");
  outside.shutdown(tcp::socket::shutdown_send);
  ASSERT_TRUE(run_until([&] { return channel.closed; }));
  EXPECT_TRUE(channel.eof);
  // The relay closed its socket: the outside sees the end.
  std::error_code error;
  char byte;
  outside.read_some(asio::buffer(&byte, 1), error);
  EXPECT_EQ(error, asio::error::eof);
}

TEST_F(ServedForwardingTest, CancelTcpipForwardStopsTheListener) {
  start();
  auto reply =
      global_request("tcpip-forward",
                     connection::encode_to_bytes(connection::TcpipForwardRequest{"localhost", 0}));
  ASSERT_TRUE(reply->success);
  const std::uint16_t port = connection::TcpipForwardReply::decode(reply->data)->bound_port;
  ASSERT_FALSE(forwarding->tcp_listen_endpoints().empty());

  // Another port, or another address, is not this forward.
  auto wrong = global_request("cancel-tcpip-forward",
                              connection::encode_to_bytes(connection::TcpipForwardRequest{
                                  "localhost", static_cast<std::uint16_t>(port + 1)}));
  EXPECT_FALSE(wrong->success);
  wrong = global_request("cancel-tcpip-forward",
                         connection::encode_to_bytes(connection::TcpipForwardRequest{"", port}));
  EXPECT_FALSE(wrong->success);

  auto cancelled = global_request(
      "cancel-tcpip-forward",
      connection::encode_to_bytes(connection::TcpipForwardRequest{"localhost", port}));
  EXPECT_TRUE(cancelled->success);
  EXPECT_TRUE(cancelled->data.empty());
  EXPECT_TRUE(forwarding->tcp_listen_endpoints().empty());
  io.restart();
  io.poll();
  tcp::socket outside(io);
  std::error_code error;
  outside.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), error);
  EXPECT_EQ(error, asio::error::connection_refused);
}

TEST_F(ServedForwardingTest, TcpipForwardBindsLoopbackOnlyWithoutGatewayPorts) {
  start();
  auto reply = global_request(
      "tcpip-forward", connection::encode_to_bytes(connection::TcpipForwardRequest{"0.0.0.0", 0}));
  ASSERT_TRUE(reply->success);
  const auto endpoints = forwarding->tcp_listen_endpoints();
  ASSERT_FALSE(endpoints.empty());
  for (const auto& endpoint : endpoints) {
    EXPECT_TRUE(endpoint.starts_with("127.0.0.1:") || endpoint.starts_with("[::1]:")) << endpoint;
  }
  // A fixed port: success without reply data.
  const std::uint16_t port = closed_port();
  reply = global_request("tcpip-forward", connection::encode_to_bytes(
                                              connection::TcpipForwardRequest{"127.0.0.1", port}));
  ASSERT_TRUE(reply->success);
  EXPECT_TRUE(reply->data.empty());
  EXPECT_EQ(forwarding->tcp_listen_endpoints().back(), "127.0.0.1:" + std::to_string(port));
}

TEST_F(ServedForwardingTest, TcpipForwardHonoursTheClientsAddressWithGatewayPorts) {
  policy.gateway_ports = true;
  start();
  auto reply = global_request(
      "tcpip-forward", connection::encode_to_bytes(connection::TcpipForwardRequest{"0.0.0.0", 0}));
  ASSERT_TRUE(reply->success);
  const std::uint16_t port = connection::TcpipForwardReply::decode(reply->data)->bound_port;
  EXPECT_EQ(forwarding->tcp_listen_endpoints(),
            std::vector<std::string>{"0.0.0.0:" + std::to_string(port)});
  // Host names are not resolved for listeners.
  reply = global_request("tcpip-forward", connection::encode_to_bytes(
                                              connection::TcpipForwardRequest{"example.org", 0}));
  EXPECT_FALSE(reply->success);
}

TEST_F(ServedForwardingTest, TcpipForwardIsRefusedOutsidePermitListenAndWhenDisabled) {
  restrictions.permit_listen = {{"", 1}};
  start();
  auto reply = global_request("tcpip-forward",
                              connection::encode_to_bytes(connection::TcpipForwardRequest{"", 0}));
  EXPECT_FALSE(reply->success);
  EXPECT_TRUE(forwarding->tcp_listen_endpoints().empty());
  tear_down();

  restrictions = {};
  policy.allow_tcp_forwarding = false;
  start();
  reply = global_request("tcpip-forward",
                         connection::encode_to_bytes(connection::TcpipForwardRequest{"", 0}));
  EXPECT_FALSE(reply->success);
  EXPECT_TRUE(forwarding->tcp_listen_endpoints().empty());
}

TEST_F(ServedForwardingTest, OtherGlobalRequestsAreNotAnswered) {
  start();
  EXPECT_FALSE(forwarding->global_request("keepalive@openssh.com", true, {}).has_value());
  EXPECT_FALSE(ServedForwarding::handles_global_request("keepalive@openssh.com"));
  EXPECT_TRUE(ServedForwarding::handles_global_request("cancel-streamlocal-forward@openssh.com"));
  // Malformed data is refused, not a crash.
  EXPECT_FALSE(forwarding->global_request("tcpip-forward", true, as_bytes("x")).has_value());
}

TEST_F(ServedForwardingTest, ShutdownClosesTheListeners) {
  start();
  auto reply = global_request("tcpip-forward",
                              connection::encode_to_bytes(connection::TcpipForwardRequest{"", 0}));
  ASSERT_TRUE(reply->success);
  const std::uint16_t port = connection::TcpipForwardReply::decode(reply->data)->bound_port;
  forwarding->shutdown();
  EXPECT_TRUE(forwarding->tcp_listen_endpoints().empty());
  io.restart();
  io.poll();
  tcp::socket outside(io);
  std::error_code error;
  outside.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), error);
  EXPECT_EQ(error, asio::error::connection_refused);
  // And nothing new starts.
  reply = global_request("tcpip-forward",
                         connection::encode_to_bytes(connection::TcpipForwardRequest{"", 0}));
  EXPECT_FALSE(reply->success);
}

#ifndef _WIN32
// --- Unix-domain sockets -----------------------------------------------------------

using local_stream = asio::local::stream_protocol;

TEST_F(ServedForwardingTest, DirectStreamlocalRelaysToAUnixSocket) {
  start();
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "echo.sock").string();
  EchoServer<local_stream> echo{local_stream::endpoint(path)};
  auto channel = open(connection::DirectStreamlocalOpen{path, "", 0});
  ASSERT_TRUE(run_until([&] { return channel->confirmed || channel->failure.has_value(); }));
  ASSERT_TRUE(channel->confirmed) << channel->failure_text;
  const Bytes payload = random_bytes(3 * 1024 * 1024 + 5, 11);
  send_all_and_finish(*channel, payload);
  EXPECT_EQ(sha256(channel->received), sha256(payload));
  EXPECT_EQ(server->channel_count(), 0u);
}

TEST_F(ServedForwardingTest, DirectStreamlocalToNoSocketIsAConnectFailure) {
  start();
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "nobody.sock").string();
  auto channel = open(connection::DirectStreamlocalOpen{path, "", 0});
  ASSERT_TRUE(run_until([&] { return channel->confirmed || channel->failure.has_value(); }));
  ASSERT_TRUE(channel->failure.has_value());
  EXPECT_EQ(*channel->failure, OpenFailureReason::ConnectFailed);
  EXPECT_NE(channel->failure_text.find("connect to " + path + " failed: "), std::string::npos)
      << channel->failure_text;
}

TEST_F(ServedForwardingTest, DirectStreamlocalIsProhibitedByNoPortForwarding) {
  restrictions.port_forwarding = false;
  start();
  auto channel = open(connection::DirectStreamlocalOpen{"/tmp/whatever.sock", "", 0});
  ASSERT_TRUE(run_until([&] { return channel->confirmed || channel->failure.has_value(); }));
  ASSERT_TRUE(channel->failure.has_value());
  EXPECT_EQ(*channel->failure, OpenFailureReason::AdministrativelyProhibited);
}

TEST_F(ServedForwardingTest, StreamlocalForwardListensForwardsAndCancels) {
  start();
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "remote.sock").string();
  auto reply =
      global_request("streamlocal-forward@openssh.com",
                     connection::encode_to_bytes(connection::StreamlocalForwardRequest{path}));
  ASSERT_TRUE(reply->success);
  const auto status = std::filesystem::status(path);
  EXPECT_EQ(status.type(), std::filesystem::file_type::socket);
  EXPECT_EQ(status.permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  local_stream::socket outside(io);
  outside.connect(local_stream::endpoint(path));
  ASSERT_TRUE(run_until([&] {
    return !client_handler->opened.empty() && client_handler->opened[0].channel->confirmed;
  }));
  EXPECT_EQ(client_handler->opened[0].type, "forwarded-streamlocal@openssh.com");
  auto open = connection::ForwardedStreamlocalOpen::decode(client_handler->opened[0].data);
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ(open->socket_path, path);
  auto& channel = *client_handler->opened[0].channel;
  asio::write(outside, asio::buffer(std::string("hello")));
  ASSERT_TRUE(run_until([&] { return channel.received.size() >= 5; }));
  EXPECT_EQ(text_of(channel.received), "hello");
  ASSERT_TRUE(client->send_data(channel.id, as_bytes("world")).ok());
  ASSERT_TRUE(run_until([&] { return outside.available() >= 5; }));
  std::string answer(5, '\0');
  asio::read(outside, asio::buffer(answer));
  EXPECT_EQ(answer, "world");

  auto cancelled =
      global_request("cancel-streamlocal-forward@openssh.com",
                     connection::encode_to_bytes(connection::StreamlocalForwardRequest{path}));
  EXPECT_TRUE(cancelled->success);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path)));
  EXPECT_TRUE(forwarding->unix_listen_paths().empty());
  // A second cancel finds nothing.
  cancelled =
      global_request("cancel-streamlocal-forward@openssh.com",
                     connection::encode_to_bytes(connection::StreamlocalForwardRequest{path}));
  EXPECT_FALSE(cancelled->success);
}

TEST_F(ServedForwardingTest, StreamlocalForwardNeverReplacesAnExistingPath) {
  start();
  testing_support::TempDir dir;
  const auto path = dir.path() / "taken.sock";
  {
    std::ofstream file(path);
    file << "not a socket";
  }
  auto reply = global_request(
      "streamlocal-forward@openssh.com",
      connection::encode_to_bytes(connection::StreamlocalForwardRequest{path.string()}));
  EXPECT_FALSE(reply->success);
  EXPECT_EQ(std::filesystem::status(path).type(), std::filesystem::file_type::regular);
  EXPECT_TRUE(forwarding->unix_listen_paths().empty());
}

TEST_F(ServedForwardingTest, ShutdownRemovesTheUnixListenersSocketFiles) {
  start();
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "remote.sock").string();
  auto reply =
      global_request("streamlocal-forward@openssh.com",
                     connection::encode_to_bytes(connection::StreamlocalForwardRequest{path}));
  ASSERT_TRUE(reply->success);
  ASSERT_TRUE(std::filesystem::exists(path));
  forwarding->shutdown();
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path)));
}

// --- Agent forwarding --------------------------------------------------------------

TEST_F(ServedForwardingTest, AgentForwardingListensInAPrivateDirectoryAndOpensAgentChannels) {
  start();
  auto path = forwarding->start_agent_forwarding();
  ASSERT_TRUE(path.ok()) << path.error().message;
  const std::filesystem::path socket_path = *path;
  const auto directory = socket_path.parent_path();
  EXPECT_TRUE(directory.filename().string().starts_with("limactl-agent.")) << directory;
  EXPECT_EQ(socket_path.filename().string(), "agent." + std::to_string(getpid()));
  EXPECT_EQ(std::filesystem::status(directory).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_all);
  EXPECT_EQ(std::filesystem::status(socket_path).type(), std::filesystem::file_type::socket);
  // Once per connection.
  auto again = forwarding->start_agent_forwarding();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *path);

  // A program using SSH_AUTH_SOCK: its bytes reach the client on an agent
  // channel, and the client's answer comes back.
  local_stream::socket program(io);
  program.connect(local_stream::endpoint(*path));
  ASSERT_TRUE(run_until([&] {
    return !client_handler->opened.empty() && client_handler->opened[0].channel->confirmed;
  }));
  EXPECT_EQ(client_handler->opened[0].type, "auth-agent@openssh.com");
  auto& channel = *client_handler->opened[0].channel;
  const Bytes request = {0, 0, 0, 1, 11};  // SSH_AGENTC_REQUEST_IDENTITIES
  asio::write(program, asio::buffer(request));
  ASSERT_TRUE(run_until([&] { return channel.received.size() >= request.size(); }));
  EXPECT_EQ(channel.received, request);
  const Bytes answer = {0, 0, 0, 5, 12, 0, 0, 0, 0};  // SSH_AGENT_IDENTITIES_ANSWER, none
  ASSERT_TRUE(client->send_data(channel.id, answer).ok());
  ASSERT_TRUE(run_until([&] { return program.available() >= answer.size(); }));
  Bytes got(answer.size());
  asio::read(program, asio::buffer(got));
  EXPECT_EQ(got, answer);

  // The program hangs up: the channel ends once the client closes too.
  program.close();
  ASSERT_TRUE(run_until([&] { return channel.eof; }));
  ASSERT_TRUE(client->send_eof(channel.id).ok());
  ASSERT_TRUE(run_until([&] { return channel.closed; }));

  forwarding->shutdown();
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(socket_path)));
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(directory)));
}

TEST_F(ServedForwardingTest, AgentForwardingIsRefusedByPolicyAndByNoAgentForwarding) {
  policy.allow_agent_forwarding = false;
  start();
  auto path = forwarding->start_agent_forwarding();
  ASSERT_FALSE(path.ok());
  EXPECT_NE(path.error().message.find("disabled"), std::string::npos) << path.error().message;
  tear_down();

  policy.allow_agent_forwarding = true;
  restrictions.agent_forwarding = false;
  start();
  path = forwarding->start_agent_forwarding();
  ASSERT_FALSE(path.ok());
  EXPECT_NE(path.error().message.find("no-agent-forwarding"), std::string::npos)
      << path.error().message;
}
#else
TEST_F(ServedForwardingTest, UnixSocketForwardsAndAgentForwardingAreRefusedOnWindows) {
  start();
  auto path = forwarding->start_agent_forwarding();
  ASSERT_FALSE(path.ok());
  EXPECT_NE(path.error().message.find("Windows"), std::string::npos) << path.error().message;
  EXPECT_FALSE(forwarding
                   ->global_request("streamlocal-forward@openssh.com", true,
                                    connection::encode_to_bytes(
                                        connection::StreamlocalForwardRequest{"C:\\x.sock"}))
                   .has_value());
  auto channel = open(connection::DirectStreamlocalOpen{"C:\\x.sock", "", 0});
  ASSERT_TRUE(run_until([&] { return channel->confirmed || channel->failure.has_value(); }));
  ASSERT_TRUE(channel->failure.has_value());
  EXPECT_NE(channel->failure_text.find("Windows"), std::string::npos) << channel->failure_text;
}
#endif

}  // namespace
}  // namespace ssh::net
