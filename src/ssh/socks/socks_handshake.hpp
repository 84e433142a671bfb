// The server side of a SOCKS handshake, for dynamic forwarding (`-D`): a
// local program connects, names where it wants to go, and the forwarder
// opens a direct-tcpip channel there.
//
// Sans-I/O: feed() takes the client's bytes as they arrive; output() holds
// what to send back (the SOCKS5 method choice, then the request's reply
// once the caller knows whether the channel opened). Versions:
//   SOCKS4  (connect to an IPv4 address),
//   SOCKS4a (connect to a host name: address 0.0.0.x, name after the user),
//   SOCKS5  (RFC 1928: "no authentication" only; CONNECT to an IPv4 or IPv6
//            address or a domain name).
// The client is hostile: every field is bounded, and anything else (BIND,
// UDP ASSOCIATE, username/password only, other versions) fails with the
// protocol's own refusal in output() and a reason in error().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "ssh/common.hpp"
#include "ssh/limits.hpp"

namespace ssh::socks {

// Longest handshake accepted (a SOCKS4a request with a 255-byte user and
// a 255-byte host name fits): anything longer is refused, not buffered.
inline constexpr std::size_t kMaxHandshakeLength = limits::kMaxSocksHandshakeLength;

class Handshake {
 public:
  enum class State {
    NeedMore,  // feed more bytes (first send output(), if any)
    Ready,     // target() is known: open the channel, then reply()
    Failed,    // error() says why; send output() and close
  };

  // Takes the client's bytes while state() is NeedMore (later calls do
  // nothing: stop reading once it is decided). Bytes after the request (a
  // client that sends its payload without waiting for the reply) are kept
  // in early_data().
  State feed(ByteView data);
  State state() const { return state_; }

  // Bytes for the client, to be sent before anything else; take_output()
  // hands them out once.
  Bytes take_output();

  // With state() == Ready: where the client wants to go. host is an IPv4
  // or IPv6 address in text form, or the name the client gave.
  const std::string& host() const { return host_; }
  std::uint16_t port() const { return port_; }
  int version() const { return version_; }
  // What the client sent after its request.
  ByteView early_data() const;

  // After Ready: queues the reply to the request in output(): granted, or
  // refused (the connection is then to be closed once output() is sent).
  // `refusal` is SOCKS5's reply code (see RFC 1928 section 6); SOCKS4 only
  // knows "rejected".
  void reply(bool granted, std::uint8_t refusal = kGeneralFailure);

  const std::string& error() const { return error_; }

  // SOCKS5 reply codes.
  static constexpr std::uint8_t kGeneralFailure = 0x01;
  static constexpr std::uint8_t kNotAllowed = 0x02;
  static constexpr std::uint8_t kHostUnreachable = 0x04;
  static constexpr std::uint8_t kConnectionRefused = 0x05;
  static constexpr std::uint8_t kCommandNotSupported = 0x07;
  static constexpr std::uint8_t kAddressTypeNotSupported = 0x08;

 private:
  enum class Step { Version, Socks4Request, Socks5Methods, Socks5Request, Done };

  State advance();
  State parse_socks4();
  State parse_socks5_methods();
  State parse_socks5_request();
  State fail(std::string why, Bytes refusal = {});

  Step step_ = Step::Version;
  State state_ = State::NeedMore;
  Bytes input_;
  std::size_t consumed_ = 0;
  Bytes output_;
  std::string host_;
  std::uint16_t port_ = 0;
  int version_ = 0;
  std::string error_;
};

}  // namespace ssh::socks
