// Transport-layer messages (RFC 4253, RFC 5656, RFC 8308) as structs, each
// with encode() into a payload and decode() from one. decode() takes the
// whole payload, message number included, and refuses trailing bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/wire/message_numbers.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::transport {

struct DisconnectMessage {
  std::uint32_t reason = 0;
  std::string description;
  std::string language;
  void encode(wire::Writer& out) const;
  static std::optional<DisconnectMessage> decode(ByteView payload);
};

struct IgnoreMessage {
  Bytes data;
  void encode(wire::Writer& out) const;
};

struct UnimplementedMessage {
  std::uint32_t sequence = 0;
  void encode(wire::Writer& out) const;
  static std::optional<UnimplementedMessage> decode(ByteView payload);
};

struct DebugMessage {
  bool always_display = false;
  std::string message;
  std::string language;
  static std::optional<DebugMessage> decode(ByteView payload);
};

struct ServiceRequestMessage {
  std::string service;
  void encode(wire::Writer& out) const;
  static std::optional<ServiceRequestMessage> decode(ByteView payload);
};

struct ServiceAcceptMessage {
  std::string service;
  void encode(wire::Writer& out) const;
  static std::optional<ServiceAcceptMessage> decode(ByteView payload);
};

// RFC 8308: a list of (name, value) pairs; values are opaque bytes.
struct ExtInfoMessage {
  std::vector<std::pair<std::string, std::string>> extensions;
  void encode(wire::Writer& out) const;
  static std::optional<ExtInfoMessage> decode(ByteView payload);
};

struct KexInitMessage {
  std::array<std::uint8_t, 16> cookie{};
  std::vector<std::string> kex_algorithms;
  std::vector<std::string> server_host_key_algorithms;
  std::vector<std::string> ciphers_client_to_server;
  std::vector<std::string> ciphers_server_to_client;
  std::vector<std::string> macs_client_to_server;
  std::vector<std::string> macs_server_to_client;
  std::vector<std::string> compression_client_to_server;
  std::vector<std::string> compression_server_to_client;
  std::vector<std::string> languages_client_to_server;
  std::vector<std::string> languages_server_to_client;
  bool first_kex_packet_follows = false;
  std::uint32_t reserved = 0;
  void encode(wire::Writer& out) const;
  static std::optional<KexInitMessage> decode(ByteView payload);
};

// KEX_ECDH_INIT / KEXDH_INIT: the client's ephemeral public value. For the
// finite-field groups the value is an mpint, which on the wire is a string
// of its two's-complement bytes, so one struct serves both.
struct KexEcdhInitMessage {
  Bytes client_public;
  void encode(wire::Writer& out) const;
  static std::optional<KexEcdhInitMessage> decode(ByteView payload);
};

struct KexEcdhReplyMessage {
  Bytes host_key;
  Bytes server_public;
  Bytes signature;
  void encode(wire::Writer& out) const;
  static std::optional<KexEcdhReplyMessage> decode(ByteView payload);
};

// Encodes a message struct into a fresh payload.
template <class Message>
Bytes encode_payload(const Message& message) {
  Bytes payload;
  wire::Writer writer(payload);
  message.encode(writer);
  return payload;
}

}  // namespace ssh::transport
