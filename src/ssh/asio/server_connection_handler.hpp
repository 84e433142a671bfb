// What an authenticated client may open and ask for on a server
// connection: session channels, served forwards and agent forwarding, and
// keepalive@openssh.com replies. One per connection; it lives as long as
// the connection's handler slot holds it.
#pragma once

#include <memory>

#include "ssh/asio/server_context.hpp"

namespace ssh::net {

class ServedForwarding;

class ServerConnectionHandler : public connection::ConnectionHandler {
 public:
  explicit ServerConnectionHandler(std::shared_ptr<ServerConnectionContext> context);
  ~ServerConnectionHandler() override;

  connection::OpenDecision on_channel_open(std::string_view type,
                                           ByteView type_specific_data) override;
  std::optional<Bytes> on_global_request(std::string_view name, bool want_reply,
                                         ByteView data) override;

  // The connection ended: close listeners, remove sockets.
  void shutdown();

 private:
  std::shared_ptr<ServerConnectionContext> context_;
  std::shared_ptr<ServedForwarding> forwarding_;
};

}  // namespace ssh::net
