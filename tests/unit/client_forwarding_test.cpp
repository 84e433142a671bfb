// The client's forwarding (-L, -D, -R) end to end in memory: a client
// Connection with ClientForwarding wired to a server Connection with the
// server's ServedForwarding, real loopback sockets on both far sides.
// Blocking test clients and echo servers run on threads of their own while
// the test thread runs the io_context and pumps payloads (run_until).
#include "ssh/asio/client_forwarding.hpp"

#include <gtest/gtest.h>

#include <asio.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "ssh/asio/served_forwarding.hpp"
#include "ssh/connection/messages.hpp"
#include "support/connection_pair.hpp"
#include "support/temp_dir.hpp"

namespace ssh::net {
namespace {

using asio::ip::tcp;
using config::ForwardKind;
using connection::Connection;
using connection::ConnectionHandler;
using connection::OpenDecision;
using namespace std::chrono_literals;

class ClientSide : public ConnectionHandler {
 public:
  OpenDecision on_channel_open(std::string_view type, ByteView data) override {
    if (ClientForwarding::handles_channel_type(type)) return forwarding->open_channel(type, data);
    return ConnectionHandler::on_channel_open(type, data);
  }
  ClientForwarding* forwarding = nullptr;
};

class ServerSide : public ConnectionHandler {
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

config::ForwardSpec spec(ForwardKind kind, const std::string& text) {
  auto parsed = config::parse_forward(kind, text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.ok() ? *parsed : config::ForwardSpec{};
}

// Port of "127.0.0.1:PORT" (the first endpoint add_local reports).
std::uint16_t port_of(const std::string& endpoint) {
  return static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

// A blocking client: sends `payload`, half-closes, reads until EOF.
Bytes exchange_over_tcp(std::uint16_t port, const Bytes& prefix, std::size_t prefix_reply_size,
                        Bytes* prefix_reply, const Bytes& payload) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
  if (!prefix.empty()) asio::write(socket, asio::buffer(prefix));
  if (prefix_reply_size > 0) {
    prefix_reply->resize(prefix_reply_size);
    std::error_code error;
    asio::read(socket, asio::buffer(*prefix_reply), error);
    if (error) {
      prefix_reply->clear();
      return {};
    }
  }
  std::thread writer([&] {
    std::error_code ignored;
    asio::write(socket, asio::buffer(payload), ignored);
    socket.shutdown(tcp::socket::shutdown_send, ignored);
  });
  Bytes received;
  std::vector<std::uint8_t> buffer(64 * 1024);
  for (;;) {
    std::error_code error;
    const std::size_t length = socket.read_some(asio::buffer(buffer), error);
    if (error) break;
    received.insert(received.end(), buffer.begin(), buffer.begin() + length);
  }
  writer.join();
  return received;
}

class ClientForwardingTest : public ::testing::Test {
 protected:
  ClientForwardingTest() {
    client_side = std::make_shared<ClientSide>();
    server_side = std::make_shared<ServerSide>();
    client = std::make_unique<Connection>(Role::Client, connection::ConnectionConfig{}, client_out,
                                          client_side);
    server = std::make_unique<Connection>(Role::Server, connection::ConnectionConfig{}, server_out,
                                          server_side);
    context.reset(new ServerConnectionContext{io, *server, [] {}, "tester", "127.0.0.1:50000",
                                              config::ClientOrigin{"127.0.0.1", ""}, restrictions,
                                              policy, nullptr, nullptr, nullptr});
    served = std::make_unique<ServedForwarding>(context);
    server_side->forwarding = served.get();
    forwarding = std::make_unique<ClientForwarding>(io, *client, [] {});
    client_side->forwarding = forwarding.get();
  }

  ~ClientForwardingTest() override {
    forwarding->shutdown();
    served->shutdown();
    client->abort_all();
    server->abort_all();
    io.restart();
    io.poll();
  }

  void pump() { deliver_payloads(client_out, *client, server_out, *server); }

  // Runs the io_context and pumps until done() holds; false on timeout.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 30s) {
    return run_io_until(
        io, [this] { pump(); }, done, timeout);
  }

  // Runs the io_context until the blocking client on another thread is done.
  template <class T>
  T run_client(std::future<T>& client_done) {
    EXPECT_TRUE(run_until([&] { return client_done.wait_for(0s) == std::future_status::ready; }));
    return client_done.get();
  }

  asio::io_context io;
  QueueSink client_out;
  QueueSink server_out;
  ServerSessionPolicy policy;
  config::AuthorizedKeyOptions restrictions;
  std::shared_ptr<ClientSide> client_side;
  std::shared_ptr<ServerSide> server_side;
  std::unique_ptr<Connection> client;
  std::unique_ptr<Connection> server;
  std::shared_ptr<ServerConnectionContext> context;
  std::unique_ptr<ServedForwarding> served;
  std::unique_ptr<ClientForwarding> forwarding;
};

TEST_F(ClientForwardingTest, LocalTcpForwardRelaysAPayloadBothWays) {
  EchoServer<tcp> echo(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  auto endpoints = forwarding->add_local(
      spec(ForwardKind::Local, "0:127.0.0.1:" + std::to_string(echo.endpoint().port())));
  ASSERT_TRUE(endpoints.ok()) << endpoints.error().message;
  ASSERT_FALSE(endpoints->empty());
  EXPECT_EQ(endpoints->front().rfind("127.0.0.1:", 0), 0u) << endpoints->front();
  const auto payload = random_bytes(3 * 1024 * 1024 + 5, 1);
  auto done = std::async(std::launch::async, [&, port = port_of(endpoints->front())] {
    return exchange_over_tcp(port, {}, 0, nullptr, payload);
  });
  const Bytes echoed = run_client(done);
  EXPECT_EQ(sha256(echoed), sha256(payload));
}

TEST_F(ClientForwardingTest, LocalForwardListenerIsCancelledAndAPortInUseIsAnError) {
  EchoServer<tcp> echo(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto forward =
      spec(ForwardKind::Local, "0:127.0.0.1:" + std::to_string(echo.endpoint().port()));
  auto endpoints = forwarding->add_local(forward);
  ASSERT_TRUE(endpoints.ok());
  const auto port = port_of(endpoints->front());
  // The same port again: in use.
  auto again = forwarding->add_local(
      spec(ForwardKind::Local, "127.0.0.1:" + std::to_string(port) + ":127.0.0.1:1"));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("cannot listen"), std::string::npos)
      << again.error().message;
  ASSERT_TRUE(forwarding->cancel_local(forward).ok());
  EXPECT_TRUE(forwarding->local_endpoints().empty());
  io.restart();
  io.poll();
  asio::io_context scratch;
  tcp::socket probe(scratch);
  std::error_code error;
  probe.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), error);
  EXPECT_TRUE(error) << "still listening after cancel";
  EXPECT_FALSE(forwarding->cancel_local(forward).ok());
}

// SOCKS5 with the greeting and the request in one write, to a name.
TEST_F(ClientForwardingTest, DynamicForwardServesSocks5ByName) {
  EchoServer<tcp> echo(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  auto endpoints = forwarding->add_local(spec(ForwardKind::Dynamic, "0"));
  ASSERT_TRUE(endpoints.ok()) << endpoints.error().message;
  const std::uint16_t target = echo.endpoint().port();
  Bytes request = {5, 1, 0, 5, 1, 0, 3, 9};
  for (char c : std::string("localhost")) request.push_back(static_cast<std::uint8_t>(c));
  request.push_back(static_cast<std::uint8_t>(target >> 8));
  request.push_back(static_cast<std::uint8_t>(target & 0xff));
  const auto payload = random_bytes(512 * 1024, 2);
  Bytes reply;
  auto done = std::async(std::launch::async, [&, port = port_of(endpoints->front())] {
    return exchange_over_tcp(port, request, 12, &reply, payload);
  });
  const Bytes echoed = run_client(done);
  EXPECT_EQ(reply, (Bytes{5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(sha256(echoed), sha256(payload));
}

TEST_F(ClientForwardingTest, DynamicForwardServesSocks4AndRefusesAClosedTarget) {
  EchoServer<tcp> echo(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  auto endpoints = forwarding->add_local(spec(ForwardKind::Dynamic, "127.0.0.1:0"));
  ASSERT_TRUE(endpoints.ok()) << endpoints.error().message;
  const auto socks_port = port_of(endpoints->front());
  const std::uint16_t target = echo.endpoint().port();
  const Bytes request = {4,
                         1,
                         static_cast<std::uint8_t>(target >> 8),
                         static_cast<std::uint8_t>(target & 0xff),
                         127,
                         0,
                         0,
                         1,
                         'u',
                         0};
  const auto payload = random_bytes(100 * 1024, 3);
  Bytes reply;
  auto done = std::async(std::launch::async, [&] {
    return exchange_over_tcp(socks_port, request, 8, &reply, payload);
  });
  EXPECT_EQ(sha256(run_client(done)), sha256(payload));
  ASSERT_EQ(reply.size(), 8u);
  EXPECT_EQ(reply[1], 0x5a);

  // A target nobody listens on: the server's connect fails, the SOCKS5
  // client hears "connection refused" (5) and the connection closes.
  std::uint16_t closed = 0;
  {
    asio::io_context scratch;
    tcp::acceptor acceptor(scratch, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    closed = acceptor.local_endpoint().port();
  }
  const Bytes refused_request = {5,
                                 1,
                                 0,
                                 5,
                                 1,
                                 0,
                                 1,
                                 127,
                                 0,
                                 0,
                                 1,
                                 static_cast<std::uint8_t>(closed >> 8),
                                 static_cast<std::uint8_t>(closed & 0xff)};
  Bytes refusal;
  auto refused = std::async(std::launch::async, [&] {
    return exchange_over_tcp(socks_port, refused_request, 12, &refusal, {});
  });
  EXPECT_TRUE(run_client(refused).empty());
  EXPECT_EQ(refusal, (Bytes{5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0}));
}

TEST_F(ClientForwardingTest, RemoteTcpForwardOfPortZeroConnectsBackToTheTarget) {
  EchoServer<tcp> echo(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto forward =
      spec(ForwardKind::Remote, "127.0.0.1:0:127.0.0.1:" + std::to_string(echo.endpoint().port()));
  std::optional<Result<std::uint16_t>> outcome;
  ASSERT_TRUE(
      forwarding
          ->add_remote(forward,
                       [&](Result<std::uint16_t> port) { outcome.emplace(std::move(port)); })
          .ok());
  ASSERT_TRUE(run_until([&] { return outcome.has_value(); }));
  ASSERT_TRUE(outcome->ok()) << outcome->error().message;
  const std::uint16_t server_port = **outcome;
  EXPECT_NE(server_port, 0);
  EXPECT_EQ(served->tcp_listen_endpoints().size(), 1u);

  const auto payload = random_bytes(2 * 1024 * 1024 + 1, 4);
  auto done = std::async(std::launch::async,
                         [&] { return exchange_over_tcp(server_port, {}, 0, nullptr, payload); });
  EXPECT_EQ(sha256(run_client(done)), sha256(payload));

  // Cancel: the server stops listening.
  auto cancel_spec = forward;
  std::optional<Status> cancelled;
  ASSERT_TRUE(
      forwarding
          ->cancel_remote(cancel_spec, [&](Status status) { cancelled.emplace(std::move(status)); })
          .ok());
  ASSERT_TRUE(run_until([&] { return cancelled.has_value(); }));
  EXPECT_TRUE(cancelled->ok());
  EXPECT_TRUE(served->tcp_listen_endpoints().empty());
}

TEST_F(ClientForwardingTest, RemoteForwardRefusedByTheServerIsReported) {
  policy.allow_tcp_forwarding = false;
  std::optional<Result<std::uint16_t>> outcome;
  ASSERT_TRUE(
      forwarding
          ->add_remote(spec(ForwardKind::Remote, "0:127.0.0.1:22"),
                       [&](Result<std::uint16_t> port) { outcome.emplace(std::move(port)); })
          .ok());
  ASSERT_TRUE(run_until([&] { return outcome.has_value(); }));
  ASSERT_FALSE(outcome->ok());
  EXPECT_NE(outcome->error().message.find("refused"), std::string::npos);
}

TEST_F(ClientForwardingTest, ForwardedChannelsWeDidNotAskForAreRefused) {
  auto decision = forwarding->open_channel(
      connection::ForwardedTcpipOpen::kType,
      connection::encode_to_bytes(connection::ForwardedTcpipOpen{"127.0.0.1", 22, "10.0.0.1", 1}));
  ASSERT_TRUE(std::holds_alternative<connection::OpenFailure>(decision));
  EXPECT_NE(std::get<connection::OpenFailure>(decision).description.find("no such forward"),
            std::string::npos);
  auto malformed = forwarding->open_channel(connection::ForwardedTcpipOpen::kType, Bytes{1, 2});
  EXPECT_TRUE(std::holds_alternative<connection::OpenFailure>(malformed));
}

#ifndef _WIN32
TEST_F(ClientForwardingTest, UnixSocketForwardsBothWays) {
  testing_support::TempDir dir("client-forwarding");
  using local = asio::local::stream_protocol;
  const auto echo_path = (dir.path() / "echo.sock").string();
  EchoServer<local> echo{local::endpoint(echo_path)};

  // -L local socket -> remote socket.
  const auto local_path = (dir.path() / "local.sock").string();
  auto endpoints = forwarding->add_local(spec(ForwardKind::Local, local_path + ":" + echo_path));
  ASSERT_TRUE(endpoints.ok()) << endpoints.error().message;
  const auto payload = random_bytes(700 * 1024, 5);
  auto done = std::async(std::launch::async, [&] {
    asio::io_context scratch;
    local::socket socket(scratch);
    socket.connect(local::endpoint(local_path));
    asio::write(socket, asio::buffer(payload));
    socket.shutdown(local::socket::shutdown_send);
    Bytes received;
    std::error_code error;
    std::vector<std::uint8_t> buffer(64 * 1024);
    for (;;) {
      const auto length = socket.read_some(asio::buffer(buffer), error);
      if (error) break;
      received.insert(received.end(), buffer.begin(), buffer.begin() + length);
    }
    return received;
  });
  EXPECT_EQ(sha256(run_client(done)), sha256(payload));
  forwarding->shutdown();
  EXPECT_FALSE(std::filesystem::exists(local_path));
}

TEST_F(ClientForwardingTest, RemoteUnixSocketForwardConnectsBackToATcpTarget) {
  testing_support::TempDir dir("client-forwarding");
  EchoServer<tcp> echo(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto remote_path = (dir.path() / "remote.sock").string();
  std::optional<Result<std::uint16_t>> outcome;
  ASSERT_TRUE(
      forwarding
          ->add_remote(spec(ForwardKind::Remote,
                            remote_path + ":127.0.0.1:" + std::to_string(echo.endpoint().port())),
                       [&](Result<std::uint16_t> port) { outcome.emplace(std::move(port)); })
          .ok());
  ASSERT_TRUE(run_until([&] { return outcome.has_value(); }));
  ASSERT_TRUE(outcome->ok()) << outcome->error().message;
  const auto payload = random_bytes(300 * 1024, 6);
  auto done = std::async(std::launch::async, [&] {
    using local = asio::local::stream_protocol;
    asio::io_context scratch;
    local::socket socket(scratch);
    socket.connect(local::endpoint(remote_path));
    asio::write(socket, asio::buffer(payload));
    socket.shutdown(local::socket::shutdown_send);
    Bytes received;
    std::error_code error;
    std::vector<std::uint8_t> buffer(64 * 1024);
    for (;;) {
      const auto length = socket.read_some(asio::buffer(buffer), error);
      if (error) break;
      received.insert(received.end(), buffer.begin(), buffer.begin() + length);
    }
    return received;
  });
  EXPECT_EQ(sha256(run_client(done)), sha256(payload));
}
#endif

}  // namespace
}  // namespace ssh::net
