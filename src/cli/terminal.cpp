#include "cli/terminal.hpp"

#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>

namespace cli {

bool stdin_is_terminal() { return ::isatty(STDIN_FILENO) == 1; }
bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

std::optional<TerminalSize> terminal_size() {
  winsize size{};
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
      return TerminalSize{size.ws_col, size.ws_row, size.ws_xpixel, size.ws_ypixel};
    }
  }
  return std::nullopt;
}

std::string terminal_type() {
  const char* term = std::getenv("TERM");
  return term && *term ? term : "dumb";
}

struct RawModeGuard::Saved {
  termios attributes{};
};

RawModeGuard::RawModeGuard() {
  if (!stdin_is_terminal()) return;
  saved_ = new Saved;
  if (::tcgetattr(STDIN_FILENO, &saved_->attributes) != 0) return;
  termios raw = saved_->attributes;
  ::cfmakeraw(&raw);
  // Keep output post-processing off as ssh does, so remote \r\n pass through.
  if (::tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0) active_ = true;
}

RawModeGuard::~RawModeGuard() {
  if (active_) ::tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_->attributes);
  delete saved_;
}

}  // namespace cli
