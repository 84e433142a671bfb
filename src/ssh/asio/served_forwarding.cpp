#include "ssh/asio/served_forwarding.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <utility>

#include "ssh/asio/channel_stream_relay.hpp"
#include "ssh/asio/forward_listeners.hpp"
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
  return forward_logger();
}

Error refusal(std::string message) {
  return Error{DisconnectReason::ByApplication, std::move(message)};
}

#ifndef _WIN32
using local_stream = asio::local::stream_protocol;

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
  connect_when_open_pending(relay, context_->io, open->host_to_connect, open->port_to_connect,
                            context_->kick);
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
  connect_when_open_pending(relay, open->socket_path, context_->kick);
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
  auto bound = listen_tcp(context_->io, *addresses, request->port_to_bind);
  if (!bound) return refuse(bound.error().message);
  for (const auto& failure : bound->failures) {
    logger()->info("tcpip-forward of {} for {}: not listening on {}", target, context_->peer,
                   failure);
  }
  const std::uint16_t port = bound->port;
  forward->bound_port = port;

  for (auto& acceptor : bound->acceptors) {
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
