#include "cli/ssh_control.hpp"

#include <csignal>
#include <deque>
#include <iostream>

#include "cli/stdin_reader.hpp"
#include "platform/console.hpp"
#include "platform/stdio.hpp"
#include "ssh/asio/control_client.hpp"
#include "ssh/connection/messages.hpp"
#include "ssh/log.hpp"

namespace cli {
namespace {

constexpr int kExitFailure = 255;

// The spec as the command line wrote it, without the flag: "-L 8080:x:80"
// is sent as "8080:x:80".
std::string spec_text(const ssh::config::ForwardSpec& spec) {
  const std::string text = spec.to_string();
  const auto space = text.find(' ');
  return space == std::string::npos ? text : text.substr(space + 1);
}

int forward_or_cancel(const std::string& path, const ssh::config::ClientOptions& options,
                      bool cancel) {
  if (options.forwards.empty()) {
    std::cerr << "No forward specified for \"-O " << (cancel ? "cancel" : "forward") << "\"\n";
    return kExitFailure;
  }
  for (const auto& spec : options.forwards) {
    if (cancel) {
      auto done = ssh::net::control_cancel(path, {spec.kind, spec_text(spec)});
      if (!done) {
        std::cerr << "mux_client_forward: cancel request failed: " << done.error().message << "\n";
        return kExitFailure;
      }
      continue;
    }
    auto done = ssh::net::control_forward(path, {spec.kind, spec_text(spec)});
    if (!done) {
      std::cerr << "mux_client_forward: forwarding request failed: " << done.error().message
                << "\n";
      return kExitFailure;
    }
    // As ssh: a remote port the server picked is printed for the caller.
    if (spec.kind == ssh::config::ForwardKind::Remote && !spec.listen.is_socket() &&
        spec.listen.port == 0) {
      std::cout << "Allocated port " << *done << " for remote forward to "
                << spec.connect.to_string() << "\n";
    }
  }
  return 0;
}

}  // namespace

int run_control_command(const std::string& control_command,
                        const ssh::config::ClientOptions& options) {
  const std::string& path = options.control_path;
  if (path.empty()) {
    std::cerr << "No ControlPath specified for \"-O\" command\n";
    return kExitFailure;
  }
  if (control_command == "check") {
    auto pid = ssh::net::control_check(path);
    if (!pid) {
      std::cerr << pid.error().message << "\n";
      return kExitFailure;
    }
    std::cerr << "Master running (pid=" << *pid << ")\r\n";
    return 0;
  }
  if (control_command == "exit") {
    auto done = ssh::net::control_exit(path);
    if (!done) {
      std::cerr << done.error().message << "\n";
      return kExitFailure;
    }
    std::cerr << "Exit request sent.\r\n";
    return 0;
  }
  if (control_command == "forward" || control_command == "cancel") {
    return forward_or_cancel(path, options, control_command == "cancel");
  }
  std::cerr << "Invalid multiplex command.\n";
  return kExitFailure;
}

std::optional<int> run_shared_session(const ssh::config::ClientOptions& options,
                                      const std::string& command, bool want_tty,
                                      std::string& not_answering) {
  asio::io_context io;
  int exit_code = kExitFailure;
  bool opened = false;
  std::optional<std::string> failure;
  std::unique_ptr<StdinReader> stdin_reader;
  std::unique_ptr<platform::RawModeGuard> raw_mode;
  std::unique_ptr<platform::WindowSizeWatcher> window_size;
  std::shared_ptr<ssh::net::ControlSession> session;

  ssh::net::ControlSession::Handlers handlers;
  handlers.on_opened = [&] {
    opened = true;
    stdin_reader = std::make_unique<StdinReader>(io, [&](ssh::Bytes& chunk) {
      if (chunk.empty()) {
        session->send_eof();
        return;
      }
      // The reader's buffer goes back once the master has it: that bounds
      // what waits here.
      auto* reader = stdin_reader.get();
      auto buffer = std::make_shared<ssh::Bytes>(std::move(chunk));
      session->send_stdin(*buffer, [reader, buffer] { reader->release(std::move(*buffer)); });
    });
    stdin_reader->start();
  };
  handlers.on_stdout = [](ssh::ByteView data) {
    platform::write_all(platform::StdStream::Out, data);
  };
  handlers.on_stderr = [](ssh::ByteView data) {
    platform::write_all(platform::StdStream::Err, data);
  };
  handlers.on_exit_status = [&](std::uint32_t status) {
    exit_code = static_cast<int>(status & 0xff);
  };
  handlers.on_exit_signal = [&](const ssh::control::ExitSignal& signal) {
    ssh::log::get("session")->debug("remote command killed by signal {}{}", signal.name,
                                    signal.core_dumped ? " (core dumped)" : "");
    exit_code = kExitFailure;
  };
  handlers.on_closed = [&](const std::optional<std::string>& why) {
    failure = why;
    io.stop();
  };

  auto connected = ssh::net::ControlSession::connect(io, options.control_path, handlers);
  if (!connected) {
    not_answering = connected.error().message;
    return std::nullopt;
  }
  session = *connected;
  ssh::log::get("session")->debug("using the master at {}", options.control_path);

  ssh::control::OpenSession request;
  request.command = command;
  if (want_tty) {
    const auto size = platform::terminal_size().value_or(platform::TerminalSize{});
    request.want_pty = true;
    request.term = platform::terminal_type();
    request.columns = size.columns;
    request.rows = size.rows;
    request.width_pixels = size.width_pixels;
    request.height_pixels = size.height_pixels;
    request.terminal_modes = ssh::connection::encode_terminal_modes({});
    if (platform::stdin_is_terminal()) raw_mode = std::make_unique<platform::RawModeGuard>();
    window_size = std::make_unique<platform::WindowSizeWatcher>(io, [&] {
      if (auto now = platform::terminal_size()) {
        session->send_window_change(
            {now->columns, now->rows, now->width_pixels, now->height_pixels});
      }
    });
  }
  session->open(request);

  asio::signal_set signals(io, SIGINT, SIGTERM);
#ifdef SIGHUP
  signals.add(SIGHUP);
#endif
  bool killed = false;
  signals.async_wait([&](std::error_code error, int) {
    if (error) return;
    killed = true;
    io.stop();
  });
  io.run();
  raw_mode.reset();
  window_size.reset();
  if (killed) return kExitFailure;
  if (failure) {
    std::cerr << (opened ? "Shared connection to " + options.host + " closed: " : "") << *failure
              << "\n";
    return kExitFailure;
  }
  return exit_code;
}

}  // namespace cli
