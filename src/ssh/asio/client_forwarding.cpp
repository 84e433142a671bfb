#include "ssh/asio/client_forwarding.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "ssh/asio/channel_stream_relay.hpp"
#include "ssh/asio/forward_listeners.hpp"
#include "ssh/connection/messages.hpp"
#include "ssh/socks/socks_handshake.hpp"

namespace ssh::net {
namespace {

using asio::ip::tcp;
using config::ForwardKind;
using config::ForwardSpec;
using connection::DeferredOpen;
using connection::OpenFailure;
using connection::OpenFailureReason;

Error forward_error(std::string message) {
  return Error{DisconnectReason::ByApplication, std::move(message)};
}

bool same_endpoint(const config::ForwardEndpoint& a, const config::ForwardEndpoint& b) {
  return a.host == b.host && a.port == b.port && a.socket_path == b.socket_path;
}

// What a listener without a bind address means (ssh's GatewayPorts no):
// "localhost", loopback only; "" and "*" every address.
std::string requested_bind_address(const config::ForwardEndpoint& listen) {
  return listen.host ? *listen.host : std::string("localhost");
}

// One SOCKS client on a -D listener: the handshake, then a direct-tcpip
// channel whose relay sends the SOCKS reply once the server answered.
class SocksConnection : public std::enable_shared_from_this<SocksConnection> {
 public:
  SocksConnection(connection::Connection& connection, std::function<void()> kick,
                  tcp::socket socket, std::string listener)
      : connection_(connection),
        kick_(std::move(kick)),
        socket_(std::move(socket)),
        listener_(std::move(listener)) {}

  void start() {
    std::error_code error;
    originator_ = socket_.remote_endpoint(error);
    if (error) return;
    buffer_.resize(kMaxReadSize);
    read_more();
  }

 private:
  static constexpr std::size_t kMaxReadSize = 1024;

  void read_more() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](std::error_code error, std::size_t length) {
                              self->on_read(error, length);
                            });
  }

  void on_read(std::error_code error, std::size_t length) {
    if (error) return;  // the client went away mid-handshake
    const auto state = handshake_.feed(ByteView(buffer_).first(length));
    Bytes output = handshake_.take_output();
    switch (state) {
      case socks::Handshake::State::NeedMore:
        if (output.empty()) {
          read_more();
        } else {
          write_then(std::move(output),
                     [](const std::shared_ptr<SocksConnection>& self) { self->read_more(); });
        }
        return;
      case socks::Handshake::State::Failed:
        forward_logger()->info("{}: SOCKS client {}: {}", listener_, endpoint_text(originator_),
                               handshake_.error());
        write_then(std::move(output), [](const std::shared_ptr<SocksConnection>& self) {
          std::error_code ignored;
          self->socket_.close(ignored);
        });
        return;
      case socks::Handshake::State::Ready:
        open_channel(std::move(output));
        return;
    }
  }

  template <class Then>
  void write_then(Bytes bytes, Then then) {
    auto data = std::make_shared<Bytes>(std::move(bytes));
    asio::async_write(socket_, asio::buffer(*data),
                      [self = shared_from_this(), data, then](std::error_code error, std::size_t) {
                        if (!error) then(self);
                      });
  }

  // Whatever the handshake still had to say (SOCKS5's method choice when
  // greeting and request came together) goes before the reply.
  void open_channel(Bytes unsent) {
    socks::Handshake granted = handshake_;
    granted.reply(true);
    socks::Handshake refused = handshake_;
    refused.reply(false, socks::Handshake::kConnectionRefused);
    Bytes on_open = unsent;
    const Bytes granted_reply = granted.take_output();
    on_open.insert(on_open.end(), granted_reply.begin(), granted_reply.end());
    Bytes on_refusal = std::move(unsent);
    const Bytes refused_reply = refused.take_output();
    on_refusal.insert(on_refusal.end(), refused_reply.begin(), refused_reply.end());
    const auto early = handshake_.early_data();

    const std::string target =
        fmt::format("{}:{}", printable(handshake_.host()), handshake_.port());
    auto label = fmt::format("{} (SOCKS{}) to {} from {}", listener_, handshake_.version(), target,
                             endpoint_text(originator_));
    auto relay = std::make_shared<TcpChannelRelay>(connection_, kick_, std::move(socket_), label);
    relay->set_preamble(std::move(on_open), std::move(on_refusal),
                        Bytes(early.begin(), early.end()));
    auto opened = relay->open_channel(
        connection::DirectTcpipOpen{handshake_.host(), handshake_.port(),
                                    originator_.address().to_string(), originator_.port()});
    if (opened) {
      forward_logger()->info("{}: opening a direct-tcpip channel", label);
    } else {
      forward_logger()->warn("{}: cannot open a channel: {}", label, opened.error().message);
    }
    kick_();
  }

  connection::Connection& connection_;
  std::function<void()> kick_;
  tcp::socket socket_;
  std::string listener_;
  tcp::endpoint originator_;
  socks::Handshake handshake_;
  Bytes buffer_;
};

}  // namespace

struct ClientForwarding::Listener {
  ForwardSpec spec;
  std::vector<std::shared_ptr<AcceptLoop<tcp>>> tcp_loops;
#if defined(ASIO_HAS_LOCAL_SOCKETS) && !defined(_WIN32)
  std::shared_ptr<AcceptLoop<asio::local::stream_protocol>> local;
#endif
  std::vector<std::string> endpoints;

  void close() {
    for (auto& loop : tcp_loops) loop->close();
    tcp_loops.clear();
#if defined(ASIO_HAS_LOCAL_SOCKETS) && !defined(_WIN32)
    if (local) {
      local->close();
      local.reset();
      std::error_code ignored;
      std::filesystem::remove(spec.listen.socket_path, ignored);
    }
#endif
  }
};

struct ClientForwarding::RemoteForward {
  ForwardSpec spec;
  // What the server listens on: the address as we asked (the server names
  // it in forwarded-tcpip opens and cancels match it), the port it bound.
  std::string bind_address;
  std::uint16_t bound_port = 0;
  bool active = false;  // the server said yes
};

ClientForwarding::ClientForwarding(asio::io_context& io, connection::Connection& connection,
                                   std::function<void()> kick)
    : io_(io), connection_(connection), kick_(std::move(kick)) {}

ClientForwarding::~ClientForwarding() {
  *alive_ = false;
  shutdown();
}

// --- -L and -D ---------------------------------------------------------------------

Result<std::vector<std::string>> ClientForwarding::add_local(const ForwardSpec& spec) {
  if (shut_down_) return forward_error("the connection is closing");
  if (spec.kind == ForwardKind::Remote) return forward_error(spec.to_string() + " is not local");
  auto listener = std::make_shared<Listener>();
  listener->spec = spec;
  const std::string what = spec.to_string();

  if (spec.listen.is_socket()) {
#if defined(ASIO_HAS_LOCAL_SOCKETS) && !defined(_WIN32)
    auto acceptor = listen_unix(io_, spec.listen.socket_path);
    if (!acceptor) return forward_error(what + ": " + acceptor.error().message);
    auto on_accept = [this, alive = std::weak_ptr<bool>(alive_), spec,
                      what](asio::local::stream_protocol::socket socket) {
      if (alive.expired()) return;
      auto label = fmt::format("{}: connection", what);
      auto relay =
          std::make_shared<LocalChannelRelay>(connection_, kick_, std::move(socket), label);
      Result<std::uint32_t> opened =
          spec.connect.is_socket()
              ? relay->open_channel(connection::DirectStreamlocalOpen{spec.connect.socket_path})
              : relay->open_channel(connection::DirectTcpipOpen{*spec.connect.host,
                                                                spec.connect.port, "127.0.0.1", 0});
      if (!opened)
        forward_logger()->warn("{}: cannot open a channel: {}", label, opened.error().message);
      kick_();
    };
    listener->local = std::make_shared<AcceptLoop<asio::local::stream_protocol>>(
        std::move(*acceptor), std::move(on_accept), what);
    listener->local->start();
    listener->endpoints.push_back(spec.listen.socket_path);
#else
    return forward_error(what + ": Unix-domain socket listeners are not supported on Windows yet");
#endif
  } else {
    auto addresses = listen_addresses(requested_bind_address(spec.listen), true);
    if (!addresses) return forward_error(what + ": " + addresses.error().message);
    auto bound = listen_tcp(io_, *addresses, spec.listen.port);
    if (!bound) return forward_error(what + ": " + bound.error().message);
    for (const auto& failure : bound->failures) {
      forward_logger()->info("{}: not listening on {}", what, failure);
    }
    for (auto& acceptor : bound->acceptors) {
      std::error_code ignored;
      listener->endpoints.push_back(endpoint_text(acceptor.local_endpoint(ignored)));
      auto on_accept = [this, alive = std::weak_ptr<bool>(alive_), spec, what](tcp::socket socket) {
        if (alive.expired()) return;
        std::error_code error;
        const auto originator = socket.remote_endpoint(error);
        if (error) return;  // gone already
        socket.set_option(tcp::no_delay(true), error);
        if (spec.kind == ForwardKind::Dynamic) {
          std::make_shared<SocksConnection>(connection_, kick_, std::move(socket), what)->start();
          return;
        }
        auto label = fmt::format("{}: connection from {}", what, endpoint_text(originator));
        auto relay =
            std::make_shared<TcpChannelRelay>(connection_, kick_, std::move(socket), label);
        Result<std::uint32_t> opened =
            spec.connect.is_socket()
                ? relay->open_channel(connection::DirectStreamlocalOpen{spec.connect.socket_path})
                : relay->open_channel(connection::DirectTcpipOpen{
                      *spec.connect.host, spec.connect.port, originator.address().to_string(),
                      originator.port()});
        if (opened) {
          forward_logger()->debug("{}: opening a channel", label);
        } else {
          forward_logger()->warn("{}: cannot open a channel: {}", label, opened.error().message);
        }
        kick_();
      };
      auto loop =
          std::make_shared<AcceptLoop<tcp>>(std::move(acceptor), std::move(on_accept), what);
      loop->start();
      listener->tcp_loops.push_back(std::move(loop));
    }
  }
  forward_logger()->info("{}: listening on {}", what, fmt::join(listener->endpoints, ", "));
  listeners_.push_back(listener);
  return listener->endpoints;
}

Status ClientForwarding::cancel_local(const ForwardSpec& spec) {
  for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
    if ((*it)->spec.kind == spec.kind && same_endpoint((*it)->spec.listen, spec.listen)) {
      (*it)->close();
      forward_logger()->info("{}: cancelled", (*it)->spec.to_string());
      listeners_.erase(it);
      return {};
    }
  }
  return forward_error("no such forward: " + spec.to_string());
}

// --- -R ------------------------------------------------------------------------------

Status ClientForwarding::add_remote(const ForwardSpec& spec, RemoteDone done) {
  if (shut_down_) return forward_error("the connection is closing");
  if (spec.kind != ForwardKind::Remote) return forward_error(spec.to_string() + " is not remote");
  auto forward = std::make_shared<RemoteForward>();
  forward->spec = spec;
  const std::string what = spec.to_string();
  std::weak_ptr<bool> alive = alive_;
  auto on_reply = [this, alive, forward, what, done = std::move(done)](bool success,
                                                                       ByteView data) {
    if (alive.expired()) return;
    if (!success) {
      forward_logger()->warn("{}: the server refused the forward", what);
      remote_forwards_.erase(std::remove(remote_forwards_.begin(), remote_forwards_.end(), forward),
                             remote_forwards_.end());
      if (done) done(forward_error(what + ": the server refused the forward"));
      return;
    }
    if (!forward->spec.listen.is_socket() && forward->spec.listen.port == 0) {
      auto reply = connection::TcpipForwardReply::decode(data);
      if (!reply || reply->bound_port == 0) {
        if (done) done(forward_error(what + ": the server's reply has no port"));
        return;
      }
      forward->bound_port = reply->bound_port;
      // As ssh: the chosen port is news the user needs.
      forward_logger()->info("{}: allocated port {} on the server", what, reply->bound_port);
    }
    forward->active = true;
    forward_logger()->info("{}: the server listens", what);
    if (done) done(forward->bound_port);
  };
  Status sent;
  if (spec.listen.is_socket()) {
    sent = connection_.send_global_request(
        connection::StreamlocalForwardRequest::kType, true,
        connection::encode_to_bytes(connection::StreamlocalForwardRequest{spec.listen.socket_path}),
        std::move(on_reply));
  } else {
    forward->bind_address = requested_bind_address(spec.listen);
    forward->bound_port = spec.listen.port;
    sent =
        connection_.send_global_request(connection::TcpipForwardRequest::kType, true,
                                        connection::encode_to_bytes(connection::TcpipForwardRequest{
                                            forward->bind_address, spec.listen.port}),
                                        std::move(on_reply));
  }
  if (!sent) return sent;
  remote_forwards_.push_back(forward);
  forward_logger()->debug("{}: asked the server to listen", what);
  return {};
}

Status ClientForwarding::cancel_remote(const ForwardSpec& spec, std::function<void(Status)> done) {
  // A forward of port 0 is also found by the port the server picked (as
  // ssh -O cancel finds it).
  auto it = std::find_if(remote_forwards_.begin(), remote_forwards_.end(), [&](const auto& f) {
    if (!f->active) return false;
    if (same_endpoint(f->spec.listen, spec.listen)) return true;
    return !spec.listen.is_socket() && f->spec.listen.port == 0 &&
           f->bound_port == spec.listen.port && f->spec.listen.host == spec.listen.host;
  });
  if (it == remote_forwards_.end()) return forward_error("no such forward: " + spec.to_string());
  auto forward = *it;
  remote_forwards_.erase(it);
  const std::string what = forward->spec.to_string();
  auto on_reply = [what, done = std::move(done)](bool success, ByteView) {
    forward_logger()->info("{}: {}", what,
                           success ? "cancelled" : "the server refused to cancel it");
    if (done) done(success ? Status{} : Status(forward_error(what + ": cancel refused")));
  };
  if (forward->spec.listen.is_socket()) {
    return connection_.send_global_request(
        connection::StreamlocalForwardRequest::kCancelType, true,
        connection::encode_to_bytes(
            connection::StreamlocalForwardRequest{forward->spec.listen.socket_path}),
        std::move(on_reply));
  }
  return connection_.send_global_request(
      connection::TcpipForwardRequest::kCancelType, true,
      connection::encode_to_bytes(
          connection::TcpipForwardRequest{forward->bind_address, forward->bound_port}),
      std::move(on_reply));
}

bool ClientForwarding::handles_channel_type(std::string_view type) {
  return type == connection::ForwardedTcpipOpen::kType ||
         type == connection::ForwardedStreamlocalOpen::kType;
}

connection::OpenDecision ClientForwarding::open_channel(std::string_view type,
                                                        ByteView type_specific_data) {
  if (type == connection::ForwardedTcpipOpen::kType) {
    return open_forwarded_tcpip(type_specific_data);
  }
  if (type == connection::ForwardedStreamlocalOpen::kType) {
    return open_forwarded_streamlocal(type_specific_data);
  }
  return OpenFailure{OpenFailureReason::UnknownChannelType, "unknown channel type"};
}

// Connects a forwarded channel to the forward's target here.
template <class Label>
static connection::OpenDecision connect_target(asio::io_context& io,
                                               connection::Connection& connection,
                                               const std::function<void()>& kick,
                                               const ForwardSpec& spec, Label label) {
  if (spec.connect.is_socket()) {
#if defined(ASIO_HAS_LOCAL_SOCKETS) && !defined(_WIN32)
    auto relay = std::make_shared<LocalChannelRelay>(
        connection, kick, asio::local::stream_protocol::socket(io), std::move(label));
    connect_when_open_pending(relay, spec.connect.socket_path, kick);
    return DeferredOpen{std::move(relay)};
#else
    return OpenFailure{OpenFailureReason::ConnectFailed,
                       "Unix-domain sockets are not supported on Windows yet"};
#endif
  }
  auto relay =
      std::make_shared<TcpChannelRelay>(connection, kick, tcp::socket(io), std::move(label));
  connect_when_open_pending(relay, io, *spec.connect.host, spec.connect.port, kick);
  return DeferredOpen{std::move(relay)};
}

connection::OpenDecision ClientForwarding::open_forwarded_tcpip(ByteView data) {
  auto open = connection::ForwardedTcpipOpen::decode(data);
  if (!open) return OpenFailure{OpenFailureReason::ConnectFailed, "malformed forwarded-tcpip open"};
  const std::string where =
      fmt::format("{}:{}", printable(open->connected_address), open->connected_port);
  // Only what we asked for: a server cannot make us connect anywhere else.
  for (const auto& forward : remote_forwards_) {
    if (!forward->active || forward->spec.listen.is_socket()) continue;
    if (forward->bound_port != open->connected_port) continue;
    auto label = fmt::format("{}: connection from {}:{}", forward->spec.to_string(),
                             printable(open->originator_address), open->originator_port);
    return connect_target(io_, connection_, kick_, forward->spec, std::move(label));
  }
  forward_logger()->warn(
      "refused a forwarded-tcpip channel for {}: no forward of ours listens there", where);
  return OpenFailure{OpenFailureReason::AdministrativelyProhibited, "no such forward: " + where};
}

connection::OpenDecision ClientForwarding::open_forwarded_streamlocal(ByteView data) {
  auto open = connection::ForwardedStreamlocalOpen::decode(data);
  if (!open) {
    return OpenFailure{OpenFailureReason::ConnectFailed, "malformed forwarded-streamlocal open"};
  }
  for (const auto& forward : remote_forwards_) {
    if (!forward->active || forward->spec.listen.socket_path != open->socket_path) continue;
    auto label = fmt::format("{}: connection", forward->spec.to_string());
    return connect_target(io_, connection_, kick_, forward->spec, std::move(label));
  }
  forward_logger()->warn("refused a forwarded-streamlocal channel for {}: no forward of ours",
                         printable(open->socket_path));
  return OpenFailure{OpenFailureReason::AdministrativelyProhibited,
                     "no such forward: " + printable(open->socket_path)};
}

// --- Shutdown -----------------------------------------------------------------------

void ClientForwarding::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  for (auto& listener : listeners_) listener->close();
  listeners_.clear();
  remote_forwards_.clear();
}

std::vector<std::string> ClientForwarding::local_endpoints() const {
  std::vector<std::string> endpoints;
  for (const auto& listener : listeners_) {
    endpoints.insert(endpoints.end(), listener->endpoints.begin(), listener->endpoints.end());
  }
  return endpoints;
}

}  // namespace ssh::net
