#include "platform/agent_pipe.hpp"

#ifdef _WIN32

#include <windows.h>

#include <system_error>

namespace platform {

NamedPipeOpen open_named_pipe_client(const std::string& path) {
  const std::wstring wide_path(path.begin(), path.end());
  HANDLE pipe = INVALID_HANDLE_VALUE;
  for (int attempt = 0; attempt < 2; ++attempt) {
    pipe = CreateFileW(wide_path.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                       FILE_FLAG_OVERLAPPED, nullptr);
    if (pipe != INVALID_HANDLE_VALUE || GetLastError() != ERROR_PIPE_BUSY) break;
    // Every instance is busy: wait (briefly) for one to free up.
    if (!WaitNamedPipeW(wide_path.c_str(), 2000)) break;
  }
  if (pipe == INVALID_HANDLE_VALUE) {
    return {nullptr, std::system_category().message(static_cast<int>(GetLastError()))};
  }
  return {pipe, {}};
}

}  // namespace platform

#endif
