// SSH message numbers (RFC 4250 section 4.1, RFC 8308).
#pragma once

#include <cstdint>
#include <string_view>

namespace ssh::wire {

enum class MessageNumber : std::uint8_t {
  Disconnect = 1,
  Ignore = 2,
  Unimplemented = 3,
  Debug = 4,
  ServiceRequest = 5,
  ServiceAccept = 6,
  ExtInfo = 7,
  KexInit = 20,
  NewKeys = 21,
  // Key-exchange-method specific range 30-49. ECDH, curve25519 and the fixed
  // finite-field groups all use 30 (init) and 31 (reply).
  KexEcdhInit = 30,
  KexEcdhReply = 31,
  UserauthRequest = 50,
  UserauthFailure = 51,
  UserauthSuccess = 52,
  UserauthBanner = 53,
  // Method specific 60-79: PK_OK (publickey), PASSWD_CHANGEREQ (password),
  // INFO_REQUEST (keyboard-interactive) all share 60.
  UserauthMethodSpecific60 = 60,
  UserauthInfoResponse = 61,
  GlobalRequest = 80,
  RequestSuccess = 81,
  RequestFailure = 82,
  ChannelOpen = 90,
  ChannelOpenConfirmation = 91,
  ChannelOpenFailure = 92,
  ChannelWindowAdjust = 93,
  ChannelData = 94,
  ChannelExtendedData = 95,
  ChannelEof = 96,
  ChannelClose = 97,
  ChannelRequest = 98,
  ChannelSuccess = 99,
  ChannelFailure = 100,
};

constexpr std::uint8_t number(MessageNumber message) {
  return static_cast<std::uint8_t>(message);
}

// Message classes by number range (RFC 4251 section 7).
constexpr bool is_transport_generic(std::uint8_t n) {
  return n >= 1 && n <= 19;
}
constexpr bool is_kex_message(std::uint8_t n) {
  return n >= 20 && n <= 49;
}
constexpr bool is_userauth_message(std::uint8_t n) {
  return n >= 50 && n <= 79;
}
constexpr bool is_connection_message(std::uint8_t n) {
  return n >= 80 && n <= 127;
}

std::string_view message_name(std::uint8_t n);

}  // namespace ssh::wire
