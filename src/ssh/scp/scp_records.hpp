// Pieces of the scp record format that both ends use (the server roles in
// scp_protocol.cpp and the client roles in scp_client.cpp): mode and size
// fields and their bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace ssh::scp::records {

// Sizes must fit a signed 64-bit offset on both ends.
inline constexpr std::uint64_t kMaxSize =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
inline constexpr std::uint32_t kOwnerWrite = 0200;
inline constexpr std::uint32_t kOwnerAll = 0700;
inline constexpr std::uint32_t kModeMask = 07777;

// The four octal digits of a C or D record ("0644").
inline std::string octal_mode(std::uint32_t mode) {
  std::string text(4, '0');
  for (int digit = 3; digit >= 0; --digit) {
    text[static_cast<std::size_t>(digit)] = static_cast<char>('0' + (mode & 7));
    mode >>= 3;
  }
  return text;
}

// Reads a run of decimal digits at text[pos...] into value (no sign, no
// overflow past `limit`).
enum class NumberStatus { Ok, Missing, TooBig };
inline NumberStatus parse_decimal(std::string_view text, std::size_t& pos, std::uint64_t limit,
                                  std::uint64_t& value) {
  const std::size_t start = pos;
  value = 0;
  bool too_big = false;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    const auto digit = static_cast<std::uint64_t>(text[pos] - '0');
    if (value > (limit - digit) / 10) too_big = true;
    if (!too_big) value = value * 10 + digit;
    ++pos;
  }
  if (pos == start) return NumberStatus::Missing;
  return too_big ? NumberStatus::TooBig : NumberStatus::Ok;
}

}  // namespace ssh::scp::records
