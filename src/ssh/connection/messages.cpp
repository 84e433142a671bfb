#include "ssh/connection/messages.hpp"

#include <limits>

#include "ssh/wire/decode.hpp"

namespace ssh::connection {
namespace {

// Ports travel as uint32 but only 0-65535 mean anything; a larger value is
// refused rather than silently truncated.
std::uint16_t read_port(wire::Reader& in) {
  const std::uint32_t port = in.u32();
  if (port > std::numeric_limits<std::uint16_t>::max()) {
    in.fail();
    return 0;
  }
  return static_cast<std::uint16_t>(port);
}

std::string read_text(wire::Reader& in) {
  return std::string(in.text());
}

// Decoders for the fixed layouts: fail unless everything was consumed.
using wire::finish;

// Opens the payload of message T: false when the number is not T's.
template <class T>
bool expect_number(wire::Reader& in) {
  return in.u8() == T::kNumber && in.ok();
}

// Typed parts with no fields: valid only when empty.
template <class T>
std::optional<T> decode_empty(ByteView data) {
  if (!data.empty()) return std::nullopt;
  return T{};
}

}  // namespace

bool is_connection_message(std::uint8_t number) {
  return (number >= kMsgGlobalRequest && number <= kMsgRequestFailure) ||
         (number >= kMsgChannelOpen && number <= kMsgChannelFailure);
}

std::string_view message_name(std::uint8_t number) {
  switch (number) {
    case kMsgGlobalRequest:
      return "SSH_MSG_GLOBAL_REQUEST";
    case kMsgRequestSuccess:
      return "SSH_MSG_REQUEST_SUCCESS";
    case kMsgRequestFailure:
      return "SSH_MSG_REQUEST_FAILURE";
    case kMsgChannelOpen:
      return "SSH_MSG_CHANNEL_OPEN";
    case kMsgChannelOpenConfirmation:
      return "SSH_MSG_CHANNEL_OPEN_CONFIRMATION";
    case kMsgChannelOpenFailure:
      return "SSH_MSG_CHANNEL_OPEN_FAILURE";
    case kMsgChannelWindowAdjust:
      return "SSH_MSG_CHANNEL_WINDOW_ADJUST";
    case kMsgChannelData:
      return "SSH_MSG_CHANNEL_DATA";
    case kMsgChannelExtendedData:
      return "SSH_MSG_CHANNEL_EXTENDED_DATA";
    case kMsgChannelEof:
      return "SSH_MSG_CHANNEL_EOF";
    case kMsgChannelClose:
      return "SSH_MSG_CHANNEL_CLOSE";
    case kMsgChannelRequest:
      return "SSH_MSG_CHANNEL_REQUEST";
    case kMsgChannelSuccess:
      return "SSH_MSG_CHANNEL_SUCCESS";
    case kMsgChannelFailure:
      return "SSH_MSG_CHANNEL_FAILURE";
  }
  return "unknown connection message";
}

std::string_view open_failure_reason_name(OpenFailureReason reason) {
  switch (reason) {
    case OpenFailureReason::AdministrativelyProhibited:
      return "administratively prohibited";
    case OpenFailureReason::ConnectFailed:
      return "connect failed";
    case OpenFailureReason::UnknownChannelType:
      return "unknown channel type";
    case OpenFailureReason::ResourceShortage:
      return "resource shortage";
  }
  return "unknown reason";
}

// --- Global requests --------------------------------------------------------

void GlobalRequest::encode(wire::Writer& out) const {
  out.u8(kNumber);
  out.string(name);
  out.boolean(want_reply);
  out.raw(data);
}

std::optional<GlobalRequest> GlobalRequest::decode(ByteView payload) {
  wire::Reader in(payload);
  if (!expect_number<GlobalRequest>(in)) return std::nullopt;
  GlobalRequest message;
  message.name = read_text(in);
  message.want_reply = in.boolean();
  message.data = to_bytes(in.rest());
  if (!in.ok()) return std::nullopt;
  return message;
}

void RequestSuccess::encode(wire::Writer& out) const {
  out.u8(kNumber);
  out.raw(data);
}

std::optional<RequestSuccess> RequestSuccess::decode(ByteView payload) {
  wire::Reader in(payload);
  if (!expect_number<RequestSuccess>(in)) return std::nullopt;
  return RequestSuccess{to_bytes(in.rest())};
}

void RequestFailure::encode(wire::Writer& out) const {
  out.u8(kNumber);
}

std::optional<RequestFailure> RequestFailure::decode(ByteView payload) {
  wire::Reader in(payload);
  if (!expect_number<RequestFailure>(in)) return std::nullopt;
  return finish(in, RequestFailure{});
}

// --- Channel messages -------------------------------------------------------

void ChannelOpen::encode(wire::Writer& out) const {
  out.u8(kNumber);
  out.string(type);
  out.u32(sender_channel);
  out.u32(initial_window);
  out.u32(max_packet);
  out.raw(type_specific);
}

std::optional<ChannelOpen> ChannelOpen::decode(ByteView payload) {
  wire::Reader in(payload);
  if (!expect_number<ChannelOpen>(in)) return std::nullopt;
  ChannelOpen message;
  message.type = read_text(in);
  message.sender_channel = in.u32();
  message.initial_window = in.u32();
  message.max_packet = in.u32();
  message.type_specific = to_bytes(in.rest());
  if (!in.ok()) return std::nullopt;
  return message;
}

void ChannelOpenConfirmation::encode(wire::Writer& out) const {
  out.u8(kNumber);
  out.u32(recipient_channel);
  out.u32(sender_channel);
  out.u32(initial_window);
  out.u32(max_packet);
  out.raw(type_specific);
}

std::optional<ChannelOpenConfirmation> ChannelOpenConfirmation::decode(ByteView payload) {
  wire::Reader in(payload);
  if (!expect_number<ChannelOpenConfirmation>(in)) return std::nullopt;
  ChannelOpenConfirmation message;
  message.recipient_channel = in.u32();
  message.sender_channel = in.u32();
  message.initial_window = in.u32();
  message.max_packet = in.u32();
  message.type_specific = to_bytes(in.rest());
  if (!in.ok()) return std::nullopt;
  return message;
}

void ChannelOpenFailure::encode(wire::Writer& out) const {
  out.u8(kNumber);
  out.u32(recipient_channel);
  out.u32(static_cast<std::uint32_t>(reason));
  out.string(description);
  out.string(language);
}

std::optional<ChannelOpenFailure> ChannelOpenFailure::decode(ByteView payload) {
  wire::Reader in(payload);
  if (!expect_number<ChannelOpenFailure>(in)) return std::nullopt;
  ChannelOpenFailure message;
  message.recipient_channel = in.u32();
  message.reason = static_cast<OpenFailureReason>(in.u32());
  message.description = read_text(in);
  message.language = read_text(in);
  return finish(in, std::move(message));
}

void ChannelWindowAdjust::encode(wire::Writer& out) const {
  out.u8(kNumber);
  out.u32(recipient_channel);
  out.u32(bytes_to_add);
}

std::optional<ChannelWindowAdjust> ChannelWindowAdjust::decode(ByteView payload) {
  wire::Reader in(payload);
  if (!expect_number<ChannelWindowAdjust>(in)) return std::nullopt;
  ChannelWindowAdjust message;
  message.recipient_channel = in.u32();
  message.bytes_to_add = in.u32();
  return finish(in, std::move(message));
}

void ChannelData::encode(wire::Writer& out) const {
  encode_header(out, recipient_channel, static_cast<std::uint32_t>(data.size()));
  out.raw(data);
}

void ChannelData::encode_header(wire::Writer& out, std::uint32_t recipient_channel,
                                std::uint32_t data_length) {
  out.u8(kNumber);
  out.u32(recipient_channel);
  out.u32(data_length);
}

std::optional<ChannelData> ChannelData::decode(ByteView payload) {
  wire::Reader in(payload);
  if (!expect_number<ChannelData>(in)) return std::nullopt;
  ChannelData message;
  message.recipient_channel = in.u32();
  message.data = in.string();
  return finish(in, std::move(message));
}

void ChannelExtendedData::encode(wire::Writer& out) const {
  encode_header(out, recipient_channel, data_type, static_cast<std::uint32_t>(data.size()));
  out.raw(data);
}

void ChannelExtendedData::encode_header(wire::Writer& out, std::uint32_t recipient_channel,
                                        std::uint32_t data_type, std::uint32_t data_length) {
  out.u8(kNumber);
  out.u32(recipient_channel);
  out.u32(data_type);
  out.u32(data_length);
}

std::optional<ChannelExtendedData> ChannelExtendedData::decode(ByteView payload) {
  wire::Reader in(payload);
  if (!expect_number<ChannelExtendedData>(in)) return std::nullopt;
  ChannelExtendedData message;
  message.recipient_channel = in.u32();
  message.data_type = in.u32();
  message.data = in.string();
  return finish(in, std::move(message));
}

void ChannelRequest::encode(wire::Writer& out) const {
  out.u8(kNumber);
  out.u32(recipient_channel);
  out.string(type);
  out.boolean(want_reply);
  out.raw(data);
}

std::optional<ChannelRequest> ChannelRequest::decode(ByteView payload) {
  wire::Reader in(payload);
  if (!expect_number<ChannelRequest>(in)) return std::nullopt;
  ChannelRequest message;
  message.recipient_channel = in.u32();
  message.type = read_text(in);
  message.want_reply = in.boolean();
  message.data = to_bytes(in.rest());
  if (!in.ok()) return std::nullopt;
  return message;
}

// --- Channel types ----------------------------------------------------------

void SessionOpen::encode(wire::Writer& /*out*/) const {}
std::optional<SessionOpen> SessionOpen::decode(ByteView data) {
  return decode_empty<SessionOpen>(data);
}

void DirectTcpipOpen::encode(wire::Writer& out) const {
  out.string(host_to_connect);
  out.u32(port_to_connect);
  out.string(originator_address);
  out.u32(originator_port);
}

std::optional<DirectTcpipOpen> DirectTcpipOpen::decode(ByteView data) {
  wire::Reader in(data);
  DirectTcpipOpen open;
  open.host_to_connect = read_text(in);
  open.port_to_connect = read_port(in);
  open.originator_address = read_text(in);
  open.originator_port = read_port(in);
  return finish(in, std::move(open));
}

void ForwardedTcpipOpen::encode(wire::Writer& out) const {
  out.string(connected_address);
  out.u32(connected_port);
  out.string(originator_address);
  out.u32(originator_port);
}

std::optional<ForwardedTcpipOpen> ForwardedTcpipOpen::decode(ByteView data) {
  wire::Reader in(data);
  ForwardedTcpipOpen open;
  open.connected_address = read_text(in);
  open.connected_port = read_port(in);
  open.originator_address = read_text(in);
  open.originator_port = read_port(in);
  return finish(in, std::move(open));
}

void DirectStreamlocalOpen::encode(wire::Writer& out) const {
  out.string(socket_path);
  out.string(reserved);
  out.u32(reserved_number);
}

std::optional<DirectStreamlocalOpen> DirectStreamlocalOpen::decode(ByteView data) {
  wire::Reader in(data);
  DirectStreamlocalOpen open;
  open.socket_path = read_text(in);
  open.reserved = read_text(in);
  open.reserved_number = in.u32();
  return finish(in, std::move(open));
}

void ForwardedStreamlocalOpen::encode(wire::Writer& out) const {
  out.string(socket_path);
  out.string(reserved);
}

std::optional<ForwardedStreamlocalOpen> ForwardedStreamlocalOpen::decode(ByteView data) {
  wire::Reader in(data);
  ForwardedStreamlocalOpen open;
  open.socket_path = read_text(in);
  open.reserved = read_text(in);
  return finish(in, std::move(open));
}

void AuthAgentOpen::encode(wire::Writer& /*out*/) const {}
std::optional<AuthAgentOpen> AuthAgentOpen::decode(ByteView data) {
  return decode_empty<AuthAgentOpen>(data);
}

// --- Channel requests -------------------------------------------------------

Bytes encode_terminal_modes(std::span<const TerminalMode> modes) {
  Bytes out;
  out.reserve(modes.size() * 5 + 1);
  wire::Writer writer(out);
  for (const auto& mode : modes) {
    writer.u8(mode.opcode);
    writer.u32(mode.argument);
  }
  writer.u8(kTtyOpEnd);
  return out;
}

std::optional<std::vector<TerminalMode>> decode_terminal_modes(ByteView encoded) {
  wire::Reader in(encoded);
  std::vector<TerminalMode> modes;
  // Each mode takes 5 bytes, so the input bounds the count.
  modes.reserve(encoded.size() / 5);
  while (true) {
    const std::uint8_t opcode = in.u8();
    if (!in.ok()) return std::nullopt;  // no TTY_OP_END
    if (opcode == kTtyOpEnd || opcode >= kTtyFirstUndefinedOpcode) break;
    const std::uint32_t argument = in.u32();
    if (!in.ok()) return std::nullopt;
    modes.push_back({opcode, argument});
  }
  return modes;
}

void PtyRequest::encode(wire::Writer& out) const {
  out.string(term);
  out.u32(columns);
  out.u32(rows);
  out.u32(width_pixels);
  out.u32(height_pixels);
  out.string(ByteView(modes));
}

std::optional<PtyRequest> PtyRequest::decode(ByteView data) {
  wire::Reader in(data);
  PtyRequest request;
  request.term = read_text(in);
  request.columns = in.u32();
  request.rows = in.u32();
  request.width_pixels = in.u32();
  request.height_pixels = in.u32();
  request.modes = to_bytes(in.string());
  return finish(in, std::move(request));
}

void EnvRequest::encode(wire::Writer& out) const {
  out.string(name);
  out.string(value);
}

std::optional<EnvRequest> EnvRequest::decode(ByteView data) {
  wire::Reader in(data);
  EnvRequest request;
  request.name = read_text(in);
  request.value = read_text(in);
  return finish(in, std::move(request));
}

void ExecRequest::encode(wire::Writer& out) const {
  out.string(command);
}

std::optional<ExecRequest> ExecRequest::decode(ByteView data) {
  wire::Reader in(data);
  ExecRequest request;
  request.command = read_text(in);
  return finish(in, std::move(request));
}

void ShellRequest::encode(wire::Writer& /*out*/) const {}
std::optional<ShellRequest> ShellRequest::decode(ByteView data) {
  return decode_empty<ShellRequest>(data);
}

void SubsystemRequest::encode(wire::Writer& out) const {
  out.string(name);
}

std::optional<SubsystemRequest> SubsystemRequest::decode(ByteView data) {
  wire::Reader in(data);
  SubsystemRequest request;
  request.name = read_text(in);
  return finish(in, std::move(request));
}

void WindowChangeRequest::encode(wire::Writer& out) const {
  out.u32(columns);
  out.u32(rows);
  out.u32(width_pixels);
  out.u32(height_pixels);
}

std::optional<WindowChangeRequest> WindowChangeRequest::decode(ByteView data) {
  wire::Reader in(data);
  WindowChangeRequest request;
  request.columns = in.u32();
  request.rows = in.u32();
  request.width_pixels = in.u32();
  request.height_pixels = in.u32();
  return finish(in, std::move(request));
}

void SignalRequest::encode(wire::Writer& out) const {
  out.string(name);
}

std::optional<SignalRequest> SignalRequest::decode(ByteView data) {
  wire::Reader in(data);
  SignalRequest request;
  request.name = read_text(in);
  return finish(in, std::move(request));
}

void ExitStatusRequest::encode(wire::Writer& out) const {
  out.u32(exit_status);
}

std::optional<ExitStatusRequest> ExitStatusRequest::decode(ByteView data) {
  wire::Reader in(data);
  ExitStatusRequest request;
  request.exit_status = in.u32();
  return finish(in, std::move(request));
}

void ExitSignalRequest::encode(wire::Writer& out) const {
  out.string(signal_name);
  out.boolean(core_dumped);
  out.string(error_message);
  out.string(language);
}

std::optional<ExitSignalRequest> ExitSignalRequest::decode(ByteView data) {
  wire::Reader in(data);
  ExitSignalRequest request;
  request.signal_name = read_text(in);
  request.core_dumped = in.boolean();
  request.error_message = read_text(in);
  request.language = read_text(in);
  return finish(in, std::move(request));
}

void KeepaliveRequest::encode(wire::Writer& /*out*/) const {}
std::optional<KeepaliveRequest> KeepaliveRequest::decode(ByteView data) {
  return decode_empty<KeepaliveRequest>(data);
}

void AuthAgentRequest::encode(wire::Writer& /*out*/) const {}
std::optional<AuthAgentRequest> AuthAgentRequest::decode(ByteView data) {
  return decode_empty<AuthAgentRequest>(data);
}

void EowRequest::encode(wire::Writer& /*out*/) const {}
std::optional<EowRequest> EowRequest::decode(ByteView data) {
  return decode_empty<EowRequest>(data);
}

// --- Global request types ---------------------------------------------------

void TcpipForwardRequest::encode(wire::Writer& out) const {
  out.string(address_to_bind);
  out.u32(port_to_bind);
}

std::optional<TcpipForwardRequest> TcpipForwardRequest::decode(ByteView data) {
  wire::Reader in(data);
  TcpipForwardRequest request;
  request.address_to_bind = read_text(in);
  request.port_to_bind = read_port(in);
  return finish(in, std::move(request));
}

void TcpipForwardReply::encode(wire::Writer& out) const {
  out.u32(bound_port);
}

std::optional<TcpipForwardReply> TcpipForwardReply::decode(ByteView data) {
  wire::Reader in(data);
  TcpipForwardReply reply;
  reply.bound_port = read_port(in);
  return finish(in, std::move(reply));
}

void StreamlocalForwardRequest::encode(wire::Writer& out) const {
  out.string(socket_path);
}

std::optional<StreamlocalForwardRequest> StreamlocalForwardRequest::decode(ByteView data) {
  wire::Reader in(data);
  StreamlocalForwardRequest request;
  request.socket_path = read_text(in);
  return finish(in, std::move(request));
}

// --- Host key rotation (OpenSSH PROTOCOL 2.5) ------------------------------

namespace {

void encode_strings(wire::Writer& out, const std::vector<Bytes>& strings) {
  for (const auto& value : strings) out.string(value);
}

// The strings run to the end of the data; the packet bounds how many there
// can be, and callers bound how many they act on (limits::kMaxHostKeysAnnounced).
std::optional<std::vector<Bytes>> decode_strings(ByteView data) {
  wire::Reader in(data);
  std::vector<Bytes> strings;
  while (in.ok() && !in.at_end()) strings.push_back(to_bytes(in.string()));
  if (!in.ok()) return std::nullopt;
  return strings;
}

}  // namespace

void HostKeysAnnouncement::encode(wire::Writer& out) const {
  encode_strings(out, host_keys);
}

std::optional<HostKeysAnnouncement> HostKeysAnnouncement::decode(ByteView data) {
  auto strings = decode_strings(data);
  if (!strings) return std::nullopt;
  return HostKeysAnnouncement{std::move(*strings)};
}

void HostKeysProveRequest::encode(wire::Writer& out) const {
  encode_strings(out, host_keys);
}

std::optional<HostKeysProveRequest> HostKeysProveRequest::decode(ByteView data) {
  auto strings = decode_strings(data);
  if (!strings) return std::nullopt;
  return HostKeysProveRequest{std::move(*strings)};
}

void HostKeysProveReply::encode(wire::Writer& out) const {
  encode_strings(out, signatures);
}

std::optional<HostKeysProveReply> HostKeysProveReply::decode(ByteView data) {
  auto strings = decode_strings(data);
  if (!strings) return std::nullopt;
  return HostKeysProveReply{std::move(*strings)};
}

}  // namespace ssh::connection
