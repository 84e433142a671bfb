// Runs one ssh::ChannelProtocol (channel_protocol.hpp: the SFTP client, the
// legacy scp client) over a session channel of an authenticated client
// connection: opens the channel, asks for "subsystem NAME" or "exec
// COMMAND" (a refusal is an error: "the server refused subsystem sftp"),
// feeds the remote's output into the protocol and sends what it produces as
// the channel's send window allows, sends EOF once the protocol's output is
// finished and closes the channel once its outcome is set.
//
// Flow control both ways: the protocol is asked for no more than the
// peer's window takes, and received data is re-granted to the peer only
// once the protocol has taken it (defer_consumption/consume), so neither
// side buffers more than a window.
//
// Single-threaded, on the connection's io_context; callbacks come from
// inside the connection's message handling.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ssh/channel_protocol.hpp"
#include "ssh/client_session.hpp"
#include "ssh/common.hpp"
#include "ssh/connection/connection.hpp"

namespace ssh::net {

struct RemoteCommand {
  enum class Kind { Subsystem, Exec };
  Kind kind = Kind::Exec;
  std::string text;  // the subsystem's name, or the command line

  static RemoteCommand subsystem(std::string name) { return {Kind::Subsystem, std::move(name)}; }
  static RemoteCommand exec(std::string command) { return {Kind::Exec, std::move(command)}; }
};

struct ChannelProtocolResult {
  // The protocol's outcome, or why the channel ended before it had one.
  Status status;
  std::optional<std::uint32_t> exit_status;
  std::optional<std::string> exit_signal;  // without "SIG"
};

class ChannelProtocolRunner : public connection::ChannelHandler,
                              public std::enable_shared_from_this<ChannelProtocolRunner> {
 public:
  struct Callbacks {
    // Something was queued on the connection: the driver should write it
    // (ClientDriver::kick).
    std::function<void()> kick;
    // The remote's stderr, besides the protocol's on_error_output (scp
    // shows it to the user). May be empty.
    std::function<void(ByteView)> remote_stderr;
    // Once, when the channel is closed (or could not be opened).
    std::function<void(const ChannelProtocolResult&)> finished;
  };

  // `protocol` must outlive the runner's channel. Call start() once the
  // session is authenticated.
  ChannelProtocolRunner(ClientSession& session, ChannelProtocol& protocol, RemoteCommand command,
                        Callbacks callbacks);

  // Opens the channel. An error here is also reported through finished.
  Status start();
  // Call after changing the protocol from outside its callbacks (queued
  // work, a completed disk operation): sends what it has now.
  void pump();
  // Closes the channel now (the user gave up, say).
  void abort(const std::string& why);
  bool running() const { return !done_; }

  // --- connection::ChannelHandler ---
  void on_open_confirmed(std::uint32_t id) override;
  void on_open_failed(std::uint32_t id, connection::OpenFailureReason reason,
                      std::string_view description) override;
  void on_data(std::uint32_t id, ByteView data) override;
  void on_extended_data(std::uint32_t id, std::uint32_t type, ByteView data) override;
  void on_eof(std::uint32_t id) override;
  void on_close(std::uint32_t id) override;
  bool on_request(std::uint32_t id, std::string_view type, bool want_reply, ByteView data) override;
  void on_request_reply(std::uint32_t id, bool success) override;
  void on_send_window_available(std::uint32_t id) override;

 private:
  bool send_pending();
  void close_channel();
  void finish();
  void kick();

  ClientSession& session_;
  ChannelProtocol& protocol_;
  RemoteCommand command_;
  Callbacks callbacks_;
  std::uint32_t id_ = 0;
  bool open_ = false;
  bool started_ = false;  // the server accepted the command
  bool eof_sent_ = false;
  bool close_sent_ = false;
  bool done_ = false;
  bool pumping_ = false;
  std::optional<Error> failure_;  // why we closed without an outcome
  Bytes pending_;                 // produced, not yet taken by the window
  std::optional<std::uint32_t> exit_status_;
  std::optional<std::string> exit_signal_;
};

}  // namespace ssh::net
