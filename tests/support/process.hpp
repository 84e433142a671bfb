// Running programs from tests: one-shot commands with captured output
// (run_process) and long-running peers such as servers (BackgroundProcess),
// plus loopback TCP port helpers.
//
// Every child gets its own process group, its stdin from a pipe, a file or
// /dev/null (never the test's own stdin), and every wait has a deadline after
// which the whole group is killed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace testing_support {

using Argv = std::vector<std::string>;
using Environment = std::vector<std::pair<std::string, std::string>>;

struct RunOptions {
  // Written to the child's stdin, which is then closed (EOF).
  std::string stdin_data;
  // When set, the child's stdin is this file instead of stdin_data.
  std::optional<std::filesystem::path> stdin_file;
  // When set, stdout is handed to this callback chunk by chunk instead of
  // being collected in ProcessResult::out (for outputs of hundreds of MiB).
  std::function<void(std::string_view)> stdout_sink;
  // The child and its process group are killed with SIGKILL after this long.
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
  // Variables added to (or replacing those in) the test's environment.
  Environment environment;
  std::optional<std::filesystem::path> working_directory;
};

struct ProcessResult {
  int exit_code = -1;      // exit status, or -1 if the child did not exit normally
  int signal = 0;          // the signal that ended the child, if any
  bool timed_out = false;  // killed because RunOptions::timeout passed
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};

  bool exited_with(int code) const { return !timed_out && signal == 0 && exit_code == code; }
  // A one-paragraph account for assertion messages: how it ended, how long it
  // took, and (abridged) stderr and stdout.
  std::string describe() const;
};

// Runs argv[0] (an absolute path, or a name looked up in PATH) with the given
// arguments and no shell. Throws std::runtime_error if the program cannot be
// started at all.
ProcessResult run_process(const Argv& argv, const RunOptions& options = {});

// Quotes argv for a POSIX shell (for messages and for tmux/script command lines).
std::string shell_quote(const Argv& argv);

struct SpawnOptions {
  // stdout and stderr are appended to this file (created if missing); empty
  // means /dev/null.
  std::filesystem::path output_file;
  Environment environment;
  // When not empty, the child runs in a private mount namespace in which each
  // (source, target) directory is bind-mounted over target. Nothing outside
  // the child sees these mounts and they vanish with its last process.
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> private_bind_mounts;
};

// A child that runs until stopped: the servers that tests talk to.
class BackgroundProcess {
 public:
  // Throws std::runtime_error with the reason if the program cannot be started
  // (not found, not executable, mount namespace refused, ...).
  BackgroundProcess(const Argv& argv, const SpawnOptions& options = {});
  ~BackgroundProcess();  // stop()
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  const Argv& argv() const { return argv_; }
  // False once the child has exited (it is reaped here).
  bool running();
  // "still running", "exited with status 1", "killed by signal 9".
  std::string status_text();
  // SIGTERM to the child's process group, then up to `grace` for it to exit,
  // then SIGKILL. Safe to call more than once.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  void reap(bool block);

  Argv argv_;
  pid_t pid_ = -1;
  std::optional<int> wait_status_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it,
// close). Another process can take it before the caller does, so callers
// retry when their server reports "Address already in use".
std::uint16_t free_loopback_port();

// True if a TCP connection to 127.0.0.1:port is accepted right now.
bool port_accepts(std::uint16_t port);

// True if process `pid` itself holds a socket listening on 127.0.0.1:port
// (from /proc/net/tcp and /proc/PID/fd; no connection is made). This tells our
// server from another one that took the port first.
bool process_listens_on(pid_t pid, std::uint16_t port);

// Polls until 127.0.0.1:port accepts a connection (true), until `alive`
// returns false (false), or until the timeout passes (false).
bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout,
                   const std::function<bool()>& alive = {});

}  // namespace testing_support
