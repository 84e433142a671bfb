#include "ssh/asio/channel_stream_relay.hpp"

#include <algorithm>
#include <utility>

#include "ssh/log.hpp"

namespace ssh::net {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  static const auto instance = log::get("forward");
  return instance;
}

}  // namespace

template <class Stream>
ChannelStreamRelay<Stream>::ChannelStreamRelay(connection::Connection& connection,
                                               std::function<void()> kick, Stream stream,
                                               std::string label)
    : connection_(connection),
      kick_(std::move(kick)),
      stream_(std::move(stream)),
      label_(std::move(label)) {}

template <class Stream>
ChannelStreamRelay<Stream>::~ChannelStreamRelay() {
  std::error_code ignored;
  stream_.close(ignored);
}

template <class Stream>
void ChannelStreamRelay<Stream>::set_on_open_pending(
    std::function<void(std::uint32_t)> on_open_pending) {
  on_open_pending_ = std::move(on_open_pending);
}

template <class Stream>
void ChannelStreamRelay<Stream>::set_preamble(Bytes to_stream_on_open, Bytes to_stream_on_refusal,
                                              Bytes to_channel_on_open) {
  preamble_to_stream_ = std::move(to_stream_on_open);
  preamble_on_refusal_ = std::move(to_stream_on_refusal);
  preamble_to_channel_ = std::move(to_channel_on_open);
}

template <class Stream>
Result<std::uint32_t> ChannelStreamRelay<Stream>::open_channel(std::string type,
                                                               Bytes type_specific_data) {
  auto opened = connection_.open_channel(std::move(type), std::move(type_specific_data),
                                         this->shared_from_this());
  if (!opened) {
    state_ = State::Gone;
    close_stream();
    return opened;
  }
  id_ = *opened;
  id_known_ = true;
  return opened;
}

template <class Stream>
void ChannelStreamRelay<Stream>::on_open_pending(std::uint32_t id) {
  id_ = id;
  id_known_ = true;
  deferred_ = true;
  // Called once: let go of what the callback holds.
  auto callback = std::move(on_open_pending_);
  on_open_pending_ = nullptr;
  if (callback) callback(id);
}

template <class Stream>
Status ChannelStreamRelay<Stream>::accept_deferred_open() {
  if (!open_pending()) return {};
  Status accepted = connection_.accept_open(id_);  // on_open_confirmed follows at once
  if (!accepted) {
    state_ = State::Gone;
    close_stream();
  }
  return accepted;
}

template <class Stream>
Status ChannelStreamRelay<Stream>::refuse_deferred_open(connection::OpenFailureReason reason,
                                                        std::string description) {
  if (!open_pending()) return {};
  state_ = State::Gone;
  close_stream();
  return connection_.refuse_open(id_, reason, std::move(description));
}

template <class Stream>
void ChannelStreamRelay<Stream>::on_open_confirmed(std::uint32_t id) {
  id_ = id;
  id_known_ = true;
  state_ = State::Open;
  // Window for the peer only as fast as the stream takes the data.
  if (Status deferred = connection_.defer_consumption(id); !deferred) {
    fail(deferred.error().message);
    return;
  }
  logger()->debug("channel {}: relaying {}", id, label_);
  read_buffer_.resize(std::max(kReadSize, preamble_to_channel_.size()));
  if (!preamble_to_stream_.empty()) {
    stream_preamble_unconsumed_ = preamble_to_stream_.size();
    to_stream_ = std::exchange(preamble_to_stream_, {});
    start_writing();
  }
  if (!preamble_to_channel_.empty()) {
    std::copy(preamble_to_channel_.begin(), preamble_to_channel_.end(), read_buffer_.begin());
    unsent_offset_ = 0;
    unsent_size_ = preamble_to_channel_.size();
    preamble_to_channel_.clear();
    send_to_channel();  // reads from the stream once it is sent
    return;
  }
  start_reading();
}

template <class Stream>
void ChannelStreamRelay<Stream>::on_open_failed(std::uint32_t id,
                                                connection::OpenFailureReason reason,
                                                std::string_view description) {
  logger()->debug("channel {}: {} not opened: {} ({})", id, label_,
                  connection::open_failure_reason_name(reason), description);
  state_ = State::Gone;
  if (!preamble_on_refusal_.empty() && !stream_closed_) {
    // Written, then the stream is closed (start_writing on a Gone relay).
    to_stream_ = std::exchange(preamble_on_refusal_, {});
    start_writing();
    return;
  }
  close_stream();
}

template <class Stream>
void ChannelStreamRelay<Stream>::start_reading() {
  if (reading_ || stream_eof_ || stream_closed_ || state_ != State::Open || close_sent_ ||
      unsent_size_ > 0) {
    return;
  }
  reading_ = true;
  stream_.async_read_some(
      asio::buffer(read_buffer_),
      [self = this->shared_from_this()](std::error_code error, std::size_t length) {
        self->on_read(error, length);
      });
}

template <class Stream>
void ChannelStreamRelay<Stream>::on_read(std::error_code error, std::size_t length) {
  reading_ = false;
  if (stream_closed_ || state_ != State::Open || close_sent_) return;
  if (error) {
    if (error == asio::error::eof) {
      stream_eof_ = true;
      if (Status sent = connection_.send_eof(id_); !sent) {
        fail(sent.error().message);
      } else {
        eof_sent_ = true;
        finish_if_done();
      }
    } else {
      fail(error.message());
    }
    kick_();
    return;
  }
  unsent_offset_ = 0;
  unsent_size_ = length;
  send_to_channel();
  kick_();
}

template <class Stream>
void ChannelStreamRelay<Stream>::send_to_channel() {
  while (unsent_size_ > 0) {
    if (state_ != State::Open || close_sent_) return;
    auto sent =
        connection_.send_data(id_, ByteView(read_buffer_).subspan(unsent_offset_, unsent_size_));
    if (!sent) {
      fail(sent.error().message);
      return;
    }
    if (*sent == 0) return;  // the window is full: on_send_window_available resumes
    unsent_offset_ += *sent;
    unsent_size_ -= *sent;
  }
  start_reading();
}

template <class Stream>
void ChannelStreamRelay<Stream>::on_send_window_available(std::uint32_t) {
  send_to_channel();
}

template <class Stream>
void ChannelStreamRelay<Stream>::on_data(std::uint32_t id, ByteView data) {
  if (stream_closed_ || stream_shut_down_) {
    // Nobody will read it; the peer may have its window back.
    (void)connection_.consume(id, data.size());
    return;
  }
  to_stream_.insert(to_stream_.end(), data.begin(), data.end());
  start_writing();
}

template <class Stream>
void ChannelStreamRelay<Stream>::on_extended_data(std::uint32_t id, std::uint32_t, ByteView data) {
  // A forwarded stream has no second output: dropped, as OpenSSH does.
  (void)connection_.consume(id, data.size());
}

template <class Stream>
void ChannelStreamRelay<Stream>::start_writing() {
  if (writing_ || stream_closed_) return;
  if (to_stream_.empty()) {
    if (state_ == State::Gone) {
      // The channel closed and everything it delivered is written.
      close_stream();
    } else if (channel_eof_ && !stream_shut_down_) {
      stream_shut_down_ = true;
      std::error_code ignored;  // a peer that already went away is not an error here
      stream_.shutdown(Stream::shutdown_send, ignored);
      finish_if_done();
    }
    return;
  }
  writing_ = true;
  writing_now_.swap(to_stream_);
  to_stream_.clear();
  asio::async_write(stream_, asio::buffer(writing_now_),
                    [self = this->shared_from_this()](std::error_code error, std::size_t length) {
                      self->on_written(error, length);
                    });
}

template <class Stream>
void ChannelStreamRelay<Stream>::on_written(std::error_code error, std::size_t length) {
  writing_ = false;
  writing_now_.clear();
  if (stream_closed_) return;
  if (state_ == State::Gone) {
    // Only the stream is left (the Connection, and whoever kick() reaches,
    // may be gone too): finish writing what the channel delivered.
    if (error) {
      close_stream();
    } else {
      start_writing();
    }
    return;
  }
  if (error) {
    fail(error.message());
  } else if (state_ == State::Open) {
    const std::size_t ours = std::min(length, stream_preamble_unconsumed_);
    stream_preamble_unconsumed_ -= ours;
    if (Status consumed = connection_.consume(id_, length - ours); !consumed) {
      fail(consumed.error().message);
    } else {
      start_writing();
    }
  }
  kick_();
}

template <class Stream>
void ChannelStreamRelay<Stream>::on_eof(std::uint32_t) {
  channel_eof_ = true;
  start_writing();
}

template <class Stream>
void ChannelStreamRelay<Stream>::finish_if_done() {
  if (!eof_sent_ || !stream_shut_down_) return;
  logger()->debug("channel {}: {} finished both ways", id_, label_);
  close_stream();
  close_channel();
}

template <class Stream>
void ChannelStreamRelay<Stream>::fail(std::string_view why) {
  logger()->debug("channel {}: {} ends: {}", id_, label_, why);
  close_stream();
  close_channel();
}

template <class Stream>
void ChannelStreamRelay<Stream>::close() {
  if (open_pending()) {
    (void)refuse_deferred_open(connection::OpenFailureReason::ConnectFailed, "forward closed");
    return;
  }
  close_stream();
  close_channel();
}

template <class Stream>
void ChannelStreamRelay<Stream>::close_channel() {
  if (close_sent_ || state_ == State::Gone || !id_known_) return;
  close_sent_ = true;
  // A deferred open is refused by this (and the handler hears nothing
  // more); one of ours being opened gets its CLOSE once the peer confirms.
  const bool refusing = state_ == State::Pending && deferred_;
  (void)connection_.close(id_);
  if (refusing) state_ = State::Gone;
}

template <class Stream>
void ChannelStreamRelay<Stream>::on_close(std::uint32_t id) {
  logger()->debug("channel {}: {} closed", id, label_);
  state_ = State::Gone;
  // What the peer sent before its CLOSE still goes to the stream.
  if (!writing_ && to_stream_.empty()) close_stream();
}

template <class Stream>
void ChannelStreamRelay<Stream>::close_stream() {
  if (stream_closed_) return;
  stream_closed_ = true;
  std::error_code ignored;
  stream_.close(ignored);
}

template class ChannelStreamRelay<asio::ip::tcp::socket>;
#if defined(ASIO_HAS_LOCAL_SOCKETS)
template class ChannelStreamRelay<asio::local::stream_protocol::socket>;
#endif

}  // namespace ssh::net
