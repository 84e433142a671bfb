#include "ssh/transport/messages.hpp"

#include <algorithm>

#include "ssh/wire/decode.hpp"
#include "ssh/wire/reader.hpp"

namespace ssh::transport {
namespace {

using wire::finish;
using wire::MessageNumber;
using wire::open_payload;

}  // namespace

void DisconnectMessage::encode(wire::Writer& out) const {
  out.u8(wire::number(MessageNumber::Disconnect));
  out.u32(reason);
  out.string(description);
  out.string(language);
}

std::optional<DisconnectMessage> DisconnectMessage::decode(ByteView payload) {
  auto reader = open_payload(payload, MessageNumber::Disconnect);
  DisconnectMessage message;
  message.reason = reader.u32();
  message.description = std::string(reader.text());
  // Some implementations omit the language tag; accept that.
  if (reader.remaining() > 0) message.language = std::string(reader.text());
  return finish(reader, std::move(message));
}

void IgnoreMessage::encode(wire::Writer& out) const {
  out.u8(wire::number(MessageNumber::Ignore));
  out.string(ByteView(data));
}

void UnimplementedMessage::encode(wire::Writer& out) const {
  out.u8(wire::number(MessageNumber::Unimplemented));
  out.u32(sequence);
}

std::optional<UnimplementedMessage> UnimplementedMessage::decode(ByteView payload) {
  auto reader = open_payload(payload, MessageNumber::Unimplemented);
  UnimplementedMessage message;
  message.sequence = reader.u32();
  return finish(reader, message);
}

std::optional<DebugMessage> DebugMessage::decode(ByteView payload) {
  auto reader = open_payload(payload, MessageNumber::Debug);
  DebugMessage message;
  message.always_display = reader.boolean();
  message.message = std::string(reader.text());
  if (reader.remaining() > 0) message.language = std::string(reader.text());
  return finish(reader, std::move(message));
}

void ServiceRequestMessage::encode(wire::Writer& out) const {
  out.u8(wire::number(MessageNumber::ServiceRequest));
  out.string(service);
}

std::optional<ServiceRequestMessage> ServiceRequestMessage::decode(ByteView payload) {
  auto reader = open_payload(payload, MessageNumber::ServiceRequest);
  ServiceRequestMessage message;
  message.service = std::string(reader.text());
  return finish(reader, std::move(message));
}

void ServiceAcceptMessage::encode(wire::Writer& out) const {
  out.u8(wire::number(MessageNumber::ServiceAccept));
  out.string(service);
}

std::optional<ServiceAcceptMessage> ServiceAcceptMessage::decode(ByteView payload) {
  auto reader = open_payload(payload, MessageNumber::ServiceAccept);
  ServiceAcceptMessage message;
  message.service = std::string(reader.text());
  return finish(reader, std::move(message));
}

void ExtInfoMessage::encode(wire::Writer& out) const {
  out.u8(wire::number(MessageNumber::ExtInfo));
  out.u32(static_cast<std::uint32_t>(extensions.size()));
  for (const auto& [name, value] : extensions) {
    out.string(name);
    out.string(value);
  }
}

std::optional<ExtInfoMessage> ExtInfoMessage::decode(ByteView payload) {
  auto reader = open_payload(payload, MessageNumber::ExtInfo);
  const std::uint32_t count = reader.u32();
  ExtInfoMessage message;
  // Each extension takes at least 8 bytes; refuse counts the payload cannot hold.
  if (count > reader.remaining() / 8) return std::nullopt;
  for (std::uint32_t i = 0; i < count && reader.ok(); ++i) {
    std::string name(reader.text());
    std::string value(reader.text());
    message.extensions.emplace_back(std::move(name), std::move(value));
  }
  return finish(reader, std::move(message));
}

void KexInitMessage::encode(wire::Writer& out) const {
  out.u8(wire::number(MessageNumber::KexInit));
  out.raw(cookie);
  out.name_list(kex_algorithms);
  out.name_list(server_host_key_algorithms);
  out.name_list(ciphers_client_to_server);
  out.name_list(ciphers_server_to_client);
  out.name_list(macs_client_to_server);
  out.name_list(macs_server_to_client);
  out.name_list(compression_client_to_server);
  out.name_list(compression_server_to_client);
  out.name_list(languages_client_to_server);
  out.name_list(languages_server_to_client);
  out.boolean(first_kex_packet_follows);
  out.u32(reserved);
}

std::optional<KexInitMessage> KexInitMessage::decode(ByteView payload) {
  auto reader = open_payload(payload, MessageNumber::KexInit);
  KexInitMessage message;
  auto cookie = reader.raw(16);
  if (reader.ok()) std::copy(cookie.begin(), cookie.end(), message.cookie.begin());
  message.kex_algorithms = reader.name_list();
  message.server_host_key_algorithms = reader.name_list();
  message.ciphers_client_to_server = reader.name_list();
  message.ciphers_server_to_client = reader.name_list();
  message.macs_client_to_server = reader.name_list();
  message.macs_server_to_client = reader.name_list();
  message.compression_client_to_server = reader.name_list();
  message.compression_server_to_client = reader.name_list();
  message.languages_client_to_server = reader.name_list();
  message.languages_server_to_client = reader.name_list();
  message.first_kex_packet_follows = reader.boolean();
  message.reserved = reader.u32();
  return finish(reader, std::move(message));
}

void KexEcdhInitMessage::encode(wire::Writer& out) const {
  out.u8(wire::number(MessageNumber::KexEcdhInit));
  out.string(ByteView(client_public));
}

std::optional<KexEcdhInitMessage> KexEcdhInitMessage::decode(ByteView payload) {
  auto reader = open_payload(payload, MessageNumber::KexEcdhInit);
  KexEcdhInitMessage message;
  message.client_public = to_bytes(reader.string());
  return finish(reader, std::move(message));
}

void KexEcdhReplyMessage::encode(wire::Writer& out) const {
  out.u8(wire::number(MessageNumber::KexEcdhReply));
  out.string(ByteView(host_key));
  out.string(ByteView(server_public));
  out.string(ByteView(signature));
}

std::optional<KexEcdhReplyMessage> KexEcdhReplyMessage::decode(ByteView payload) {
  auto reader = open_payload(payload, MessageNumber::KexEcdhReply);
  KexEcdhReplyMessage message;
  message.host_key = to_bytes(reader.string());
  message.server_public = to_bytes(reader.string());
  message.signature = to_bytes(reader.string());
  return finish(reader, std::move(message));
}

}  // namespace ssh::transport
