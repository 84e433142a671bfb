// The accelerator probe (src/vm/qemu_probe.*) against the real
// qemu-system-x86_64 (scripts/install-deps installs it). Linux only
// (CMakeLists.txt leaves it out of the Windows build).
//
// On this project's machines nested KVM cannot run guests (or there is no
// /dev/kvm at all), so the probe must choose TCG and say why.
#include "vm/qemu_probe.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>

#include "support/temp_dir.hpp"

namespace vm {
namespace {

namespace fs = std::filesystem;
using testing_support::TempDir;

constexpr const char* kQemu = "qemu-system-x86_64";

TEST(QemuProbeSector, IsABootableSectorCarryingTheMarker) {
  auto sector = probe_boot_sector();
  EXPECT_EQ(sector[510], 0x55);
  EXPECT_EQ(sector[511], 0xaa);
  std::string bytes(sector.begin(), sector.end());
  EXPECT_NE(bytes.find(kProbeGuestMarker), std::string::npos);
  EXPECT_EQ(sector[0], 0xfa);  // starts with cli
}

// The probe guest itself works: run under TCG it reaches its end, so a
// guest failing under KVM is KVM's doing, not the probe's.
TEST(QemuProbeGuest, RunsToItsEndUnderTcgAndLeavesNoFiles) {
  TempDir scratch("qemu-probe");
  auto started = std::chrono::steady_clock::now();
  auto run = run_probe_guest(kQemu, Accelerator::Tcg, scratch.path(), std::chrono::seconds(10));
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(run.completed) << run.failure;
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  EXPECT_TRUE(fs::is_empty(scratch.path()));
}

TEST(QemuProbeGuest, ScratchDirectoryWithACommaWorks) {
  TempDir scratch("qemu-probe");
  auto run =
      run_probe_guest(kQemu, Accelerator::Tcg, scratch.path() / "a,b", std::chrono::seconds(10));
  EXPECT_TRUE(run.completed) << run.failure;
}

TEST(QemuProbeGuest, MissingQemuIsAFailureThatSaysSo) {
  TempDir scratch("qemu-probe");
  auto missing = (scratch.path() / "no-such-qemu").string();
  auto run = run_probe_guest(missing, Accelerator::Tcg, scratch.path());
  EXPECT_FALSE(run.completed);
  EXPECT_EQ(run.failure, "cannot run " + missing + ": No such file or directory");
}

// A guest that never reaches its end is reported as timed out: TCG given
// 1 ms cannot even start the BIOS.
TEST(QemuProbeGuest, AGuestStoppedAtTheDeadlineIsReportedAsTimedOut) {
  TempDir scratch("qemu-probe");
  auto run = run_probe_guest(kQemu, Accelerator::Tcg, scratch.path(), std::chrono::milliseconds(1));
  EXPECT_FALSE(run.completed);
  EXPECT_EQ(run.failure, "a test guest did not finish within 1 ms and its code never ran");
}

// Whatever this machine offers, the choice is one the guest can start with:
// KVM only with a CPU model under which the probe guest runs (the guest gets
// that same model), else TCG with the reason.
TEST(QemuProbeChoice, ChoosesWhatRunsHereWithTheReasonWithinFifteenSeconds) {
  TempDir scratch("qemu-probe");
  auto started = std::chrono::steady_clock::now();
  auto choice = choose_accelerator(kQemu, scratch.path());
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_LT(elapsed, std::chrono::seconds(15));
  EXPECT_TRUE(fs::is_empty(scratch.path()));
  if (choice.accelerator == Accelerator::Kvm) {
    EXPECT_EQ(choice.reason.rfind("KVM runs guests here", 0), 0u) << choice.reason;
    EXPECT_NE(std::find(std::begin(kKvmCpuModels), std::end(kKvmCpuModels), choice.cpu_model),
              std::end(kKvmCpuModels))
        << choice.cpu_model;
    auto run = run_probe_guest(kQemu, Accelerator::Kvm, scratch.path(), std::chrono::seconds(10),
                               choice.cpu_model);
    EXPECT_TRUE(run.completed) << run.failure;
    return;
  }
  EXPECT_TRUE(choice.cpu_model.empty()) << choice.cpu_model;
  if (fs::exists("/dev/kvm")) {
    EXPECT_EQ(choice.reason.rfind("KVM is present but cannot run guests here (with -cpu host ", 0),
              0u)
        << choice.reason;
  } else {
    EXPECT_EQ(choice.reason,
              "KVM is not available: there is no /dev/kvm (no KVM on this host, or it is not "
              "passed into this container); using TCG, which is slower");
  }
  EXPECT_NE(choice.reason.find("; using TCG, which is slower"), std::string::npos);
}

// The probe runs the CPU model it is given: an unknown one fails under TCG
// too, with QEMU's words.
TEST(QemuProbeGuest, RunsTheGivenCpuModel) {
  TempDir scratch("qemu-probe");
  auto run = run_probe_guest(kQemu, Accelerator::Tcg, scratch.path(), std::chrono::seconds(10),
                             "no-such-cpu-model");
  EXPECT_FALSE(run.completed);
  EXPECT_NE(run.failure.find("no-such-cpu-model"), std::string::npos) << run.failure;
  run = run_probe_guest(kQemu, Accelerator::Tcg, scratch.path(), std::chrono::seconds(10), "max");
  EXPECT_TRUE(run.completed) << run.failure;
}

}  // namespace
}  // namespace vm
