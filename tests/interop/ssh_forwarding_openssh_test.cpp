// `limactl ssh` forwarding against OpenSSH's sshd: -D through curl's
// --socks5-hostname to a local HTTP server, -L and -R with 100 concurrent
// connections and SHA-256-checked payloads, Unix-socket forwards both ways,
// -W as OpenSSH's ProxyCommand, ExitOnForwardFailure, and -f.
// With LIMACTL_TEST_CLIENT=openssh every test here passes with OpenSSH's
// own ssh (that is how the tests themselves are checked).

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.hpp"
#include "support/files.hpp"
#include "support/hashing_server.hpp"
#include "support/process.hpp"
#include "support/ssh_client.hpp"
#include "support/sshd_fixture.hpp"
#include "support/temp_dir.hpp"

namespace testing_support {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class SshForwardingTest : public ::testing::Test {
 protected:
  SshForwardingTest() : server_(OpenSshServerOptions{}) {}

  // `ssh -N OPTIONS`, kept running; its messages go to a file.
  std::unique_ptr<BackgroundProcess> start_forwarding(const Argv& options) {
    SshCall call;
    call.options = {"-N"};
    call.options.insert(call.options.end(), options.begin(), options.end());
    SpawnOptions spawn;
    spawn.output_file = log_path_;
    return std::make_unique<BackgroundProcess>(ssh_argv(server_, "", call), spawn);
  }

  std::string log() { return read_file_from(log_path_, 0); }

  // Waits until `process` listens on `port`.
  void expect_listening(BackgroundProcess& process, std::uint16_t port) {
    ASSERT_TRUE(eventually([&] { return process_listens_on(process.pid(), port); }, 30s))
        << process.status_text() << "\n"
        << log() << "\n"
        << server_.log();
  }

  // 100 connections at once through 127.0.0.1:port, each with its own
  // payload; every reply must be the target's hash of that payload.
  // `already_served`: connections the target had before.
  void hundred_concurrent_connections(std::uint16_t port, const HashingServer& target,
                                      int already_served = 0) {
    constexpr int kConnections = 100;
    std::vector<std::thread> clients;
    std::atomic<int> correct{0};
    std::mutex mutex;
    std::vector<std::string> failures;
    for (int n = 0; n < kConnections; ++n) {
      clients.emplace_back([&, n] {
        const auto payload = payload_of(64 * 1024 + static_cast<std::size_t>(n) * 977, n + 1);
        try {
          if (send_and_receive(port, payload, 120) == HashingServer::expected_reply(payload)) {
            ++correct;
            return;
          }
          std::lock_guard lock(mutex);
          failures.push_back("connection " + std::to_string(n) + ": wrong reply");
        } catch (const std::exception& error) {
          std::lock_guard lock(mutex);
          failures.push_back("connection " + std::to_string(n) + ": " + error.what());
        }
      });
    }
    for (auto& client : clients) client.join();
    EXPECT_EQ(correct.load(), kConnections)
        << failures.size() << " failed, first: " << (failures.empty() ? "" : failures.front())
        << "\n"
        << log();
    EXPECT_EQ(target.connections_served(), already_served + kConnections);
  }

  TempDir scratch_{"limactl-forwarding"};
  fs::path log_path_ = scratch_.path() / "ssh.log";
  OpenSshServer server_;
};

TEST_F(SshForwardingTest, DynamicForwardServesCurlWithSocks5Hostname) {
  const auto web_root = scratch_.path() / "www";
  fs::create_directories(web_root);
  const std::string page = payload_of(300 * 1024, 42);
  write_file(web_root / "page.bin", page);
  const auto web_port = free_loopback_port();
  BackgroundProcess web({"/usr/bin/python3", "-m", "http.server", std::to_string(web_port),
                         "--bind", "127.0.0.1", "--directory", web_root.string()});
  ASSERT_TRUE(wait_for_port(web_port, 30s, [&] { return web.running(); })) << web.status_text();

  const auto socks_port = free_loopback_port();
  auto forwarding = start_forwarding({"-D", "127.0.0.1:" + std::to_string(socks_port)});
  expect_listening(*forwarding, socks_port);
  const auto fetched = scratch_.path() / "fetched.bin";
  for (const char* proxy_flag : {"--socks5-hostname", "--socks4a", "--socks5"}) {
    fs::remove(fetched);
    const auto curl = run_process(
        {"/usr/bin/curl", "-sS", "--fail", proxy_flag, "127.0.0.1:" + std::to_string(socks_port),
         "-o", fetched.string(), "http://localhost:" + std::to_string(web_port) + "/page.bin"});
    ASSERT_TRUE(curl.exited_with(0)) << proxy_flag << ": " << curl.describe() << "\n" << log();
    EXPECT_EQ(sha256_file(fetched), sha256_hex(page)) << proxy_flag;
  }
  EXPECT_TRUE(forwarding->running()) << log();
}

TEST_F(SshForwardingTest, LocalForwardCarriesHundredConcurrentConnections) {
  HashingServer target;
  const auto port = free_loopback_port();
  auto forwarding = start_forwarding(
      {"-L", std::to_string(port) + ":127.0.0.1:" + std::to_string(target.port())});
  expect_listening(*forwarding, port);
  hundred_concurrent_connections(port, target);
  EXPECT_TRUE(forwarding->running()) << log();
}

TEST_F(SshForwardingTest, RemoteForwardCarriesHundredConcurrentConnections) {
  HashingServer target;
  const auto port = free_loopback_port();
  auto forwarding = start_forwarding(
      {"-R", std::to_string(port) + ":127.0.0.1:" + std::to_string(target.port())});
  // The listener is sshd's: wait for it to accept. That probe is itself
  // forwarded to the target, which counts it.
  ASSERT_TRUE(wait_for_port(port, 30s, [&] { return forwarding->running(); }))
      << forwarding->status_text() << "\n"
      << log() << "\n"
      << server_.log();
  ASSERT_TRUE(eventually([&] { return target.connections_served() == 1; }, 30s)) << log();
  hundred_concurrent_connections(port, target, 1);
}

TEST_F(SshForwardingTest, RemoteForwardOfPortZeroPrintsTheAllocatedPort) {
  HashingServer target;
  auto forwarding = start_forwarding({"-R", "0:127.0.0.1:" + std::to_string(target.port())});
  std::smatch match;
  const std::regex allocated("Allocated port ([0-9]+) for remote forward to 127\\.0\\.0\\.1:" +
                             std::to_string(target.port()));
  std::string text;
  ASSERT_TRUE(eventually(
      [&] {
        text = log();
        return std::regex_search(text, match, allocated);
      },
      30s))
      << text << "\n"
      << server_.log();
  const auto port = static_cast<std::uint16_t>(std::stoi(match[1]));
  const auto payload = payload_of(1024 * 1024, 9);
  EXPECT_EQ(send_and_receive(port, payload), HashingServer::expected_reply(payload));
}

TEST_F(SshForwardingTest, UnixSocketForwardsBothWays) {
  const auto remote_target = scratch_.path() / "remote-target.sock";
  const auto local_target = scratch_.path() / "local-target.sock";
  HashingServer remote_side(remote_target);
  HashingServer local_side(local_target);
  const auto local_listener = scratch_.path() / "local.sock";
  const auto remote_listener = scratch_.path() / "remote.sock";
  auto forwarding =
      start_forwarding({"-L", local_listener.string() + ":" + remote_target.string(), "-R",
                        remote_listener.string() + ":" + local_target.string()});
  ASSERT_TRUE(
      eventually([&] { return fs::exists(local_listener) && fs::exists(remote_listener); }, 30s))
      << log() << "\n"
      << server_.log();
  const auto one = payload_of(2 * 1024 * 1024, 3);
  EXPECT_EQ(send_and_receive(local_listener, one), HashingServer::expected_reply(one)) << log();
  const auto two = payload_of(1024 * 1024 + 1, 4);
  EXPECT_EQ(send_and_receive(remote_listener, two), HashingServer::expected_reply(two)) << log();
  forwarding->stop();
  // Our listener's socket file goes with the forward (OpenSSH's ssh leaves
  // it behind when it is killed: a point where we do better).
  if (!client_is_openssh()) {
    EXPECT_TRUE(eventually([&] { return !fs::exists(local_listener); }, 10s));
  }
}

TEST_F(SshForwardingTest, StdioForwardServesAsOpenSshProxyCommand) {
  // OpenSSH's ssh reaches the sshd through `ssh -W %h:%p` to the same sshd.
  const auto proxy = ssh_argv(server_, "", SshCall{{"-W", "%h:%p"}});
  std::string proxy_command;
  for (const auto& word : proxy) proxy_command += (proxy_command.empty() ? "" : " ") + word;
  SshCall outer;
  outer.client = Argv{kOpenSshClientPath};
  outer.options = {"-o", "ProxyCommand=" + proxy_command};
  const auto result = run_ssh(server_, "echo through the proxy", outer);
  ASSERT_TRUE(result.exited_with(0)) << result.describe() << "\n" << server_.log();
  EXPECT_EQ(result.out, "through the proxy\n");
}

TEST_F(SshForwardingTest, ExitOnForwardFailureEndsTheRunWithStatus255) {
  // A local port in use (on the one address asked for: with none given,
  // ::1 alone would do, for ssh as for us).
  HashingServer busy;
  SshCall call;
  call.options = {"-N", "-o", "ExitOnForwardFailure=yes", "-L",
                  "127.0.0.1:" + std::to_string(busy.port()) + ":127.0.0.1:1"};
  RunOptions run;
  run.timeout = 60s;
  const auto local = run_ssh(server_, "", call, run);
  EXPECT_TRUE(local.exited_with(255)) << local.describe();
  EXPECT_NE(local.err.find("Could not request local forwarding"), std::string::npos)
      << local.describe();

  // A remote forward the server refuses.
  OpenSshServerOptions no_remote;
  no_remote.extra_config = {"AllowTcpForwarding local"};
  OpenSshServer strict(no_remote);
  SshCall remote_call;
  remote_call.options = {"-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:1"};
  const auto remote = run_ssh(strict, "", remote_call, run);
  EXPECT_TRUE(remote.exited_with(255)) << remote.describe();
  EXPECT_NE(remote.err.find("remote port forwarding failed"), std::string::npos)
      << remote.describe();

  // Without ExitOnForwardFailure the same failure is a warning and the
  // command runs.
  SshCall lenient;
  lenient.options = {"-R", "0:127.0.0.1:1"};
  const auto warned = run_ssh(strict, "echo still ran", lenient, run);
  EXPECT_TRUE(warned.exited_with(0)) << warned.describe();
  EXPECT_EQ(warned.out, "still ran\n");
  EXPECT_NE(warned.err.find("Warning: remote port forwarding failed"), std::string::npos)
      << warned.describe();
}

// The process (not `exclude`) whose command line holds `marker`.
std::optional<pid_t> find_process_with_argument(const std::string& marker, pid_t exclude) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream file(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    for (auto& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    const pid_t pid = std::stoi(name);
    if (pid != exclude && pid != getpid() && cmdline.find(marker) != std::string::npos) return pid;
  }
  return std::nullopt;
}

TEST_F(SshForwardingTest, ForkAfterAuthenticationLeavesTheForwardRunningInTheBackground) {
  HashingServer target;
  const auto port = free_loopback_port();
  const std::string forward = std::to_string(port) + ":127.0.0.1:" + std::to_string(target.port());
  SshCall call;
  call.options = {"-f", "-N", "-o", "ExitOnForwardFailure=yes", "-L", forward};
  RunOptions run;
  run.timeout = 60s;
  const auto started = run_ssh(server_, "", call, run);
  ASSERT_TRUE(started.exited_with(0)) << started.describe() << "\n" << server_.log();
  const auto background = find_process_with_argument(forward, 0);
  ASSERT_TRUE(background.has_value()) << "no background process holds " << forward;
  const auto payload = payload_of(512 * 1024, 5);
  EXPECT_TRUE(eventually([&] { return process_listens_on(*background, port); }, 10s));
  EXPECT_EQ(send_and_receive(port, payload), HashingServer::expected_reply(payload));
  ::kill(*background, SIGTERM);
  // Gone, or a zombie waiting for whoever adopted it.
  EXPECT_TRUE(eventually(
      [&] {
        std::ifstream stat("/proc/" + std::to_string(*background) + "/stat");
        std::string pid_field, name, state;
        return !(stat >> pid_field >> name >> state) || state == "Z";
      },
      10s));
}

}  // namespace
}  // namespace testing_support
