// The control protocol between a connection-sharing master and its clients
// (docs/connection-sharing.md): length-prefixed messages in the SSH wire
// encoding. Sans-I/O: this only encodes and decodes; the asio layer
// (ssh/asio/control_master, control_client) moves the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/config/forward_spec.hpp"
#include "ssh/limits.hpp"

namespace ssh::control {

inline constexpr std::uint32_t kProtocolVersion = 1;
// Bodies above this are refused before anything is allocated for them.
inline constexpr std::size_t kMaxMessageSize = limits::kMaxControlMessageSize;
// Senders split stdin/stdout/stderr into chunks of at most this much.
inline constexpr std::size_t kMaxDataChunk = limits::kMaxControlDataChunk;
inline constexpr std::size_t kMaxEnvironment = limits::kMaxControlEnvironment;
inline constexpr std::size_t kLengthPrefixSize = 4;

struct Hello {
  std::uint32_t version = kProtocolVersion;
  bool operator==(const Hello&) const = default;
};
struct Check {
  bool operator==(const Check&) const = default;
};
struct ExitMaster {
  bool operator==(const ExitMaster&) const = default;
};
// FORWARD and CANCEL: the -L/-R/-D text without the flag.
struct Forward {
  config::ForwardKind kind = config::ForwardKind::Local;
  std::string spec;
  bool operator==(const Forward&) const = default;
};
struct CancelForward {
  config::ForwardKind kind = config::ForwardKind::Local;
  std::string spec;
  bool operator==(const CancelForward&) const = default;
};
struct OpenSession {
  std::string command;  // empty: a shell
  bool want_pty = false;
  std::string term;
  std::uint32_t columns = 0;
  std::uint32_t rows = 0;
  std::uint32_t width_pixels = 0;
  std::uint32_t height_pixels = 0;
  Bytes terminal_modes;  // RFC 4254 section 8 encoding
  std::vector<std::pair<std::string, std::string>> environment;
  bool operator==(const OpenSession&) const = default;
};
struct Ok {
  std::string detail;
  bool operator==(const Ok&) const = default;
};
struct Failure {
  std::string message;
  bool operator==(const Failure&) const = default;
};
struct Alive {
  std::uint32_t master_pid = 0;
  bool operator==(const Alive&) const = default;
};
struct SessionOpened {
  bool operator==(const SessionOpened&) const = default;
};
// Client: stdin. Master: the channel's data (stdout).
struct Data {
  Bytes bytes;
  bool operator==(const Data&) const = default;
};
struct Stderr {
  Bytes bytes;
  bool operator==(const Stderr&) const = default;
};
struct Eof {
  bool operator==(const Eof&) const = default;
};
struct WindowChange {
  std::uint32_t columns = 0;
  std::uint32_t rows = 0;
  std::uint32_t width_pixels = 0;
  std::uint32_t height_pixels = 0;
  bool operator==(const WindowChange&) const = default;
};
struct Signal {
  std::string name;  // without "SIG"
  bool operator==(const Signal&) const = default;
};
struct ExitStatus {
  std::uint32_t status = 0;
  bool operator==(const ExitStatus&) const = default;
};
struct ExitSignal {
  std::string name;
  bool core_dumped = false;
  std::string message;
  bool operator==(const ExitSignal&) const = default;
};
struct Closed {
  bool operator==(const Closed&) const = default;
};

using Message = std::variant<Hello, Check, ExitMaster, Forward, CancelForward, OpenSession, Ok,
                             Failure, Alive, SessionOpened, Data, Stderr, Eof, WindowChange, Signal,
                             ExitStatus, ExitSignal, Closed>;

// The whole frame: length prefix and body.
Bytes encode(const Message& message);

// The body's length from the 4-byte prefix; refused when 0 or above
// kMaxMessageSize.
Result<std::size_t> decode_length(ByteView prefix);

// One body (without the prefix). Unknown types, truncated bodies and bytes
// left over are refused.
Result<Message> decode_body(ByteView body);

// Frames from a byte stream that arrives in arbitrary pieces: feed() what
// was read, then take next() until it yields nothing. An error is final.
class FrameDecoder {
 public:
  void feed(ByteView bytes);
  // A message, nullopt when more bytes are needed, or why the stream is bad.
  Result<std::optional<Message>> next();
  // Bytes held that are not a complete frame yet.
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  Bytes buffer_;
  std::size_t consumed_ = 0;
  bool failed_ = false;
};

}  // namespace ssh::control
