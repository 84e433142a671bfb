#include "cli/ssh_command.hpp"

#include <botan/auto_rng.h>
#include <botan/system_rng.h>

#include <asio.hpp>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <iostream>

#include "cli/client_connection.hpp"
#include "cli/logging.hpp"
#include "cli/ssh_control.hpp"
#include "cli/ssh_forwarding.hpp"
#include "cli/stdin_reader.hpp"
#include "platform/background.hpp"
#include "platform/console.hpp"
#include "platform/stdio.hpp"
#include "ssh/asio/agent_forwarding.hpp"
#include "ssh/asio/agent_socket.hpp"
#include "ssh/asio/client_driver.hpp"
#include "ssh/asio/client_forwarding.hpp"
#include "ssh/asio/control_client.hpp"
#include "ssh/asio/control_master.hpp"
#include "ssh/client_session.hpp"
#include "ssh/config/client_options.hpp"
#include "ssh/connection/connection.hpp"
#include "ssh/log.hpp"

namespace cli {
namespace {

constexpr int kExitFailure = 255;

using platform::RawModeGuard;
using platform::stdin_is_terminal;
using platform::terminal_size;
using platform::terminal_type;
using platform::TerminalSize;

// One interactive or exec session over one connection, or only forwards
// (-N), or stdin/stdout relayed to a host:port (-W): the application logic
// that ssh(1) runs on top of the protocol.
class SshRun : public ClientConnectionCallbacks,
               public ssh::connection::ChannelHandler,
               public std::enable_shared_from_this<SshRun> {
 public:
  SshRun(asio::io_context& io, const ssh::config::ClientOptions& options,
         ssh::config::HostKeyPolicy host_key_policy, std::string command, bool want_tty,
         bool forward_agent, std::optional<StdioTarget> stdio_target)
      : ClientConnectionCallbacks(options, std::move(host_key_policy)),
        io_(io),
        command_(std::move(command)),
        want_tty_(want_tty),
        forward_agent_(forward_agent),
        stdio_target_(std::move(stdio_target)) {}

  void attach(ssh::ClientSession& session, ssh::net::ClientDriver& driver,
              ssh::net::ClientForwarding& forwarding, ssh::net::ControlMaster* master) {
    session_ = &session;
    driver_ = &driver;
    forwarding_ = &forwarding;
    master_ = master;
  }

  int exit_code() const { return exit_code_; }
  void finish_output() { flush_stdout(); }
  bool channel_closed() const { return channel_closed_; }

  // --- ClientSessionCallbacks ---
  void on_authenticated() override {
    // The session starts once the forwards are set up (the server answered
    // every -R): with ExitOnForwardFailure a failed forward runs nothing,
    // and -f goes to the background before any stdin is read, so that
    // failures still reach the terminal and the exit status.
    start_forwards(*forwarding_, options_, [self = shared_from_this()](ssh::Status ready) {
      self->on_forwards_ready(ready);
    });
  }

  void on_forwards_ready(const ssh::Status& ready) {
    if (!ready) {
      fail_run(ready.error().message);
      return;
    }
    // Listening before -f: once `ssh -M -f` returned, clients can use it.
    if (master_) {
      if (auto listening = master_->listen(options_.control_path); !listening) {
        fail_run(listening.error().message);
        return;
      }
    }
    if (options_.fork_after_authentication) {
      // Stops Asio's internal threads (the resolver's) so none is lost
      // holding a lock in the child.
      io_.notify_fork(asio::execution_context::fork_prepare);
      if (auto detached = platform::continue_in_background(); !detached) {
        fail_run(detached.error().message);
        return;
      }
      io_.notify_fork(asio::execution_context::fork_child);
    }
    if (stdio_target_) {
      ssh::log::get("forward")->debug("stdio forwarding to {}:{}", stdio_target_->host,
                                      stdio_target_->port);
      open_channel(ssh::connection::DirectTcpipOpen{stdio_target_->host, stdio_target_->port,
                                                    "127.0.0.1", 0});
    } else if (options_.no_session) {
      ssh::log::get("session")->debug("no session (-N): forwarding only");
    } else {
      open_channel(ssh::connection::SessionOpen{});
    }
    driver_->kick();
  }

  // --- ChannelHandler ---
  void on_open_confirmed(std::uint32_t id) override {
    auto& connection = session_->connection();
    if (stdio_target_) {
      // A plain byte stream: no requests, exit status 0 when it ends.
      exit_code_ = 0;
      start_stdin();
      driver_->kick();
      return;
    }
    if (forward_agent_) {
      // Like ssh: no reply wanted; a server that refuses just never opens
      // agent channels.
      ssh::log::get("session")->debug("requesting authentication agent forwarding");
      (void)connection.request_auth_agent(id, false);
    }
    if (want_tty_) {
      const auto size = terminal_size().value_or(TerminalSize{});
      ssh::connection::PtyRequest pty;
      pty.term = terminal_type();
      pty.columns = size.columns;
      pty.rows = size.rows;
      pty.width_pixels = size.width_pixels;
      pty.height_pixels = size.height_pixels;
      pty.modes = ssh::connection::encode_terminal_modes({});
      (void)connection.request_pty(id, pty, true);
      pending_replies_.push_back(Reply::Pty);
      if (stdin_is_terminal()) raw_mode_ = std::make_unique<RawModeGuard>();
      watch_window_size();
    }
    if (command_.empty()) {
      (void)connection.request_shell(id, true);
      pending_replies_.push_back(Reply::Shell);
    } else {
      (void)connection.request_exec(id, command_, true);
      pending_replies_.push_back(Reply::Exec);
    }
    start_stdin();
    driver_->kick();
  }

  void on_open_failed(std::uint32_t, ssh::connection::OpenFailureReason reason,
                      std::string_view description) override {
    fail_run("channel 0: open failed: " +
             std::string(ssh::connection::open_failure_reason_name(reason)) + ": " +
             std::string(description));
  }

  // Output is gathered for the rest of the current read and written with
  // one system call, instead of one per 32 KiB packet.
  void on_data(std::uint32_t, ssh::ByteView data) override {
    stdout_buffer_.insert(stdout_buffer_.end(), data.begin(), data.end());
    if (stdout_buffer_.size() >= kMaxBufferedOutput) {
      flush_stdout();
    } else if (!stdout_flush_posted_) {
      stdout_flush_posted_ = true;
      asio::post(io_, [self = shared_from_this()] { self->flush_stdout(); });
    }
  }

  void on_extended_data(std::uint32_t, std::uint32_t type, ssh::ByteView data) override {
    flush_stdout();
    if (type == 1) platform::write_all(platform::StdStream::Err, data);
  }

  bool on_request(std::uint32_t, std::string_view type, bool, ssh::ByteView data) override {
    using namespace ssh::connection;
    if (auto status = decode_typed<ExitStatusRequest>(type, data)) {
      exit_code_ = static_cast<int>(status->exit_status & 0xff);
      return true;
    }
    if (auto signal = decode_typed<ExitSignalRequest>(type, data)) {
      ssh::log::get("session")->debug("remote command killed by signal {}{}", signal->signal_name,
                                      signal->core_dumped ? " (core dumped)" : "");
      exit_code_ = kExitFailure;
      return true;
    }
    return false;
  }

  void on_request_reply(std::uint32_t id, bool success) override {
    if (pending_replies_.empty()) return;
    const Reply what = pending_replies_.front();
    pending_replies_.pop_front();
    if (success) return;
    if (what == Reply::Pty) {
      std::cerr << "PTY allocation request failed on channel 0\r\n";
    } else {
      std::cerr << (what == Reply::Exec ? "exec" : "shell") << " request failed on channel 0\n";
      exit_code_ = kExitFailure;
      (void)session_->connection().close(id);
    }
  }

  void on_close(std::uint32_t) override {
    flush_stdout();
    channel_closed_ = true;
    raw_mode_.reset();
    window_size_.reset();
    session_->disconnect("disconnected by user");
    driver_->kick();
  }

  void on_send_window_available(std::uint32_t) override { pump_stdin(); }

 private:
  enum class Reply { Pty, Exec, Shell };
  static constexpr std::size_t kMaxBufferedOutput = 1024 * 1024;

  void flush_stdout() {
    stdout_flush_posted_ = false;
    platform::write_all(platform::StdStream::Out, stdout_buffer_);
    stdout_buffer_.clear();
  }

  template <class TypedOpen>
  void open_channel(const TypedOpen& open) {
    auto opened = session_->connection().open_channel(open, shared_from_this());
    if (!opened) {
      fail_run(opened.error().message);
      return;
    }
    channel_ = *opened;
  }

  void fail_run(const std::string& message) {
    std::cerr << message << "\n";
    exit_code_ = kExitFailure;
    session_->disconnect(message);
    driver_->kick();
  }

  void start_stdin() {
    stdin_reader_ = std::make_unique<StdinReader>(io_, [this](ssh::Bytes& chunk) {
      if (chunk.empty()) {
        stdin_eof_ = true;
      } else {
        stdin_queue_.push_back(std::move(chunk));
      }
      pump_stdin();
    });
    stdin_reader_->start();
  }

  void pump_stdin() {
    auto& connection = session_->connection();
    if (channel_closed_ || !connection.has_channel(channel_)) return;
    while (!stdin_queue_.empty()) {
      auto& front = stdin_queue_.front();
      const ssh::ByteView rest = ssh::ByteView(front).subspan(stdin_offset_);
      auto sent = connection.send_data(channel_, rest);
      if (!sent) return;
      stdin_offset_ += *sent;
      if (stdin_offset_ < front.size()) break;  // window full; wait for more
      stdin_offset_ = 0;
      stdin_reader_->release(std::move(front));
      stdin_queue_.pop_front();
    }
    if (stdin_queue_.empty() && stdin_eof_ && !eof_sent_) {
      eof_sent_ = true;
      (void)connection.send_eof(channel_);
    }
    driver_->kick();
  }

  void watch_window_size() {
    window_size_ = std::make_unique<platform::WindowSizeWatcher>(io_, [this] {
      if (channel_closed_) return;
      if (auto size = terminal_size()) {
        ssh::connection::WindowChangeRequest change{size->columns, size->rows, size->width_pixels,
                                                    size->height_pixels};
        (void)session_->connection().send_window_change(channel_, change);
        driver_->kick();
      }
    });
  }

  asio::io_context& io_;
  std::string command_;
  bool want_tty_;
  bool forward_agent_;
  std::optional<StdioTarget> stdio_target_;
  ssh::ClientSession* session_ = nullptr;
  ssh::net::ClientDriver* driver_ = nullptr;
  ssh::net::ClientForwarding* forwarding_ = nullptr;
  ssh::net::ControlMaster* master_ = nullptr;
  std::uint32_t channel_ = 0;
  bool channel_closed_ = false;
  int exit_code_ = kExitFailure;
  std::deque<Reply> pending_replies_;
  ssh::Bytes stdout_buffer_;
  bool stdout_flush_posted_ = false;
  std::unique_ptr<StdinReader> stdin_reader_;
  std::deque<ssh::Bytes> stdin_queue_;
  std::size_t stdin_offset_ = 0;
  bool stdin_eof_ = false;
  bool eof_sent_ = false;
  std::unique_ptr<RawModeGuard> raw_mode_;
  std::unique_ptr<platform::WindowSizeWatcher> window_size_;
};

std::string join_command(const std::vector<std::string>& words) {
  std::string command;
  for (const auto& word : words) {
    if (!command.empty()) command += ' ';
    command += word;
  }
  return command;
}

// The agent to forward with -A, or nullopt when forwarding is off or there
// is no agent to forward (ssh then does not ask the server for it).
std::optional<std::string> agent_forwarding_path(asio::io_context& io,
                                                 const ssh::config::ClientOptions& options,
                                                 const std::optional<std::string>& agent_path) {
  if (!options.forward_agent) return std::nullopt;
  const auto path = options.forward_agent_socket.empty()
                        ? agent_path
                        : ssh::net::resolve_agent_path(options.forward_agent_socket);
  if (!path || !ssh::net::connect_agent(io, *path)) {
    ssh::log::get("session")->debug("no agent to forward; not requesting agent forwarding");
    return std::nullopt;
  }
  return path;
}

// Whether to ask for a pty: RequestTTY, then -T, -tt and -t as ssh weighs them.
bool decide_tty(const ssh::config::ClientOptions& options, const SshCommandOptions& cli_options,
                const std::string& command) {
  bool want_tty = false;
  switch (options.request_tty) {
    case ssh::config::RequestTty::Force:
      want_tty = true;
      break;
    case ssh::config::RequestTty::Yes:
      want_tty = stdin_is_terminal();
      break;
    case ssh::config::RequestTty::No:
      want_tty = false;
      break;
    case ssh::config::RequestTty::Auto:
      want_tty = command.empty() && stdin_is_terminal();
      break;
  }
  if (cli_options.disable_tty) want_tty = false;
  if (cli_options.force_tty >= 2) want_tty = true;
  if (cli_options.force_tty == 1) {
    want_tty = stdin_is_terminal();
    if (!want_tty && options.log_level >= ssh::config::LogLevel::Info) {
      std::cerr << "Pseudo-terminal will not be allocated because stdin is not a terminal.\n";
    }
  }

  return want_tty;
}

}  // namespace

void setup_ssh_command(CLI::App& app, SshCommandOptions& options) {
  auto* command = app.add_subcommand(
      "ssh", "Log into a remote host and run a command or a shell (OpenSSH's ssh, in process)");
  command->add_option("-p", options.port, "Port to connect to on the remote host");
  command->add_option("-l", options.login_name, "User to log in as");
  command
      ->add_option("-i", options.identity_files,
                   "Identity (private key) file; an encrypted one's passphrase is asked on the "
                   "terminal or taken from $LIMACTL_SSH_PASSPHRASE")
      ->allow_extra_args(false);
  command->add_option("-o", options.options, "Option in ssh_config format (Key=Value)")
      ->allow_extra_args(false);
  command->add_option("-F", options.config_file,
                      "Configuration file (default ~/.ssh/config; 'none' for none)");
  command->add_flag("-t", options.force_tty,
                    "Force pseudo-terminal allocation (twice: even without a local tty)");
  command->add_flag("-T", options.disable_tty, "Disable pseudo-terminal allocation");
  command->add_flag("-A", options.forward_agent, "Forward the authentication agent connection");
  command->add_flag("-a", options.no_forward_agent, "Do not forward the authentication agent");
  add_forwarding_flags(*command, options.forwarding);
  command->add_flag("-M", options.control_master,
                    "Be a connection-sharing master (ControlMaster yes; twice: ask)");
  command->add_option("-S", options.control_path,
                      "Control socket for connection sharing (ControlPath)");
  command->add_option("-O", options.control_command,
                      "Ask the master: check, exit, forward or cancel");
  command->add_flag("-C", options.compression,
                    "Compress the data (Compression yes: zlib@openssh.com, for slow links)");
  command->add_flag("-q", options.quiet, "Quiet mode");
  command->add_flag("-v", options.verbosity, "Verbose mode (repeat for more)");
  // Everything from the destination on belongs to the remote command, even
  // words that look like options (as in ssh), so it is left unparsed.
  command->prefix_command();
  command->callback(
      [command, &options] { options.destination_and_command = command->remaining(); });
}

int run_ssh_command(const SshCommandOptions& cli_options) {
  ConnectionRequest request;
  request.port = cli_options.port;
  request.login_name = cli_options.login_name;
  request.identity_files = cli_options.identity_files;
  request.options = cli_options.options;
  if (cli_options.compression) request.options.push_back("Compression=yes");
  request.config_file = cli_options.config_file;
  request.verbosity = cli_options.verbosity;
  request.quiet = cli_options.quiet;
  request.forward_agent = cli_options.forward_agent;
  request.no_forward_agent = cli_options.no_forward_agent;
  std::vector<std::string> command_words;
  if (!cli_options.destination_and_command.empty()) {
    request.destination = cli_options.destination_and_command.front();
    command_words.assign(cli_options.destination_and_command.begin() + 1,
                         cli_options.destination_and_command.end());
  }

  if (cli_options.control_master > 0) {
    request.options.insert(request.options.begin(), "ControlMaster=yes");
  }
  if (!cli_options.control_path.empty()) {
    request.options.insert(request.options.begin(), "ControlPath=" + cli_options.control_path);
  }
  const std::string command = join_command(command_words);
  // Sharing first: -O talks only to the master; a client whose master
  // answers needs neither keys nor a handshake.
  std::string control_path;
  ssh::config::ControlMasterMode control_master = ssh::config::ControlMasterMode::No;
  bool become_master = false;
  try {
    auto early = resolve_client_options(request);
    control_path = early.control_path;
    control_master = early.control_master;
    if (!cli_options.control_command.empty()) {
      configure_logging(early.log_level);
      apply_forwarding_flags(cli_options.forwarding, early);
      return run_control_command(cli_options.control_command, early);
    }
    const bool session_through_master =
        !control_path.empty() && control_master != ssh::config::ControlMasterMode::Yes &&
        cli_options.forwarding.stdio_target.empty() && !cli_options.forwarding.no_session &&
        !early.no_session && cli_options.forwarding.local.empty() &&
        cli_options.forwarding.remote.empty() && cli_options.forwarding.dynamic.empty() &&
        early.forwards.empty();
    if (session_through_master) {
      configure_logging(early.log_level);
      std::string not_answering;
      if (auto status = run_shared_session(early, command, decide_tty(early, cli_options, command),
                                           not_answering)) {
        return *status;
      }
      // As ssh: a missing socket quietly, a dead one with a message; then
      // a connection of our own (auto: one that becomes the master).
      ssh::log::get("session")->debug("{}", not_answering);
      if (std::filesystem::exists(control_path)) std::cerr << not_answering << "\n";
    }
    // auto: only when no master answers (this run may have skipped it for
    // its forwards); yes: a live master there is an error, from listen().
    become_master =
        !control_path.empty() && (control_master == ssh::config::ControlMasterMode::Yes ||
                                  (control_master == ssh::config::ControlMasterMode::Auto &&
                                   !ssh::net::probe_control_master(control_path)));
  } catch (const std::exception& error) {
    std::cerr << "limactl ssh: " << error.what() << "\n";
    return kExitFailure;
  }

  asio::io_context io;
  PreparedConnection prepared;
  try {
    prepared = prepare_connection(io, request);
  } catch (const std::exception& error) {
    std::cerr << "limactl ssh: " << error.what() << "\n";
    return kExitFailure;
  }
  std::optional<StdioTarget> stdio_target;
  try {
    apply_forwarding_flags(cli_options.forwarding, prepared.options);
    if (!cli_options.forwarding.stdio_target.empty()) {
      stdio_target = parse_stdio_target(cli_options.forwarding.stdio_target);
    }
  } catch (const std::exception& error) {
    std::cerr << "limactl ssh: " << error.what() << "\n";
    return kExitFailure;
  }
#ifdef _WIN32
  if (prepared.options.fork_after_authentication) {
    std::cerr << "limactl ssh: -f (ForkAfterAuthentication) is not supported on Windows\n";
    return kExitFailure;
  }
#endif
  const ssh::config::ClientOptions& options = prepared.options;
  const auto& agent_path = prepared.agent_path;
  const auto forward_agent_path = agent_forwarding_path(io, options, agent_path);

  bool want_tty = decide_tty(options, cli_options, command);
  if (stdio_target || options.no_session) want_tty = false;
  auto run = std::make_shared<SshRun>(io, options, std::move(prepared.host_key_policy), command,
                                      want_tty, forward_agent_path.has_value(), stdio_target);
  Botan::AutoSeeded_RNG rng;
  ssh::ClientSession session(std::move(prepared.session_config), *run, rng);
  ssh::net::ClientDriver driver(io, session);
  ssh::net::ClientForwarding forwarding(io, session.connection(), [&driver] { driver.kick(); });
  std::unique_ptr<ssh::net::ControlMaster> master;
  bool exit_requested = false;
  if (become_master) {
    master = std::make_unique<ssh::net::ControlMaster>(io, session.connection(), forwarding,
                                                       [&driver] { driver.kick(); });
    master->set_exit_handler([&] {
      exit_requested = true;
      session.disconnect("master exiting on request");
      driver.kick();
    });
  }
  run->attach(session, driver, forwarding, master.get());
  session.connection().set_handler(std::make_shared<ssh::net::ClientChannelOpens>(
      std::make_shared<ssh::net::AgentForwardingHandler>(
          io, session.connection(), [&driver] { driver.kick(); }, forward_agent_path),
      forwarding));

  std::optional<ssh::Error> failure;
  driver.set_closed_handler([&](const std::optional<ssh::Error>& error) {
    failure = error;
    io.stop();
  });
  // As ssh: a signal ends the run with status 255, after the cleanup a
  // normal end gets (listeners closed, their socket files removed).
  asio::signal_set signals(io, SIGINT, SIGTERM);
#ifdef SIGHUP
  signals.add(SIGHUP);
#endif
  std::optional<int> killed_by;
  signals.async_wait([&](std::error_code error, int signal) {
    if (error) return;
    killed_by = signal;
    io.stop();
  });
  driver.connect(connect_options(options));
  io.run();
  run->finish_output();
  if (master) master->shutdown();
  forwarding.shutdown();
  if (exit_requested) return 0;

  if (killed_by) {
    ssh::log::get("session")->info("Killed by signal {}.", *killed_by);
    return kExitFailure;
  }

  if (!run->channel_closed()) {
    std::cerr << connection_failure_message(failure) << "\n";
    return kExitFailure;
  }
  return run->exit_code();
}

}  // namespace cli
