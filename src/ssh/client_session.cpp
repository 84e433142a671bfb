#include "ssh/client_session.hpp"

#include "ssh/log.hpp"
#include "ssh/wire/message_numbers.hpp"

namespace ssh {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  static const auto instance = log::get("session");
  return instance;
}

std::shared_ptr<spdlog::logger> host_keys_logger() {
  static const auto instance = log::get("hostkeys");
  return instance;
}

}  // namespace

ClientSession::ClientSession(ClientSessionConfig config, ClientSessionCallbacks& callbacks,
                             Botan::RandomNumberGenerator& rng)
    : config_(std::move(config)),
      callbacks_(callbacks),
      transport_(
          [&] {
            auto transport_config = config_.transport;
            transport_config.role = Role::Client;
            return transport_config;
          }(),
          *this, rng),
      auth_(
          config_.auth, callbacks,
          [this](ByteView payload) { return transport_.send_payload(payload); }, rng),
      connection_(Role::Client, config_.connection, *this) {}

ClientSession::~ClientSession() = default;

Status ClientSession::fail(Error error) {
  // The transport queues the DISCONNECT and keeps the error for the driver.
  transport_.abort(error);
  connection_.abort_all();
  return error;
}

Status ClientSession::commit_received(std::size_t count, TimePoint now) {
  if (count > 0) {
    last_received_ = now;
    keepalives_unanswered_ = 0;
  }
  auto status = transport_.commit_received(count, now);
  if (!status) {
    connection_.abort_all();
    return status;
  }
  return {};
}

Status ClientSession::receive_eof() {
  auto status = transport_.receive_eof();
  connection_.abort_all();
  return status;
}

void ClientSession::disconnect(std::string_view description) {
  transport_.disconnect(DisconnectReason::ByApplication, description);
  connection_.abort_all();
}

Status ClientSession::send_payload(ByteView head, ByteView tail) {
  return transport_.send_payload(head, tail);
}

Status ClientSession::verify_host_key(const keys::PublicKey& host_key,
                                      std::string_view signature_algorithm) {
  return callbacks_.verify_host_key(host_key, signature_algorithm);
}

void ClientSession::on_key_exchange_complete(const transport::NegotiatedAlgorithms&, bool first) {
  if (first && !auth_started_) {
    auth_started_ = true;
    if (auto status = auth_.start(transport_.session_id()); !status)
      (void)fail(status.take_error());
  }
}

Status ClientSession::on_transport_payload(ByteView payload) {
  const std::uint8_t type = payload[0];
  if (type == wire::number(wire::MessageNumber::GlobalRequest)) {
    if (auto request = connection::GlobalRequest::decode(payload);
        request && request->name == connection::HostKeysAnnouncement::kType) {
      if (!auth_.succeeded()) {
        // Only keys announced over an authenticated connection mean anything.
        host_keys_logger()->debug("ignoring {} before authentication", request->name);
        return {};
      }
      return on_host_keys_announced(*request);
    }
  }
  if (!auth_.succeeded()) {
    if (type == wire::number(wire::MessageNumber::ServiceAccept) ||
        type == wire::number(wire::MessageNumber::ExtInfo) || wire::is_userauth_message(type)) {
      auto status = auth_.handle(payload);
      if (!status) return status;
      if (auth_.succeeded()) callbacks_.on_authenticated();
      return {};
    }
    return protocol_error("unexpected " + std::string(wire::message_name(type)) +
                          " before authentication completed");
  }
  if (wire::is_connection_message(type) &&
      type <= wire::number(wire::MessageNumber::ChannelFailure)) {
    return connection_.handle_message(payload);
  }
  if (type == wire::number(wire::MessageNumber::ExtInfo)) return auth_.handle(payload);
  if (wire::is_userauth_message(type)) {
    // RFC 4252 section 5.1: ignore authentication messages after success.
    logger()->debug("ignoring {} after authentication", wire::message_name(type));
    return {};
  }
  return protocol_error("unexpected message " + std::to_string(type));
}

Status ClientSession::on_host_keys_announced(const connection::GlobalRequest& request) {
  const auto log = host_keys_logger();
  if (request.want_reply) {
    if (auto sent =
            transport_.send_payload(connection::encode_to_bytes(connection::RequestFailure{}));
        !sent) {
      return sent;
    }
  }
  if (host_keys_announced_) {
    log->debug("ignoring a second host key announcement");
    return {};
  }
  host_keys_announced_ = true;
  auto known = callbacks_.known_host_keys_for_update();
  if (!known) {
    log->debug("server announced its host keys; UpdateHostKeys is off");
    return {};
  }
  const auto announcement = connection::HostKeysAnnouncement::decode(request.data);
  if (!announcement) {
    log->debug("host key update ignored: malformed announcement");
    return {};
  }
  auto plan = hostkeys::plan_update(*announcement, *known, config_.transport.policy.host_key);
  if (!plan) {
    log->debug("{}", plan.error().message);
    return {};
  }
  log->debug("{}", plan->summary());
  if (plan->changes_nothing()) return {};
  if (plan->to_prove.empty()) {
    callbacks_.update_known_host_keys({}, plan->to_remove);
    return {};
  }

  connection::HostKeysProveRequest prove;
  for (const auto& key : plan->to_prove) prove.host_keys.push_back(key.blob());
  log->debug("asking the server to prove {} host keys", prove.host_keys.size());
  auto shared_plan = std::make_shared<hostkeys::HostKeyUpdatePlan>(std::move(*plan));
  return connection_.send_global_request(
      connection::HostKeysProveRequest::kType, true, connection::encode_to_bytes(prove),
      [this, shared_plan](bool success, ByteView data) {
        const auto reply_log = host_keys_logger();
        if (!success) {
          reply_log->debug("host key update abandoned: the server did not prove its keys");
          return;
        }
        auto verified = hostkeys::verify_proofs(*shared_plan, data, transport_.session_id(),
                                                transport_.algorithms().host_key);
        if (!verified) {
          reply_log->debug("{}", verified.error().message);
          return;
        }
        reply_log->debug("server proved {} new host keys", shared_plan->to_prove.size());
        callbacks_.update_known_host_keys(shared_plan->to_prove, shared_plan->to_remove);
      });
}

std::optional<ClientSession::TimePoint> ClientSession::next_timeout() const {
  auto deadline = transport_.next_timeout();
  if (config_.keepalive_interval.count() > 0 && auth_.succeeded() && !transport_.is_closed()) {
    const auto base = std::max(last_received_, last_keepalive_);
    const auto keepalive_at = base + config_.keepalive_interval;
    if (!deadline || keepalive_at < *deadline) deadline = keepalive_at;
  }
  return deadline;
}

Status ClientSession::handle_timeout(TimePoint now) {
  if (auto status = transport_.handle_timeout(now); !status) return status;
  if (config_.keepalive_interval.count() == 0 || !auth_.succeeded() || transport_.is_closed()) {
    return {};
  }
  const auto base = std::max(last_received_, last_keepalive_);
  if (now - base < config_.keepalive_interval) return {};
  if (keepalives_unanswered_ >= config_.keepalive_count_max) {
    return fail({DisconnectReason::ConnectionLost, "Timeout, server not responding (no answer to " +
                                                       std::to_string(keepalives_unanswered_) +
                                                       " keepalives)"});
  }
  ++keepalives_unanswered_;
  last_keepalive_ = now;
  logger()->debug("sending keepalive {}", keepalives_unanswered_);
  // Any reply (success or failure) proves the server is alive; the counter
  // is reset by the bytes that carry it.
  return connection_.send_global_request("keepalive@openssh.com", true, {}, [](bool, ByteView) {});
}

}  // namespace ssh
