#include "ssh/auth/messages.hpp"

#include "ssh/limits.hpp"
#include "ssh/wire/decode.hpp"
#include "ssh/wire/message_numbers.hpp"
#include "ssh/wire/reader.hpp"

namespace ssh::auth {
namespace {

using wire::finish;
using wire::MessageNumber;
using wire::open_payload;

}  // namespace

void UserauthRequest::encode(wire::Writer& out) const {
  out.u8(wire::number(MessageNumber::UserauthRequest));
  out.string(user);
  out.string(service);
  out.string(method);
  out.raw(method_data);
}

std::optional<UserauthRequest> UserauthRequest::decode(ByteView payload) {
  auto reader = open_payload(payload, MessageNumber::UserauthRequest);
  UserauthRequest message;
  message.user = std::string(reader.text());
  message.service = std::string(reader.text());
  message.method = std::string(reader.text());
  message.method_data = to_bytes(reader.rest());
  if (!reader.ok()) return std::nullopt;
  return message;
}

Bytes PublickeyRequestData::encode() const {
  Bytes data;
  wire::Writer out(data);
  out.boolean(has_signature);
  out.string(algorithm);
  out.string(ByteView(public_key));
  if (has_signature) out.string(ByteView(signature));
  return data;
}

std::optional<PublickeyRequestData> PublickeyRequestData::decode(ByteView data) {
  wire::Reader reader(data);
  PublickeyRequestData message;
  message.has_signature = reader.boolean();
  message.algorithm = std::string(reader.text());
  message.public_key = to_bytes(reader.string());
  if (message.has_signature) message.signature = to_bytes(reader.string());
  return finish(reader, std::move(message));
}

Bytes publickey_signed_data(ByteView session_id, std::string_view user, std::string_view service,
                            std::string_view algorithm, ByteView public_key) {
  Bytes data;
  wire::Writer out(data);
  out.string(session_id);
  out.u8(wire::number(MessageNumber::UserauthRequest));
  out.string(user);
  out.string(service);
  out.string("publickey");
  out.boolean(true);
  out.string(algorithm);
  out.string(public_key);
  return data;
}

void UserauthFailure::encode(wire::Writer& out) const {
  out.u8(wire::number(MessageNumber::UserauthFailure));
  out.name_list(methods);
  out.boolean(partial_success);
}

std::optional<UserauthFailure> UserauthFailure::decode(ByteView payload) {
  auto reader = open_payload(payload, MessageNumber::UserauthFailure);
  UserauthFailure message;
  message.methods = reader.name_list();
  message.partial_success = reader.boolean();
  return finish(reader, std::move(message));
}

void UserauthBanner::encode(wire::Writer& out) const {
  out.u8(wire::number(MessageNumber::UserauthBanner));
  out.string(message);
  out.string(language);
}

std::optional<UserauthBanner> UserauthBanner::decode(ByteView payload) {
  auto reader = open_payload(payload, MessageNumber::UserauthBanner);
  UserauthBanner message;
  message.message = std::string(reader.text());
  if (reader.remaining() > 0) message.language = std::string(reader.text());
  return finish(reader, std::move(message));
}

void UserauthPkOk::encode(wire::Writer& out) const {
  out.u8(wire::number(MessageNumber::UserauthMethodSpecific60));
  out.string(algorithm);
  out.string(ByteView(public_key));
}

std::optional<UserauthPkOk> UserauthPkOk::decode(ByteView payload) {
  auto reader = open_payload(payload, MessageNumber::UserauthMethodSpecific60);
  UserauthPkOk message;
  message.algorithm = std::string(reader.text());
  message.public_key = to_bytes(reader.string());
  return finish(reader, std::move(message));
}

void UserauthInfoRequest::encode(wire::Writer& out) const {
  out.u8(wire::number(MessageNumber::UserauthMethodSpecific60));
  out.string(name);
  out.string(instruction);
  out.string(language);
  out.u32(static_cast<std::uint32_t>(prompts.size()));
  for (const auto& prompt : prompts) {
    out.string(prompt.text);
    out.boolean(prompt.echo);
  }
}

std::optional<UserauthInfoRequest> UserauthInfoRequest::decode(ByteView payload) {
  auto reader = open_payload(payload, MessageNumber::UserauthMethodSpecific60);
  UserauthInfoRequest message;
  message.name = std::string(reader.text());
  message.instruction = std::string(reader.text());
  message.language = std::string(reader.text());
  const std::uint32_t count = reader.u32();
  if (count > limits::kMaxKeyboardInteractivePrompts) return std::nullopt;
  for (std::uint32_t i = 0; i < count && reader.ok(); ++i) {
    Prompt prompt;
    prompt.text = std::string(reader.text());
    prompt.echo = reader.boolean();
    message.prompts.push_back(std::move(prompt));
  }
  return finish(reader, std::move(message));
}

void UserauthInfoResponse::encode(wire::Writer& out) const {
  out.u8(wire::number(MessageNumber::UserauthInfoResponse));
  out.u32(static_cast<std::uint32_t>(responses.size()));
  for (const auto& response : responses) out.string(response);
}

std::optional<UserauthInfoResponse> UserauthInfoResponse::decode(ByteView payload) {
  auto reader = open_payload(payload, MessageNumber::UserauthInfoResponse);
  const std::uint32_t count = reader.u32();
  if (count > limits::kMaxKeyboardInteractivePrompts) return std::nullopt;
  UserauthInfoResponse message;
  for (std::uint32_t i = 0; i < count && reader.ok(); ++i) {
    message.responses.emplace_back(reader.text());
  }
  return finish(reader, std::move(message));
}

}  // namespace ssh::auth
