// Real sshfs mounts for the SFTP server's interop tests.
//
// Two ways to reach a server:
//   - over_stdio(): `sshfs -f -o passive localhost:PATH MOUNT` with its stdin and
//     stdout wired over two FIFOs to a server command such as `limactl
//     sftp-server --root DIR` (SFTP on stdio, as reverse-sshfs runs it);
//   - over_ssh(): `sshfs -f [ssh args] HOST:PATH MOUNT`, sshfs starting ssh
//     itself and asking for the server's `subsystem sftp`.
// Both write sshfs's (and the stdio server's) output to one log file, which
// log() returns for assertion messages. The destructor unmounts (lazily if
// the mount is still busy) and stops sshfs and the server.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "support/process.hpp"

namespace testing_support {

class SshfsMount {
 public:
  static constexpr const char* kSshfsPath = "/usr/bin/sshfs";

  // server_command is a /bin/sh command line; remote_path the server's
  // directory to mount (absolute: a server without a root of its own, such
  // as OpenSSH's sftp-server, serves the whole file system); work_dir holds
  // the FIFOs and the log. Extra sshfs arguments (e.g. {"-o", "cache=no"})
  // go before the mount point.
  static std::unique_ptr<SshfsMount> over_stdio(const std::string& server_command,
                                                const std::string& remote_path,
                                                const std::filesystem::path& mount_point,
                                                const std::filesystem::path& work_dir,
                                                const Argv& sshfs_arguments = {});
  // remote is "[user@]host:path"; sshfs_arguments carry ssh's options (-p,
  // -F CONFIG, -o IdentityFile=..., ...).
  static std::unique_ptr<SshfsMount> over_ssh(const std::string& remote,
                                              const std::filesystem::path& mount_point,
                                              const std::filesystem::path& work_dir,
                                              const Argv& sshfs_arguments = {});
  ~SshfsMount();
  SshfsMount(const SshfsMount&) = delete;
  SshfsMount& operator=(const SshfsMount&) = delete;

  // Polls /proc/mounts until the fuse.sshfs mount appears (true), sshfs
  // exits (false) or the timeout passes (false).
  bool wait_until_mounted(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  bool mounted() const;
  const std::filesystem::path& mount_point() const { return mount_point_; }
  // sshfs's and the server's output so far, and sshfs's state.
  std::string log();
  // fusermount -u (then -uz if busy) and stop sshfs. Acts once; later
  // calls (the destructor's) do nothing.
  void unmount();

 private:
  SshfsMount(const Argv& argv, std::filesystem::path mount_point, std::filesystem::path log_file);

  std::filesystem::path mount_point_;
  std::filesystem::path log_file_;
  std::unique_ptr<BackgroundProcess> process_;
  bool unmounted_ = false;
};

}  // namespace testing_support
