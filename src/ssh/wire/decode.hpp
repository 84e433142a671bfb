// Helpers every message decoder uses: start reading a payload that must
// carry a given message number, and finish only when every byte was read.
#pragma once

#include <optional>

#include "ssh/wire/message_numbers.hpp"
#include "ssh/wire/reader.hpp"

namespace ssh::wire {

// A reader positioned after the message number; failed if the number differs.
inline Reader open_payload(ByteView payload, MessageNumber expected) {
  Reader reader(payload);
  if (reader.u8() != number(expected)) reader.fail();
  return reader;
}

// The decoded message, or nullopt when a read failed or bytes were left over.
template <class T>
std::optional<T> finish(const Reader& reader, T message) {
  if (!reader.finished()) return std::nullopt;
  return message;
}

}  // namespace ssh::wire
