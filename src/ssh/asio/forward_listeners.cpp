#include "ssh/asio/forward_listeners.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <utility>

#include "ssh/log.hpp"

#ifndef _WIN32
#include <sys/un.h>
#endif

namespace ssh::net {
namespace {

using asio::ip::tcp;
using connection::OpenFailureReason;

Error refusal(std::string message) {
  return Error{DisconnectReason::ByApplication, std::move(message)};
}

}  // namespace

std::shared_ptr<spdlog::logger> forward_logger() {
  static const auto instance = log::get("forward");
  return instance;
}

// Names and paths come from the client: keep control characters out of
// the log lines they are quoted in.
std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(byte < 0x20 || byte == 0x7f ? '?' : c);
  }
  return out;
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

// Where a tcpip-forward listens, by sshd's rules (channel_fwd_bind_addr()
// with GatewayPorts no / clientspecified).
Result<std::vector<asio::ip::address>> listen_addresses(std::string_view requested,
                                                        bool gateway_ports) {
  const asio::ip::address v4_loopback = asio::ip::address_v4::loopback();
  const asio::ip::address v6_loopback = asio::ip::address_v6::loopback();
  if (!gateway_ports) {
    // A client asking for one specific loopback address gets that one.
    if (requested == "127.0.0.1") return std::vector{v4_loopback};
    if (requested == "::1") return std::vector{v6_loopback};
    return std::vector{v4_loopback, v6_loopback};
  }
  if (requested.empty() || requested == "*") {
    return std::vector<asio::ip::address>{asio::ip::address_v4::any(), asio::ip::address_v6::any()};
  }
  if (requested == "localhost") return std::vector{v4_loopback, v6_loopback};
  std::error_code error;
  auto address = asio::ip::make_address(std::string(requested), error);
  if (error) {
    // Resolving would block the connection's thread; clients give
    // addresses here in practice.
    return refusal(fmt::format("{} is not an IP address (listen addresses are not resolved)",
                               printable(requested)));
  }
  return std::vector{address};
}

Result<TcpListeners> listen_tcp(asio::io_context& io,
                                const std::vector<asio::ip::address>& addresses,
                                std::uint16_t port) {
  TcpListeners bound;
  bound.port = port;
  for (const auto& address : addresses) {
    const tcp::endpoint endpoint(address, bound.port);
    tcp::acceptor acceptor(io);
    std::error_code error;
    acceptor.open(endpoint.protocol(), error);
#ifndef _WIN32
    // Windows' SO_REUSEADDR would let us take a port another program holds.
    if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
#endif
    if (!error && address.is_v6()) acceptor.set_option(asio::ip::v6_only(true), error);
    if (!error) acceptor.bind(endpoint, error);
    if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
      bound.failures.push_back(fmt::format("{}: {}", endpoint_text(endpoint), error.message()));
      continue;
    }
    // Port 0: the first listener picks it, the others (::1 after
    // 127.0.0.1) take the same one.
    if (bound.port == 0) bound.port = acceptor.local_endpoint(error).port();
    bound.acceptors.push_back(std::move(acceptor));
  }
  if (bound.acceptors.empty()) {
    return refusal(fmt::format("cannot listen: {}", fmt::join(bound.failures, "; ")));
  }
  return bound;
}

void connect_when_open_pending(const std::shared_ptr<TcpChannelRelay>& relay, asio::io_context& io,
                               std::string host, std::uint16_t port, std::function<void()> kick) {
  std::weak_ptr<TcpChannelRelay> weak_relay = relay;
  relay->set_on_open_pending([weak_relay, &io, host = std::move(host), port,
                              kick = std::move(kick)](std::uint32_t) {
    auto pending = weak_relay.lock();
    if (!pending) return;
    const std::string target = fmt::format("{}:{}", printable(host), port);
    auto fail = [relay = pending, kick, target](const std::error_code& error) {
      forward_logger()->info("{}: connect failed: {}", relay->label(), error.message());
      (void)relay->refuse_deferred_open(
          OpenFailureReason::ConnectFailed,
          fmt::format("connect to {} failed: {}", target, error.message()));
      kick();
    };
    auto resolver = std::make_shared<tcp::resolver>(io);
    resolver->async_resolve(
        host, std::to_string(port),
        [resolver, relay = pending, kick, fail](std::error_code error,
                                                tcp::resolver::results_type found) {
          if (!relay->open_pending()) return;  // the connection ended meanwhile
          if (error) {
            fail(error);
            return;
          }
          asio::async_connect(
              relay->stream(), found,
              [relay, kick, fail](std::error_code connect_error, const tcp::endpoint& endpoint) {
                if (!relay->open_pending()) return;
                if (connect_error) {
                  fail(connect_error);
                  return;
                }
                std::error_code ignored;
                relay->stream().set_option(tcp::no_delay(true), ignored);
                forward_logger()->info("{}: connected to {}", relay->label(),
                                       endpoint_text(endpoint));
                (void)relay->accept_deferred_open();
                kick();
              });
        });
  });
}

#if defined(ASIO_HAS_LOCAL_SOCKETS) && !defined(_WIN32)
using local_stream = asio::local::stream_protocol;

// Paths a Unix-domain socket can have; a leading NUL would reach Linux's
// abstract namespace instead of the file system.
std::optional<std::string> unix_path_problem(std::string_view path) {
  if (path.empty()) return std::string("empty socket path");
  if (path.find('\0') != std::string_view::npos) return std::string("socket path contains NUL");
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return fmt::format("socket path is longer than {} bytes", sizeof(sockaddr_un{}.sun_path) - 1);
  }
  return std::nullopt;
}

// A listening socket at path, mode 0600; never replaces an existing file.
Result<local_stream::acceptor> listen_unix(asio::io_context& io, const std::string& path) {
  if (auto problem = unix_path_problem(path)) return refusal(*problem);
  std::error_code error;
  // libstdc++ reports a missing file as not_found with ENOENT set.
  const auto status = std::filesystem::symlink_status(path, error);
  if (status.type() != std::filesystem::file_type::not_found) {
    if (error) {
      return refusal(fmt::format("cannot check {}: {}", printable(path), error.message()));
    }
    return refusal(fmt::format("{} already exists", printable(path)));
  }
  error.clear();
  local_stream::acceptor acceptor(io);
  acceptor.open(local_stream(), error);
  if (!error) acceptor.bind(local_stream::endpoint(path), error);
  if (error) return refusal(fmt::format("cannot bind {}: {}", printable(path), error.message()));
  // Before listen() nobody can connect, so the socket is never reachable
  // with the umask's looser mode.
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
      std::filesystem::perm_options::replace, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    std::error_code ignored;
    acceptor.close(ignored);
    std::filesystem::remove(path, ignored);
    return refusal(fmt::format("cannot listen on {}: {}", printable(path), error.message()));
  }
  return acceptor;
}

void connect_when_open_pending(const std::shared_ptr<LocalChannelRelay>& relay, std::string path,
                               std::function<void()> kick) {
  std::weak_ptr<LocalChannelRelay> weak_relay = relay;
  relay->set_on_open_pending(
      [weak_relay, path = std::move(path), kick = std::move(kick)](std::uint32_t) {
        auto pending = weak_relay.lock();
        if (!pending) return;
        pending->stream().async_connect(
            local_stream::endpoint(path),
            [relay = pending, kick, target = printable(path)](std::error_code error) {
              if (!relay->open_pending()) return;
              if (error) {
                forward_logger()->info("{}: connect failed: {}", relay->label(), error.message());
                (void)relay->refuse_deferred_open(
                    OpenFailureReason::ConnectFailed,
                    fmt::format("connect to {} failed: {}", target, error.message()));
              } else {
                forward_logger()->info("{}: connected", relay->label());
                (void)relay->accept_deferred_open();
              }
              kick();
            });
      });
}
#endif

}  // namespace ssh::net
