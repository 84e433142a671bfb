#include "ssh/wire/reader.hpp"

#include "ssh/limits.hpp"

namespace ssh::wire {

ByteView Reader::raw(std::size_t count) {
  if (!ok_ || count > data_.size() - pos_) {
    ok_ = false;
    return {};
  }
  auto view = data_.subspan(pos_, count);
  pos_ += count;
  return view;
}

ByteView Reader::rest() {
  return raw(remaining());
}

std::uint8_t Reader::u8() {
  auto bytes = raw(1);
  return bytes.empty() ? 0 : bytes[0];
}

bool Reader::boolean() {
  return u8() != 0;
}

std::uint32_t Reader::u32() {
  auto b = raw(4);
  if (b.empty()) return 0;
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}

std::uint64_t Reader::u64() {
  const std::uint64_t high = u32();
  const std::uint64_t low = u32();
  return (high << 32) | low;
}

ByteView Reader::string() {
  const std::uint32_t length = u32();
  return raw(length);
}

ByteView Reader::mpint() {
  auto bytes = string();
  if (!ok_) return {};
  if (!bytes.empty()) {
    const bool negative = (bytes[0] & 0x80) != 0;
    const bool redundant_zero = bytes.size() > 1 && bytes[0] == 0 && (bytes[1] & 0x80) == 0;
    if (negative || redundant_zero || (bytes.size() == 1 && bytes[0] == 0)) {
      ok_ = false;
      return {};
    }
  }
  return bytes;
}

std::vector<std::string> Reader::name_list() {
  auto bytes = string();
  std::vector<std::string> names;
  if (!ok_ || bytes.empty()) return names;
  if (bytes.size() > limits::kMaxNameListLength) {
    ok_ = false;
    return {};
  }
  std::size_t start = 0;
  for (std::size_t i = 0; i <= bytes.size(); ++i) {
    if (i == bytes.size() || bytes[i] == ',') {
      if (i == start || names.size() >= limits::kMaxNameListEntries) {
        // Empty names and absurd counts are malformed (RFC 4251 section 5).
        ok_ = false;
        return {};
      }
      names.emplace_back(as_text(bytes.subspan(start, i - start)));
      start = i + 1;
    }
  }
  return names;
}

}  // namespace ssh::wire
