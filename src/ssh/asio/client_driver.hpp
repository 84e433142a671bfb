// The thin Asio layer under a ClientSession: it connects a TCP socket, moves
// bytes between the socket and the session, and turns the session's
// deadlines into timers. All protocol decisions stay in the session.
//
// Single-threaded: every call must be made on the io_context's thread.
// After changing the session from outside a driver callback (sending channel
// data, say), call kick() so new output is written and timers re-armed.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ssh/client_session.hpp"

namespace ssh::net {

struct ConnectOptions {
  std::string host;
  std::uint16_t port = 22;
  // Bounds the TCP connect and the first key exchange (OpenSSH's
  // ConnectTimeout covers both too).
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(60)};
};

class ClientDriver {
 public:
  // Called once with the reason the connection ended (nullopt = clean).
  using ClosedHandler = std::function<void(const std::optional<Error>&)>;

  ClientDriver(asio::io_context& io, ClientSession& session);
  ~ClientDriver();
  ClientDriver(const ClientDriver&) = delete;
  ClientDriver& operator=(const ClientDriver&) = delete;

  void set_closed_handler(ClosedHandler handler) { on_closed_ = std::move(handler); }
  // Resolves, connects (trying each address in turn) and starts the session.
  void connect(const ConnectOptions& options);
  // Adopts a socket that is already connected (tests, ProxyCommand-like uses).
  void start(asio::ip::tcp::socket socket);

  void kick();
  bool finished() const { return finished_; }

 private:
  void try_endpoint(asio::ip::tcp::resolver::results_type::iterator it,
                    asio::ip::tcp::resolver::results_type results);
  void start_session();
  void read_loop();
  void flush();
  void arm_timer();
  void finish(std::optional<Error> error);

  asio::io_context& io_;
  ClientSession& session_;
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  asio::steady_timer handshake_timer_;
  ClosedHandler on_closed_;
  ConnectOptions options_;
  Bytes write_buffer_;
  bool writing_ = false;
  bool reading_ = false;
  bool finished_ = false;
  bool started_ = false;
  std::string last_connect_error_;
  // Guards callbacks that run after the driver is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ssh::net
