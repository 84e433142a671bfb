// Choosing QEMU's accelerator: KVM only where it really runs a guest, else
// TCG. A /dev/kvm that opens is not enough: under nested virtualisation KVM
// can start a guest and then stop it with "KVM internal error ... emulation
// failure" (docs/architecture.md, VM layer). So the probe boots a one-sector
// guest under KVM and takes KVM only if that guest's code ran to its end.
//
// The probe guest is x86 code: it tests qemu-system-x86_64 (the hosts
// limactl runs VMs on today). On Windows there is no KVM: TCG is chosen
// without running anything (WHPX is not used yet).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "vm/qemu_args.hpp"

namespace vm {

struct AcceleratorChoice {
  Accelerator accelerator = Accelerator::Tcg;
  // The -cpu the probe guest ran with under KVM (QemuLaunch::cpu_model);
  // empty for TCG's default.
  std::string cpu_model;
  std::string reason;  // one sentence for the user, saying why
};

// KVM's CPU models, tried in this order. Under some nested virtualisation
// QEMU 7.2 aborts at `-cpu host` ("failed to set MSR 0x10a": the outer
// hypervisor refuses the IA32_ARCH_CAPABILITIES value QEMU copies from the
// host); without that one feature the guest runs.
inline constexpr std::string_view kKvmCpuModels[] = {"host", "host,-arch-capabilities"};

// The probe guest: a 512-byte x86 boot sector (real mode, loaded at 0x7c00
// by the BIOS) that does a locked cmpxchg8b, writes kProbeGuestMarker to the
// debug console port 0xe9, then asks QEMU to exit through isa-debug-exit.
std::array<std::uint8_t, 512> probe_boot_sector();
inline constexpr std::string_view kProbeGuestMarker = "limactl accelerator probe ok\n";
// The exit status QEMU gives when the probe guest reached its end: the
// guest writes 0x10 to isa-debug-exit, which exits with (0x10 << 1) | 1.
inline constexpr int kProbeGuestExitStatus = 33;

struct ProbeGuestRun {
  bool completed = false;  // the guest's code ran to its end
  std::string failure;     // why not, when it did not (for the user)
};

// Boots the probe guest under `accelerator` with files in `scratch_dir`
// (created if missing; the probe's files are removed afterwards), killing
// QEMU at `timeout`.
// QEMU at `timeout`. An empty cpu_model leaves -cpu out (QEMU's default).
ProbeGuestRun run_probe_guest(const std::string& qemu_binary, Accelerator accelerator,
                              const std::filesystem::path& scratch_dir,
                              std::chrono::milliseconds timeout = std::chrono::seconds(5),
                              const std::string& cpu_model = {});

// KVM if /dev/kvm opens and the probe guest completes under it with one of
// kKvmCpuModels (the first that does is the choice's cpu_model), else TCG;
// the reason says which and why ("KVM is present but cannot run guests here
// (...); using TCG, which is slower").
AcceleratorChoice choose_accelerator(const std::string& qemu_binary,
                                     const std::filesystem::path& scratch_dir);

}  // namespace vm
