// The local endpoint of connection sharing, the one place where it differs by
// platform (docs/connection-sharing.md):
//  - POSIX: a Unix-domain socket at the ControlPath, created 0600 in a
//    directory the user owns; a socket file nobody accepts on (a dead
//    master's) is logged, removed and replaced.
//  - Windows: a named pipe whose name is derived from the ControlPath
//    (control_endpoint_name), open to the user only and to no remote client.
//    A named pipe vanishes with its process, so there is nothing stale; a
//    client checks that the pipe's owner is its own user, since another user
//    could have created that name first. (Windows 10 has AF_UNIX too, but
//    wine, where our Windows tests run, does not.)
// Both give a stream with Asio's async_read_some/async_write_some, so the
// master and the client code above this seam are the same everywhere.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ssh/common.hpp"

namespace ssh::net {

#ifdef _WIN32
using ControlStream = asio::windows::stream_handle;
#else
using ControlStream = asio::local::stream_protocol::socket;
#endif

// What the ControlPath names on this platform: the path itself on POSIX, the
// pipe (\\.\pipe\limactl-control-...) on Windows; used for logs.
Result<std::string> control_endpoint_name(const std::string& control_path);

// Connects to the master at `control_path`. The error reads as ssh's:
// "Control socket connect(PATH): No such file or directory".
Result<ControlStream> connect_control_endpoint(asio::io_context& io,
                                               const std::string& control_path);

// The master's end: listens, then hands each connected client over.
class ControlListener {
 public:
  explicit ControlListener(asio::io_context& io);
  ~ControlListener();
  ControlListener(const ControlListener&) = delete;
  ControlListener& operator=(const ControlListener&) = delete;

  // Fails when a live master has the endpoint, or it cannot be made safely.
  Status listen(const std::string& control_path);
  // One client; the handler runs on the io_context (operation_aborted once
  // closed).
  void async_accept(std::function<void(std::error_code, ControlStream)> handler);
  // Stops accepting; on POSIX removes the socket file.
  void close();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with a pending accept
};

// This process's id, as CHECK reports it.
std::uint32_t current_process_id();

}  // namespace ssh::net
