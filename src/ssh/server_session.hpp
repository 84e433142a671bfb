// An SSH server connection as one sans-I/O object: transport (server
// role), user authentication and the connection layer, with the limits a
// server needs against clients it does not know yet: login grace time, a
// small packet limit before authentication, max auth tries, an idle
// timeout. Bytes in, bytes out, callbacks for decisions; the Asio driver
// (ssh/asio/server_driver) moves the bytes.
#pragma once

#include <botan/rng.h>

#include <chrono>
#include <memory>
#include <optional>

#include "ssh/auth/server_auth.hpp"
#include "ssh/common.hpp"
#include "ssh/connection/connection.hpp"
#include "ssh/transport/transport.hpp"

namespace ssh {

struct ServerSessionConfig {
  transport::TransportConfig transport;  // host_keys must be set
  auth::ServerAuthConfig auth;
  connection::ConnectionConfig connection;
  // From the first byte until authentication succeeds (sshd's
  // LoginGraceTime); zero disables.
  std::chrono::seconds login_grace_time{30};
  // Closes an authenticated connection that has had no channel open for
  // this long (OpenSSH's UnusedConnectionTimeout); nullopt disables.
  std::optional<std::chrono::seconds> idle_timeout;
  std::size_t preauth_max_packet = limits::kMaxPreauthPacketLength;
  // Announce every host key after authentication (hostkeys-00@openssh.com)
  // and prove them on request, so that clients with UpdateHostKeys learn
  // new keys before the old ones go (OpenSSH PROTOCOL 2.5).
  bool announce_host_keys = true;
};

class ServerSessionCallbacks : public auth::ServerAuthCallbacks {
 public:
  // Authentication succeeded: the handler for the client's channel opens
  // and global requests from now on.
  virtual std::shared_ptr<connection::ConnectionHandler> on_authenticated(
      const auth::AuthenticatedUser& user) = 0;
};

class ServerSession : private transport::TransportCallbacks, private connection::PayloadSink {
 public:
  using TimePoint = transport::TimePoint;

  ServerSession(ServerSessionConfig config, ServerSessionCallbacks& callbacks,
                Botan::RandomNumberGenerator& rng);
  ~ServerSession() override;

  void start(TimePoint now);

  MutableByteView prepare_receive(std::size_t at_least) {
    return transport_.prepare_receive(at_least);
  }
  Status commit_received(std::size_t count, TimePoint now);
  Status receive_eof();

  bool has_output() const { return transport_.has_output(); }
  void take_output(Bytes& into) { transport_.take_output(into); }
  std::size_t output_size() const { return transport_.output_size(); }

  std::optional<TimePoint> next_timeout() const;
  Status handle_timeout(TimePoint now);

  // Ends the connection politely (DISCONNECT by application).
  void disconnect(std::string_view description);

  bool authenticated() const { return auth_.succeeded(); }
  const auth::AuthenticatedUser& authenticated_user() const { return auth_.authenticated(); }
  bool closed() const { return transport_.is_closed(); }
  const std::optional<Error>& close_error() const { return transport_.close_error(); }
  connection::Connection& connection() { return connection_; }
  transport::Transport& transport() { return transport_; }

 private:
  Status on_transport_payload(ByteView payload) override;
  Status verify_host_key(const keys::PublicKey& host_key,
                         std::string_view signature_algorithm) override;
  void on_key_exchange_complete(const transport::NegotiatedAlgorithms& algorithms,
                                bool first) override;
  Status send_payload(ByteView head, ByteView tail) override;
  Status fail(Error error);
  void note_channel_count(TimePoint now);
  Status announce_host_keys();
  Status on_prove_host_keys(const connection::GlobalRequest& request);

  ServerSessionConfig config_;
  ServerSessionCallbacks& callbacks_;
  Botan::RandomNumberGenerator& rng_;
  transport::Transport transport_;
  auth::ServerAuth auth_;
  connection::Connection connection_;

  TimePoint started_at_{};
  // When the connection last had no channels (for the idle timeout).
  std::optional<TimePoint> unused_since_;
  // A client asks for proofs once per connection (OpenSSH's does); more
  // requests would only make us sign for nothing.
  bool host_keys_proved_ = false;
};

}  // namespace ssh
