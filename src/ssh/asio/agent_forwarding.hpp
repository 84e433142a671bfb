// Agent forwarding, client side (OpenSSH's PROTOCOL section 1.9 / the
// auth-agent@openssh.com extension): the server opens an
// "auth-agent@openssh.com" channel for each program that uses the
// forwarded agent; we connect each one to the local agent and relay bytes
// both ways until either side closes.
//
// Single-threaded like the ClientDriver: everything runs on the
// io_context's thread, and `kick` is the driver's kick() (new output to
// write after data arrived from the agent).
#pragma once

#include <asio.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ssh/asio/agent_socket.hpp"
#include "ssh/connection/connection.hpp"

namespace ssh::net {

// Decides channel opens for a client connection. Only agent channels are
// ever accepted, and only when forwarding was asked for: a server must not
// reach the user's agent unasked (it gets ADMINISTRATIVELY_PROHIBITED, as
// from OpenSSH's ssh). Other channel types get the default refusal.
class AgentForwardingHandler : public connection::ConnectionHandler {
 public:
  // agent_path: the local agent to relay to; nullopt when forwarding was
  // not requested (no -A, or no agent to forward, in which case ssh does
  // not send auth-agent-req@openssh.com either).
  AgentForwardingHandler(asio::io_context& io, connection::Connection& connection,
                         std::function<void()> kick, std::optional<std::string> agent_path);

  connection::OpenDecision on_channel_open(std::string_view type,
                                           ByteView type_specific_data) override;

 private:
  asio::io_context& io_;
  connection::Connection& connection_;
  std::function<void()> kick_;
  std::optional<std::string> agent_path_;
};

// One forwarded agent connection: channel <-> local agent stream.
class AgentRelay : public connection::ChannelHandler,
                   public std::enable_shared_from_this<AgentRelay> {
 public:
  AgentRelay(connection::Connection& connection, std::function<void()> kick, AgentStream stream);
  ~AgentRelay() override;

  void on_open_confirmed(std::uint32_t id) override;
  void on_data(std::uint32_t id, ByteView data) override;
  void on_eof(std::uint32_t id) override;
  void on_close(std::uint32_t id) override;
  void on_send_window_available(std::uint32_t id) override;

 private:
  // Agent requests are at most 256 KiB; a peer queueing more than this
  // without reading the answers is misbehaving, and the channel is closed.
  static constexpr std::size_t kMaxQueuedToAgent = 1024 * 1024;
  static constexpr std::size_t kReadSize = 16 * 1024;

  void read_from_agent();
  void send_to_channel();
  void write_to_agent();
  void finish_channel();
  void close_stream();

  connection::Connection& connection_;
  std::function<void()> kick_;
  AgentStream stream_;
  std::uint32_t id_ = 0;
  bool channel_open_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool channel_eof_ = false;
  bool stream_closed_ = false;
  Bytes read_buffer_;
  // Agent output the channel's window has not taken yet.
  Bytes to_channel_;
  std::size_t to_channel_offset_ = 0;
  std::deque<Bytes> to_agent_;
  std::size_t to_agent_bytes_ = 0;
  Bytes writing_now_;
};

}  // namespace ssh::net
