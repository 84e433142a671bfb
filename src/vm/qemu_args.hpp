// The QEMU command line of an instance, built by a pure function from a plain
// description of the launch (no files read, no processes, no host facts), so
// it can be checked against exact golden vectors.
//
// The process is supervised by limactl, not left to itself: no -daemonize,
// and no -no-reboot (a guest that reboots itself stays up, as under Lima).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vm {

enum class QemuArch { X86_64, Aarch64 };

// How guest code runs: KVM (hardware, Linux) or TCG (QEMU's emulator: slower,
// but works where KVM is missing or cannot run guests; qemu_probe.* decides).
enum class Accelerator { Kvm, Tcg };

std::string_view accelerator_name(Accelerator accelerator);  // "kvm", "tcg"

// Where QEMU listens for QMP (the control protocol stop uses): a Unix socket
// (qmp.sock) where there are Unix sockets, else a loopback TCP port (Windows).
struct QmpUnixSocket {
  std::string path;
};
struct QmpLoopbackPort {
  int port = 0;  // on 127.0.0.1
};
using QmpEndpoint = std::variant<QmpUnixSocket, QmpLoopbackPort>;

// Booting a kernel directly instead of the disk's boot loader (Lima's
// images[].kernel / initrd, and kernel.cmdline as append).
struct DirectKernelBoot {
  std::string kernel;
  std::optional<std::string> initrd;
  std::optional<std::string> append;
};

struct QemuLaunch {
  std::string qemu_binary;  // e.g. /usr/bin/qemu-system-x86_64
  QemuArch arch = QemuArch::X86_64;
  Accelerator accelerator = Accelerator::Tcg;
  // -cpu; empty: the accelerator's default (kvm: host, tcg: max). The probe
  // may choose another (qemu_probe.hpp, AcceleratorChoice::cpu_model).
  std::string cpu_model;
  int cpus = 0;
  std::uint64_t memory_bytes = 0;  // passed in whole MiB (rounded down), as Lima does
  std::string disk_image;          // the instance's qcow2 overlay
  std::string disk_format = "qcow2";
  std::optional<DirectKernelBoot> kernel_boot;
  // UEFI firmware (-bios). aarch64's `virt` machine has none built in, so an
  // aarch64 guest needs this or a direct kernel boot.
  std::optional<std::string> firmware;
  std::string cidata_iso;
  int ssh_host_port = 0;  // 127.0.0.1:port forwards to the guest's port 22
  std::string serial_log;
  QmpEndpoint qmp;
  std::string pid_file;
};

// A launch qemu_arguments() refuses; the message names the field.
class QemuLaunchError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// QEMU splits option values such as `-drive file=...,format=...` at commas
// and reads ",," as one literal comma: a path placed in such a value must
// have its commas doubled.
std::string escape_qemu_option_value(std::string_view value);

// The full argv (the binary first) that starts the guest in the foreground.
// Throws QemuLaunchError for: an empty path, cpus < 1, memory < 128 MiB, a
// port outside 1..65535, a disk format that is not a plain name, an aarch64
// guest with neither firmware nor kernel.
std::vector<std::string> qemu_arguments(const QemuLaunch& launch);

}  // namespace vm
