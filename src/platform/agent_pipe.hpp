// Windows only: the client end of a named pipe, for the ssh-agent of
// Windows OpenSSH (\\.\pipe\openssh-ssh-agent). POSIX agents are Unix-domain
// sockets, which Asio opens itself (ssh/asio/agent_socket.cpp).
#pragma once

#ifdef _WIN32

#include <string>

namespace platform {

struct NamedPipeOpen {
  void* handle = nullptr;  // a HANDLE opened for overlapped I/O, or nullptr
  std::string error;       // why it could not be opened
};

// Opens the pipe for reading and writing (overlapped, as Asio's
// stream_handle needs), waiting briefly when every instance is busy.
NamedPipeOpen open_named_pipe_client(const std::string& path);

}  // namespace platform

#endif
