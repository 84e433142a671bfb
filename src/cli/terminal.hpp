// The local terminal: whether a stream is a terminal, its size, and raw
// mode for interactive sessions. POSIX termios here; the Windows console
// seam lands with the Windows build.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cli {

struct TerminalSize {
  std::uint32_t columns = 80;
  std::uint32_t rows = 24;
  std::uint32_t width_pixels = 0;
  std::uint32_t height_pixels = 0;
};

bool stdin_is_terminal();
bool stdout_is_terminal();
std::optional<TerminalSize> terminal_size();
std::string terminal_type();

// Puts stdin's terminal in raw mode for its lifetime and restores it after.
class RawModeGuard {
 public:
  RawModeGuard();
  ~RawModeGuard();
  RawModeGuard(const RawModeGuard&) = delete;
  RawModeGuard& operator=(const RawModeGuard&) = delete;
  bool active() const { return active_; }

 private:
  bool active_ = false;
  struct Saved;
  Saved* saved_ = nullptr;
};

}  // namespace cli
