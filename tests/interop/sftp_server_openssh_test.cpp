// `limactl sftp-server` against OpenSSH's real sftp client, which starts it
// directly on its stdio (sftp -D), in batch mode: transfers, every file
// command, statvfs, confinement to --root and read-only mode; and real
// sshfs mounting it (sshfs -o passive over FIFOs).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "support/build_paths.hpp"
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/sshfs_mount.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace testing_support;

constexpr const char* kSftp = "/usr/bin/sftp";

class SftpServerOpenSshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kSftp)) << "OpenSSH's sftp client (openssh-client) is missing";
    fs::create_directories(root());
    fs::create_directories(local());
  }
  fs::path root() const { return temp_.path() / "served"; }
  fs::path local() const { return temp_.path() / "local"; }

  // Runs sftp in batch mode against our server; extra_server_args go to
  // `limactl sftp-server`.
  ProcessResult sftp(const std::string& batch, const std::string& extra_server_args = "") {
    const fs::path batch_file = temp_.path() / "batch";
    write_file(batch_file, batch);
    const std::string server = std::string(LIMACTL_BINARY) + " sftp-server -e -l DEBUG --root " +
                               root().string() + (extra_server_args.empty() ? "" : " ") +
                               extra_server_args;
    RunOptions options;
    options.working_directory = local();
    options.timeout = std::chrono::seconds(120);
    return run_process({kSftp, "-b", batch_file.string(), "-D", server}, options);
  }

  TempDir temp_{"limactl-sftp-server"};
};

TEST_F(SftpServerOpenSshTest, PutAndGetTwentyMebibytesKeepTheirSha256) {
  const std::string sent = make_random_file(local() / "random.bin", 20 * 1024 * 1024, 6);
  auto result = sftp("put random.bin uploaded.bin\nget uploaded.bin fetched.bin\n");
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(sha256_file(root() / "uploaded.bin"), sent);
  EXPECT_EQ(sha256_file(local() / "fetched.bin"), sent);
}

TEST_F(SftpServerOpenSshTest, EveryFileCommandWorks) {
  write_file(local() / "small.txt", "small file\n");
  auto result = sftp(
      "pwd\n"
      "mkdir dir\n"
      "put small.txt dir/a.txt\n"
      "rename dir/a.txt dir/b.txt\n"
      "chmod 600 dir/b.txt\n"
      "ln -s b.txt dir/link\n"
      "ln dir/b.txt dir/hard.txt\n"
      "ls -l dir\n"
      "df -h\n"
      "get dir/link via_link.txt\n"
      "put small.txt dir/gone.txt\n"
      "rm dir/gone.txt\n"
      "mkdir empty\n"
      "rmdir empty\n");
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_NE(result.out.find("Remote working directory: /"), std::string::npos) << result.out;
  // ls -l shows our long names; df shows statvfs numbers.
  EXPECT_NE(result.out.find("-rw-------"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("b.txt"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Avail"), std::string::npos) << result.out;
  EXPECT_EQ(read_file(root() / "dir/b.txt"), "small file\n");
  EXPECT_FALSE(fs::exists(root() / "dir/a.txt"));
  EXPECT_EQ(fs::status(root() / "dir/b.txt").permissions() & fs::perms::all, fs::perms(0600));
  ASSERT_TRUE(fs::is_symlink(root() / "dir/link"));
  EXPECT_EQ(fs::read_symlink(root() / "dir/link"), "b.txt");
  EXPECT_EQ(fs::hard_link_count(root() / "dir/b.txt"), 2u);
  EXPECT_EQ(read_file(local() / "via_link.txt"), "small file\n");
  EXPECT_FALSE(fs::exists(root() / "dir/gone.txt"));
  EXPECT_FALSE(fs::exists(root() / "empty"));
}

TEST_F(SftpServerOpenSshTest, EscapesFromTheRootAreRefused) {
  // ../ climbs no higher than the root: there is no etc/passwd in it.
  auto climb = sftp("get ../../../../../../etc/passwd climbed\n");
  EXPECT_FALSE(climb.exited_with(0)) << climb.describe();
  EXPECT_FALSE(fs::exists(local() / "climbed"));
  auto absolute = sftp("get /etc/passwd absolute\n");
  EXPECT_FALSE(absolute.exited_with(0)) << absolute.describe();
  EXPECT_FALSE(fs::exists(local() / "absolute"));

  // A link to /etc may be made, but not followed.
  auto link = sftp("ln -s /etc etc_link\n");
  ASSERT_TRUE(link.exited_with(0)) << link.describe();
  ASSERT_TRUE(fs::is_symlink(root() / "etc_link"));
  auto through = sftp("get etc_link/passwd through_link\n");
  EXPECT_FALSE(through.exited_with(0)) << through.describe();
  EXPECT_FALSE(fs::exists(local() / "through_link"));
  // sftp reports every failed lookup as "not found"; our server's log (-e,
  // on sftp's stderr) says why.
  EXPECT_NE(through.err.find("PERMISSION_DENIED (symbolic link leads outside the served root)"),
            std::string::npos)
      << through.describe();
  auto listing = sftp("ls etc_link/\n");
  EXPECT_NE(listing.err.find("PERMISSION_DENIED"), std::string::npos) << listing.describe();
  EXPECT_EQ(listing.out.find("passwd"), std::string::npos) << listing.describe();

  // Nor can a file be put or renamed through it.
  write_file(local() / "payload", "x");
  auto put = sftp("put payload etc_link/payload\n");
  EXPECT_FALSE(put.exited_with(0)) << put.describe();
  EXPECT_FALSE(fs::exists("/etc/payload"));
  write_file(root() / "inside", "inside");
  auto rename = sftp("rename inside etc_link/moved\n");
  EXPECT_FALSE(rename.exited_with(0)) << rename.describe();
  EXPECT_TRUE(fs::exists(root() / "inside"));
}

TEST_F(SftpServerOpenSshTest, ReadOnlyModeRefusesPutButServesGet) {
  write_file(local() / "payload", "payload");
  write_file(root() / "present.txt", "present");
  auto put = sftp("put payload uploaded\n", "-R");
  EXPECT_FALSE(put.exited_with(0)) << put.describe();
  EXPECT_TRUE(contains_ignoring_case(put.err, "permission denied")) << put.describe();
  EXPECT_FALSE(fs::exists(root() / "uploaded"));
  auto mkdir = sftp("mkdir newdir\n", "-R");
  EXPECT_FALSE(mkdir.exited_with(0)) << mkdir.describe();
  EXPECT_FALSE(fs::exists(root() / "newdir"));
  auto get = sftp("get present.txt fetched.txt\n", "-R");
  ASSERT_TRUE(get.exited_with(0)) << get.describe();
  EXPECT_EQ(read_file(local() / "fetched.txt"), "present");
}

TEST_F(SftpServerOpenSshTest, UmaskAppliesToUploadedFiles) {
  write_file(local() / "wide.txt", "wide", fs::perms(0666));
  auto result = sftp("put wide.txt wide.txt\nmkdir d\n", "-u 077");
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(fs::status(root() / "wide.txt").permissions() & fs::perms::all, fs::perms(0600));
  EXPECT_EQ(fs::status(root() / "d").permissions() & fs::perms::all, fs::perms(0700));
}

}  // namespace

namespace {

// Real sshfs mounts our server, talking to it over two FIFOs (sshfs -o
// passive: SFTP on its stdin/stdout, as reverse-sshfs runs it). More sshfs
// checks: sftp_sshfs_test.cpp.
class SftpServerSshfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(SshfsMount::kSshfsPath)) << "sshfs is missing";
    ASSERT_TRUE(fs::exists("/dev/fuse")) << "/dev/fuse is missing: sshfs cannot mount";
    fs::create_directories(root_);
    mount_ =
        SshfsMount::over_stdio(std::string(LIMACTL_BINARY) + " sftp-server -e -l DEBUG --root " +
                                   shell_quote({root_.string()}),
                               "/", temp_.path() / "mnt", temp_.path());
    ASSERT_TRUE(mount_->wait_until_mounted()) << "sshfs did not mount: " << mount_->log();
  }

  TempDir temp_{"limactl-sftp-sshfs"};
  fs::path root_ = temp_.path() / "served";
  std::unique_ptr<SshfsMount> mount_;
};

TEST_F(SftpServerSshfsTest, FileOperationsOnTheMountReachTheRootAndNoFurther) {
  const fs::path m = mount_->mount_point();
  write_file(m / "file.txt", "first\n");
  {
    std::ofstream append(m / "file.txt", std::ios::app);
    append << "second\n";
  }
  EXPECT_EQ(read_file(root_ / "file.txt"), "first\nsecond\n");
  fs::resize_file(m / "file.txt", 6);
  EXPECT_EQ(read_file(root_ / "file.txt"), "first\n");
  write_file(m / "other.txt", "other");
  fs::rename(m / "other.txt", m / "file.txt");  // over an existing file
  EXPECT_EQ(read_file(root_ / "file.txt"), "other");
  fs::create_directory(m / "dir");
  // (A target with ".." cannot be followed on sshfs mounts, whichever the
  // server: this machine's kernel and sshfs answer EPERM with OpenSSH's too.)
  write_file(m / "dir/target.txt", "target");
  fs::create_symlink("target.txt", m / "dir/link");
  EXPECT_EQ(fs::read_symlink(root_ / "dir/link"), "target.txt");
  EXPECT_EQ(read_file(m / "dir/link"), "target");
  fs::create_hard_link(m / "dir/target.txt", m / "dir/hard.txt");
  EXPECT_EQ(fs::hard_link_count(root_ / "dir/target.txt"), 2u);
  fs::permissions(m / "file.txt", fs::perms(0600));
  EXPECT_EQ(fs::status(root_ / "file.txt").permissions() & fs::perms::all, fs::perms(0600));
  const std::string big = make_random_file(m / "big.bin", 8 * 1024 * 1024, 9);
  EXPECT_EQ(sha256_file(root_ / "big.bin"), big);
  EXPECT_EQ(sha256_file(m / "big.bin"), big);
  EXPECT_GT(fs::space(m).capacity, 0u);
  for (const char* name : {"dir/link", "dir/target.txt", "dir/hard.txt"}) fs::remove(m / name);
  fs::remove(m / "dir");
  EXPECT_FALSE(fs::exists(root_ / "dir"));

  // A link out of the root is listed but cannot be followed.
  fs::create_symlink("/etc", root_ / "etc_link");
  std::error_code ec;
  EXPECT_FALSE(fs::exists(m / "etc_link/passwd", ec));
  EXPECT_THROW(read_file(m / "etc_link/passwd"), std::exception);
  EXPECT_TRUE(fs::is_symlink(m / "etc_link"));
}

}  // namespace
