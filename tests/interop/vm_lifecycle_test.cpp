// A real VM, end to end on this machine: the local Debian guest image (built
// by scripts/build-guest-image when missing or out of date), `limactl
// create` from template:debian-local, `start` under QEMU (TCG where KVM
// cannot run guests), the guest's cloud-init reading our cidata (the
// serial log shows our user and the boot script), `list` while it runs,
// SSH into it with the pinned host key (our client and OpenSSH's, both
// through the ssh.config start writes), `stop` by ACPI power-off, `delete`.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/build_paths.hpp"
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using testing_support::ProcessResult;

std::string last_line(const std::string& text) {
  std::istringstream lines(text);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

class LimactlVm : public ::testing::Test {
 protected:
  // Kept short: QEMU's QMP socket path must fit a sockaddr_un.
  fs::path home() const { return dir_.path() / "h"; }

  ProcessResult limactl(const testing_support::Argv& arguments,
                        std::chrono::seconds timeout = std::chrono::seconds(60)) {
    testing_support::Argv argv = {LIMACTL_BINARY};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    testing_support::RunOptions options;
    options.environment = {{"LIMA_HOME", home().string()}};
    options.timeout = timeout;
    return testing_support::run_process(argv, options);
  }

  void TearDown() override {
    // QEMU runs in a session of its own: whatever happened above, it must
    // not outlive the test.
    if (fs::exists(home() / kName)) limactl({"delete", "--force", kName});
  }

  static constexpr const char* kName = "vm1";
  testing_support::TempDir dir_{"vm"};
};

TEST_F(LimactlVm, CreateStartListSshStopDeleteTheLocalGuest) {
  // The guest image: a no-op when the cached one matches the recipe.
  const ProcessResult image =
      testing_support::run_process({std::string(LIMACTL_SOURCE_DIR) + "/scripts/build-guest-image"},
                                   {.timeout = std::chrono::minutes(30)});
  ASSERT_TRUE(image.exited_with(0)) << "scripts/build-guest-image failed (it needs root, "
                                       "mmdebstrap and Debian's mirror):\n"
                                    << image.describe();
  const fs::path image_dir = last_line(image.out);
  ASSERT_TRUE(fs::exists(image_dir / "disk.qcow2")) << image.describe();

  ProcessResult result =
      limactl({"create", "--name", kName, "--cpus", "1", "--memory", "1", "template:debian-local"});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();

  result = limactl({"start", kName, "--timeout", "900"}, std::chrono::seconds(960));
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  // Progress from the serial console, as it happened.
  EXPECT_NE(result.err.find("guest: guest kernel "), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("guest: boot script of instance vm1 started"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("guest: boot script done (status 0)"), std::string::npos) << result.err;
  EXPECT_NE(result.out.find("Instance \"vm1\" is running"), std::string::npos) << result.out;

  const fs::path instance = home() / kName;
  const std::string serial = testing_support::read_file(instance / "serial.log");
  // cloud-init read our cidata: it created our user, and its per-boot hook
  // ran our boot script, which found sshd up.
  EXPECT_NE(serial.find("LIMA| user lima: uid=1000(lima)"), std::string::npos) << serial;
  EXPECT_NE(serial.find("LIMA| sshd is up: /run/lima-ssh-ready"), std::string::npos);
  EXPECT_NE(serial.find("LIMA| boot script done (status 0)"), std::string::npos);

  result = limactl({"list", "--json", kName});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  const nlohmann::json listed = nlohmann::json::parse(result.out);
  EXPECT_EQ(listed["status"], "Running");
  const int port = listed["sshLocalPort"].get<int>();
  EXPECT_GT(port, 0);
  EXPECT_GT(listed["driverPID"].get<int>(), 0);
  result = limactl({"list"});
  EXPECT_NE(result.out.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << result.out;

  // In through the port with limactl's key, the guest's host key pinned
  // (StrictHostKeyChecking yes in ssh.config): our client, then OpenSSH's.
  const std::string ssh_config = (instance / "ssh.config").string();
  result = limactl({"ssh", "-F", ssh_config, "lima-vm1", "id -un; cat /run/lima-boot-done"},
                   std::chrono::seconds(120));
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_TRUE(result.out.starts_with("lima\n")) << result.out;
  EXPECT_NE(result.out.find("instance-id:"), std::string::npos) << result.out;
  result = testing_support::run_process({"ssh", "-F", ssh_config, "lima-vm1", "hostname"},
                                        {.timeout = std::chrono::seconds(120)});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, "lima-vm1\n");

  result = limactl({"start", kName});
  EXPECT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_NE(result.out.find("is already running"), std::string::npos) << result.out;

  result = limactl({"stop", kName}, std::chrono::seconds(300));
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_NE(result.err.find("the guest powered off"), std::string::npos) << result.err;
  EXPECT_NE(testing_support::read_file(instance / "serial.log").find("reboot: Power down"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(instance / "qemu.pid"));
  result = limactl({"list", "--json", kName});
  EXPECT_EQ(nlohmann::json::parse(result.out)["status"], "Stopped") << result.out;

  result = limactl({"stop", kName});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_EQ(result.err, "limactl stop: instance \"vm1\" is not running\n");

  result = limactl({"delete", kName});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_FALSE(fs::exists(instance));
}

}  // namespace
