// The local endpoint of connection sharing (ssh/asio/control_endpoint.hpp):
// a Unix-domain socket on POSIX, a named pipe on Windows (this test runs
// under wine in scripts/test-windows), the same API on both.
#include "ssh/asio/control_endpoint.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include "support/temp_dir.hpp"

namespace ssh::net {
namespace {

using namespace std::chrono_literals;

#ifdef _WIN32
TEST(ControlEndpointName, AWindowsPathBecomesAReadablePipeName) {
  auto name = control_endpoint_name(R"(C:\Users\jan\.lima\default\ssh.sock)");
  ASSERT_TRUE(name) << name.error().message;
  EXPECT_EQ(*name, R"(\\.\pipe\limactl-control-C:/Users/jan/.lima/default/ssh.sock)");
}

TEST(ControlEndpointName, APipeNameIsKept) {
  auto name = control_endpoint_name(R"(\\.\pipe\my-master)");
  ASSERT_TRUE(name);
  EXPECT_EQ(*name, R"(\\.\pipe\my-master)");
}

TEST(ControlEndpointName, ALongPathIsNamedByItsHash) {
  const std::string path = R"(C:\)" + std::string(300, 'a') + R"(\ssh.sock)";
  auto name = control_endpoint_name(path);
  ASSERT_TRUE(name);
  const std::string prefix = R"(\\.\pipe\limactl-control-sha256-)";
  ASSERT_EQ(name->size(), prefix.size() + 32) << *name;
  EXPECT_EQ(name->substr(0, prefix.size()), prefix);
  EXPECT_EQ(*control_endpoint_name(path), *name);  // stable
  EXPECT_NE(*control_endpoint_name(path + "2"), *name);
}
#else
TEST(ControlEndpointName, IsThePathOnPosix) {
  auto name = control_endpoint_name("/run/user/1000/ssh.sock");
  ASSERT_TRUE(name);
  EXPECT_EQ(*name, "/run/user/1000/ssh.sock");
}
#endif

TEST(ControlEndpointName, AnEmptyPathIsAnError) {
  EXPECT_FALSE(control_endpoint_name(""));
}

// Runs io until done() or 10 s.
template <class Done>
bool run_until(asio::io_context& io, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(20ms);
  }
  return done();
}

TEST(ControlListener, ServesClientsThenRefusesOnceClosed) {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "control.sock").string();
  asio::io_context io;
  ControlListener listener(io);
  ASSERT_TRUE(listener.listen(path));

  // Two clients one after the other, each answered on its own stream.
  for (int round = 0; round < 2; ++round) {
    std::optional<ControlStream> accepted;
    listener.async_accept([&](std::error_code error, ControlStream stream) {
      ASSERT_FALSE(error) << error.message();
      accepted.emplace(std::move(stream));
    });
    auto client = std::async(std::launch::async, [&path]() -> std::string {
      asio::io_context client_io;
      auto stream = connect_control_endpoint(client_io, path);
      if (!stream) return "connect: " + stream.error().message;
      std::error_code error;
      asio::write(*stream, asio::buffer(std::string("ping")), error);
      if (error) return "write: " + error.message();
      std::array<char, 4> reply{};
      asio::read(*stream, asio::buffer(reply), error);
      if (error) return "read: " + error.message();
      return std::string(reply.data(), reply.size());
    });
    ASSERT_TRUE(run_until(io, [&] { return accepted.has_value(); })) << "round " << round;
    std::array<char, 4> request{};
    std::error_code error;
    asio::read(*accepted, asio::buffer(request), error);
    ASSERT_FALSE(error) << error.message();
    EXPECT_EQ(std::string(request.data(), request.size()), "ping");
    asio::write(*accepted, asio::buffer(std::string("pong")), error);
    ASSERT_FALSE(error) << error.message();
    ASSERT_EQ(client.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(client.get(), "pong");
  }

  // A second master on the same path is refused while the first listens.
  ControlListener second(io);
  auto refused = second.listen(path);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("already exists"), std::string::npos)
      << refused.error().message;

  // Closed: nobody can connect.
  listener.close();
  asio::io_context client_io;
  auto gone = connect_control_endpoint(client_io, path);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().message.rfind("Control socket connect(" + path + "): ", 0), 0u)
      << gone.error().message;

  // And the path can be listened on again.
  ControlListener again(io);
  EXPECT_TRUE(again.listen(path));
}

TEST(ControlListener, APendingAcceptEndsAbortedOnClose) {
  testing_support::TempDir dir;
  asio::io_context io;
  ControlListener listener(io);
  ASSERT_TRUE(listener.listen((dir.path() / "control.sock").string()));
  std::optional<std::error_code> aborted;
  listener.async_accept([&](std::error_code error, ControlStream) { aborted = error; });
  io.poll();
  listener.close();
  ASSERT_TRUE(run_until(io, [&] { return aborted.has_value(); }));
  EXPECT_EQ(*aborted, asio::error::operation_aborted);
}

TEST(ControlEndpoint, CurrentProcessIdIsNotZero) {
  EXPECT_NE(current_process_id(), 0u);
}

}  // namespace
}  // namespace ssh::net
