// Server session channels: a client and a server Connection wired to each
// other in memory, the server's session channels started by
// open_session_channel() and running real children on a real io_context.
#include "ssh/asio/session_channel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <asio.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/child_process.hpp"
#include "ssh/asio/child_reaper.hpp"
#include "ssh/asio/server_context.hpp"
#include "ssh/connection/connection.hpp"
#include "ssh/connection/messages.hpp"
#include "ssh/limits.hpp"

#ifndef _WIN32
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "support/temp_dir.hpp"
#endif

namespace ssh::net {
namespace {

using connection::Connection;
using connection::ConnectionConfig;

TEST(SessionEnvironmentTest, AcceptEnvPatternsUseStarAndQuestionMark) {
  const std::vector<std::string> patterns = {"LANG", "LC_*", "FOO?", "*_COLOR"};
  EXPECT_TRUE(environment_name_accepted(patterns, "LANG"));
  EXPECT_TRUE(environment_name_accepted(patterns, "LC_ALL"));
  EXPECT_TRUE(environment_name_accepted(patterns, "LC_"));
  EXPECT_TRUE(environment_name_accepted(patterns, "FOO1"));
  EXPECT_TRUE(environment_name_accepted(patterns, "TERM_COLOR"));
  EXPECT_FALSE(environment_name_accepted(patterns, "LANGUAGE"));
  EXPECT_FALSE(environment_name_accepted(patterns, "FOO"));
  EXPECT_FALSE(environment_name_accepted(patterns, "FOO12"));
  EXPECT_FALSE(environment_name_accepted(patterns, "XLC_ALL"));
  EXPECT_FALSE(environment_name_accepted(patterns, "PATH"));
  EXPECT_FALSE(environment_name_accepted({}, "LANG"));
}

TEST(SessionEnvironmentTest, AccountVariablesWinOverTheClientsAndSessionOnesComeLast) {
  platform::SessionAccount account{"alice", "/home/alice", "/bin/zsh"};
  platform::ChildProcessOptions options;
  options.client_environment = {{"LANG", "C.UTF-8"}, {"HOME", "/tmp/evil"}};
  options.session_environment = {{"SSH_AUTH_SOCK", "/tmp/agent"}, {"LANG", "fr_FR.UTF-8"}};
  options.terminal = platform::TerminalRequest{"xterm-256color", {80, 24, 0, 0}, {}};
  const auto environment = platform::session_child_environment(account, options, "/dev/pts/7");
  auto value_of = [&](const std::string& name) -> std::optional<std::string> {
    std::optional<std::string> found;
    for (const auto& [variable, value] : environment) {
      if (variable == name) {
        EXPECT_FALSE(found) << name << " is set twice";
        found = value;
      }
    }
    return found;
  };
  EXPECT_EQ(value_of("HOME"), "/home/alice");
  EXPECT_EQ(value_of("USER"), "alice");
  EXPECT_EQ(value_of("LOGNAME"), "alice");
  EXPECT_EQ(value_of("SHELL"), "/bin/zsh");
  EXPECT_EQ(value_of("MAIL"), "/var/mail/alice");
  EXPECT_TRUE(value_of("PATH").has_value());
  EXPECT_EQ(value_of("TERM"), "xterm-256color");
  EXPECT_EQ(value_of("SSH_TTY"), "/dev/pts/7");
  EXPECT_EQ(value_of("SSH_AUTH_SOCK"), "/tmp/agent");
  EXPECT_EQ(value_of("LANG"), "fr_FR.UTF-8");
}

TEST(SessionSignalTest, SshNamesMapBothWays) {
#ifndef _WIN32
  for (const char* name : {"ABRT", "ALRM", "FPE", "HUP", "ILL", "INT", "KILL", "PIPE", "QUIT",
                           "SEGV", "TERM", "USR1", "USR2"}) {
    auto number = platform::signal_from_ssh_name(name);
    ASSERT_TRUE(number) << name;
    EXPECT_EQ(platform::ssh_name_of_signal(*number), name);
  }
  EXPECT_EQ(platform::signal_from_ssh_name("TERM"), SIGTERM);
  EXPECT_EQ(platform::ssh_name_of_signal(SIGWINCH), "SIG@openssh.com");
#endif
  EXPECT_FALSE(platform::signal_from_ssh_name("SIGTERM"));
  EXPECT_FALSE(platform::signal_from_ssh_name("NOPE"));
}

#ifdef _WIN32

TEST(SessionChildTest, WindowsRefusesToRunCommandsForNow) {
  platform::ChildProcessOptions options;
  options.command = "echo hi";
  auto child = platform::start_session_child(options);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.error().message, "running commands in server sessions is POSIX-only for now");
}

#else  // POSIX: real children

// Queues every payload, as a transport would send it.
class QueueSink : public connection::PayloadSink {
 public:
  Status send_payload(ByteView head, ByteView tail) override {
    Bytes payload(head.begin(), head.end());
    payload.insert(payload.end(), tail.begin(), tail.end());
    queue.push_back(std::move(payload));
    return {};
  }
  std::deque<Bytes> queue;
};

// The client's side of one session channel: records what arrives and sends
// `input` as the window allows.
class ClientSession : public connection::ChannelHandler {
 public:
  explicit ClientSession(Connection& connection) : connection_(connection) {}

  void on_open_confirmed(std::uint32_t id) override {
    id_ = id;
    confirmed = true;
    // What arrives is re-granted to the server only when consumed, so
    // hold_consumption can stop the server's sending.
    EXPECT_TRUE(connection_.defer_consumption(id).ok());
  }
  void on_open_failed(std::uint32_t, connection::OpenFailureReason reason,
                      std::string_view) override {
    failure = reason;
  }
  void on_data(std::uint32_t, ByteView data) override {
    out.append(as_text(data));
    received_unconsumed += data.size();
    if (!hold_consumption) release_consumption();
  }
  void on_extended_data(std::uint32_t, std::uint32_t type, ByteView data) override {
    EXPECT_EQ(type, connection::kExtendedDataStderr);
    err.append(as_text(data));
    received_unconsumed += data.size();
    if (!hold_consumption) release_consumption();
  }
  void on_eof(std::uint32_t) override { events.push_back("eof"); }
  void on_close(std::uint32_t) override {
    events.push_back("close");
    closed = true;
  }
  bool on_request(std::uint32_t, std::string_view type, bool, ByteView data) override {
    if (auto status = connection::decode_typed<connection::ExitStatusRequest>(type, data)) {
      exit_status = status->exit_status;
      events.push_back("exit-status");
    } else if (auto signal = connection::decode_typed<connection::ExitSignalRequest>(type, data)) {
      exit_signal = *signal;
      events.push_back("exit-signal");
    } else {
      ADD_FAILURE() << "unexpected request " << type;
    }
    return true;
  }
  void on_request_reply(std::uint32_t, bool success) override { replies.push_back(success); }
  void on_send_window_available(std::uint32_t) override { send_input(); }

  std::uint32_t id() const { return id_; }

  // Sends `data` (as the window allows), then EOF if `eof_after`.
  void send(std::string data, bool eof_after) {
    input_ = std::move(data);
    input_sent_ = 0;
    eof_after_input_ = eof_after;
    send_input();
  }
  std::size_t input_sent() const { return input_sent_; }

  // Application flow control: with hold_consumption, what arrived is
  // re-granted to the server only by release_consumption().
  void release_consumption() {
    ASSERT_TRUE(connection_.consume(id_, received_unconsumed).ok());
    received_unconsumed = 0;
  }

  bool confirmed = false;
  std::optional<connection::OpenFailureReason> failure;
  std::string out;
  std::string err;
  std::vector<std::string> events;
  std::vector<bool> replies;
  std::optional<std::uint32_t> exit_status;
  std::optional<connection::ExitSignalRequest> exit_signal;
  bool closed = false;
  bool hold_consumption = false;
  std::size_t received_unconsumed = 0;

 private:
  void send_input() {
    while (input_sent_ < input_.size()) {
      auto sent = connection_.send_data(id_, as_bytes(input_).subspan(input_sent_));
      ASSERT_TRUE(sent.ok()) << sent.error().message;
      if (*sent == 0) return;
      input_sent_ += *sent;
    }
    if (eof_after_input_) {
      eof_after_input_ = false;
      ASSERT_TRUE(connection_.send_eof(id_).ok());
    }
  }

  Connection& connection_;
  std::uint32_t id_ = 0;
  std::string input_;
  std::size_t input_sent_ = 0;
  bool eof_after_input_ = false;
};

// A test-local in-process command: upper-cases its input, says so on
// stderr, and exits with status 5 after the client's EOF.
class UpperCaseCommand : public InProcessCommand {
 public:
  void on_input(ByteView data) override {
    for (std::uint8_t byte : data) output_.push_back(static_cast<char>(std::toupper(byte)));
  }
  void on_input_eof() override { input_ended_ = true; }
  void produce(std::size_t max, Bytes& out, Bytes& err) override {
    if (!said_hello_) {
      said_hello_ = true;
      const std::string note = "upper-casing\n";
      err.insert(err.end(), note.begin(), note.end());
    }
    const std::size_t length = std::min(max, output_.size());
    out.insert(out.end(), output_.begin(), output_.begin() + static_cast<std::ptrdiff_t>(length));
    output_.erase(0, length);
  }
  bool has_output() const override { return !said_hello_ || !output_.empty(); }
  std::optional<std::uint32_t> exit_status() const override {
    if (input_ended_ && output_.empty() && said_hello_) return 5;
    return std::nullopt;
  }

 private:
  std::string output_;
  bool input_ended_ = false;
  bool said_hello_ = false;
};

std::size_t open_descriptor_count() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

bool process_gone(int pid) {
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

class SessionChannelTest : public ::testing::Test {
 protected:
  class ServerHandler : public connection::ConnectionHandler {
   public:
    explicit ServerHandler(SessionChannelTest& test) : test_(test) {}
    connection::OpenDecision on_channel_open(std::string_view type, ByteView data) override {
      if (type == connection::SessionOpen::kType) return open_session_channel(test_.context_);
      return ConnectionHandler::on_channel_open(type, data);
    }

   private:
    SessionChannelTest& test_;
  };

  void SetUp() override { make_pair({}, {}); }

  void TearDown() override {
    // Children of a failed test must not outlive it.
    if (context_) {
      client_->abort_all();
      server_->abort_all();
      run_until([&] { return ChildReaper::of(io_).watched() == 0; }, std::chrono::seconds(5));
    }
  }

  void make_pair(ConnectionConfig client_config, ConnectionConfig server_config) {
    client_ = std::make_unique<Connection>(Role::Client, client_config, client_out_);
    server_ = std::make_unique<Connection>(Role::Server, server_config, server_out_,
                                           std::make_shared<ServerHandler>(*this));
    context_ = std::make_shared<ServerConnectionContext>(ServerConnectionContext{
        .io = io_,
        .connection = *server_,
        .kick = [this] { asio::post(io_, [this] { (void)pump(); }); },
        .user = "tester",
        .peer = "127.0.0.1:50000",
        .origin = {"127.0.0.1", "localhost"},
        .restrictions = {},
        .policy = policy_,
        .start_agent_forwarding = nullptr,
        .in_process_command = nullptr,
        .subsystem = nullptr,
    });
  }

  // Delivers queued payloads both ways until nothing is in flight.
  Status pump() {
    while (!client_out_.queue.empty() || !server_out_.queue.empty()) {
      if (!client_out_.queue.empty()) {
        Bytes payload = std::move(client_out_.queue.front());
        client_out_.queue.pop_front();
        if (Status status = server_->handle_message(payload); !status) return status;
      }
      if (!server_out_.queue.empty()) {
        Bytes payload = std::move(server_out_.queue.front());
        server_out_.queue.pop_front();
        if (Status status = client_->handle_message(payload); !status) return status;
      }
    }
    return {};
  }

  void expect_pump_ok() {
    Status status = pump();
    ASSERT_TRUE(status.ok()) << status.error().message;
  }

  // Runs the io_context and the message pump until `done` or the timeout.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      Status status = pump();
      EXPECT_TRUE(status.ok()) << status.error().message;
      if (!status) return false;
      if (done()) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      if (io_.stopped()) io_.restart();
      if (io_.run_one_for(std::chrono::milliseconds(10)) == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
  }

  // Runs for a while regardless, e.g. to let a stalled transfer stall.
  void run_for(std::chrono::milliseconds duration) {
    run_until([] { return false; }, duration);
  }

  std::shared_ptr<ClientSession> open_session() {
    auto session = std::make_shared<ClientSession>(*client_);
    auto id = client_->open_channel(connection::SessionOpen{}, session);
    EXPECT_TRUE(id.ok());
    expect_pump_ok();
    return session;
  }

  // Sends a request and returns the server's reply.
  bool request(ClientSession& session, const std::function<Status(std::uint32_t)>& send) {
    const std::size_t before = session.replies.size();
    EXPECT_TRUE(send(session.id()).ok());
    expect_pump_ok();
    EXPECT_EQ(session.replies.size(), before + 1);
    return session.replies.size() == before + 1 && session.replies.back();
  }
  bool exec(ClientSession& session, const std::string& command) {
    return request(session, [&](std::uint32_t id) { return client_->request_exec(id, command); });
  }

  // Runs the session until the server closed it.
  void run_to_close(ClientSession& session,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    EXPECT_TRUE(run_until([&] { return session.closed; }, timeout))
        << "stdout: " << session.out << "\nstderr: " << session.err;
    expect_pump_ok();  // the client's CLOSE back to the server
  }

  std::shared_ptr<ClientSession> run_command(const std::string& command) {
    auto session = open_session();
    EXPECT_TRUE(session->confirmed);
    EXPECT_TRUE(exec(*session, command));
    run_to_close(*session);
    return session;
  }

  connection::PtyRequest pty_request(std::uint32_t columns, std::uint32_t rows,
                                     std::vector<connection::TerminalMode> modes = {}) {
    return {"xterm-session-test", columns, rows, 0, 0, connection::encode_terminal_modes(modes)};
  }

  asio::io_context io_;
  QueueSink client_out_;
  QueueSink server_out_;
  ServerSessionPolicy policy_;
  std::unique_ptr<Connection> client_;
  std::unique_ptr<Connection> server_;
  std::shared_ptr<ServerConnectionContext> context_;
};

TEST_F(SessionChannelTest, ExecSendsStdoutThenExitStatusEofClose) {
  auto session = run_command("echo hello from the session");
  EXPECT_EQ(session->out, "hello from the session\n");
  EXPECT_EQ(session->err, "");
  EXPECT_EQ(session->exit_status, 0U);
  EXPECT_EQ(session->events, (std::vector<std::string>{"exit-status", "eof", "close"}));
  EXPECT_EQ(server_->channel_count(), 0U);
  EXPECT_EQ(open_session_count(*context_), 0U);
}

TEST_F(SessionChannelTest, StderrIsExtendedDataAndExitStatusIsPassedOn) {
  auto session = run_command("echo to stdout; echo to stderr >&2; exit 3");
  EXPECT_EQ(session->out, "to stdout\n");
  EXPECT_EQ(session->err, "to stderr\n");
  EXPECT_EQ(session->exit_status, 3U);
  EXPECT_FALSE(session->exit_signal);
}

TEST_F(SessionChannelTest, DeathBySignalIsExitSignal) {
  auto session = run_command("echo before; kill -TERM $$; echo after");
  EXPECT_EQ(session->out, "before\n");
  EXPECT_FALSE(session->exit_status);
  ASSERT_TRUE(session->exit_signal);
  EXPECT_EQ(session->exit_signal->signal_name, "TERM");
  EXPECT_FALSE(session->exit_signal->core_dumped);
  EXPECT_EQ(session->events, (std::vector<std::string>{"exit-signal", "eof", "close"}));
}

TEST_F(SessionChannelTest, RunsInTheHomeDirectoryWithTheLoginShell) {
  const auto account = platform::session_account();
  auto session = run_command("pwd; echo \"$SHELL\"; echo \"$USER\"");
  EXPECT_EQ(session->out, account.home + "\n" + account.shell + "\n" + account.user + "\n");
}

TEST_F(SessionChannelTest, StdinRoundTripsThroughCatWithBackpressure) {
  ConnectionConfig small;
  small.initial_window = 64 * 1024;
  small.max_packet = 16 * 1024;
  make_pair(small, small);

  std::string input(4 * 1024 * 1024, '\0');
  std::mt19937 random(42);
  for (char& byte : input) byte = static_cast<char>(random());

  auto session = open_session();
  session->hold_consumption = true;
  ASSERT_TRUE(exec(*session, "cat"));
  session->send(input, true);

  // The client reads nothing: cat blocks on its stdout, the server stops
  // writing its stdin and stops granting window, and the client's sending
  // stalls far short of the input.
  // "Stalled" = nothing more sent over two periods in a row (a loaded
  // machine may not run cat for a while, so one quiet period proves little).
  std::size_t sent_while_stalled = session->input_sent();
  int quiet_periods = 0;
  for (int i = 0; i < 60 && quiet_periods < 2; ++i) {
    run_for(std::chrono::milliseconds(300));
    const std::size_t sent = session->input_sent();
    quiet_periods = sent == sent_while_stalled ? quiet_periods + 1 : 0;
    sent_while_stalled = sent;
  }
  EXPECT_EQ(quiet_periods, 2) << "the client's sending never stalled";
  EXPECT_LE(session->out.size(), small.initial_window);
  EXPECT_LT(sent_while_stalled, std::size_t{1024 * 1024});
  // What proves backpressure is the bound, not the quiet: on a loaded
  // machine cat may wake after the quiet periods and take a little more
  // (CI saw that), but never past the pipes' and windows' capacity.
  run_for(std::chrono::seconds(1));
  EXPECT_LE(session->out.size(), small.initial_window);
  EXPECT_LT(session->input_sent(), std::size_t{1024 * 1024});

  session->hold_consumption = false;
  session->release_consumption();
  run_to_close(*session, std::chrono::seconds(60));
  EXPECT_EQ(session->input_sent(), input.size());
  EXPECT_EQ(session->out.size(), input.size());
  EXPECT_TRUE(session->out == input) << "the data came back changed";
  EXPECT_EQ(session->exit_status, 0U);
}

TEST_F(SessionChannelTest, ChildInheritsNoDescriptorButTheStandardOnes) {
  // Not close-on-exec: only the child's own clean-up keeps it out.
  const int inheritable = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(inheritable, 3);
  auto session = run_command("exec ls /proc/self/fd");
  ::close(inheritable);
  // 3 is the directory ls itself is reading.
  EXPECT_EQ(session->out, "0\n1\n2\n3\n");
}

TEST_F(SessionChannelTest, EnvIsAllowListedAndNothingElseLeaksIn) {
  policy_.accept_env = {"LANG", "LC_*", "SESSION_TEST_?"};
  ::setenv("SESSION_TEST_PARENT_ONLY", "leaked", 1);
  auto session = open_session();
  auto env = [&](const std::string& name, const std::string& value) {
    return request(*session,
                   [&](std::uint32_t id) { return client_->send_env(id, name, value, true); });
  };
  EXPECT_TRUE(env("LANG", "C.UTF-8"));
  EXPECT_TRUE(env("LC_TIME", "en_GB.UTF-8"));
  EXPECT_TRUE(env("SESSION_TEST_A", "accepted"));
  EXPECT_FALSE(env("SESSION_TEST_AB", "refused"));
  EXPECT_FALSE(env("EDITOR", "refused"));
  EXPECT_FALSE(env("HOME", "/refused"));
  ASSERT_TRUE(exec(*session, "env"));
  run_to_close(*session);
  ::unsetenv("SESSION_TEST_PARENT_ONLY");

  std::map<std::string, std::string> variables;
  std::istringstream lines(session->out);
  for (std::string line; std::getline(lines, line);) {
    const auto equals = line.find('=');
    if (equals != std::string::npos) variables[line.substr(0, equals)] = line.substr(equals + 1);
  }
  const auto account = platform::session_account();
  EXPECT_EQ(variables["LANG"], "C.UTF-8");
  EXPECT_EQ(variables["LC_TIME"], "en_GB.UTF-8");
  EXPECT_EQ(variables["SESSION_TEST_A"], "accepted");
  EXPECT_EQ(variables["HOME"], account.home);
  EXPECT_EQ(variables["USER"], account.user);
  EXPECT_EQ(variables["LOGNAME"], account.user);
  EXPECT_EQ(variables["SHELL"], account.shell);
  EXPECT_FALSE(variables["PATH"].empty());
  for (const char* absent :
       {"SESSION_TEST_AB", "EDITOR", "SESSION_TEST_PARENT_ONLY", "SSH_TTY", "TERM"}) {
    EXPECT_EQ(variables.count(absent), 0U) << absent;
  }
}

// A session takes limits::kMaxSessionEnvironment variables from the client
// before its command; one more is refused, and the child gets exactly those.
TEST_F(SessionChannelTest, DefaultEnvironmentLimitAtAndPast) {
  policy_.accept_env = {"LIMIT_TEST_*"};
  auto session = open_session();
  auto env = [&](std::size_t index) {
    return request(*session, [&](std::uint32_t id) {
      return client_->send_env(id, "LIMIT_TEST_" + std::to_string(index), "v", true);
    });
  };
  const std::size_t limit = limits::kMaxSessionEnvironment;
  for (std::size_t i = 0; i < limit; ++i) ASSERT_TRUE(env(i)) << "variable " << i + 1;
  EXPECT_FALSE(env(limit));
  ASSERT_TRUE(exec(*session, "env"));
  run_to_close(*session);
  std::size_t passed_on = 0;
  std::istringstream lines(session->out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("LIMIT_TEST_", 0) == 0) ++passed_on;
  }
  EXPECT_EQ(passed_on, limit);
  EXPECT_EQ(session->out.find("LIMIT_TEST_" + std::to_string(limit) + "="), std::string::npos);
}

TEST_F(SessionChannelTest, PtyExecHasTerminalSizeAndTerm) {
  auto session = open_session();
  ASSERT_TRUE(request(
      *session, [&](std::uint32_t id) { return client_->request_pty(id, pty_request(91, 33)); }));
  ASSERT_TRUE(exec(*session, "tty; stty size; echo \"$TERM\"; echo \"$SSH_TTY\""));
  run_to_close(*session);
  // One stream: a terminal's output, with its CR LF line ends.
  EXPECT_EQ(session->err, "");
  EXPECT_NE(session->out.find("/dev/pts/"), std::string::npos) << session->out;
  EXPECT_NE(session->out.find("33 91\r\n"), std::string::npos) << session->out;
  EXPECT_NE(session->out.find("xterm-session-test\r\n"), std::string::npos) << session->out;
  const auto tty_line = session->out.substr(0, session->out.find("\r\n"));
  EXPECT_NE(session->out.find("\r\n" + tty_line + "\r\n"), std::string::npos)
      << "SSH_TTY is not the terminal: " << session->out;
  EXPECT_EQ(session->exit_status, 0U);
}

TEST_F(SessionChannelTest, PtyModesFromTheClientAreApplied) {
  constexpr std::uint8_t kVintr = 1;
  constexpr std::uint8_t kEcho = 53;
  constexpr std::uint8_t kIcrnl = 36;
  auto session = open_session();
  ASSERT_TRUE(request(*session, [&](std::uint32_t id) {
    return client_->request_pty(id, pty_request(80, 24,
                                                {{kVintr, 7},  // ^G
                                                 {kEcho, 0},
                                                 {kIcrnl, 0},
                                                 {connection::kTtyOpIspeed, 9600},
                                                 {connection::kTtyOpOspeed, 9600}}));
  }));
  ASSERT_TRUE(exec(*session, "stty -a"));
  run_to_close(*session);
  EXPECT_NE(session->out.find("speed 9600 baud"), std::string::npos) << session->out;
  EXPECT_NE(session->out.find("intr = ^G"), std::string::npos) << session->out;
  EXPECT_NE(session->out.find("-echo "), std::string::npos) << session->out;
  EXPECT_NE(session->out.find("-icrnl"), std::string::npos) << session->out;
}

TEST_F(SessionChannelTest, WindowChangeReachesTheChild) {
  auto session = open_session();
  ASSERT_TRUE(request(
      *session, [&](std::uint32_t id) { return client_->request_pty(id, pty_request(80, 24)); }));
  ASSERT_TRUE(
      exec(*session, "trap 'stty size; exit 0' WINCH; echo ready; while :; do sleep 0.05; done"));
  ASSERT_TRUE(run_until([&] { return session->out.find("ready") != std::string::npos; }));
  ASSERT_TRUE(client_->send_window_change(session->id(), {132, 43, 0, 0}).ok());
  run_to_close(*session);
  EXPECT_NE(session->out.find("43 132"), std::string::npos) << session->out;
  EXPECT_EQ(session->exit_status, 0U);
}

TEST_F(SessionChannelTest, SignalRequestReachesTheProcessGroup) {
  auto session = open_session();
  ASSERT_TRUE(
      exec(*session, "trap 'echo got INT; exit 7' INT; echo ready; while :; do sleep 0.05; done"));
  ASSERT_TRUE(run_until([&] { return session->out == "ready\n"; }));
  ASSERT_TRUE(client_->send_signal(session->id(), "INT").ok());
  run_to_close(*session);
  EXPECT_EQ(session->out, "ready\ngot INT\n");
  EXPECT_EQ(session->exit_status, 7U);
}

TEST_F(SessionChannelTest, UnknownSignalAndSignalWithoutProcessAreRefused) {
  auto session = open_session();
  // Before any command: nothing to signal.
  EXPECT_FALSE(request(*session, [&](std::uint32_t id) {
    return client_->send_request(id, connection::SignalRequest{"INT"}, true);
  }));
  ASSERT_TRUE(exec(*session, "echo ready; exec sleep 30"));
  ASSERT_TRUE(run_until([&] { return session->out == "ready\n"; }));
  EXPECT_FALSE(request(*session, [&](std::uint32_t id) {
    return client_->send_request(id, connection::SignalRequest{"NOSUCHSIG"}, true);
  }));
  EXPECT_TRUE(request(*session, [&](std::uint32_t id) {
    return client_->send_request(id, connection::SignalRequest{"KILL"}, true);
  }));
  run_to_close(*session);
  ASSERT_TRUE(session->exit_signal);
  EXPECT_EQ(session->exit_signal->signal_name, "KILL");
}

TEST_F(SessionChannelTest, ChannelClosedEarlyHangsUpTheChildAndReapsIt) {
  // A first session brings up what stays (the reactor, the signal pipe).
  run_command("true");
  const std::size_t descriptors_before = open_descriptor_count();

  testing_support::TempDir temp("session-hup");
  const auto marker = temp.path() / "hup";
  auto session = open_session();
  // stderr goes elsewhere: bash reports the sleep that the HUP killed on
  // it, and that pipe is closed by then (SIGPIPE would end bash first).
  ASSERT_TRUE(exec(*session, "exec 2>/dev/null; trap 'echo hup > \"" + marker.string() +
                                 "\"; exit 0' HUP; echo $$; while :; do sleep 0.05; done"));
  ASSERT_TRUE(run_until([&] { return session->out.find('\n') != std::string::npos; }));
  const int pid = std::stoi(session->out);
  ASSERT_GT(pid, 1);
  EXPECT_FALSE(process_gone(pid));

  ASSERT_TRUE(client_->close(session->id()).ok());
  EXPECT_TRUE(run_until([&] { return process_gone(pid); }))
      << "pid " << pid << " still exists (running or a zombie)";
  EXPECT_TRUE(session->closed);
  EXPECT_EQ(ChildReaper::of(io_).watched(), 0U);
  std::string said;
  {
    std::ifstream hup(marker);
    std::getline(hup, said);
  }
  EXPECT_EQ(said, "hup") << "the child never got SIGHUP";
  EXPECT_EQ(open_session_count(*context_), 0U);
  // Its pipes are closed once the last asynchronous operation let go.
  EXPECT_TRUE(run_until([&] { return open_descriptor_count() == descriptors_before; },
                        std::chrono::seconds(5)))
      << open_descriptor_count() << " descriptors open, " << descriptors_before << " before";
}

TEST_F(SessionChannelTest, InProcessCommandHookServesTheCommand) {
  std::vector<std::string> asked;
  context_->in_process_command =
      [&](std::string_view command,
          const std::string& working_directory) -> std::unique_ptr<InProcessCommand> {
    asked.push_back(std::string(command) + " in " + working_directory);
    if (command == "upper-case") return std::make_unique<UpperCaseCommand>();
    return nullptr;
  };
  auto session = open_session();
  ASSERT_TRUE(exec(*session, "upper-case"));
  session->send("hello, in-process world", true);
  run_to_close(*session);
  EXPECT_EQ(session->out, "HELLO, IN-PROCESS WORLD");
  EXPECT_EQ(session->err, "upper-casing\n");
  EXPECT_EQ(session->exit_status, 5U);
  EXPECT_EQ(session->events, (std::vector<std::string>{"exit-status", "eof", "close"}));

  // Any other command still runs as a process.
  auto other = run_command("echo a process");
  EXPECT_EQ(other->out, "a process\n");
  const std::string home = platform::session_account().home;
  EXPECT_EQ(asked,
            (std::vector<std::string>{"upper-case in " + home, "echo a process in " + home}));
}

TEST_F(SessionChannelTest, SubsystemsComeFromTheContextOrFail) {
  auto session = open_session();
  EXPECT_FALSE(
      request(*session, [&](std::uint32_t id) { return client_->request_subsystem(id, "sftp"); }));
  context_->subsystem = [](std::string_view name,
                           const std::string&) -> std::unique_ptr<InProcessCommand> {
    if (name == "upper") return std::make_unique<UpperCaseCommand>();
    return nullptr;
  };
  EXPECT_FALSE(
      request(*session, [&](std::uint32_t id) { return client_->request_subsystem(id, "sftp"); }));
  ASSERT_TRUE(
      request(*session, [&](std::uint32_t id) { return client_->request_subsystem(id, "upper"); }));
  session->send("abc", true);
  run_to_close(*session);
  EXPECT_EQ(session->out, "ABC");
  EXPECT_EQ(session->exit_status, 5U);
}

TEST_F(SessionChannelTest, OnlyOneCommandPerChannel) {
  auto session = open_session();
  ASSERT_TRUE(exec(*session, "echo ready; exec sleep 30"));
  EXPECT_FALSE(exec(*session, "echo second"));
  EXPECT_FALSE(request(*session, [&](std::uint32_t id) { return client_->request_shell(id); }));
  EXPECT_FALSE(request(*session,
                       [&](std::uint32_t id) { return client_->send_env(id, "LANG", "C", true); }));
  ASSERT_TRUE(run_until([&] { return session->out == "ready\n"; }));
  ASSERT_TRUE(client_->send_signal(session->id(), "TERM").ok());
  run_to_close(*session);
  EXPECT_EQ(session->out, "ready\n");
}

TEST_F(SessionChannelTest, ShellWithoutPtyIsALoginShellReadingStdin) {
  auto session = open_session();
  ASSERT_TRUE(request(*session, [&](std::uint32_t id) { return client_->request_shell(id); }));
  session->send("echo \"zero=$0\"; exit 4\n", true);
  run_to_close(*session);
  // A login shell's argv[0] starts with '-' (its profile may print more).
  const auto account = platform::session_account();
  const std::string shell_name = account.shell.substr(account.shell.rfind('/') + 1);
  EXPECT_NE(session->out.find("zero=-" + shell_name + "\n"), std::string::npos) << session->out;
  EXPECT_EQ(session->exit_status, 4U);
}

TEST_F(SessionChannelTest, MaxSessionsPerConnection) {
  policy_.max_sessions = 2;
  auto first = open_session();
  auto second = open_session();
  auto third = open_session();
  EXPECT_TRUE(first->confirmed);
  EXPECT_TRUE(second->confirmed);
  EXPECT_FALSE(third->confirmed);
  EXPECT_EQ(third->failure, connection::OpenFailureReason::ResourceShortage);
  EXPECT_EQ(open_session_count(*context_), 2U);

  ASSERT_TRUE(client_->close(first->id()).ok());
  expect_pump_ok();
  EXPECT_TRUE(first->closed);
  EXPECT_EQ(open_session_count(*context_), 1U);
  auto fourth = open_session();
  EXPECT_TRUE(fourth->confirmed);
  EXPECT_EQ(open_session_count(*context_), 2U);
}

TEST_F(SessionChannelTest, ForcedCommandRunsWithOriginalCommandAndKeyEnvironment) {
  context_->restrictions.command = "echo \"forced: $SSH_ORIGINAL_COMMAND ($FROM_KEY)\"";
  context_->restrictions.environment = {{"FROM_KEY", "key option"}};
  auto session = run_command("rm -rf something");
  EXPECT_EQ(session->out, "forced: rm -rf something (key option)\n");
  EXPECT_EQ(session->exit_status, 0U);
}

TEST_F(SessionChannelTest, PtyAndAgentForwardingFollowTheRestrictions) {
  int agent_starts = 0;
  context_->start_agent_forwarding = [&]() -> Result<std::string> {
    ++agent_starts;
    return std::string("/tmp/agent-dir/agent.sock");
  };
  context_->restrictions.pty = false;
  context_->restrictions.agent_forwarding = false;
  auto refused = open_session();
  EXPECT_FALSE(request(
      *refused, [&](std::uint32_t id) { return client_->request_pty(id, pty_request(80, 24)); }));
  EXPECT_FALSE(
      request(*refused, [&](std::uint32_t id) { return client_->request_auth_agent(id, true); }));
  EXPECT_EQ(agent_starts, 0);

  context_->restrictions.agent_forwarding = true;
  policy_.allow_agent_forwarding = false;
  EXPECT_FALSE(
      request(*refused, [&](std::uint32_t id) { return client_->request_auth_agent(id, true); }));
  EXPECT_EQ(agent_starts, 0);

  policy_.allow_agent_forwarding = true;
  auto allowed = open_session();
  EXPECT_TRUE(
      request(*allowed, [&](std::uint32_t id) { return client_->request_auth_agent(id, true); }));
  EXPECT_EQ(agent_starts, 1);
  ASSERT_TRUE(exec(*allowed, "echo \"$SSH_AUTH_SOCK\""));
  run_to_close(*allowed);
  EXPECT_EQ(allowed->out, "/tmp/agent-dir/agent.sock\n");
}

TEST_F(SessionChannelTest, UnknownRequestsFail) {
  auto session = open_session();
  EXPECT_FALSE(request(
      *session, [&](std::uint32_t id) { return client_->send_request(id, "x11-req", true, {}); }));
  EXPECT_FALSE(request(*session, [&](std::uint32_t id) {
    return client_->send_request(id, "exec", true, {1, 2});  // malformed
  }));
}

#endif

}  // namespace
}  // namespace ssh::net
