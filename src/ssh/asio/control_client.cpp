#include "ssh/asio/control_client.hpp"

#include <deque>
#include <utility>

#include "ssh/asio/control_endpoint.hpp"
#include "ssh/log.hpp"

namespace ssh::net {
namespace {

Error control_error(std::string message) {
  return Error{DisconnectReason::ByApplication, std::move(message)};
}

}  // namespace

namespace {

Status write_message(ControlStream& socket, const control::Message& message) {
  std::error_code error;
  const Bytes frame = control::encode(message);
  asio::write(socket, asio::buffer(frame), error);
  if (error) return control_error("control socket write: " + error.message());
  return {};
}

Result<control::Message> read_message(ControlStream& socket) {
  std::uint8_t prefix[control::kLengthPrefixSize];
  std::error_code error;
  asio::read(socket, asio::buffer(prefix), error);
  if (error) return control_error("control socket read: " + error.message());
  auto length = control::decode_length(ByteView(prefix, sizeof prefix));
  if (!length) return length.take_error();
  Bytes body(*length);
  asio::read(socket, asio::buffer(body), error);
  if (error) return control_error("control socket read: " + error.message());
  return control::decode_body(body);
}

// Connects and exchanges HELLO; the error is ssh's wording.
Result<ControlStream> connect_master(asio::io_context& io, const std::string& path) {
  auto connected = connect_control_endpoint(io, path);
  if (!connected) return connected.take_error();
  ControlStream& socket = *connected;
  if (auto sent = write_message(socket, control::Hello{}); !sent) return sent.take_error();
  auto hello = read_message(socket);
  if (!hello) return hello.take_error();
  const auto* version = std::get_if<control::Hello>(&*hello);
  if (!version || version->version != control::kProtocolVersion) {
    return control_error("control master at " + path + " speaks another protocol version");
  }
  return std::move(socket);
}

Result<control::Message> request(const std::string& path, const control::Message& message) {
  asio::io_context io;
  auto socket = connect_master(io, path);
  if (!socket) return socket.take_error();
  if (auto sent = write_message(*socket, message); !sent) return sent.take_error();
  auto reply = read_message(*socket);
  if (!reply) return reply.take_error();
  if (const auto* failure = std::get_if<control::Failure>(&*reply)) {
    return control_error(failure->message);
  }
  return reply;
}

}  // namespace

Status probe_control_master(const std::string& path) {
  asio::io_context io;
  auto socket = connect_master(io, path);
  if (!socket) return socket.take_error();
  return {};
}

Result<std::uint32_t> control_check(const std::string& path) {
  auto reply = request(path, control::Check{});
  if (!reply) return reply.take_error();
  if (const auto* alive = std::get_if<control::Alive>(&*reply)) return alive->master_pid;
  return control_error("unexpected reply to check");
}

Status control_exit(const std::string& path) {
  auto reply = request(path, control::ExitMaster{});
  if (!reply) return reply.take_error();
  return {};
}

Result<std::string> control_forward(const std::string& path, const control::Forward& message) {
  auto reply = request(path, message);
  if (!reply) return reply.take_error();
  if (const auto* ok = std::get_if<control::Ok>(&*reply)) return ok->detail;
  return control_error("unexpected reply to forward");
}

Status control_cancel(const std::string& path, const control::CancelForward& message) {
  auto reply = request(path, message);
  if (!reply) return reply.take_error();
  return {};
}

struct ControlSession::Impl {
  Impl(ControlStream connected, Handlers given)
      : socket(std::move(connected)), handlers(std::move(given)) {}

  struct Outgoing {
    Bytes frame;
    std::function<void()> written;
  };

  void queue(const control::Message& message, std::function<void()> written = {}) {
    if (ended || write_failed) return;
    outgoing.push_back(Outgoing{control::encode(message), std::move(written)});
    write_next();
  }

  void write_next() {
    if (writing || outgoing.empty() || ended) return;
    writing = true;
    asio::async_write(
        socket, asio::buffer(outgoing.front().frame),
        [this, alive = std::weak_ptr<bool>(alive)](std::error_code error, std::size_t) {
          if (alive.expired()) return;
          writing = false;
          if (error) {
            // The master closes its end once the session is over, maybe
            // before our stdin was all sent: what it said last (CLOSED, or
            // nothing if it died) is still to be read, so only writing stops.
            write_failed = true;
            outgoing.clear();
            return;
          }
          Outgoing done = std::move(outgoing.front());
          outgoing.pop_front();
          if (done.written) done.written();
          write_next();
        });
  }

  void read_more() {
    if (ended) return;
    socket.async_read_some(
        asio::buffer(read_buffer),
        [this, alive = std::weak_ptr<bool>(alive)](std::error_code error, std::size_t length) {
          if (alive.expired() || ended) return;
          if (error) {
            end("connection to the control master lost");
            return;
          }
          decoder.feed(ByteView(read_buffer).first(length));
          for (;;) {
            auto next = decoder.next();
            if (!next) {
              end(next.error().message);
              return;
            }
            if (!next->has_value()) break;
            handle(**next);
            if (ended) return;
          }
          read_more();
        });
  }

  void handle(const control::Message& message) {
    if (std::holds_alternative<control::SessionOpened>(message)) {
      if (handlers.on_opened) handlers.on_opened();
    } else if (const auto* data = std::get_if<control::Data>(&message)) {
      if (handlers.on_stdout) handlers.on_stdout(data->bytes);
    } else if (const auto* err = std::get_if<control::Stderr>(&message)) {
      if (handlers.on_stderr) handlers.on_stderr(err->bytes);
    } else if (std::holds_alternative<control::Eof>(message)) {
      if (handlers.on_eof) handlers.on_eof();
    } else if (const auto* status = std::get_if<control::ExitStatus>(&message)) {
      if (handlers.on_exit_status) handlers.on_exit_status(status->status);
    } else if (const auto* signal = std::get_if<control::ExitSignal>(&message)) {
      if (handlers.on_exit_signal) handlers.on_exit_signal(*signal);
    } else if (const auto* failure = std::get_if<control::Failure>(&message)) {
      end(failure->message);
    } else if (std::holds_alternative<control::Closed>(message)) {
      end(std::nullopt);
    } else {
      end("unexpected message from the control master");
    }
  }

  void end(const std::optional<std::string>& why) {
    if (ended) return;
    ended = true;
    std::error_code ignored;
    socket.close(ignored);
    outgoing.clear();
    if (handlers.on_closed) handlers.on_closed(why);
  }

  ControlStream socket;
  Handlers handlers;
  Bytes read_buffer = Bytes(control::kMaxDataChunk + 64);
  control::FrameDecoder decoder;
  std::deque<Outgoing> outgoing;
  bool writing = false;
  bool write_failed = false;
  bool ended = false;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

Result<std::shared_ptr<ControlSession>> ControlSession::connect(asio::io_context& io,
                                                                const std::string& path,
                                                                Handlers handlers) {
  auto socket = connect_master(io, path);
  if (!socket) return socket.take_error();
  return std::make_shared<ControlSession>(
      std::make_unique<Impl>(std::move(*socket), std::move(handlers)));
}

void ControlSession::open(const control::OpenSession& request) {
  impl_->queue(request);
  impl_->read_more();
}

void ControlSession::send_stdin(ByteView chunk, std::function<void()> written) {
  while (chunk.size() > control::kMaxDataChunk) {
    impl_->queue(control::Data{to_bytes(chunk.first(control::kMaxDataChunk))});
    chunk = chunk.subspan(control::kMaxDataChunk);
  }
  impl_->queue(control::Data{to_bytes(chunk)}, std::move(written));
}

void ControlSession::send_eof() {
  impl_->queue(control::Eof{});
}

void ControlSession::send_window_change(const control::WindowChange& size) {
  impl_->queue(size);
}

void ControlSession::send_signal(const std::string& name) {
  impl_->queue(control::Signal{name});
}

void ControlSession::close() {
  impl_->end("closed");
}

ControlSession::ControlSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ControlSession::~ControlSession() = default;

}  // namespace ssh::net
