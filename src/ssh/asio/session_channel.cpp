#include "ssh/asio/session_channel.hpp"

#include <algorithm>
#include <csignal>
#include <deque>
#include <optional>
#include <utility>

#include "platform/child_process.hpp"
#include "ssh/asio/child_reaper.hpp"
#include "ssh/config/pattern.hpp"
#include "ssh/connection/messages.hpp"
#include "ssh/limits.hpp"
#include "ssh/log.hpp"

namespace ssh::net {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  static const auto instance = log::get("session");
  return instance;
}

#if defined(ASIO_HAS_POSIX_STREAM_DESCRIPTOR)
using ChildStream = asio::posix::stream_descriptor;
#else
// Windows has no session children (platform::start_session_child refuses
// to start one), so no stream of one is ever made; this only lets the
// relay compile there.
class ChildStream {
 public:
  ChildStream(asio::io_context&, int fd) : fd_(fd) {}
  template <class Buffers, class Handler>
  void async_read_some(const Buffers&, Handler&&) {}
  template <class Buffers, class Handler>
  void async_write_some(const Buffers&, Handler&&) {}
  void close(std::error_code&) {}
  int native_handle() const { return fd_; }

 private:
  int fd_;
};
#endif

#ifdef SIGHUP
constexpr int kHangupSignal = SIGHUP;
#else
constexpr int kHangupSignal = 0;
#endif

// Bounds for what a client may pile up before the command starts.
constexpr std::size_t kMaxEnvironmentVariables = limits::kMaxSessionEnvironment;
constexpr std::size_t kReadSize = 32 * 1024;

class SessionChannel : public connection::ChannelHandler,
                       public std::enable_shared_from_this<SessionChannel> {
 public:
  explicit SessionChannel(std::shared_ptr<ServerConnectionContext> context)
      : context_(std::move(context)), connection_(context_->connection) {}

  ~SessionChannel() override {
    release_session_slot();
    close_streams();
    hang_up_child();
  }

  void on_open_confirmed(std::uint32_t id) override {
    id_ = id;
    channel_open_ = true;
    // Client bytes are re-granted only once written to the command, so a
    // fast client cannot queue more than the window here.
    if (auto status = connection_.defer_consumption(id); !status) {
      logger()->warn("{}: session {}: {}", context_->peer, id, status.error().message);
    }
    logger()->debug("{}: session {} opened", context_->peer, id);
  }

  void on_data(std::uint32_t, ByteView data) override {
    if (command_) {
      command_->on_input(data);
      consume(data.size());
      pump_in_process();
      return;
    }
    if (client_eof_ || stdin_failed_ || finished_) {
      consume(data.size());
      return;
    }
    to_child_.emplace_back(data.begin(), data.end());
    write_to_child();
  }

  void on_eof(std::uint32_t) override {
    client_eof_ = true;
    if (command_) {
      command_->on_input_eof();
      pump_in_process();
      return;
    }
    write_to_child();  // closes the child's stdin once the queue is written
  }

  void on_close(std::uint32_t id) override {
    channel_open_ = false;
    release_session_slot();
    if (started_ && !finished_) {
      logger()->info("{}: session {} closed by the client before its command ended", context_->peer,
                     id);
    } else {
      logger()->debug("{}: session {} closed", context_->peer, id);
    }
    command_.reset();
    close_streams();
    hang_up_child();
    // Whatever the child has not taken any more is dropped; nothing is
    // re-granted on a closed channel.
    to_child_.clear();
  }

  void on_send_window_available(std::uint32_t) override {
    if (command_) {
      pump_in_process();
      return;
    }
    send_pending(stdout_);
    send_pending(stderr_);
    maybe_finish();
  }

  bool on_request(std::uint32_t, std::string_view type, bool, ByteView data) override {
    using namespace connection;
    if (type == PtyRequest::kType) return request_pty(data);
    if (type == EnvRequest::kType) return request_env(data);
    if (type == ExecRequest::kType) {
      auto exec = ExecRequest::decode(data);
      return exec && start(Kind::Exec, exec->command);
    }
    if (type == ShellRequest::kType) return ShellRequest::decode(data) && start(Kind::Shell, "");
    if (type == SubsystemRequest::kType) {
      auto subsystem = SubsystemRequest::decode(data);
      return subsystem && start(Kind::Subsystem, subsystem->name);
    }
    if (type == WindowChangeRequest::kType) return request_window_change(data);
    if (type == SignalRequest::kType) return request_signal(data);
    if (type == AuthAgentRequest::kType) return request_agent_forwarding();
    logger()->debug("{}: session {}: refused request \"{}\"", context_->peer, id_, type);
    return false;
  }

  bool take_session_slot() {
    if (context_->open_sessions >= context_->policy.max_sessions) return false;
    ++context_->open_sessions;
    holds_slot_ = true;
    return true;
  }

 private:
  enum class Kind { Exec, Shell, Subsystem };

  struct Output {
    std::unique_ptr<ChildStream> stream;
    bool is_stderr = false;
    bool reading = false;
    bool ended = true;  // until a stream is attached
    Bytes buffer;
    std::size_t begin = 0;
    std::size_t end = 0;
  };

  // Requests -----------------------------------------------------------------

  bool request_pty(ByteView data) {
    auto pty = connection::PtyRequest::decode(data);
    if (!pty) return false;
    if (!context_->restrictions.pty) {
      logger()->info("{}: session {}: pty refused (no-pty for this key)", context_->peer, id_);
      return false;
    }
    if (terminal_ || started_) {
      logger()->info("{}: session {}: pty refused: {}", context_->peer, id_,
                     started_ ? "the command runs already" : "it has one already");
      return false;
    }
    auto modes = connection::decode_terminal_modes(pty->modes);
    if (!modes) {
      logger()->info("{}: session {}: pty refused: malformed terminal modes", context_->peer, id_);
      return false;
    }
    platform::TerminalRequest request;
    request.term = pty->term;
    request.size = {pty->columns, pty->rows, pty->width_pixels, pty->height_pixels};
    for (const auto& mode : *modes) request.modes.push_back({mode.opcode, mode.argument});
    logger()->info("{}: session {}: pty {}x{} TERM={} ({} modes)", context_->peer, id_,
                   pty->columns, pty->rows, pty->term, modes->size());
    terminal_ = std::move(request);
    return true;
  }

  bool request_env(ByteView data) {
    auto env = connection::EnvRequest::decode(data);
    if (!env) return false;
    const auto has_nul = [](const std::string& text) {
      return text.find('\0') != std::string::npos;
    };
    if (started_ || env->name.empty() || env->name.find('=') != std::string::npos ||
        has_nul(env->name) || has_nul(env->value) ||
        client_environment_.size() >= kMaxEnvironmentVariables ||
        !environment_name_accepted(context_->policy.accept_env, env->name)) {
      logger()->info("{}: session {}: env {} refused", context_->peer, id_, env->name);
      return false;
    }
    logger()->debug("{}: session {}: env {} accepted", context_->peer, id_, env->name);
    client_environment_.emplace_back(env->name, env->value);
    return true;
  }

  bool request_window_change(ByteView data) {
    auto size = connection::WindowChangeRequest::decode(data);
    if (!size || !terminal_) return false;
    terminal_->size = {size->columns, size->rows, size->width_pixels, size->height_pixels};
    logger()->debug("{}: session {}: window {}x{}", context_->peer, id_, size->columns, size->rows);
    if (!child_running() || !input_) return true;
    if (auto status = platform::set_terminal_size(input_->native_handle(), terminal_->size);
        !status) {
      logger()->warn("{}: session {}: window-change: {}", context_->peer, id_,
                     status.error().message);
      return false;
    }
    return true;
  }

  bool request_signal(ByteView data) {
    auto request = connection::SignalRequest::decode(data);
    if (!request) return false;
    // As sshd: no signals to forced commands or subsystems.
    if (!child_running() || forced_ || kind_ == Kind::Subsystem) {
      logger()->info("{}: session {}: signal {} refused: {}", context_->peer, id_, request->name,
                     child_running() ? "forced command or subsystem" : "no process runs");
      return false;
    }
    auto number = platform::signal_from_ssh_name(request->name);
    if (!number) {
      logger()->info("{}: session {}: unknown signal {} refused", context_->peer, id_,
                     request->name);
      return false;
    }
    logger()->info("{}: session {}: signal {} to process group {}", context_->peer, id_,
                   request->name, pid_);
    if (auto status = platform::signal_process_group(pid_, *number); !status) {
      logger()->warn("{}: session {}: {}", context_->peer, id_, status.error().message);
      return false;
    }
    return true;
  }

  bool request_agent_forwarding() {
    if (!context_->restrictions.agent_forwarding || !context_->policy.allow_agent_forwarding ||
        !context_->start_agent_forwarding || started_) {
      logger()->info("{}: session {}: agent forwarding refused ({})", context_->peer, id_,
                     !context_->restrictions.agent_forwarding ? "no-agent-forwarding for this key"
                     : started_                               ? "the command runs already"
                                                              : "disabled on this server");
      return false;
    }
    auto path = context_->start_agent_forwarding();
    if (!path) {
      logger()->warn("{}: session {}: agent forwarding failed: {}", context_->peer, id_,
                     path.error().message);
      return false;
    }
    logger()->info("{}: session {}: agent forwarding on {}", context_->peer, id_, *path);
    agent_socket_ = std::move(*path);
    return true;
  }

  // Starting -----------------------------------------------------------------

  // exec (argument: the command), shell, subsystem (argument: its name).
  bool start(Kind kind, const std::string& argument) {
    const std::string_view what = kind == Kind::Exec    ? "exec"
                                  : kind == Kind::Shell ? "shell"
                                                        : "subsystem";
    if (started_) {
      logger()->info("{}: session {}: {} refused: the session runs a command already",
                     context_->peer, id_, what);
      return false;
    }
    kind_ = kind;
    const std::string home = platform::session_account().home;

    std::optional<std::string> command;
    std::optional<std::string> original_command;
    if (kind == Kind::Exec) command = argument;
    if (context_->restrictions.command) {
      // authorized_keys command="...": runs instead of whatever was asked.
      if (kind != Kind::Shell) original_command = argument;
      command = *context_->restrictions.command;
      forced_ = true;
    } else if (kind == Kind::Subsystem) {
      return start_subsystem(argument, home);
    }

    if (command && context_->in_process_command) {
      if (auto served = context_->in_process_command(*command, home)) {
        logger()->info("{}: session {}: {} \"{}\"{} served in-process", context_->peer, id_, what,
                       *command, forced_ ? " (forced)" : "");
        start_in_process(std::move(served));
        return true;
      }
    }
    return start_process(what, command, original_command);
  }

  bool start_subsystem(const std::string& name, const std::string& home) {
    if (name == "sftp" && !context_->policy.sftp_subsystem) {
      logger()->info("{}: session {}: subsystem sftp refused: disabled on this server",
                     context_->peer, id_);
      return false;
    }
    std::unique_ptr<InProcessCommand> served;
    if (context_->subsystem) served = context_->subsystem(name, home);
    if (!served) {
      logger()->info("{}: session {}: subsystem {} is not available", context_->peer, id_, name);
      return false;
    }
    logger()->info("{}: session {}: subsystem {}", context_->peer, id_, name);
    start_in_process(std::move(served));
    return true;
  }

  void start_in_process(std::unique_ptr<InProcessCommand> command) {
    started_ = true;
    command_ = std::move(command);
    // Whatever arrived before the command started.
    for (const Bytes& data : to_child_) {
      command_->on_input(data);
      consume(data.size());
    }
    to_child_.clear();
    if (client_eof_) command_->on_input_eof();
    pump_in_process();
  }

  bool start_process(std::string_view what, const std::optional<std::string>& command,
                     const std::optional<std::string>& original_command) {
    platform::ChildProcessOptions options;
    options.command = command;
    options.client_environment = client_environment_;
    for (const auto& variable : context_->restrictions.environment) {
      options.session_environment.push_back(variable);
    }
    if (original_command) {
      options.session_environment.emplace_back("SSH_ORIGINAL_COMMAND", *original_command);
    }
    if (agent_socket_) options.session_environment.emplace_back("SSH_AUTH_SOCK", *agent_socket_);
    // As sshd sets them: scripts (and bash, which then reads ~/.bashrc for
    // non-interactive commands) use them to tell that they run over SSH.
    const std::string& client_address = context_->origin.address;
    options.session_environment.emplace_back(
        "SSH_CLIENT",
        fmt::format("{} {} {}", client_address, context_->peer_port, context_->local_port));
    options.session_environment.emplace_back(
        "SSH_CONNECTION", fmt::format("{} {} {} {}", client_address, context_->peer_port,
                                      context_->local_address, context_->local_port));
    options.terminal = terminal_;

    auto child = platform::start_session_child(options);
    if (!child) {
      logger()->warn("{}: session {}: {} failed: {}", context_->peer, id_, what,
                     child.error().message);
      return false;
    }
    started_ = true;
    pid_ = child->pid;
    if (command) {
      logger()->info("{}: session {}: {} \"{}\"{}{} as pid {}", context_->peer, id_, what, *command,
                     forced_ ? " (forced)" : "",
                     terminal_ ? " on " + child->tty_name : std::string(), pid_);
    } else {
      logger()->info("{}: session {}: login shell{} as pid {}", context_->peer, id_,
                     terminal_ ? " on " + child->tty_name : std::string(), pid_);
    }

    input_ = std::make_unique<ChildStream>(context_->io, child->input);
    attach(stdout_, child->output, false);
    if (child->error_output >= 0) attach(stderr_, child->error_output, true);

    std::weak_ptr<SessionChannel> weak = shared_from_this();
    ChildReaper::of(context_->io).watch(pid_, [weak](const platform::ChildExit& exit) {
      if (auto self = weak.lock()) self->on_child_exit(exit);
    });
    read_from(stdout_);
    read_from(stderr_);
    write_to_child();
    return true;
  }

  void attach(Output& output, int fd, bool is_stderr) {
    output.stream = std::make_unique<ChildStream>(context_->io, fd);
    output.is_stderr = is_stderr;
    output.ended = false;
    output.buffer.resize(kReadSize);
  }

  // Child -> client ------------------------------------------------------------

  void read_from(Output& output) {
    if (output.reading || output.ended || !output.stream || output.begin < output.end ||
        !channel_open_) {
      return;
    }
    output.reading = true;
    output.stream->async_read_some(
        asio::buffer(output.buffer),
        [self = shared_from_this(), &output](std::error_code ec, std::size_t length) {
          output.reading = false;
          if (!self->channel_open_) return;
          if (ec) {
            // EOF, or EIO from a pty master once the terminal's last user
            // is gone: the child's output is complete.
            output.ended = true;
            std::error_code ignored;
            output.stream->close(ignored);
            self->maybe_finish();
          } else {
            output.begin = 0;
            output.end = length;
            self->send_pending(output);
          }
          self->context_->kick();
        });
  }

  void send_pending(Output& output) {
    if (!channel_open_ || finished_) return;
    while (output.begin < output.end) {
      const ByteView rest(output.buffer.data() + output.begin, output.end - output.begin);
      auto sent = output.is_stderr
                      ? connection_.send_extended_data(id_, connection::kExtendedDataStderr, rest)
                      : connection_.send_data(id_, rest);
      if (!sent) {
        logger()->warn("{}: session {}: {}", context_->peer, id_, sent.error().message);
        output.begin = output.end;
        break;
      }
      if (*sent == 0) return;  // the peer's window is full: on_send_window_available
      output.begin += *sent;
    }
    output.begin = output.end = 0;
    read_from(output);
  }

  // Client -> child ------------------------------------------------------------

  void write_to_child() {
    if (writing_ || !input_ || stdin_closed_) return;
    if (to_child_.empty()) {
      // A pty stays open (sshd neither closes it nor sends ^D): the shell
      // reads its terminal until it exits.
      if (client_eof_ && !terminal_) close_input();
      return;
    }
    writing_ = true;
    const Bytes& front = to_child_.front();
    input_->async_write_some(
        asio::buffer(front.data() + written_of_front_, front.size() - written_of_front_),
        [self = shared_from_this()](std::error_code ec, std::size_t length) {
          self->writing_ = false;
          if (!self->channel_open_) return;
          if (ec) {
            // The child closed its stdin (or exited): what the client sends
            // from now on goes nowhere, but its window must keep moving.
            self->stdin_failed_ = true;
            std::size_t dropped = 0;
            for (const Bytes& data : self->to_child_) dropped += data.size();
            self->consume(dropped - self->written_of_front_);
            self->to_child_.clear();
            self->written_of_front_ = 0;
            self->close_input();
            self->context_->kick();
            return;
          }
          self->written_of_front_ += length;
          self->consume(length);
          if (self->written_of_front_ == self->to_child_.front().size()) {
            self->to_child_.pop_front();
            self->written_of_front_ = 0;
          }
          self->write_to_child();
          self->context_->kick();
        });
  }

  void close_input() {
    if (stdin_closed_) return;
    stdin_closed_ = true;
    if (terminal_) return;  // the master is also how output is read; closed at the end
    std::error_code ignored;
    if (input_) input_->close(ignored);
  }

  void consume(std::size_t length) {
    if (!channel_open_ || length == 0) return;
    (void)connection_.consume(id_, length);
  }

  // In-process commands --------------------------------------------------------

  void pump_in_process() {
    if (!command_ || !channel_open_ || finished_) return;
    for (;;) {
      if (!send_buffered(pending_out_, false) || !send_buffered(pending_err_, true)) return;
      if (!command_->has_output()) break;
      // With the window full, one byte is still taken: sending it fails,
      // and that is what asks the connection for on_send_window_available.
      const std::size_t window = std::max<std::uint32_t>(connection_.send_window(id_), 1);
      command_->produce(std::min<std::size_t>(window, kReadSize), pending_out_, pending_err_);
      if (pending_out_.empty() && pending_err_.empty()) break;
    }
    if (auto status = command_->exit_status(); status && !command_->has_output()) {
      finish(platform::ChildExit{*status, 0, false});
    }
  }

  // Sends what the window takes of `pending`; true once all of it went.
  bool send_buffered(Bytes& pending, bool is_stderr) {
    if (pending.empty()) return true;
    auto sent = is_stderr
                    ? connection_.send_extended_data(id_, connection::kExtendedDataStderr, pending)
                    : connection_.send_data(id_, pending);
    if (!sent) {
      logger()->warn("{}: session {}: {}", context_->peer, id_, sent.error().message);
      pending.clear();
      return true;
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(*sent));
    return pending.empty();
  }

  // The end --------------------------------------------------------------------

  void on_child_exit(const platform::ChildExit& exit) {
    exit_ = exit;
    if (exit.exit_code) {
      logger()->info("{}: session {}: pid {} exited with status {}", context_->peer, id_, pid_,
                     *exit.exit_code);
    } else {
      logger()->info("{}: session {}: pid {} killed by signal {}{}", context_->peer, id_, pid_,
                     platform::ssh_name_of_signal(exit.signal),
                     exit.core_dumped ? " (core dumped)" : "");
    }
    maybe_finish();
    if (channel_open_) context_->kick();
  }

  bool child_running() const { return pid_ > 0 && !exit_; }

  void maybe_finish() {
    if (finished_ || !channel_open_ || !exit_) return;
    for (const Output* output : {&stdout_, &stderr_}) {
      if (!output->ended || output->begin < output->end) return;
    }
    finish(*exit_);
  }

  // exit-status or exit-signal, EOF, CLOSE: OpenSSH's order.
  void finish(const platform::ChildExit& exit) {
    finished_ = true;
    if (exit.exit_code) {
      (void)connection_.send_exit_status(id_, *exit.exit_code);
    } else {
      connection::ExitSignalRequest signal;
      signal.signal_name = platform::ssh_name_of_signal(exit.signal);
      signal.core_dumped = exit.core_dumped;
      (void)connection_.send_exit_signal(id_, signal);
    }
    (void)connection_.send_eof(id_);
    (void)connection_.close(id_);
    close_streams();
  }

  // The client went away while the child runs: hang it up, as closing a
  // terminal would (sshd does the same); the reaper still collects it.
  void hang_up_child() {
    if (!child_running() || hung_up_ || kHangupSignal == 0) return;
    hung_up_ = true;
    logger()->info("{}: session {}: sending HUP to process group {}", context_->peer, id_, pid_);
    (void)platform::signal_process_group(pid_, kHangupSignal);
  }

  void close_streams() {
    std::error_code ignored;
    if (input_) input_->close(ignored);
    for (Output* output : {&stdout_, &stderr_}) {
      if (output->stream) output->stream->close(ignored);
      output->ended = true;
    }
  }

  void release_session_slot() {
    if (!holds_slot_) return;
    holds_slot_ = false;
    if (context_->open_sessions > 0) --context_->open_sessions;
  }

  std::shared_ptr<ServerConnectionContext> context_;
  connection::Connection& connection_;
  std::uint32_t id_ = 0;
  bool channel_open_ = false;
  bool holds_slot_ = false;

  std::optional<platform::TerminalRequest> terminal_;
  platform::EnvironmentVariables client_environment_;
  std::optional<std::string> agent_socket_;

  bool started_ = false;
  Kind kind_ = Kind::Exec;
  bool forced_ = false;
  bool finished_ = false;
  bool client_eof_ = false;

  // A process...
  int pid_ = -1;
  std::optional<platform::ChildExit> exit_;
  bool hung_up_ = false;
  std::unique_ptr<ChildStream> input_;
  std::deque<Bytes> to_child_;
  std::size_t written_of_front_ = 0;
  bool writing_ = false;
  bool stdin_closed_ = false;
  bool stdin_failed_ = false;
  Output stdout_;
  Output stderr_;

  // ...or an in-process command.
  std::unique_ptr<InProcessCommand> command_;
  Bytes pending_out_;
  Bytes pending_err_;
};

}  // namespace

connection::OpenDecision open_session_channel(std::shared_ptr<ServerConnectionContext> context) {
  auto session = std::make_shared<SessionChannel>(context);
  if (!session->take_session_slot()) {
    logger()->info("{}: session refused: {} sessions open on this connection (the limit)",
                   context->peer, context->policy.max_sessions);
    return connection::OpenFailure{connection::OpenFailureReason::ResourceShortage,
                                   "too many sessions on this connection"};
  }
  return session;
}

std::size_t open_session_count(const ServerConnectionContext& context) {
  return context.open_sessions;
}

bool environment_name_accepted(const std::vector<std::string>& patterns, std::string_view name) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
    return config::wildcard_match(pattern, name);
  });
}

}  // namespace ssh::net
