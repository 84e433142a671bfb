#include "platform/program_run.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#ifndef _WIN32
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#endif

namespace platform {
namespace {

ssh::Error failure(std::string message) {
  return {ssh::DisconnectReason::ByApplication, std::move(message)};
}

}  // namespace

#ifdef _WIN32

ssh::Result<ProgramRun> run_program(const std::vector<std::string>& argv,
                                    std::chrono::milliseconds /*timeout*/,
                                    std::size_t /*output_limit*/) {
  std::string name = argv.empty() ? std::string("a program") : argv.front();
  return failure("running " + name + " is not implemented on Windows yet");
}

#else

namespace {

void close_if_open(int& descriptor) {
  if (descriptor >= 0) {
    ::close(descriptor);
    descriptor = -1;
  }
}

// In the child: only async-signal-safe calls until exec. An exec failure is
// reported to the parent as its errno on `error_pipe` (closed by a successful
// exec, so the parent reads EOF then).
[[noreturn]] void exec_child(char* const* child_argv, int output_write, int error_pipe) {
  ::setpgid(0, 0);
  int null_input = ::open("/dev/null", O_RDONLY);
  if (null_input >= 0) {
    ::dup2(null_input, STDIN_FILENO);
  }
  ::dup2(output_write, STDOUT_FILENO);
  ::dup2(output_write, STDERR_FILENO);
  ::execvp(child_argv[0], child_argv);
  int error = errno;
  [[maybe_unused]] auto written = ::write(error_pipe, &error, sizeof error);
  ::_exit(127);
}

}  // namespace

ssh::Result<ProgramRun> run_program(const std::vector<std::string>& argv,
                                    std::chrono::milliseconds timeout, std::size_t output_limit) {
  if (argv.empty()) {
    return failure("no program to run");
  }
  std::vector<char*> child_argv;
  for (const auto& argument : argv) {
    child_argv.push_back(const_cast<char*>(argument.c_str()));
  }
  child_argv.push_back(nullptr);

  int output_pipe[2] = {-1, -1};
  int error_pipe[2] = {-1, -1};
  if (::pipe2(output_pipe, O_CLOEXEC) != 0 || ::pipe2(error_pipe, O_CLOEXEC) != 0) {
    std::string reason = std::strerror(errno);
    for (int* descriptor : {&output_pipe[0], &output_pipe[1], &error_pipe[0], &error_pipe[1]}) {
      close_if_open(*descriptor);
    }
    return failure("cannot make a pipe for " + argv.front() + ": " + reason);
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    std::string reason = std::strerror(errno);
    for (int* descriptor : {&output_pipe[0], &output_pipe[1], &error_pipe[0], &error_pipe[1]}) {
      close_if_open(*descriptor);
    }
    return failure("cannot start " + argv.front() + ": " + reason);
  }
  if (pid == 0) {
    exec_child(child_argv.data(), output_pipe[1], error_pipe[1]);
  }
  // Also set here, so a kill at the deadline cannot miss a child that has
  // not yet run its own setpgid.
  ::setpgid(pid, pid);
  close_if_open(output_pipe[1]);
  close_if_open(error_pipe[1]);

  int exec_error = 0;
  ssize_t got;
  do {
    got = ::read(error_pipe[0], &exec_error, sizeof exec_error);
  } while (got < 0 && errno == EINTR);
  close_if_open(error_pipe[0]);
  if (got == static_cast<ssize_t>(sizeof exec_error)) {
    close_if_open(output_pipe[0]);
    ::waitpid(pid, nullptr, 0);
    return failure("cannot run " + argv.front() + ": " + std::strerror(exec_error));
  }

  ProgramRun run;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  while (output_pipe[0] >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      run.timed_out = true;
      ::kill(-pid, SIGKILL);
      break;
    }
    pollfd readable{output_pipe[0], POLLIN, 0};
    int ready = ::poll(&readable, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      continue;  // the deadline check above ends the wait
    }
    ssize_t count = ::read(output_pipe[0], buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) {
      continue;
    }
    if (count <= 0) {
      close_if_open(output_pipe[0]);  // EOF: every writer (the program and its children) is gone
      break;
    }
    std::size_t room = output_limit - std::min(output_limit, run.output.size());
    run.output.append(buffer, std::min(room, static_cast<std::size_t>(count)));
  }
  close_if_open(output_pipe[0]);

  // The output can end before the program does (it closed it): wait for
  // the exit up to the same deadline.
  int status = 0;
  bool killed = run.timed_out;
  for (;;) {
    pid_t reaped = ::waitpid(pid, &status, killed ? 0 : WNOHANG);
    if (reaped == pid) {
      break;
    }
    if (reaped < 0 && errno != EINTR) {
      return failure("cannot wait for " + argv.front() + ": " + std::strerror(errno));
    }
    if (reaped == 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        run.timed_out = true;
        ::kill(-pid, SIGKILL);
        killed = true;
      } else {
        ::usleep(10'000);
      }
    }
  }
  if (WIFEXITED(status)) {
    run.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    run.signal = WTERMSIG(status);
  }
  return run;
}

#endif

}  // namespace platform
