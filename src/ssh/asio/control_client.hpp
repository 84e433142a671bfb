// The client side of connection sharing (docs/connection-sharing.md): the
// one-shot requests (`ssh -O check|exit|forward|cancel`) and a session run
// through a master, its data relayed over the control connection.
// The endpoint (Unix-domain socket or named pipe) is ssh/asio/control_endpoint.hpp.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ssh/common.hpp"
#include "ssh/control/protocol.hpp"

namespace ssh::net {

// Whether a master answers on `path` (something accepts and says HELLO).
// The error says why not, as ssh does: "Control socket connect(PATH): No
// such file or directory".
Status probe_control_master(const std::string& path);

// CHECK: the master's pid.
Result<std::uint32_t> control_check(const std::string& path);
// EXIT: the master closes its connection.
Status control_exit(const std::string& path);
// FORWARD / CANCEL: the master's answer (what listens now; for -R the port
// the server listens on).
Result<std::string> control_forward(const std::string& path, const control::Forward& request);
Status control_cancel(const std::string& path, const control::CancelForward& request);

// A session through the master. Callbacks run on the io_context; output
// callbacks should consume the bytes before returning (a blocking write is
// fine: the master then waits, and so does the server).
class ControlSession : public std::enable_shared_from_this<ControlSession> {
 public:
  struct Handlers {
    std::function<void()> on_opened;
    std::function<void(ByteView)> on_stdout;
    std::function<void(ByteView)> on_stderr;
    std::function<void()> on_eof;
    std::function<void(std::uint32_t)> on_exit_status;
    std::function<void(const control::ExitSignal&)> on_exit_signal;
    // The end: nullopt after CLOSED, otherwise why the session failed (the
    // master refused it, or the control connection was lost).
    std::function<void(const std::optional<std::string>&)> on_closed;
  };

  // Connects to the master at `path` (synchronously).
  static Result<std::shared_ptr<ControlSession>> connect(asio::io_context& io,
                                                         const std::string& path,
                                                         Handlers handlers);
  ~ControlSession();

  void open(const control::OpenSession& request);
  // Stdin: `written` is called once the chunk went to the master (give
  // the buffer back then: that bounds what is held here).
  void send_stdin(ByteView chunk, std::function<void()> written);
  void send_eof();
  void send_window_change(const control::WindowChange& size);
  void send_signal(const std::string& name);
  // Ends the session from our side (the master closes the channel).
  void close();

  struct Impl;
  explicit ControlSession(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ssh::net
