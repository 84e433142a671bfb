// The pure pieces of `limactl start` and `stop`: disk image headers and the
// overlay's qemu-img arguments, the boot progress read from a serial log,
// the QMP conversation, and the ssh.config written for the instance.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/temp_dir.hpp"
#include "vm/boot_progress.hpp"
#include "vm/disk_image.hpp"
#include "vm/instance_start.hpp"
#include "vm/qmp.hpp"

namespace {

std::vector<std::uint8_t> qcow2_header(std::uint64_t virtual_size) {
  std::vector<std::uint8_t> header(72, 0);
  header[0] = 'Q';
  header[1] = 'F';
  header[2] = 'I';
  header[3] = 0xfb;
  header[7] = 3;  // version
  for (int i = 0; i < 8; ++i) {
    header[24 + i] = static_cast<std::uint8_t>(virtual_size >> (56 - 8 * i));
  }
  return header;
}

TEST(DiskImage, Qcow2VirtualSizeComesFromTheHeader) {
  const auto header = qcow2_header(2ULL << 30);
  const vm::DiskImageInfo info = vm::disk_image_info(header, 196'616);
  EXPECT_EQ(info.format, vm::DiskFormat::Qcow2);
  EXPECT_EQ(info.virtual_size, 2ULL << 30);
}

TEST(DiskImage, AnythingElseIsRawOfItsFileSize) {
  const std::array<std::uint8_t, 4> header{0xeb, 0x63, 0x90, 0x00};  // a boot sector
  const vm::DiskImageInfo info = vm::disk_image_info(header, 10'485'760);
  EXPECT_EQ(info.format, vm::DiskFormat::Raw);
  EXPECT_EQ(info.virtual_size, 10'485'760u);
  EXPECT_EQ(vm::disk_image_info({}, 0).format, vm::DiskFormat::Raw);
}

TEST(DiskImage, ACutShortQcow2HeaderIsAnError) {
  auto header = qcow2_header(1 << 20);
  header.resize(31);
  EXPECT_THROW(vm::disk_image_info(header, 31), vm::DiskImageError);
}

TEST(DiskImage, ReadFromAFile) {
  testing_support::TempDir dir("disk-image");
  const auto header = qcow2_header(5ULL << 30);
  testing_support::write_file(dir.path() / "disk.qcow2", std::string(header.begin(), header.end()));
  const vm::DiskImageInfo info = vm::read_disk_image_info(dir.path() / "disk.qcow2");
  EXPECT_EQ(info.format, vm::DiskFormat::Qcow2);
  EXPECT_EQ(info.virtual_size, 5ULL << 30);
  EXPECT_THROW(vm::read_disk_image_info(dir.path() / "missing"), vm::DiskImageError);
}

TEST(DiskImage, TheOverlayIsNeverSmallerThanItsBase) {
  const vm::DiskImageInfo base{vm::DiskFormat::Qcow2, 2ULL << 30};
  EXPECT_EQ(vm::overlay_size(4ULL << 30, base), 4ULL << 30);
  EXPECT_EQ(vm::overlay_size(1ULL << 30, base), 2ULL << 30);
}

TEST(DiskImage, OverlayArgumentsNameTheBaseByItsFormatAndAbsolutePath) {
  const vm::DiskImageInfo base{vm::DiskFormat::Raw, 1ULL << 30};
  // A relative base is named absolutely (QEMU resolves a backing file
  // against the overlay's directory, not the working one).
  const std::filesystem::path relative_base = std::filesystem::path("vm") / "basedisk";
  const std::filesystem::path overlay = std::filesystem::path("vm") / "diffdisk";
  const auto argv =
      vm::qemu_img_overlay_arguments("qemu-img", relative_base, base, overlay, 4ULL << 30);
  const std::vector<std::string> expected{"qemu-img",
                                          "create",
                                          "-q",
                                          "-f",
                                          "qcow2",
                                          "-F",
                                          "raw",
                                          "-b",
                                          std::filesystem::absolute(relative_base).string(),
                                          overlay.string(),
                                          "4294967296"};
  EXPECT_EQ(argv, expected);
  EXPECT_TRUE(std::filesystem::path(argv[8]).is_absolute());
}

std::vector<vm::BootEvent> feed_all(vm::BootProgress& progress, const std::string& log) {
  return progress.feed(log);
}

TEST(BootProgress, StepsOfADebianBootUpToTheBootScriptsEnd) {
  // Lines as a Debian 12 guest writes them to ttyS0 (shortened), with the
  // escape sequences systemd colours its status with.
  const std::string log =
      "SeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n"
      "[    0.000000] Linux version 6.1.0-27-cloud-amd64 (debian-kernel@lists.debian.org) "
      "(gcc-12) #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1\r\n"
      "[  OK  ] Started \x1b[0;1;39msystemd-journald.service\x1b[0m - Journal Service.\r\n"
      "[   12.5] cloud-init[201]: Cloud-init v. 22.4.2 running 'init-local' at Mon, 30 Nov "
      "2026 00:40:01 +0000. Up 12.00 seconds.\r\n"
      "[   20.1] cloud-init[301]: Cloud-init v. 22.4.2 running 'modules:final' at Mon.\r\n"
      "LIMA| boot script of instance vm1 started\r\n"
      "LIMA| user lima: uid=1000(lima) gid=1000(lima) groups=1000(lima)\r\n"
      "LIMA| sshd is up: /run/lima-ssh-ready\r\n"
      "[   25.0] cloud-init[301]: Cloud-init v. 22.4.2 finished at Mon. Up 25.00 seconds\r\n"
      "LIMA| boot script done (status 0): /run/lima-boot-done\r\n"
      "\r\n"
      "Debian GNU/Linux 12 lima-vm1 ttyS0\r\n"
      "lima-vm1 login: ";
  vm::BootProgress progress;
  const auto events = feed_all(progress, log);
  std::vector<std::string> messages;
  for (const auto& event : events) messages.push_back(event.message);
  const std::vector<std::string> expected{
      "guest kernel 6.1.0-27-cloud-amd64 started",
      "cloud-init stage init-local",
      "cloud-init stage modules:final",
      "boot script of instance vm1 started",
      "user lima: uid=1000(lima) gid=1000(lima) groups=1000(lima)",
      "sshd is up: /run/lima-ssh-ready",
      "cloud-init finished",
      "boot script done (status 0): /run/lima-boot-done"};
  EXPECT_EQ(messages, expected);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, vm::BootEvent::Kind::Ready);
  EXPECT_TRUE(progress.ready());
}

TEST(BootProgress, LinesSplitAcrossReadsAreJoined) {
  vm::BootProgress progress;
  EXPECT_TRUE(progress.feed("LIMA| boot script do").empty());
  EXPECT_TRUE(progress.feed("ne (status").empty());
  const auto events = progress.feed(" 0): /run/lima-boot-done\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, vm::BootEvent::Kind::Ready);
}

TEST(BootProgress, AFailedBootScriptOrAKernelPanicIsAFailure) {
  vm::BootProgress failed_script;
  auto events = failed_script.feed("LIMA| boot script done (status 1): /run/lima-boot-done\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, vm::BootEvent::Kind::Failed);

  vm::BootProgress panic;
  events = panic.feed(
      "[    1.9] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, vm::BootEvent::Kind::Failed);
  EXPECT_NE(events[0].message.find("VFS: Unable to mount root fs"), std::string::npos);
}

TEST(BootProgress, HostileConsoleBytesAreCutAndCleaned) {
  vm::BootProgress progress;
  // An endless line is cut at the limit, not buffered without end.
  const std::string endless(10 * vm::kMaxBootLogLine, 'x');
  EXPECT_TRUE(progress.feed("LIMA| " + endless).empty());
  const auto events = progress.feed("\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_LE(events[0].message.size(), vm::kMaxBootLogLine);
  // Control bytes and escape sequences never reach the user's terminal.
  EXPECT_EQ(vm::printable_console_text("a\x1b[2Jb\x07"
                                       "c\x1b]0;title\x07"
                                       "d\x7f"),
            "abcd");
  const auto cleaned = progress.feed("LIMA| ok\x1b[31m red\x1b[0m\x08!\n");
  ASSERT_EQ(cleaned.size(), 1u);
  EXPECT_EQ(cleaned[0].message, "ok red!");
}

TEST(QmpSession, NegotiatesCapabilitiesThenRunsTheCommand) {
  vm::QmpSession session("system_powerdown");
  const std::string greeting =
      R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": ["oob"]}})"
      "\r\n";
  std::string sent = session.feed(greeting);
  EXPECT_EQ(nlohmann::json::parse(sent), (nlohmann::json{{"execute", "qmp_capabilities"}}));
  EXPECT_FALSE(session.done());
  sent = session.feed("{\"return\": {}}\r\n");
  EXPECT_EQ(nlohmann::json::parse(sent), (nlohmann::json{{"execute", "system_powerdown"}}));
  // An event before the reply is passed over.
  EXPECT_EQ(session.feed(R"({"event": "POWERDOWN", "timestamp": {"seconds": 1}})"
                         "\r\n{\"return\": {}}\r\n"),
            "");
  EXPECT_TRUE(session.done());
  EXPECT_FALSE(session.failure());
}

TEST(QmpSession, ReadsMessagesSplitAcrossReads) {
  vm::QmpSession session("quit");
  EXPECT_EQ(session.feed(R"({"QMP": {"vers)"), "");
  EXPECT_NE(session.feed("ion\": {}}}\n"), "");
}

TEST(QmpSession, AnErrorReplyIsAFailureWithQemusDescription) {
  vm::QmpSession session("system_powerdown");
  session.feed("{\"QMP\": {}}\n");
  session.feed("{\"return\": {}}\n");
  session.feed(
      R"({"error": {"class": "CommandNotFound", "desc": "The command system_powerdown has not been found"}})"
      "\n");
  ASSERT_TRUE(session.failure());
  EXPECT_EQ(*session.failure(),
            "QEMU refused system_powerdown: The command system_powerdown has not been found");
  EXPECT_FALSE(session.done());
}

TEST(QmpSession, GarbageOrAnEndlessLineIsAFailure) {
  vm::QmpSession garbage("quit");
  garbage.feed("this is not json\n");
  EXPECT_TRUE(garbage.failure());

  vm::QmpSession endless("quit");
  endless.feed(std::string(vm::kMaxQmpLine + 1, '{'));
  ASSERT_TRUE(endless.failure());
  EXPECT_NE(endless.failure()->find("64 KiB"), std::string::npos);
}

TEST(InstanceSshConfig, PinsTheGuestKeyUnderTheAliasAndNamesThePort) {
  const std::string text = vm::instance_ssh_config(
      "vm1", "lima", 60022, "/home/u/.lima/_config/user", "/home/u/.lima/vm1/known_hosts");
  EXPECT_EQ(text,
            "# Written by limactl start for `ssh -F` (OpenSSH's ssh or `limactl ssh`).\n"
            "# Rewritten at every start: the port may change.\n"
            "Host lima-vm1\n"
            "  HostName 127.0.0.1\n"
            "  Port 60022\n"
            "  User lima\n"
            "  IdentityFile \"/home/u/.lima/_config/user\"\n"
            "  IdentitiesOnly yes\n"
            "  PreferredAuthentications publickey\n"
            "  BatchMode yes\n"
            "  StrictHostKeyChecking yes\n"
            "  UserKnownHostsFile \"/home/u/.lima/vm1/known_hosts\"\n"
            "  HostKeyAlias lima-vm1\n");
}

TEST(InstanceSshConfig, ThePortIsReadBackForList) {
  testing_support::TempDir dir("ssh-config");
  const vm::InstancePaths paths(dir.path() / "vm1");
  std::filesystem::create_directories(paths.directory());
  EXPECT_EQ(vm::instance_ssh_port(paths), std::nullopt);
  testing_support::write_file(paths.ssh_config(),
                              vm::instance_ssh_config("vm1", "lima", 41234, "k", "h"));
  EXPECT_EQ(vm::instance_ssh_port(paths), 41234);
}

}  // namespace
