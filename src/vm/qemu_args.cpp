#include "vm/qemu_args.hpp"

#include <string>

namespace vm {
namespace {

constexpr std::uint64_t kMebibyte = 1024 * 1024;
constexpr std::uint64_t kMinimumMemory = 128 * kMebibyte;

// Lima's user-mode network: the guest is 192.168.5.15, the host 192.168.5.2.
constexpr std::string_view kGuestNetwork = "192.168.5.0/24";

void require_path(const std::string& value, std::string_view field) {
  if (value.empty()) {
    throw QemuLaunchError(std::string(field) + " must not be empty");
  }
}

void require_port(int port, std::string_view field) {
  if (port < 1 || port > 65535) {
    throw QemuLaunchError(std::string(field) + " must be in 1..65535, not " + std::to_string(port));
  }
}

// A format goes into -drive unescaped: only a plain name (qcow2, raw, vmdk).
bool is_plain_format_name(std::string_view format) {
  if (format.empty()) {
    return false;
  }
  for (char c : format) {
    bool lower = c >= 'a' && c <= 'z';
    bool digit = c >= '0' && c <= '9';
    if (!lower && !digit) {
      return false;
    }
  }
  return true;
}

void validate(const QemuLaunch& launch) {
  require_path(launch.qemu_binary, "qemu binary");
  if (launch.cpus < 1) {
    throw QemuLaunchError("cpus must be at least 1, not " + std::to_string(launch.cpus));
  }
  if (launch.memory_bytes < kMinimumMemory) {
    throw QemuLaunchError("memory must be at least 128 MiB, not " +
                          std::to_string(launch.memory_bytes) + " bytes");
  }
  require_path(launch.disk_image, "disk image");
  if (!is_plain_format_name(launch.disk_format)) {
    throw QemuLaunchError("disk format must be a format name such as qcow2 or raw, not \"" +
                          launch.disk_format + "\"");
  }
  if (launch.kernel_boot) {
    require_path(launch.kernel_boot->kernel, "kernel");
    if (launch.kernel_boot->initrd) {
      require_path(*launch.kernel_boot->initrd, "initrd");
    }
  }
  if (launch.firmware) {
    require_path(*launch.firmware, "firmware");
  }
  if (launch.arch == QemuArch::Aarch64 && !launch.firmware && !launch.kernel_boot) {
    throw QemuLaunchError(
        "an aarch64 guest needs firmware or a kernel: the virt machine has no boot firmware of "
        "its own");
  }
  require_path(launch.cidata_iso, "cidata ISO");
  require_port(launch.ssh_host_port, "SSH host port");
  require_path(launch.serial_log, "serial log");
  if (const auto* socket = std::get_if<QmpUnixSocket>(&launch.qmp)) {
    require_path(socket->path, "QMP socket");
  } else {
    require_port(std::get<QmpLoopbackPort>(launch.qmp).port, "QMP port");
  }
  require_path(launch.pid_file, "pid file");
}

std::string qmp_argument(const QmpEndpoint& endpoint) {
  if (const auto* socket = std::get_if<QmpUnixSocket>(&endpoint)) {
    return "unix:" + escape_qemu_option_value(socket->path) + ",server=on,wait=off";
  }
  return "tcp:127.0.0.1:" + std::to_string(std::get<QmpLoopbackPort>(endpoint).port) +
         ",server=on,wait=off";
}

}  // namespace

std::string_view accelerator_name(Accelerator accelerator) {
  return accelerator == Accelerator::Kvm ? "kvm" : "tcg";
}

std::string escape_qemu_option_value(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    escaped += c;
    if (c == ',') {
      escaped += ',';
    }
  }
  return escaped;
}

std::vector<std::string> qemu_arguments(const QemuLaunch& launch) {
  validate(launch);
  std::vector<std::string> argv{launch.qemu_binary};
  auto add = [&argv](std::string option, std::string value) {
    argv.push_back(std::move(option));
    argv.push_back(std::move(value));
  };

  add("-machine", launch.arch == QemuArch::X86_64 ? "q35" : "virt");
  if (launch.accelerator == Accelerator::Kvm) {
    add("-accel", "kvm");
    add("-cpu", launch.cpu_model.empty() ? "host" : launch.cpu_model);
  } else {
    // One host thread per guest CPU; without thread=multi TCG runs them all on one.
    add("-accel", "tcg,thread=multi");
    add("-cpu", launch.cpu_model.empty() ? "max" : launch.cpu_model);
  }
  add("-smp", std::to_string(launch.cpus));
  add("-m", std::to_string(launch.memory_bytes / kMebibyte));
  if (launch.firmware) {
    add("-bios", *launch.firmware);
  }
  if (launch.kernel_boot) {
    add("-kernel", launch.kernel_boot->kernel);
    if (launch.kernel_boot->initrd) {
      add("-initrd", *launch.kernel_boot->initrd);
    }
    if (launch.kernel_boot->append) {
      add("-append", *launch.kernel_boot->append);
    }
  }
  // The disk first so the guest sees it as /dev/vda (the root a direct
  // kernel boot names); cidata, found by its volume label, as /dev/vdb.
  add("-drive", "file=" + escape_qemu_option_value(launch.disk_image) +
                    ",format=" + launch.disk_format + ",if=virtio,discard=on");
  add("-drive",
      "file=" + escape_qemu_option_value(launch.cidata_iso) + ",format=raw,if=virtio,readonly=on");
  add("-netdev", "user,id=net0,net=" + std::string(kGuestNetwork) +
                     ",hostfwd=tcp:127.0.0.1:" + std::to_string(launch.ssh_host_port) + "-:22");
  add("-device", "virtio-net-pci,netdev=net0");
  add("-chardev", "file,id=serial0,path=" + escape_qemu_option_value(launch.serial_log));
  add("-serial", "chardev:serial0");
  add("-qmp", qmp_argument(launch.qmp));
  add("-pidfile", launch.pid_file);
  add("-display", "none");
  return argv;
}

}  // namespace vm
