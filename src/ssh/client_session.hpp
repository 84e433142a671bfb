// An SSH client connection as one sans-I/O object: transport, user
// authentication and the connection layer, with keepalives. Bytes in, bytes
// out, callbacks for decisions; the Asio driver (ssh/asio) moves the bytes.
#pragma once

#include <botan/rng.h>

#include <chrono>
#include <memory>
#include <optional>

#include "ssh/auth/client_auth.hpp"
#include "ssh/common.hpp"
#include "ssh/connection/connection.hpp"
#include "ssh/hostkeys/host_key_rotation.hpp"
#include "ssh/transport/transport.hpp"

namespace ssh {

struct ClientSessionConfig {
  transport::TransportConfig transport;
  auth::ClientAuthConfig auth;
  connection::ConnectionConfig connection;
  // OpenSSH's ServerAliveInterval / ServerAliveCountMax; zero disables.
  std::chrono::seconds keepalive_interval{0};
  int keepalive_count_max = 3;
};

class ClientSessionCallbacks : public auth::ClientAuthCallbacks {
 public:
  virtual Status verify_host_key(const keys::PublicKey& host_key,
                                 std::string_view signature_algorithm) = 0;
  // Authentication succeeded: channels may be opened now.
  virtual void on_authenticated() = 0;

  // Host key rotation (UpdateHostKeys). Asked once, when the server
  // announces its host keys after authentication: what known_hosts holds for
  // the host, or nullopt (the default) to leave known_hosts alone.
  virtual std::optional<hostkeys::KnownHostKeys> known_host_keys_for_update() {
    return std::nullopt;
  }
  // The server proved it holds `added` (keys new to known_hosts) and no
  // longer offers `removed` (blobs from KnownHostKeys::removable): record
  // that. Not called when anything about the update was wrong.
  virtual void update_known_host_keys(const std::vector<keys::PublicKey>& /*added*/,
                                      const std::vector<Bytes>& /*removed*/) {}
};

class ClientSession : private transport::TransportCallbacks, private connection::PayloadSink {
 public:
  using TimePoint = transport::TimePoint;

  ClientSession(ClientSessionConfig config, ClientSessionCallbacks& callbacks,
                Botan::RandomNumberGenerator& rng);
  ~ClientSession() override;

  void start(TimePoint now) { transport_.start(now); }

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
  Status on_host_keys_announced(const connection::GlobalRequest& request);

  ClientSessionConfig config_;
  ClientSessionCallbacks& callbacks_;
  transport::Transport transport_;
  auth::ClientAuth auth_;
  connection::Connection connection_;
  bool auth_started_ = false;
  // OpenSSH PROTOCOL 2.5: a server announces its host keys once.
  bool host_keys_announced_ = false;

  TimePoint last_received_{};
  TimePoint last_keepalive_{};
  int keepalives_unanswered_ = 0;
};

}  // namespace ssh
