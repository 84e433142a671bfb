// What both sides' forwarding share (the server's ServedForwarding and the
// client's ClientForwarding): listeners and their accept loops, where a
// listener binds, socket paths, and connecting the stream of a channel the
// peer opened before answering the open.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/asio/channel_stream_relay.hpp"
#include "ssh/common.hpp"
#include "ssh/log.hpp"

namespace ssh::net {

// The "ssh.forward" logger.
std::shared_ptr<spdlog::logger> forward_logger();

// Names and paths come from the peer: keep control characters out of the
// log lines they are quoted in.
std::string printable(std::string_view text);

// "127.0.0.1:22", "[::1]:22".
std::string endpoint_text(const asio::ip::tcp::endpoint& endpoint);

// Accepts connections until closed and hands each one to on_accept. The
// pending accept holds it, so it outlives the forward that closed it for
// as long as that accept takes to come back cancelled.
template <class Protocol>
class AcceptLoop : public std::enable_shared_from_this<AcceptLoop<Protocol>> {
 public:
  using Acceptor = typename Protocol::acceptor;
  using Socket = typename Protocol::socket;

  AcceptLoop(Acceptor acceptor, std::function<void(Socket)> on_accept, std::string what)
      : acceptor_(std::move(acceptor)), on_accept_(std::move(on_accept)), what_(std::move(what)) {}

  void start() { accept_next(); }

  void close() {
    closed_ = true;
    on_accept_ = nullptr;  // lets go of the connection context at once
    std::error_code ignored;
    acceptor_.close(ignored);
  }

  const Acceptor& acceptor() const { return acceptor_; }

 private:
  void accept_next() {
    acceptor_.async_accept([self = this->shared_from_this()](std::error_code error, Socket socket) {
      // An accept that completed just before close() still arrives.
      if (self->closed_) return;
      if (error) {
        if (error == asio::error::connection_aborted) {
          self->accept_next();
          return;
        }
        forward_logger()->warn("{}: stopped accepting: {}", self->what_, error.message());
        return;
      }
      self->on_accept_(std::move(socket));
      self->accept_next();
    });
  }

  Acceptor acceptor_;
  std::function<void(Socket)> on_accept_;
  std::string what_;
  bool closed_ = false;
};

// Where a forward listens, by sshd's rules (GatewayPorts no / clientspecified):
// without gateway_ports every listener is on loopback only (127.0.0.1 and
// ::1; one of them if exactly that one is asked for); with it, "" and "*"
// are every address, "localhost" loopback, anything else must be an IP
// address (listen addresses are not resolved: that would block the thread).
Result<std::vector<asio::ip::address>> listen_addresses(std::string_view requested,
                                                        bool gateway_ports);

// Listeners on each address at `port`; with port 0 the first picks it and
// the others take the same. Addresses that fail are listed in `failures`;
// an error only when none could be bound.
struct TcpListeners {
  std::vector<asio::ip::tcp::acceptor> acceptors;
  std::uint16_t port = 0;
  std::vector<std::string> failures;
};
Result<TcpListeners> listen_tcp(asio::io_context& io,
                                const std::vector<asio::ip::address>& addresses,
                                std::uint16_t port);

// A deferred channel's stream (the peer opened it; we answer once the
// connect finished): resolves and connects when the Connection assigned
// the channel, then accepts the open or refuses it with "connect to
// TARGET failed: ...". Calls kick after either.
void connect_when_open_pending(const std::shared_ptr<TcpChannelRelay>& relay, asio::io_context& io,
                               std::string host, std::uint16_t port, std::function<void()> kick);

#if defined(ASIO_HAS_LOCAL_SOCKETS) && !defined(_WIN32)
// Paths a Unix-domain socket can have; a leading NUL would reach Linux's
// abstract namespace instead of the file system.
std::optional<std::string> unix_path_problem(std::string_view path);
// A listening socket at path, mode 0600; never replaces an existing file.
Result<asio::local::stream_protocol::acceptor> listen_unix(asio::io_context& io,
                                                           const std::string& path);
void connect_when_open_pending(const std::shared_ptr<LocalChannelRelay>& relay, std::string path,
                               std::function<void()> kick);
#endif

}  // namespace ssh::net
