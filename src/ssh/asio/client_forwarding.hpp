// The client's forwarding (ssh -L, -R, -D) over one authenticated
// connection, added and cancelled while it runs: what `limactl ssh` uses
// for its options and what a program holding a master connection (the VM
// manager's host agent) calls to forward a guest's ports and sockets.
//
// - Local (-L): a listener here (TCP, or a Unix-domain socket) whose
//   connections become direct-tcpip / direct-streamlocal@openssh.com
//   channels to the target the server connects to.
// - Dynamic (-D): a SOCKS4/4a/5 listener here; each connection names its
//   target in the SOCKS handshake and becomes a direct-tcpip channel. The
//   SOCKS reply waits for the server's answer, so a client sees a refused
//   target as a SOCKS refusal.
// - Remote (-R): tcpip-forward / streamlocal-forward@openssh.com asks the
//   server to listen; its forwarded-tcpip / forwarded-streamlocal channels
//   are connected here to the forward's target. Channels for listeners we
//   did not ask for are refused.
// Every forwarded connection is a ChannelStreamRelay.
//
// Listeners without a bind address are on loopback only (127.0.0.1 and
// ::1, as ssh with GatewayPorts no); "" or "*" is every address. Local
// socket listeners never replace an existing file and are removed when
// cancelled or at shutdown.
//
// Single-threaded: everything runs on the io_context's thread. The owner
// routes the channel opens below from its ConnectionHandler and calls
// shutdown() before the Connection goes away.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/config/forward_spec.hpp"
#include "ssh/connection/connection.hpp"

namespace ssh::net {

class ClientForwarding {
 public:
  ClientForwarding(asio::io_context& io, connection::Connection& connection,
                   std::function<void()> kick);
  ~ClientForwarding();
  ClientForwarding(const ClientForwarding&) = delete;
  ClientForwarding& operator=(const ClientForwarding&) = delete;

  // -L or -D: listens now. Returns what it listens on ("127.0.0.1:43210",
  // the port filled in when 0 was asked for; a socket path), or why it
  // cannot (the address is in use, say): ExitOnForwardFailure's business.
  Result<std::vector<std::string>> add_local(const config::ForwardSpec& spec);
  // Stops a -L/-D listener; connections already relaying go on.
  Status cancel_local(const config::ForwardSpec& spec);

  // -R: asks the server. `done` gets the port the server listens on (for
  // port 0, the one it picked; 0 for a socket) or why it refused.
  using RemoteDone = std::function<void(Result<std::uint16_t>)>;
  Status add_remote(const config::ForwardSpec& spec, RemoteDone done);
  Status cancel_remote(const config::ForwardSpec& spec, std::function<void(Status)> done);

  // From the owner's ConnectionHandler::on_channel_open.
  static bool handles_channel_type(std::string_view type);
  connection::OpenDecision open_channel(std::string_view type, ByteView type_specific_data);

  // Closes every listener (removing socket files) and forgets the remote
  // forwards; relays end with their channels (Connection::abort_all).
  void shutdown();

  // What listens here now, for logs and tests.
  std::vector<std::string> local_endpoints() const;

 private:
  struct Listener;
  struct RemoteForward;

  connection::OpenDecision open_forwarded_tcpip(ByteView data);
  connection::OpenDecision open_forwarded_streamlocal(ByteView data);

  asio::io_context& io_;
  connection::Connection& connection_;
  std::function<void()> kick_;
  std::vector<std::shared_ptr<Listener>> listeners_;
  std::vector<std::shared_ptr<RemoteForward>> remote_forwards_;
  bool shut_down_ = false;
  // Guards asynchronous completions that outlive this.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ssh::net
