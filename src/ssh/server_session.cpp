#include "ssh/server_session.hpp"

#include "ssh/hostkeys/host_key_rotation.hpp"
#include "ssh/log.hpp"
#include "ssh/wire/message_numbers.hpp"

namespace ssh {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  static const auto instance = log::get("session");
  return instance;
}

}  // namespace

ServerSession::ServerSession(ServerSessionConfig config, ServerSessionCallbacks& callbacks,
                             Botan::RandomNumberGenerator& rng)
    : config_(std::move(config)),
      callbacks_(callbacks),
      rng_(rng),
      transport_(
          [&] {
            auto transport_config = config_.transport;
            transport_config.role = Role::Server;
            return transport_config;
          }(),
          *this, rng),
      auth_(config_.auth, callbacks,
            [this](ByteView payload) { return transport_.send_payload(payload); }),
      connection_(Role::Server, config_.connection, *this) {
  transport_.set_max_packet_length(config_.preauth_max_packet);
}

ServerSession::~ServerSession() = default;

void ServerSession::start(TimePoint now) {
  started_at_ = now;
  transport_.start(now);
}

Status ServerSession::fail(Error error) {
  transport_.abort(error);
  connection_.abort_all();
  return error;
}

Status ServerSession::commit_received(std::size_t count, TimePoint now) {
  auto status = transport_.commit_received(count, now);
  if (!status) {
    connection_.abort_all();
    return status;
  }
  note_channel_count(now);
  return {};
}

Status ServerSession::receive_eof() {
  auto status = transport_.receive_eof();
  connection_.abort_all();
  return status;
}

void ServerSession::disconnect(std::string_view description) {
  transport_.disconnect(DisconnectReason::ByApplication, description);
  connection_.abort_all();
}

Status ServerSession::send_payload(ByteView head, ByteView tail) {
  return transport_.send_payload(head, tail);
}

Status ServerSession::verify_host_key(const keys::PublicKey&, std::string_view) {
  // Only a client verifies host keys.
  return {};
}

void ServerSession::on_key_exchange_complete(const transport::NegotiatedAlgorithms& algorithms,
                                             bool first) {
  if (!first) return;
  logger()->debug("key exchange: {} host key {} cipher {} / {}", algorithms.kex,
                  algorithms.host_key, algorithms.cipher_client_to_server,
                  algorithms.cipher_server_to_client);
  auth_.start(transport_.session_id());
}

Status ServerSession::on_transport_payload(ByteView payload) {
  const std::uint8_t type = payload[0];
  if (!auth_.succeeded()) {
    if (type == wire::number(wire::MessageNumber::ServiceRequest) ||
        wire::is_userauth_message(type)) {
      auto status = auth_.handle(payload);
      if (!status) return status;
      if (auth_.succeeded()) {
        transport_.set_max_packet_length(limits::kMaxPacketLength);
        connection_.set_handler(callbacks_.on_authenticated(auth_.authenticated()));
        return announce_host_keys();
      }
      return {};
    }
    if (type == wire::number(wire::MessageNumber::ExtInfo)) return {};
    return protocol_error("unexpected " + std::string(wire::message_name(type)) +
                          " before authentication completed");
  }
  if (type == wire::number(wire::MessageNumber::GlobalRequest) && config_.announce_host_keys) {
    if (auto request = connection::GlobalRequest::decode(payload);
        request && request->name == connection::HostKeysProveRequest::kType) {
      return on_prove_host_keys(*request);
    }
  }
  if (wire::is_connection_message(type) &&
      type <= wire::number(wire::MessageNumber::ChannelFailure)) {
    return connection_.handle_message(payload);
  }
  if (wire::is_userauth_message(type) || type == wire::number(wire::MessageNumber::ExtInfo)) {
    return auth_.handle(payload);
  }
  return protocol_error("unexpected message " + std::to_string(type));
}

Status ServerSession::announce_host_keys() {
  if (!config_.announce_host_keys || config_.transport.host_keys.empty()) return {};
  const auto announcement = hostkeys::make_announcement(config_.transport.host_keys);
  logger()->debug("announcing {} host keys", announcement.host_keys.size());
  return connection_.send_global_request(connection::HostKeysAnnouncement::kType, false,
                                         connection::encode_to_bytes(announcement));
}

Status ServerSession::on_prove_host_keys(const connection::GlobalRequest& request) {
  auto answer = [&]() -> Result<connection::HostKeysProveReply> {
    if (host_keys_proved_) {
      return Error{DisconnectReason::ByApplication, "host keys were already proved"};
    }
    host_keys_proved_ = true;
    const auto prove = connection::HostKeysProveRequest::decode(request.data);
    if (!prove) return Error{DisconnectReason::ByApplication, "malformed prove request"};
    return hostkeys::prove_host_keys(*prove, config_.transport.host_keys, transport_.session_id(),
                                     transport_.algorithms().host_key, rng_);
  }();
  if (!answer) {
    logger()->debug("refusing {}: {}", request.name, answer.error().message);
  } else {
    logger()->debug("proved {} host keys", answer->signatures.size());
  }
  if (!request.want_reply) return {};
  if (!answer)
    return transport_.send_payload(connection::encode_to_bytes(connection::RequestFailure{}));
  return transport_.send_payload(connection::encode_to_bytes(
      connection::RequestSuccess{connection::encode_to_bytes(*answer)}));
}

void ServerSession::note_channel_count(TimePoint now) {
  if (!auth_.succeeded() || transport_.is_closed()) return;
  if (connection_.channel_count() > 0) {
    unused_since_.reset();
  } else if (!unused_since_) {
    unused_since_ = now;
  }
}

std::optional<ServerSession::TimePoint> ServerSession::next_timeout() const {
  if (transport_.is_closed()) return std::nullopt;
  auto deadline = transport_.next_timeout();
  auto earliest = [&](TimePoint at) {
    if (!deadline || at < *deadline) deadline = at;
  };
  if (!auth_.succeeded() && config_.login_grace_time.count() > 0) {
    earliest(started_at_ + config_.login_grace_time);
  }
  if (auth_.succeeded() && config_.idle_timeout && unused_since_) {
    earliest(*unused_since_ + *config_.idle_timeout);
  }
  return deadline;
}

Status ServerSession::handle_timeout(TimePoint now) {
  if (transport_.is_closed()) return {};
  if (!auth_.succeeded() && config_.login_grace_time.count() > 0 &&
      now - started_at_ >= config_.login_grace_time) {
    return fail({DisconnectReason::ByApplication,
                 "login grace time of " + std::to_string(config_.login_grace_time.count()) +
                     " s exceeded before authentication"});
  }
  note_channel_count(now);
  if (auth_.succeeded() && config_.idle_timeout && unused_since_ &&
      now - *unused_since_ >= *config_.idle_timeout) {
    return fail(
        {DisconnectReason::ByApplication,
         "idle for " + std::to_string(config_.idle_timeout->count()) + " s with no open channels"});
  }
  return transport_.handle_timeout(now);
}

}  // namespace ssh
