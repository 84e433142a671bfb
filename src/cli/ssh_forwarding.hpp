// `limactl ssh`'s forwarding options (-L, -R, -D, -N, -f, -W) and the
// setting up of the forwards once the connection is authenticated, with
// ssh's ExitOnForwardFailure meaning. The forwarding itself is the
// library's ssh::net::ClientForwarding.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ssh/asio/client_forwarding.hpp"
#include "ssh/config/client_options.hpp"

namespace cli {

struct ForwardingFlags {
  std::vector<std::string> local;          // -L
  std::vector<std::string> remote;         // -R
  std::vector<std::string> dynamic;        // -D
  std::string stdio_target;                // -W host:port
  bool no_session = false;                 // -N
  bool fork_after_authentication = false;  // -f
};

void add_forwarding_flags(CLI::App& command, ForwardingFlags& flags);

// The command line's forwards go before the config files' (ssh reads the
// command line first; all of them apply). Throws std::invalid_argument
// naming the bad specification.
void apply_forwarding_flags(const ForwardingFlags& flags, ssh::config::ClientOptions& options);

// -W host:port (or [ipv6]:port).
struct StdioTarget {
  std::string host;
  std::uint16_t port = 0;
};
// Throws std::invalid_argument for a malformed target.
StdioTarget parse_stdio_target(const std::string& text);

// Starts every forward in options.forwards. Failures are warnings on
// stderr ("Warning: remote port forwarding failed for listen port 80", as
// ssh says), or, with ExitOnForwardFailure, the outcome. `on_ready` is
// called once: when every local forward listens and the server answered
// every remote one (or at the first failure that ends the run).
void start_forwards(ssh::net::ClientForwarding& forwarding,
                    const ssh::config::ClientOptions& options,
                    std::function<void(ssh::Status)> on_ready);

}  // namespace cli
