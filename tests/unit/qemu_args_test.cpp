// Golden QEMU command lines (src/vm/qemu_args.*): the exact argv for each
// kind of launch, and every input the builder refuses.
#include "vm/qemu_args.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace vm {
namespace {

using Argv = std::vector<std::string>;

constexpr std::uint64_t kGiB = 1024ull * 1024 * 1024;

QemuLaunch x86_64_launch(Accelerator accelerator) {
  QemuLaunch launch;
  launch.qemu_binary = "/usr/bin/qemu-system-x86_64";
  launch.arch = QemuArch::X86_64;
  launch.accelerator = accelerator;
  launch.cpus = 4;
  launch.memory_bytes = 4 * kGiB;
  launch.disk_image = "/home/u/.lima/dev/diffdisk";
  launch.disk_format = "qcow2";
  launch.cidata_iso = "/home/u/.lima/dev/cidata.iso";
  launch.ssh_host_port = 60022;
  launch.serial_log = "/home/u/.lima/dev/serial.log";
  launch.qmp = QmpUnixSocket{"/home/u/.lima/dev/qmp.sock"};
  launch.pid_file = "/home/u/.lima/dev/qemu.pid";
  return launch;
}

// Everything after the accelerator and boot options is the same for every
// launch of x86_64_launch()'s instance.
Argv common_tail() {
  return {"-drive",   "file=/home/u/.lima/dev/diffdisk,format=qcow2,if=virtio,discard=on",
          "-drive",   "file=/home/u/.lima/dev/cidata.iso,format=raw,if=virtio,readonly=on",
          "-netdev",  "user,id=net0,net=192.168.5.0/24,hostfwd=tcp:127.0.0.1:60022-:22",
          "-device",  "virtio-net-pci,netdev=net0",
          "-chardev", "file,id=serial0,path=/home/u/.lima/dev/serial.log",
          "-serial",  "chardev:serial0",
          "-qmp",     "unix:/home/u/.lima/dev/qmp.sock,server=on,wait=off",
          "-pidfile", "/home/u/.lima/dev/qemu.pid",
          "-display", "none"};
}

Argv concat(Argv head, const Argv& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

TEST(QemuArgsGolden, X86_64UnderKvm) {
  Argv expected = concat({"/usr/bin/qemu-system-x86_64", "-machine", "q35", "-accel", "kvm", "-cpu",
                          "host", "-smp", "4", "-m", "4096"},
                         common_tail());
  EXPECT_EQ(qemu_arguments(x86_64_launch(Accelerator::Kvm)), expected);
}

TEST(QemuArgsGolden, X86_64UnderKvmWithTheProbesCpuModel) {
  QemuLaunch launch = x86_64_launch(Accelerator::Kvm);
  launch.cpu_model = "host,-arch-capabilities";
  Argv expected = concat({"/usr/bin/qemu-system-x86_64", "-machine", "q35", "-accel", "kvm", "-cpu",
                          "host,-arch-capabilities", "-smp", "4", "-m", "4096"},
                         common_tail());
  EXPECT_EQ(qemu_arguments(launch), expected);
}

TEST(QemuArgsGolden, X86_64UnderTcg) {
  Argv expected = concat({"/usr/bin/qemu-system-x86_64", "-machine", "q35", "-accel",
                          "tcg,thread=multi", "-cpu", "max", "-smp", "4", "-m", "4096"},
                         common_tail());
  EXPECT_EQ(qemu_arguments(x86_64_launch(Accelerator::Tcg)), expected);
}

TEST(QemuArgsGolden, DirectKernelBoot) {
  QemuLaunch launch = x86_64_launch(Accelerator::Tcg);
  launch.cpus = 2;
  launch.memory_bytes = kGiB;
  launch.kernel_boot = DirectKernelBoot{"/cache/vmlinuz", "/cache/initrd.img",
                                        "root=/dev/vda rw console=ttyS0 net.ifnames=0"};
  Argv expected =
      concat({"/usr/bin/qemu-system-x86_64", "-machine", "q35", "-accel", "tcg,thread=multi",
              "-cpu", "max", "-smp", "2", "-m", "1024", "-kernel", "/cache/vmlinuz", "-initrd",
              "/cache/initrd.img", "-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0"},
             common_tail());
  EXPECT_EQ(qemu_arguments(launch), expected);
}

TEST(QemuArgsGolden, KernelWithoutInitrdOrAppend) {
  QemuLaunch launch = x86_64_launch(Accelerator::Kvm);
  launch.kernel_boot = DirectKernelBoot{"/cache/vmlinuz", std::nullopt, std::nullopt};
  Argv expected = concat({"/usr/bin/qemu-system-x86_64", "-machine", "q35", "-accel", "kvm", "-cpu",
                          "host", "-smp", "4", "-m", "4096", "-kernel", "/cache/vmlinuz"},
                         common_tail());
  EXPECT_EQ(qemu_arguments(launch), expected);
}

TEST(QemuArgsGolden, Aarch64WithFirmwareAndQmpOnLoopbackPort) {
  QemuLaunch launch;
  launch.qemu_binary = "C:\\Program Files\\qemu\\qemu-system-aarch64.exe";
  launch.arch = QemuArch::Aarch64;
  launch.accelerator = Accelerator::Tcg;
  launch.cpus = 2;
  launch.memory_bytes = 2 * kGiB;
  launch.firmware = "C:\\Program Files\\qemu\\share\\edk2-aarch64-code.fd";
  launch.disk_image = "C:\\Users\\u\\.lima\\arm\\diffdisk";
  launch.cidata_iso = "C:\\Users\\u\\.lima\\arm\\cidata.iso";
  launch.ssh_host_port = 50022;
  launch.serial_log = "C:\\Users\\u\\.lima\\arm\\serial.log";
  launch.qmp = QmpLoopbackPort{50023};
  launch.pid_file = "C:\\Users\\u\\.lima\\arm\\qemu.pid";
  Argv expected{"C:\\Program Files\\qemu\\qemu-system-aarch64.exe",
                "-machine",
                "virt",
                "-accel",
                "tcg,thread=multi",
                "-cpu",
                "max",
                "-smp",
                "2",
                "-m",
                "2048",
                "-bios",
                "C:\\Program Files\\qemu\\share\\edk2-aarch64-code.fd",
                "-drive",
                "file=C:\\Users\\u\\.lima\\arm\\diffdisk,format=qcow2,if=virtio,discard=on",
                "-drive",
                "file=C:\\Users\\u\\.lima\\arm\\cidata.iso,format=raw,if=virtio,readonly=on",
                "-netdev",
                "user,id=net0,net=192.168.5.0/24,hostfwd=tcp:127.0.0.1:50022-:22",
                "-device",
                "virtio-net-pci,netdev=net0",
                "-chardev",
                "file,id=serial0,path=C:\\Users\\u\\.lima\\arm\\serial.log",
                "-serial",
                "chardev:serial0",
                "-qmp",
                "tcp:127.0.0.1:50023,server=on,wait=off",
                "-pidfile",
                "C:\\Users\\u\\.lima\\arm\\qemu.pid",
                "-display",
                "none"};
  EXPECT_EQ(qemu_arguments(launch), expected);
}

TEST(QemuArgsGolden, Aarch64UnderKvmWithKernel) {
  QemuLaunch launch = x86_64_launch(Accelerator::Kvm);
  launch.qemu_binary = "/usr/bin/qemu-system-aarch64";
  launch.arch = QemuArch::Aarch64;
  launch.kernel_boot = DirectKernelBoot{"/cache/Image", std::nullopt, "root=/dev/vda"};
  Argv expected =
      concat({"/usr/bin/qemu-system-aarch64", "-machine", "virt", "-accel", "kvm", "-cpu", "host",
              "-smp", "4", "-m", "4096", "-kernel", "/cache/Image", "-append", "root=/dev/vda"},
             common_tail());
  EXPECT_EQ(qemu_arguments(launch), expected);
}

// Paths inside comma-separated option values have their commas doubled (QEMU
// reads ",," as one comma); paths that are whole arguments stay as they are.
TEST(QemuArgsGolden, CommasInPathsAreEscapedWhereQemuSplitsAtCommas) {
  QemuLaunch launch = x86_64_launch(Accelerator::Tcg);
  launch.disk_image = "/tmp/a,b/diffdisk";
  launch.cidata_iso = "/tmp/a,b/cidata.iso";
  launch.serial_log = "/tmp/a,b/serial.log";
  launch.qmp = QmpUnixSocket{"/tmp/a,b/qmp.sock"};
  launch.pid_file = "/tmp/a,b/qemu.pid";
  launch.kernel_boot = DirectKernelBoot{"/tmp/a,b/vmlinuz", "/tmp/a,b/initrd", "quiet,x"};
  Argv expected{"/usr/bin/qemu-system-x86_64",
                "-machine",
                "q35",
                "-accel",
                "tcg,thread=multi",
                "-cpu",
                "max",
                "-smp",
                "4",
                "-m",
                "4096",
                "-kernel",
                "/tmp/a,b/vmlinuz",
                "-initrd",
                "/tmp/a,b/initrd",
                "-append",
                "quiet,x",
                "-drive",
                "file=/tmp/a,,b/diffdisk,format=qcow2,if=virtio,discard=on",
                "-drive",
                "file=/tmp/a,,b/cidata.iso,format=raw,if=virtio,readonly=on",
                "-netdev",
                "user,id=net0,net=192.168.5.0/24,hostfwd=tcp:127.0.0.1:60022-:22",
                "-device",
                "virtio-net-pci,netdev=net0",
                "-chardev",
                "file,id=serial0,path=/tmp/a,,b/serial.log",
                "-serial",
                "chardev:serial0",
                "-qmp",
                "unix:/tmp/a,,b/qmp.sock,server=on,wait=off",
                "-pidfile",
                "/tmp/a,b/qemu.pid",
                "-display",
                "none"};
  EXPECT_EQ(qemu_arguments(launch), expected);
}

TEST(QemuArgsEscape, DoublesEveryComma) {
  EXPECT_EQ(escape_qemu_option_value(""), "");
  EXPECT_EQ(escape_qemu_option_value("plain"), "plain");
  EXPECT_EQ(escape_qemu_option_value(",a,,b,"), ",,a,,,,b,,");
}

TEST(QemuArgsMemory, RoundsDownToWholeMebibytesAndAcceptsTheMinimum) {
  QemuLaunch launch = x86_64_launch(Accelerator::Tcg);
  launch.memory_bytes = 128ull * 1024 * 1024;
  EXPECT_EQ(qemu_arguments(launch).at(10), "128");
  launch.memory_bytes = 1536ull * 1024 * 1024 + 1000;
  EXPECT_EQ(qemu_arguments(launch).at(10), "1536");
}

struct RefusedLaunch {
  const char* name;
  std::function<void(QemuLaunch&)> change;
  const char* message;
};

class QemuArgsValidation : public ::testing::TestWithParam<RefusedLaunch> {};

TEST_P(QemuArgsValidation, RefusesWithAMessageNamingTheField) {
  QemuLaunch launch = x86_64_launch(Accelerator::Tcg);
  GetParam().change(launch);
  try {
    qemu_arguments(launch);
    FAIL() << "accepted";
  } catch (const QemuLaunchError& error) {
    EXPECT_STREQ(error.what(), GetParam().message);
  }
}

INSTANTIATE_TEST_SUITE_P(
    QemuArgsEachError, QemuArgsValidation,
    ::testing::Values(
        RefusedLaunch{"EmptyBinary", [](QemuLaunch& l) { l.qemu_binary.clear(); },
                      "qemu binary must not be empty"},
        RefusedLaunch{"ZeroCpus", [](QemuLaunch& l) { l.cpus = 0; },
                      "cpus must be at least 1, not 0"},
        RefusedLaunch{"NegativeCpus", [](QemuLaunch& l) { l.cpus = -2; },
                      "cpus must be at least 1, not -2"},
        RefusedLaunch{"MemoryBelow128MiB",
                      [](QemuLaunch& l) { l.memory_bytes = 128ull * 1024 * 1024 - 1; },
                      "memory must be at least 128 MiB, not 134217727 bytes"},
        RefusedLaunch{"EmptyDisk", [](QemuLaunch& l) { l.disk_image.clear(); },
                      "disk image must not be empty"},
        RefusedLaunch{"FormatWithComma", [](QemuLaunch& l) { l.disk_format = "raw,if=ide"; },
                      "disk format must be a format name such as qcow2 or raw, not \"raw,if=ide\""},
        RefusedLaunch{"EmptyFormat", [](QemuLaunch& l) { l.disk_format.clear(); },
                      "disk format must be a format name such as qcow2 or raw, not \"\""},
        RefusedLaunch{"EmptyKernel",
                      [](QemuLaunch& l) {
                        l.kernel_boot = DirectKernelBoot{"", "/i", {}};
                      },
                      "kernel must not be empty"},
        RefusedLaunch{"EmptyInitrd",
                      [](QemuLaunch& l) {
                        l.kernel_boot = DirectKernelBoot{"/k", "", {}};
                      },
                      "initrd must not be empty"},
        RefusedLaunch{"EmptyFirmware", [](QemuLaunch& l) { l.firmware = ""; },
                      "firmware must not be empty"},
        RefusedLaunch{"Aarch64WithoutFirmwareOrKernel",
                      [](QemuLaunch& l) { l.arch = QemuArch::Aarch64; },
                      "an aarch64 guest needs firmware or a kernel: the virt machine has no boot "
                      "firmware of its own"},
        RefusedLaunch{"EmptyCidata", [](QemuLaunch& l) { l.cidata_iso.clear(); },
                      "cidata ISO must not be empty"},
        RefusedLaunch{"PortZero", [](QemuLaunch& l) { l.ssh_host_port = 0; },
                      "SSH host port must be in 1..65535, not 0"},
        RefusedLaunch{"PortTooHigh", [](QemuLaunch& l) { l.ssh_host_port = 65536; },
                      "SSH host port must be in 1..65535, not 65536"},
        RefusedLaunch{"EmptySerialLog", [](QemuLaunch& l) { l.serial_log.clear(); },
                      "serial log must not be empty"},
        RefusedLaunch{"EmptyQmpSocket", [](QemuLaunch& l) { l.qmp = QmpUnixSocket{""}; },
                      "QMP socket must not be empty"},
        RefusedLaunch{"QmpPortZero", [](QemuLaunch& l) { l.qmp = QmpLoopbackPort{0}; },
                      "QMP port must be in 1..65535, not 0"},
        RefusedLaunch{"QmpPortTooHigh", [](QemuLaunch& l) { l.qmp = QmpLoopbackPort{70000}; },
                      "QMP port must be in 1..65535, not 70000"},
        RefusedLaunch{"EmptyPidFile", [](QemuLaunch& l) { l.pid_file.clear(); },
                      "pid file must not be empty"}),
    [](const ::testing::TestParamInfo<RefusedLaunch>& param_info) {
      return param_info.param.name;
    });

}  // namespace
}  // namespace vm
