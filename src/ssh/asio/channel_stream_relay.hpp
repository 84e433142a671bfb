// One forwarded connection: an SSH channel relayed to a local byte stream
// (a TCP socket or a Unix-domain socket), both ways, until both sides are
// done. Every kind of forwarding uses it: direct-tcpip and forwarded-tcpip,
// their streamlocal forms, agent channels, and the client's -L/-R/-D.
//
// Flow control both ways, so neither side can make us queue without bound:
// - stream -> channel: one read buffer at a time; when the peer's window
//   takes only part of it, reading pauses until on_send_window_available.
// - channel -> stream: the channel's window is re-granted (consume()) only
//   after the bytes were written to the stream, so what we hold for a slow
//   reader never exceeds the window we gave the peer.
// EOF travels both ways (stream EOF -> CHANNEL_EOF, CHANNEL_EOF -> shutdown
// of the stream's sending side); the channel is closed once both
// directions ended, or at once on an error on either side.
//
// Single-threaded: everything runs on the io_context's thread. After its
// own asynchronous completions the relay calls `kick` (the driver's kick(),
// which writes what was queued on the connection); from inside
// ChannelHandler callbacks it does not, the driver writes after those.
// The owner calls Connection::abort_all() before destroying the Connection
// (the relay then forgets it: on_close / on_open_failed).
#pragma once

#include <asio.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ssh/common.hpp"
#include "ssh/connection/connection.hpp"

namespace ssh::net {

template <class Stream>
class ChannelStreamRelay : public connection::ChannelHandler,
                           public std::enable_shared_from_this<ChannelStreamRelay<Stream>> {
 public:
  // `label` names the forwarded connection in log lines, e.g.
  // "direct-tcpip to db:5432 from 192.0.2.7:50000". The stream may still
  // be unconnected when the relay answers a deferred open (see
  // set_on_open_pending); relaying starts once the channel is open.
  ChannelStreamRelay(connection::Connection& connection, std::function<void()> kick, Stream stream,
                     std::string label);
  ~ChannelStreamRelay() override;
  ChannelStreamRelay(const ChannelStreamRelay&) = delete;
  ChannelStreamRelay& operator=(const ChannelStreamRelay&) = delete;

  Stream& stream() { return stream_; }
  const std::string& label() const { return label_; }

  // Opens a channel of `type` to the peer with this relay as its handler
  // (forwarded-tcpip for a connection accepted on a forwarded port, say);
  // relaying starts when the peer confirms. The caller kicks afterwards.
  Result<std::uint32_t> open_channel(std::string type, Bytes type_specific_data);
  template <class T>
  Result<std::uint32_t> open_channel(const T& typed) {
    return open_channel(std::string(T::kType), connection::encode_to_bytes(typed));
  }

  // For a channel the peer opened and we deferred (connection::DeferredOpen):
  // called with the channel's id once the Connection assigned it, which is
  // the time to start connecting the stream.
  void set_on_open_pending(std::function<void(std::uint32_t id)> on_open_pending);
  // The deferred channel is still waiting for accept_open()/refuse_open():
  // false once the connection ended (on_open_failed) or it was decided.
  bool open_pending() const { return state_ == State::Pending && deferred_ && id_known_; }
  // Ends a deferred open: the stream is connected, confirm the channel and
  // start relaying; or it could not be, refuse the channel. Both do nothing
  // unless open_pending(). The caller kicks afterwards.
  Status accept_deferred_open();
  Status refuse_deferred_open(connection::OpenFailureReason reason, std::string description);

  // For a stream that already held a conversation before the channel (a
  // SOCKS handshake): once the channel is open, `to_stream_on_open` is
  // written to the stream before anything from the channel and
  // `to_channel_on_open` sent on the channel before anything read from the
  // stream; if it cannot be opened, `to_stream_on_refusal` is written
  // before the stream is closed. Call before open_channel().
  void set_preamble(Bytes to_stream_on_open, Bytes to_stream_on_refusal, Bytes to_channel_on_open);

  // Ends the relay from our side (a forward is cancelled, the program
  // stops): the stream is closed and the channel with it. The caller kicks.
  void close();

  // True once the channel is gone and the stream closed.
  bool finished() const { return state_ == State::Gone && stream_closed_; }

  // connection::ChannelHandler
  void on_open_pending(std::uint32_t id) override;
  void on_open_confirmed(std::uint32_t id) override;
  void on_open_failed(std::uint32_t id, connection::OpenFailureReason reason,
                      std::string_view description) override;
  void on_data(std::uint32_t id, ByteView data) override;
  void on_extended_data(std::uint32_t id, std::uint32_t type, ByteView data) override;
  void on_eof(std::uint32_t id) override;
  void on_close(std::uint32_t id) override;
  void on_send_window_available(std::uint32_t id) override;

 private:
  // Pending: the channel is being opened (by either side). Open: relaying.
  // Gone: the Connection forgot the channel (or refused it); the relay
  // never touches the Connection again, only finishes writing what it got.
  enum class State { Pending, Open, Gone };

  // One read from the stream at a time, at most this much.
  static constexpr std::size_t kReadSize = 64 * 1024;

  void start_reading();
  void on_read(std::error_code error, std::size_t length);
  // Hands the unsent part of the read buffer to the channel as far as the
  // peer's window allows; reads again once it is all gone.
  void send_to_channel();
  void start_writing();
  void on_written(std::error_code error, std::size_t length);
  // Both directions ended: close the channel and the stream.
  void finish_if_done();
  // An error on either side: drop everything.
  void fail(std::string_view why);
  void close_channel();
  void close_stream();

  connection::Connection& connection_;
  std::function<void()> kick_;
  Stream stream_;
  std::string label_;
  std::function<void(std::uint32_t)> on_open_pending_;

  State state_ = State::Pending;
  std::uint32_t id_ = 0;
  bool id_known_ = false;
  // The peer opened the channel and we deferred the answer.
  bool deferred_ = false;
  bool close_sent_ = false;

  // stream -> channel
  bool reading_ = false;
  bool stream_eof_ = false;
  bool eof_sent_ = false;
  Bytes read_buffer_;
  std::size_t unsent_offset_ = 0;
  std::size_t unsent_size_ = 0;

  // channel -> stream
  bool writing_ = false;
  bool channel_eof_ = false;
  bool stream_shut_down_ = false;
  // What is being written, and what arrived meanwhile (written next).
  Bytes writing_now_;
  Bytes to_stream_;

  bool stream_closed_ = false;

  // set_preamble(); stream_preamble_unconsumed_ counts the bytes written to
  // the stream that did not come from the peer (no window to give back).
  Bytes preamble_to_stream_;
  Bytes preamble_on_refusal_;
  Bytes preamble_to_channel_;
  std::size_t stream_preamble_unconsumed_ = 0;
};

using TcpChannelRelay = ChannelStreamRelay<asio::ip::tcp::socket>;
#if defined(ASIO_HAS_LOCAL_SOCKETS)
using LocalChannelRelay = ChannelStreamRelay<asio::local::stream_protocol::socket>;
#endif

}  // namespace ssh::net
