// Processes for server sessions: a command or a login shell run as the user
// the server runs as, with an environment built from scratch (as sshd's),
// either on three pipes or on a new pseudo-terminal, in a session of its
// own so that signals reach its whole process group.
//
// POSIX only for now: on Windows every function that would start or touch
// a process returns an error saying so.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssh/common.hpp"

namespace platform {

using EnvironmentVariables = std::vector<std::pair<std::string, std::string>>;

// The account sessions run as: the user the server runs as, from the
// password database (its login shell; /bin/sh when it names none).
struct SessionAccount {
  std::string user;
  std::string home;
  std::string shell;
};
SessionAccount session_account();

struct TerminalSize {
  std::uint32_t columns = 0;
  std::uint32_t rows = 0;
  std::uint32_t width_pixels = 0;
  std::uint32_t height_pixels = 0;
};

// One encoded terminal mode of a pty-req (RFC 4254 section 8): opcode and
// argument. Opcodes this system has no equivalent for are ignored.
struct TerminalModeSetting {
  std::uint8_t opcode = 0;
  std::uint32_t argument = 0;
};

struct TerminalRequest {
  std::string term;  // TERM for the session; not exported when empty
  TerminalSize size;
  std::vector<TerminalModeSetting> modes;
};

struct ChildProcessOptions {
  // Run with `shell -c command`; nullopt runs the shell as a login shell.
  std::optional<std::string> command;
  // The client's accepted "env" variables: set first, so the account's own
  // variables (USER, HOME, PATH, ...) win over them, as in sshd.
  EnvironmentVariables client_environment;
  // Set last (SSH_CLIENT, SSH_CONNECTION, SSH_AUTH_SOCK, authorized_keys
  // environment=, SSH_ORIGINAL_COMMAND): they replace earlier ones.
  EnvironmentVariables session_environment;
  // A pseudo-terminal instead of pipes.
  std::optional<TerminalRequest> terminal;
};

// A started child. The caller owns the descriptors (all close-on-exec and
// above the standard ones) and must reap the child (reap_if_exited).
struct ChildProcess {
  int pid = -1;
  // Writing end of the child's stdin; with a terminal the pty master.
  int input = -1;
  // Reading end of its stdout; with a terminal another descriptor of the
  // master, which carries stdout and stderr both.
  int output = -1;
  // Reading end of its stderr; -1 with a terminal.
  int error_output = -1;
  // The terminal's device (/dev/pts/N), empty without one.
  std::string tty_name;
};

// Starts the child in its own session, working directory the account's
// home, every descriptor but 0-2 closed. Errors: the pipes, the pty or the
// fork could not be made, or the shell could not be executed.
ssh::Result<ChildProcess> start_session_child(const ChildProcessOptions& options);

// The variables a child of these options starts with, in the order they are
// set (later names replace earlier ones); `tty_name` is its terminal, if any.
EnvironmentVariables session_child_environment(const SessionAccount& account,
                                               const ChildProcessOptions& options,
                                               const std::string& tty_name);

// window-change: the terminal's new size (the child's foreground process
// group gets SIGWINCH). `terminal` is the master descriptor.
ssh::Status set_terminal_size(int terminal, const TerminalSize& size);

// Signals by their SSH names (RFC 4254 section 6.10: "INT", "TERM", ...,
// without "SIG"). nullopt for names this system does not know.
std::optional<int> signal_from_ssh_name(std::string_view name);
// The SSH name of a signal, or "SIG@openssh.com" for one SSH has no name
// for (what OpenSSH sends then).
std::string ssh_name_of_signal(int signal);

// Sends `signal` to the process group led by `pid` (a session child is the
// leader of its own group).
ssh::Status signal_process_group(int pid, int signal);

// How a child ended.
struct ChildExit {
  std::optional<std::uint32_t> exit_code;  // exited normally with this code
  int signal = 0;                          // killed by this signal
  bool core_dumped = false;
};

// Reaps `pid` if it has ended (never blocks); nullopt while it runs. A pid
// that is not (or no longer) our child counts as ended with code 255, so a
// caller waiting on it is not stuck.
std::optional<ChildExit> reap_if_exited(int pid);

// The signal that says a child ended (SIGCHLD), or 0 where there is none.
int child_exit_signal();
// Makes the installed handler of `signal` restart interrupted system calls
// (SA_RESTART) and, for SIGCHLD, ignore children that merely stopped.
void restart_calls_interrupted_by(int signal);

}  // namespace platform
