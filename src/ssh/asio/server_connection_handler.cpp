#include "ssh/asio/server_connection_handler.hpp"

#include "ssh/asio/served_forwarding.hpp"
#include "ssh/asio/session_channel.hpp"
#include "ssh/log.hpp"

namespace ssh::net {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  static const auto instance = log::get("server");
  return instance;
}

}  // namespace

ServerConnectionHandler::ServerConnectionHandler(std::shared_ptr<ServerConnectionContext> context)
    : context_(std::move(context)), forwarding_(std::make_shared<ServedForwarding>(context_)) {
  // Session channels ask for agent forwarding through the context; they
  // may outlive this handler by a callback or two, hence the weak pointer.
  std::weak_ptr<ServedForwarding> weak = forwarding_;
  context_->start_agent_forwarding = [weak]() -> Result<std::string> {
    auto forwarding = weak.lock();
    if (!forwarding) return Error{DisconnectReason::ByApplication, "the connection is closing"};
    return forwarding->start_agent_forwarding();
  };
}

ServerConnectionHandler::~ServerConnectionHandler() {
  shutdown();
}

connection::OpenDecision ServerConnectionHandler::on_channel_open(std::string_view type,
                                                                  ByteView type_specific_data) {
  if (type == connection::SessionOpen::kType) return open_session_channel(context_);
  if (type == connection::DirectTcpipOpen::kType) {
    return forwarding_->open_direct_tcpip(type_specific_data);
  }
  if (type == connection::DirectStreamlocalOpen::kType) {
    return forwarding_->open_direct_streamlocal(type_specific_data);
  }
  logger()->info("{}: refused {} channel: not served", context_->peer, type.substr(0, 64));
  return connection::OpenFailure{connection::OpenFailureReason::UnknownChannelType,
                                 "unknown channel type"};
}

std::optional<Bytes> ServerConnectionHandler::on_global_request(std::string_view name,
                                                                bool want_reply, ByteView data) {
  // OpenSSH clients send keepalive@openssh.com only to see an answer (any
  // answer); success tells them plainly that we are alive.
  if (name == connection::KeepaliveRequest::kType) return Bytes{};
  if (ServedForwarding::handles_global_request(name)) {
    return forwarding_->global_request(name, want_reply, data);
  }
  logger()->debug("{}: refused global request {}", context_->peer, name.substr(0, 64));
  return std::nullopt;
}

void ServerConnectionHandler::shutdown() {
  if (forwarding_) forwarding_->shutdown();
}

}  // namespace ssh::net
