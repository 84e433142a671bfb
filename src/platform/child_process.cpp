#include "platform/child_process.hpp"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "platform/user.hpp"

#ifndef _WIN32
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#endif

namespace platform {
namespace {

ssh::Error failure(std::string message) {
  return {ssh::DisconnectReason::ByApplication, std::move(message)};
}

// Later definitions replace earlier ones; the first position is kept.
void set_variable(EnvironmentVariables& environment, const std::string& name,
                  const std::string& value) {
  for (auto& [existing, existing_value] : environment) {
    if (existing == name) {
      existing_value = value;
      return;
    }
  }
  environment.emplace_back(name, value);
}

constexpr std::pair<const char*, int> kSignalNames[] = {
#ifndef _WIN32
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"FPE", SIGFPE},   {"HUP", SIGHUP},   {"ILL", SIGILL},
    {"INT", SIGINT},   {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},
    {"TERM", SIGTERM}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
#else
    {"", 0},
#endif
};

}  // namespace

EnvironmentVariables session_child_environment(const SessionAccount& account,
                                               const ChildProcessOptions& options,
                                               const std::string& tty_name) {
  EnvironmentVariables environment;
  for (const auto& [name, value] : options.client_environment) {
    set_variable(environment, name, value);
  }
  set_variable(environment, "USER", account.user);
  set_variable(environment, "LOGNAME", account.user);
  set_variable(environment, "HOME", account.home);
#ifndef _WIN32
  // Debian's sshd defaults (_PATH_STDPATH / SUPERUSER_PATH).
  set_variable(environment, "PATH",
               ::getuid() == 0 ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                               : "/usr/local/bin:/usr/bin:/bin:/usr/games");
#else
  set_variable(environment, "PATH", "/usr/local/bin:/usr/bin:/bin");
#endif
  set_variable(environment, "MAIL", "/var/mail/" + account.user);
  set_variable(environment, "SHELL", account.shell);
  // The one variable sshd passes on from its own environment.
  if (const char* zone = std::getenv("TZ"); zone && *zone) set_variable(environment, "TZ", zone);
  if (options.terminal && !options.terminal->term.empty()) {
    set_variable(environment, "TERM", options.terminal->term);
  }
  if (!tty_name.empty()) set_variable(environment, "SSH_TTY", tty_name);
  for (const auto& [name, value] : options.session_environment) {
    set_variable(environment, name, value);
  }
  return environment;
}

std::optional<int> signal_from_ssh_name(std::string_view name) {
  for (const auto& [ssh_name, number] : kSignalNames) {
    if (number != 0 && name == ssh_name) return number;
  }
  return std::nullopt;
}

std::string ssh_name_of_signal(int signal) {
  for (const auto& [ssh_name, number] : kSignalNames) {
    if (number != 0 && number == signal) return ssh_name;
  }
  return "SIG@openssh.com";
}

#ifdef _WIN32

namespace {
constexpr const char* kPosixOnly = "running commands in server sessions is POSIX-only for now";
}

SessionAccount session_account() {
  return {current_user_name(), home_directory(), "cmd.exe"};
}

ssh::Result<ChildProcess> start_session_child(const ChildProcessOptions&) {
  return failure(kPosixOnly);
}

ssh::Status set_terminal_size(int, const TerminalSize&) {
  return failure(kPosixOnly);
}

ssh::Status signal_process_group(int, int) {
  return failure(kPosixOnly);
}

std::optional<ChildExit> reap_if_exited(int) {
  return ChildExit{255, 0, false};
}

int child_exit_signal() {
  return 0;
}

void restart_calls_interrupted_by(int) {}

#else  // POSIX

namespace {

std::string system_error(std::string_view what, int error) {
  return std::string(what) + ": " + std::strerror(error);
}

// A descriptor closed when this goes out of scope, unless released.
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(OwnedFd&& other) noexcept : fd_(other.release()) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  ~OwnedFd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Moves a new descriptor above 0-2 (close-on-exec), so that putting the
// child's ends onto 0-2 never overwrites one still to be moved there: a
// server started with its standard descriptors closed gets pipes at 0-2.
ssh::Result<OwnedFd> above_standard_descriptors(int fd) {
  OwnedFd owned(fd);
  if (fd > 2) return owned;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return failure(system_error("fcntl(F_DUPFD_CLOEXEC)", errno));
  return OwnedFd(moved);
}

struct PipeEnds {
  OwnedFd read;
  OwnedFd write;
};

ssh::Result<PipeEnds> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return failure(system_error("pipe2", errno));
  auto read_end = above_standard_descriptors(fds[0]);
  auto write_end = above_standard_descriptors(fds[1]);
  if (!read_end) return read_end.take_error();
  if (!write_end) return write_end.take_error();
  return PipeEnds{std::move(*read_end), std::move(*write_end)};
}

// RFC 4254 section 8 opcodes with a termios equivalent here.
struct ControlCharacter {
  std::uint8_t opcode;
  int index;
};
constexpr ControlCharacter kControlCharacters[] = {
    {1, VINTR},     {2, VQUIT},    {3, VERASE},  {4, VKILL},     {5, VEOF},
    {6, VEOL},      {7, VEOL2},    {8, VSTART},  {9, VSTOP},     {10, VSUSP},
    {12, VREPRINT}, {13, VWERASE}, {14, VLNEXT}, {18, VDISCARD},
#ifdef VDSUSP
    {11, VDSUSP},
#endif
#ifdef VSWTC
    {16, VSWTC},
#endif
#ifdef VSTATUS
    {17, VSTATUS},
#endif
};

enum class FlagField { Input, Local, Output, Control };
struct FlagMode {
  std::uint8_t opcode;
  FlagField field;
  tcflag_t flag;
};
constexpr FlagMode kFlagModes[] = {
    {30, FlagField::Input, IGNPAR},   {31, FlagField::Input, PARMRK},
    {32, FlagField::Input, INPCK},    {33, FlagField::Input, ISTRIP},
    {34, FlagField::Input, INLCR},    {35, FlagField::Input, IGNCR},
    {36, FlagField::Input, ICRNL},    {38, FlagField::Input, IXON},
    {39, FlagField::Input, IXANY},    {40, FlagField::Input, IXOFF},
    {41, FlagField::Input, IMAXBEL},
#ifdef IUCLC
    {37, FlagField::Input, IUCLC},
#endif
#ifdef IUTF8
    {42, FlagField::Input, IUTF8},
#endif
    {50, FlagField::Local, ISIG},     {51, FlagField::Local, ICANON},
    {53, FlagField::Local, ECHO},     {54, FlagField::Local, ECHOE},
    {55, FlagField::Local, ECHOK},    {56, FlagField::Local, ECHONL},
    {57, FlagField::Local, NOFLSH},   {58, FlagField::Local, TOSTOP},
    {59, FlagField::Local, IEXTEN},   {60, FlagField::Local, ECHOCTL},
    {61, FlagField::Local, ECHOKE},   {62, FlagField::Local, PENDIN},
#ifdef XCASE
    {52, FlagField::Local, XCASE},
#endif
    {70, FlagField::Output, OPOST},   {72, FlagField::Output, ONLCR},
    {73, FlagField::Output, OCRNL},   {74, FlagField::Output, ONOCR},
    {75, FlagField::Output, ONLRET},
#ifdef OLCUC
    {71, FlagField::Output, OLCUC},
#endif
    {92, FlagField::Control, PARENB}, {93, FlagField::Control, PARODD},
};

constexpr std::pair<std::uint32_t, speed_t> kSpeeds[] = {
    {0, B0},           {50, B50},       {75, B75},         {110, B110},       {134, B134},
    {150, B150},       {200, B200},     {300, B300},       {600, B600},       {1200, B1200},
    {1800, B1800},     {2400, B2400},   {4800, B4800},     {9600, B9600},     {19200, B19200},
    {38400, B38400},   {57600, B57600}, {115200, B115200}, {230400, B230400},
#ifdef B460800
    {460800, B460800},
#endif
#ifdef B921600
    {921600, B921600},
#endif
};

std::optional<speed_t> speed_of(std::uint32_t baud) {
  for (const auto& [rate, speed] : kSpeeds) {
    if (rate == baud) return speed;
  }
  return std::nullopt;
}

tcflag_t& field_of(termios& modes, FlagField field) {
  switch (field) {
    case FlagField::Input:
      return modes.c_iflag;
    case FlagField::Local:
      return modes.c_lflag;
    case FlagField::Output:
      return modes.c_oflag;
    case FlagField::Control:
      break;
  }
  return modes.c_cflag;
}

// The client's modes on top of the kernel's defaults for a new terminal.
void apply_terminal_modes(termios& modes, const std::vector<TerminalModeSetting>& settings) {
  constexpr std::uint8_t kCs7 = 90;
  constexpr std::uint8_t kCs8 = 91;
  constexpr std::uint8_t kIspeed = 128;
  constexpr std::uint8_t kOspeed = 129;
  // What clients send for "this character is disabled".
  constexpr std::uint32_t kDisabledCharacter = 255;
  for (const auto& setting : settings) {
    bool known = false;
    for (const auto& control : kControlCharacters) {
      if (control.opcode != setting.opcode) continue;
      modes.c_cc[control.index] = setting.argument == kDisabledCharacter
                                      ? static_cast<cc_t>(_POSIX_VDISABLE)
                                      : static_cast<cc_t>(setting.argument);
      known = true;
    }
    for (const auto& flag : kFlagModes) {
      if (flag.opcode != setting.opcode) continue;
      tcflag_t& field = field_of(modes, flag.field);
      field = setting.argument != 0 ? (field | flag.flag) : (field & ~flag.flag);
      known = true;
    }
    if (known) continue;
    if ((setting.opcode == kCs7 || setting.opcode == kCs8) && setting.argument != 0) {
      modes.c_cflag = (modes.c_cflag & ~CSIZE) | (setting.opcode == kCs7 ? CS7 : CS8);
    } else if (setting.opcode == kIspeed || setting.opcode == kOspeed) {
      if (auto speed = speed_of(setting.argument)) {
        if (setting.opcode == kIspeed) {
          ::cfsetispeed(&modes, *speed);
        } else {
          ::cfsetospeed(&modes, *speed);
        }
      }
    }
  }
}

winsize window_size_of(const TerminalSize& size) {
  auto clamp = [](std::uint32_t value) {
    return static_cast<unsigned short>(value > 0xffff ? 0xffff : value);
  };
  winsize result{};
  result.ws_col = clamp(size.columns);
  result.ws_row = clamp(size.rows);
  result.ws_xpixel = clamp(size.width_pixels);
  result.ws_ypixel = clamp(size.height_pixels);
  return result;
}

struct Terminal {
  OwnedFd master;
  OwnedFd slave;
  // A second descriptor of the master, for reading while `master` writes.
  OwnedFd master_for_reading;
  std::string name;
};

ssh::Result<Terminal> open_terminal(const TerminalRequest& request) {
  const int master_fd = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master_fd < 0) return failure(system_error("posix_openpt", errno));
  auto master = above_standard_descriptors(master_fd);
  if (!master) return master.take_error();
  if (::grantpt(master->get()) != 0) return failure(system_error("grantpt", errno));
  if (::unlockpt(master->get()) != 0) return failure(system_error("unlockpt", errno));
  std::array<char, 128> name{};
  if (const int error = ::ptsname_r(master->get(), name.data(), name.size()); error != 0) {
    return failure(system_error("ptsname_r", error));
  }
  const int slave_fd = ::open(name.data(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave_fd < 0) return failure(system_error(std::string("open ") + name.data(), errno));
  auto slave = above_standard_descriptors(slave_fd);
  if (!slave) return slave.take_error();

  termios modes{};
  if (::tcgetattr(slave->get(), &modes) != 0) return failure(system_error("tcgetattr", errno));
  apply_terminal_modes(modes, request.modes);
  if (::tcsetattr(slave->get(), TCSANOW, &modes) != 0) {
    return failure(system_error("tcsetattr", errno));
  }
  const winsize size = window_size_of(request.size);
  if (::ioctl(slave->get(), TIOCSWINSZ, &size) != 0) {
    return failure(system_error("TIOCSWINSZ", errno));
  }
  const int second = ::fcntl(master->get(), F_DUPFD_CLOEXEC, 3);
  if (second < 0) return failure(system_error("fcntl(F_DUPFD_CLOEXEC)", errno));
  return Terminal{std::move(*master), std::move(*slave), OwnedFd(second), name.data()};
}

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Everything the child needs, prepared before fork(): between fork() and
// exec the child may only make async-signal-safe calls (no allocation).
struct ExecPlan {
  std::string shell;
  std::vector<std::string> arguments;
  std::vector<std::string> environment;
  std::string home;
  std::string chdir_failure_message;
  std::vector<char*> argv;
  std::vector<char*> envp;

  void seal() {
    for (auto& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    for (auto& variable : environment) envp.push_back(variable.data());
    envp.push_back(nullptr);
  }
};

void write_all(int fd, const void* data, std::size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t written = ::write(fd, bytes, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    bytes += written;
    size -= static_cast<std::size_t>(written);
  }
}

// Closes every descriptor from `first` up, except `kept`.
void close_descriptors_except(int first, int kept) {
#ifdef __linux__
  const bool below = kept <= first || ::close_range(static_cast<unsigned>(first),
                                                    static_cast<unsigned>(kept - 1), 0) == 0;
  if (below && ::close_range(static_cast<unsigned>(kept + 1), ~0U, 0) == 0) return;
#endif
  const long limit = ::sysconf(_SC_OPEN_MAX);
  for (int fd = first; fd < (limit > 0 ? limit : 1024); ++fd) {
    if (fd != kept) ::close(fd);
  }
}

// In the child, after fork(): async-signal-safe calls only.
[[noreturn]] void run_child(const ExecPlan& plan, int stdin_fd, int stdout_fd, int stderr_fd,
                            int controlling_terminal, int status_pipe) {
  // The server's signal handlers and ignored signals (SIGPIPE) must not
  // carry over into the user's commands.
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal != SIGKILL && signal != SIGSTOP) ::signal(signal, SIG_DFL);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  auto fail = [&](int error) {
    write_all(status_pipe, &error, sizeof error);
    ::_exit(127);
  };
  if (::setsid() < 0) fail(errno);
  if (controlling_terminal >= 0 && ::ioctl(controlling_terminal, TIOCSCTTY, 0) != 0) fail(errno);
  // Every source is above 2 (above_standard_descriptors), so no dup2 here
  // overwrites a descriptor still to be duplicated.
  if (::dup2(stdin_fd, 0) < 0 || ::dup2(stdout_fd, 1) < 0 || ::dup2(stderr_fd, 2) < 0) {
    fail(errno);
  }
  // No socket, pipe or key file of the server's leaks into the session;
  // the status pipe closes itself on exec.
  close_descriptors_except(3, status_pipe);

  if (::chdir(plan.home.c_str()) != 0) {
    write_all(2, plan.chdir_failure_message.data(), plan.chdir_failure_message.size());
    if (::chdir("/") != 0) fail(errno);
  }
  ::execve(plan.shell.c_str(), plan.argv.data(), plan.envp.data());
  fail(errno);
  ::_exit(127);  // not reached: fail() exits
}

}  // namespace

SessionAccount session_account() {
  SessionAccount account;
  std::array<char, 16384> buffer{};
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(::getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found) {
    account.user = found->pw_name;
    account.home = found->pw_dir ? found->pw_dir : "";
    account.shell = found->pw_shell ? found->pw_shell : "";
  } else {
    account.user = current_user_name();
    account.home = home_directory();
  }
  if (account.home.empty()) account.home = "/";
  if (account.shell.empty()) account.shell = "/bin/sh";
  return account;
}

ssh::Result<ChildProcess> start_session_child(const ChildProcessOptions& options) {
  // Writing to a child's stdin after it exited must be an error (EPIPE)
  // for the server, not a signal that ends it; sshd ignores SIGPIPE too.
  // Children get the default back (run_child).
  static const bool sigpipe_ignored = [] {
    ::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)sigpipe_ignored;

  const SessionAccount account = session_account();

  ChildProcess child;
  std::optional<Terminal> terminal;
  PipeEnds stdin_pipe;
  PipeEnds stdout_pipe;
  PipeEnds stderr_pipe;
  if (options.terminal) {
    auto opened = open_terminal(*options.terminal);
    if (!opened) return opened.take_error();
    terminal = std::move(*opened);
    child.tty_name = terminal->name;
  } else {
    for (PipeEnds* pipe : {&stdin_pipe, &stdout_pipe, &stderr_pipe}) {
      auto made = make_pipe();
      if (!made) return made.take_error();
      *pipe = std::move(*made);
    }
  }
  auto status_pipe = make_pipe();
  if (!status_pipe) return status_pipe.take_error();

  ExecPlan plan;
  plan.shell = account.shell;
  if (options.command) {
    plan.arguments = {base_name(account.shell), "-c", *options.command};
  } else {
    plan.arguments = {"-" + base_name(account.shell)};  // a login shell
  }
  for (const auto& [name, value] : session_child_environment(account, options, child.tty_name)) {
    plan.environment.push_back(name + "=" + value);
  }
  plan.home = account.home;
  plan.chdir_failure_message = "Could not chdir to home directory " + account.home + "\n";
  plan.seal();

  // Signals stay blocked across fork() until the child has reset their
  // handlers: the server's handlers must never run in the child.
  sigset_t all_signals;
  sigset_t previous_mask;
  ::sigfillset(&all_signals);
  ::pthread_sigmask(SIG_SETMASK, &all_signals, &previous_mask);
  const int pid = ::fork();
  const int fork_error = errno;
  if (pid != 0) ::pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
  if (pid < 0) return failure(system_error("fork", fork_error));
  if (pid == 0) {
    if (terminal) {
      const int slave = terminal->slave.get();
      run_child(plan, slave, slave, slave, slave, status_pipe->write.get());
    }
    run_child(plan, stdin_pipe.read.get(), stdout_pipe.write.get(), stderr_pipe.write.get(), -1,
              status_pipe->write.get());
  }

  // The child's ends are its own now; the status pipe reports an errno if
  // it never got to run the shell, and closes empty on exec.
  status_pipe->write.reset();
  int child_error = 0;
  ssize_t got = 0;
  do {
    got = ::read(status_pipe->read.get(), &child_error, sizeof child_error);
  } while (got < 0 && errno == EINTR);
  if (got > 0) {
    int ignored = 0;
    while (::waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
    return failure(system_error("cannot run " + account.shell, child_error));
  }

  child.pid = pid;
  if (terminal) {
    terminal->slave.reset();
    child.input = terminal->master.release();
    child.output = terminal->master_for_reading.release();
  } else {
    child.input = stdin_pipe.write.release();
    child.output = stdout_pipe.read.release();
    child.error_output = stderr_pipe.read.release();
  }
  return child;
}

ssh::Status set_terminal_size(int terminal, const TerminalSize& size) {
  const winsize window = window_size_of(size);
  if (::ioctl(terminal, TIOCSWINSZ, &window) != 0) {
    return failure(system_error("TIOCSWINSZ", errno));
  }
  return {};
}

ssh::Status signal_process_group(int pid, int signal) {
  if (pid <= 0) return failure("no process to signal");
  if (::killpg(pid, signal) != 0) return failure(system_error("killpg", errno));
  return {};
}

std::optional<ChildExit> reap_if_exited(int pid) {
  int raw = 0;
  pid_t got = 0;
  do {
    got = ::waitpid(pid, &raw, WNOHANG);
  } while (got < 0 && errno == EINTR);
  if (got == 0) return std::nullopt;
  if (got < 0) return ChildExit{255, 0, false};
  ChildExit exit;
  if (WIFEXITED(raw)) {
    exit.exit_code = static_cast<std::uint32_t>(WEXITSTATUS(raw));
  } else if (WIFSIGNALED(raw)) {
    exit.signal = WTERMSIG(raw);
    exit.core_dumped = WCOREDUMP(raw);
  } else {
    return std::nullopt;  // stopped or continued: still there
  }
  return exit;
}

int child_exit_signal() {
  return SIGCHLD;
}

void restart_calls_interrupted_by(int signal) {
  struct sigaction action {};
  if (::sigaction(signal, nullptr, &action) != 0) return;
  if (action.sa_handler == SIG_DFL || action.sa_handler == SIG_IGN) return;
  action.sa_flags |= SA_RESTART;
  if (signal == SIGCHLD) action.sa_flags |= SA_NOCLDSTOP;
  ::sigaction(signal, &action, nullptr);
}

#endif

}  // namespace platform
