#include "ssh/asio/agent_forwarding.hpp"

#include "ssh/log.hpp"

namespace ssh::net {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  static const auto instance = log::get("agent");
  return instance;
}

}  // namespace

AgentForwardingHandler::AgentForwardingHandler(asio::io_context& io,
                                               connection::Connection& connection,
                                               std::function<void()> kick,
                                               std::optional<std::string> agent_path)
    : io_(io),
      connection_(connection),
      kick_(std::move(kick)),
      agent_path_(std::move(agent_path)) {}

connection::OpenDecision AgentForwardingHandler::on_channel_open(std::string_view type,
                                                                 ByteView type_specific_data) {
  using connection::OpenFailure;
  using connection::OpenFailureReason;
  if (type != connection::AuthAgentOpen::kType) {
    return ConnectionHandler::on_channel_open(type, type_specific_data);
  }
  if (!agent_path_) {
    logger()->warn("refused agent channel: agent forwarding was not requested");
    return OpenFailure{OpenFailureReason::AdministrativelyProhibited,
                       "agent forwarding not requested"};
  }
  auto stream = connect_agent(io_, *agent_path_);
  if (!stream) {
    logger()->debug("agent channel: {}", stream.error().message);
    return OpenFailure{OpenFailureReason::ConnectFailed, "cannot connect to the local agent"};
  }
  logger()->debug("agent channel opened by the server; relaying to {}", *agent_path_);
  return std::make_shared<AgentRelay>(connection_, kick_, std::move(*stream));
}

AgentRelay::AgentRelay(connection::Connection& connection, std::function<void()> kick,
                       AgentStream stream)
    : connection_(connection), kick_(std::move(kick)), stream_(std::move(stream)) {}

AgentRelay::~AgentRelay() {
  std::error_code ignored;
  stream_.close(ignored);
}

void AgentRelay::on_open_confirmed(std::uint32_t id) {
  id_ = id;
  channel_open_ = true;
  read_from_agent();
}

void AgentRelay::read_from_agent() {
  if (reading_ || stream_closed_ || !channel_open_ || !to_channel_.empty()) return;
  reading_ = true;
  read_buffer_.resize(kReadSize);
  stream_.async_read_some(
      asio::buffer(read_buffer_), [self = shared_from_this()](std::error_code ec, std::size_t n) {
        self->reading_ = false;
        if (!self->channel_open_) return;
        if (ec) {
          // The agent hung up (or failed): no more data for the server.
          self->close_stream();
          if (self->to_channel_.empty()) self->finish_channel();
          self->kick_();
          return;
        }
        self->to_channel_.assign(self->read_buffer_.begin(), self->read_buffer_.begin() + n);
        self->to_channel_offset_ = 0;
        self->send_to_channel();
        self->kick_();
      });
}

void AgentRelay::send_to_channel() {
  if (!channel_open_) return;
  while (to_channel_offset_ < to_channel_.size()) {
    auto sent = connection_.send_data(id_, ByteView(to_channel_).subspan(to_channel_offset_));
    if (!sent) {
      close_stream();
      (void)connection_.close(id_);
      return;
    }
    if (*sent == 0) return;  // window full: on_send_window_available resumes
    to_channel_offset_ += *sent;
  }
  to_channel_.clear();
  to_channel_offset_ = 0;
  if (stream_closed_) {
    finish_channel();
  } else {
    read_from_agent();
  }
}

void AgentRelay::on_send_window_available(std::uint32_t) {
  send_to_channel();
  kick_();
}

void AgentRelay::on_data(std::uint32_t id, ByteView data) {
  if (stream_closed_) return;
  if (to_agent_bytes_ + data.size() > kMaxQueuedToAgent) {
    logger()->warn(
        "agent channel: the server sent more than {} bytes without reading replies; "
        "closing it",
        kMaxQueuedToAgent);
    close_stream();
    (void)connection_.close(id);
    return;
  }
  to_agent_.emplace_back(data.begin(), data.end());
  to_agent_bytes_ += data.size();
  write_to_agent();
}

void AgentRelay::write_to_agent() {
  if (writing_ || stream_closed_) return;
  if (to_agent_.empty()) {
    if (channel_eof_) {
      // The server will send nothing more; the agent still answers what it
      // got (POSIX half-close; a pipe has none and stays open until close).
#ifndef _WIN32
      std::error_code ignored;
      stream_.shutdown(asio::local::stream_protocol::socket::shutdown_send, ignored);
#endif
    }
    return;
  }
  writing_ = true;
  writing_now_ = std::move(to_agent_.front());
  to_agent_.pop_front();
  to_agent_bytes_ -= writing_now_.size();
  asio::async_write(stream_, asio::buffer(writing_now_),
                    [self = shared_from_this()](std::error_code ec, std::size_t) {
                      self->writing_ = false;
                      if (ec) {
                        self->close_stream();
                        if (self->channel_open_) {
                          (void)self->connection_.close(self->id_);
                          self->kick_();
                        }
                        return;
                      }
                      self->write_to_agent();
                    });
}

void AgentRelay::on_eof(std::uint32_t) {
  channel_eof_ = true;
  write_to_agent();
}

void AgentRelay::finish_channel() {
  if (!channel_open_) return;
  (void)connection_.send_eof(id_);
  (void)connection_.close(id_);
}

void AgentRelay::on_close(std::uint32_t) {
  channel_open_ = false;
  close_stream();
}

void AgentRelay::close_stream() {
  if (stream_closed_) return;
  stream_closed_ = true;
  std::error_code ignored;
  stream_.close(ignored);
}

}  // namespace ssh::net
