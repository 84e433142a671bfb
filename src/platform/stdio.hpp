// Raw byte I/O on the standard streams, bypassing every text translation
// (the Windows C runtime turns \n into \r\n on text-mode streams, which
// would corrupt binary data piped through limactl ssh).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace platform {

enum class StdStream { Out, Err };

// Reads up to buffer.size() bytes from standard input, blocking. Returns
// the count, 0 at end of input, or -1 on an error (treated as the end).
std::ptrdiff_t read_stdin(std::span<std::uint8_t> buffer);

// Whether standard input is a regular (disk) file: reads from it return
// at once, so they need no thread of their own.
bool stdin_is_regular_file();

// Writes all of data; gives up silently when the stream is gone (a closed
// pipe), as there is nobody left to tell.
void write_all(StdStream stream, std::span<const std::uint8_t> data);

}  // namespace platform
