#include "ssh/asio/server.hpp"

#include <algorithm>

#include "ssh/asio/server_driver.hpp"
#include "ssh/log.hpp"

namespace ssh::net {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  static const auto instance = log::get("server");
  return instance;
}

std::string endpoint_text(const asio::ip::tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  return (address.is_v6() ? "[" + address.to_string() + "]" : address.to_string()) + ":" +
         std::to_string(endpoint.port());
}

}  // namespace

struct Server::Listener {
  explicit Listener(asio::io_context& io) : acceptor(io) {}
  asio::ip::tcp::acceptor acceptor;
  asio::ip::tcp::endpoint endpoint;
};

Server::Server(asio::io_context& io, ServerOptions options)
    : io_(io), options_(std::move(options)) {}

Server::~Server() {
  *alive_ = false;
  stop();
}

Result<asio::ip::tcp::endpoint> Server::listen(const std::string& address, std::uint16_t port) {
  std::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) {
    return Error{DisconnectReason::ByApplication,
                 "listen address \"" + address + "\" is not an IP address"};
  }
  auto listener = std::make_shared<Listener>(io_);
  const asio::ip::tcp::endpoint endpoint(ip, port);
  auto fail = [&](std::string_view what) -> Error {
    return {DisconnectReason::ByApplication,
            "cannot " + std::string(what) + " " + endpoint_text(endpoint) + ": " + ec.message()};
  };
  listener->acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open a socket for");
  if (ip.is_v6()) (void)listener->acceptor.set_option(asio::ip::v6_only(true), ec);
  (void)listener->acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  listener->acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  listener->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  listener->endpoint = listener->acceptor.local_endpoint(ec);
  if (ec) return fail("read the address of");
  logger()->info("listening on {}", endpoint_text(listener->endpoint));
  listeners_.push_back(listener);
  accept_next(listener);
  return listener->endpoint;
}

void Server::accept_next(const std::shared_ptr<Listener>& listener) {
  listener->acceptor.async_accept([this, alive = alive_, listener](std::error_code ec,
                                                                   asio::ip::tcp::socket socket) {
    if (!*alive || stopped_) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // Out of fds and the like: log, and keep serving the clients we have.
      logger()->warn("accept on {} failed: {}", endpoint_text(listener->endpoint), ec.message());
    } else {
      on_accepted(std::move(socket));
    }
    accept_next(listener);
  });
}

std::size_t Server::unauthenticated_count() const {
  return static_cast<std::size_t>(
      std::count_if(drivers_.begin(), drivers_.end(),
                    [](const auto& driver) { return !driver->authenticated(); }));
}

void Server::on_accepted(asio::ip::tcp::socket socket) {
  std::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  const std::string peer = ec ? "unknown peer" : endpoint_text(remote);
  if (drivers_.size() >= options_.max_connections) {
    logger()->warn("refused connection from {}: {} connections open (the maximum)", peer,
                   drivers_.size());
    socket.close(ec);
    return;
  }
  if (const auto waiting = unauthenticated_count(); waiting >= options_.max_unauthenticated) {
    logger()->warn(
        "refused connection from {}: {} connections have not authenticated yet (the "
        "maximum)",
        peer, waiting);
    socket.close(ec);
    return;
  }
  auto driver = std::make_shared<ServerDriver>(
      io_, std::move(socket), options_, rng_,
      [this, alive = alive_](ServerDriver& ended, const std::optional<Error>&) {
        if (!*alive) return;
        // Erased later: the driver may be in the middle of a call.
        asio::post(io_, [this, alive, ended_ptr = &ended] {
          if (!*alive) return;
          drivers_.remove_if([&](const auto& entry) { return entry.get() == ended_ptr; });
        });
      });
  drivers_.push_back(driver);
  driver->start();
}

void Server::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& listener : listeners_) {
    std::error_code ignored;
    listener->acceptor.close(ignored);
  }
  listeners_.clear();
  auto drivers = drivers_;
  for (auto& driver : drivers) driver->shutdown("server shutting down");
}

}  // namespace ssh::net
