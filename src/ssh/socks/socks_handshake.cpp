#include "ssh/socks/socks_handshake.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>

#include "ssh/limits.hpp"
#include "ssh/wire/reader.hpp"

namespace ssh::socks {
namespace {

constexpr std::uint8_t kSocks4 = 4;
constexpr std::uint8_t kSocks5 = 5;
constexpr std::uint8_t kConnect = 1;
constexpr std::uint8_t kSocks4Granted = 0x5a;
constexpr std::uint8_t kSocks4Rejected = 0x5b;
constexpr std::uint8_t kNoAuthentication = 0x00;
constexpr std::uint8_t kNoAcceptableMethod = 0xff;
constexpr std::uint8_t kAddressIpv4 = 1;
constexpr std::uint8_t kAddressDomain = 3;
constexpr std::uint8_t kAddressIpv6 = 4;
// SOCKS4 user ids and SOCKS4a host names end with a NUL within this.
constexpr std::size_t kMaxNulTerminated = limits::kMaxSocksNulTerminated;

std::uint16_t port_of(ByteView two) {
  return static_cast<std::uint16_t>(two[0] << 8 | two[1]);
}

std::string ipv4_text(ByteView four) {
  char text[16];
  std::snprintf(text, sizeof text, "%u.%u.%u.%u", four[0], four[1], four[2], four[3]);
  return text;
}

// Eight groups, uncompressed ("2001:db8:0:0:0:0:0:1"): every resolver
// takes it, and it is what the SSH server gets as the host to connect to.
std::string ipv6_text(ByteView sixteen) {
  std::string text;
  for (std::size_t i = 0; i < 16; i += 2) {
    char group[6];
    std::snprintf(group, sizeof group, "%x",
                  static_cast<unsigned>(sixteen[i] << 8 | sixteen[i + 1]));
    if (i) text += ':';
    text += group;
  }
  return text;
}

Bytes socks4_reply(std::uint8_t code) {
  return {0x00, code, 0, 0, 0, 0, 0, 0};
}
// The bound address is not ours to tell (the server connected, not us).
Bytes socks5_reply(std::uint8_t code) {
  return {kSocks5, code, 0x00, kAddressIpv4, 0, 0, 0, 0, 0, 0};
}

// A NUL-terminated field at the start of `data`: its length without the
// NUL, or nullopt while the NUL has not arrived (or -1 past the bound).
std::optional<std::ptrdiff_t> nul_terminated_length(ByteView data) {
  const auto bounded = data.first(std::min(data.size(), kMaxNulTerminated));
  const auto nul = std::find(bounded.begin(), bounded.end(), std::uint8_t{0});
  if (nul != bounded.end()) return nul - bounded.begin();
  if (data.size() >= kMaxNulTerminated) return -1;
  return std::nullopt;
}

}  // namespace

Handshake::State Handshake::feed(ByteView data) {
  // The caller stops reading once the handshake is decided; later bytes
  // belong to the channel, not here.
  if (state_ != State::NeedMore) return state_;
  if (input_.size() - consumed_ + data.size() > kMaxHandshakeLength) {
    return fail("the SOCKS handshake is longer than " + std::to_string(kMaxHandshakeLength) +
                " bytes");
  }
  input_.insert(input_.end(), data.begin(), data.end());
  return state_ = advance();
}

Handshake::State Handshake::advance() {
  for (;;) {
    const std::size_t before = consumed_;
    State next = State::NeedMore;
    switch (step_) {
      case Step::Version: {
        if (consumed_ >= input_.size()) return State::NeedMore;
        const std::uint8_t version = input_[consumed_];
        if (version == kSocks4) {
          version_ = 4;
          step_ = Step::Socks4Request;
        } else if (version == kSocks5) {
          version_ = 5;
          step_ = Step::Socks5Methods;
        } else {
          return fail("not a SOCKS4 or SOCKS5 client (first byte " + std::to_string(version) + ")");
        }
        continue;
      }
      case Step::Socks4Request:
        next = parse_socks4();
        break;
      case Step::Socks5Methods:
        next = parse_socks5_methods();
        break;
      case Step::Socks5Request:
        next = parse_socks5_request();
        break;
      case Step::Done:
        return State::Ready;
    }
    if (next != State::NeedMore || consumed_ == before) return next;
  }
}

Handshake::State Handshake::parse_socks4() {
  const ByteView rest = ByteView(input_).subspan(consumed_);
  wire::Reader reader(rest);
  reader.u8();  // version
  const std::uint8_t command = reader.u8();
  const ByteView port = reader.raw(2);
  const ByteView address = reader.raw(4);
  if (!reader.ok()) return State::NeedMore;
  std::size_t offset = 8;
  const auto user_length = nul_terminated_length(rest.subspan(offset));
  if (!user_length) return State::NeedMore;
  if (*user_length < 0) return fail("SOCKS4 user id too long", socks4_reply(kSocks4Rejected));
  offset += static_cast<std::size_t>(*user_length) + 1;

  // SOCKS4a: 0.0.0.x (x != 0) says "the host name follows the user id".
  const bool by_name = address[0] == 0 && address[1] == 0 && address[2] == 0 && address[3] != 0;
  std::string host;
  if (by_name) {
    const auto name_length = nul_terminated_length(rest.subspan(offset));
    if (!name_length) return State::NeedMore;
    if (*name_length <= 0) {
      return fail("SOCKS4a host name empty or too long", socks4_reply(kSocks4Rejected));
    }
    const auto name = rest.subspan(offset, static_cast<std::size_t>(*name_length));
    host.assign(name.begin(), name.end());
    offset += static_cast<std::size_t>(*name_length) + 1;
  } else {
    host = ipv4_text(address);
  }
  consumed_ += offset;
  if (command != kConnect) {
    return fail("SOCKS4 command " + std::to_string(command) + " is not supported (only CONNECT)",
                socks4_reply(kSocks4Rejected));
  }
  host_ = std::move(host);
  port_ = port_of(port);
  step_ = Step::Done;
  return State::Ready;
}

Handshake::State Handshake::parse_socks5_methods() {
  wire::Reader reader(ByteView(input_).subspan(consumed_));
  reader.u8();  // version
  const std::uint8_t count = reader.u8();
  const ByteView methods = reader.raw(count);
  if (!reader.ok()) return State::NeedMore;
  consumed_ += 2 + count;
  if (std::find(methods.begin(), methods.end(), kNoAuthentication) == methods.end()) {
    return fail("the SOCKS5 client does not offer \"no authentication\"",
                Bytes{kSocks5, kNoAcceptableMethod});
  }
  output_.insert(output_.end(), {kSocks5, kNoAuthentication});
  step_ = Step::Socks5Request;
  return State::NeedMore;
}

Handshake::State Handshake::parse_socks5_request() {
  const ByteView rest = ByteView(input_).subspan(consumed_);
  wire::Reader reader(rest);
  const std::uint8_t version = reader.u8();
  const std::uint8_t command = reader.u8();
  reader.u8();  // reserved
  const std::uint8_t address_type = reader.u8();
  if (!reader.ok()) return State::NeedMore;
  if (version != kSocks5) {
    return fail("SOCKS5 request with version " + std::to_string(version),
                socks5_reply(kGeneralFailure));
  }
  std::string host;
  switch (address_type) {
    case kAddressIpv4: {
      const ByteView address = reader.raw(4);
      if (!reader.ok()) return State::NeedMore;
      host = ipv4_text(address);
      break;
    }
    case kAddressIpv6: {
      const ByteView address = reader.raw(16);
      if (!reader.ok()) return State::NeedMore;
      host = ipv6_text(address);
      break;
    }
    case kAddressDomain: {
      const std::uint8_t length = reader.u8();
      const ByteView name = reader.raw(length);
      if (!reader.ok()) return State::NeedMore;
      if (length == 0 || std::find(name.begin(), name.end(), std::uint8_t{0}) != name.end()) {
        return fail("SOCKS5 host name empty or with a NUL byte", socks5_reply(kGeneralFailure));
      }
      host.assign(name.begin(), name.end());
      break;
    }
    default:
      return fail("SOCKS5 address type " + std::to_string(address_type) + " is not supported",
                  socks5_reply(kAddressTypeNotSupported));
  }
  const ByteView port = reader.raw(2);
  if (!reader.ok()) return State::NeedMore;
  consumed_ += rest.size() - reader.remaining();
  if (command != kConnect) {
    return fail("SOCKS5 command " + std::to_string(command) + " is not supported (only CONNECT)",
                socks5_reply(kCommandNotSupported));
  }
  host_ = std::move(host);
  port_ = port_of(port);
  step_ = Step::Done;
  return State::Ready;
}

Handshake::State Handshake::fail(std::string why, Bytes refusal) {
  error_ = std::move(why);
  output_.insert(output_.end(), refusal.begin(), refusal.end());
  step_ = Step::Done;
  return state_ = State::Failed;
}

Bytes Handshake::take_output() {
  return std::exchange(output_, {});
}

ByteView Handshake::early_data() const {
  if (state_ != State::Ready) return {};
  return ByteView(input_).subspan(consumed_);
}

void Handshake::reply(bool granted, std::uint8_t refusal) {
  if (state_ != State::Ready) return;
  Bytes message = version_ == 4 ? socks4_reply(granted ? kSocks4Granted : kSocks4Rejected)
                                : socks5_reply(granted ? 0x00 : refusal);
  output_.insert(output_.end(), message.begin(), message.end());
  if (!granted) {
    error_ = "refused";
    state_ = State::Failed;
  }
}

}  // namespace ssh::socks
