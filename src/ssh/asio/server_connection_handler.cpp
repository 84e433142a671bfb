#include "ssh/asio/server_connection_handler.hpp"

#include "ssh/log.hpp"

namespace ssh::net {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  static const auto instance = log::get("server");
  return instance;
}

}  // namespace

ServerConnectionHandler::ServerConnectionHandler(std::shared_ptr<ServerConnectionContext> context)
    : context_(std::move(context)) {}

ServerConnectionHandler::~ServerConnectionHandler() {
  shutdown();
}

connection::OpenDecision ServerConnectionHandler::on_channel_open(std::string_view type,
                                                                  ByteView type_specific_data) {
  logger()->info("{}: refused {} channel: not served", context_->peer, type.substr(0, 64));
  return ConnectionHandler::on_channel_open(type, type_specific_data);
}

std::optional<Bytes> ServerConnectionHandler::on_global_request(std::string_view name,
                                                                bool want_reply, ByteView data) {
  // OpenSSH clients send keepalive@openssh.com to see that we are alive;
  // any answer does, success is what OpenSSH's sshd gives.
  if (name == connection::KeepaliveRequest::kType) return Bytes{};
  return ConnectionHandler::on_global_request(name, want_reply, data);
}

void ServerConnectionHandler::shutdown() {}

}  // namespace ssh::net
