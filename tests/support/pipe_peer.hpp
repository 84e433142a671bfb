// A child process whose stdin and stdout are pipes to the test, with a
// blocking pump that runs an ssh::ChannelProtocol over them: the client
// side of a protocol talks to a real peer program (OpenSSH's sftp-server)
// without an SSH connection in between.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "ssh/channel_protocol.hpp"
#include "support/process.hpp"

namespace testing_support {

class PipePeer {
 public:
  // Starts argv[0] (an absolute path) with pipes for stdin, stdout and
  // stderr. Throws std::runtime_error if it cannot be started.
  explicit PipePeer(const Argv& argv);
  // Closes the pipes, kills the child if it still runs, and reaps it.
  ~PipePeer();
  PipePeer(const PipePeer&) = delete;
  PipePeer& operator=(const PipePeer&) = delete;

  // Moves bytes between `protocol` and the child until `done` returns true,
  // the protocol has an outcome, the child's stdout ends, or `timeout`
  // passes (then false, with why in last_error()). The child's stdin is
  // closed once the protocol's output is finished.
  bool run(ssh::ChannelProtocol& protocol, const std::function<bool()>& done,
           std::chrono::milliseconds timeout = std::chrono::seconds(120));
  const std::string& last_error() const { return last_error_; }
  // Everything the child wrote to stderr so far.
  const std::string& error_output() const { return error_output_; }
  pid_t pid() const { return pid_; }
  // Bytes written to the child's stdin so far.
  std::uint64_t bytes_sent() const { return bytes_sent_; }

 private:
  void close_stdin();

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::string pending_write_;
  std::uint64_t bytes_sent_ = 0;
  std::string error_output_;
  std::string last_error_;
};

}  // namespace testing_support
