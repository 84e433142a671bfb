// `limactl ssh` against servers that misbehave. A fake server (plain POSIX
// sockets, one thread, one connection) plays a script; whatever it does, the
// client must end with exit status 255 and a short message on stderr, on its
// own and quickly: no ConnectTimeout is given, so a hang shows up as the
// test's own 30 s timeout.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/ssh_client.hpp"

namespace testing_support {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The server side of one connection, for scripts.
class Peer {
 public:
  Peer(int fd, const std::atomic<bool>& stop) : fd_(fd), stop_(stop) {}

  // Sends everything unless the client goes away or the test ends first.
  bool send(std::string_view data) {
    while (!data.empty()) {
      if (stop_) return false;
      pollfd entry{fd_, POLLOUT, 0};
      if (::poll(&entry, 1, 50) <= 0) continue;
      ssize_t sent = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
  }

  // Reads and discards what the client sends until it closes the connection,
  // the test ends, or `limit` passes. True if the client closed.
  bool drain(milliseconds limit = seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    char buffer[16384];
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      pollfd entry{fd_, POLLIN, 0};
      if (::poll(&entry, 1, 50) <= 0) continue;
      ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
      if (got == 0) return true;
      if (got < 0 && errno != EAGAIN && errno != EINTR) return true;
    }
    return false;
  }

  // Closes our side cleanly (FIN, not RST): stop writing, then wait for the
  // client to close.
  void close_after(std::string_view data) {
    send(data);
    ::shutdown(fd_, SHUT_WR);
    drain(seconds(30));
  }

  // Says `data`, then keeps the connection open until the client closes it.
  void say_and_hold(std::string_view data) {
    send(data);
    drain();
  }

  bool stopping() const { return stop_; }

 private:
  int fd_;
  const std::atomic<bool>& stop_;
};

class FakeServer {
 public:
  using Script = std::function<void(Peer&)>;

  explicit FakeServer(Script script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listen_fd_ < 0 ||
        ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listen_fd_, 4) != 0) {
      throw std::runtime_error("fake server cannot listen on 127.0.0.1");
    }
    socklen_t length = sizeof address;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~FakeServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }

  std::uint16_t port() const { return port_; }
  bool connected() const { return connected_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd entry{listen_fd_, POLLIN, 0};
      if (::poll(&entry, 1, 50) <= 0) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) continue;
      connected_ = true;
      Peer peer(fd, stop_);
      script_(peer);
      ::close(fd);
      return;  // one connection per test
    }
  }

  Script script_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  std::thread thread_;
};

constexpr std::string_view kBanner = "SSH-2.0-FakeServer_1.0\r\n";

std::string u32(std::uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
          static_cast<char>(value >> 8), static_cast<char>(value)};
}

std::string ssh_string(std::string_view text) {
  return u32(text.size()) + std::string(text);
}

// An unencrypted binary packet (RFC 4253 section 6) carrying `payload`.
std::string packet(const std::string& payload) {
  std::size_t padding = 8 - (4 + 1 + payload.size()) % 8;
  if (padding < 4) padding += 8;
  return u32(static_cast<std::uint32_t>(1 + payload.size() + padding)) +
         static_cast<char>(padding) + payload + std::string(padding, '\0');
}

// A well-formed KEXINIT offering only algorithms nobody implements.
std::string kexinit_with_nothing_in_common() {
  std::string payload(1, static_cast<char>(20));  // SSH_MSG_KEXINIT
  payload += std::string(16, 'c');                // cookie
  payload += ssh_string("no-such-kex@example.com");
  payload += ssh_string("no-such-hostkey@example.com");
  payload += ssh_string("no-such-cipher@example.com");
  payload += ssh_string("no-such-cipher@example.com");
  payload += ssh_string("no-such-mac@example.com");
  payload += ssh_string("no-such-mac@example.com");
  payload += ssh_string("none");
  payload += ssh_string("none");
  payload += ssh_string("");
  payload += ssh_string("");
  payload += '\0';  // first_kex_packet_follows
  payload += u32(0);
  return packet(payload);
}

ProcessResult connect_client(std::uint16_t port) {
  Argv argv = client_command();
  argv.insert(argv.end(), {"-F", "/dev/null", "-p", std::to_string(port), "-o", "BatchMode=yes",
                           "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=/dev/null",
                           "root@127.0.0.1", "echo ok"});
  RunOptions run;
  run.timeout = seconds(30);
  return run_process(argv, run);
}

void expect_clean_failure(const FakeServer& server, const ProcessResult& result) {
  EXPECT_TRUE(server.connected()) << "the client never connected";
  EXPECT_FALSE(result.timed_out) << "the client hung: " << result.describe();
  EXPECT_TRUE(result.exited_with(255)) << result.describe();
  EXPECT_LT(result.elapsed, seconds(20)) << result.describe();
  EXPECT_EQ(result.out, "");
  EXPECT_FALSE(trim(result.err).empty()) << "no message on stderr";
  EXPECT_LE(count_nonempty_lines(result.err), 3u) << "not a short message:\n" << result.err;
}

TEST(BadServer, TextGarbageInsteadOfABannerThenClose) {
  FakeServer server([](Peer& peer) {
    peer.close_after("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  });
  expect_clean_failure(server, connect_client(server.port()));
}

// Lines before the version line are allowed (RFC 4253 section 4.2), but not
// binary ones: OpenSSH stops at the first NUL ("banner line contains invalid
// characters") instead of waiting for more.
TEST(BadServer, BinaryGarbageInsteadOfABanner) {
  FakeServer server([](Peer& peer) {
    std::string garbage;
    for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 7919) & 0xff);
    peer.say_and_hold(garbage);
  });
  expect_clean_failure(server, connect_client(server.port()));
}

TEST(BadServer, EndlessLinesBeforeTheBanner) {
  FakeServer server([](Peer& peer) {
    std::string lines;
    for (int i = 0; i < 1000; ++i) lines += "this is not an SSH server, line after line\r\n";
    for (int round = 0; round < 2000 && !peer.stopping(); ++round) {  // up to ~86 MiB
      if (!peer.send(lines)) break;
    }
    peer.drain();
  });
  expect_clean_failure(server, connect_client(server.port()));
}

TEST(BadServer, UnsupportedProtocolVersion) {
  FakeServer server([](Peer& peer) { peer.say_and_hold("SSH-1.5-AncientServer\r\n"); });
  expect_clean_failure(server, connect_client(server.port()));
}

TEST(BadServer, BannerThenClose) {
  FakeServer server([](Peer& peer) { peer.close_after(kBanner); });
  expect_clean_failure(server, connect_client(server.port()));
}

TEST(BadServer, BannerThenTruncatedPacketThenClose) {
  FakeServer server([](Peer& peer) {
    // Announces a 1000-byte packet and sends 20 bytes of it.
    peer.close_after(std::string(kBanner) + u32(1000) + std::string(20, '\x05'));
  });
  expect_clean_failure(server, connect_client(server.port()));
}

TEST(BadServer, PacketLengthJustOver256KiB) {
  FakeServer server([](Peer& peer) {
    // The length alone is a protocol error: the client must not wait for
    // 256 KiB that never come.
    peer.say_and_hold(std::string(kBanner) + u32(256 * 1024 + 1) + std::string(12, '\0'));
  });
  expect_clean_failure(server, connect_client(server.port()));
}

TEST(BadServer, HugePacketLength) {
  FakeServer server([](Peer& peer) {
    peer.say_and_hold(std::string(kBanner) + u32(0xfffffff0u) + std::string(12, '\0'));
  });
  expect_clean_failure(server, connect_client(server.port()));
}

TEST(BadServer, KexinitWithNoAlgorithmInCommon) {
  FakeServer server([](Peer& peer) {
    peer.say_and_hold(std::string(kBanner) + kexinit_with_nothing_in_common());
  });
  expect_clean_failure(server, connect_client(server.port()));
}

}  // namespace
}  // namespace testing_support
