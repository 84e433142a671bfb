// Client-side agent forwarding: which auth-agent@openssh.com channel opens
// are refused, and (POSIX) that an accepted one relays bytes both ways
// between the channel and a local socket standing in for the agent.
#include "ssh/asio/agent_forwarding.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "ssh/connection/messages.hpp"
#include "ssh/wire/writer.hpp"
#include "support/temp_dir.hpp"

namespace ssh::net {
namespace {

using connection::ChannelOpen;
using connection::ChannelOpenConfirmation;
using connection::ChannelOpenFailure;
using connection::OpenFailureReason;

class CollectingSink : public connection::PayloadSink {
 public:
  Status send_payload(ByteView head, ByteView tail) override {
    Bytes payload(head.begin(), head.end());
    payload.insert(payload.end(), tail.begin(), tail.end());
    payloads.push_back(std::move(payload));
    return {};
  }
  std::deque<Bytes> payloads;
};

template <class Message>
Bytes encode(const Message& message) {
  Bytes payload;
  wire::Writer writer(payload);
  message.encode(writer);
  return payload;
}

Bytes agent_open(std::uint32_t sender) {
  return encode(
      ChannelOpen{std::string(connection::AuthAgentOpen::kType), sender, 65536, 32768, {}});
}

struct Fixture {
  asio::io_context io;
  CollectingSink sink;
  connection::Connection connection{Role::Client, {}, sink};
  int kicks = 0;

  void install(std::optional<std::string> agent_path) {
    connection.set_handler(std::make_shared<AgentForwardingHandler>(
        io, connection, [this] { ++kicks; }, std::move(agent_path)));
  }
};

TEST(AgentForwardingTest, AgentChannelIsProhibitedWhenForwardingWasNotRequested) {
  Fixture fixture;
  fixture.install(std::nullopt);
  ASSERT_TRUE(fixture.connection.handle_message(agent_open(7)).ok());
  ASSERT_EQ(fixture.sink.payloads.size(), 1u);
  auto failure = ChannelOpenFailure::decode(fixture.sink.payloads.front());
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->recipient_channel, 7u);
  EXPECT_EQ(failure->reason, OpenFailureReason::AdministrativelyProhibited);
  EXPECT_EQ(fixture.connection.channel_count(), 0u);
}

TEST(AgentForwardingTest, OtherChannelTypesKeepTheDefaultRefusal) {
  Fixture fixture;
  fixture.install(std::string("/nonexistent/agent.sock"));
  const Bytes open = encode(connection::make_channel_open(
      connection::ForwardedTcpipOpen{"127.0.0.1", 8080, "127.0.0.1", 5000}, 3, 65536, 32768));
  ASSERT_TRUE(fixture.connection.handle_message(open).ok());
  ASSERT_EQ(fixture.sink.payloads.size(), 1u);
  auto failure = ChannelOpenFailure::decode(fixture.sink.payloads.front());
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->reason, OpenFailureReason::AdministrativelyProhibited);
}

TEST(AgentForwardingTest, UnreachableAgentIsAConnectFailure) {
  Fixture fixture;
  testing_support::TempDir dir;
  fixture.install((dir.path() / "no-agent-here").string());
  ASSERT_TRUE(fixture.connection.handle_message(agent_open(1)).ok());
  ASSERT_EQ(fixture.sink.payloads.size(), 1u);
  auto failure = ChannelOpenFailure::decode(fixture.sink.payloads.front());
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->reason, OpenFailureReason::ConnectFailed);
}

#ifndef _WIN32
TEST(AgentForwardingTest, AcceptedChannelRelaysBothWays) {
  Fixture fixture;
  testing_support::TempDir dir;
  const auto socket_path = (dir.path() / "agent.sock").string();
  asio::local::stream_protocol::acceptor acceptor(
      fixture.io, asio::local::stream_protocol::endpoint(socket_path));
  fixture.install(socket_path);

  ASSERT_TRUE(fixture.connection.handle_message(agent_open(9)).ok());
  ASSERT_EQ(fixture.sink.payloads.size(), 1u);
  auto confirmation = ChannelOpenConfirmation::decode(fixture.sink.payloads.front());
  ASSERT_TRUE(confirmation.has_value()) << "the agent channel was not accepted";
  EXPECT_EQ(confirmation->recipient_channel, 9u);
  const std::uint32_t local_id = confirmation->sender_channel;
  fixture.sink.payloads.clear();

  asio::local::stream_protocol::socket agent_side(fixture.io);
  acceptor.accept(agent_side);

  // Server -> agent.
  const Bytes request = {0, 0, 0, 1, 11};
  ASSERT_TRUE(
      fixture.connection.handle_message(encode(connection::ChannelData{local_id, request})).ok());
  Bytes received(request.size());
  fixture.io.run_for(std::chrono::milliseconds(200));
  asio::read(agent_side, asio::buffer(received));
  EXPECT_EQ(received, request);

  // Agent -> server.
  const Bytes answer = {0, 0, 0, 5, 12, 0, 0, 0, 0};
  asio::write(agent_side, asio::buffer(answer));
  fixture.io.restart();
  for (int i = 0; i < 50 && fixture.sink.payloads.empty(); ++i) {
    fixture.io.run_for(std::chrono::milliseconds(20));
    fixture.io.restart();
  }
  ASSERT_FALSE(fixture.sink.payloads.empty());
  auto data = connection::ChannelData::decode(fixture.sink.payloads.front());
  ASSERT_TRUE(data.has_value());
  EXPECT_EQ(data->recipient_channel, 9u);
  EXPECT_EQ(to_bytes(data->data), answer);
  EXPECT_GT(fixture.kicks, 0);
  fixture.sink.payloads.clear();

  // The agent hangs up: EOF and CLOSE go to the server.
  agent_side.close();
  for (int i = 0; i < 50 && fixture.sink.payloads.size() < 2; ++i) {
    fixture.io.run_for(std::chrono::milliseconds(20));
    fixture.io.restart();
  }
  ASSERT_EQ(fixture.sink.payloads.size(), 2u);
  EXPECT_EQ(fixture.sink.payloads[0][0], connection::kMsgChannelEof);
  EXPECT_EQ(fixture.sink.payloads[1][0], connection::kMsgChannelClose);
}
#endif

}  // namespace
}  // namespace ssh::net
