// A protocol a client runs over one channel's byte stream: the SFTP client
// (over "subsystem sftp") and the legacy scp client (over "exec scp -t/-f").
// Sans-I/O, like the server's InProcessCommand (ssh/asio/server_context.hpp)
// seen from the other end: whoever carries the bytes (an SSH session channel,
// a child's stdio pipes, a test loop) feeds the remote's output in and sends
// what produce() hands out, as the channel window allows.
#pragma once

#include <cstddef>
#include <optional>

#include "ssh/common.hpp"

namespace ssh {

class ChannelProtocol {
 public:
  virtual ~ChannelProtocol() = default;
  // The remote command's stdout.
  virtual void on_input(ByteView data) = 0;
  // The remote command's stderr (diagnostics; most protocols only log it).
  virtual void on_error_output(ByteView) {}
  // The remote sent EOF (or its process ended).
  virtual void on_input_eof() = 0;
  // Appends at most `max` bytes for the remote to `out`.
  virtual void produce(std::size_t max, Bytes& out) = 0;
  // True while produce() would add something now.
  virtual bool has_output() const = 0;
  // True once the protocol will send nothing more: the carrier sends EOF
  // after the last produced byte.
  virtual bool output_finished() const = 0;
  // Set once the protocol is over: success, or why it failed. The carrier
  // then closes the channel.
  virtual std::optional<Status> outcome() const = 0;
};

}  // namespace ssh
