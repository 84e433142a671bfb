#include "ssh/asio/server_driver.hpp"

#include "ssh/asio/server.hpp"
#include "ssh/asio/server_connection_handler.hpp"
#include "ssh/log.hpp"

namespace ssh::net {
namespace {

constexpr std::size_t kReadSize = 256 * 1024;

std::shared_ptr<spdlog::logger> logger() {
  static const auto instance = log::get("server");
  return instance;
}

std::string describe(const asio::ip::tcp::socket& socket, config::ClientOrigin& origin) {
  std::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "unknown peer";
  auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  origin.address = address.to_string();
  return (address.is_v6() ? "[" + origin.address + "]" : origin.address) + ":" +
         std::to_string(endpoint.port());
}

}  // namespace

ServerDriver::ServerDriver(asio::io_context& io, asio::ip::tcp::socket socket,
                           const ServerOptions& options, Botan::RandomNumberGenerator& rng,
                           ClosedHandler on_closed)
    : io_(io),
      socket_(std::move(socket)),
      options_(options),
      peer_(describe(socket_, origin_)),
      session_(
          [&] {
            auto config = options.session;
            config.auth.peer = peer_;
            return config;
          }(),
          *this, rng),
      timer_(io),
      on_closed_(std::move(on_closed)) {}

ServerDriver::~ServerDriver() {
  if (handler_) handler_->shutdown();
  std::error_code ignored;
  socket_.close(ignored);
}

void ServerDriver::start() {
  std::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  logger()->debug("connection from {}", peer_);
  session_.start(transport::Clock::now());
  read_loop();
  kick();
}

std::optional<auth::KeyAuthorization> ServerDriver::authorize_key(std::string_view user,
                                                                  const keys::PublicKey& key) {
  if (!options_.authorize_key) return std::nullopt;
  return options_.authorize_key(origin_, user, key);
}

bool ServerDriver::check_password(std::string_view user, std::string_view password) {
  return options_.check_password && options_.check_password(origin_, user, password);
}

std::optional<auth::UserauthInfoRequest> ServerDriver::keyboard_interactive_prompts(
    std::string_view user) {
  if (!options_.keyboard_interactive_prompts) return std::nullopt;
  return options_.keyboard_interactive_prompts(user);
}

bool ServerDriver::check_keyboard_interactive(std::string_view user,
                                              const std::vector<std::string>& answers) {
  return options_.check_keyboard_interactive && options_.check_keyboard_interactive(user, answers);
}

std::shared_ptr<connection::ConnectionHandler> ServerDriver::on_authenticated(
    const auth::AuthenticatedUser& user) {
  logger()->info("{} authenticated as {} ({})", peer_, user.user, user.method);
  std::weak_ptr<ServerDriver> weak = weak_from_this();
  context_ = std::make_shared<ServerConnectionContext>(ServerConnectionContext{
      io_,
      session_.connection(),
      [weak] {
        if (auto self = weak.lock()) self->kick();
      },
      user.user,
      peer_,
      origin_,
      user.options,
      options_.policy,
      nullptr,
      options_.in_process_command,
      options_.subsystem,
  });
  std::error_code ec;
  if (const auto remote = socket_.remote_endpoint(ec); !ec) context_->peer_port = remote.port();
  if (auto local = socket_.local_endpoint(ec); !ec) {
    auto address = local.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    context_->local_address = address.to_string();
    context_->local_port = local.port();
  }
  handler_ = std::make_shared<ServerConnectionHandler>(context_);
  return handler_;
}

void ServerDriver::read_loop() {
  if (reading_ || finished_) return;
  reading_ = true;
  auto space = session_.prepare_receive(kReadSize);
  socket_.async_read_some(
      asio::buffer(space.data(), space.size()),
      [self = shared_from_this()](std::error_code ec, std::size_t count) {
        self->reading_ = false;
        if (self->finished_) return;
        if (ec) {
          if (ec == asio::error::eof) {
            auto status = self->session_.receive_eof();
            self->finish(status ? std::nullopt : std::optional<Error>(status.error()));
          } else {
            self->session_.connection().abort_all();
            self->finish(Error{DisconnectReason::ConnectionLost, "read failed: " + ec.message()});
          }
          return;
        }
        (void)self->session_.commit_received(count, transport::Clock::now());
        if (!self->session_.closed()) self->read_loop();
        self->kick();
      });
}

void ServerDriver::kick() {
  if (finished_) return;
  flush();
  arm_timer();
}

void ServerDriver::flush() {
  if (writing_ || finished_) return;
  if (!session_.has_output()) {
    if (session_.closed()) finish(session_.close_error());
    return;
  }
  session_.take_output(write_buffer_);
  writing_ = true;
  asio::async_write(
      socket_, asio::buffer(write_buffer_),
      [self = shared_from_this()](std::error_code ec, std::size_t) {
        self->writing_ = false;
        if (self->finished_) return;
        if (ec) {
          self->session_.connection().abort_all();
          self->finish(Error{DisconnectReason::ConnectionLost, "write failed: " + ec.message()});
          return;
        }
        self->flush();
      });
}

void ServerDriver::arm_timer() {
  if (finished_) return;
  const auto deadline = session_.next_timeout();
  if (!deadline) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(*deadline);
  timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec || self->finished_) return;
    (void)self->session_.handle_timeout(transport::Clock::now());
    self->kick();
  });
}

void ServerDriver::shutdown(std::string_view why) {
  if (finished_) return;
  session_.disconnect(why);
  kick();
}

void ServerDriver::finish(std::optional<Error> error) {
  if (finished_) return;
  finished_ = true;
  timer_.cancel();
  session_.connection().abort_all();
  if (handler_) handler_->shutdown();
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  if (error && error->reason != DisconnectReason::ByApplication) {
    logger()->info("connection from {} ended: {}", peer_, error->message);
  } else if (error) {
    logger()->info("closed connection from {}: {}", peer_, error->message);
  } else {
    logger()->debug("connection from {} closed", peer_);
  }
  if (on_closed_) on_closed_(*this, error);
}

}  // namespace ssh::net
