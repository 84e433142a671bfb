// The local terminal: whether a standard stream is a terminal, its size,
// raw mode for interactive sessions, window size changes and password
// prompts. POSIX termios, or the Windows Console API (virtual terminal
// sequences in both directions, as Windows OpenSSH does).
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace platform {

struct TerminalSize {
  std::uint32_t columns = 80;
  std::uint32_t rows = 24;
  std::uint32_t width_pixels = 0;
  std::uint32_t height_pixels = 0;
  bool operator==(const TerminalSize&) const = default;
};

bool stdin_is_terminal();
bool stdout_is_terminal();
// Where progress meters go (scp draws one only on a terminal).
bool stderr_is_terminal();
std::optional<TerminalSize> terminal_size();
// $TERM, else "dumb" on POSIX and "xterm-256color" on Windows (a console
// in virtual terminal mode speaks xterm's sequences).
std::string terminal_type();

// Puts stdin's terminal in raw mode for its lifetime and restores it after,
// also when a signal (POSIX: TERM, HUP, INT, QUIT) or a console event
// (Windows: close, Ctrl+Break) ends the process meanwhile. On Windows also
// turns on VT processing of output and UTF-8 code pages.
class RawModeGuard {
 public:
  RawModeGuard();
  ~RawModeGuard();
  RawModeGuard(const RawModeGuard&) = delete;
  RawModeGuard& operator=(const RawModeGuard&) = delete;
  bool active() const { return active_; }

  struct Saved;

 private:
  bool active_ = false;
  std::unique_ptr<Saved> saved_;
};

// Calls on_change on the io_context after the terminal's size changed:
// SIGWINCH on POSIX; Windows has no such signal for a console, so there the
// size is polled a few times a second.
class WindowSizeWatcher {
 public:
  WindowSizeWatcher(asio::io_context& io, std::function<void()> on_change);
  ~WindowSizeWatcher();
  WindowSizeWatcher(const WindowSizeWatcher&) = delete;
  WindowSizeWatcher& operator=(const WindowSizeWatcher&) = delete;

  struct State;  // the platform's; opaque here

 private:
  std::shared_ptr<State> state_;
};

// Prompts on the controlling terminal (/dev/tty; CONIN$/CONOUT$ on Windows)
// and reads a line with echo off. nullopt without a terminal or on EOF.
std::optional<std::string> read_secret(const std::string& prompt);

}  // namespace platform
