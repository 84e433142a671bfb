// An exclusive lock on a file, held for as long as the object lives, and a
// check whether a process id is still running: what the VM instance store
// needs so two limactl commands never work on one instance at once, and to
// tell a running VM from a stale pid file.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <variant>

namespace platform {

class FileLock {
 public:
  // Why try_lock failed: another holder (whose pid the file names, 0 if it
  // wrote none yet), or a system error.
  struct Busy {
    int holder_pid = 0;
  };
  struct Failed {
    std::string message;
  };
  using Attempt = std::variant<FileLock, Busy, Failed>;

  // Takes the lock without waiting: POSIX flock(LOCK_EX | LOCK_NB), Windows
  // LockFileEx(LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY). The
  // file is created if missing and gets the holder's pid (for the Busy
  // message of the next one). The lock goes with the process: a holder
  // that dies leaves no lock behind, only the file.
  static Attempt try_lock(const std::filesystem::path& path);

  FileLock(FileLock&&) noexcept;
  FileLock& operator=(FileLock&&) noexcept;
  ~FileLock();

 private:
  struct Handle;
  explicit FileLock(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

// True while a process with this id exists (POSIX: kill(pid, 0) succeeds or
// fails with EPERM; Windows: OpenProcess and its exit code is STILL_ACTIVE).
bool process_is_running(int pid);

// This process's id.
int current_pid();

// Ends the process at once (POSIX SIGKILL, Windows TerminateProcess): for
// `limactl delete --force` of a VM whose clean stop is not wanted. False
// with errno-style text in `error` when it could not be signalled.
bool kill_process(int pid, std::string& error);

}  // namespace platform
