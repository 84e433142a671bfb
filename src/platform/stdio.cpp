#include "platform/stdio.hpp"

#ifdef _WIN32
#include <windows.h>
#else
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#endif

#include <algorithm>

namespace platform {

#ifdef _WIN32

// ReadFile/WriteFile on the standard handles are byte-exact whether the
// handle is a console, a pipe or a file.

std::ptrdiff_t read_stdin(std::span<std::uint8_t> buffer) {
  const DWORD wanted = static_cast<DWORD>(std::min<std::size_t>(buffer.size(), 1u << 30));
  DWORD count = 0;
  if (!::ReadFile(::GetStdHandle(STD_INPUT_HANDLE), buffer.data(), wanted, &count, nullptr)) {
    // The writer closed its end of the pipe: that is the end of input.
    return ::GetLastError() == ERROR_BROKEN_PIPE ? 0 : -1;
  }
  return static_cast<std::ptrdiff_t>(count);
}

bool stdin_is_regular_file() {
  return ::GetFileType(::GetStdHandle(STD_INPUT_HANDLE)) == FILE_TYPE_DISK;
}

void write_all(StdStream stream, std::span<const std::uint8_t> data) {
  HANDLE handle = ::GetStdHandle(stream == StdStream::Out ? STD_OUTPUT_HANDLE : STD_ERROR_HANDLE);
  while (!data.empty()) {
    const DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(data.size(), 1u << 30));
    DWORD written = 0;
    if (!::WriteFile(handle, data.data(), chunk, &written, nullptr) || written == 0) return;
    data = data.subspan(written);
  }
}

#else  // POSIX

std::ptrdiff_t read_stdin(std::span<std::uint8_t> buffer) {
  ssize_t count;
  do {
    count = ::read(STDIN_FILENO, buffer.data(), buffer.size());
  } while (count < 0 && errno == EINTR);
  return count;
}

bool stdin_is_regular_file() {
  struct stat info {};
  return ::fstat(STDIN_FILENO, &info) == 0 && S_ISREG(info.st_mode);
}

void write_all(StdStream stream, std::span<const std::uint8_t> data) {
  const int fd = stream == StdStream::Out ? STDOUT_FILENO : STDERR_FILENO;
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data = data.subspan(static_cast<std::size_t>(written));
  }
}

#endif

}  // namespace platform
