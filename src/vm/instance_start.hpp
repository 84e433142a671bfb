// `limactl start` below the command line: everything an instance needs
// before its VM runs (the user's key, the guest's host key, the base disk
// and its overlay, cidata.iso, the SSH port, ssh.config with the pinned
// host key), then QEMU started in the background and the boot followed
// on the serial console until the boot script reports done.
//
// `limactl stop`: QMP system_powerdown (the ACPI power button), then a kill
// if the guest has not powered off by the deadline.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "vm/image_download.hpp"
#include "vm/image_files.hpp"
#include "vm/instance_store.hpp"
#include "vm/lima_config.hpp"
#include "vm/qemu_args.hpp"

namespace vm {

// A start or stop that cannot go on; what() is one line for the user that
// says what to do.
class InstanceStartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct InstanceReporter {
  std::function<void(std::string_view)> step;  // one line of progress
  std::function<void(std::string_view label, const InstallProgress&)> copy_progress;
  // A download of `label` begins; what it returns is told the download's
  // progress (and is dropped when the download ends).
  std::function<DownloadProgressCallback(std::string_view label)> begin_download;
};

struct StartOptions {
  // How long the boot may take, from QEMU's start to the boot script's end.
  std::chrono::seconds boot_timeout{600};
};

struct StartedInstance {
  int qemu_pid = 0;
  int ssh_port = 0;
  Accelerator accelerator = Accelerator::Tcg;
};

// Starts the instance and waits for its boot. `config` is lima.yaml with
// defaults applied and validated. The caller holds the instance's lock.
// Throws InstanceStartError (and ImageError / std::runtime_error from the
// layers below, with messages for the user).
//
// QEMU is found as Lima finds it: $QEMU_SYSTEM_X86_64 (or _AARCH64) when
// set, else qemu-system-<arch> in PATH; qemu-img next to it, else in PATH.
StartedInstance start_instance(const LimaHome& home, const InstancePaths& paths,
                               const LimaConfig& config, const StartOptions& options,
                               const InstanceReporter& reporter);

struct StopOptions {
  bool force = false;  // kill at once, no power-down request
  std::chrono::seconds timeout{180};
};

// Stops a running instance. The caller holds the instance's lock. Throws
// InstanceStartError when it is not running or cannot be stopped.
void stop_instance(const InstancePaths& paths, const StopOptions& options,
                   const InstanceReporter& reporter);

// ssh.config for `ssh -F` (OpenSSH's client and ours): host lima-NAME on
// 127.0.0.1:port as the guest user with limactl's key, the guest's host
// key pinned through known_hosts under the alias lima-NAME.
std::string instance_ssh_config(const std::string& instance_name, const std::string& user,
                                int ssh_port, const std::filesystem::path& identity_file,
                                const std::filesystem::path& known_hosts_file);

// The SSH port a running instance got (from its ssh.config); nullopt when
// the file is missing or names none.
std::optional<int> instance_ssh_port(const InstancePaths& paths);

}  // namespace vm
