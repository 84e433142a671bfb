#include "support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace testing_support {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kReadChunk = 64 * 1024;
// How long to keep reading a child's pipes after it exited, in case a process
// it started still holds them open.
constexpr milliseconds kDrainAfterExit{2000};
constexpr milliseconds kPollTick{10};

// Once per test process: SIGPIPE must not kill the test when a child stops
// reading its stdin, and fds 0-2 must be open so that no pipe we create lands
// on them (CI may run us with stdin closed).
void prepare_parent_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    ::signal(SIGPIPE, SIG_IGN);
    for (int fd = 0; fd <= 2; ++fd) {
      if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
        ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);  // takes the lowest free fd
      }
    }
  });
}

std::string errno_text(int error) {
  return std::strerror(error);
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read_end;
  Fd write_end;
};

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed: " + errno_text(errno));
  }
  return {Fd(fds[0]), Fd(fds[1])};
}

void set_nonblocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

std::vector<std::string> merged_environment(const Environment& overrides) {
  std::vector<std::string> result;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    std::string_view name = text.substr(0, text.find('='));
    bool replaced = std::any_of(overrides.begin(), overrides.end(),
                                [&](const auto& pair) { return pair.first == name; });
    if (!replaced) result.emplace_back(text);
  }
  for (const auto& [name, value] : overrides) result.push_back(name + "=" + value);
  return result;
}

std::vector<char*> c_pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (auto& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Everything the child needs, prepared before fork() so that the child only
// makes system calls (the test process may have other threads).
struct ChildSpec {
  std::vector<char*> argv;
  std::vector<char*> envp;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  const char* working_directory = nullptr;
  std::vector<std::pair<const char*, const char*>> bind_mounts;
};

enum class ChildStage : int { kSetup, kUnshare, kMakePrivate, kBindMount, kChdir, kExec };

struct ChildFailure {
  ChildStage stage;
  int error;
  int index;
};

[[noreturn]] void child_fail(int report_fd, ChildStage stage, int index) {
  ChildFailure failure{stage, errno, index};
  ssize_t ignored = ::write(report_fd, &failure, sizeof failure);
  (void)ignored;
  ::_exit(127);
}

std::string describe_failure(const ChildFailure& failure, const ChildSpec& spec, const Argv& argv) {
  std::string what;
  switch (failure.stage) {
    case ChildStage::kSetup:
      what = "setting up stdin/stdout/stderr";
      break;
    case ChildStage::kUnshare:
      what = "unshare(CLONE_NEWNS) for a private mount namespace (needs root with CAP_SYS_ADMIN)";
      break;
    case ChildStage::kMakePrivate:
      what = "making / a private mount in the new namespace";
      break;
    case ChildStage::kBindMount: {
      const auto& mount = spec.bind_mounts.at(static_cast<std::size_t>(failure.index));
      what = std::string("bind-mounting ") + mount.first + " over " + mount.second;
      break;
    }
    case ChildStage::kChdir:
      what = std::string("chdir to ") + spec.working_directory;
      break;
    case ChildStage::kExec:
      what = "executing it";
      break;
  }
  return "cannot start `" + shell_quote(argv) + "`: " + what +
         " failed: " + errno_text(failure.error);
}

pid_t spawn_child(const ChildSpec& spec, const Argv& argv) {
  Pipe report = make_pipe();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed: " + errno_text(errno));
  if (pid == 0) {
    int report_fd = report.write_end.get();
    ::setpgid(0, 0);
    // Ignored signals stay ignored across exec: give the child the defaults.
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t nothing;
    sigemptyset(&nothing);
    ::sigprocmask(SIG_SETMASK, &nothing, nullptr);
    if (!spec.bind_mounts.empty()) {
      if (::unshare(CLONE_NEWNS) != 0) child_fail(report_fd, ChildStage::kUnshare, 0);
      if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        child_fail(report_fd, ChildStage::kMakePrivate, 0);
      }
      for (std::size_t i = 0; i < spec.bind_mounts.size(); ++i) {
        if (::mount(spec.bind_mounts[i].first, spec.bind_mounts[i].second, nullptr, MS_BIND,
                    nullptr) != 0) {
          child_fail(report_fd, ChildStage::kBindMount, static_cast<int>(i));
        }
      }
    }
    if (::dup2(spec.stdin_fd, 0) < 0 || ::dup2(spec.stdout_fd, 1) < 0 ||
        ::dup2(spec.stderr_fd, 2) < 0) {
      child_fail(report_fd, ChildStage::kSetup, 0);
    }
    if (spec.working_directory != nullptr && ::chdir(spec.working_directory) != 0) {
      child_fail(report_fd, ChildStage::kChdir, 0);
    }
    ::execvpe(spec.argv[0], spec.argv.data(), spec.envp.data());
    child_fail(report_fd, ChildStage::kExec, 0);
  }
  ::setpgid(pid, pid);  // also here, so it holds before either side goes on
  report.write_end.reset();
  ChildFailure failure{};
  ssize_t got;
  do {
    got = ::read(report.read_end.get(), &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof failure)) {
    ::waitpid(pid, nullptr, 0);
    throw std::runtime_error(describe_failure(failure, spec, argv));
  }
  return pid;  // the report pipe closed on exec: the program runs
}

std::string abridge(const std::string& text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t half = limit / 2;
  return text.substr(0, half) + "\n[... " + std::to_string(text.size() - 2 * half) +
         " bytes left out ...]\n" + text.substr(text.size() - half);
}

std::string seconds_text(milliseconds duration) {
  std::ostringstream out;
  out.precision(2);
  out << std::fixed << static_cast<double>(duration.count()) / 1000.0 << " s";
  return out.str();
}

std::string wait_status_text(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           ::strsignal(WTERMSIG(status)) + ")";
  }
  return "ended with wait status " + std::to_string(status);
}

}  // namespace

std::string ProcessResult::describe() const {
  std::string text;
  if (timed_out) {
    text = "TIMED OUT after " + seconds_text(elapsed) + " and was killed";
  } else if (signal != 0) {
    text = "killed by signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ") after " +
           seconds_text(elapsed);
  } else {
    text = "exited with status " + std::to_string(exit_code) + " after " + seconds_text(elapsed);
  }
  text += "\n--- stderr (" + std::to_string(err.size()) + " bytes) ---\n" + abridge(err, 4000);
  text += "\n--- stdout (" + std::to_string(out.size()) + " bytes) ---\n" + abridge(out, 2000);
  return text;
}

std::string shell_quote(const Argv& argv) {
  std::string result;
  for (const auto& arg : argv) {
    if (!result.empty()) result += ' ';
    bool plain = !arg.empty() && arg.find_first_not_of(
                                     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789@%+=:,./_-") == std::string::npos;
    if (plain) {
      result += arg;
      continue;
    }
    result += '\'';
    for (char c : arg) {
      if (c == '\'') {
        result += "'\\''";
      } else {
        result += c;
      }
    }
    result += '\'';
  }
  return result;
}

ProcessResult run_process(const Argv& argv, const RunOptions& options) {
  if (argv.empty()) throw std::invalid_argument("run_process: empty argv");
  prepare_parent_once();

  std::vector<std::string> args = argv;
  std::vector<std::string> env = merged_environment(options.environment);
  std::string working_directory =
      options.working_directory ? options.working_directory->string() : std::string();

  ChildSpec spec;
  spec.argv = c_pointers(args);
  spec.envp = c_pointers(env);
  if (options.working_directory) spec.working_directory = working_directory.c_str();

  Fd stdin_file;
  Pipe stdin_pipe;
  if (options.stdin_file) {
    stdin_file = Fd(::open(options.stdin_file->c_str(), O_RDONLY | O_CLOEXEC));
    if (!stdin_file.valid()) {
      throw std::runtime_error("cannot open " + options.stdin_file->string() + ": " +
                               errno_text(errno));
    }
    spec.stdin_fd = stdin_file.get();
  } else {
    stdin_pipe = make_pipe();
    spec.stdin_fd = stdin_pipe.read_end.get();
  }
  Pipe out_pipe = make_pipe();
  Pipe err_pipe = make_pipe();
  spec.stdout_fd = out_pipe.write_end.get();
  spec.stderr_fd = err_pipe.write_end.get();

  const auto start = Clock::now();
  const auto deadline = start + options.timeout;
  pid_t pid = spawn_child(spec, argv);

  stdin_file.reset();
  stdin_pipe.read_end.reset();
  out_pipe.write_end.reset();
  err_pipe.write_end.reset();

  Fd stdin_writer = std::move(stdin_pipe.write_end);
  Fd out_reader = std::move(out_pipe.read_end);
  Fd err_reader = std::move(err_pipe.read_end);
  std::size_t stdin_offset = 0;
  if (stdin_writer.valid()) {
    if (options.stdin_data.empty()) {
      stdin_writer.reset();
    } else {
      set_nonblocking(stdin_writer.get());
    }
  }

  ProcessResult result;
  std::optional<int> status;
  std::optional<Clock::time_point> exited_at;
  std::string chunk(kReadChunk, '\0');

  auto read_from = [&](Fd& fd, bool is_stdout) {
    ssize_t got = ::read(fd.get(), chunk.data(), chunk.size());
    if (got > 0) {
      std::string_view data(chunk.data(), static_cast<std::size_t>(got));
      if (is_stdout && options.stdout_sink) {
        options.stdout_sink(data);
      } else {
        (is_stdout ? result.out : result.err).append(data);
      }
    } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
      fd.reset();
    }
  };

  while (true) {
    auto now = Clock::now();
    if (!status && now >= deadline) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);  // the group: the leader is not reaped, so the id is ours
      ::kill(pid, SIGKILL);
      int raw = 0;
      ::waitpid(pid, &raw, 0);
      status = raw;
      break;
    }
    if (status && (!out_reader.valid() && !err_reader.valid())) break;
    if (exited_at && now - *exited_at > kDrainAfterExit) break;
    if (status && stdin_writer.valid()) stdin_writer.reset();

    std::vector<pollfd> fds;
    Fd* owners[3];
    if (stdin_writer.valid()) {
      fds.push_back({stdin_writer.get(), POLLOUT, 0});
      owners[fds.size() - 1] = &stdin_writer;
    }
    if (out_reader.valid()) {
      fds.push_back({out_reader.get(), POLLIN, 0});
      owners[fds.size() - 1] = &out_reader;
    }
    if (err_reader.valid()) {
      fds.push_back({err_reader.get(), POLLIN, 0});
      owners[fds.size() - 1] = &err_reader;
    }
    int ready =
        fds.empty() ? 0 : ::poll(fds.data(), fds.size(), static_cast<int>(kPollTick.count()));
    if (fds.empty()) std::this_thread::sleep_for(kPollTick);
    if (ready > 0) {
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        Fd& owner = *owners[i];
        if (&owner == &stdin_writer) {
          if (fds[i].revents & (POLLERR | POLLHUP)) {
            stdin_writer.reset();
            continue;
          }
          std::size_t left = options.stdin_data.size() - stdin_offset;
          ssize_t wrote = ::write(stdin_writer.get(), options.stdin_data.data() + stdin_offset,
                                  std::min(left, kReadChunk));
          if (wrote > 0) {
            stdin_offset += static_cast<std::size_t>(wrote);
            if (stdin_offset == options.stdin_data.size()) stdin_writer.reset();
          } else if (wrote < 0 && errno != EAGAIN && errno != EINTR) {
            stdin_writer.reset();  // EPIPE: the child stopped reading
          }
        } else {
          read_from(owner, &owner == &out_reader);
        }
      }
    }
    if (!status) {
      int raw = 0;
      if (::waitpid(pid, &raw, WNOHANG) == pid) {
        status = raw;
        exited_at = Clock::now();
      }
    }
  }

  result.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  if (status) {
    if (WIFEXITED(*status)) result.exit_code = WEXITSTATUS(*status);
    if (WIFSIGNALED(*status)) result.signal = WTERMSIG(*status);
  }
  if (result.timed_out) {
    result.exit_code = -1;
    result.signal = 0;
  }
  return result;
}

BackgroundProcess::BackgroundProcess(const Argv& argv, const SpawnOptions& options) : argv_(argv) {
  if (argv.empty()) throw std::invalid_argument("BackgroundProcess: empty argv");
  prepare_parent_once();

  std::vector<std::string> args = argv;
  std::vector<std::string> env = merged_environment(options.environment);
  std::vector<std::string> mount_paths;
  for (const auto& [source, target] : options.private_bind_mounts) {
    mount_paths.push_back(source.string());
    mount_paths.push_back(target.string());
  }

  ChildSpec spec;
  spec.argv = c_pointers(args);
  spec.envp = c_pointers(env);
  for (std::size_t i = 0; i < mount_paths.size(); i += 2) {
    spec.bind_mounts.emplace_back(mount_paths[i].c_str(), mount_paths[i + 1].c_str());
  }

  Fd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  Fd output;
  if (options.output_file.empty()) {
    output = Fd(::dup(devnull.get()));
  } else {
    output =
        Fd(::open(options.output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!output.valid()) {
      throw std::runtime_error("cannot open " + options.output_file.string() + ": " +
                               errno_text(errno));
    }
  }
  spec.stdin_fd = devnull.get();
  spec.stdout_fd = output.get();
  spec.stderr_fd = output.get();
  pid_ = spawn_child(spec, argv);
}

BackgroundProcess::~BackgroundProcess() {
  stop();
}

void BackgroundProcess::reap(bool block) {
  if (wait_status_ || pid_ < 0) return;
  int raw = 0;
  pid_t got;
  do {
    got = ::waitpid(pid_, &raw, block ? 0 : WNOHANG);
  } while (got < 0 && errno == EINTR);
  if (got == pid_) wait_status_ = raw;
}

bool BackgroundProcess::running() {
  reap(false);
  return !wait_status_;
}

std::string BackgroundProcess::status_text() {
  reap(false);
  return wait_status_ ? wait_status_text(*wait_status_) : "still running";
}

void BackgroundProcess::stop(milliseconds grace) {
  if (pid_ < 0) return;
  reap(false);
  if (!wait_status_) {
    ::kill(-pid_, SIGTERM);
    ::kill(pid_, SIGTERM);
    auto deadline = Clock::now() + grace;
    while (Clock::now() < deadline) {
      reap(false);
      if (wait_status_) break;
      std::this_thread::sleep_for(kPollTick);
    }
    if (!wait_status_) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
      reap(true);
    }
  }
}

std::uint16_t free_loopback_port() {
  Fd socket_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket_fd.valid()) throw std::runtime_error("socket failed: " + errno_text(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error("bind to 127.0.0.1:0 failed: " + errno_text(errno));
  }
  socklen_t length = sizeof address;
  if (::getsockname(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("getsockname failed: " + errno_text(errno));
  }
  return ntohs(address.sin_port);
}

bool port_accepts(std::uint16_t port) {
  Fd socket_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket_fd.valid()) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  return ::connect(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

bool process_listens_on(pid_t pid, std::uint16_t port) {
  // /proc/net/tcp: "sl local_address rem_address st ... uid timeout inode",
  // addresses as hex "0100007F:1F90", state 0A = LISTEN.
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::vector<std::string> inodes;
  char wanted[16];
  std::snprintf(wanted, sizeof wanted, "0100007F:%04X", port);
  std::getline(table, line);  // header
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
        timeout >> inode;
    if (local == wanted && state == "0A") inodes.push_back("socket:[" + inode + "]");
  }
  if (inodes.empty()) return false;
  std::error_code error;
  auto fd_dir = std::filesystem::path("/proc") / std::to_string(pid) / "fd";
  for (const auto& entry : std::filesystem::directory_iterator(fd_dir, error)) {
    std::error_code link_error;
    auto target = std::filesystem::read_symlink(entry.path(), link_error).string();
    if (!link_error && std::find(inodes.begin(), inodes.end(), target) != inodes.end()) {
      return true;
    }
  }
  return false;
}

bool wait_for_port(std::uint16_t port, milliseconds timeout, const std::function<bool()>& alive) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (port_accepts(port)) return true;
    if (alive && !alive()) return false;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

}  // namespace testing_support
