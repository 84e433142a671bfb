// The Asio side of an SSH server: listeners, one ServerDriver per accepted
// connection, and the caps that protect a server from clients it does not
// know (unauthenticated connections at once). All protocol decisions stay
// in ServerSession; what a client may do once in is decided by the
// handlers in ServerOptions.
//
// Single-threaded: every call must be made on the io_context's thread.
#pragma once

#include <botan/auto_rng.h>

#include <asio.hpp>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ssh/asio/server_context.hpp"
#include "ssh/server_session.hpp"

namespace ssh::net {

class ServerDriver;

struct ServerOptions {
  // The template every connection's session starts from (host keys,
  // algorithms, auth methods, grace time, idle timeout).
  ServerSessionConfig session;
  ServerSessionPolicy policy;
  // Connections that have not authenticated yet, at once: more are closed
  // on accept, and logged. sshd's MaxStartups 10:30:100 starts dropping at
  // random from 10 and refuses all from 100; we refuse from 100 and drop
  // none at random, so a burst of honest clients is never turned away.
  std::size_t max_unauthenticated = 100;
  // All connections at once.
  std::size_t max_connections = 1000;

  // Authentication decisions; `origin` is the client's address.
  std::function<std::optional<auth::KeyAuthorization>(
      const config::ClientOrigin& origin, std::string_view user, const keys::PublicKey& key)>
      authorize_key;
  std::function<bool(const config::ClientOrigin& origin, std::string_view user,
                     std::string_view password)>
      check_password;
  std::function<std::optional<auth::UserauthInfoRequest>(std::string_view user)>
      keyboard_interactive_prompts;
  std::function<bool(std::string_view user, const std::vector<std::string>& answers)>
      check_keyboard_interactive;

  // Served in-process instead of by a program (see ServerConnectionContext).
  std::function<std::unique_ptr<InProcessCommand>(std::string_view command_line,
                                                  const std::string& working_directory)>
      in_process_command;
  std::function<std::unique_ptr<InProcessCommand>(std::string_view name,
                                                  const std::string& working_directory)>
      subsystem;
};

class Server {
 public:
  Server(asio::io_context& io, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Starts accepting on address:port (port 0 picks a free one) and returns
  // the bound endpoint. May be called for several addresses.
  Result<asio::ip::tcp::endpoint> listen(const std::string& address, std::uint16_t port);
  // Stops accepting and disconnects every client (by application).
  void stop();

  std::size_t connection_count() const { return drivers_.size(); }
  std::size_t unauthenticated_count() const;
  const ServerOptions& options() const { return options_; }

 private:
  struct Listener;
  void accept_next(const std::shared_ptr<Listener>& listener);
  void on_accepted(asio::ip::tcp::socket socket);

  asio::io_context& io_;
  ServerOptions options_;
  Botan::AutoSeeded_RNG rng_;
  std::vector<std::shared_ptr<Listener>> listeners_;
  std::list<std::shared_ptr<ServerDriver>> drivers_;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ssh::net
