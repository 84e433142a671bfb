#include "cli/ssh_forwarding.hpp"

#include <iostream>
#include <memory>
#include <stdexcept>

#include "ssh/log.hpp"

namespace cli {
namespace {

using ssh::config::ForwardKind;

void add_specs(const std::vector<std::string>& texts, ForwardKind kind,
               std::vector<ssh::config::ForwardSpec>& into) {
  for (const auto& text : texts) {
    auto spec = ssh::config::parse_forward(kind, text);
    if (!spec) throw std::invalid_argument(spec.error().message);
    into.push_back(std::move(*spec));
  }
}

std::string listen_description(const ssh::config::ForwardSpec& spec) {
  if (spec.listen.is_socket()) return "path " + spec.listen.socket_path;
  return "port " + std::to_string(spec.listen.port);
}

}  // namespace

void add_forwarding_flags(CLI::App& command, ForwardingFlags& flags) {
  command
      .add_option("-L", flags.local,
                  "Forward a local port or socket to the remote side: "
                  "[bind_address:]port:host:hostport, [bind_address:]port:remote_socket, "
                  "local_socket:host:hostport or local_socket:remote_socket")
      ->allow_extra_args(false);
  command
      .add_option("-R", flags.remote,
                  "Forward a port or socket on the server to this side: "
                  "[bind_address:]port:host:hostport, [bind_address:]port:local_socket, "
                  "remote_socket:host:hostport or remote_socket:local_socket (port 0: the server "
                  "picks one and it is printed)")
      ->allow_extra_args(false);
  command
      .add_option("-D", flags.dynamic,
                  "A SOCKS4/4a/5 proxy on [bind_address:]port whose connections go out from "
                  "the server")
      ->allow_extra_args(false);
  command.add_option("-W", flags.stdio_target,
                     "Connect stdin and stdout to host:port through the server (for "
                     "ProxyCommand); no session is started");
  command.add_flag("-N", flags.no_session, "Run no command or shell: forward only");
  command.add_flag("-f", flags.fork_after_authentication,
                   "Go to the background once authenticated (and, with ExitOnForwardFailure, "
                   "once the forwards are set up)");
}

void apply_forwarding_flags(const ForwardingFlags& flags, ssh::config::ClientOptions& options) {
  std::vector<ssh::config::ForwardSpec> from_command_line;
  add_specs(flags.local, ForwardKind::Local, from_command_line);
  add_specs(flags.remote, ForwardKind::Remote, from_command_line);
  add_specs(flags.dynamic, ForwardKind::Dynamic, from_command_line);
  if (!options.clear_all_forwardings) {
    options.forwards.insert(options.forwards.begin(), from_command_line.begin(),
                            from_command_line.end());
  }
  if (flags.no_session) options.no_session = true;
  if (flags.fork_after_authentication) options.fork_after_authentication = true;
}

StdioTarget parse_stdio_target(const std::string& text) {
  // host:port has the same shape as the target half of -L.
  auto spec = ssh::config::parse_forward(ForwardKind::Local, "0:" + text);
  if (!spec || spec->connect.is_socket()) {
    throw std::invalid_argument("-W: bad target \"" + text + "\" (expected host:port)");
  }
  return {*spec->connect.host, spec->connect.port};
}

void start_forwards(ssh::net::ClientForwarding& forwarding,
                    const ssh::config::ClientOptions& options,
                    std::function<void(ssh::Status)> on_ready) {
  struct Progress {
    std::size_t remote_pending = 0;
    bool local_done = false;
    bool reported = false;
    std::function<void(ssh::Status)> on_ready;
    void report(ssh::Status status) {
      if (reported) return;
      reported = true;
      on_ready(std::move(status));
    }
    void maybe_ready() {
      if (local_done && remote_pending == 0) report({});
    }
  };
  auto progress = std::make_shared<Progress>();
  progress->on_ready = std::move(on_ready);
  const bool exit_on_failure = options.exit_on_forward_failure;
  const auto log = ssh::log::get("forward");

  for (const auto& spec : options.forwards) {
    if (spec.kind == ForwardKind::Remote) {
      ++progress->remote_pending;
      auto sent = forwarding.add_remote(
          spec, [progress, spec, exit_on_failure](ssh::Result<std::uint16_t> port) {
            --progress->remote_pending;
            if (!port) {
              const std::string line = std::string(exit_on_failure ? "Error" : "Warning") +
                                       ": remote port forwarding failed for listen " +
                                       listen_description(spec);
              std::cerr << line << "\n";
              if (exit_on_failure) {
                progress->report(ssh::Error{ssh::DisconnectReason::ByApplication, line});
                return;
              }
            } else if (!spec.listen.is_socket() && spec.listen.port == 0) {
              std::cerr << "Allocated port " << *port << " for remote forward to "
                        << spec.connect.to_string() << "\n";
            }
            progress->maybe_ready();
          });
      if (!sent) {
        --progress->remote_pending;
        std::cerr << "Warning: cannot ask for " << spec.to_string() << ": " << sent.error().message
                  << "\n";
        if (exit_on_failure) {
          progress->report(sent);
          return;
        }
      }
      continue;
    }
    auto listening = forwarding.add_local(spec);
    if (!listening) {
      log->error("{}", listening.error().message);
      const std::string line = spec.kind == ForwardKind::Dynamic
                                   ? "Could not request dynamic forwarding."
                                   : "Could not request local forwarding.";
      std::cerr << listening.error().message << "\n" << line << "\n";
      if (exit_on_failure) {
        progress->report(ssh::Error{ssh::DisconnectReason::ByApplication, line});
        return;
      }
    }
  }
  progress->local_done = true;
  progress->maybe_ready();
}

}  // namespace cli
