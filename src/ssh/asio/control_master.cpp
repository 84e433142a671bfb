#include "ssh/asio/control_master.hpp"

#include <algorithm>
#include <deque>
#include <utility>

#include "ssh/asio/control_endpoint.hpp"
#include "ssh/connection/messages.hpp"
#include "ssh/control/protocol.hpp"
#include "ssh/log.hpp"

namespace ssh::net {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  return log::get("control");
}

Error control_error(std::string message) {
  return Error{DisconnectReason::ByApplication, std::move(message)};
}

}  // namespace

struct ControlMaster::Listener {
  explicit Listener(asio::io_context& io) : endpoint(io) {}
  ControlListener endpoint;
};

// One control connection: a request, or a session relayed both ways.
struct ControlMaster::Client : connection::ChannelHandler, std::enable_shared_from_this<Client> {
  Client(connection::Connection& connection, ClientForwarding& forwarding,
         std::function<void()> kick, std::uint32_t master_pid, std::function<void()> on_exit,
         ControlStream socket)
      : connection_(connection),
        forwarding_(forwarding),
        kick_(std::move(kick)),
        master_pid_(master_pid),
        on_exit_(std::move(on_exit)),
        socket_(std::move(socket)) {}

  void start() {
    read_buffer_.resize(control::kMaxDataChunk);
    queue(control::Hello{});
    read_more();
  }

  bool finished() const { return socket_closed_ && !channel_open_; }
  bool has_session() const { return channel_open_; }

  // The master stops: the channel goes, then the socket.
  // The master stops: the channel goes, then the socket; nothing here
  // touches the Connection afterwards.
  void drop() {
    if (channel_open_) (void)connection_.close(channel_);
    channel_open_ = false;
    close_socket();
  }

  // --- ChannelHandler ---
  void on_open_confirmed(std::uint32_t id) override {
    (void)connection_.defer_consumption(id);
    for (const auto& [name, value] : request_.environment) {
      (void)connection_.send_env(id, name, value, false);
    }
    if (request_.want_pty) {
      connection::PtyRequest pty;
      pty.term = request_.term;
      pty.columns = request_.columns;
      pty.rows = request_.rows;
      pty.width_pixels = request_.width_pixels;
      pty.height_pixels = request_.height_pixels;
      pty.modes = request_.terminal_modes;
      (void)connection_.request_pty(id, pty, true);
      pending_replies_.push_back(Reply::Pty);
    }
    if (request_.command.empty()) {
      (void)connection_.request_shell(id, true);
      pending_replies_.push_back(Reply::Shell);
    } else {
      (void)connection_.request_exec(id, request_.command, true);
      pending_replies_.push_back(Reply::Exec);
    }
  }

  void on_open_failed(std::uint32_t id, connection::OpenFailureReason reason,
                      std::string_view description) override {
    channel_open_ = false;
    queue(control::Failure{"channel " + std::to_string(id) + ": open failed: " +
                           std::string(connection::open_failure_reason_name(reason)) + ": " +
                           std::string(description)});
    close_after_writes_ = true;
    close_if_done();
  }

  void on_request_reply(std::uint32_t id, bool success) override {
    if (pending_replies_.empty()) return;
    const Reply what = pending_replies_.front();
    pending_replies_.pop_front();
    if (what == Reply::Pty) {
      if (!success) {
        const std::string text = "PTY allocation request failed on channel 0\r\n";
        queue(control::Stderr{to_bytes(as_bytes(text))});
      }
      return;
    }
    if (success) {
      queue(control::SessionOpened{});
      return;
    }
    queue(control::Failure{std::string(what == Reply::Exec ? "exec" : "shell") +
                           " request failed on channel 0"});
    (void)connection_.close(id);
  }

  void on_data(std::uint32_t, ByteView data) override { queue_output(data, false); }

  void on_extended_data(std::uint32_t id, std::uint32_t type, ByteView data) override {
    if (type != 1) {
      (void)connection_.consume(id, data.size());
      return;
    }
    queue_output(data, true);
  }

  void on_eof(std::uint32_t) override { queue(control::Eof{}); }

  bool on_request(std::uint32_t, std::string_view type, bool, ByteView data) override {
    if (auto status = connection::decode_typed<connection::ExitStatusRequest>(type, data)) {
      queue(control::ExitStatus{status->exit_status});
      return true;
    }
    if (auto signal = connection::decode_typed<connection::ExitSignalRequest>(type, data)) {
      queue(control::ExitSignal{signal->signal_name, signal->core_dumped, signal->error_message});
      return true;
    }
    return false;
  }

  void on_close(std::uint32_t) override {
    channel_open_ = false;
    queue(control::Closed{});
    close_after_writes_ = true;
    close_if_done();
  }

  void on_send_window_available(std::uint32_t) override {
    if (send_pending_stdin()) resume_reading();
  }

 private:
  enum class Reply { Pty, Exec, Shell };

  struct Outgoing {
    Bytes frame;
    // Channel bytes this frame carries: re-granted to the server once the
    // frame was written (deferred consumption).
    std::size_t consumes = 0;
    std::function<void()> after;
  };

  void queue(const control::Message& message, std::size_t consumes = 0,
             std::function<void()> after = {}) {
    if (socket_closed_) {
      if (consumes > 0 && channel_open_) (void)connection_.consume(channel_, consumes);
      return;
    }
    outgoing_.push_back(Outgoing{control::encode(message), consumes, std::move(after)});
    write_next();
  }

  void queue_output(ByteView data, bool is_stderr) {
    while (!data.empty()) {
      const auto chunk = data.first(std::min(data.size(), control::kMaxDataChunk));
      data = data.subspan(chunk.size());
      if (is_stderr) {
        queue(control::Stderr{to_bytes(chunk)}, chunk.size());
      } else {
        queue(control::Data{to_bytes(chunk)}, chunk.size());
      }
    }
  }

  void write_next() {
    if (writing_ || outgoing_.empty() || socket_closed_) return;
    writing_ = true;
    asio::async_write(socket_, asio::buffer(outgoing_.front().frame),
                      [self = shared_from_this()](std::error_code error, std::size_t) {
                        self->on_written(error);
                      });
  }

  void on_written(std::error_code error) {
    writing_ = false;
    if (socket_closed_) return;
    if (error || outgoing_.empty()) {
      lost_client();
      return;
    }
    Outgoing done = std::move(outgoing_.front());
    outgoing_.pop_front();
    if (done.consumes > 0 && channel_open_) {
      (void)connection_.consume(channel_, done.consumes);
      kick_();
    }
    if (done.after) done.after();
    write_next();
    close_if_done();
  }

  void read_more() {
    if (reading_ || socket_closed_ || paused_) return;
    reading_ = true;
    socket_.async_read_some(asio::buffer(read_buffer_),
                            [self = shared_from_this()](std::error_code error, std::size_t length) {
                              self->on_read(error, length);
                            });
  }

  void on_read(std::error_code error, std::size_t length) {
    reading_ = false;
    if (socket_closed_) return;
    if (error) {
      lost_client();
      return;
    }
    decoder_.feed(ByteView(read_buffer_).first(length));
    process_messages();
    kick_();
  }

  void resume_reading() {
    paused_ = false;
    process_messages();
    kick_();
  }

  // Handles every complete message, unless one must wait for the server's
  // window; reads more once none is left.
  void process_messages() {
    while (!paused_ && !socket_closed_) {
      auto next = decoder_.next();
      if (!next) {
        logger()->warn("control client: {}", next.error().message);
        lost_client();
        return;
      }
      if (!next->has_value()) break;
      handle(std::move(**next));
    }
    if (!paused_) read_more();
  }

  void handle(control::Message message) {
    if (!hello_received_) {
      const auto* hello = std::get_if<control::Hello>(&message);
      if (!hello || hello->version != control::kProtocolVersion) {
        reply_and_close(control::Failure{"control protocol version mismatch"});
        return;
      }
      hello_received_ = true;
      return;
    }
    if (session_requested_) {
      handle_session_message(std::move(message));
      return;
    }
    std::visit([this](auto& m) { handle_request(m); }, message);
  }

  void handle_request(const control::Check&) {
    logger()->debug("control client: check");
    reply_and_close(control::Alive{master_pid_});
  }

  void handle_request(const control::ExitMaster&) {
    logger()->info("control client asked the master to exit");
    auto on_exit = on_exit_;
    queue(control::Ok{}, 0, [on_exit] {
      if (on_exit) on_exit();
    });
    close_after_writes_ = true;
  }

  void handle_request(const control::Forward& request) {
    auto spec = config::parse_forward(request.kind, request.spec);
    if (!spec) {
      reply_and_close(control::Failure{spec.error().message});
      return;
    }
    logger()->info("control client: forward {}", spec->to_string());
    if (request.kind != config::ForwardKind::Remote) {
      auto listening = forwarding_.add_local(*spec);
      if (!listening) {
        reply_and_close(control::Failure{listening.error().message});
        return;
      }
      std::string detail;
      for (const auto& endpoint : *listening) {
        if (!detail.empty()) detail += ' ';
        detail += endpoint;
      }
      reply_and_close(control::Ok{detail});
      return;
    }
    std::weak_ptr<Client> weak = shared_from_this();
    auto started = forwarding_.add_remote(*spec, [weak](Result<std::uint16_t> port) {
      auto self = weak.lock();
      if (!self) return;
      if (port) {
        self->reply_and_close(control::Ok{std::to_string(*port)});
      } else {
        self->reply_and_close(control::Failure{port.error().message});
      }
    });
    if (!started) reply_and_close(control::Failure{started.error().message});
  }

  void handle_request(const control::CancelForward& request) {
    auto spec = config::parse_forward(request.kind, request.spec);
    if (!spec) {
      reply_and_close(control::Failure{spec.error().message});
      return;
    }
    logger()->info("control client: cancel {}", spec->to_string());
    if (request.kind != config::ForwardKind::Remote) {
      auto cancelled = forwarding_.cancel_local(*spec);
      if (cancelled) {
        reply_and_close(control::Ok{});
      } else {
        reply_and_close(control::Failure{cancelled.error().message});
      }
      return;
    }
    std::weak_ptr<Client> weak = shared_from_this();
    auto started = forwarding_.cancel_remote(*spec, [weak](Status done) {
      auto self = weak.lock();
      if (!self) return;
      if (done) {
        self->reply_and_close(control::Ok{});
      } else {
        self->reply_and_close(control::Failure{done.error().message});
      }
    });
    if (!started) reply_and_close(control::Failure{started.error().message});
  }

  void handle_request(control::OpenSession& request) {
    session_requested_ = true;
    request_ = std::move(request);
    logger()->debug("control client: session \"{}\"{}", request_.command,
                    request_.want_pty ? " with a pty" : "");
    auto opened = connection_.open_channel(connection::SessionOpen{}, shared_from_this());
    if (!opened) {
      reply_and_close(control::Failure{opened.error().message});
      return;
    }
    channel_ = *opened;
    channel_open_ = true;
  }

  template <class Other>
  void handle_request(const Other&) {
    reply_and_close(control::Failure{"unexpected message before a request"});
  }

  void handle_session_message(control::Message message) {
    if (!channel_open_) return;  // the channel ended; the client hears CLOSED
    if (auto* data = std::get_if<control::Data>(&message)) {
      if (stdin_eof_) return;
      pending_stdin_ = std::move(data->bytes);
      pending_offset_ = 0;
      if (!send_pending_stdin()) paused_ = true;
    } else if (std::holds_alternative<control::Eof>(message)) {
      stdin_eof_ = true;
      (void)connection_.send_eof(channel_);
    } else if (auto* size = std::get_if<control::WindowChange>(&message)) {
      (void)connection_.send_window_change(
          channel_, connection::WindowChangeRequest{size->columns, size->rows, size->width_pixels,
                                                    size->height_pixels});
    } else if (auto* signal = std::get_if<control::Signal>(&message)) {
      (void)connection_.send_signal(channel_, signal->name);
    } else {
      logger()->warn("control client: unexpected message in a session");
      lost_client();
    }
  }

  // Sends what the server's window takes; true once all of it is gone.
  bool send_pending_stdin() {
    if (!channel_open_) return true;
    while (pending_offset_ < pending_stdin_.size()) {
      auto sent =
          connection_.send_data(channel_, ByteView(pending_stdin_).subspan(pending_offset_));
      if (!sent) return true;  // the channel is closing; drop it
      if (*sent == 0) return false;
      pending_offset_ += *sent;
    }
    pending_stdin_.clear();
    pending_offset_ = 0;
    return true;
  }

  void reply_and_close(const control::Message& reply) {
    queue(reply);
    close_after_writes_ = true;
    close_if_done();
  }

  void close_if_done() {
    if (close_after_writes_ && !writing_ && outgoing_.empty()) close_socket();
  }

  // The client went away: its channel goes too.
  void lost_client() {
    if (channel_open_) {
      logger()->debug("control client gone; closing its channel");
      (void)connection_.close(channel_);
      kick_();
    }
    close_socket();
  }

  void close_socket() {
    if (socket_closed_) return;
    socket_closed_ = true;
    std::error_code ignored;
    socket_.close(ignored);
    // Whatever was held for the client is given back to the server.
    std::size_t held = 0;
    for (const auto& out : outgoing_) held += out.consumes;
    outgoing_.clear();
    if (held > 0 && channel_open_) (void)connection_.consume(channel_, held);
  }

  connection::Connection& connection_;
  ClientForwarding& forwarding_;
  std::function<void()> kick_;
  std::uint32_t master_pid_;
  std::function<void()> on_exit_;
  ControlStream socket_;

  Bytes read_buffer_;
  control::FrameDecoder decoder_;
  bool reading_ = false;
  bool paused_ = false;
  bool hello_received_ = false;
  bool session_requested_ = false;

  std::deque<Outgoing> outgoing_;
  bool writing_ = false;
  bool close_after_writes_ = false;
  bool socket_closed_ = false;

  control::OpenSession request_;
  std::uint32_t channel_ = 0;
  bool channel_open_ = false;
  std::deque<Reply> pending_replies_;
  Bytes pending_stdin_;
  std::size_t pending_offset_ = 0;
  bool stdin_eof_ = false;
};

Status ControlMaster::listen(const std::string& path) {
  if (listener_) return control_error("the master already listens on " + path_);
  auto listener = std::make_unique<Listener>(io_);
  if (auto listening = listener->endpoint.listen(path); !listening) return listening;
  path_ = path;
  listener_ = std::move(listener);
  logger()->info("control master listening on {}", path_);
  accept_next();
  return {};
}

void ControlMaster::accept_next() {
  std::weak_ptr<bool> alive = alive_;
  listener_->endpoint.async_accept([this, alive](std::error_code error, ControlStream socket) {
    if (alive.expired() || !listener_) return;
    if (error) {
      if (error == asio::error::operation_aborted) return;
      logger()->warn("control socket accept: {}", error.message());
    } else {
      forget_finished_clients();
      auto on_exit = [this, alive] {
        if (!alive.expired() && on_exit_) on_exit_();
      };
      const auto pid = current_process_id();
      auto client = std::make_shared<Client>(connection_, forwarding_, kick_, pid,
                                             std::move(on_exit), std::move(socket));
      clients_.push_back(client);
      client->start();
    }
    accept_next();
  });
}

void ControlMaster::forget_finished_clients() {
  std::erase_if(clients_, [](const auto& client) { return client->finished(); });
}

std::size_t ControlMaster::session_count() const {
  return static_cast<std::size_t>(std::count_if(
      clients_.begin(), clients_.end(), [](const auto& client) { return client->has_session(); }));
}

void ControlMaster::shutdown() {
  if (listener_) {
    listener_->endpoint.close();
    listener_.reset();
  }
  for (auto& client : clients_) client->drop();
  clients_.clear();
}

ControlMaster::ControlMaster(asio::io_context& io, connection::Connection& connection,
                             ClientForwarding& forwarding, std::function<void()> kick)
    : io_(io), connection_(connection), forwarding_(forwarding), kick_(std::move(kick)) {}

ControlMaster::~ControlMaster() {
  shutdown();
}

}  // namespace ssh::net
