#include "support/sshfs_mount.hpp"

#include <stdexcept>
#include <system_error>
#include <thread>

#include "support/files.hpp"

namespace testing_support {

namespace fs = std::filesystem;

std::unique_ptr<SshfsMount> SshfsMount::over_stdio(const std::string& server_command,
                                                   const std::string& remote_path,
                                                   const fs::path& mount_point,
                                                   const fs::path& work_dir,
                                                   const Argv& sshfs_arguments) {
  const std::string to_server = (work_dir / "sshfs_to_server").string();
  const std::string to_sshfs = (work_dir / "server_to_sshfs").string();
  // (A remount in the same work_dir makes them afresh.)
  fs::remove(to_server);
  fs::remove(to_sshfs);
  auto fifos = run_process({"mkfifo", to_server, to_sshfs});
  if (!fifos.exited_with(0)) throw std::runtime_error("mkfifo: " + fifos.describe());
  Argv sshfs = {kSshfsPath, "-f", "-o", "passive"};
  sshfs.insert(sshfs.end(), sshfs_arguments.begin(), sshfs_arguments.end());
  sshfs.push_back("localhost:" + remote_path);
  sshfs.push_back(mount_point.string());
  // Both sides open the FIFOs in the same order (to_server, then to_sshfs),
  // so neither open waits for an opener that never comes.
  const std::string script = server_command + " < " + shell_quote({to_server}) + " > " +
                             shell_quote({to_sshfs}) + " & exec " + shell_quote(sshfs) + " > " +
                             shell_quote({to_server}) + " < " + shell_quote({to_sshfs});
  return std::unique_ptr<SshfsMount>(
      new SshfsMount({"/bin/sh", "-c", script}, mount_point, work_dir / "sshfs.log"));
}

std::unique_ptr<SshfsMount> SshfsMount::over_ssh(const std::string& remote,
                                                 const fs::path& mount_point,
                                                 const fs::path& work_dir,
                                                 const Argv& sshfs_arguments) {
  Argv sshfs = {kSshfsPath, "-f"};
  sshfs.insert(sshfs.end(), sshfs_arguments.begin(), sshfs_arguments.end());
  sshfs.push_back(remote);
  sshfs.push_back(mount_point.string());
  return std::unique_ptr<SshfsMount>(new SshfsMount(sshfs, mount_point, work_dir / "sshfs.log"));
}

SshfsMount::SshfsMount(const Argv& argv, fs::path mount_point, fs::path log_file)
    : mount_point_(std::move(mount_point)), log_file_(std::move(log_file)) {
  fs::create_directories(mount_point_);
  SpawnOptions options;
  options.output_file = log_file_;
  process_ = std::make_unique<BackgroundProcess>(argv, options);
}

SshfsMount::~SshfsMount() {
  unmount();
}

bool SshfsMount::mounted() const {
  const std::string mounts = read_file("/proc/mounts");
  return mounts.find(" " + mount_point_.string() + " fuse.sshfs ") != std::string::npos;
}

bool SshfsMount::wait_until_mounted(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!mounted()) {
    if (!process_->running() || std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

std::string SshfsMount::log() {
  std::string text = "sshfs " + process_->status_text() + "; log:\n";
  std::error_code ec;
  if (fs::exists(log_file_, ec)) text += read_file(log_file_);
  return text;
}

void SshfsMount::unmount() {
  // Once only: the mount point may since carry another SshfsMount's mount
  // (a remount replaces a unique_ptr, constructing the new one before the
  // old one's destructor runs), which is not this object's to unmount.
  if (unmounted_) return;
  unmounted_ = true;
  if (mounted()) {
    if (!run_process({"fusermount", "-u", mount_point_.string()}).exited_with(0)) {
      // Still busy (a test failed with a file open): detach it anyway.
      run_process({"fusermount", "-uz", mount_point_.string()});
    }
  }
  if (process_) process_->stop();
}

}  // namespace testing_support
