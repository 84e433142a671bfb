#include "platform/console.hpp"

#ifdef _WIN32
#include <windows.h>
#else
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#endif

#include <chrono>
#include <cstdlib>

#ifdef _WIN32
#include "platform/text.hpp"
#endif

namespace platform {

std::string terminal_type() {
  const char* term = std::getenv("TERM");
  if (term && *term) return term;
#ifdef _WIN32
  return "xterm-256color";
#else
  return "dumb";
#endif
}

#ifdef _WIN32

namespace {

bool is_console(DWORD which) {
  DWORD mode = 0;
  return ::GetConsoleMode(::GetStdHandle(which), &mode) != 0;
}

}  // namespace

bool stdin_is_terminal() {
  return is_console(STD_INPUT_HANDLE);
}
bool stdout_is_terminal() {
  return is_console(STD_OUTPUT_HANDLE);
}
bool stderr_is_terminal() {
  return is_console(STD_ERROR_HANDLE);
}

std::optional<TerminalSize> terminal_size() {
  for (DWORD which : {STD_OUTPUT_HANDLE, STD_ERROR_HANDLE}) {
    CONSOLE_SCREEN_BUFFER_INFO info{};
    if (::GetConsoleScreenBufferInfo(::GetStdHandle(which), &info)) {
      const auto columns = info.srWindow.Right - info.srWindow.Left + 1;
      const auto rows = info.srWindow.Bottom - info.srWindow.Top + 1;
      if (columns > 0 && rows > 0) {
        return TerminalSize{static_cast<std::uint32_t>(columns), static_cast<std::uint32_t>(rows),
                            0, 0};
      }
    }
  }
  return std::nullopt;
}

struct RawModeGuard::Saved {
  DWORD input_mode = 0;
  DWORD output_mode = 0;
  bool have_output = false;
  UINT input_code_page = 0;
  UINT output_code_page = 0;
};

namespace {

void restore_console(const RawModeGuard::Saved& saved) {
  ::SetConsoleMode(::GetStdHandle(STD_INPUT_HANDLE), saved.input_mode);
  if (saved.have_output) ::SetConsoleMode(::GetStdHandle(STD_OUTPUT_HANDLE), saved.output_mode);
  if (saved.input_code_page) ::SetConsoleCP(saved.input_code_page);
  if (saved.output_code_page) ::SetConsoleOutputCP(saved.output_code_page);
}

const RawModeGuard::Saved* restore_on_exit = nullptr;

BOOL WINAPI restore_console_and_continue(DWORD) {
  if (const auto* saved = restore_on_exit) restore_console(*saved);
  return FALSE;  // the default handling (ending the process) goes on
}

}  // namespace

RawModeGuard::RawModeGuard() {
  HANDLE input = ::GetStdHandle(STD_INPUT_HANDLE);
  auto saved = std::make_unique<Saved>();
  if (!::GetConsoleMode(input, &saved->input_mode)) return;
  // Keys arrive as the VT sequences the remote pty expects; Ctrl+C is a
  // byte for the remote side, not a signal for us.
  DWORD raw_input = saved->input_mode;
  raw_input &= ~static_cast<DWORD>(ENABLE_ECHO_INPUT | ENABLE_LINE_INPUT | ENABLE_PROCESSED_INPUT |
                                   ENABLE_WINDOW_INPUT | ENABLE_MOUSE_INPUT);
  raw_input |= ENABLE_VIRTUAL_TERMINAL_INPUT;
  if (!::SetConsoleMode(input, raw_input)) return;
  // Remote output carries VT sequences and its own \r\n.
  HANDLE output = ::GetStdHandle(STD_OUTPUT_HANDLE);
  if (::GetConsoleMode(output, &saved->output_mode)) {
    saved->have_output = ::SetConsoleMode(output, saved->output_mode | ENABLE_PROCESSED_OUTPUT |
                                                      ENABLE_VIRTUAL_TERMINAL_PROCESSING |
                                                      DISABLE_NEWLINE_AUTO_RETURN) != 0;
  }
  saved->input_code_page = ::GetConsoleCP();
  saved->output_code_page = ::GetConsoleOutputCP();
  ::SetConsoleCP(CP_UTF8);
  ::SetConsoleOutputCP(CP_UTF8);
  saved_ = std::move(saved);
  active_ = true;
  // Closing the console window or Ctrl+Break ends us without running
  // destructors; the console would stay raw for the shell that remains.
  restore_on_exit = saved_.get();
  ::SetConsoleCtrlHandler(restore_console_and_continue, TRUE);
}

RawModeGuard::~RawModeGuard() {
  if (!active_) return;
  ::SetConsoleCtrlHandler(restore_console_and_continue, FALSE);
  restore_on_exit = nullptr;
  restore_console(*saved_);
}

struct WindowSizeWatcher::State {
  explicit State(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
  std::function<void()> on_change;
  std::optional<TerminalSize> last;
};

namespace {

constexpr auto kWindowPollInterval = std::chrono::milliseconds(250);

void poll_window_size(const std::shared_ptr<WindowSizeWatcher::State>& state);

}  // namespace

WindowSizeWatcher::WindowSizeWatcher(asio::io_context& io, std::function<void()> on_change)
    : state_(std::make_shared<State>(io)) {
  state_->on_change = std::move(on_change);
  state_->last = terminal_size();
  poll_window_size(state_);
}

WindowSizeWatcher::~WindowSizeWatcher() {
  state_->timer.cancel();
}

namespace {

void poll_window_size(const std::shared_ptr<WindowSizeWatcher::State>& state) {
  state->timer.expires_after(kWindowPollInterval);
  state->timer.async_wait([weak = std::weak_ptr(state)](std::error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    const auto now = terminal_size();
    if (now && now != self->last) {
      self->last = now;
      self->on_change();
    }
    poll_window_size(self);
  });
}

}  // namespace

std::optional<std::string> read_secret(const std::string& prompt) {
  HANDLE input =
      ::CreateFileW(L"CONIN$", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                    nullptr, OPEN_EXISTING, 0, nullptr);
  if (input == INVALID_HANDLE_VALUE) return std::nullopt;
  HANDLE output =
      ::CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                    nullptr, OPEN_EXISTING, 0, nullptr);
  DWORD saved_mode = 0;
  const bool have_mode = ::GetConsoleMode(input, &saved_mode) != 0;
  if (have_mode) {
    ::SetConsoleMode(input, (saved_mode | ENABLE_LINE_INPUT | ENABLE_PROCESSED_INPUT) &
                                ~static_cast<DWORD>(ENABLE_ECHO_INPUT));
  }
  const std::wstring wide_prompt = utf8_to_wide(prompt);
  DWORD count = 0;
  if (output != INVALID_HANDLE_VALUE) {
    ::WriteConsoleW(output, wide_prompt.data(), static_cast<DWORD>(wide_prompt.size()), &count,
                    nullptr);
  }
  std::wstring line;
  bool ended = false;
  for (;;) {
    wchar_t buffer[256];
    DWORD got = 0;
    if (!::ReadConsoleW(input, buffer, 256, &got, nullptr) || got == 0) break;
    for (DWORD i = 0; i < got && !ended; ++i) {
      if (buffer[i] == L'\n') {
        ended = true;
      } else if (buffer[i] != L'\r') {
        line.push_back(buffer[i]);
      }
    }
    if (ended) break;
  }
  if (have_mode) ::SetConsoleMode(input, saved_mode);
  if (output != INVALID_HANDLE_VALUE) {
    ::WriteConsoleW(output, L"\r\n", 2, &count, nullptr);
    ::CloseHandle(output);
  }
  ::CloseHandle(input);
  if (!ended && line.empty()) return std::nullopt;
  return wide_to_utf8(line);
}

#else  // POSIX

bool stdin_is_terminal() {
  return ::isatty(STDIN_FILENO) == 1;
}
bool stdout_is_terminal() {
  return ::isatty(STDOUT_FILENO) == 1;
}
bool stderr_is_terminal() {
  return ::isatty(STDERR_FILENO) == 1;
}

std::optional<TerminalSize> terminal_size() {
  winsize size{};
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
      return TerminalSize{size.ws_col, size.ws_row, size.ws_xpixel, size.ws_ypixel};
    }
  }
  return std::nullopt;
}

struct RawModeGuard::Saved {
  termios attributes{};
  struct sigaction previous_actions[4]{};
};

namespace {

// Signals that end us by default while the terminal is raw (with ISIG off
// the keyboard sends none, but kill(1) or a closing terminal can).
constexpr int kEndingSignals[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT};
// Written before the handlers are installed; read only by them.
termios attributes_to_restore{};

void restore_terminal_and_end(int signal_number) {
  ::tcsetattr(STDIN_FILENO, TCSANOW, &attributes_to_restore);  // async-signal-safe
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

}  // namespace

RawModeGuard::RawModeGuard() {
  if (!stdin_is_terminal()) return;
  saved_ = std::make_unique<Saved>();
  if (::tcgetattr(STDIN_FILENO, &saved_->attributes) != 0) return;
  termios raw = saved_->attributes;
  ::cfmakeraw(&raw);
  attributes_to_restore = saved_->attributes;
  struct sigaction action {};
  action.sa_handler = restore_terminal_and_end;
  ::sigemptyset(&action.sa_mask);
  for (std::size_t i = 0; i < std::size(kEndingSignals); ++i) {
    ::sigaction(kEndingSignals[i], &action, &saved_->previous_actions[i]);
  }
  // Keep output post-processing off as ssh does, so remote \r\n pass through.
  if (::tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0) active_ = true;
}

RawModeGuard::~RawModeGuard() {
  if (!saved_) return;
  if (active_) ::tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_->attributes);
  for (std::size_t i = 0; i < std::size(kEndingSignals); ++i) {
    ::sigaction(kEndingSignals[i], &saved_->previous_actions[i], nullptr);
  }
}

struct WindowSizeWatcher::State {
  explicit State(asio::io_context& io) : signals(io, SIGWINCH) {}
  asio::signal_set signals;
  std::function<void()> on_change;
};

namespace {

void wait_for_resize(const std::shared_ptr<WindowSizeWatcher::State>& state) {
  state->signals.async_wait([weak = std::weak_ptr(state)](std::error_code ec, int) {
    auto self = weak.lock();
    if (ec || !self) return;
    self->on_change();
    wait_for_resize(self);
  });
}

}  // namespace

WindowSizeWatcher::WindowSizeWatcher(asio::io_context& io, std::function<void()> on_change)
    : state_(std::make_shared<State>(io)) {
  state_->on_change = std::move(on_change);
  wait_for_resize(state_);
}

WindowSizeWatcher::~WindowSizeWatcher() {
  std::error_code ignored;
  state_->signals.cancel(ignored);
}

std::optional<std::string> read_secret(const std::string& prompt) {
  FILE* tty = std::fopen("/dev/tty", "r+");
  if (!tty) return std::nullopt;
  const int fd = ::fileno(tty);
  termios saved{};
  const bool have_attributes = ::tcgetattr(fd, &saved) == 0;
  if (have_attributes) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::fputs(prompt.c_str(), tty);
  std::fflush(tty);
  std::string line;
  int c;
  while ((c = std::fgetc(tty)) != EOF && c != '\n') line.push_back(static_cast<char>(c));
  if (have_attributes) ::tcsetattr(fd, TCSAFLUSH, &saved);
  std::fputs("\n", tty);
  std::fclose(tty);
  if (c == EOF && line.empty()) return std::nullopt;
  return line;
}

#endif

}  // namespace platform
