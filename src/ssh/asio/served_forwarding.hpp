// Forwarding served to one authenticated client (RFC 4254 section 7,
// OpenSSH's PROTOCOL 2.4 and PROTOCOL.agent):
// - direct-tcpip / direct-streamlocal@openssh.com channels (ssh -L, -W):
//   the open is answered once the connect finished, so a client sees
//   OPEN_FAILURE "connect to host:port failed: ..." instead of a channel
//   that opens and closes at once;
// - tcpip-forward / streamlocal-forward@openssh.com and their cancels
//   (ssh -R): listeners whose connections become forwarded-tcpip /
//   forwarded-streamlocal@openssh.com channels to the client;
// - agent forwarding (ssh -A): a socket in a private directory whose
//   connections become auth-agent@openssh.com channels to the client.
// Every forwarded connection is a ChannelStreamRelay.
//
// Bind addresses of tcpip-forward follow sshd's GatewayPorts: without
// policy.gateway_ports every listener is on loopback only (127.0.0.1 and
// ::1; a client asking for exactly one of them gets that one); with it
// the client's address is used ("" and "*" meaning every address).
// Unix-socket listeners never replace an existing file (sshd's
// StreamLocalBindUnlink no), are made mode 0600 (StreamLocalBindMask
// 0177) and are removed when cancelled or at shutdown.
//
// Unix sockets and agent forwarding are POSIX only here: on Windows those
// requests are refused with a message saying so.
//
// Single-threaded: everything runs on the io_context's thread, like the
// ServerDriver that owns this (one per connection) and calls shutdown()
// when the connection ends, before the Connection goes away.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/asio/server_context.hpp"
#include "ssh/common.hpp"
#include "ssh/connection/connection.hpp"

namespace ssh::net {

class ServedForwarding {
 public:
  explicit ServedForwarding(std::shared_ptr<ServerConnectionContext> context);
  ~ServedForwarding();
  ServedForwarding(const ServedForwarding&) = delete;
  ServedForwarding& operator=(const ServedForwarding&) = delete;

  // A "direct-tcpip" channel open from the client: refused at once when
  // policy or the key's restrictions forbid it, otherwise decided when the
  // connect to the target finished.
  connection::OpenDecision open_direct_tcpip(ByteView type_specific_data);
  // "direct-streamlocal@openssh.com": the same for a Unix-domain socket.
  connection::OpenDecision open_direct_streamlocal(ByteView type_specific_data);

  // tcpip-forward, cancel-tcpip-forward, streamlocal-forward@openssh.com
  // and cancel-streamlocal-forward@openssh.com: the reply data on success
  // (the bound port for tcpip-forward with port 0), nullopt when refused or
  // when `name` is none of these.
  std::optional<Bytes> global_request(std::string_view name, bool want_reply, ByteView data);
  static bool handles_global_request(std::string_view name);

  // auth-agent-req@openssh.com: starts the agent socket (once; later calls
  // return the same path) and returns its path for SSH_AUTH_SOCK.
  Result<std::string> start_agent_forwarding();

  // Closes every listener and removes the socket files and the agent's
  // directory. Forwarded connections already relaying end with their
  // channels (Connection::abort_all). Later requests are refused. Calling
  // it twice is harmless.
  void shutdown();

  // What is listening now, as "address:port" / socket paths, for logs and
  // tests.
  std::vector<std::string> tcp_listen_endpoints() const;
  std::vector<std::string> unix_listen_paths() const;

 private:
  struct TcpForward;
  struct UnixForward;

  std::optional<Bytes> tcpip_forward(bool want_reply, ByteView data);
  std::optional<Bytes> cancel_tcpip_forward(ByteView data);
  std::optional<Bytes> streamlocal_forward(ByteView data);
  std::optional<Bytes> cancel_streamlocal_forward(ByteView data);

  std::shared_ptr<ServerConnectionContext> context_;
  std::vector<std::unique_ptr<TcpForward>> tcp_forwards_;
  std::vector<std::unique_ptr<UnixForward>> unix_forwards_;
  // Agent forwarding, once started.
  std::unique_ptr<UnixForward> agent_listener_;
  std::string agent_directory_;
  bool shut_down_ = false;
};

}  // namespace ssh::net
