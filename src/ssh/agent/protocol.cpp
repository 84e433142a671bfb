#include "ssh/agent/protocol.hpp"

#include "ssh/wire/reader.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::agent {
namespace {

constexpr std::uint8_t number(MessageNumber value) {
  return static_cast<std::uint8_t>(value);
}

Error agent_error(std::string message) {
  return Error{DisconnectReason::ByApplication, "agent: " + std::move(message)};
}

// Failure replies are not malformed: they are the agent saying no.
std::optional<Error> refusal(ByteView message) {
  if (message.size() == 1 && (message[0] == number(MessageNumber::Failure) ||
                              message[0] == number(MessageNumber::ExtensionFailure))) {
    return agent_error("the agent refused the request");
  }
  return std::nullopt;
}

}  // namespace

std::uint32_t sign_flags_for(std::string_view signature_algorithm) {
  if (signature_algorithm == "rsa-sha2-256") return kSignFlagRsaSha2_256;
  if (signature_algorithm == "rsa-sha2-512") return kSignFlagRsaSha2_512;
  return 0;
}

Bytes frame(ByteView message) {
  Bytes framed;
  wire::Writer writer(framed);
  writer.string(message);
  return framed;
}

Bytes encode_request_identities() {
  const std::uint8_t body[] = {number(MessageNumber::RequestIdentities)};
  return frame(body);
}

Bytes encode_sign_request(ByteView key_blob, ByteView data, std::uint32_t flags) {
  Bytes body;
  wire::Writer writer(body);
  writer.u8(number(MessageNumber::SignRequest));
  writer.string(key_blob);
  writer.string(data);
  writer.u32(flags);
  return frame(body);
}

Result<std::optional<std::size_t>> message_length(ByteView buffered) {
  if (buffered.size() < 4) return std::optional<std::size_t>{};
  wire::Reader reader(buffered.first(4));
  const std::uint32_t length = reader.u32();
  if (length == 0) return agent_error("empty message");
  if (length > kMaxMessageLength) {
    return agent_error("message of " + std::to_string(length) + " bytes exceeds the limit of " +
                       std::to_string(kMaxMessageLength));
  }
  return std::optional<std::size_t>{length};
}

Result<std::vector<AgentIdentity>> decode_identities_answer(ByteView message) {
  if (auto refused = refusal(message)) return *refused;
  wire::Reader reader(message);
  if (reader.u8() != number(MessageNumber::IdentitiesAnswer)) {
    return agent_error("unexpected reply to the identities request");
  }
  const std::uint32_t count = reader.u32();
  if (!reader.ok()) return agent_error("malformed identities answer");
  if (count > kMaxIdentities) {
    return agent_error("too many identities (" + std::to_string(count) + ")");
  }
  // Each identity takes at least 8 bytes; checked before reserving.
  if (count > reader.remaining() / 8) return agent_error("malformed identities answer");
  std::vector<AgentIdentity> identities;
  identities.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const ByteView blob = reader.string();
    const std::string_view comment = reader.text();
    if (!reader.ok()) return agent_error("malformed identities answer");
    identities.push_back({to_bytes(blob), std::string(comment)});
  }
  if (!reader.finished()) return agent_error("trailing bytes after the identities answer");
  return identities;
}

Result<Bytes> decode_sign_response(ByteView message) {
  if (auto refused = refusal(message)) return *refused;
  wire::Reader reader(message);
  if (reader.u8() != number(MessageNumber::SignResponse)) {
    return agent_error("unexpected reply to the sign request");
  }
  const ByteView signature = reader.string();
  if (!reader.finished() || signature.empty()) return agent_error("malformed sign response");
  return to_bytes(signature);
}

Bytes encode_identities_answer(const std::vector<AgentIdentity>& identities) {
  Bytes body;
  wire::Writer writer(body);
  writer.u8(number(MessageNumber::IdentitiesAnswer));
  writer.u32(static_cast<std::uint32_t>(identities.size()));
  for (const auto& identity : identities) {
    writer.string(identity.key_blob);
    writer.string(identity.comment);
  }
  return body;
}

Bytes encode_sign_response(ByteView signature_blob) {
  Bytes body;
  wire::Writer writer(body);
  writer.u8(number(MessageNumber::SignResponse));
  writer.string(signature_blob);
  return body;
}

}  // namespace ssh::agent
