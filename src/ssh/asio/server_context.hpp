// What the application side of one authenticated server connection knows:
// the connection to send on, how to flush output, who the client is, and
// the server's session policy. Session channels, served forwards and agent
// forwarding get a reference to it; the ServerDriver owns it and outlives
// every handler it created (handlers hold it through a shared_ptr).
//
// Single-threaded: everything runs on the io_context's thread. After
// sending on the connection from an asynchronous completion (not from
// inside a ChannelHandler/ConnectionHandler callback), call kick().
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ssh/config/authorized_keys.hpp"
#include "ssh/connection/connection.hpp"

namespace ssh::net {

// Server-wide choices about what authenticated clients may do.
struct ServerSessionPolicy {
  // Environment variables a client may set with "env" (patterns: '*' and
  // '?' wildcards, as sshd's AcceptEnv).
  std::vector<std::string> accept_env{"LANG", "LC_*"};
  // Sessions (session channels) open at once on one connection.
  std::size_t max_sessions = 10;
  bool allow_tcp_forwarding = true;
  bool allow_streamlocal_forwarding = true;
  bool allow_agent_forwarding = true;
  // "subsystem sftp": served in-process once the SFTP server exists.
  bool sftp_subsystem = true;
  // Where tcpip-forward listeners may bind (sshd's GatewayPorts): false =
  // loopback only, whatever the client asks; true = the address the client
  // names ("" and "*": every address).
  bool gateway_ports = false;
};

// A command served inside the server instead of by a process: the legacy
// scp protocol ("scp -t ..." / "scp -f ...") and the sftp subsystem. The
// session channel feeds it the client's bytes and sends what it produces
// as the channel's window allows; it never blocks on the network.
class InProcessCommand {
 public:
  virtual ~InProcessCommand() = default;
  // The client's bytes (the command's stdin).
  virtual void on_input(ByteView data) = 0;
  // The client sent EOF.
  virtual void on_input_eof() = 0;
  // Appends at most `max` bytes for the client's stdout to `out`, and any
  // diagnostics for its stderr to `err`.
  virtual void produce(std::size_t max, Bytes& out, Bytes& err) = 0;
  // True while produce() would add something now.
  virtual bool has_output() const = 0;
  // Set once the command finished and produce() has handed out everything.
  virtual std::optional<std::uint32_t> exit_status() const = 0;
};

struct ServerConnectionContext {
  asio::io_context& io;
  connection::Connection& connection;
  // Writes pending output and re-arms timers (the driver's kick()).
  std::function<void()> kick;
  // The user name the client authenticated as (sessions run as the user
  // the server runs as, whatever this says).
  std::string user;
  // "address:port" of the client, for log lines.
  std::string peer;
  config::ClientOrigin origin;
  // Restrictions from the authorized_keys line that admitted the client
  // (all permitted when it was admitted another way).
  config::AuthorizedKeyOptions restrictions;
  const ServerSessionPolicy& policy;

  // auth-agent-req@openssh.com: starts (once per connection; later calls
  // return the same path) a socket in a private directory whose
  // connections become auth-agent@openssh.com channels to the client.
  // Returns the socket path for SSH_AUTH_SOCK, or why it cannot.
  std::function<Result<std::string>()> start_agent_forwarding;
  // Commands served in-process (scp -t/-f); nullptr means "run it".
  // `working_directory` is where the session would start (the home
  // directory).
  std::function<std::unique_ptr<InProcessCommand>(std::string_view command_line,
                                                  const std::string& working_directory)>
      in_process_command;
  // Subsystems served in-process ("sftp"); nullptr means unknown.
  std::function<std::unique_ptr<InProcessCommand>(std::string_view name,
                                                  const std::string& working_directory)>
      subsystem;
};

}  // namespace ssh::net
