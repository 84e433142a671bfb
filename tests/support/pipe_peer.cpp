#include "support/pipe_peer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace testing_support {
namespace {

void set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

PipePeer::PipePeer(const Argv& argv) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  // Checked here: after fork the child can only say so by its exit status.
  if (access(argv.at(0).c_str(), X_OK) != 0) {
    throw std::runtime_error(argv[0] + " cannot be run: " + std::strerror(errno));
  }
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    setpgid(0, 0);
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execv(args[0], args.data());
    _exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  stdin_fd_ = in_pipe[1];
  stdout_fd_ = out_pipe[0];
  stderr_fd_ = err_pipe[0];
  set_nonblocking(stdin_fd_);
  set_nonblocking(stdout_fd_);
  set_nonblocking(stderr_fd_);
  // A child that exits early must not kill the test with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
}

PipePeer::~PipePeer() {
  close_stdin();
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
  if (pid_ > 0) {
    int status = 0;
    // Give it a moment to leave on EOF, then make sure.
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) return;
      usleep(10000);
    }
    kill(-pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
}

void PipePeer::close_stdin() {
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
    stdin_fd_ = -1;
  }
}

bool PipePeer::run(ssh::ChannelProtocol& protocol, const std::function<bool()>& done,
                   std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::uint8_t> buffer(256 * 1024);
  for (;;) {
    if (done && done()) return true;
    if (protocol.outcome()) return true;
    if (pending_write_.empty() && protocol.has_output()) {
      ssh::Bytes out;
      protocol.produce(256 * 1024, out);
      pending_write_.assign(out.begin(), out.end());
    }
    if (pending_write_.empty() && protocol.output_finished()) close_stdin();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      last_error_ = "timed out";
      return false;
    }
    std::vector<pollfd> fds;
    if (stdout_fd_ >= 0) fds.push_back({stdout_fd_, POLLIN, 0});
    if (stderr_fd_ >= 0) fds.push_back({stderr_fd_, POLLIN, 0});
    if (stdin_fd_ >= 0 && !pending_write_.empty()) fds.push_back({stdin_fd_, POLLOUT, 0});
    if (fds.empty()) {
      last_error_ = "the child closed every pipe";
      return false;
    }
    const int ready = poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      last_error_ = std::string("poll: ") + std::strerror(errno);
      return false;
    }
    for (const auto& entry : fds) {
      if (entry.revents == 0) continue;
      if (entry.fd == stdin_fd_) {
        const ssize_t n = ::write(stdin_fd_, pending_write_.data(), pending_write_.size());
        if (n > 0) {
          pending_write_.erase(0, static_cast<std::size_t>(n));
          bytes_sent_ += static_cast<std::uint64_t>(n);
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          close_stdin();
          pending_write_.clear();
        }
        continue;
      }
      const ssize_t n = ::read(entry.fd, buffer.data(), buffer.size());
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      const bool is_stdout = entry.fd == stdout_fd_;
      if (n <= 0) {
        ::close(entry.fd);
        if (is_stdout) {
          stdout_fd_ = -1;
          protocol.on_input_eof();
          return true;
        }
        stderr_fd_ = -1;
        continue;
      }
      const ssh::ByteView data(buffer.data(), static_cast<std::size_t>(n));
      if (is_stdout) {
        protocol.on_input(data);
      } else {
        error_output_.append(ssh::as_text(data));
        protocol.on_error_output(data);
      }
    }
  }
}

}  // namespace testing_support
