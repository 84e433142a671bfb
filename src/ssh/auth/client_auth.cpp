#include "ssh/auth/client_auth.hpp"

#include <algorithm>

#include "ssh/limits.hpp"
#include "ssh/log.hpp"
#include "ssh/transport/messages.hpp"
#include "ssh/wire/message_numbers.hpp"
#include "ssh/wire/reader.hpp"

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

std::string join(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ",") + name;
  return joined;
}

// Bounds the whole exchange against a server that never decides.
constexpr std::size_t kMaxRequests = limits::kMaxClientAuthRequests;

}  // namespace

ClientAuth::ClientAuth(ClientAuthConfig config, ClientAuthCallbacks& callbacks, SendPayload send,
                       Botan::RandomNumberGenerator& rng)
    : config_(std::move(config)), callbacks_(callbacks), send_(std::move(send)), rng_(rng) {}

Status ClientAuth::start(ByteView session_id) {
  session_id_.assign(session_id.begin(), session_id.end());
  state_ = State::WaitServiceAccept;
  Bytes payload;
  wire::Writer writer(payload);
  transport::ServiceRequestMessage{std::string(kUserauthService)}.encode(writer);
  return send_(payload);
}

Status ClientAuth::send_request(std::string_view method, ByteView method_data) {
  if (++requests_sent_ > kMaxRequests) return permission_denied();
  current_method_ = method;
  Bytes payload;
  wire::Writer writer(payload);
  UserauthRequest{config_.user, std::string(kConnectionService), std::string(method),
                  to_bytes(method_data)}
      .encode(writer);
  state_ = State::WaitReply;
  return send_(payload);
}

Error ClientAuth::permission_denied() const {
  return {DisconnectReason::NoMoreAuthMethodsAvailable,
          config_.user + ": Permission denied (" + join(server_methods_) + ")."};
}

std::string ClientAuth::choose_signature_algorithm(const keys::PublicKey& key) const {
  auto candidates = key.signature_algorithms();
  if (config_.signature_algorithms) {
    std::erase_if(candidates, [&](const std::string& algorithm) {
      return !contains(*config_.signature_algorithms, algorithm);
    });
  }
  if (candidates.empty()) return {};
  if (key.type() != "ssh-rsa" || !server_sig_algs_known_) return candidates.front();
  // RFC 8332: use an RSA SHA-2 algorithm the server says it accepts.
  for (const auto& algorithm : candidates) {
    if (contains(server_sig_algs_, algorithm)) return algorithm;
  }
  return candidates.front();
}

std::optional<std::string> ClientAuth::next_publickey_attempt(Bytes& method_data) {
  while (next_identity_ < config_.identities.size()) {
    const Identity& identity = config_.identities[next_identity_++];
    const auto& public_key = identity.public_key;
    const std::string algorithm = choose_signature_algorithm(public_key);
    if (algorithm.empty()) continue;
    const bool from_agent = identity.origin == IdentityOrigin::Agent;
    logger()->debug("trying key {} {} from {}{}", public_key.type(),
                    public_key.fingerprint_sha256(), from_agent ? "agent: " : "", identity.source);
    const Bytes signed_data = publickey_signed_data(session_id_, config_.user, kConnectionService,
                                                    algorithm, public_key.blob());
    auto signature = identity.signer->sign(algorithm, signed_data, rng_);
    if (!signature) {
      logger()->warn("cannot sign with {}: {}", identity.source, signature.error().message);
      continue;
    }
    logger()->debug("offering public key {} {} ({}{}) as {}", public_key.type(),
                    public_key.fingerprint_sha256(), identity.source, from_agent ? ", agent" : "",
                    algorithm);
    // Sending the signature at once (no query first) saves a round trip.
    PublickeyRequestData data{true, algorithm, public_key.blob(), *signature};
    method_data = data.encode();
    return identity.source;
  }
  return std::nullopt;
}

Status ClientAuth::try_next_method() {
  for (const auto& method : config_.methods) {
    if (!contains(server_methods_, method)) continue;
    if (method == "publickey") {
      Bytes data;
      if (next_publickey_attempt(data)) return send_request(method, data);
    } else if (method == "keyboard-interactive") {
      if (keyboard_interactive_tried_) continue;
      keyboard_interactive_tried_ = true;
      Bytes data;
      wire::Writer writer(data);
      writer.string("");  // language
      writer.string("");  // submethods
      logger()->debug("trying keyboard-interactive");
      return send_request(method, data);
    } else if (method == "password") {
      if (password_attempts_ >= config_.max_password_attempts) continue;
      auto password = callbacks_.password_for(config_.user);
      if (!password) {
        password_attempts_ = config_.max_password_attempts;
        continue;
      }
      ++password_attempts_;
      Bytes data;
      wire::Writer writer(data);
      writer.boolean(false);
      writer.string(*password);
      logger()->debug("trying password");
      return send_request(method, data);
    }
  }
  logger()->debug("no authentication methods left to try");
  return permission_denied();
}

Status ClientAuth::handle(ByteView payload) {
  if (payload.empty()) return protocol_error("empty payload");
  const std::uint8_t type = payload[0];

  if (type == wire::number(MessageNumber::ExtInfo)) {
    auto info = transport::ExtInfoMessage::decode(payload);
    if (!info) return protocol_error("malformed EXT_INFO");
    for (const auto& [name, value] : info->extensions) {
      if (name != "server-sig-algs") continue;
      server_sig_algs_.clear();
      std::size_t start = 0;
      while (start <= value.size()) {
        const auto comma = value.find(',', start);
        const auto end = comma == std::string::npos ? value.size() : comma;
        if (end > start) server_sig_algs_.push_back(value.substr(start, end - start));
        start = end + 1;
      }
      server_sig_algs_known_ = true;
      logger()->debug("server accepts signature algorithms: {}", value);
    }
    return {};
  }
  if (state_ == State::WaitServiceAccept) {
    auto accept = transport::ServiceAcceptMessage::decode(payload);
    if (!accept || accept->service != kUserauthService) {
      return protocol_error("expected SERVICE_ACCEPT for ssh-userauth, got " +
                            std::string(wire::message_name(type)));
    }
    return send_request("none", {});
  }
  if (state_ != State::WaitReply) {
    return protocol_error("unexpected " + std::string(wire::message_name(type)) +
                          " during authentication");
  }
  switch (static_cast<MessageNumber>(type)) {
    case MessageNumber::UserauthBanner: {
      auto banner = UserauthBanner::decode(payload);
      if (!banner) return protocol_error("malformed USERAUTH_BANNER");
      callbacks_.banner(banner->message);
      return {};
    }
    case MessageNumber::UserauthSuccess: {
      // A block of its own, as every other case: without it clang 14's ASan
      // saw the logger temporary destroyed after its scope (fuzz_client_auth).
      if (payload.size() != 1) return protocol_error("malformed USERAUTH_SUCCESS");
      state_ = State::Done;
      method_used_ = current_method_;
      logger()->debug("authenticated as {} with {}", config_.user, method_used_);
      return {};
    }
    case MessageNumber::UserauthFailure: {
      auto failure = UserauthFailure::decode(payload);
      if (!failure) return protocol_error("malformed USERAUTH_FAILURE");
      if (current_method_ != "none") {
        logger()->debug("{} was refused{}", current_method_,
                        failure->partial_success ? " (partial success)" : "");
      }
      server_methods_ = failure->methods;
      logger()->debug("server allows: {}", join(server_methods_));
      return try_next_method();
    }
    case MessageNumber::UserauthMethodSpecific60: {
      if (current_method_ == "keyboard-interactive") {
        auto request = UserauthInfoRequest::decode(payload);
        if (!request) return protocol_error("malformed USERAUTH_INFO_REQUEST");
        std::vector<std::string> answers;
        if (!request->prompts.empty()) {
          auto given = callbacks_.keyboard_interactive(*request);
          if (!given) return permission_denied();
          answers = std::move(*given);
        }
        if (answers.size() != request->prompts.size()) {
          return Error{DisconnectReason::AuthCancelledByUser,
                       "wrong number of keyboard-interactive answers"};
        }
        Bytes response;
        wire::Writer writer(response);
        UserauthInfoResponse{std::move(answers)}.encode(writer);
        return send_(response);
      }
      if (current_method_ == "password") {
        logger()->warn("server requires a password change, which is not supported");
        return permission_denied();
      }
      return protocol_error("unexpected message 60 for method " + current_method_);
    }
    default:
      return protocol_error("unexpected " + std::string(wire::message_name(type)) +
                            " during authentication");
  }
}

}  // namespace ssh::auth
