// A stand-in for "ssh" that OpenSSH's scp can run with -S: it serves the
// remote command (scp -t / scp -f) in-process through make_scp_command on
// its own stdin/stdout, so the protocol meets the real scp binary without a
// server in between. Arguments as scp passes them to ssh:
//   [options...] -- HOST COMMAND
// The "remote" working directory is $SCP_PEER_WORKING_DIRECTORY, else the
// current one. Exits with the command's exit status; 127 if the command is
// not one make_scp_command serves.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "ssh/asio/scp_command.hpp"

namespace {

bool write_all(int fd, const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return true;
}

std::string remote_command(int argc, char** argv) {
  int first = argc - 1;  // without "--", the last argument is the command
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      first = i + 2;  // past the host
      break;
    }
  }
  std::string command;
  for (int i = first; i < argc; ++i) {
    if (!command.empty()) command += ' ';
    command += argv[i];
  }
  return command;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const std::string command_line = remote_command(argc, argv);
  const char* directory = std::getenv("SCP_PEER_WORKING_DIRECTORY");
  const std::string working_directory =
      directory != nullptr ? directory : std::filesystem::current_path().string();
  std::unique_ptr<ssh::net::InProcessCommand> command =
      ssh::net::make_scp_command(command_line, working_directory);
  if (!command) {
    std::fprintf(stderr, "scp_stdio_peer: not a scp command: %s\n", command_line.c_str());
    return 127;
  }
  bool input_open = true;
  std::vector<std::uint8_t> input(64 * 1024);
  for (;;) {
    while (command->has_output()) {
      ssh::Bytes out;
      ssh::Bytes err;
      command->produce(64 * 1024, out, err);
      if (!write_all(STDERR_FILENO, err.data(), err.size())) return 255;
      if (!write_all(STDOUT_FILENO, out.data(), out.size())) return 255;
    }
    if (const auto status = command->exit_status()) return static_cast<int>(*status);
    if (!input_open) {
      std::fprintf(stderr, "scp_stdio_peer: the command neither finished nor has output\n");
      return 255;
    }
    const ssize_t count = ::read(STDIN_FILENO, input.data(), input.size());
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) {
      input_open = false;
      command->on_input_eof();
    } else {
      command->on_input(ssh::ByteView(input.data(), static_cast<std::size_t>(count)));
    }
  }
}
