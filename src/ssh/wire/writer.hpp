// Encoding of the SSH data types (RFC 4251 section 5), appending to a buffer.
// SecureWriter is the same over a secure_vector, for material that holds
// secrets (the shared secret in the exchange hash and key derivation).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/common.hpp"

namespace ssh::wire {

template <class Buffer>
class BasicWriter {
 public:
  explicit BasicWriter(Buffer& out) noexcept : out_(out) {}

  void u8(std::uint8_t value) { out_.push_back(value); }
  void boolean(bool value) { out_.push_back(value ? 1 : 0); }
  void u32(std::uint32_t value) {
    const std::uint8_t bytes[4] = {
        static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
        static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
    out_.insert(out_.end(), bytes, bytes + 4);
  }
  void u64(std::uint64_t value) {
    u32(static_cast<std::uint32_t>(value >> 32));
    u32(static_cast<std::uint32_t>(value));
  }
  void raw(ByteView bytes) { out_.insert(out_.end(), bytes.begin(), bytes.end()); }
  void string(ByteView bytes) {
    u32(static_cast<std::uint32_t>(bytes.size()));
    raw(bytes);
  }
  void string(std::string_view text) { string(as_bytes(text)); }
  void string(const char* text) { string(std::string_view(text)); }
  // An mpint from an unsigned big-endian magnitude: leading zeros dropped, a
  // zero byte prepended when the top bit is set.
  void mpint_unsigned(ByteView magnitude) {
    std::size_t start = 0;
    while (start < magnitude.size() && magnitude[start] == 0) ++start;
    const auto digits = magnitude.subspan(start);
    const bool pad = !digits.empty() && (digits[0] & 0x80) != 0;
    u32(static_cast<std::uint32_t>(digits.size() + (pad ? 1 : 0)));
    if (pad) out_.push_back(0);
    raw(digits);
  }
  void name_list(const std::vector<std::string>& names) {
    std::size_t length = names.empty() ? 0 : names.size() - 1;
    for (const auto& name : names) length += name.size();
    u32(static_cast<std::uint32_t>(length));
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i != 0) out_.push_back(',');
      raw(as_bytes(names[i]));
    }
  }

  std::size_t size() const { return out_.size(); }
  Buffer& buffer() { return out_; }

 private:
  Buffer& out_;
};

using Writer = BasicWriter<Bytes>;
using SecureWriter = BasicWriter<SecureBytes>;

}  // namespace ssh::wire
