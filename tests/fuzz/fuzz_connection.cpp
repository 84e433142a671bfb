// libFuzzer target: the connection layer (channels and global requests) fed
// hostile messages, as it sees them after authentication. The first input
// byte picks the role (bit 0: client). The Connection opens one session
// channel of its own and sends a global request first, so confirmations,
// failures and replies to ours are reachable. The peer's channel opens are
// accepted ("session": requests exec and env succeed, the rest fail), deferred ("direct-tcpip":
// settled after the next message, accepted or refused by turns) or refused. After each message,
// data, a request and EOF go out on every open channel the input has not closed, so the send paths
// meet the peer's window and state.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "ssh/connection/connection.hpp"
#include "ssh/wire/message_numbers.hpp"

namespace {

using namespace ssh::connection;

class CountingSink : public PayloadSink {
 public:
  ssh::Status send_payload(ssh::ByteView head, ssh::ByteView tail) override {
    bytes += head.size() + tail.size();
    return {};
  }
  std::size_t bytes = 0;
};

struct State {
  Connection* connection = nullptr;
  std::set<std::uint32_t> open;
  std::vector<std::uint32_t> pending;
};

class Channel : public ChannelHandler {
 public:
  explicit Channel(State& state) : state_(state) {}
  void on_open_confirmed(std::uint32_t id) override { state_.open.insert(id); }
  void on_open_pending(std::uint32_t id) override { state_.pending.push_back(id); }
  void on_open_failed(std::uint32_t id, OpenFailureReason, std::string_view) override {
    state_.open.erase(id);
  }
  void on_close(std::uint32_t id) override { state_.open.erase(id); }
  bool on_request(std::uint32_t, std::string_view type, bool, ssh::ByteView) override {
    return type == "exec" || type == "env";
  }

 private:
  State& state_;
};

class Handler : public ConnectionHandler {
 public:
  explicit Handler(State& state) : state_(state) {}
  OpenDecision on_channel_open(std::string_view type, ssh::ByteView) override {
    if (type == "session") return std::make_shared<Channel>(state_);
    if (type == "direct-tcpip") return DeferredOpen{std::make_shared<Channel>(state_)};
    return OpenFailure{OpenFailureReason::UnknownChannelType, "not here"};
  }
  std::optional<ssh::Bytes> on_global_request(std::string_view name, bool, ssh::ByteView) override {
    if (name == "keepalive@openssh.com") return ssh::Bytes{};
    return std::nullopt;
  }

 private:
  State& state_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  State state;
  CountingSink sink;
  ConnectionConfig config;
  config.initial_window = 64 * 1024;
  config.max_packet = 32 * 1024;
  config.max_channels = 16;
  Connection connection((data[0] & 1) != 0 ? ssh::Role::Client : ssh::Role::Server, config, sink,
                        std::make_shared<Handler>(state));
  state.connection = &connection;
  (void)connection.open_channel("session", {}, std::make_shared<Channel>(state));
  (void)connection.send_global_request("keepalive@openssh.com", true, {},
                                       [](bool, ssh::ByteView) {});

  const ssh::Bytes chunk(40000, 0x5a);
  bool accept_next = true;
  for (const auto& message : fuzz::split_messages(data + 1, size - 1)) {
    if (!ssh::wire::is_connection_message(message.bytes[0])) continue;
    if (!connection.handle_message(message.bytes).ok()) break;
    for (std::uint32_t id : state.pending) {
      if (accept_next) {
        if (connection.accept_open(id).ok()) state.open.insert(id);
      } else {
        (void)connection.refuse_open(id, OpenFailureReason::ConnectFailed, "refused");
      }
      accept_next = !accept_next;
    }
    state.pending.clear();
    const std::set<std::uint32_t> open = state.open;
    for (std::uint32_t id : open) {
      if (!connection.has_channel(id)) continue;
      (void)connection.send_data(id, chunk);
      (void)connection.send_extended_data(id, 1, ssh::ByteView(chunk).subspan(0, 100));
      if (message.flag) {
        (void)connection.request_exec(id, "true");
        (void)connection.send_eof(id);
      }
    }
  }
  connection.abort_all();
  return 0;
}
