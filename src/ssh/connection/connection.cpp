#include "ssh/connection/connection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "ssh/log.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::connection {
namespace {

// The largest data length we put in one packet whatever the peer's max
// packet says: what the transport accepts, less room for the message header,
// padding and MAC.
constexpr std::size_t kMaxSendChunk = limits::kMaxPacketLength - 1024;

constexpr std::uint32_t kSlotMask = 0xffff;
constexpr unsigned kGenerationShift = 16;

Error usage_error(std::string message) {
  return {DisconnectReason::ByApplication, std::move(message)};
}

Error malformed(std::uint8_t number) {
  return protocol_error(fmt::format("malformed {}", message_name(number)));
}

std::string_view role_name(Role role) {
  return role == Role::Client ? "client" : "server";
}

Role other_role(Role role) {
  return role == Role::Client ? Role::Server : Role::Client;
}

// Channel types that only one side may open (RFC 4254 sections 6.1, 6.3.2
// and 7.2; OpenSSH PROTOCOL): a client must not accept a "session" from a
// server, a server must not accept a "forwarded-tcpip" from a client.
bool may_open(Role opener, std::string_view type) {
  if (type == SessionOpen::kType || type == DirectTcpipOpen::kType ||
      type == DirectStreamlocalOpen::kType) {
    return opener == Role::Client;
  }
  if (type == ForwardedTcpipOpen::kType || type == ForwardedStreamlocalOpen::kType ||
      type == AuthAgentOpen::kType || type == "x11") {
    return opener == Role::Server;
  }
  return true;
}

// Channel requests that only one side may send (RFC 4254 section 6).
bool may_request(Role sender, std::string_view type) {
  if (type == PtyRequest::kType || type == "x11-req" || type == EnvRequest::kType ||
      type == ShellRequest::kType || type == ExecRequest::kType ||
      type == SubsystemRequest::kType || type == WindowChangeRequest::kType ||
      type == SignalRequest::kType || type == AuthAgentRequest::kType || type == "break") {
    return sender == Role::Client;
  }
  if (type == ExitStatusRequest::kType || type == ExitSignalRequest::kType || type == "xon-xoff") {
    return sender == Role::Server;
  }
  return true;
}

}  // namespace

struct Connection::Channel {
  // Opening: we sent OPEN. Accepting: the peer sent OPEN and our handler
  // deferred the answer.
  enum class State { Opening, Accepting, Open };

  std::uint32_t id = 0;
  std::string type;
  std::shared_ptr<ChannelHandler> handler;
  State state = State::Opening;
  std::uint32_t remote_id = 0;

  // What the peer may still send, and what was delivered since the last
  // WINDOW_ADJUST; their sum never exceeds the configured window.
  std::uint32_t receive_window = 0;
  std::uint32_t receive_consumed = 0;

  std::uint32_t send_window = 0;
  std::uint32_t send_max_packet = 0;
  // A send came up short: tell the handler when the window grows.
  bool send_window_wanted = false;
  // The application re-grants the window itself with consume(), once the
  // data has gone on (to a process, a socket), so a slow consumer slows
  // the peer instead of queueing without bound.
  bool deferred_consumption = false;

  bool eof_sent = false;
  bool eof_received = false;
  bool close_sent = false;
  // close() was called before the peer confirmed the open.
  bool close_wanted = false;
  // Our requests with want_reply still waiting for their reply.
  std::size_t pending_replies = 0;
};

OpenDecision ConnectionHandler::on_channel_open(std::string_view type,
                                                ByteView /*type_specific_data*/) {
  return OpenFailure{OpenFailureReason::AdministrativelyProhibited,
                     fmt::format("{} channels are not accepted", type)};
}

std::optional<Bytes> ConnectionHandler::on_global_request(std::string_view /*name*/,
                                                          bool /*want_reply*/, ByteView /*data*/) {
  return std::nullopt;
}

Connection::Connection(Role role, ConnectionConfig config, PayloadSink& sink,
                       std::shared_ptr<ConnectionHandler> handler)
    : role_(role), config_(config), sink_(sink), log_(ssh::log::get("connection")) {
  config_.max_channels = std::min(config_.max_channels, kMaxChannelSlots);
  set_handler(std::move(handler));
  data_header_.reserve(ChannelExtendedData::kHeaderSize);
  message_buffer_.reserve(256);
}

Connection::~Connection() = default;

void Connection::set_handler(std::shared_ptr<ConnectionHandler> handler) {
  handler_ = handler ? std::move(handler) : std::make_shared<ConnectionHandler>();
}

// --- Channel table ----------------------------------------------------------

Connection::Channel* Connection::find(std::uint32_t id) const {
  const std::uint32_t slot = id & kSlotMask;
  if (slot >= slots_.size()) return nullptr;
  Channel* channel = slots_[slot].channel.get();
  return channel != nullptr && channel->id == id ? channel : nullptr;
}

Result<Connection::Channel*> Connection::allocate(std::string type,
                                                  std::shared_ptr<ChannelHandler> handler) {
  if (channel_count_ >= config_.max_channels) {
    return usage_error(fmt::format("too many channels (at most {})", config_.max_channels));
  }
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  auto channel = std::make_unique<Channel>();
  channel->id = (std::uint32_t{slots_[slot].generation} << kGenerationShift) | slot;
  channel->type = std::move(type);
  channel->handler = std::move(handler);
  channel->receive_window = config_.initial_window;
  slots_[slot].channel = std::move(channel);
  ++channel_count_;
  return slots_[slot].channel.get();
}

std::unique_ptr<Connection::Channel> Connection::release(Channel& channel) {
  const std::uint32_t slot = channel.id & kSlotMask;
  auto owned = std::move(slots_[slot].channel);
  ++slots_[slot].generation;  // the old id stays invalid when the slot is reused
  free_slots_.push_back(slot);
  --channel_count_;
  return owned;
}

Result<Connection::Channel*> Connection::channel_for(std::uint8_t number, std::uint32_t id) {
  Channel* channel = find(id);
  if (channel == nullptr) {
    return protocol_error(fmt::format("{} for unknown channel {}", message_name(number), id));
  }
  if (channel->state != Channel::State::Open) {
    return protocol_error(
        fmt::format("{} for channel {} before its open was confirmed", message_name(number), id));
  }
  return channel;
}

Result<Connection::Channel*> Connection::channel_for_sending(std::string_view what,
                                                             std::uint32_t id) {
  Channel* channel = find(id);
  if (channel == nullptr) return usage_error(fmt::format("{}: unknown channel {}", what, id));
  if (channel->close_sent || channel->close_wanted) {
    return usage_error(fmt::format("{}: channel {} is closed", what, id));
  }
  if (channel->state != Channel::State::Open) {
    return usage_error(fmt::format("{}: channel {} is not open yet", what, id));
  }
  return channel;
}

template <class Message>
Status Connection::send_message(const Message& message) {
  message_buffer_.clear();
  wire::Writer writer(message_buffer_);
  message.encode(writer);
  return sink_.send_payload(message_buffer_);
}

// --- Input ------------------------------------------------------------------

Status Connection::handle_message(ByteView payload) {
  if (payload.empty()) return protocol_error("empty connection message");
  switch (payload[0]) {
    case kMsgGlobalRequest:
      return on_global_request(payload);
    case kMsgRequestSuccess:
      return on_global_reply(payload, true);
    case kMsgRequestFailure:
      return on_global_reply(payload, false);
    case kMsgChannelOpen:
      return on_channel_open(payload);
    case kMsgChannelOpenConfirmation:
      return on_open_confirmation(payload);
    case kMsgChannelOpenFailure:
      return on_open_failure(payload);
    case kMsgChannelWindowAdjust:
      return on_window_adjust(payload);
    case kMsgChannelData:
      return on_data(payload);
    case kMsgChannelExtendedData:
      return on_extended_data(payload);
    case kMsgChannelEof:
      return on_eof(payload);
    case kMsgChannelClose:
      return on_close(payload);
    case kMsgChannelRequest:
      return on_channel_request(payload);
    case kMsgChannelSuccess:
      return on_channel_reply(payload, true);
    case kMsgChannelFailure:
      return on_channel_reply(payload, false);
  }
  return protocol_error(fmt::format("message {} is not a connection message", payload[0]));
}

Status Connection::on_global_request(ByteView payload) {
  auto request = GlobalRequest::decode(payload);
  if (!request) return malformed(kMsgGlobalRequest);
  log_->debug("global request {} from peer (want reply: {})", request->name, request->want_reply);
  auto handler = handler_;  // the callback may replace it
  auto reply = handler->on_global_request(request->name, request->want_reply, request->data);
  if (!request->want_reply) return {};
  if (reply) return send_message(RequestSuccess{std::move(*reply)});
  return send_message(RequestFailure{});
}

Status Connection::on_global_reply(ByteView payload, bool success) {
  std::optional<RequestSuccess> reply;
  if (success) {
    reply = RequestSuccess::decode(payload);
    if (!reply) return malformed(kMsgRequestSuccess);
  } else if (!RequestFailure::decode(payload)) {
    return malformed(kMsgRequestFailure);
  }
  if (pending_global_replies_.empty()) {
    return protocol_error(
        fmt::format("{} without an outstanding global request", message_name(payload[0])));
  }
  auto on_reply = std::move(pending_global_replies_.front());
  pending_global_replies_.pop_front();
  if (on_reply) on_reply(success, reply ? ByteView(reply->data) : ByteView());
  return {};
}

Status Connection::on_channel_open(ByteView payload) {
  auto open = ChannelOpen::decode(payload);
  if (!open) return malformed(kMsgChannelOpen);
  if (open->max_packet == 0) {
    return protocol_error(fmt::format("{} of a {} channel with a maximum packet size of 0",
                                      message_name(kMsgChannelOpen), open->type));
  }
  auto refuse = [&](OpenFailureReason reason, std::string description) {
    log_->debug("refusing {} channel from peer (its channel {}): {}", open->type,
                open->sender_channel, description);
    return send_message(
        ChannelOpenFailure{open->sender_channel, reason, std::move(description), ""});
  };

  if (!may_open(other_role(role_), open->type)) {
    return refuse(
        OpenFailureReason::AdministrativelyProhibited,
        fmt::format("a {} may not open {} channels", role_name(other_role(role_)), open->type));
  }
  if (channel_count_ >= config_.max_channels) {
    return refuse(OpenFailureReason::ResourceShortage, "too many channels");
  }
  auto handler = handler_;  // the callback may replace it
  OpenDecision decision = handler->on_channel_open(open->type, open->type_specific);
  if (auto* failure = std::get_if<OpenFailure>(&decision)) {
    return refuse(failure->reason, std::move(failure->description));
  }
  const bool deferred = std::holds_alternative<DeferredOpen>(decision);
  auto channel_handler = deferred ? std::get<DeferredOpen>(std::move(decision)).handler
                                  : std::get<std::shared_ptr<ChannelHandler>>(std::move(decision));
  if (!channel_handler) return refuse(OpenFailureReason::AdministrativelyProhibited, "refused");
  // The decision may have opened channels of its own and filled the table.
  auto allocated = allocate(open->type, std::move(channel_handler));
  if (!allocated) return refuse(OpenFailureReason::ResourceShortage, "too many channels");

  Channel& channel = **allocated;
  channel.remote_id = open->sender_channel;
  channel.send_window = open->initial_window;
  channel.send_max_packet = open->max_packet;
  if (deferred) {
    channel.state = Channel::State::Accepting;
    log_->debug("channel {}: {} channel from peer (its channel {}) waits for a decision",
                channel.id, channel.type, channel.remote_id);
    channel.handler->on_open_pending(channel.id);
    return {};
  }
  return confirm_open(channel);
}

Status Connection::confirm_open(Channel& channel) {
  channel.state = Channel::State::Open;
  Status sent = send_message(ChannelOpenConfirmation{channel.remote_id, channel.id,
                                                     config_.initial_window, config_.max_packet});
  if (!sent) {
    release(channel);
    return sent;
  }
  log_->debug("channel {}: accepted {} channel from peer (its channel {})", channel.id,
              channel.type, channel.remote_id);
  channel.handler->on_open_confirmed(channel.id);
  return {};
}

Status Connection::accept_open(std::uint32_t id) {
  Channel* channel = find(id);
  if (channel == nullptr || channel->state != Channel::State::Accepting) {
    return usage_error(fmt::format("accept_open: channel {} is not waiting for a decision", id));
  }
  return confirm_open(*channel);
}

Status Connection::refuse_open(std::uint32_t id, OpenFailureReason reason,
                               std::string description) {
  Channel* channel = find(id);
  if (channel == nullptr || channel->state != Channel::State::Accepting) {
    return usage_error(fmt::format("refuse_open: channel {} is not waiting for a decision", id));
  }
  log_->debug("channel {}: refusing {} channel from peer (its channel {}): {}", id, channel->type,
              channel->remote_id, description);
  const std::uint32_t remote_id = channel->remote_id;
  auto released = release(*channel);
  return send_message(ChannelOpenFailure{remote_id, reason, std::move(description), ""});
}

Status Connection::on_open_confirmation(ByteView payload) {
  auto confirmation = ChannelOpenConfirmation::decode(payload);
  if (!confirmation) return malformed(kMsgChannelOpenConfirmation);
  const std::uint32_t id = confirmation->recipient_channel;
  Channel* channel = find(id);
  if (channel == nullptr) {
    return protocol_error(
        fmt::format("{} for unknown channel {}", message_name(kMsgChannelOpenConfirmation), id));
  }
  if (channel->state != Channel::State::Opening) {
    return protocol_error(fmt::format("{} for channel {}, which is not being opened",
                                      message_name(kMsgChannelOpenConfirmation), id));
  }
  if (confirmation->max_packet == 0) {
    return protocol_error(fmt::format("{} for channel {} with a maximum packet size of 0",
                                      message_name(kMsgChannelOpenConfirmation), id));
  }
  channel->state = Channel::State::Open;
  channel->remote_id = confirmation->sender_channel;
  channel->send_window = confirmation->initial_window;
  channel->send_max_packet = confirmation->max_packet;
  log_->debug("channel {}: {} channel confirmed (peer's channel {})", id, channel->type,
              channel->remote_id);
  if (channel->close_wanted) return send_close(*channel);
  channel->handler->on_open_confirmed(id);
  return {};
}

Status Connection::on_open_failure(ByteView payload) {
  auto failure = ChannelOpenFailure::decode(payload);
  if (!failure) return malformed(kMsgChannelOpenFailure);
  const std::uint32_t id = failure->recipient_channel;
  Channel* channel = find(id);
  if (channel == nullptr) {
    return protocol_error(
        fmt::format("{} for unknown channel {}", message_name(kMsgChannelOpenFailure), id));
  }
  if (channel->state != Channel::State::Opening) {
    return protocol_error(fmt::format("{} for channel {}, which is not being opened",
                                      message_name(kMsgChannelOpenFailure), id));
  }
  log_->debug("channel {}: {} channel refused: {} ({})", id, channel->type,
              open_failure_reason_name(failure->reason), failure->description);
  auto released = release(*channel);
  released->handler->on_open_failed(id, failure->reason, failure->description);
  return {};
}

Status Connection::on_window_adjust(ByteView payload) {
  auto adjust = ChannelWindowAdjust::decode(payload);
  if (!adjust) return malformed(kMsgChannelWindowAdjust);
  auto found = channel_for(kMsgChannelWindowAdjust, adjust->recipient_channel);
  if (!found) return found.take_error();
  Channel& channel = **found;
  const std::uint64_t grown = std::uint64_t{channel.send_window} + adjust->bytes_to_add;
  if (grown > std::numeric_limits<std::uint32_t>::max()) {
    // RFC 4254 section 5.2: the window may not exceed 2^32 - 1 bytes.
    return protocol_error(fmt::format("{} for channel {} grows the window past 2^32-1 bytes",
                                      message_name(kMsgChannelWindowAdjust), channel.id));
  }
  channel.send_window = static_cast<std::uint32_t>(grown);
  if (!channel.send_window_wanted || channel.send_window == 0 || channel.close_sent ||
      channel.eof_sent) {
    return {};
  }
  channel.send_window_wanted = false;
  channel.handler->on_send_window_available(channel.id);
  return {};
}

Status Connection::take_receive_window(std::uint8_t number, Channel& channel, std::size_t length) {
  if (channel.eof_received) {
    return protocol_error(
        fmt::format("{} for channel {} after its EOF", message_name(number), channel.id));
  }
  if (length > config_.max_packet) {
    return protocol_error(
        fmt::format("{} of {} bytes for channel {} exceeds the maximum packet "
                    "size of {}",
                    message_name(number), length, channel.id, config_.max_packet));
  }
  if (length > channel.receive_window) {
    return protocol_error(
        fmt::format("{} of {} bytes for channel {} exceeds the window of {} bytes",
                    message_name(number), length, channel.id, channel.receive_window));
  }
  channel.receive_window -= static_cast<std::uint32_t>(length);
  return {};
}

Status Connection::mark_consumed(Channel& channel, std::size_t length) {
  channel.receive_consumed += static_cast<std::uint32_t>(length);
  // Re-granting in halves keeps WINDOW_ADJUSTs rare while the peer never
  // waits as long as we keep up.
  const std::uint32_t threshold = std::max<std::uint32_t>(1, config_.initial_window / 2);
  if (channel.close_sent || channel.receive_consumed < threshold) return {};
  const std::uint32_t grant = channel.receive_consumed;
  Status sent = send_message(ChannelWindowAdjust{channel.remote_id, grant});
  if (!sent) return sent;
  channel.receive_window += grant;
  channel.receive_consumed = 0;
  return {};
}

Status Connection::defer_consumption(std::uint32_t id) {
  Channel* channel = find(id);
  if (channel == nullptr)
    return usage_error(fmt::format("defer_consumption: unknown channel {}", id));
  channel->deferred_consumption = true;
  return {};
}

Status Connection::consume(std::uint32_t id, std::size_t length) {
  Channel* channel = find(id);
  // Data consumed after the channel closed needs no window any more.
  if (channel == nullptr || length == 0) return {};
  const std::size_t outstanding =
      std::size_t{config_.initial_window} - channel->receive_window - channel->receive_consumed;
  if (length > outstanding) {
    return Error{DisconnectReason::ByApplication,
                 fmt::format("consume({}) on channel {}: only {} bytes were delivered", length, id,
                             outstanding)};
  }
  return mark_consumed(*channel, length);
}

Status Connection::on_data(ByteView payload) {
  auto data = ChannelData::decode(payload);
  if (!data) return malformed(kMsgChannelData);
  auto found = channel_for(kMsgChannelData, data->recipient_channel);
  if (!found) return found.take_error();
  Channel& channel = **found;
  if (Status taken = take_receive_window(kMsgChannelData, channel, data->data.size()); !taken) {
    return taken;
  }
  // Data the peer sent before it saw our CLOSE: nobody wants it any more.
  if (channel.close_sent) return {};
  const bool deferred = channel.deferred_consumption;
  channel.handler->on_data(channel.id, data->data);
  if (deferred) return {};
  return mark_consumed(channel, data->data.size());
}

Status Connection::on_extended_data(ByteView payload) {
  auto data = ChannelExtendedData::decode(payload);
  if (!data) return malformed(kMsgChannelExtendedData);
  auto found = channel_for(kMsgChannelExtendedData, data->recipient_channel);
  if (!found) return found.take_error();
  Channel& channel = **found;
  if (Status taken = take_receive_window(kMsgChannelExtendedData, channel, data->data.size());
      !taken) {
    return taken;
  }
  if (channel.close_sent) return {};
  const bool deferred = channel.deferred_consumption;
  channel.handler->on_extended_data(channel.id, data->data_type, data->data);
  if (deferred) return {};
  return mark_consumed(channel, data->data.size());
}

Status Connection::on_eof(ByteView payload) {
  auto eof = ChannelEof::decode(payload);
  if (!eof) return malformed(kMsgChannelEof);
  auto found = channel_for(kMsgChannelEof, eof->recipient_channel);
  if (!found) return found.take_error();
  Channel& channel = **found;
  if (channel.eof_received) {
    return protocol_error(
        fmt::format("second {} for channel {}", message_name(kMsgChannelEof), channel.id));
  }
  channel.eof_received = true;
  log_->debug("channel {}: EOF from peer", channel.id);
  if (!channel.close_sent) channel.handler->on_eof(channel.id);
  return {};
}

Status Connection::on_close(ByteView payload) {
  auto close_message = ChannelClose::decode(payload);
  if (!close_message) return malformed(kMsgChannelClose);
  // A second CLOSE finds no channel: it was freed when the first arrived.
  auto found = channel_for(kMsgChannelClose, close_message->recipient_channel);
  if (!found) return found.take_error();
  Channel& channel = **found;
  const std::uint32_t id = channel.id;
  log_->debug("channel {}: CLOSE from peer", id);
  // RFC 4254 section 5.3: answer with CLOSE unless we already sent one.
  Status answered = channel.close_sent ? Status{} : send_close(channel);
  auto released = release(channel);
  released->handler->on_close(id);
  return answered;
}

Status Connection::on_channel_request(ByteView payload) {
  auto request = ChannelRequest::decode(payload);
  if (!request) return malformed(kMsgChannelRequest);
  auto found = channel_for(kMsgChannelRequest, request->recipient_channel);
  if (!found) return found.take_error();
  Channel& channel = **found;
  log_->debug("channel {}: request {} from peer (want reply: {})", channel.id, request->type,
              request->want_reply);
  // Sent before the peer saw our CLOSE; nothing may follow our CLOSE.
  if (channel.close_sent) return {};
  bool success = false;
  if (may_request(other_role(role_), request->type)) {
    success =
        channel.handler->on_request(channel.id, request->type, request->want_reply, request->data);
  } else {
    log_->debug("channel {}: a {} may not send {} requests", channel.id,
                role_name(other_role(role_)), request->type);
  }
  if (!request->want_reply || channel.close_sent) return {};
  if (success) return send_message(ChannelSuccess{channel.remote_id});
  return send_message(ChannelFailure{channel.remote_id});
}

Status Connection::on_channel_reply(ByteView payload, bool success) {
  const std::uint8_t number = success ? kMsgChannelSuccess : kMsgChannelFailure;
  std::optional<std::uint32_t> recipient;
  if (success) {
    if (auto reply = ChannelSuccess::decode(payload)) recipient = reply->recipient_channel;
  } else if (auto reply = ChannelFailure::decode(payload)) {
    recipient = reply->recipient_channel;
  }
  if (!recipient) return malformed(number);
  auto found = channel_for(number, *recipient);
  if (!found) return found.take_error();
  Channel& channel = **found;
  if (channel.pending_replies == 0) {
    return protocol_error(fmt::format("{} for channel {} without an outstanding request",
                                      message_name(number), channel.id));
  }
  --channel.pending_replies;
  if (!channel.close_sent) channel.handler->on_request_reply(channel.id, success);
  return {};
}

// --- Channels ---------------------------------------------------------------

Result<std::uint32_t> Connection::open_channel(std::string type, Bytes type_specific_data,
                                               std::shared_ptr<ChannelHandler> handler) {
  if (!handler) return usage_error("open_channel: a ChannelHandler is required");
  if (!may_open(role_, type)) {
    return usage_error(fmt::format("a {} may not open {} channels", role_name(role_), type));
  }
  auto allocated = allocate(type, std::move(handler));
  if (!allocated) return allocated.take_error();
  Channel& channel = **allocated;
  Status sent = send_message(ChannelOpen{std::move(type), channel.id, config_.initial_window,
                                         config_.max_packet, std::move(type_specific_data)});
  if (!sent) {
    release(channel);
    return sent.take_error();
  }
  log_->debug("channel {}: opening {} channel", channel.id, channel.type);
  return channel.id;
}

Result<std::size_t> Connection::send_data(std::uint32_t id, ByteView data) {
  return send_data_packets(id, nullptr, data);
}

Result<std::size_t> Connection::send_extended_data(std::uint32_t id, std::uint32_t type,
                                                   ByteView data) {
  return send_data_packets(id, &type, data);
}

Result<std::size_t> Connection::send_data_packets(std::uint32_t id,
                                                  const std::uint32_t* extended_type,
                                                  ByteView data) {
  auto found =
      channel_for_sending(extended_type != nullptr ? "send_extended_data" : "send_data", id);
  if (!found) return found.take_error();
  Channel& channel = **found;
  if (channel.eof_sent) return usage_error(fmt::format("send_data: channel {} sent EOF", id));

  const std::size_t budget = std::min<std::size_t>(data.size(), channel.send_window);
  const std::size_t chunk_limit = std::min<std::size_t>(channel.send_max_packet, kMaxSendChunk);
  std::size_t sent = 0;
  while (sent < budget) {
    const std::size_t chunk = std::min(budget - sent, chunk_limit);
    data_header_.clear();
    wire::Writer header(data_header_);
    if (extended_type != nullptr) {
      ChannelExtendedData::encode_header(header, channel.remote_id, *extended_type,
                                         static_cast<std::uint32_t>(chunk));
    } else {
      ChannelData::encode_header(header, channel.remote_id, static_cast<std::uint32_t>(chunk));
    }
    if (Status status = sink_.send_payload(data_header_, data.subspan(sent, chunk)); !status) {
      return status.take_error();
    }
    channel.send_window -= static_cast<std::uint32_t>(chunk);
    sent += chunk;
  }
  if (sent < data.size()) channel.send_window_wanted = true;
  return sent;
}

std::uint32_t Connection::send_window(std::uint32_t id) const {
  const Channel* channel = find(id);
  return channel != nullptr && channel->state == Channel::State::Open ? channel->send_window : 0;
}

Status Connection::send_eof(std::uint32_t id) {
  auto found = channel_for_sending("send_eof", id);
  if (!found) return found.take_error();
  Channel& channel = **found;
  if (channel.eof_sent) return {};
  Status sent = send_message(ChannelEof{channel.remote_id});
  if (!sent) return sent;
  channel.eof_sent = true;
  log_->debug("channel {}: sent EOF", id);
  return {};
}

Status Connection::close(std::uint32_t id) {
  Channel* channel = find(id);
  if (channel == nullptr) return usage_error(fmt::format("close: unknown channel {}", id));
  if (channel->close_sent || channel->close_wanted) return {};
  if (channel->state == Channel::State::Accepting) {
    return refuse_open(id, OpenFailureReason::ConnectFailed, "closed before it was opened");
  }
  if (channel->state == Channel::State::Opening) {
    // CLOSE needs the peer's channel number: send it once the open is confirmed.
    channel->close_wanted = true;
    return {};
  }
  return send_close(*channel);
}

Status Connection::send_close(Channel& channel) {
  channel.close_sent = true;
  log_->debug("channel {}: sending CLOSE", channel.id);
  return send_message(ChannelClose{channel.remote_id});
}

Status Connection::send_request(std::uint32_t id, std::string_view type, bool want_reply,
                                Bytes data) {
  auto found = channel_for_sending("send_request", id);
  if (!found) return found.take_error();
  Channel& channel = **found;
  if (!may_request(role_, type)) {
    return usage_error(
        fmt::format("send_request: a {} may not send {} requests", role_name(role_), type));
  }
  Status sent = send_message(
      ChannelRequest{channel.remote_id, std::string(type), want_reply, std::move(data)});
  if (!sent) return sent;
  if (want_reply) ++channel.pending_replies;
  log_->debug("channel {}: sent request {} (want reply: {})", id, type, want_reply);
  return {};
}

Status Connection::request_pty(std::uint32_t id, const PtyRequest& pty, bool want_reply) {
  return send_request(id, pty, want_reply);
}

Status Connection::request_exec(std::uint32_t id, std::string_view command, bool want_reply) {
  return send_request(id, ExecRequest{std::string(command)}, want_reply);
}

Status Connection::request_shell(std::uint32_t id, bool want_reply) {
  return send_request(id, ShellRequest{}, want_reply);
}

Status Connection::request_subsystem(std::uint32_t id, std::string_view name, bool want_reply) {
  return send_request(id, SubsystemRequest{std::string(name)}, want_reply);
}

Status Connection::request_auth_agent(std::uint32_t id, bool want_reply) {
  return send_request(id, AuthAgentRequest{}, want_reply);
}

Status Connection::send_env(std::uint32_t id, std::string_view name, std::string_view value,
                            bool want_reply) {
  return send_request(id, EnvRequest{std::string(name), std::string(value)}, want_reply);
}

// RFC 4254 sections 6.7, 6.9 and 6.10: these never ask for a reply.
Status Connection::send_window_change(std::uint32_t id, const WindowChangeRequest& size) {
  return send_request(id, size, false);
}

Status Connection::send_signal(std::uint32_t id, std::string_view name) {
  return send_request(id, SignalRequest{std::string(name)}, false);
}

Status Connection::send_exit_status(std::uint32_t id, std::uint32_t exit_status) {
  return send_request(id, ExitStatusRequest{exit_status}, false);
}

Status Connection::send_exit_signal(std::uint32_t id, const ExitSignalRequest& exit_signal) {
  return send_request(id, exit_signal, false);
}

// --- Global requests --------------------------------------------------------

Status Connection::send_global_request(std::string_view name, bool want_reply, Bytes data,
                                       GlobalReplyCallback on_reply) {
  Status sent = send_message(GlobalRequest{std::string(name), want_reply, std::move(data)});
  if (!sent) return sent;
  if (want_reply) pending_global_replies_.push_back(std::move(on_reply));
  log_->debug("sent global request {} (want reply: {})", name, want_reply);
  return {};
}

void Connection::abort_all() {
  // Empty the table first so the callbacks see the Connection as it will be.
  std::vector<std::unique_ptr<Channel>> channels;
  channels.reserve(channel_count_);
  for (auto& slot : slots_) {
    if (slot.channel) channels.push_back(release(*slot.channel));
  }
  auto replies = std::move(pending_global_replies_);
  pending_global_replies_.clear();
  log_->debug("aborting {} channels and {} global requests", channels.size(), replies.size());

  for (auto& channel : channels) {
    if (channel->state != Channel::State::Open) {
      channel->handler->on_open_failed(channel->id, OpenFailureReason::ConnectFailed,
                                       "connection lost");
    } else {
      channel->handler->on_close(channel->id);
    }
  }
  for (auto& on_reply : replies) {
    if (on_reply) on_reply(false, {});
  }
}

}  // namespace ssh::connection
