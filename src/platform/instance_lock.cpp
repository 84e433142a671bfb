#include "platform/instance_lock.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#ifdef _WIN32
#include <windows.h>
#else
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>
#endif

namespace platform {

#ifdef _WIN32

namespace {

// The lock covers one byte far past the pid text, so other handles can
// still read the holder's pid (a locked range refuses reads on Windows).
OVERLAPPED lock_range() {
  OVERLAPPED range{};
  range.Offset = 0;
  range.OffsetHigh = 0x7fffffff;
  return range;
}

}  // namespace

struct FileLock::Handle {
  HANDLE file = INVALID_HANDLE_VALUE;
  ~Handle() {
    if (file == INVALID_HANDLE_VALUE) return;
    OVERLAPPED range = lock_range();
    UnlockFileEx(file, 0, 1, 0, &range);
    CloseHandle(file);
  }
};

namespace {

std::string last_error_text(DWORD error) {
  char* text = nullptr;
  FormatMessageA(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, error, 0, reinterpret_cast<char*>(&text), 0, nullptr);
  std::string message = text != nullptr ? text : "error " + std::to_string(error);
  if (text != nullptr) LocalFree(text);
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
  return message;
}

int read_pid(HANDLE file) {
  char buffer[32] = {};
  DWORD count = 0;
  OVERLAPPED at_start{};
  if (!ReadFile(file, buffer, sizeof buffer - 1, &count, &at_start)) return 0;
  return std::atoi(buffer);
}

}  // namespace

FileLock::Attempt FileLock::try_lock(const std::filesystem::path& path) {
  auto handle = std::make_unique<Handle>();
  handle->file = CreateFileW(path.c_str(), GENERIC_READ | GENERIC_WRITE,
                             FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                             OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (handle->file == INVALID_HANDLE_VALUE) {
    return Failed{"cannot open " + path.string() + ": " + last_error_text(GetLastError())};
  }
  OVERLAPPED range = lock_range();
  if (!LockFileEx(handle->file, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0,
                  &range)) {
    const DWORD error = GetLastError();
    if (error == ERROR_LOCK_VIOLATION || error == ERROR_IO_PENDING) {
      return Busy{read_pid(handle->file)};
    }
    return Failed{"cannot lock " + path.string() + ": " + last_error_text(error)};
  }
  const std::string pid = std::to_string(GetCurrentProcessId()) + "\n";
  DWORD written = 0;
  OVERLAPPED at_start{};
  if (!WriteFile(handle->file, pid.data(), static_cast<DWORD>(pid.size()), &written, &at_start) ||
      !SetEndOfFile(handle->file)) {
    return Failed{"cannot write " + path.string() + ": " + last_error_text(GetLastError())};
  }
  return FileLock(std::move(handle));
}

bool process_is_running(int pid) {
  if (pid <= 0) return false;
  HANDLE process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  if (process == nullptr) return GetLastError() == ERROR_ACCESS_DENIED;
  DWORD code = 0;
  const bool running = GetExitCodeProcess(process, &code) && code == STILL_ACTIVE;
  CloseHandle(process);
  return running;
}

int current_pid() {
  return static_cast<int>(GetCurrentProcessId());
}

bool kill_process(int pid, std::string& error) {
  HANDLE process = OpenProcess(PROCESS_TERMINATE, FALSE, static_cast<DWORD>(pid));
  if (process == nullptr || !TerminateProcess(process, 1)) {
    error = last_error_text(GetLastError());
    if (process != nullptr) CloseHandle(process);
    return false;
  }
  CloseHandle(process);
  return true;
}

#else

struct FileLock::Handle {
  int fd = -1;
  ~Handle() {
    if (fd >= 0) ::close(fd);  // closing releases the flock
  }
};

namespace {

int read_pid(int fd) {
  char buffer[32] = {};
  const ssize_t count = ::pread(fd, buffer, sizeof buffer - 1, 0);
  if (count <= 0) return 0;
  return std::atoi(buffer);
}

}  // namespace

FileLock::Attempt FileLock::try_lock(const std::filesystem::path& path) {
  auto handle = std::make_unique<Handle>();
  handle->fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (handle->fd < 0) {
    return Failed{"cannot open " + path.string() + ": " + std::strerror(errno)};
  }
  if (::flock(handle->fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Busy{read_pid(handle->fd)};
    return Failed{"cannot lock " + path.string() + ": " + std::strerror(errno)};
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(handle->fd, 0) != 0 ||
      ::pwrite(handle->fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return Failed{"cannot write " + path.string() + ": " + std::strerror(errno)};
  }
  return FileLock(std::move(handle));
}

bool process_is_running(int pid) {
  if (pid <= 0) return false;
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

int current_pid() {
  return static_cast<int>(::getpid());
}

bool kill_process(int pid, std::string& error) {
  if (pid <= 0 || ::kill(pid, SIGKILL) != 0) {
    error = pid <= 0 ? "not a process id" : std::strerror(errno);
    return false;
  }
  return true;
}

#endif

FileLock::FileLock(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
FileLock::FileLock(FileLock&&) noexcept = default;
FileLock& FileLock::operator=(FileLock&&) noexcept = default;
FileLock::~FileLock() = default;

}  // namespace platform
