// QMP, QEMU's machine protocol (JSON objects, one per line): what
// `limactl stop` uses to ask the guest to power down (system_powerdown, the
// ACPI power button) before it would have to kill QEMU.
//
// QmpSession is the conversation without I/O: it is fed what QEMU sends
// and says what to send back. qmp_execute() runs it over the instance's QMP
// socket with a deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "vm/qemu_args.hpp"

namespace vm {

inline constexpr std::size_t kMaxQmpLine = 64 * 1024;

class QmpSession {
 public:
  // The conversation that runs `command` (e.g. "system_powerdown").
  explicit QmpSession(std::string command);

  // Bytes from QEMU. Returns what to send (may be empty).
  std::string feed(std::string_view bytes);

  bool done() const { return state_ == State::Done; }
  // Why the conversation failed, once it has: a QMP error reply, a line
  // that is not a JSON object, or an over-long line.
  const std::optional<std::string>& failure() const { return failure_; }

 private:
  enum class State { AwaitGreeting, AwaitCapabilities, AwaitReply, Done, Failed };
  std::string take_message(const std::string& line);
  void fail(std::string why);

  std::string command_;
  State state_ = State::AwaitGreeting;
  std::string buffer_;
  std::optional<std::string> failure_;
};

// Connects to QEMU's QMP endpoint and runs `command`. nullopt on success,
// else why not (cannot connect, QEMU's error, the deadline passed).
std::optional<std::string> qmp_execute(const QmpEndpoint& endpoint, const std::string& command,
                                       std::chrono::milliseconds timeout);

}  // namespace vm
