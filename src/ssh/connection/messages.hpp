// The connection protocol messages (RFC 4254, numbers 80-100) and the
// type-specific parts of channel opens, channel requests and global requests
// (RFC 4254 plus the OpenSSH extensions in OpenSSH's PROTOCOL file).
//
// Every message is a struct with encode(wire::Writer&) and a static decode()
// that takes the whole payload, message number included, and returns nullopt
// when the payload is truncated, has trailing bytes or carries another number.
// Type-specific tails (channel open, channel request, global request data)
// are kept as raw bytes; the typed structs below encode and decode them.
//
// ChannelData and ChannelExtendedData decode to views into the payload so the
// receive path copies nothing; they are valid only as long as the payload.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/wire/reader.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::connection {

inline constexpr std::uint8_t kMsgGlobalRequest = 80;
inline constexpr std::uint8_t kMsgRequestSuccess = 81;
inline constexpr std::uint8_t kMsgRequestFailure = 82;
inline constexpr std::uint8_t kMsgChannelOpen = 90;
inline constexpr std::uint8_t kMsgChannelOpenConfirmation = 91;
inline constexpr std::uint8_t kMsgChannelOpenFailure = 92;
inline constexpr std::uint8_t kMsgChannelWindowAdjust = 93;
inline constexpr std::uint8_t kMsgChannelData = 94;
inline constexpr std::uint8_t kMsgChannelExtendedData = 95;
inline constexpr std::uint8_t kMsgChannelEof = 96;
inline constexpr std::uint8_t kMsgChannelClose = 97;
inline constexpr std::uint8_t kMsgChannelRequest = 98;
inline constexpr std::uint8_t kMsgChannelSuccess = 99;
inline constexpr std::uint8_t kMsgChannelFailure = 100;

// True for the numbers RFC 4254 assigns (80-82, 90-100). 83-89 are reserved
// for the connection protocol but unassigned: the transport answers them
// with SSH_MSG_UNIMPLEMENTED like any other unknown number.
bool is_connection_message(std::uint8_t number);
// "SSH_MSG_CHANNEL_DATA" style names, for error messages and logs.
std::string_view message_name(std::uint8_t number);

// RFC 4254 section 5.1. Other values can arrive (IANA / private use); they
// are kept as they are.
enum class OpenFailureReason : std::uint32_t {
  AdministrativelyProhibited = 1,
  ConnectFailed = 2,
  UnknownChannelType = 3,
  ResourceShortage = 4,
};
std::string_view open_failure_reason_name(OpenFailureReason reason);

// RFC 4254 section 5.2: the only extended data type defined.
inline constexpr std::uint32_t kExtendedDataStderr = 1;

// ---------------------------------------------------------------------------
// Global requests (RFC 4254 section 4).

struct GlobalRequest {
  static constexpr std::uint8_t kNumber = kMsgGlobalRequest;
  std::string name;
  bool want_reply = false;
  Bytes data;  // request-specific data, everything after want_reply

  void encode(wire::Writer& out) const;
  static std::optional<GlobalRequest> decode(ByteView payload);
};

struct RequestSuccess {
  static constexpr std::uint8_t kNumber = kMsgRequestSuccess;
  Bytes data;  // response-specific data (e.g. the bound port of tcpip-forward)

  void encode(wire::Writer& out) const;
  static std::optional<RequestSuccess> decode(ByteView payload);
};

struct RequestFailure {
  static constexpr std::uint8_t kNumber = kMsgRequestFailure;

  void encode(wire::Writer& out) const;
  static std::optional<RequestFailure> decode(ByteView payload);
};

// ---------------------------------------------------------------------------
// Channel messages (RFC 4254 section 5).

struct ChannelOpen {
  static constexpr std::uint8_t kNumber = kMsgChannelOpen;
  std::string type;
  std::uint32_t sender_channel = 0;
  std::uint32_t initial_window = 0;
  std::uint32_t max_packet = 0;
  Bytes type_specific;  // everything after max_packet

  void encode(wire::Writer& out) const;
  static std::optional<ChannelOpen> decode(ByteView payload);
};

struct ChannelOpenConfirmation {
  static constexpr std::uint8_t kNumber = kMsgChannelOpenConfirmation;
  std::uint32_t recipient_channel = 0;
  std::uint32_t sender_channel = 0;
  std::uint32_t initial_window = 0;
  std::uint32_t max_packet = 0;
  Bytes type_specific;  // no channel type defines any; kept for completeness

  void encode(wire::Writer& out) const;
  static std::optional<ChannelOpenConfirmation> decode(ByteView payload);
};

struct ChannelOpenFailure {
  static constexpr std::uint8_t kNumber = kMsgChannelOpenFailure;
  std::uint32_t recipient_channel = 0;
  OpenFailureReason reason = OpenFailureReason::AdministrativelyProhibited;
  std::string description;
  std::string language;

  void encode(wire::Writer& out) const;
  static std::optional<ChannelOpenFailure> decode(ByteView payload);
};

struct ChannelWindowAdjust {
  static constexpr std::uint8_t kNumber = kMsgChannelWindowAdjust;
  std::uint32_t recipient_channel = 0;
  std::uint32_t bytes_to_add = 0;

  void encode(wire::Writer& out) const;
  static std::optional<ChannelWindowAdjust> decode(ByteView payload);
};

struct ChannelData {
  static constexpr std::uint8_t kNumber = kMsgChannelData;
  // Size of what encode_header() writes; the data follows it.
  static constexpr std::size_t kHeaderSize = 1 + 4 + 4;
  std::uint32_t recipient_channel = 0;
  ByteView data;  // a view into the decoded payload

  void encode(wire::Writer& out) const;
  static std::optional<ChannelData> decode(ByteView payload);
  // Everything before the data bytes, so the data itself can be handed to
  // the transport separately instead of being copied into a message buffer.
  static void encode_header(wire::Writer& out, std::uint32_t recipient_channel,
                            std::uint32_t data_length);
};

struct ChannelExtendedData {
  static constexpr std::uint8_t kNumber = kMsgChannelExtendedData;
  static constexpr std::size_t kHeaderSize = 1 + 4 + 4 + 4;
  std::uint32_t recipient_channel = 0;
  std::uint32_t data_type = kExtendedDataStderr;
  ByteView data;  // a view into the decoded payload

  void encode(wire::Writer& out) const;
  static std::optional<ChannelExtendedData> decode(ByteView payload);
  static void encode_header(wire::Writer& out, std::uint32_t recipient_channel,
                            std::uint32_t data_type, std::uint32_t data_length);
};

// The messages that carry nothing but the recipient channel.
template <std::uint8_t Number>
struct RecipientOnlyMessage {
  static constexpr std::uint8_t kNumber = Number;
  std::uint32_t recipient_channel = 0;

  void encode(wire::Writer& out) const {
    out.u8(kNumber);
    out.u32(recipient_channel);
  }
  static std::optional<RecipientOnlyMessage> decode(ByteView payload) {
    wire::Reader in(payload);
    if (in.u8() != kNumber) return std::nullopt;
    RecipientOnlyMessage message;
    message.recipient_channel = in.u32();
    if (!in.finished()) return std::nullopt;
    return message;
  }
};
using ChannelEof = RecipientOnlyMessage<kMsgChannelEof>;
using ChannelClose = RecipientOnlyMessage<kMsgChannelClose>;
using ChannelSuccess = RecipientOnlyMessage<kMsgChannelSuccess>;
using ChannelFailure = RecipientOnlyMessage<kMsgChannelFailure>;

struct ChannelRequest {
  static constexpr std::uint8_t kNumber = kMsgChannelRequest;
  std::uint32_t recipient_channel = 0;
  std::string type;
  bool want_reply = false;
  Bytes data;  // request-specific data, everything after want_reply

  void encode(wire::Writer& out) const;
  static std::optional<ChannelRequest> decode(ByteView payload);
};

// ---------------------------------------------------------------------------
// Typed parts. Each has kType (the channel type or request name), encode()
// writing only the type-specific fields, and decode() of exactly those
// fields (nullopt when truncated or followed by anything).

template <class T>
Bytes encode_to_bytes(const T& value) {
  Bytes out;
  wire::Writer writer(out);
  value.encode(writer);
  return out;
}

// Decodes `data` as T when `type` names T, e.g. in ChannelHandler::on_request:
//   if (auto exit = decode_typed<ExitStatusRequest>(type, data)) ...
template <class T>
std::optional<T> decode_typed(std::string_view type, ByteView data) {
  if (type != T::kType) return std::nullopt;
  return T::decode(data);
}

// Channel types (RFC 4254 sections 6.1 and 7.2, OpenSSH PROTOCOL 2.1-2.4,
// PROTOCOL.agent).

struct SessionOpen {
  static constexpr std::string_view kType = "session";
  void encode(wire::Writer& out) const;
  static std::optional<SessionOpen> decode(ByteView data);
};

struct DirectTcpipOpen {
  static constexpr std::string_view kType = "direct-tcpip";
  std::string host_to_connect;
  std::uint16_t port_to_connect = 0;
  std::string originator_address;
  std::uint16_t originator_port = 0;

  void encode(wire::Writer& out) const;
  static std::optional<DirectTcpipOpen> decode(ByteView data);
};

struct ForwardedTcpipOpen {
  static constexpr std::string_view kType = "forwarded-tcpip";
  std::string connected_address;
  std::uint16_t connected_port = 0;
  std::string originator_address;
  std::uint16_t originator_port = 0;

  void encode(wire::Writer& out) const;
  static std::optional<ForwardedTcpipOpen> decode(ByteView data);
};

struct DirectStreamlocalOpen {
  static constexpr std::string_view kType = "direct-streamlocal@openssh.com";
  std::string socket_path;
  // OpenSSH's PROTOCOL calls these "reserved"; sshd reads them as the
  // originator address and port.
  std::string reserved;
  std::uint32_t reserved_number = 0;

  void encode(wire::Writer& out) const;
  static std::optional<DirectStreamlocalOpen> decode(ByteView data);
};

struct ForwardedStreamlocalOpen {
  static constexpr std::string_view kType = "forwarded-streamlocal@openssh.com";
  std::string socket_path;
  std::string reserved;

  void encode(wire::Writer& out) const;
  static std::optional<ForwardedStreamlocalOpen> decode(ByteView data);
};

struct AuthAgentOpen {
  static constexpr std::string_view kType = "auth-agent@openssh.com";
  void encode(wire::Writer& out) const;
  static std::optional<AuthAgentOpen> decode(ByteView data);
};

// Builds a CHANNEL_OPEN for a typed channel.
template <class T>
ChannelOpen make_channel_open(const T& typed, std::uint32_t sender_channel,
                              std::uint32_t initial_window, std::uint32_t max_packet) {
  return {std::string(T::kType), sender_channel, initial_window, max_packet,
          encode_to_bytes(typed)};
}

// Channel requests (RFC 4254 section 6, OpenSSH PROTOCOL 2.1 and 2.5).

// One entry of the encoded terminal modes of a pty-req (RFC 4254 section 8).
struct TerminalMode {
  std::uint8_t opcode = 0;
  std::uint32_t argument = 0;
  bool operator==(const TerminalMode&) const = default;
};
inline constexpr std::uint8_t kTtyOpEnd = 0;
inline constexpr std::uint8_t kTtyOpIspeed = 128;
inline constexpr std::uint8_t kTtyOpOspeed = 129;
// Opcodes from 160 up have undefined arguments: parsing has to stop there.
inline constexpr std::uint8_t kTtyFirstUndefinedOpcode = 160;

// Encodes modes followed by TTY_OP_END.
Bytes encode_terminal_modes(std::span<const TerminalMode> modes);
// Decodes up to TTY_OP_END or the first undefined opcode (the rest is
// ignored, as RFC 4254 section 8 requires). nullopt when truncated.
std::optional<std::vector<TerminalMode>> decode_terminal_modes(ByteView encoded);

struct PtyRequest {
  static constexpr std::string_view kType = "pty-req";
  std::string term;  // TERM, e.g. "xterm-256color"
  std::uint32_t columns = 0;
  std::uint32_t rows = 0;
  std::uint32_t width_pixels = 0;
  std::uint32_t height_pixels = 0;
  Bytes modes;  // encoded terminal modes, see encode_terminal_modes()

  void encode(wire::Writer& out) const;
  static std::optional<PtyRequest> decode(ByteView data);
};

struct EnvRequest {
  static constexpr std::string_view kType = "env";
  std::string name;
  std::string value;

  void encode(wire::Writer& out) const;
  static std::optional<EnvRequest> decode(ByteView data);
};

struct ExecRequest {
  static constexpr std::string_view kType = "exec";
  std::string command;

  void encode(wire::Writer& out) const;
  static std::optional<ExecRequest> decode(ByteView data);
};

struct ShellRequest {
  static constexpr std::string_view kType = "shell";
  void encode(wire::Writer& out) const;
  static std::optional<ShellRequest> decode(ByteView data);
};

struct SubsystemRequest {
  static constexpr std::string_view kType = "subsystem";
  std::string name;

  void encode(wire::Writer& out) const;
  static std::optional<SubsystemRequest> decode(ByteView data);
};

struct WindowChangeRequest {
  static constexpr std::string_view kType = "window-change";
  std::uint32_t columns = 0;
  std::uint32_t rows = 0;
  std::uint32_t width_pixels = 0;
  std::uint32_t height_pixels = 0;

  void encode(wire::Writer& out) const;
  static std::optional<WindowChangeRequest> decode(ByteView data);
};

struct SignalRequest {
  static constexpr std::string_view kType = "signal";
  std::string name;  // without the "SIG" prefix, e.g. "TERM"

  void encode(wire::Writer& out) const;
  static std::optional<SignalRequest> decode(ByteView data);
};

struct ExitStatusRequest {
  static constexpr std::string_view kType = "exit-status";
  std::uint32_t exit_status = 0;

  void encode(wire::Writer& out) const;
  static std::optional<ExitStatusRequest> decode(ByteView data);
};

struct ExitSignalRequest {
  static constexpr std::string_view kType = "exit-signal";
  std::string signal_name;  // without the "SIG" prefix
  bool core_dumped = false;
  std::string error_message;
  std::string language;

  void encode(wire::Writer& out) const;
  static std::optional<ExitSignalRequest> decode(ByteView data);
};

// OpenSSH sends this (with want_reply) to check the peer is alive; any reply
// will do, and failure is what OpenSSH itself answers.
struct KeepaliveRequest {
  static constexpr std::string_view kType = "keepalive@openssh.com";
  void encode(wire::Writer& out) const;
  static std::optional<KeepaliveRequest> decode(ByteView data);
};

struct AuthAgentRequest {
  static constexpr std::string_view kType = "auth-agent-req@openssh.com";
  void encode(wire::Writer& out) const;
  static std::optional<AuthAgentRequest> decode(ByteView data);
};

// End of write: the sender will not read more data from this channel.
struct EowRequest {
  static constexpr std::string_view kType = "eow@openssh.com";
  void encode(wire::Writer& out) const;
  static std::optional<EowRequest> decode(ByteView data);
};

// Global requests for port and socket forwarding (RFC 4254 section 7.1,
// OpenSSH PROTOCOL 2.4).

struct TcpipForwardRequest {
  static constexpr std::string_view kType = "tcpip-forward";
  static constexpr std::string_view kCancelType = "cancel-tcpip-forward";
  std::string address_to_bind;
  std::uint16_t port_to_bind = 0;  // 0: the server picks one and replies it

  void encode(wire::Writer& out) const;
  static std::optional<TcpipForwardRequest> decode(ByteView data);
};

// The REQUEST_SUCCESS data of a tcpip-forward that asked for port 0.
struct TcpipForwardReply {
  std::uint16_t bound_port = 0;

  void encode(wire::Writer& out) const;
  static std::optional<TcpipForwardReply> decode(ByteView data);
};

struct StreamlocalForwardRequest {
  static constexpr std::string_view kType = "streamlocal-forward@openssh.com";
  static constexpr std::string_view kCancelType = "cancel-streamlocal-forward@openssh.com";
  std::string socket_path;

  void encode(wire::Writer& out) const;
  static std::optional<StreamlocalForwardRequest> decode(ByteView data);
};

// Host key rotation (OpenSSH PROTOCOL 2.5). After user authentication the
// server announces every host key it has (want_reply false); the client asks
// it to prove the keys it does not know yet (want_reply true), and the reply
// holds one signature per asked key, in the same order.

struct HostKeysAnnouncement {
  static constexpr std::string_view kType = "hostkeys-00@openssh.com";
  std::vector<Bytes> host_keys;  // public key blobs, not parsed here

  void encode(wire::Writer& out) const;
  static std::optional<HostKeysAnnouncement> decode(ByteView data);
};

struct HostKeysProveRequest {
  static constexpr std::string_view kType = "hostkeys-prove-00@openssh.com";
  std::vector<Bytes> host_keys;

  void encode(wire::Writer& out) const;
  static std::optional<HostKeysProveRequest> decode(ByteView data);
};

// The REQUEST_SUCCESS data of a hostkeys-prove-00@openssh.com request.
struct HostKeysProveReply {
  std::vector<Bytes> signatures;  // signature blobs (string algorithm, string signature)

  void encode(wire::Writer& out) const;
  static std::optional<HostKeysProveReply> decode(ByteView data);
};

}  // namespace ssh::connection
