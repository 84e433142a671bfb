// A stream server for forwarding tests: for every connection it reads until
// the client's end of file, then answers "<sha256 hex> <byte count>\n" and
// closes. Listens on 127.0.0.1 (a free port) or on a unix socket; serves one
// connection after another on its own thread until destroyed.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>

namespace testing_support {

class HashingServer {
 public:
  // TCP on 127.0.0.1, port chosen by the kernel.
  HashingServer();
  // A unix socket at `path` (removed again in the destructor).
  explicit HashingServer(const std::filesystem::path& path);
  ~HashingServer();
  HashingServer(const HashingServer&) = delete;
  HashingServer& operator=(const HashingServer&) = delete;

  std::uint16_t port() const { return port_; }
  int connections_served() const { return served_; }

  // The answer this server gives for `data`.
  static std::string expected_reply(std::string_view data);

 private:
  void serve();

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::filesystem::path socket_path_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> served_{0};
  std::thread thread_;
};

// Connects to 127.0.0.1:port (or the unix socket `path`), sends `data`, shuts
// down its sending side and returns everything received until the peer
// closed. Throws std::runtime_error if it cannot connect or times out.
std::string send_and_receive(std::uint16_t port, std::string_view data, int timeout_seconds = 60);
std::string send_and_receive(const std::filesystem::path& path, std::string_view data,
                             int timeout_seconds = 60);

}  // namespace testing_support
