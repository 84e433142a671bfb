#include "ssh/asio/channel_protocol_runner.hpp"

#include <algorithm>
#include <utility>

#include "ssh/connection/messages.hpp"
#include "ssh/log.hpp"

namespace ssh::net {

namespace {

// The most the protocol is asked for at once: large enough that a big send
// window is filled in few rounds, small enough to bound the copy.
constexpr std::size_t kMaxProduce = 512 * 1024;

std::shared_ptr<spdlog::logger> logger() {
  return log::get("channel");
}

}  // namespace

ChannelProtocolRunner::ChannelProtocolRunner(ClientSession& session, ChannelProtocol& protocol,
                                             RemoteCommand command, Callbacks callbacks)
    : session_(session),
      protocol_(protocol),
      command_(std::move(command)),
      callbacks_(std::move(callbacks)) {}

Status ChannelProtocolRunner::start() {
  auto opened = session_.connection().open_channel(connection::SessionOpen{}, shared_from_this());
  if (!opened) {
    failure_ = opened.error();
    finish();
    return opened.take_error();
  }
  id_ = *opened;
  kick();
  return {};
}

void ChannelProtocolRunner::on_open_confirmed(std::uint32_t id) {
  auto& connection = session_.connection();
  open_ = true;
  // Received data is re-granted to the peer once the protocol took it.
  if (Status deferred = connection.defer_consumption(id); !deferred) {
    logger()->warn("channel {}: {}", id, deferred.error().message);
  }
  const Status requested = command_.kind == RemoteCommand::Kind::Subsystem
                               ? connection.request_subsystem(id, command_.text, true)
                               : connection.request_exec(id, command_.text, true);
  if (!requested) {
    failure_ = requested.error();
    close_channel();
    return;
  }
  logger()->debug("channel {}: requested {} \"{}\"", id,
                  command_.kind == RemoteCommand::Kind::Subsystem ? "subsystem" : "exec",
                  command_.text);
  kick();
}

void ChannelProtocolRunner::on_open_failed(std::uint32_t, connection::OpenFailureReason reason,
                                           std::string_view description) {
  failure_ =
      Error{DisconnectReason::ByApplication,
            "channel open failed: " + std::string(connection::open_failure_reason_name(reason)) +
                ": " + std::string(description)};
  finish();
}

void ChannelProtocolRunner::on_request_reply(std::uint32_t, bool success) {
  if (success) {
    started_ = true;
    pump();
    return;
  }
  const std::string message = command_.kind == RemoteCommand::Kind::Subsystem
                                  ? "the server refused subsystem " + command_.text
                                  : "the server refused to run \"" + command_.text + "\"";
  logger()->info("{}", message);
  failure_ = Error{DisconnectReason::ServiceNotAvailable, message};
  close_channel();
}

void ChannelProtocolRunner::on_data(std::uint32_t id, ByteView data) {
  if (close_sent_) {
    (void)session_.connection().consume(id, data.size());
    return;
  }
  protocol_.on_input(data);
  // The protocol handles its input synchronously (disk writes included),
  // so the bytes are used once it returns.
  (void)session_.connection().consume(id, data.size());
  pump();
}

void ChannelProtocolRunner::on_extended_data(std::uint32_t id, std::uint32_t type, ByteView data) {
  if (type == connection::kExtendedDataStderr && !close_sent_) {
    protocol_.on_error_output(data);
    if (callbacks_.remote_stderr) callbacks_.remote_stderr(data);
  }
  (void)session_.connection().consume(id, data.size());
  pump();
}

void ChannelProtocolRunner::on_eof(std::uint32_t) {
  if (close_sent_) return;
  protocol_.on_input_eof();
  pump();
}

bool ChannelProtocolRunner::on_request(std::uint32_t, std::string_view type, bool, ByteView data) {
  using namespace connection;
  if (auto status = decode_typed<ExitStatusRequest>(type, data)) {
    exit_status_ = status->exit_status;
    logger()->debug("channel {}: remote exit status {}", id_, status->exit_status);
    return true;
  }
  if (auto signal = decode_typed<ExitSignalRequest>(type, data)) {
    exit_signal_ = signal->signal_name;
    logger()->debug("channel {}: remote command killed by signal {}", id_, signal->signal_name);
    return true;
  }
  return false;
}

void ChannelProtocolRunner::on_send_window_available(std::uint32_t) {
  pump();
}

void ChannelProtocolRunner::on_close(std::uint32_t) {
  open_ = false;
  finish();
}

void ChannelProtocolRunner::pump() {
  if (pumping_ || !open_ || !started_ || close_sent_) return;
  pumping_ = true;
  for (;;) {
    if (!send_pending()) break;
    if (!protocol_.has_output()) break;
    // With the window full, one byte is still produced: sending it fails,
    // and that is what asks the connection for on_send_window_available.
    const std::size_t window = std::max<std::uint32_t>(session_.connection().send_window(id_), 1);
    protocol_.produce(std::min(window, kMaxProduce), pending_);
    if (pending_.empty()) break;
  }
  pumping_ = false;
  if (close_sent_) return;
  if (pending_.empty() && !eof_sent_ && protocol_.output_finished() && !protocol_.has_output()) {
    eof_sent_ = true;
    (void)session_.connection().send_eof(id_);
  }
  if (pending_.empty() && protocol_.outcome()) close_channel();
  kick();
}

bool ChannelProtocolRunner::send_pending() {
  if (pending_.empty()) return true;
  auto sent = session_.connection().send_data(id_, pending_);
  if (!sent) {
    failure_ = sent.take_error();
    pending_.clear();
    close_channel();
    return false;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(*sent));
  return pending_.empty();
}

void ChannelProtocolRunner::abort(const std::string& why) {
  if (done_) return;
  if (!failure_) failure_ = Error{DisconnectReason::ByApplication, why};
  close_channel();
}

void ChannelProtocolRunner::close_channel() {
  if (close_sent_ || done_) return;
  close_sent_ = true;
  (void)session_.connection().close(id_);
  kick();
}

void ChannelProtocolRunner::finish() {
  if (done_) return;
  done_ = true;
  ChannelProtocolResult result;
  if (failure_) {
    result.status = *failure_;
  } else if (std::optional<Status> outcome = protocol_.outcome()) {
    result.status = *outcome;
  } else {
    result.status = Error{DisconnectReason::ConnectionLost,
                          "the channel closed before the transfer was complete"};
  }
  result.exit_status = exit_status_;
  result.exit_signal = exit_signal_;
  if (callbacks_.finished) callbacks_.finished(result);
}

void ChannelProtocolRunner::kick() {
  if (callbacks_.kick) callbacks_.kick();
}

}  // namespace ssh::net
