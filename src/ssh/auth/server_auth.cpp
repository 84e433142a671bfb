#include "ssh/auth/server_auth.hpp"

#include <algorithm>

#include "ssh/limits.hpp"
#include "ssh/log.hpp"
#include "ssh/transport/messages.hpp"
#include "ssh/wire/message_numbers.hpp"
#include "ssh/wire/reader.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::auth {
namespace {

using wire::MessageNumber;

std::shared_ptr<spdlog::logger> logger() {
  static const auto instance = log::get("auth");
  return instance;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// User names are printed in logs and compared, never used as paths here;
// still, control characters and absurd lengths are a client's mischief.
bool plausible_user_name(std::string_view user) {
  if (user.empty() || user.size() > 256) return false;
  return std::none_of(user.begin(), user.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// Bounds requests that never count as failures (key queries, "none").
constexpr std::size_t kMaxRequests = limits::kMaxServerAuthRequests;

}  // namespace

ServerAuth::ServerAuth(ServerAuthConfig config, ServerAuthCallbacks& callbacks, SendPayload send)
    : config_(std::move(config)), callbacks_(callbacks), send_(std::move(send)) {}

void ServerAuth::start(ByteView session_id) {
  session_id_ = to_bytes(session_id);
}

template <class Message>
Status ServerAuth::send(const Message& message) {
  Bytes payload;
  wire::Writer writer(payload);
  message.encode(writer);
  return send_(payload);
}

Status ServerAuth::handle(ByteView payload) {
  if (payload.empty()) return protocol_error("empty payload");
  const std::uint8_t type = payload[0];
  if (session_id_.empty()) {
    return protocol_error(std::string(wire::message_name(type)) + " before key exchange");
  }
  switch (state_) {
    case State::WaitServiceRequest:
      if (type != wire::number(MessageNumber::ServiceRequest)) {
        return protocol_error("expected SERVICE_REQUEST, got " +
                              std::string(wire::message_name(type)));
      }
      return handle_service_request(payload);
    case State::WaitInfoResponse:
      if (type == wire::number(MessageNumber::UserauthInfoResponse)) {
        return handle_info_response(payload);
      }
      // RFC 4256 section 3.2: a new request abandons the exchange.
      [[fallthrough]];
    case State::WaitRequest:
      if (type != wire::number(MessageNumber::UserauthRequest)) {
        return protocol_error("unexpected " + std::string(wire::message_name(type)) +
                              " during authentication");
      }
      return handle_request(payload);
    case State::Done:
      // RFC 4252 section 5.1: requests after success are ignored.
      logger()->debug("{}: ignoring {} after authentication", config_.peer,
                      wire::message_name(type));
      return {};
  }
  return {};
}

Status ServerAuth::handle_service_request(ByteView payload) {
  auto request = transport::ServiceRequestMessage::decode(payload);
  if (!request) return protocol_error("malformed SERVICE_REQUEST");
  if (request->service != kUserauthService) {
    return Error{DisconnectReason::ServiceNotAvailable, "client asked for service \"" +
                                                            request->service.substr(0, 64) +
                                                            "\"; only ssh-userauth is offered"};
  }
  state_ = State::WaitRequest;
  return send(transport::ServiceAcceptMessage{std::string(kUserauthService)});
}

Status ServerAuth::refuse(bool counts) {
  state_ = State::WaitRequest;
  if (counts) ++failures_;
  if (failures_ >= config_.max_attempts) {
    return Error{DisconnectReason::NoMoreAuthMethodsAvailable,
                 "too many authentication failures for " + user_.value_or("?") + " (" +
                     std::to_string(failures_) + ")"};
  }
  return send(UserauthFailure{config_.methods, false});
}

Status ServerAuth::handle_request(ByteView payload) {
  auto request = UserauthRequest::decode(payload);
  if (!request) return protocol_error("malformed USERAUTH_REQUEST");
  if (++requests_ > kMaxRequests) {
    return Error{DisconnectReason::NoMoreAuthMethodsAvailable,
                 "too many authentication requests (" + std::to_string(kMaxRequests) + ")"};
  }
  if (!plausible_user_name(request->user)) {
    return Error{DisconnectReason::IllegalUserName, "invalid user name in USERAUTH_REQUEST"};
  }
  if (request->service != kConnectionService) {
    return Error{DisconnectReason::ServiceNotAvailable,
                 "client asked to authenticate for service \"" + request->service.substr(0, 64) +
                     "\"; only ssh-connection is offered"};
  }
  // OpenSSH does not let a client switch users half way either.
  if (user_ && *user_ != request->user) {
    return protocol_error("client changed the user name from " + *user_ + " to " + request->user +
                          " during authentication");
  }
  user_ = request->user;
  if (config_.banner && !banner_sent_) {
    banner_sent_ = true;
    if (auto sent = send(UserauthBanner{*config_.banner, ""}); !sent) return sent;
  }
  const std::string& method = request->method;
  if (method == "none") return refuse(false);
  if (!contains(config_.methods, method)) {
    logger()->debug("{}: user {}: method {} is not offered", config_.peer, request->user,
                    method.substr(0, 64));
    return refuse(true);
  }
  if (method == "publickey") return handle_publickey(*request);
  if (method == "password") return handle_password(*request);
  if (method == "keyboard-interactive") return handle_keyboard_interactive(*request);
  return refuse(true);
}

Status ServerAuth::handle_publickey(const UserauthRequest& request) {
  auto data = PublickeyRequestData::decode(request.method_data);
  if (!data) return protocol_error("malformed publickey USERAUTH_REQUEST");
  if (!contains(config_.signature_algorithms, data->algorithm)) {
    logger()->info("{}: user {}: refused publickey algorithm {}", config_.peer, request.user,
                   data->algorithm.substr(0, 64));
    return refuse(true);
  }
  auto key = keys::PublicKey::from_blob(data->public_key);
  if (!key) {
    logger()->info("{}: user {}: unusable public key: {}", config_.peer, request.user,
                   key.error().message);
    return refuse(true);
  }
  if (keys::key_type_for_signature_algorithm(data->algorithm) != key->type()) {
    logger()->info("{}: user {}: signature algorithm {} does not fit a {} key", config_.peer,
                   request.user, data->algorithm, key->type());
    return refuse(true);
  }
  auto authorization = callbacks_.authorize_key(request.user, *key);
  if (!authorization) {
    logger()->info("{}: user {}: key {} {} is not authorized", config_.peer, request.user,
                   key->type(), key->fingerprint_sha256());
    return refuse(true);
  }
  if (!data->has_signature) {
    // A query: the client asks before it signs (or before it unlocks the key).
    logger()->debug("{}: user {}: key {} {} would be accepted ({})", config_.peer, request.user,
                    key->type(), key->fingerprint_sha256(), authorization->source);
    return send(UserauthPkOk{data->algorithm, data->public_key});
  }
  const Bytes signed_data = publickey_signed_data(session_id_, request.user, request.service,
                                                  data->algorithm, data->public_key);
  if (auto verified = key->verify(data->algorithm, signed_data, data->signature); !verified) {
    logger()->info("{}: user {}: bad signature by key {}: {}", config_.peer, request.user,
                   key->fingerprint_sha256(), verified.error().message);
    return refuse(true);
  }
  logger()->info("{}: accepted publickey for {}: {} {} ({})", config_.peer, request.user,
                 key->type(), key->fingerprint_sha256(), authorization->source);
  return succeed(request, std::move(*key), std::move(authorization->options));
}

Status ServerAuth::handle_password(const UserauthRequest& request) {
  wire::Reader reader(request.method_data);
  const bool change = reader.boolean();
  // A view into the packet buffer: the password is never copied.
  const std::string_view password = reader.text();
  if (change) (void)reader.text();
  if (!reader.ok() || !reader.at_end()) return protocol_error("malformed password request");
  if (change) {
    logger()->info("{}: user {}: password change requests are not supported", config_.peer,
                   request.user);
    return refuse(true);
  }
  const bool accepted = callbacks_.check_password(request.user, password);
  if (!accepted) {
    logger()->info("{}: user {}: password refused", config_.peer, request.user);
    return refuse(true);
  }
  logger()->info("{}: accepted password for {}", config_.peer, request.user);
  return succeed(request, std::nullopt, {});
}

Status ServerAuth::handle_keyboard_interactive(const UserauthRequest& request) {
  auto prompts = callbacks_.keyboard_interactive_prompts(request.user);
  if (!prompts) return refuse(true);
  state_ = State::WaitInfoResponse;
  return send(*prompts);
}

Status ServerAuth::handle_info_response(ByteView payload) {
  auto response = UserauthInfoResponse::decode(payload);
  if (!response) return protocol_error("malformed USERAUTH_INFO_RESPONSE");
  const std::string user = user_.value_or("");
  const bool accepted = callbacks_.check_keyboard_interactive(user, response->responses);
  for (auto& answer : response->responses) std::fill(answer.begin(), answer.end(), '\0');
  if (!accepted) {
    logger()->info("{}: user {}: keyboard-interactive answers refused", config_.peer, user);
    return refuse(true);
  }
  logger()->info("{}: accepted keyboard-interactive for {}", config_.peer, user);
  UserauthRequest request;
  request.user = user;
  request.method = "keyboard-interactive";
  return succeed(request, std::nullopt, {});
}

Status ServerAuth::succeed(const UserauthRequest& request, std::optional<keys::PublicKey> key,
                           config::AuthorizedKeyOptions options) {
  state_ = State::Done;
  authenticated_ =
      AuthenticatedUser{request.user, request.method, std::move(key), std::move(options)};
  const std::uint8_t success = wire::number(MessageNumber::UserauthSuccess);
  return send_(ByteView(&success, 1));
}

}  // namespace ssh::auth
