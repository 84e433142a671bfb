// The thin Asio layer under one server connection: it owns the accepted
// socket and the ServerSession, moves bytes between them, turns the
// session's deadlines into timers, and, once the client authenticated,
// builds the ServerConnectionContext its channel handlers share.
//
// Single-threaded: every call must be made on the io_context's thread.
#pragma once

#include <asio.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ssh/asio/server_context.hpp"
#include "ssh/server_session.hpp"

namespace ssh::net {

struct ServerOptions;
class ServerConnectionHandler;

class ServerDriver : public std::enable_shared_from_this<ServerDriver>,
                     private ServerSessionCallbacks {
 public:
  // Called once when the connection ended (nullopt = clean).
  using ClosedHandler = std::function<void(ServerDriver&, const std::optional<Error>&)>;

  // `options` must outlive the driver (the Server owns both).
  ServerDriver(asio::io_context& io, asio::ip::tcp::socket socket, const ServerOptions& options,
               Botan::RandomNumberGenerator& rng, ClosedHandler on_closed);
  ~ServerDriver() override;
  ServerDriver(const ServerDriver&) = delete;
  ServerDriver& operator=(const ServerDriver&) = delete;

  void start();
  // Writes pending output and re-arms the timer; call after sending from
  // outside a driver callback.
  void kick();
  // Disconnects (by application) and ends the connection.
  void shutdown(std::string_view why);

  bool authenticated() const { return session_.authenticated(); }
  bool finished() const { return finished_; }
  const std::string& peer() const { return peer_; }

 private:
  // ServerSessionCallbacks
  std::optional<auth::KeyAuthorization> authorize_key(std::string_view user,
                                                      const keys::PublicKey& key) override;
  bool check_password(std::string_view user, std::string_view password) override;
  std::optional<auth::UserauthInfoRequest> keyboard_interactive_prompts(
      std::string_view user) override;
  bool check_keyboard_interactive(std::string_view user,
                                  const std::vector<std::string>& answers) override;
  std::shared_ptr<connection::ConnectionHandler> on_authenticated(
      const auth::AuthenticatedUser& user) override;

  void read_loop();
  void flush();
  void arm_timer();
  void finish(std::optional<Error> error);

  asio::io_context& io_;
  asio::ip::tcp::socket socket_;
  const ServerOptions& options_;
  config::ClientOrigin origin_;
  std::string peer_;
  ServerSession session_;
  asio::steady_timer timer_;
  ClosedHandler on_closed_;
  std::shared_ptr<ServerConnectionContext> context_;
  std::shared_ptr<ServerConnectionHandler> handler_;
  Bytes write_buffer_;
  bool writing_ = false;
  bool reading_ = false;
  bool finished_ = false;
};

}  // namespace ssh::net
