#include "ssh/asio/client_driver.hpp"

#include "ssh/log.hpp"

namespace ssh::net {
namespace {

// Large reads keep syscalls per byte low on bulk transfers.
constexpr std::size_t kReadSize = 256 * 1024;

std::shared_ptr<spdlog::logger> logger() {
  static const auto instance = log::get("net");
  return instance;
}

Error connection_lost(std::string message) {
  return {DisconnectReason::ConnectionLost, std::move(message)};
}

}  // namespace

ClientDriver::ClientDriver(asio::io_context& io, ClientSession& session)
    : io_(io), session_(session), resolver_(io), socket_(io), timer_(io), handshake_timer_(io) {}

ClientDriver::~ClientDriver() {
  *alive_ = false;
  std::error_code ignored;
  socket_.close(ignored);
}

void ClientDriver::connect(const ConnectOptions& options) {
  options_ = options;
  handshake_timer_.expires_after(options_.handshake_timeout);
  handshake_timer_.async_wait([this, alive = alive_](std::error_code ec) {
    if (!*alive || ec || finished_) return;
    if (!started_) {
      resolver_.cancel();
      finish(connection_lost("connect to host " + options_.host + " port " +
                             std::to_string(options_.port) + ": Connection timed out"));
    } else if (!session_.transport().first_kex_done()) {
      finish(connection_lost("connection to " + options_.host + " port " +
                             std::to_string(options_.port) +
                             " timed out during banner exchange and key exchange"));
    }
  });
  logger()->debug("connecting to {} port {}", options_.host, options_.port);
  resolver_.async_resolve(
      options_.host, std::to_string(options_.port),
      [this, alive = alive_](std::error_code ec, asio::ip::tcp::resolver::results_type results) {
        if (!*alive || finished_) return;
        if (ec) {
          finish(
              connection_lost("Could not resolve hostname " + options_.host + ": " + ec.message()));
          return;
        }
        try_endpoint(results.begin(), results);
      });
}

void ClientDriver::try_endpoint(asio::ip::tcp::resolver::results_type::iterator it,
                                asio::ip::tcp::resolver::results_type results) {
  if (it == results.end()) {
    finish(connection_lost("connect to host " + options_.host + " port " +
                           std::to_string(options_.port) + ": " + last_connect_error_));
    return;
  }
  const auto endpoint = it->endpoint();
  logger()->debug("trying {}:{}", endpoint.address().to_string(), endpoint.port());
  std::error_code ignored;
  socket_.close(ignored);
  socket_.async_connect(endpoint, [this, alive = alive_, it, results](std::error_code ec) mutable {
    if (!*alive || finished_) return;
    if (ec) {
      last_connect_error_ = ec.message();
      logger()->debug("connect failed: {}", last_connect_error_);
      try_endpoint(++it, results);
      return;
    }
    logger()->debug("connected to {}", it->endpoint().address().to_string());
    start_session();
  });
}

void ClientDriver::start(asio::ip::tcp::socket socket) {
  socket_ = std::move(socket);
  start_session();
}

void ClientDriver::start_session() {
  started_ = true;
  std::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  session_.start(transport::Clock::now());
  read_loop();
  kick();
}

void ClientDriver::read_loop() {
  if (reading_ || finished_) return;
  reading_ = true;
  auto space = session_.prepare_receive(kReadSize);
  socket_.async_read_some(
      asio::buffer(space.data(), space.size()),
      [this, alive = alive_](std::error_code ec, std::size_t count) {
        if (!*alive) return;
        reading_ = false;
        if (finished_) return;
        if (ec) {
          if (ec == asio::error::eof) {
            auto status = session_.receive_eof();
            finish(status ? std::nullopt : std::optional<Error>(status.error()));
          } else {
            session_.connection().abort_all();
            finish(connection_lost("connection to " + options_.host + " lost: " + ec.message()));
          }
          return;
        }
        (void)session_.commit_received(count, transport::Clock::now());
        if (!session_.closed()) read_loop();
        kick();
      });
}

void ClientDriver::kick() {
  if (finished_) return;
  flush();
  arm_timer();
}

void ClientDriver::flush() {
  if (writing_ || finished_) return;
  if (!session_.has_output()) {
    if (session_.closed()) finish(session_.close_error());
    return;
  }
  session_.take_output(write_buffer_);
  writing_ = true;
  asio::async_write(
      socket_, asio::buffer(write_buffer_),
      [this, alive = alive_](std::error_code ec, std::size_t) {
        if (!*alive) return;
        writing_ = false;
        if (finished_) return;
        if (ec) {
          session_.connection().abort_all();
          finish(session_.closed() && session_.close_error()
                     ? session_.close_error()
                     : std::optional<Error>(connection_lost("write to " + options_.host +
                                                            " failed: " + ec.message())));
          return;
        }
        flush();
      });
}

void ClientDriver::arm_timer() {
  if (finished_) return;
  const auto deadline = session_.next_timeout();
  if (!deadline) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(*deadline);
  timer_.async_wait([this, alive = alive_](std::error_code ec) {
    if (!*alive || ec || finished_) return;
    (void)session_.handle_timeout(transport::Clock::now());
    kick();
  });
}

void ClientDriver::finish(std::optional<Error> error) {
  if (finished_) return;
  finished_ = true;
  timer_.cancel();
  handshake_timer_.cancel();
  resolver_.cancel();
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  if (error) logger()->debug("connection ended: {}", error->message);
  if (on_closed_) on_closed_(error);
}

}  // namespace ssh::net
