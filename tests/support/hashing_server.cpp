#include "support/hashing_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "support/files.hpp"

namespace testing_support {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t wrote = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(wrote));
  }
  return true;
}

sockaddr_un unix_address(const std::filesystem::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string text = path.string();
  if (text.size() >= sizeof address.sun_path) {
    throw std::runtime_error("unix socket path too long: " + text);
  }
  std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
  return address;
}

std::string exchange(int fd, std::string_view data, int timeout_seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  std::string received;
  char buffer[65536];
  std::size_t sent = 0;
  bool shut = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::close(fd);
      throw std::runtime_error("no end of the answer within " + std::to_string(timeout_seconds) +
                               " s (sent " + std::to_string(sent) + " bytes, received \"" +
                               received + "\")");
    }
    if (sent == data.size() && !shut) {
      ::shutdown(fd, SHUT_WR);
      shut = true;
    }
    pollfd poll_fd{fd, static_cast<short>(POLLIN | (shut ? 0 : POLLOUT)), 0};
    if (::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) continue;
    if (poll_fd.revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
      if (got <= 0) break;
      received.append(buffer, static_cast<std::size_t>(got));
    }
    if (!shut && (poll_fd.revents & POLLOUT)) {
      const std::size_t chunk = std::min<std::size_t>(data.size() - sent, sizeof buffer);
      const ssize_t wrote = ::send(fd, data.data() + sent, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (wrote > 0) sent += static_cast<std::size_t>(wrote);
      if (wrote < 0 && errno != EAGAIN && errno != EINTR) break;
    }
  }
  ::close(fd);
  return received;
}

}  // namespace

HashingServer::HashingServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) fail("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    fail("hashing server on 127.0.0.1");
  }
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

HashingServer::HashingServer(const std::filesystem::path& path) : socket_path_(path) {
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) fail("socket");
  const auto address = unix_address(path);
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    fail("hashing server on " + path.string());
  }
  thread_ = std::thread([this] { serve(); });
}

HashingServer::~HashingServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);  // wakes the accept below
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  if (!socket_path_.empty()) {
    std::error_code ignored;
    std::filesystem::remove(socket_path_, ignored);
  }
}

std::string HashingServer::expected_reply(std::string_view data) {
  return sha256_hex(data) + " " + std::to_string(data.size()) + "\n";
}

void HashingServer::serve() {
  while (!stopping_) {
    pollfd poll_fd{listen_fd_, POLLIN, 0};
    if (::poll(&poll_fd, 1, 100) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Sha256 hash;
    char buffer[65536];
    bool complete = false;
    for (;;) {
      pollfd client{fd, POLLIN, 0};
      if (::poll(&client, 1, 60000) <= 0) break;
      const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) break;
      if (got == 0) {
        complete = true;
        break;
      }
      hash.update(std::string_view(buffer, static_cast<std::size_t>(got)));
    }
    // Counted before the close, which is what the client waits for.
    ++served_;
    if (complete) {
      const auto size = hash.size();
      write_all(fd, hash.hex() + " " + std::to_string(size) + "\n");
    }
    ::close(fd);
  }
}

std::string send_and_receive(std::uint16_t port, std::string_view data, int timeout_seconds) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd);
    errno = error;
    fail("connect to 127.0.0.1:" + std::to_string(port));
  }
  return exchange(fd, data, timeout_seconds);
}

std::string send_and_receive(const std::filesystem::path& path, std::string_view data,
                             int timeout_seconds) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  const auto address = unix_address(path);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd);
    errno = error;
    fail("connect to " + path.string());
  }
  return exchange(fd, data, timeout_seconds);
}

}  // namespace testing_support
