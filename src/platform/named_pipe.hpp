// Windows only: named pipes, the local stream endpoint Windows has where
// POSIX has Unix-domain sockets. Clients: the ssh-agent of Windows OpenSSH
// (\\.\pipe\openssh-ssh-agent) and a connection-sharing master; server: the
// master's control endpoint (ssh/asio/control_endpoint.cpp). POSIX opens
// Unix-domain sockets through Asio instead.
#pragma once

#ifdef _WIN32

#include <string>

namespace platform {

struct NamedPipeOpen {
  void* handle = nullptr;        // a HANDLE opened for overlapped I/O, or nullptr
  unsigned long error_code = 0;  // GetLastError() when handle is nullptr
  std::string error;             // why it could not be opened
};

// Opens the pipe for reading and writing (overlapped, as Asio's
// stream_handle needs), waiting briefly when every instance is busy. The
// server may identify us but not impersonate us.
NamedPipeOpen open_named_pipe_client(const std::string& path);

// Creates one server instance of the pipe, overlapped, byte mode, that only
// the current user (and SYSTEM) may open and remote machines may not. With
// first_instance, fails (ERROR_ACCESS_DENIED) when the name is taken, by a
// live master of ours or by anyone else.
NamedPipeOpen create_named_pipe_instance(const std::string& path, bool first_instance);

// Whether a server instance of the pipe exists now (busy or not). Wine does
// not enforce FILE_FLAG_FIRST_PIPE_INSTANCE, so a master asks this first.
bool named_pipe_exists(const std::string& path);

// Why the process serving the pipe at `handle` is not to be trusted (its
// owner is another user: someone else created that name first), or empty.
std::string named_pipe_owner_problem(void* handle);

}  // namespace platform

#endif
