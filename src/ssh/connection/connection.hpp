// The SSH connection protocol (RFC 4254): channels, their flow control and
// requests, and global requests. One implementation serves both roles.
//
// Sans-I/O: the owner (the session) feeds every payload numbered 80-100 into
// handle_message() and the Connection writes its own messages to a
// PayloadSink, synchronously. Applications see channels through
// ChannelHandler callbacks, which are made from inside handle_message() (or,
// for on_open_confirmed of an incoming channel, right after it is accepted).
//
// Re-entrancy: callbacks may call any sending method of the Connection
// (send_data, close, open_channel, ...), but not handle_message() or
// abort_all(), and must not destroy the Connection. The PayloadSink must not
// call back into the Connection.
//
// Errors: handle_message() returns an Error with DisconnectReason::
// ProtocolError for anything the peer must not send; the session then
// disconnects. The sending methods return an Error with DisconnectReason::
// ByApplication for local misuse (unknown channel, data after EOF, ...) and
// pass sink errors through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/connection/messages.hpp"
#include "ssh/limits.hpp"

namespace spdlog {
class logger;
}

namespace ssh::connection {

struct ConnectionConfig {
  // Receive window granted to the peer on every channel, and the size it is
  // topped up to.
  std::uint32_t initial_window = limits::kDefaultWindowSize;
  // Largest data length we accept in one CHANNEL_DATA / EXTENDED_DATA; must
  // fit the transport's packet limit.
  std::uint32_t max_packet = limits::kDefaultMaxPacketSize;
  // Channels open at once (both directions together). Clamped to
  // Connection::kMaxChannelSlots.
  std::size_t max_channels = limits::kMaxChannels;
};

// Where the Connection's outgoing payloads go (the transport). The payload
// is head followed by tail: CHANNEL_DATA passes its header as head and the
// caller's data as tail, so the data is copied once, into the packet.
class PayloadSink {
 public:
  virtual ~PayloadSink() = default;
  virtual Status send_payload(ByteView head, ByteView tail = {}) = 0;
};

// The application side of one channel. Every callback gets the local
// channel id. The defaults ignore events and refuse requests.
class ChannelHandler {
 public:
  virtual ~ChannelHandler() = default;

  // The channel is open: for channels we opened, the peer confirmed it; for
  // channels the peer opened, we accepted it (this tells the handler its id).
  virtual void on_open_confirmed(std::uint32_t /*id*/) {}
  // A channel the peer opened was deferred (DeferredOpen): this is its id,
  // for accept_open()/refuse_open().
  virtual void on_open_pending(std::uint32_t /*id*/) {}
  // The peer refused a channel we opened, or the connection ended while we
  // opened or deferred one; the id is already free.
  virtual void on_open_failed(std::uint32_t /*id*/, OpenFailureReason /*reason*/,
                              std::string_view /*description*/) {}
  // The data counts as consumed (and may be re-granted to the peer) once
  // this returns; the view is only valid during the call.
  virtual void on_data(std::uint32_t /*id*/, ByteView /*data*/) {}
  virtual void on_extended_data(std::uint32_t /*id*/, std::uint32_t /*type*/, ByteView /*data*/) {}
  virtual void on_eof(std::uint32_t /*id*/) {}
  // Both sides have sent CLOSE; the id is already free when this is called.
  virtual void on_close(std::uint32_t /*id*/) {}
  // A CHANNEL_REQUEST from the peer (decode `data` with decode_typed<>()).
  // The result is the reply sent when want_reply is set.
  virtual bool on_request(std::uint32_t /*id*/, std::string_view /*type*/, bool /*want_reply*/,
                          ByteView /*data*/) {
    return false;
  }
  // The reply to one of our requests that had want_reply, in sending order.
  virtual void on_request_reply(std::uint32_t /*id*/, bool /*success*/) {}
  // The peer's window grew after send_data/send_extended_data accepted less
  // than it was given: the time to send the rest.
  virtual void on_send_window_available(std::uint32_t /*id*/) {}
};

// Refusal of a channel the peer wants to open.
struct OpenFailure {
  OpenFailureReason reason = OpenFailureReason::AdministrativelyProhibited;
  std::string description;
};
// Accept later: the channel gets an id now (on_open_pending) and is
// confirmed or refused with accept_open()/refuse_open() once the handler
// knows (a TCP connect finished, say). Until then it holds a channel slot.
struct DeferredOpen {
  std::shared_ptr<ChannelHandler> handler;
};
// Accept (with the handler for the new channel), refuse, or decide later.
using OpenDecision = std::variant<std::shared_ptr<ChannelHandler>, OpenFailure, DeferredOpen>;

// Decisions that concern the whole connection. The defaults refuse every
// channel open and fail every global request.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;

  // The peer wants to open a channel of `type` (decode `type_specific_data`
  // with decode_typed<>()). Channel types the peer's role may not open
  // (e.g. "session" from a server) are refused before this is asked.
  virtual OpenDecision on_channel_open(std::string_view type, ByteView type_specific_data);
  // A GLOBAL_REQUEST from the peer: reply data for success, nullopt for
  // failure (what OpenSSH answers to requests it does not know, including
  // keepalive@openssh.com). The result is sent only when want_reply is set.
  virtual std::optional<Bytes> on_global_request(std::string_view name, bool want_reply,
                                                 ByteView data);
};

class Connection {
 public:
  // Channel ids are a slot index (low 16 bits) and the slot's reuse count
  // (high 16 bits), so an id that was closed stays invalid when its slot
  // holds a new channel.
  static constexpr std::size_t kMaxChannelSlots = std::size_t{1} << 16;

  using GlobalReplyCallback = std::function<void(bool success, ByteView data)>;

  // `sink` must outlive the Connection. A null handler means the default
  // ConnectionHandler.
  Connection(Role role, ConnectionConfig config, PayloadSink& sink,
             std::shared_ptr<ConnectionHandler> handler = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void set_handler(std::shared_ptr<ConnectionHandler> handler);

  Role role() const { return role_; }
  const ConnectionConfig& config() const { return config_; }

  // Input: one payload whose first byte is a connection message number
  // (is_connection_message()).
  Status handle_message(ByteView payload);

  // Channels ---------------------------------------------------------------

  // Sends CHANNEL_OPEN and returns the new channel's id; the outcome arrives
  // as handler->on_open_confirmed or on_open_failed.
  Result<std::uint32_t> open_channel(std::string type, Bytes type_specific_data,
                                     std::shared_ptr<ChannelHandler> handler);
  template <class T>
  Result<std::uint32_t> open_channel(const T& typed, std::shared_ptr<ChannelHandler> handler) {
    return open_channel(std::string(T::kType), encode_to_bytes(typed), std::move(handler));
  }

  // Ends a DeferredOpen: confirms the channel (on_open_confirmed follows at
  // once), or refuses it (OPEN_FAILURE to the peer; the id is freed and the
  // handler hears nothing more).
  Status accept_open(std::uint32_t id);
  Status refuse_open(std::uint32_t id, OpenFailureReason reason, std::string description);

  // Sends as much of `data` as the peer's window allows, in packets no
  // larger than its max packet, and returns how much that was. When it is
  // less than data.size(), on_send_window_available follows once the peer
  // grows the window. Refused after send_eof() or close().
  Result<std::size_t> send_data(std::uint32_t id, ByteView data);
  Result<std::size_t> send_extended_data(std::uint32_t id, std::uint32_t type, ByteView data);
  // Application flow control for data from the peer: after this, what
  // on_data/on_extended_data delivered is re-granted to the peer only when
  // consume() says it was used, so the peer cannot outrun a slow consumer
  // by more than the window. Without it, data counts as used on delivery.
  Status defer_consumption(std::uint32_t id);
  // `length` bytes delivered on the channel were used; unknown (closed)
  // channels are ignored.
  Status consume(std::uint32_t id, std::size_t length);

  // Bytes the peer will currently accept on the channel (0 if unknown).
  std::uint32_t send_window(std::uint32_t id) const;

  // No more data from us. Sending it twice is harmless.
  Status send_eof(std::uint32_t id);
  // Sends CLOSE (deferred until the open is confirmed if it is pending).
  // After this the handler only hears on_close (or on_open_failed); the
  // channel is freed when the peer's CLOSE arrives. Closing twice is harmless.
  Status close(std::uint32_t id);

  // CHANNEL_REQUEST. With want_reply, the reply comes as on_request_reply.
  // Requests the RFC reserves for the other role (e.g. exit-status from a
  // client) are refused.
  Status send_request(std::uint32_t id, std::string_view type, bool want_reply, Bytes data);
  template <class T>
  Status send_request(std::uint32_t id, const T& typed, bool want_reply) {
    return send_request(id, T::kType, want_reply, encode_to_bytes(typed));
  }
  Status request_pty(std::uint32_t id, const PtyRequest& pty, bool want_reply = true);
  Status request_exec(std::uint32_t id, std::string_view command, bool want_reply = true);
  Status request_shell(std::uint32_t id, bool want_reply = true);
  Status request_subsystem(std::uint32_t id, std::string_view name, bool want_reply = true);
  Status request_auth_agent(std::uint32_t id, bool want_reply = false);
  Status send_env(std::uint32_t id, std::string_view name, std::string_view value,
                  bool want_reply = false);
  Status send_window_change(std::uint32_t id, const WindowChangeRequest& size);
  Status send_signal(std::uint32_t id, std::string_view name);
  Status send_exit_status(std::uint32_t id, std::uint32_t exit_status);
  Status send_exit_signal(std::uint32_t id, const ExitSignalRequest& exit_signal);

  std::size_t channel_count() const { return channel_count_; }
  bool has_channel(std::uint32_t id) const { return find(id) != nullptr; }

  // Global requests ----------------------------------------------------------

  // With want_reply, on_reply gets the outcome and the response data; replies
  // come in sending order.
  Status send_global_request(std::string_view name, bool want_reply, Bytes data,
                             GlobalReplyCallback on_reply = nullptr);

  // The transport is gone: channels being opened get on_open_failed
  // (ConnectFailed), open ones on_close, pending global requests their
  // callback with failure. Sends nothing; the Connection is empty afterwards.
  void abort_all();

 private:
  struct Channel;
  struct Slot {
    std::uint16_t generation = 0;
    std::unique_ptr<Channel> channel;
  };

  Channel* find(std::uint32_t id) const;
  // The open channel a message from the peer is for, or a protocol error
  // naming the message and the channel.
  Result<Channel*> channel_for(std::uint8_t number, std::uint32_t id);
  Result<Channel*> channel_for_sending(std::string_view what, std::uint32_t id);
  Result<Channel*> allocate(std::string type, std::shared_ptr<ChannelHandler> handler);
  // Takes the channel out of the table; the caller runs the last callback.
  std::unique_ptr<Channel> release(Channel& channel);

  Status on_global_request(ByteView payload);
  Status on_global_reply(ByteView payload, bool success);
  Status on_channel_open(ByteView payload);
  Status confirm_open(Channel& channel);
  Status on_open_confirmation(ByteView payload);
  Status on_open_failure(ByteView payload);
  Status on_window_adjust(ByteView payload);
  Status on_data(ByteView payload);
  Status on_extended_data(ByteView payload);
  Status on_eof(ByteView payload);
  Status on_close(ByteView payload);
  Status on_channel_request(ByteView payload);
  Status on_channel_reply(ByteView payload, bool success);

  // Checks incoming data against our max packet and the window it may use,
  // and takes it out of that window.
  Status take_receive_window(std::uint8_t number, Channel& channel, std::size_t length);
  // Counts delivered data and re-grants it once half the window is used.
  Status mark_consumed(Channel& channel, std::size_t length);
  Result<std::size_t> send_data_packets(std::uint32_t id, const std::uint32_t* extended_type,
                                        ByteView data);
  Status send_close(Channel& channel);

  template <class Message>
  Status send_message(const Message& message);

  Role role_;
  ConnectionConfig config_;
  PayloadSink& sink_;
  std::shared_ptr<ConnectionHandler> handler_;
  std::shared_ptr<spdlog::logger> log_;

  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::size_t channel_count_ = 0;

  std::deque<GlobalReplyCallback> pending_global_replies_;

  // Reused for every outgoing message so that sending allocates nothing once
  // they have grown: data headers, and everything else.
  Bytes data_header_;
  Bytes message_buffer_;
};

}  // namespace ssh::connection
