#include "cli/sftp_server_command.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "cli/logging.hpp"
#include "platform/stdio.hpp"
#include "platform/user.hpp"
#include "sftp/local_file_system.hpp"
#include "sftp/server.hpp"
#include "ssh/config/client_options.hpp"
#include "ssh/log.hpp"

namespace cli {
namespace {

ssh::config::LogLevel parse_log_level(std::string name) {
  using ssh::config::LogLevel;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (name == "QUIET") return LogLevel::Quiet;
  if (name == "FATAL") return LogLevel::Fatal;
  if (name == "ERROR") return LogLevel::Error;
  if (name == "INFO") return LogLevel::Info;
  if (name == "VERBOSE") return LogLevel::Verbose;
  if (name == "DEBUG" || name == "DEBUG1") return LogLevel::Debug1;
  if (name == "DEBUG2") return LogLevel::Debug2;
  if (name == "DEBUG3") return LogLevel::Debug3;
  throw std::invalid_argument("-l: unknown log level \"" + name + "\"");
}

std::uint32_t parse_umask(const std::string& text) {
  std::size_t used = 0;
  unsigned long value = 0;
  try {
    value = std::stoul(text, &used, 8);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || value > 0777) {
    throw std::invalid_argument("-u: expected an octal umask such as 022, not \"" + text + "\"");
  }
  return static_cast<std::uint32_t>(value);
}

// sftp-server's -d tokens: %d the home directory, %u the user name.
std::string expand_tokens(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char token = text[++i];
    if (token == 'd') {
      out += platform::home_directory();
    } else if (token == 'u') {
      out += platform::current_user_name();
    } else if (token == '%') {
      out += '%';
    } else {
      throw std::invalid_argument(std::string("-d: unknown token %") + token);
    }
  }
  return out;
}

std::string served(const std::filesystem::path& native, const char* what) {
  auto path = sftp::LocalFileSystem::served_path(native);
  if (!path.ok()) {
    throw std::invalid_argument(std::string(what) + " " + native.string() + ": " +
                                path.error().message);
  }
  return *path;
}

sftp::ServerOptions server_options(const SftpServerCommandOptions& options) {
  sftp::ServerOptions server;
  server.read_only = options.read_only;
  server.user_name = platform::current_user_name();
  if (!options.umask.empty()) server.umask = parse_umask(options.umask);
  if (!options.root.empty()) {
    // The root itself is trusted: resolve its links once, so link targets
    // inside it compare equal to it.
    std::error_code ec;
    const auto root = std::filesystem::canonical(options.root, ec);
    if (ec || !std::filesystem::is_directory(root)) {
      throw std::invalid_argument("--root " + options.root + ": not a directory");
    }
    server.root = served(root, "--root");
    // Inside a root, -d names a path as the client sees it.
    server.start_directory =
        options.start_directory.empty() ? "/" : expand_tokens(options.start_directory);
  } else {
    server.root = "/";
    std::filesystem::path start =
        options.start_directory.empty()
            ? std::filesystem::current_path()
            : std::filesystem::path(expand_tokens(options.start_directory));
    server.start_directory = served(std::filesystem::absolute(start), "-d");
  }
  return server;
}

}  // namespace

void setup_sftp_server_command(CLI::App& app, SftpServerCommandOptions& options) {
  auto* command = app.add_subcommand(
      "sftp-server", "SFTP server on stdin/stdout (a drop-in for OpenSSH's sftp-server)");
  command->add_option("-d", options.start_directory,
                      "start directory (%d: home, %u: user); inside --root when given");
  command->add_flag("-R", options.read_only, "read-only: refuse every change");
  command->add_flag("-e", options.log_to_stderr, "log to stderr");
  command->add_option("-u", options.umask, "umask for created files and directories (octal)");
  command->add_option("-l", options.log_level,
                      "log level: QUIET FATAL ERROR INFO VERBOSE DEBUG DEBUG1 DEBUG2 DEBUG3");
  command->add_option("-f", options.log_facility, "syslog facility (accepted, not used)");
  command->add_option("--root", options.root,
                      "serve only this directory: every client path stays inside it");
}

int run_sftp_server_command(const SftpServerCommandOptions& options) {
  sftp::ServerOptions server_config;
  try {
    // Without -e, OpenSSH's sftp-server logs to syslog; we have none, and
    // stderr is the client's terminal, so only -e turns logging on.
    configure_logging(options.log_to_stderr
                          ? parse_log_level(options.log_level.empty() ? "ERROR" : options.log_level)
                          : ssh::config::LogLevel::Quiet);
    server_config = server_options(options);
  } catch (const std::exception& e) {
    std::cerr << "limactl sftp-server: " << e.what() << "\n";
    return 1;
  }
#ifndef _WIN32
  // The server clears the umask's bits itself; the process umask must not
  // clear more (sftp-server -u replaces it the same way).
  if (!options.umask.empty()) ::umask(static_cast<mode_t>(server_config.umask));
#endif
  ssh::log::get("sftp")->debug("sftp-server: root {}, start {}{}", server_config.root,
                               server_config.start_directory,
                               server_config.read_only ? ", read-only" : "");

  sftp::LocalFileSystem fs;
  sftp::Server server(fs, server_config);
  std::vector<std::uint8_t> buffer(256 * 1024);
  ssh::Bytes output;
  auto drain = [&] {
    while (server.has_output()) {
      output.clear();
      server.take_output(1024 * 1024, output);
      platform::write_all(platform::StdStream::Out, output);
    }
  };
  while (!server.failed()) {
    const std::ptrdiff_t count = platform::read_stdin(buffer);
    if (count <= 0) break;
    server.feed(ssh::ByteView(buffer.data(), static_cast<std::size_t>(count)));
    drain();
  }
  server.feed_eof();
  drain();
  return server.failed() ? 1 : 0;
}

}  // namespace cli
