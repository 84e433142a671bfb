// Where instances live and what state they are in.
//
// Layout (Lima's, so users and scripts find the same files):
//
//   $LIMA_HOME/                 default ~/.lima
//     _config/                  default.yaml, override.yaml, user, user.pub
//     NAME/                     one directory per instance (InstancePaths)
//
// Every instance file name is spelled in InstancePaths and nowhere else.
//
// Status comes from pid files: Running while the VM process named by
// qemu.pid is alive; Stopped when there is no pid file; Broken when the pid
// file names a process that is gone (the VM died without cleaning up) or
// lima.yaml is missing. A command that changes an instance holds its lock
// (InstanceLock), so two limactl never work on one instance at once.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "platform/instance_lock.hpp"

namespace vm {

// $LIMA_HOME when set (and not empty), otherwise HOME/.lima.
std::filesystem::path resolve_lima_home(std::optional<std::string> lima_home_variable,
                                        const std::filesystem::path& home_directory);

// Why `name` cannot name an instance, or nullopt if it can. Lima's rule:
// letters and digits, single '.', '_' or '-' between them; names starting
// with '_' are the store's own directories. At most 58 characters, so the
// guest's host name "lima-NAME" fits in one 63-character DNS label.
std::optional<std::string> instance_name_problem(std::string_view name);

class LimaHome {
 public:
  explicit LimaHome(std::filesystem::path root) : root_(std::move(root)) {}
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path config_directory() const { return root_ / "_config"; }
  std::filesystem::path default_yaml() const { return config_directory() / "default.yaml"; }
  std::filesystem::path override_yaml() const { return config_directory() / "override.yaml"; }
  // The key pair limactl logs into every guest with.
  std::filesystem::path user_private_key() const { return config_directory() / "user"; }
  std::filesystem::path user_public_key() const { return config_directory() / "user.pub"; }
  std::filesystem::path instance_directory(std::string_view name) const {
    return root_ / std::string(name);
  }

 private:
  std::filesystem::path root_;
};

class InstancePaths {
 public:
  explicit InstancePaths(std::filesystem::path directory) : directory_(std::move(directory)) {}
  const std::filesystem::path& directory() const { return directory_; }
  std::string name() const { return directory_.filename().string(); }

  std::filesystem::path lima_yaml() const { return directory_ / "lima.yaml"; }
  std::filesystem::path cidata_iso() const { return directory_ / "cidata.iso"; }
  // The image as downloaded (read-only base) and the VM's writable overlay.
  std::filesystem::path base_disk() const { return directory_ / "basedisk"; }
  std::filesystem::path diff_disk() const { return directory_ / "diffdisk"; }
  std::filesystem::path kernel() const { return directory_ / "kernel"; }
  std::filesystem::path initrd() const { return directory_ / "initrd"; }
  std::filesystem::path serial_log() const { return directory_ / "serial.log"; }
  // QEMU's own stdout and stderr (its error messages when it will not start).
  std::filesystem::path qemu_log() const { return directory_ / "qemu.stderr.log"; }
  // Scratch files of the accelerator probe, removed after it.
  std::filesystem::path accelerator_probe_directory() const { return directory_ / "qemu-probe"; }
  std::filesystem::path qemu_pid() const { return directory_ / "qemu.pid"; }
  std::filesystem::path qmp_socket() const { return directory_ / "qmp.sock"; }
  std::filesystem::path ssh_config() const { return directory_ / "ssh.config"; }
  std::filesystem::path ssh_socket() const { return directory_ / "ssh.sock"; }
  // The guest's host keys we generated (the public one is pinned).
  std::filesystem::path guest_host_key() const { return directory_ / "ssh_host_ed25519_key"; }
  std::filesystem::path guest_host_public_key() const {
    return directory_ / "ssh_host_ed25519_key.pub";
  }
  // The pinned guest host key, under the alias lima-NAME (ssh.config names
  // it with HostKeyAlias, so the entry holds whatever port the VM got).
  std::filesystem::path known_hosts() const { return directory_ / "known_hosts"; }
  std::filesystem::path host_agent_pid() const { return directory_ / "ha.pid"; }
  std::filesystem::path host_agent_socket() const { return directory_ / "ha.sock"; }
  std::filesystem::path host_agent_stdout_log() const { return directory_ / "ha.stdout.log"; }
  std::filesystem::path host_agent_stderr_log() const { return directory_ / "ha.stderr.log"; }
  std::filesystem::path lock_file() const { return directory_ / "lima.lock"; }

 private:
  std::filesystem::path directory_;
};

enum class InstanceStatus { Running, Stopped, Broken };
std::string_view instance_status_name(InstanceStatus status);  // "Running", ...

struct InstanceState {
  InstanceStatus status = InstanceStatus::Stopped;
  // The VM process when Running.
  int qemu_pid = 0;
  // Why Broken (empty otherwise).
  std::string problem;
};

// The pid a pid file holds: one decimal number, optionally followed by a
// newline. nullopt when the file is missing; a file that holds anything
// else counts as a pid of 0 (never running).
std::optional<int> read_pid_file(const std::filesystem::path& file);

// The instance's state; `is_running` says whether a pid is alive
// (platform::process_is_running in the product).
InstanceState inspect_instance(const InstancePaths& paths,
                               const std::function<bool(int)>& is_running);

// The instances under home: directories with a valid instance name (so
// not _config) that hold a lima.yaml, sorted by name.
std::vector<std::string> list_instance_names(const LimaHome& home);

// Held while a command changes an instance. acquire() does not wait: a
// second command gets InstanceBusy at once, naming the holder's pid.
class InstanceLock {
 public:
  static InstanceLock acquire(const InstancePaths& paths);

 private:
  explicit InstanceLock(platform::FileLock lock) : lock_(std::move(lock)) {}
  platform::FileLock lock_;
};

class InstanceBusy : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Makes $LIMA_HOME/NAME holding lima.yaml (and $LIMA_HOME itself if
// needed). Throws std::runtime_error with a message for the user when the
// name is invalid, the instance exists, or the files cannot be written;
// a failure leaves no directory behind.
InstancePaths create_instance_directory(const LimaHome& home, const std::string& name,
                                        const std::string& lima_yaml_text);

// Removes an instance's directory. A running VM is refused unless `force`,
// which kills it first. Throws std::runtime_error (InstanceBusy when
// another command holds the instance).
void delete_instance(const InstancePaths& paths, bool force);

}  // namespace vm
