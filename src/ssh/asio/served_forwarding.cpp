#include "ssh/asio/served_forwarding.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <utility>

#include "ssh/asio/channel_stream_relay.hpp"
#include "ssh/connection/messages.hpp"
#include "ssh/log.hpp"

#ifndef _WIN32
#include <sys/un.h>
#include <unistd.h>
#endif

namespace ssh::net {
namespace {

using asio::ip::tcp;
using connection::DeferredOpen;
using connection::OpenFailure;
using connection::OpenFailureReason;

std::shared_ptr<spdlog::logger> logger() {
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

Error refusal(std::string message) {
  return Error{DisconnectReason::ByApplication, std::move(message)};
}

// Accepts connections until closed and hands each one to on_accept. The
// pending accept holds it, so it outlives the forward that closed it for
// as long as that accept takes to come back cancelled.
template <class Protocol>
class AcceptLoop : public std::enable_shared_from_this<AcceptLoop<Protocol>> {
 public:
  using Acceptor = typename Protocol::acceptor;
  using Socket = typename Protocol::socket;

  AcceptLoop(Acceptor acceptor, std::function<void(Socket)> on_accept, std::string what)
      : acceptor_(std::move(acceptor)), on_accept_(std::move(on_accept)), what_(std::move(what)) {}

  void start() { accept_next(); }

  void close() {
    closed_ = true;
    on_accept_ = nullptr;  // lets go of the connection context at once
    std::error_code ignored;
    acceptor_.close(ignored);
  }

  const Acceptor& acceptor() const { return acceptor_; }

 private:
  void accept_next() {
    acceptor_.async_accept([self = this->shared_from_this()](std::error_code error, Socket socket) {
      // An accept that completed just before close() still arrives.
      if (self->closed_) return;
      if (error) {
        if (error == asio::error::connection_aborted) {
          self->accept_next();
          return;
        }
        logger()->warn("{}: stopped accepting: {}", self->what_, error.message());
        return;
      }
      self->on_accept_(std::move(socket));
      self->accept_next();
    });
  }

  Acceptor acceptor_;
  std::function<void(Socket)> on_accept_;
  std::string what_;
  bool closed_ = false;
};

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

std::string endpoint_text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

#ifndef _WIN32
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

// A new directory only we may enter (mode 0700, made atomically by
// mkdtemp), under $TMPDIR or /tmp.
Result<std::string> make_private_temp_directory(std::string_view prefix) {
  std::string base = "/tmp";
  if (const char* tmpdir = std::getenv("TMPDIR"); tmpdir != nullptr && tmpdir[0] == '/') {
    base = tmpdir;
  }
  std::string pattern = fmt::format("{}/{}XXXXXX", base, prefix);
  if (mkdtemp(pattern.data()) == nullptr) {
    return refusal(fmt::format("cannot create a directory in {}: {}", base,
                               std::generic_category().message(errno)));
  }
  return pattern;
}
#endif

// Opens a channel of the given type for a connection accepted on one of
// our listeners and relays it.
template <class Stream, class TypedOpen>
void relay_accepted(const std::shared_ptr<ServerConnectionContext>& context, Stream socket,
                    const TypedOpen& open, std::string label) {
  auto relay = std::make_shared<ChannelStreamRelay<Stream>>(context->connection, context->kick,
                                                            std::move(socket), label);
  auto opened = relay->open_channel(open);
  if (opened) {
    logger()->info("{}: opening {} channel", label, TypedOpen::kType);
  } else {
    logger()->warn("{}: cannot open a {} channel: {}", label, TypedOpen::kType,
                   opened.error().message);
  }
  context->kick();
}

}  // namespace

struct ServedForwarding::TcpForward {
  // As the client asked (it cancels with these), and the port we got.
  std::string requested_address;
  std::uint16_t bound_port = 0;
  std::vector<std::shared_ptr<AcceptLoop<tcp>>> listeners;

  void close() {
    for (auto& listener : listeners) listener->close();
    listeners.clear();
  }
};

struct ServedForwarding::UnixForward {
  std::string path;
#ifndef _WIN32
  std::shared_ptr<AcceptLoop<local_stream>> listener;
#endif

  void close() {
#ifndef _WIN32
    if (listener) {
      listener->close();
      listener.reset();
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
#endif
  }
};

ServedForwarding::ServedForwarding(std::shared_ptr<ServerConnectionContext> context)
    : context_(std::move(context)) {}

ServedForwarding::~ServedForwarding() {
  shutdown();
}

bool ServedForwarding::handles_global_request(std::string_view name) {
  return name == connection::TcpipForwardRequest::kType ||
         name == connection::TcpipForwardRequest::kCancelType ||
         name == connection::StreamlocalForwardRequest::kType ||
         name == connection::StreamlocalForwardRequest::kCancelType;
}

// --- Channels the client opens -------------------------------------------------

connection::OpenDecision ServedForwarding::open_direct_tcpip(ByteView type_specific_data) {
  auto open = connection::DirectTcpipOpen::decode(type_specific_data);
  if (!open) {
    logger()->warn("refused direct-tcpip from {}: malformed open", context_->peer);
    return OpenFailure{OpenFailureReason::ConnectFailed, "malformed direct-tcpip open"};
  }
  const std::string target =
      fmt::format("{}:{}", printable(open->host_to_connect), open->port_to_connect);
  auto refuse = [&](std::string why) -> connection::OpenDecision {
    logger()->warn("refused direct-tcpip to {} for {}: {}", target, context_->peer, why);
    return OpenFailure{OpenFailureReason::AdministrativelyProhibited, std::move(why)};
  };
  if (shut_down_) return refuse("the connection is closing");
  if (!context_->policy.allow_tcp_forwarding) return refuse("TCP forwarding is disabled");
  if (!config::may_open_forward(context_->restrictions, open->host_to_connect,
                                open->port_to_connect)) {
    return refuse("not permitted by the key's options (no-port-forwarding / permitopen)");
  }
  // The resolver would see only the part before a NUL: not the name that
  // was checked.
  if (open->host_to_connect.find('\0') != std::string::npos) {
    return refuse("host name contains NUL");
  }

  auto label = fmt::format("direct-tcpip to {} for {} (originator {}:{})", target, context_->peer,
                           printable(open->originator_address), open->originator_port);
  auto relay = std::make_shared<TcpChannelRelay>(context_->connection, context_->kick,
                                                 tcp::socket(context_->io), label);
  std::weak_ptr<TcpChannelRelay> weak_relay = relay;
  relay->set_on_open_pending([weak_relay, context = context_, host = open->host_to_connect,
                              port = open->port_to_connect, target](std::uint32_t) {
    auto pending = weak_relay.lock();
    if (!pending) return;
    auto fail = [relay = pending, context, target](const std::error_code& error) {
      logger()->info("{}: connect failed: {}", relay->label(), error.message());
      (void)relay->refuse_deferred_open(
          OpenFailureReason::ConnectFailed,
          fmt::format("connect to {} failed: {}", target, error.message()));
      context->kick();
    };
    auto resolver = std::make_shared<tcp::resolver>(context->io);
    resolver->async_resolve(
        host, std::to_string(port),
        [resolver, relay = pending, context, fail](std::error_code error,
                                                   tcp::resolver::results_type found) {
          if (!relay->open_pending()) return;  // the connection ended meanwhile
          if (error) {
            fail(error);
            return;
          }
          asio::async_connect(
              relay->stream(), found,
              [relay, context, fail](std::error_code connect_error, const tcp::endpoint& endpoint) {
                if (!relay->open_pending()) return;
                if (connect_error) {
                  fail(connect_error);
                  return;
                }
                std::error_code ignored;
                relay->stream().set_option(tcp::no_delay(true), ignored);
                logger()->info("{}: connected to {}", relay->label(), endpoint_text(endpoint));
                (void)relay->accept_deferred_open();
                context->kick();
              });
        });
  });
  return DeferredOpen{std::move(relay)};
}

connection::OpenDecision ServedForwarding::open_direct_streamlocal(ByteView type_specific_data) {
  auto open = connection::DirectStreamlocalOpen::decode(type_specific_data);
  if (!open) {
    logger()->warn("refused direct-streamlocal from {}: malformed open", context_->peer);
    return OpenFailure{OpenFailureReason::ConnectFailed, "malformed direct-streamlocal open"};
  }
  const std::string target = printable(open->socket_path);
  auto refuse = [&](OpenFailureReason reason, std::string why) -> connection::OpenDecision {
    logger()->warn("refused direct-streamlocal to {} for {}: {}", target, context_->peer, why);
    return OpenFailure{reason, std::move(why)};
  };
  if (shut_down_) {
    return refuse(OpenFailureReason::AdministrativelyProhibited, "the connection is closing");
  }
  if (!context_->policy.allow_streamlocal_forwarding) {
    return refuse(OpenFailureReason::AdministrativelyProhibited,
                  "Unix-domain socket forwarding is disabled");
  }
  // sshd applies no permitopen to socket paths, only no-port-forwarding.
  if (!context_->restrictions.port_forwarding) {
    return refuse(OpenFailureReason::AdministrativelyProhibited,
                  "not permitted by the key's options (no-port-forwarding)");
  }
#ifdef _WIN32
  return refuse(OpenFailureReason::AdministrativelyProhibited,
                "Unix-domain socket forwarding is not supported on Windows");
#else
  if (auto problem = unix_path_problem(open->socket_path)) {
    return refuse(OpenFailureReason::ConnectFailed, *problem);
  }
  auto label = fmt::format("direct-streamlocal to {} for {}", target, context_->peer);
  auto relay = std::make_shared<LocalChannelRelay>(context_->connection, context_->kick,
                                                   local_stream::socket(context_->io), label);
  std::weak_ptr<LocalChannelRelay> weak_relay = relay;
  relay->set_on_open_pending([weak_relay, context = context_, path = open->socket_path,
                              target](std::uint32_t) {
    auto pending = weak_relay.lock();
    if (!pending) return;
    pending->stream().async_connect(
        local_stream::endpoint(path), [relay = pending, context, target](std::error_code error) {
          if (!relay->open_pending()) return;
          if (error) {
            logger()->info("{}: connect failed: {}", relay->label(), error.message());
            (void)relay->refuse_deferred_open(
                OpenFailureReason::ConnectFailed,
                fmt::format("connect to {} failed: {}", target, error.message()));
          } else {
            logger()->info("{}: connected", relay->label());
            (void)relay->accept_deferred_open();
          }
          context->kick();
        });
  });
  return DeferredOpen{std::move(relay)};
#endif
}

// --- Global requests -------------------------------------------------------------

std::optional<Bytes> ServedForwarding::global_request(std::string_view name, bool want_reply,
                                                      ByteView data) {
  using connection::StreamlocalForwardRequest;
  using connection::TcpipForwardRequest;
  if (name == TcpipForwardRequest::kType) return tcpip_forward(want_reply, data);
  if (name == TcpipForwardRequest::kCancelType) return cancel_tcpip_forward(data);
  if (name == StreamlocalForwardRequest::kType) return streamlocal_forward(data);
  if (name == StreamlocalForwardRequest::kCancelType) return cancel_streamlocal_forward(data);
  return std::nullopt;
}

std::optional<Bytes> ServedForwarding::tcpip_forward(bool want_reply, ByteView data) {
  auto request = connection::TcpipForwardRequest::decode(data);
  if (!request) {
    logger()->warn("refused tcpip-forward from {}: malformed request", context_->peer);
    return std::nullopt;
  }
  const std::string target =
      fmt::format("{}:{}", printable(request->address_to_bind), request->port_to_bind);
  auto refuse = [&](std::string_view why) -> std::optional<Bytes> {
    logger()->warn("refused tcpip-forward of {} for {}: {}", target, context_->peer, why);
    return std::nullopt;
  };
  if (shut_down_) return refuse("the connection is closing");
  if (!context_->policy.allow_tcp_forwarding) return refuse("TCP forwarding is disabled");
  if (!config::may_listen(context_->restrictions, request->address_to_bind,
                          request->port_to_bind)) {
    return refuse("not permitted by the key's options (no-port-forwarding / permitlisten)");
  }
  if (request->port_to_bind == 0 && !want_reply) {
    return refuse("port 0 without want-reply: the client could not learn the port");
  }
  auto addresses = listen_addresses(request->address_to_bind, context_->policy.gateway_ports);
  if (!addresses) return refuse(addresses.error().message);

  auto forward = std::make_unique<TcpForward>();
  forward->requested_address = request->address_to_bind;
  std::uint16_t port = request->port_to_bind;
  std::vector<std::string> failures;
  std::vector<tcp::acceptor> acceptors;
  for (const auto& address : *addresses) {
    const tcp::endpoint endpoint(address, port);
    tcp::acceptor acceptor(context_->io);
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
      failures.push_back(fmt::format("{}: {}", endpoint_text(endpoint), error.message()));
      continue;
    }
    // Port 0: the first listener picks it, the others (::1 after
    // 127.0.0.1) take the same one.
    if (port == 0) port = acceptor.local_endpoint(error).port();
    acceptors.push_back(std::move(acceptor));
  }
  if (acceptors.empty()) return refuse(fmt::format("cannot listen: {}", fmt::join(failures, "; ")));
  for (const auto& failure : failures) {
    logger()->info("tcpip-forward of {} for {}: not listening on {}", target, context_->peer,
                   failure);
  }
  forward->bound_port = port;

  for (auto& acceptor : acceptors) {
    std::error_code ignored;
    const std::string where = endpoint_text(acceptor.local_endpoint(ignored));
    auto on_accept = [context = context_, address = forward->requested_address,
                      port](tcp::socket socket) {
      std::error_code error;
      const auto originator = socket.remote_endpoint(error);
      if (error) return;  // gone already
      socket.set_option(tcp::no_delay(true), error);
      auto label = fmt::format("forwarded-tcpip {}:{} from {} for {}", printable(address), port,
                               endpoint_text(originator), context->peer);
      relay_accepted(context, std::move(socket),
                     connection::ForwardedTcpipOpen{address, port, originator.address().to_string(),
                                                    originator.port()},
                     std::move(label));
    };
    auto listener = std::make_shared<AcceptLoop<tcp>>(
        std::move(acceptor), std::move(on_accept),
        fmt::format("tcpip-forward on {} for {}", where, context_->peer));
    listener->start();
    logger()->info("tcpip-forward of {} for {}: listening on {}", target, context_->peer, where);
    forward->listeners.push_back(std::move(listener));
  }
  tcp_forwards_.push_back(std::move(forward));

  // RFC 4254 section 7.1: the port is in the reply only when it was 0.
  if (request->port_to_bind == 0) {
    return connection::encode_to_bytes(connection::TcpipForwardReply{port});
  }
  return Bytes{};
}

std::optional<Bytes> ServedForwarding::cancel_tcpip_forward(ByteView data) {
  auto request = connection::TcpipForwardRequest::decode(data);
  if (!request) {
    logger()->warn("refused cancel-tcpip-forward from {}: malformed request", context_->peer);
    return std::nullopt;
  }
  // Matched as sshd does: the address as the client gave it, and the port
  // that was bound (which the client learnt from the reply for port 0).
  for (auto it = tcp_forwards_.begin(); it != tcp_forwards_.end(); ++it) {
    if ((*it)->requested_address == request->address_to_bind &&
        (*it)->bound_port == request->port_to_bind) {
      (*it)->close();
      tcp_forwards_.erase(it);
      logger()->info("cancelled tcpip-forward of {}:{} for {}", printable(request->address_to_bind),
                     request->port_to_bind, context_->peer);
      return Bytes{};
    }
  }
  logger()->warn("refused cancel-tcpip-forward of {}:{} for {}: no such forward",
                 printable(request->address_to_bind), request->port_to_bind, context_->peer);
  return std::nullopt;
}

std::optional<Bytes> ServedForwarding::streamlocal_forward(ByteView data) {
  auto request = connection::StreamlocalForwardRequest::decode(data);
  if (!request) {
    logger()->warn("refused streamlocal-forward from {}: malformed request", context_->peer);
    return std::nullopt;
  }
  const std::string target = printable(request->socket_path);
  auto refuse = [&](std::string_view why) -> std::optional<Bytes> {
    logger()->warn("refused streamlocal-forward of {} for {}: {}", target, context_->peer, why);
    return std::nullopt;
  };
  if (shut_down_) return refuse("the connection is closing");
  if (!context_->policy.allow_streamlocal_forwarding) {
    return refuse("Unix-domain socket forwarding is disabled");
  }
  if (!context_->restrictions.port_forwarding) {
    return refuse("not permitted by the key's options (no-port-forwarding)");
  }
#ifdef _WIN32
  return refuse("Unix-domain socket forwarding is not supported on Windows");
#else
  auto acceptor = listen_unix(context_->io, request->socket_path);
  if (!acceptor) return refuse(acceptor.error().message);
  auto on_accept = [context = context_, path = request->socket_path,
                    target](local_stream::socket socket) {
    relay_accepted(context, std::move(socket), connection::ForwardedStreamlocalOpen{path, ""},
                   fmt::format("forwarded-streamlocal {} for {}", target, context->peer));
  };
  auto forward = std::make_unique<UnixForward>();
  forward->path = request->socket_path;
  forward->listener = std::make_shared<AcceptLoop<local_stream>>(
      std::move(*acceptor), std::move(on_accept),
      fmt::format("streamlocal-forward on {} for {}", target, context_->peer));
  forward->listener->start();
  logger()->info("streamlocal-forward for {}: listening on {}", context_->peer, target);
  unix_forwards_.push_back(std::move(forward));
  return Bytes{};
#endif
}

std::optional<Bytes> ServedForwarding::cancel_streamlocal_forward(ByteView data) {
  auto request = connection::StreamlocalForwardRequest::decode(data);
  if (!request) {
    logger()->warn("refused cancel-streamlocal-forward from {}: malformed request", context_->peer);
    return std::nullopt;
  }
  for (auto it = unix_forwards_.begin(); it != unix_forwards_.end(); ++it) {
    if ((*it)->path == request->socket_path) {
      (*it)->close();
      unix_forwards_.erase(it);
      logger()->info("cancelled streamlocal-forward of {} for {}", printable(request->socket_path),
                     context_->peer);
      return Bytes{};
    }
  }
  logger()->warn("refused cancel-streamlocal-forward of {} for {}: no such forward",
                 printable(request->socket_path), context_->peer);
  return std::nullopt;
}

// --- Agent forwarding ------------------------------------------------------------

Result<std::string> ServedForwarding::start_agent_forwarding() {
  if (agent_listener_) return agent_listener_->path;
  auto refuse = [&](std::string why) -> Result<std::string> {
    logger()->warn("refused agent forwarding for {}: {}", context_->peer, why);
    return refusal(std::move(why));
  };
  if (shut_down_) return refuse("the connection is closing");
  if (!context_->policy.allow_agent_forwarding) return refuse("agent forwarding is disabled");
  if (!context_->restrictions.agent_forwarding) {
    return refuse("not permitted by the key's options (no-agent-forwarding)");
  }
#ifdef _WIN32
  return refuse("agent forwarding is not supported on Windows");
#else
  auto directory = make_private_temp_directory("limactl-agent.");
  if (!directory) return refuse(directory.error().message);
  const std::string path = fmt::format("{}/agent.{}", *directory, static_cast<long>(getpid()));
  auto acceptor = listen_unix(context_->io, path);
  if (!acceptor) {
    std::error_code ignored;
    std::filesystem::remove(*directory, ignored);
    return refuse(acceptor.error().message);
  }
  auto on_accept = [context = context_](local_stream::socket socket) {
    relay_accepted(context, std::move(socket), connection::AuthAgentOpen{},
                   fmt::format("agent connection for {}", context->peer));
  };
  agent_directory_ = *directory;
  agent_listener_ = std::make_unique<UnixForward>();
  agent_listener_->path = path;
  agent_listener_->listener = std::make_shared<AcceptLoop<local_stream>>(
      std::move(*acceptor), std::move(on_accept),
      fmt::format("agent socket {} for {}", path, context_->peer));
  agent_listener_->listener->start();
  logger()->info("agent forwarding for {}: listening on {}", context_->peer, path);
  return path;
#endif
}

// --- Shutdown --------------------------------------------------------------------

void ServedForwarding::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  for (auto& forward : tcp_forwards_) forward->close();
  tcp_forwards_.clear();
  for (auto& forward : unix_forwards_) forward->close();
  unix_forwards_.clear();
  if (agent_listener_) {
    agent_listener_->close();
    agent_listener_.reset();
    std::error_code ignored;
    std::filesystem::remove(agent_directory_, ignored);
    agent_directory_.clear();
  }
}

std::vector<std::string> ServedForwarding::tcp_listen_endpoints() const {
  std::vector<std::string> endpoints;
  for (const auto& forward : tcp_forwards_) {
    for (const auto& listener : forward->listeners) {
      std::error_code error;
      auto endpoint = listener->acceptor().local_endpoint(error);
      if (!error) endpoints.push_back(endpoint_text(endpoint));
    }
  }
  return endpoints;
}

std::vector<std::string> ServedForwarding::unix_listen_paths() const {
  std::vector<std::string> paths;
  for (const auto& forward : unix_forwards_) paths.push_back(forward->path);
  if (agent_listener_) paths.push_back(agent_listener_->path);
  return paths;
}

}  // namespace ssh::net
