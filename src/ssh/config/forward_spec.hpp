// Forwarding specifications as ssh takes them: -L, -R and -D on the command
// line, and LocalForward / RemoteForward / DynamicForward in ssh_config
// (where the listening and the connecting side are two words; joined with
// ':' they are the command-line form).
//
//   -L [bind_address:]port:host:hostport     -L [bind_address:]port:remote_socket
//   -L local_socket:host:hostport            -L local_socket:remote_socket
//   -R [bind_address:]port:host:hostport     -R [bind_address:]port:local_socket
//   -R remote_socket:host:hostport           -R remote_socket:local_socket
//   -D [bind_address:]port
//
// A field with a '/' is a Unix-domain socket path. IPv6 addresses go in
// brackets ("[::1]:8080:[fe80::1]:80"). An empty bind address or "*" means
// every address; no bind address means loopback only (ssh's GatewayPorts
// no). Ports are 1-65535, and 0 where a listener may pick its own (-L and -D
// locally, -R on the server, which then reports the port it chose).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ssh/common.hpp"

namespace ssh::config {

// One side of a forward: a TCP address or a Unix-domain socket path.
struct ForwardEndpoint {
  // For listeners: nullopt = not given (loopback), "" = every address.
  std::optional<std::string> host;
  std::uint16_t port = 0;
  std::string socket_path;  // set for a Unix-domain socket (host/port unused)

  bool is_socket() const { return !socket_path.empty(); }
  // "127.0.0.1:8080", "[::1]:22", "*:80", "8080" (host not given),
  // "/run/x.sock": for log lines and messages.
  std::string to_string() const;
};

enum class ForwardKind { Local, Remote, Dynamic };

struct ForwardSpec {
  ForwardKind kind = ForwardKind::Local;
  ForwardEndpoint listen;   // -L/-D: here; -R: on the server
  ForwardEndpoint connect;  // -L: from the server; -R: from here; -D: unused
  // "-L 8080:db:5432", for messages.
  std::string to_string() const;
};

// The command-line form. Errors say what is wrong with which part.
Result<ForwardSpec> parse_forward(ForwardKind kind, std::string_view text);

// The ssh_config form: "LocalForward LISTEN CONNECT" (two words; one for
// DynamicForward).
Result<ForwardSpec> parse_forward_config(ForwardKind kind, std::string_view listen,
                                         std::string_view connect);

}  // namespace ssh::config
