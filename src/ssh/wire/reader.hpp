// Bounds-checked decoding of the SSH data types (RFC 4251 section 5).
//
// The reader fails "stickily": once a read runs past the end or a value is
// malformed, every later read returns an empty value and ok() stays false.
// Decoders read all fields and check ok() once, as Go's x/crypto/ssh does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/common.hpp"

namespace ssh::wire {

class Reader {
 public:
  explicit Reader(ByteView data) noexcept : data_(data) {}

  std::uint8_t u8();
  bool boolean();
  std::uint32_t u32();
  std::uint64_t u64();
  // A length-prefixed string, as a view into the input.
  ByteView string();
  std::string_view text() { return as_text(string()); }
  // An mpint; returns its two's-complement bytes as sent. Negative values and
  // non-minimal encodings are refused (RFC 4251 section 5).
  ByteView mpint();
  std::vector<std::string> name_list();
  ByteView raw(std::size_t count);
  ByteView rest();

  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && pos_ == data_.size(); }
  // True when everything was read and nothing is left over.
  bool finished() const { return at_end(); }
  std::size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  void fail() { ok_ = false; }

 private:
  ByteView data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace ssh::wire
