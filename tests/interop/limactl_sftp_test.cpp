// `limactl sftp -b` against OpenSSH's `sftp -b`: the same batch runs
// through both clients against the same real sshd (OpenSSH 9.2, its own
// sftp-server), each in its own remote and local directory with the same
// starting files. What must match: stdout (the echoed commands, ls in
// columns and ls -l with the server's long names, pwd, lpwd, df's header),
// with the two directories' paths replaced by placeholders, the resulting
// remote and local trees (names, types, modes, contents, link targets),
// and the exit status, also for a batch that fails part way.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/build_paths.hpp"
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/sshd_fixture.hpp"
#include "support/temp_dir.hpp"

namespace testing_support {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// One entry of a tree, as compared between the two clients' results.
std::string describe_entry(const fs::path& path) {
  const auto status = fs::symlink_status(path);
  const auto mode = static_cast<unsigned>(status.permissions());
  if (fs::is_symlink(status)) return "link -> " + fs::read_symlink(path).string();
  if (fs::is_directory(status)) return "dir " + std::to_string(mode);
  return "file " + std::to_string(mode) + " " + sha256_file(path);
}

std::map<std::string, std::string> tree(const fs::path& root) {
  std::map<std::string, std::string> entries;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    entries[fs::relative(it->path(), root).string()] = describe_entry(it->path());
  }
  return entries;
}

class LimactlSftp : public ::testing::Test {
 protected:
  // A client's own remote and local directories, with the same files.
  struct Side {
    fs::path remote;
    fs::path local;
  };

  Side make_side(const std::string& name) {
    Side side{dir_.path() / name / "remote", dir_.path() / name / "local"};
    fs::create_directories(side.remote);
    fs::create_directories(side.local / "tree/sub");
    write_file(side.local / "up.txt", "uploaded text\n");
    write_file(side.local / "notes.txt", "notes\n");
    (void)make_random_file(side.local / "data.bin", 3 * 1024 * 1024 + 11, 41);
    write_file(side.local / "tree/a.txt", "a\n", fs::perms(0640));
    (void)make_random_file(side.local / "tree/sub/b.bin", 300 * 1024, 42);
    fs::permissions(side.local / "tree/sub/b.bin", fs::perms(0600));
    // put -p keeps these times, so ls -l shows the same dates for both.
    const auto old = fs::file_time_type::clock::now() - std::chrono::hours(24 * 400);
    for (const char* file : {"up.txt", "notes.txt", "data.bin"}) {
      fs::last_write_time(side.local / file, old);
    }
    write_file(side.remote / "present.txt", "was there\n");
    return side;
  }

  Argv connection_arguments() const {
    return {"-P", std::to_string(server_.port()),
            "-i", server_.client_key().private_key.string(),
            "-F", "/dev/null",
            "-o", "UserKnownHostsFile=" + server_.known_hosts_file().string(),
            "-o", "StrictHostKeyChecking=yes"};
  }

  // Runs `batch` (with ROOT and LOCAL standing for the side's directories)
  // through `program` (limactl sftp or OpenSSH's sftp); stdout comes back
  // with the directories replaced by ROOT and LOCAL again.
  ProcessResult run_batch(bool ours, const Side& side, std::string batch) {
    replace_all(batch, "ROOT", side.remote.string());
    replace_all(batch, "LOCAL", side.local.string());
    const fs::path batch_file = dir_.path() / (ours ? "ours.batch" : "theirs.batch");
    write_file(batch_file, batch);
    Argv argv = ours ? Argv{LIMACTL_BINARY, "sftp"} : Argv{"/usr/bin/sftp"};
    const Argv connection = connection_arguments();
    argv.insert(argv.end(), connection.begin(), connection.end());
    argv.insert(argv.end(), {"-b", batch_file.string(), server_.user() + "@127.0.0.1"});
    RunOptions options;
    options.timeout = seconds(120);
    ProcessResult result = run_process(argv, options);
    replace_all(result.out, side.remote.string(), "ROOT");
    replace_all(result.out, side.local.string(), "LOCAL");
    return result;
  }

  OpenSshServer server_;
  TempDir dir_{"limactl-sftp-interop"};
};

// df's numbers change with every write on the disk: only its header is kept.
std::string without_df_numbers(const std::string& out) {
  std::string kept;
  bool after_header = false;
  std::size_t start = 0;
  while (start < out.size()) {
    std::size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    const std::string line = out.substr(start, end - start);
    if (!after_header) kept += line + "\n";
    after_header = line.find("%Capacity") != std::string::npos;
    start = end + 1;
  }
  return kept;
}

TEST_F(LimactlSftp, SameBatchSameOutputAndTreesAsOpenSsh) {
  const std::string batch =
      "cd ROOT\n"
      "pwd\n"
      "lcd LOCAL\n"
      "lpwd\n"
      "mkdir dir\n"
      "put -p up.txt\n"
      "put -p data.bin dir/data.bin\n"
      "put -p notes.txt dir\n"
      "put -r tree\n"
      "ls\n"
      "ls dir\n"
      "ls -l dir\n"
      "ls *.txt\n"
      "ls d?r/*.bin\n"
      "rename up.txt moved.txt\n"
      "ln -s moved.txt link.txt\n"
      "chmod 600 moved.txt\n"
      "chmod 640 dir/*.txt\n"
      "get moved.txt got.txt\n"
      "get dir/data.bin\n"
      "get -r tree tree-back\n"
      "get present.txt\n"
      "rm dir/data.bin\n"
      "-rm no-such-file\n"
      "mkdir empty\n"
      "rmdir empty\n"
      "cd dir\n"
      "pwd\n"
      "ls\n"
      "cd ..\n"
      "df\n"
      "# a comment\n"
      "\n"
      "ls\n"
      "quit\n";
  // Names of one length: ls's columns depend on the full paths' lengths.
  const Side ours = make_side("ours");
  const Side theirs = make_side("them");
  const ProcessResult openssh = run_batch(false, theirs, batch);
  ASSERT_TRUE(openssh.exited_with(0)) << openssh.describe();
  const ProcessResult limactl = run_batch(true, ours, batch);
  ASSERT_TRUE(limactl.exited_with(0)) << limactl.describe();

  EXPECT_EQ(without_df_numbers(limactl.out), without_df_numbers(openssh.out));
  EXPECT_NE(openssh.out.find("%Capacity"), std::string::npos) << openssh.out;
  EXPECT_EQ(tree(ours.remote), tree(theirs.remote));
  EXPECT_EQ(tree(ours.local), tree(theirs.local));
  // Not vacuous: the batch did what it says.
  EXPECT_EQ(read_file(ours.local / "got.txt"), "uploaded text\n");
  EXPECT_EQ(fs::read_symlink(ours.remote / "link.txt"), "moved.txt");
  EXPECT_EQ(sha256_file(ours.local / "tree-back/sub/b.bin"),
            sha256_file(ours.local / "tree/sub/b.bin"));
  EXPECT_FALSE(fs::exists(ours.remote / "dir/data.bin"));
  EXPECT_FALSE(fs::exists(ours.remote / "empty"));
}

TEST_F(LimactlSftp, AFailingCommandEndsTheBatchWithStatusOneLikeOpenSsh) {
  const std::string batch =
      "cd ROOT\n"
      "mkdir before\n"
      "-rmdir no-such-directory\n"
      "get no-such-file\n"
      "mkdir after\n";
  const Side ours = make_side("ours");
  const Side theirs = make_side("them");
  const ProcessResult openssh = run_batch(false, theirs, batch);
  EXPECT_TRUE(openssh.exited_with(1)) << openssh.describe();
  const ProcessResult limactl = run_batch(true, ours, batch);
  EXPECT_TRUE(limactl.exited_with(1)) << limactl.describe();
  EXPECT_EQ(limactl.out, openssh.out);
  EXPECT_TRUE(fs::is_directory(ours.remote / "before"));
  EXPECT_FALSE(fs::exists(ours.remote / "after"));
  EXPECT_EQ(tree(ours.remote), tree(theirs.remote));
  EXPECT_NE(limactl.err.find("not found"), std::string::npos) << limactl.err;

  // An unknown command fails too.
  const ProcessResult unknown = run_batch(true, ours, "frobnicate\nmkdir later\n");
  EXPECT_TRUE(unknown.exited_with(1)) << unknown.describe();
  EXPECT_FALSE(fs::exists(ours.remote / "later"));
}

}  // namespace
}  // namespace testing_support
