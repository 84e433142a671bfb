// The in-process scp protocol (make_scp_command) against OpenSSH's own scp
// client in legacy mode (-O): scp runs tests/interop/peers/scp_stdio_peer
// as its "ssh" (-S), which serves the remote command on stdio, so every
// byte on the wire comes from the real client. Checked: a 5 MiB random file
// up and down (SHA-256), trees with -r, modes and times with -p, relative,
// "~", quoted and wildcard paths, error messages and exit codes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "interop/scp_peer_path.hpp"
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace testing_support;

constexpr const char* kScp = "/usr/bin/scp";

class ScpOpenSsh : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kScp)) << "OpenSSH's scp (openssh-client) is missing";
    ASSERT_TRUE(fs::exists(SCP_STDIO_PEER_BINARY)) << SCP_STDIO_PEER_BINARY;
    fs::create_directories(local());
    fs::create_directories(remote());
  }

  fs::path local() const { return dir_.path() / "local"; }
  fs::path remote() const { return dir_.path() / "remote"; }

  // scp -O -S peer ARGS..., with the "remote" side working in remote().
  ProcessResult scp(const Argv& arguments) {
    Argv argv{kScp, "-O", "-S", SCP_STDIO_PEER_BINARY};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    RunOptions options;
    options.timeout = std::chrono::seconds(120);
    options.working_directory = local();
    options.environment = {{"SCP_PEER_WORKING_DIRECTORY", remote().string()}};
    return run_process(argv, options);
  }

  static std::string at_peer(const fs::path& path) { return "peer:" + path.string(); }

  TempDir dir_{"limactl-scp"};
};

unsigned mode_of(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0xffffffff;
  return info.st_mode & 07777;
}

std::int64_t mtime_of(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return -1;
  return info.st_mtime;
}

void set_mtime(const fs::path& path, std::int64_t seconds) {
  struct timespec stamps[2]{};
  stamps[0].tv_sec = static_cast<time_t>(seconds + 5);
  stamps[1].tv_sec = static_cast<time_t>(seconds);
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), stamps, 0), 0) << path;
}

// Relative path -> "dir" or the file's SHA-256, for a whole tree.
std::map<std::string, std::string> tree_of(const fs::path& root) {
  std::map<std::string, std::string> tree;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const std::string relative = fs::relative(entry.path(), root).string();
    tree[relative] = entry.is_directory() ? "dir" : sha256_file(entry.path());
  }
  return tree;
}

void make_tree(const fs::path& root) {
  fs::create_directories(root / "sub" / "deeper");
  fs::create_directories(root / "empty");
  write_file(root / "top.txt", "top\n");
  make_random_file(root / "sub" / "random.bin", 300 * 1024 + 7, 11);
  write_file(root / "sub" / "deeper" / "leaf", "leaf");
  write_file(root / "zero", "");
}

TEST_F(ScpOpenSsh, FiveMebibyteRandomFileUpAndDown) {
  const std::string sha = make_random_file(local() / "up.bin", 5 * 1024 * 1024, 42);
  const ProcessResult up = scp({"up.bin", at_peer(remote() / "stored.bin")});
  ASSERT_TRUE(up.exited_with(0)) << up.describe();
  EXPECT_EQ(sha256_file(remote() / "stored.bin"), sha);

  const ProcessResult down = scp({at_peer(remote() / "stored.bin"), "down.bin"});
  ASSERT_TRUE(down.exited_with(0)) << down.describe();
  EXPECT_EQ(sha256_file(local() / "down.bin"), sha);
  EXPECT_EQ(fs::file_size(local() / "down.bin"), 5u * 1024 * 1024);
}

TEST_F(ScpOpenSsh, SeveralFilesIntoADirectoryAndBack) {
  write_file(local() / "a", "aaa");
  write_file(local() / "b", "bbbb");
  fs::create_directories(remote() / "in");
  const ProcessResult up = scp({"a", "b", at_peer(remote() / "in")});
  ASSERT_TRUE(up.exited_with(0)) << up.describe();
  EXPECT_EQ(read_file(remote() / "in" / "a"), "aaa");
  EXPECT_EQ(read_file(remote() / "in" / "b"), "bbbb");

  fs::create_directories(local() / "back");
  const ProcessResult down =
      scp({at_peer(remote() / "in" / "a"), at_peer(remote() / "in" / "b"), "back"});
  ASSERT_TRUE(down.exited_with(0)) << down.describe();
  EXPECT_EQ(read_file(local() / "back" / "a"), "aaa");
  EXPECT_EQ(read_file(local() / "back" / "b"), "bbbb");
}

TEST_F(ScpOpenSsh, RecursiveTreesUpAndDown) {
  make_tree(local() / "tree");
  const ProcessResult up = scp({"-r", "tree", at_peer(remote())});
  ASSERT_TRUE(up.exited_with(0)) << up.describe();
  EXPECT_EQ(tree_of(remote() / "tree"), tree_of(local() / "tree"));

  const ProcessResult down = scp({"-r", at_peer(remote() / "tree"), "copy"});
  ASSERT_TRUE(down.exited_with(0)) << down.describe();
  EXPECT_EQ(tree_of(local() / "copy"), tree_of(local() / "tree"));
  EXPECT_EQ(tree_of(local() / "copy").size(), 7u);
}

TEST_F(ScpOpenSsh, PreserveKeepsModesAndTimes) {
  fs::create_directories(local() / "d");
  write_file(local() / "d" / "script", "#!/bin/sh\n", fs::perms(0751));
  ASSERT_EQ(::chmod((local() / "d").c_str(), 0710), 0);
  set_mtime(local() / "d" / "script", 1234567890);
  set_mtime(local() / "d", 1500000000);

  const ProcessResult up = scp({"-r", "-p", "d", at_peer(remote())});
  ASSERT_TRUE(up.exited_with(0)) << up.describe();
  EXPECT_EQ(mode_of(remote() / "d" / "script"), 0751u);
  EXPECT_EQ(mtime_of(remote() / "d" / "script"), 1234567890);
  EXPECT_EQ(mode_of(remote() / "d"), 0710u);
  EXPECT_EQ(mtime_of(remote() / "d"), 1500000000);

  write_file(remote() / "single", "s", fs::perms(0604));
  set_mtime(remote() / "single", 1111111111);
  const ProcessResult down = scp({"-p", at_peer(remote() / "single"), "single"});
  ASSERT_TRUE(down.exited_with(0)) << down.describe();
  EXPECT_EQ(mode_of(local() / "single"), 0604u);
  EXPECT_EQ(mtime_of(local() / "single"), 1111111111);
}

TEST_F(ScpOpenSsh, RelativeHomeQuotedAndWildcardPaths) {
  write_file(local() / "f", "content");
  fs::create_directories(remote() / "with space");
  const ProcessResult relative = scp({"f", "peer:relative"});
  ASSERT_TRUE(relative.exited_with(0)) << relative.describe();
  EXPECT_EQ(read_file(remote() / "relative"), "content");
  const ProcessResult home = scp({"f", "peer:~/tilde"});
  ASSERT_TRUE(home.exited_with(0)) << home.describe();
  EXPECT_EQ(read_file(remote() / "tilde"), "content");
  const ProcessResult quoted = scp({"f", "peer:'with space/it'\\''s'"});
  ASSERT_TRUE(quoted.exited_with(0)) << quoted.describe();
  EXPECT_EQ(read_file(remote() / "with space" / "it's"), "content");

  write_file(remote() / "with space" / "x.txt", "x");
  write_file(remote() / "with space" / "y.txt", "y");
  fs::create_directories(local() / "matches");
  const ProcessResult wildcard = scp({"peer:\"with space\"/*.txt", "matches"});
  ASSERT_TRUE(wildcard.exited_with(0)) << wildcard.describe();
  EXPECT_EQ(read_file(local() / "matches" / "x.txt"), "x");
  EXPECT_EQ(read_file(local() / "matches" / "y.txt"), "y");
  EXPECT_FALSE(fs::exists(local() / "matches" / "it's"));
}

TEST_F(ScpOpenSsh, MissingRemoteFileIsReportedWithExitStatusOne) {
  const fs::path missing = remote() / "no-such-file";
  const ProcessResult down = scp({at_peer(missing), "x"});
  EXPECT_TRUE(down.exited_with(1)) << down.describe();
  EXPECT_NE(down.err.find("scp: " + missing.string() + ": No such file or directory"),
            std::string::npos)
      << down.describe();
  EXPECT_FALSE(fs::exists(local() / "x"));
}

TEST_F(ScpOpenSsh, SomeMissingAmongSeveralStillCopiesTheRest) {
  write_file(remote() / "present", "here");
  fs::create_directories(local() / "got");
  const ProcessResult down =
      scp({at_peer(remote() / "absent"), at_peer(remote() / "present"), "got"});
  EXPECT_TRUE(down.exited_with(1)) << down.describe();
  EXPECT_NE(down.err.find("scp: " + (remote() / "absent").string() + ": No such file or directory"),
            std::string::npos)
      << down.describe();
  EXPECT_EQ(read_file(local() / "got" / "present"), "here");
}

TEST_F(ScpOpenSsh, UploadErrors) {
  write_file(local() / "a", "a");
  write_file(local() / "b", "b");
  // Several sources need a directory (-d).
  const ProcessResult not_directory = scp({"a", "b", at_peer(remote() / "missing-dir")});
  EXPECT_TRUE(not_directory.exited_with(1)) << not_directory.describe();
  EXPECT_NE(not_directory.err.find("scp: " + (remote() / "missing-dir").string() +
                                   ": No such file or directory"),
            std::string::npos)
      << not_directory.describe();
  // Into a directory that does not exist.
  const ProcessResult no_parent = scp({"a", at_peer(remote() / "nowhere" / "a")});
  EXPECT_TRUE(no_parent.exited_with(1)) << no_parent.describe();
  EXPECT_NE(no_parent.err.find("scp: " + (remote() / "nowhere" / "a").string() +
                               ": No such file or directory"),
            std::string::npos)
      << no_parent.describe();
  // A directory without -r is refused by the client itself; over a file it
  // is refused by us.
  write_file(remote() / "plain", "p");
  fs::create_directories(local() / "dir");
  write_file(local() / "dir" / "inside", "i");
  const ProcessResult over_file = scp({"-r", "dir", at_peer(remote() / "plain")});
  EXPECT_TRUE(over_file.exited_with(1)) << over_file.describe();
  EXPECT_NE(over_file.err.find("scp: " + (remote() / "plain").string() + ": Not a directory"),
            std::string::npos)
      << over_file.describe();
  EXPECT_EQ(read_file(remote() / "plain"), "p");
}

TEST_F(ScpOpenSsh, NotAScpCommandIsNotServed) {
  const ProcessResult result = run_process({SCP_STDIO_PEER_BINARY, "--", "peer", "ls -l"});
  EXPECT_TRUE(result.exited_with(127)) << result.describe();
  EXPECT_NE(result.err.find("not a scp command"), std::string::npos) << result.describe();
}

}  // namespace
