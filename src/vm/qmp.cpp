#include "vm/qmp.hpp"

#include <asio.hpp>
#include <nlohmann/json.hpp>
#include <variant>

namespace vm {

QmpSession::QmpSession(std::string command) : command_(std::move(command)) {}

void QmpSession::fail(std::string why) {
  state_ = State::Failed;
  failure_ = std::move(why);
}

std::string QmpSession::feed(std::string_view bytes) {
  std::string to_send;
  buffer_.append(bytes);
  for (;;) {
    if (state_ == State::Done || state_ == State::Failed) return to_send;
    const auto end = buffer_.find('\n');
    if (end == std::string::npos) {
      if (buffer_.size() > kMaxQmpLine) fail("QEMU sent a QMP line over 64 KiB");
      return to_send;
    }
    const std::string line = buffer_.substr(0, end);
    buffer_.erase(0, end + 1);
    if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
    to_send += take_message(line);
  }
}

std::string QmpSession::take_message(const std::string& line) {
  const nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
  if (message.is_discarded() || !message.is_object()) {
    fail("QEMU sent something that is not a QMP message: " + line.substr(0, 200));
    return {};
  }
  if (message.contains("event")) return {};  // asynchronous events: not what we wait for
  if (const auto error = message.find("error"); error != message.end()) {
    std::string description = "unknown error";
    if (error->is_object() && error->contains("desc") && (*error)["desc"].is_string()) {
      description = (*error)["desc"].get<std::string>();
    }
    fail("QEMU refused " +
         std::string(state_ == State::AwaitReply ? command_ : "qmp_capabilities") + ": " +
         description);
    return {};
  }
  switch (state_) {
    case State::AwaitGreeting:
      if (!message.contains("QMP")) {
        fail("QEMU did not greet with QMP");
        return {};
      }
      state_ = State::AwaitCapabilities;
      return nlohmann::json{{"execute", "qmp_capabilities"}}.dump() + "\r\n";
    case State::AwaitCapabilities:
      if (!message.contains("return")) return {};
      state_ = State::AwaitReply;
      return nlohmann::json{{"execute", command_}}.dump() + "\r\n";
    case State::AwaitReply:
      if (message.contains("return")) state_ = State::Done;
      return {};
    case State::Done:
    case State::Failed:
      return {};
  }
  return {};
}

namespace {

template <typename Socket>
std::optional<std::string> converse(asio::io_context& io, Socket& socket, QmpSession& session,
                                    std::chrono::milliseconds timeout) {
  std::optional<std::string> failure;
  std::array<char, 4096> buffer{};
  std::string pending;
  std::function<void()> read_more;
  read_more = [&] {
    socket.async_read_some(asio::buffer(buffer), [&](std::error_code error, std::size_t got) {
      if (error) {
        failure = "QEMU closed the QMP connection: " + error.message();
        return;
      }
      pending = session.feed(std::string_view(buffer.data(), got));
      if (session.failure()) {
        failure = *session.failure();
        return;
      }
      if (!pending.empty()) {
        std::error_code write_error;
        asio::write(socket, asio::buffer(pending), write_error);
        if (write_error) {
          failure = "cannot write to QMP: " + write_error.message();
          return;
        }
      }
      if (!session.done()) read_more();
    });
  };
  read_more();
  io.run_for(timeout);
  if (!session.done() && !failure) {
    failure = "QEMU did not answer on QMP within " + std::to_string(timeout.count()) + " ms";
  }
  return session.done() ? std::nullopt : failure;
}

}  // namespace

std::optional<std::string> qmp_execute(const QmpEndpoint& endpoint, const std::string& command,
                                       std::chrono::milliseconds timeout) {
  asio::io_context io;
  QmpSession session(command);
  std::error_code error;
  if (const auto* unix_socket = std::get_if<QmpUnixSocket>(&endpoint)) {
#if defined(ASIO_HAS_LOCAL_SOCKETS)
    asio::local::stream_protocol::socket socket(io);
    socket.connect(asio::local::stream_protocol::endpoint(unix_socket->path), error);
    if (error) return "cannot connect to QMP at " + unix_socket->path + ": " + error.message();
    return converse(io, socket, session, timeout);
#else
    return "QMP over a Unix socket is not available here (" + unix_socket->path + ")";
#endif
  }
  const int port = std::get<QmpLoopbackPort>(endpoint).port;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::address_v4::loopback(), static_cast<unsigned short>(port)}, error);
  if (error) {
    return "cannot connect to QMP at 127.0.0.1:" + std::to_string(port) + ": " + error.message();
  }
  return converse(io, socket, session, timeout);
}

}  // namespace vm
