#include "platform/detached_process.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#ifdef _WIN32
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#endif

namespace platform {
namespace {

ssh::Error failure(std::string message) {
  return {ssh::DisconnectReason::ByApplication, std::move(message)};
}

std::vector<std::string> path_directories() {
  const char* path = std::getenv("PATH");
  std::vector<std::string> directories;
  if (path == nullptr) return directories;
#ifdef _WIN32
  constexpr char kSeparator = ';';
#else
  constexpr char kSeparator = ':';
#endif
  std::string entry;
  for (const char* c = path;; ++c) {
    if (*c == kSeparator || *c == '\0') {
      directories.push_back(entry.empty() ? std::string(".") : entry);
      entry.clear();
      if (*c == '\0') break;
    } else {
      entry += *c;
    }
  }
  return directories;
}

bool is_program_file(const std::filesystem::path& file) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) return false;
#ifdef _WIN32
  return true;
#else
  return ::access(file.c_str(), X_OK) == 0;
#endif
}

}  // namespace

std::optional<std::filesystem::path> find_program(const std::string& name) {
  if (name.empty()) return std::nullopt;
  const std::filesystem::path given(name);
  if (given.has_parent_path()) {
    if (is_program_file(given)) return given;
    return std::nullopt;
  }
  for (const std::string& directory : path_directories()) {
    std::filesystem::path candidate = std::filesystem::path(directory) / name;
    if (is_program_file(candidate)) return candidate;
#ifdef _WIN32
    candidate += ".exe";
    if (is_program_file(candidate)) return candidate;
#endif
  }
  return std::nullopt;
}

std::string describe_child_exit(const ChildExit& exit) {
  if (exit.exit_code) return "exit status " + std::to_string(*exit.exit_code);
#ifdef _WIN32
  return "signal " + std::to_string(exit.signal);
#else
  const char* name = ::strsignal(exit.signal);
  return "signal " + std::to_string(exit.signal) + (name ? " (" + std::string(name) + ")" : "");
#endif
}

#ifdef _WIN32

ssh::Result<int> start_detached(const std::vector<std::string>& argv,
                                const std::filesystem::path& /*log_file*/) {
  std::string name = argv.empty() ? std::string("a program") : argv.front();
  return failure("starting " + name + " in the background is not implemented on Windows yet");
}

std::optional<ChildExit> poll_child_exit(int /*pid*/) {
  return ChildExit{std::nullopt, 0};
}

#else

ssh::Result<int> start_detached(const std::vector<std::string>& argv,
                                const std::filesystem::path& log_file) {
  if (argv.empty()) return failure("no program to start");
  std::vector<char*> child_argv;
  for (const auto& argument : argv) child_argv.push_back(const_cast<char*>(argument.c_str()));
  child_argv.push_back(nullptr);

  const int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    return failure("cannot open " + log_file.string() + ": " + std::strerror(errno));
  }
  const int null_input = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int error_pipe[2] = {-1, -1};
  if (null_input < 0 || ::pipe2(error_pipe, O_CLOEXEC) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(log);
    if (null_input >= 0) ::close(null_input);
    return failure("cannot start " + argv.front() + ": " + reason);
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    const std::string reason = std::strerror(errno);
    for (int descriptor : {log, null_input, error_pipe[0], error_pipe[1]}) ::close(descriptor);
    return failure("cannot start " + argv.front() + ": fork: " + reason);
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec; an exec failure goes to the
    // parent as errno on error_pipe (closed by a successful exec).
    ::setsid();
    ::dup2(null_input, STDIN_FILENO);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGHUP, SIG_DFL);
    ::execvp(child_argv[0], child_argv.data());
    int error = errno;
    [[maybe_unused]] auto written = ::write(error_pipe[1], &error, sizeof error);
    ::_exit(127);
  }
  ::close(log);
  ::close(null_input);
  ::close(error_pipe[1]);
  int exec_error = 0;
  ssize_t got;
  do {
    got = ::read(error_pipe[0], &exec_error, sizeof exec_error);
  } while (got < 0 && errno == EINTR);
  ::close(error_pipe[0]);
  if (got == static_cast<ssize_t>(sizeof exec_error)) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return failure("cannot run " + argv.front() + ": " + std::strerror(exec_error));
  }
  return static_cast<int>(pid);
}

std::optional<ChildExit> poll_child_exit(int pid) {
  int status = 0;
  pid_t waited;
  do {
    waited = ::waitpid(pid, &status, WNOHANG);
  } while (waited < 0 && errno == EINTR);
  if (waited == 0) return std::nullopt;
  if (waited < 0) return ChildExit{std::nullopt, 0};  // not our child (any more)
  if (WIFEXITED(status)) return ChildExit{WEXITSTATUS(status), 0};
  return ChildExit{std::nullopt, WIFSIGNALED(status) ? WTERMSIG(status) : 0};
}

#endif

}  // namespace platform
