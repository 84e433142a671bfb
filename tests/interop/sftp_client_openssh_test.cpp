// Our SFTP client (sftp::Client and the transfer jobs) against OpenSSH's
// real sftp-server, started by the test with its stdio on pipes: 20 MiB put
// and get with equal SHA-256, listings, rename over an existing file,
// symlink/readlink in OpenSSH's argument order, mkdir/rmdir, statvfs, and a
// recursive copy with preserved modes and times. Results are checked on
// the disk, not only through the client.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "sftp/client.hpp"
#include "sftp/local_file_system.hpp"
#include "sftp/transfer.hpp"
#include "support/files.hpp"
#include "support/pipe_peer.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace testing_support;

constexpr const char* kSftpServer = "/usr/lib/openssh/sftp-server";

// write_file and make_random_file with the parent directories created.
void write_at(const fs::path& path, std::string_view content) {
  fs::create_directories(path.parent_path());
  write_file(path, content);
}
std::string random_at(const fs::path& path, std::uintmax_t size, std::uint64_t seed) {
  fs::create_directories(path.parent_path());
  return make_random_file(path, size, seed);
}

template <class T>
struct Slot {
  std::optional<sftp::ClientResult<T>> result;
  auto callback() {
    return [this](sftp::ClientResult<T> value) { result.emplace(std::move(value)); };
  }
  bool arrived() const { return result.has_value(); }
};

class SftpClientOpenSshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kSftpServer))
        << kSftpServer << " is missing (install openssh-sftp-server)";
    fs::create_directories(remote());
    fs::create_directories(local());
    connect();
  }

  // A fresh sftp-server and client (the old ones, if any, are gone first).
  void connect() {
    client_.reset();
    peer_.reset();
    client_ = std::make_unique<sftp::Client>();
    peer_ = std::make_unique<PipePeer>(Argv{kSftpServer, "-e", "-l", "ERROR"});
    ASSERT_TRUE(run_until([&] { return client_->ready(); })) << peer_->last_error();
    ASSERT_TRUE(client_->ready()) << "no VERSION: " << peer_->error_output();
  }

  fs::path remote() const { return temp_.path() / "remote"; }
  fs::path local() const { return temp_.path() / "local"; }

  bool run_until(const std::function<bool()>& done) {
    return peer_->run(*client_, done) && !client_->outcome();
  }
  template <class T>
  T await(Slot<T>& slot) {
    EXPECT_TRUE(run_until([&] { return slot.arrived(); })) << peer_->last_error();
    if (!slot.arrived()) throw std::runtime_error("no reply");
    if (!slot.result->ok()) {
      throw std::runtime_error("request failed: " + slot.result->error().message);
    }
    return std::move(slot.result->value());
  }
  void run_job(sftp::TransferJob& job) {
    job.start();
    ASSERT_TRUE(run_until([&] { return job.finished(); })) << peer_->last_error();
    std::string errors;
    for (const auto& error : job.errors()) errors += error.path + ": " + error.message + "\n";
    EXPECT_TRUE(job.succeeded()) << errors;
  }

  TempDir temp_{"sftp-client-openssh"};
  std::unique_ptr<sftp::Client> client_;
  sftp::LocalFileSystem disk_;
  std::unique_ptr<PipePeer> peer_;
};

TEST_F(SftpClientOpenSshTest, PutAndGetTwentyMebibytesKeepTheirHash) {
  // OpenSSH's sftp-server offers limits@openssh.com: 255 KiB chunks.
  EXPECT_TRUE(client_->has_extension(sftp::ext::kLimits));
  EXPECT_EQ(client_->read_chunk_size(), sftp::kMaxChunkSize);
  EXPECT_EQ(client_->write_chunk_size(), sftp::kMaxChunkSize);

  const fs::path source = local() / "big.bin";
  const std::string hash = random_at(source, 20 * 1024 * 1024 + 4321, 7);
  {
    sftp::TransferJob put(*client_, disk_);
    put.add_put(source.string(), (remote() / "big.bin").string());
    run_job(put);
  }
  EXPECT_GE(client_->peak_requests_outstanding(), 64u);
  EXPECT_EQ(sha256_file(remote() / "big.bin"), hash);
  EXPECT_FALSE(fs::exists(remote() / ".big.bin.limactl-partial"));

  {
    sftp::TransferJob get(*client_, disk_);
    get.add_get((remote() / "big.bin").string(), (local() / "back.bin").string());
    run_job(get);
  }
  EXPECT_EQ(sha256_file(local() / "back.bin"), hash);
  EXPECT_FALSE(fs::exists(local() / ".back.bin.limactl-partial"));
}

TEST_F(SftpClientOpenSshTest, ListingMatchesTheDisk) {
  std::set<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    const std::string name = "file-" + std::to_string(i);
    write_at(remote() / "dir" / name, std::string(static_cast<std::size_t>(i), 'x'));
    expected.insert(name);
  }
  fs::create_directories(remote() / "dir" / "subdir");
  expected.insert("subdir");
  Slot<std::vector<sftp::NameEntry>> listing;
  client_->list_directory((remote() / "dir").string(), listing.callback());
  auto entries = await(listing);
  std::set<std::string> names;
  for (const auto& entry : entries) {
    names.insert(entry.filename);
    if (entry.filename == "file-17") {
      EXPECT_EQ(entry.attrs.size, 17u);
    }
    if (entry.filename == "subdir") {
      EXPECT_TRUE(entry.attrs.is_directory());
    }
  }
  EXPECT_EQ(names, expected);

  Slot<std::vector<sftp::NameEntry>> missing;
  client_->list_directory((remote() / "nope").string(), missing.callback());
  ASSERT_TRUE(run_until([&] { return missing.arrived(); }));
  ASSERT_FALSE(missing.result->ok());
  EXPECT_EQ(missing.result->error().code, sftp::StatusCode::NoSuchFile);
}

TEST_F(SftpClientOpenSshTest, RenameReplacesAnExistingFile) {
  EXPECT_TRUE(client_->has_extension(sftp::ext::kPosixRename));
  write_at(remote() / "from", "new contents");
  write_at(remote() / "to", "old contents");
  Slot<sftp::FsOk> renamed;
  client_->rename((remote() / "from").string(), (remote() / "to").string(), renamed.callback());
  await(renamed);
  EXPECT_FALSE(fs::exists(remote() / "from"));
  EXPECT_EQ(read_file(remote() / "to"), "new contents");
}

TEST_F(SftpClientOpenSshTest, SymlinkAndReadlink) {
  write_at(remote() / "target.txt", "pointed at");
  const fs::path link = remote() / "link";
  Slot<sftp::FsOk> made;
  client_->symlink("target.txt", link.string(), made.callback());
  await(made);
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link), fs::path("target.txt"));
  EXPECT_EQ(read_file(link), "pointed at");

  Slot<std::string> target;
  client_->readlink(link.string(), target.callback());
  EXPECT_EQ(await(target), "target.txt");
  Slot<sftp::Attrs> lstat, stat;
  client_->lstat(link.string(), lstat.callback());
  client_->stat(link.string(), stat.callback());
  EXPECT_TRUE(await(lstat).is_symlink());
  EXPECT_TRUE(await(stat).is_regular());
}

TEST_F(SftpClientOpenSshTest, MkdirAndRmdir) {
  const fs::path dir = remote() / "made";
  sftp::Attrs attrs;
  attrs.permissions = 0750;
  Slot<sftp::FsOk> made;
  client_->mkdir(dir.string(), attrs, made.callback());
  await(made);
  ASSERT_TRUE(fs::is_directory(dir));
  struct stat info {};
  ASSERT_EQ(::stat(dir.c_str(), &info), 0);
  EXPECT_EQ(
      info.st_mode & 0777, 0750u & ~[] {
        const mode_t mask = umask(0);
        umask(mask);
        return static_cast<unsigned>(mask);
      }());

  Slot<sftp::FsOk> again;
  client_->mkdir(dir.string(), {}, again.callback());
  ASSERT_TRUE(run_until([&] { return again.arrived(); }));
  EXPECT_FALSE(again.result->ok());

  Slot<sftp::FsOk> removed;
  client_->rmdir(dir.string(), removed.callback());
  await(removed);
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(SftpClientOpenSshTest, StatvfsMatchesTheKernel) {
  ASSERT_TRUE(client_->has_extension(sftp::ext::kStatvfs));
  Slot<sftp::ext::StatvfsReply> reply;
  client_->statvfs(remote().string(), reply.callback());
  const auto stats = await(reply);
  struct statvfs kernel {};
  ASSERT_EQ(::statvfs(remote().c_str(), &kernel), 0);
  EXPECT_EQ(stats.block_size, kernel.f_bsize);
  EXPECT_EQ(stats.fragment_size, kernel.f_frsize);
  EXPECT_EQ(stats.blocks, kernel.f_blocks);
  EXPECT_EQ(stats.max_name_length, kernel.f_namemax);
}

TEST_F(SftpClientOpenSshTest, RecursivePutAndGetWithPreserve) {
  write_at(local() / "tree" / "a.txt", "alpha");
  random_at(local() / "tree" / "sub" / "b.bin", 1024 * 1024 + 7, 7);
  fs::create_directories(local() / "tree" / "empty");
  fs::permissions(local() / "tree" / "a.txt", fs::perms(0640));
  fs::permissions(local() / "tree" / "sub", fs::perms(0750));
  // Whole seconds in the past: SFTP v3 carries seconds.
  const time_t old_time = 1500000000;
  const auto set_mtime = [&](const fs::path& path) {
    const timespec times[2] = {{old_time - 10, 0}, {old_time, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
  };
  set_mtime(local() / "tree" / "a.txt");
  set_mtime(local() / "tree" / "sub");

  sftp::TransferOptions options;
  options.recursive = true;
  options.preserve = true;
  {
    sftp::TransferJob put(*client_, disk_, options);
    put.add_put((local() / "tree").string(), (remote() / "tree").string());
    run_job(put);
  }
  EXPECT_EQ(read_file(remote() / "tree" / "a.txt"), "alpha");
  EXPECT_EQ(sha256_file(remote() / "tree" / "sub" / "b.bin"),
            sha256_file(local() / "tree" / "sub" / "b.bin"));
  EXPECT_TRUE(fs::is_directory(remote() / "tree" / "empty"));
  EXPECT_EQ(fs::status(remote() / "tree" / "a.txt").permissions(), fs::perms(0640));
  EXPECT_EQ(fs::status(remote() / "tree" / "sub").permissions(), fs::perms(0750));
  const auto mtime = [](const fs::path& path) {
    struct stat info {};
    EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
    return info.st_mtime;
  };
  EXPECT_EQ(mtime(remote() / "tree" / "a.txt"), old_time);
  EXPECT_EQ(mtime(remote() / "tree" / "sub"), old_time);

  {
    sftp::TransferJob get(*client_, disk_, options);
    get.add_get((remote() / "tree").string(), (local() / "back").string());
    run_job(get);
  }
  EXPECT_EQ(read_file(local() / "back" / "a.txt"), "alpha");
  EXPECT_EQ(sha256_file(local() / "back" / "sub" / "b.bin"),
            sha256_file(local() / "tree" / "sub" / "b.bin"));
  EXPECT_EQ(fs::status(local() / "back" / "a.txt").permissions(), fs::perms(0640));
  EXPECT_EQ(mtime(local() / "back" / "a.txt"), old_time);
  EXPECT_EQ(mtime(local() / "back" / "sub"), old_time);
}

TEST_F(SftpClientOpenSshTest, KilledServerMidPutLeavesNoFinalFileAndResumeCompletes) {
  const fs::path source = local() / "data.bin";
  const std::string hash = random_at(source, 20 * 1024 * 1024 + 11, 11);
  const fs::path target = remote() / "data.bin";
  const fs::path partial = remote() / ".data.bin.limactl-partial";
  {
    sftp::TransferJob put(*client_, disk_);
    put.add_put(source.string(), target.string());
    put.start();
    ASSERT_TRUE(run_until([&] { return put.progress().bytes_done > 4 * 1024 * 1024; }))
        << peer_->last_error();
    ASSERT_FALSE(put.finished());
    // The server dies mid-transfer.
    ASSERT_EQ(::kill(peer_->pid(), SIGKILL), 0);
    peer_->run(*client_, [&] { return put.finished(); });
    ASSERT_TRUE(put.finished());
    EXPECT_FALSE(put.succeeded());
    ASSERT_FALSE(put.errors().empty());
    EXPECT_EQ(put.errors()[0].path, source.string());
  }
  ASSERT_TRUE(client_->outcome().has_value());
  EXPECT_FALSE(client_->outcome()->ok());
  EXPECT_FALSE(fs::exists(target));
  ASSERT_TRUE(fs::exists(partial));
  const auto kept = fs::file_size(partial);
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, fs::file_size(source));

  connect();
  sftp::TransferOptions options;
  options.resume = true;
  sftp::TransferJob put(*client_, disk_, options);
  put.add_put(source.string(), target.string());
  run_job(put);
  EXPECT_EQ(sha256_file(target), hash);
  // Only what was missing crossed the pipe again.
  EXPECT_LT(peer_->bytes_sent(), fs::file_size(source) - kept + 1024 * 1024);
  EXPECT_FALSE(fs::exists(partial));
}

TEST_F(SftpClientOpenSshTest, ResumedPutCompletesWithTheRightHash) {
  const fs::path source = local() / "data.bin";
  const std::string hash = random_at(source, 3 * 1024 * 1024 + 99, 7);
  // What an interrupted run leaves: the first part under the partial name.
  const std::string content = read_file(source);
  write_at(remote() / ".data.bin.limactl-partial", content.substr(0, 1024 * 1024 + 5));
  sftp::TransferOptions options;
  options.resume = true;
  sftp::TransferJob put(*client_, disk_, options);
  put.add_put(source.string(), (remote() / "data.bin").string());
  run_job(put);
  EXPECT_EQ(sha256_file(remote() / "data.bin"), hash);
  EXPECT_FALSE(fs::exists(remote() / ".data.bin.limactl-partial"));
}

}  // namespace
