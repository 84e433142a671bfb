#include "ssh/control/protocol.hpp"

#include <type_traits>

#include "ssh/wire/reader.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::control {
namespace {

// The type byte of each message, in the order of the Message variant.
enum class Type : std::uint8_t {
  Hello = 1,
  Check = 2,
  ExitMaster = 3,
  Forward = 4,
  CancelForward = 5,
  OpenSession = 6,
  Ok = 20,
  Failure = 21,
  Alive = 22,
  SessionOpened = 23,
  Data = 30,
  Stderr = 31,
  Eof = 32,
  WindowChange = 33,
  Signal = 34,
  ExitStatus = 35,
  ExitSignal = 36,
  Closed = 37,
};

Error control_error(std::string message) {
  return protocol_error("control protocol: " + std::move(message));
}

std::uint8_t kind_byte(config::ForwardKind kind) {
  switch (kind) {
    case config::ForwardKind::Local:
      return 0;
    case config::ForwardKind::Remote:
      return 1;
    case config::ForwardKind::Dynamic:
      return 2;
  }
  return 0;
}

std::optional<config::ForwardKind> kind_from_byte(std::uint8_t value) {
  switch (value) {
    case 0:
      return config::ForwardKind::Local;
    case 1:
      return config::ForwardKind::Remote;
    case 2:
      return config::ForwardKind::Dynamic;
    default:
      return std::nullopt;
  }
}

void encode_body(wire::Writer& out, const Message& message) {
  std::visit(
      [&](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, Hello>) {
          out.u8(static_cast<std::uint8_t>(Type::Hello));
          out.u32(m.version);
        } else if constexpr (std::is_same_v<M, Check>) {
          out.u8(static_cast<std::uint8_t>(Type::Check));
        } else if constexpr (std::is_same_v<M, ExitMaster>) {
          out.u8(static_cast<std::uint8_t>(Type::ExitMaster));
        } else if constexpr (std::is_same_v<M, Forward> || std::is_same_v<M, CancelForward>) {
          out.u8(static_cast<std::uint8_t>(std::is_same_v<M, Forward> ? Type::Forward
                                                                      : Type::CancelForward));
          out.u8(kind_byte(m.kind));
          out.string(m.spec);
        } else if constexpr (std::is_same_v<M, OpenSession>) {
          out.u8(static_cast<std::uint8_t>(Type::OpenSession));
          out.string(m.command);
          out.boolean(m.want_pty);
          out.string(m.term);
          out.u32(m.columns);
          out.u32(m.rows);
          out.u32(m.width_pixels);
          out.u32(m.height_pixels);
          out.string(ByteView(m.terminal_modes));
          out.u32(static_cast<std::uint32_t>(m.environment.size()));
          for (const auto& [name, value] : m.environment) {
            out.string(name);
            out.string(value);
          }
        } else if constexpr (std::is_same_v<M, Ok>) {
          out.u8(static_cast<std::uint8_t>(Type::Ok));
          out.string(m.detail);
        } else if constexpr (std::is_same_v<M, Failure>) {
          out.u8(static_cast<std::uint8_t>(Type::Failure));
          out.string(m.message);
        } else if constexpr (std::is_same_v<M, Alive>) {
          out.u8(static_cast<std::uint8_t>(Type::Alive));
          out.u32(m.master_pid);
        } else if constexpr (std::is_same_v<M, SessionOpened>) {
          out.u8(static_cast<std::uint8_t>(Type::SessionOpened));
        } else if constexpr (std::is_same_v<M, Data>) {
          out.u8(static_cast<std::uint8_t>(Type::Data));
          out.string(ByteView(m.bytes));
        } else if constexpr (std::is_same_v<M, Stderr>) {
          out.u8(static_cast<std::uint8_t>(Type::Stderr));
          out.string(ByteView(m.bytes));
        } else if constexpr (std::is_same_v<M, Eof>) {
          out.u8(static_cast<std::uint8_t>(Type::Eof));
        } else if constexpr (std::is_same_v<M, WindowChange>) {
          out.u8(static_cast<std::uint8_t>(Type::WindowChange));
          out.u32(m.columns);
          out.u32(m.rows);
          out.u32(m.width_pixels);
          out.u32(m.height_pixels);
        } else if constexpr (std::is_same_v<M, Signal>) {
          out.u8(static_cast<std::uint8_t>(Type::Signal));
          out.string(m.name);
        } else if constexpr (std::is_same_v<M, ExitStatus>) {
          out.u8(static_cast<std::uint8_t>(Type::ExitStatus));
          out.u32(m.status);
        } else if constexpr (std::is_same_v<M, ExitSignal>) {
          out.u8(static_cast<std::uint8_t>(Type::ExitSignal));
          out.string(m.name);
          out.boolean(m.core_dumped);
          out.string(m.message);
        } else {
          static_assert(std::is_same_v<M, Closed>);
          out.u8(static_cast<std::uint8_t>(Type::Closed));
        }
      },
      message);
}

std::string text(wire::Reader& in) {
  return std::string(in.text());
}

Result<Message> finished(const wire::Reader& in, Message message) {
  if (!in.finished()) return control_error("malformed or truncated message");
  return message;
}

}  // namespace

Bytes encode(const Message& message) {
  Bytes frame(kLengthPrefixSize);
  wire::Writer out(frame);
  encode_body(out, message);
  const auto length = static_cast<std::uint32_t>(frame.size() - kLengthPrefixSize);
  frame[0] = static_cast<std::uint8_t>(length >> 24);
  frame[1] = static_cast<std::uint8_t>(length >> 16);
  frame[2] = static_cast<std::uint8_t>(length >> 8);
  frame[3] = static_cast<std::uint8_t>(length);
  return frame;
}

Result<std::size_t> decode_length(ByteView prefix) {
  wire::Reader in(prefix);
  const std::uint32_t length = in.u32();
  if (!in.finished()) return control_error("bad length prefix");
  if (length == 0) return control_error("empty message");
  if (length > kMaxMessageSize) {
    return control_error("message of " + std::to_string(length) + " bytes is too large");
  }
  return static_cast<std::size_t>(length);
}

Result<Message> decode_body(ByteView body) {
  wire::Reader in(body);
  const auto type = static_cast<Type>(in.u8());
  if (!in.ok()) return control_error("empty message");
  switch (type) {
    case Type::Hello: {
      Hello m;
      m.version = in.u32();
      return finished(in, m);
    }
    case Type::Check:
      return finished(in, Check{});
    case Type::ExitMaster:
      return finished(in, ExitMaster{});
    case Type::Forward:
    case Type::CancelForward: {
      const auto kind = kind_from_byte(in.u8());
      std::string spec = text(in);
      if (!kind) return control_error("unknown forward kind");
      if (type == Type::Forward) return finished(in, Forward{*kind, std::move(spec)});
      return finished(in, CancelForward{*kind, std::move(spec)});
    }
    case Type::OpenSession: {
      OpenSession m;
      m.command = text(in);
      m.want_pty = in.boolean();
      m.term = text(in);
      m.columns = in.u32();
      m.rows = in.u32();
      m.width_pixels = in.u32();
      m.height_pixels = in.u32();
      m.terminal_modes = to_bytes(in.string());
      const std::uint32_t count = in.u32();
      // Checked before anything is reserved for it.
      if (count > kMaxEnvironment) return control_error("too many environment variables");
      for (std::uint32_t i = 0; i < count && in.ok(); ++i) {
        std::string name = text(in);
        std::string value = text(in);
        m.environment.emplace_back(std::move(name), std::move(value));
      }
      return finished(in, std::move(m));
    }
    case Type::Ok:
      return finished(in, Ok{text(in)});
    case Type::Failure:
      return finished(in, Failure{text(in)});
    case Type::Alive:
      return finished(in, Alive{in.u32()});
    case Type::SessionOpened:
      return finished(in, SessionOpened{});
    case Type::Data:
    case Type::Stderr: {
      const ByteView bytes = in.string();
      if (bytes.size() > kMaxDataChunk) return control_error("data chunk too large");
      if (type == Type::Data) return finished(in, Data{to_bytes(bytes)});
      return finished(in, Stderr{to_bytes(bytes)});
    }
    case Type::Eof:
      return finished(in, Eof{});
    case Type::WindowChange: {
      WindowChange m;
      m.columns = in.u32();
      m.rows = in.u32();
      m.width_pixels = in.u32();
      m.height_pixels = in.u32();
      return finished(in, m);
    }
    case Type::Signal:
      return finished(in, Signal{text(in)});
    case Type::ExitStatus:
      return finished(in, ExitStatus{in.u32()});
    case Type::ExitSignal: {
      ExitSignal m;
      m.name = text(in);
      m.core_dumped = in.boolean();
      m.message = text(in);
      return finished(in, std::move(m));
    }
    case Type::Closed:
      return finished(in, Closed{});
  }
  return control_error("unknown message type " + std::to_string(static_cast<int>(type)));
}

void FrameDecoder::feed(ByteView bytes) {
  // Drop what was already taken before growing, so a long session does not
  // keep every byte it ever read.
  if (consumed_ > 0 && consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > kMaxMessageSize) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed_));
    consumed_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

Result<std::optional<Message>> FrameDecoder::next() {
  if (failed_) return control_error("stream already failed");
  const ByteView pending = ByteView(buffer_).subspan(consumed_);
  if (pending.size() < kLengthPrefixSize) return std::optional<Message>{};
  auto length = decode_length(pending.first(kLengthPrefixSize));
  if (!length) {
    failed_ = true;
    return length.take_error();
  }
  if (pending.size() < kLengthPrefixSize + *length) return std::optional<Message>{};
  auto message = decode_body(pending.subspan(kLengthPrefixSize, *length));
  if (!message) {
    failed_ = true;
    return message.take_error();
  }
  consumed_ += kLengthPrefixSize + *length;
  return std::optional<Message>(std::move(*message));
}

}  // namespace ssh::control
