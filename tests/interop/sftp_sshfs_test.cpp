// Real sshfs mounts `limactl sftp-server --root DIR` (sshfs -o passive, SFTP on
// its stdio, as reverse-sshfs runs it) and, through OpenSSH's ssh, the
// in-process "subsystem sftp" of `limactl sshd`; every file operation on the mount
// must end as the same operation on a plain local directory does: the same
// outcome (or errno) per call, the same names, types, modes, sizes, contents,
// link targets, and mtimes where they were set. The served root must then hold
// what the local directory holds, hard links included.
//
// Where sshfs over SFTP v3 cannot give the local result whatever the server
// (the protocol has no status for it, e.g. ENOTEMPTY when renaming over a
// full directory), the mount must give what a mount of OpenSSH's own
// sftp-server gives: the same operations run there too, and any difference
// from the local directory that OpenSSH's mount does not share fails.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/build_paths.hpp"
#include "support/files.hpp"
#include "support/limactl_sshd_fixture.hpp"
#include "support/process.hpp"
#include "support/sshfs_mount.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace testing_support;

constexpr const char* kOpenSshSftpServer = "/usr/lib/openssh/sftp-server";
constexpr std::uint64_t kFourGiB = std::uint64_t{4} << 30;

std::string errno_name(int error) {
  const char* name = ::strerrorname_np(error);
  return name != nullptr ? name : "errno " + std::to_string(error);
}

// The outcome of each call, one line each, in order.
class Outcomes {
 public:
  void add(const std::string& what, const std::string& value) {
    lines_.push_back(what + " -> " + value);
  }
  // A -1 result is recorded as its errno's name, anything else as "ok".
  void call(const std::string& what, long result) {
    add(what, result < 0 ? errno_name(errno) : "ok");
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::vector<std::string> lines_;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

// The whole file, or its errno's name in angle brackets.
std::string contents(const fs::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return "<" + errno_name(errno) + ">";
  std::string data;
  char buffer[65536];
  while (true) {
    const ssize_t count = ::read(fd.get(), buffer, sizeof buffer);
    if (count < 0) return "<read: " + errno_name(errno) + ">";
    if (count == 0) return data;
    data.append(buffer, static_cast<std::size_t>(count));
  }
}

std::string pread_text(int fd, std::size_t size, std::uint64_t offset) {
  std::string data(size, '\0');
  const ssize_t count = ::pread(fd, data.data(), size, static_cast<off_t>(offset));
  if (count < 0) return "<" + errno_name(errno) + ">";
  data.resize(static_cast<std::size_t>(count));
  return data;
}

long pwrite_text(int fd, const std::string& data, std::uint64_t offset) {
  const ssize_t count = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
  if (count >= 0 && static_cast<std::size_t>(count) != data.size()) {
    errno = EIO;  // a short write counts as a failure here
    return -1;
  }
  return static_cast<long>(count);
}

long write_text(int fd, const std::string& data) {
  const ssize_t count = ::write(fd, data.data(), data.size());
  if (count >= 0 && static_cast<std::size_t>(count) != data.size()) {
    errno = EIO;
    return -1;
  }
  return static_cast<long>(count);
}

std::string octal(unsigned value) {
  char text[16];
  std::snprintf(text, sizeof text, "%04o", value);
  return text;
}

char type_letter(mode_t mode) {
  if (S_ISREG(mode)) return 'f';
  if (S_ISDIR(mode)) return 'd';
  if (S_ISLNK(mode)) return 'l';
  return '?';
}

// Type, permissions and (for files) size, from lstat or stat.
std::string stat_summary(const fs::path& path, bool follow = false) {
  struct stat st {};
  const int result = follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
  if (result != 0) return "<" + errno_name(errno) + ">";
  std::string text = std::string(1, type_letter(st.st_mode)) + " " + octal(st.st_mode & 07777);
  if (!S_ISDIR(st.st_mode)) text += " size " + std::to_string(st.st_size);
  return text;
}

std::string times_of(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return "<" + errno_name(errno) + ">";
  return "atime " + std::to_string(st.st_atime) + " mtime " + std::to_string(st.st_mtime);
}

void touch(Outcomes& out, const std::string& label, const Argv& arguments, const fs::path& path) {
  Argv argv = {"/usr/bin/touch"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  argv.push_back(path.string());
  const auto result = run_process(argv);
  out.add(label, result.exited_with(0) ? "ok" : "failed: " + trim(result.err));
}

// A path that converts to what both the C calls and std::filesystem take.
struct CallPath {
  std::string text;
  operator const char*() const { return text.c_str(); }
  operator fs::path() const { return text; }
};

// Every operation the checks compare, on a fresh tree under `base`. `backing`
// is where that tree is stored: base itself for a local directory, the served
// root for a mount (after fsync the data must be there, file still open).
std::vector<std::string> run_file_operations(const fs::path& base, const fs::path& backing) {
  Outcomes out;
  const auto at = [&](const char* name) { return CallPath{(base / name).string()}; };

  // create
  {
    Fd fd(::open(at("created.txt"), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666));
    out.call("create created.txt", fd.get());
    out.call("write to it", write_text(fd.get(), "line 1\n"));
    out.call("close it", fd.close());
  }
  out.call("create created.txt again, O_EXCL",
           Fd(::open(at("created.txt"), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666)).get());
  out.call("create in a missing directory",
           Fd(::open(at("missing/new.txt"), O_CREAT | O_WRONLY | O_CLOEXEC, 0666)).get());
  out.call("create under a file",
           Fd(::open(at("created.txt/new.txt"), O_CREAT | O_WRONLY | O_CLOEXEC, 0666)).get());
  out.add("created.txt", contents(at("created.txt")));
  out.add("stat created.txt", stat_summary(at("created.txt")));

  // write: out of order, over a hole, over earlier data
  {
    Fd fd(::open(at("written.bin"), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0640));
    out.call("create written.bin", fd.get());
    out.call("write 70000 bytes at 0", pwrite_text(fd.get(), std::string(70000, 'A'), 0));
    out.call("write 1000 bytes at 200000", pwrite_text(fd.get(), std::string(1000, 'B'), 200000));
    out.call("overwrite at 60000", pwrite_text(fd.get(), "middle", 60000));
    out.call("close it", fd.close());
  }
  {
    Fd fd(::open(at("written.bin"), O_RDONLY | O_CLOEXEC));
    out.call("open written.bin to read", fd.get());
    out.add("read 10 at 59998", pread_text(fd.get(), 10, 59998));
    out.add("read 4 in the hole", sha256_hex(pread_text(fd.get(), 4, 150000)));
    out.add("read past the end", pread_text(fd.get(), 10, 201000));
  }
  out.add("stat written.bin", stat_summary(at("written.bin")));
  out.add("sha256 written.bin", sha256_hex(contents(at("written.bin"))));

  // append
  {
    Fd fd(::open(at("created.txt"), O_WRONLY | O_APPEND | O_CLOEXEC));
    out.call("open created.txt to append", fd.get());
    out.call("append line 2", write_text(fd.get(), "line 2\n"));
    out.call("append line 3", write_text(fd.get(), "line 3\n"));
  }
  {
    Fd fd(::open(at("appended.txt"), O_CREAT | O_RDWR | O_APPEND | O_CLOEXEC, 0644));
    out.call("create appended.txt, O_RDWR|O_APPEND", fd.get());
    out.call("append to it", write_text(fd.get(), "one "));
    out.call("append again", write_text(fd.get(), "two"));
    out.add("read it back", pread_text(fd.get(), 100, 0));
  }
  out.add("created.txt", contents(at("created.txt")));
  out.add("appended.txt", contents(at("appended.txt")));

  // truncate: shorter by path, longer by descriptor, to nothing on open
  out.call("truncate written.bin to 65536", ::truncate(at("written.bin"), 65536));
  out.add("stat written.bin", stat_summary(at("written.bin")));
  {
    Fd fd(::open(at("written.bin"), O_RDWR | O_CLOEXEC));
    out.call("open written.bin", fd.get());
    out.call("ftruncate it to 300000", ::ftruncate(fd.get(), 300000));
    out.call("close it", fd.close());
  }
  out.add("stat written.bin", stat_summary(at("written.bin")));
  out.add("sha256 written.bin", sha256_hex(contents(at("written.bin"))));
  {
    Fd fd(::open(at("appended.txt"), O_WRONLY | O_TRUNC | O_CLOEXEC));
    out.call("open appended.txt with O_TRUNC", fd.get());
    out.call("write to it", write_text(fd.get(), "rewritten\n"));
  }
  out.add("appended.txt", contents(at("appended.txt")));
  out.call("truncate a missing file", ::truncate(at("missing.txt"), 0));

  // mkdir / rmdir
  out.call("mkdir dir 0750", ::mkdir(at("dir"), 0750));
  out.call("mkdir dir again", ::mkdir(at("dir"), 0750));
  out.call("mkdir dir/sub 0700", ::mkdir(at("dir/sub"), 0700));
  out.call("mkdir in a missing directory", ::mkdir(at("missing/sub"), 0755));
  out.add("stat dir", stat_summary(at("dir")));
  out.add("stat dir/sub", stat_summary(at("dir/sub")));
  out.call("rmdir dir, not empty", ::rmdir(at("dir")));
  out.call("rmdir dir/sub", ::rmdir(at("dir/sub")));
  out.call("rmdir dir/sub again", ::rmdir(at("dir/sub")));
  out.call("rmdir a file", ::rmdir(at("created.txt")));
  out.call("mkdir dir/sub again", ::mkdir(at("dir/sub"), 0755));

  // rename, over an existing file and directory
  write_file(at("old.txt"), "old contents\n");
  write_file(at("new.txt"), "new contents\n");
  out.call("rename new.txt over old.txt", ::rename(at("new.txt"), at("old.txt")));
  out.add("old.txt", contents(at("old.txt")));
  out.add("stat new.txt", stat_summary(at("new.txt")));
  out.call("rename a missing file", ::rename(at("new.txt"), at("other.txt")));
  out.call("mkdir moved_from", ::mkdir(at("moved_from"), 0755));
  write_file(at("moved_from/inside.txt"), "inside\n");
  out.call("mkdir moved_to", ::mkdir(at("moved_to"), 0755));
  out.call("rename moved_from over empty moved_to", ::rename(at("moved_from"), at("moved_to")));
  out.add("moved_to/inside.txt", contents(at("moved_to/inside.txt")));
  out.add("stat moved_from", stat_summary(at("moved_from")));
  out.call("rename dir over non-empty moved_to", ::rename(at("dir"), at("moved_to")));
  out.call("rename a file over a directory", ::rename(at("old.txt"), at("moved_to")));
  out.call("rename a file into dir/sub", ::rename(at("old.txt"), at("dir/sub/old.txt")));
  out.add("dir/sub/old.txt", contents(at("dir/sub/old.txt")));

  // hard link
  out.call("link created.txt dir/hard.txt", ::link(at("created.txt"), at("dir/hard.txt")));
  out.add("dir/hard.txt", contents(at("dir/hard.txt")));
  out.add("stat dir/hard.txt", stat_summary(at("dir/hard.txt")));
  out.call("link over an existing name", ::link(at("created.txt"), at("appended.txt")));
  out.call("link a missing file", ::link(at("missing.txt"), at("dir/none.txt")));

  // symbolic link
  out.call("symlink created.txt <- link", ::symlink("created.txt", at("link")));
  out.call("symlink sub/old.txt <- dir/down", ::symlink("sub/old.txt", at("dir/down")));
  out.call("symlink missing.txt <- dangling", ::symlink("missing.txt", at("dangling")));
  out.call("symlink over an existing name", ::symlink("created.txt", at("appended.txt")));
  for (const char* name : {"link", "dir/down", "dangling"}) {
    std::error_code ec;
    const auto target = fs::read_symlink(at(name), ec);
    out.add(std::string("readlink ") + name, ec ? "<error " + ec.message() + ">" : target.string());
    out.add(std::string("lstat ") + name, stat_summary(at(name)).substr(0, 1));
    out.add(std::string("stat ") + name, stat_summary(at(name), true));
    out.add(std::string("read ") + name, contents(at(name)));
  }
  char target[256];
  out.call("readlink a file", ::readlink(at("created.txt"), target, sizeof target));

  // chmod, by path and by descriptor
  out.call("chmod created.txt 0600", ::chmod(at("created.txt"), 0600));
  out.call("chmod written.bin 0755", ::chmod(at("written.bin"), 0755));
  out.call("chmod dir 0700", ::chmod(at("dir"), 0700));
  out.call("chmod a missing file", ::chmod(at("missing.txt"), 0600));
  {
    Fd fd(::open(at("appended.txt"), O_RDONLY | O_CLOEXEC));
    out.call("fchmod appended.txt 0444", ::fchmod(fd.get(), 0444));
  }
  for (const char* name : {"created.txt", "written.bin", "dir", "appended.txt"}) {
    out.add(std::string("stat ") + name, stat_summary(at(name)));
  }

  // fsync: the data is in the backing tree before the file is closed
  {
    const std::string data = std::string(100000, 's') + "synced";
    Fd fd(::open(at("synced.bin"), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644));
    out.call("create synced.bin", fd.get());
    out.call("write 100006 bytes", write_text(fd.get(), data));
    out.call("fsync", ::fsync(fd.get()));
    out.call("fdatasync", ::fdatasync(fd.get()));
    out.add("backing synced.bin equals what was written, before close",
            contents(backing / "synced.bin") == data ? "yes" : "no");
  }

  // unlink
  out.call("unlink appended.txt", ::unlink(at("appended.txt")));
  out.call("unlink it again", ::unlink(at("appended.txt")));
  out.call("unlink a directory", ::unlink(at("dir")));
  out.call("rmdir moved_to", ::rmdir(at("moved_to")));
  out.call("unlink moved_to/inside.txt", ::unlink(at("moved_to/inside.txt")));
  out.call("rmdir moved_to", ::rmdir(at("moved_to")));

  // A sparse file over 4 GiB: a few bytes past 4 GiB, read back, size.
  {
    const std::uint64_t offset = kFourGiB + 4097;
    Fd fd(::open(at("sparse.bin"), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
    out.call("create sparse.bin", fd.get());
    out.call("write at 4 GiB + 4097", pwrite_text(fd.get(), "past four GiB", offset));
    struct stat st {};
    out.call("fstat", ::fstat(fd.get(), &st));
    out.add("size", std::to_string(st.st_size));
    out.add("read back at 4 GiB + 4097", pread_text(fd.get(), 13, offset));
    out.add("read across the 4 GiB boundary",
            sha256_hex(pread_text(fd.get(), 8192, kFourGiB - 4096)));
    out.add("read the tail from 4 GiB + 4100", pread_text(fd.get(), 100, offset + 3));
    out.call("close it", fd.close());
  }
  out.add("stat sparse.bin", stat_summary(at("sparse.bin")));
  out.add("backing sparse.bin from 4 GiB + 4097",
          read_file_from(backing / "sparse.bin", kFourGiB + 4097));

  // utimes, last, so nothing changes the times afterwards
  touch(out, "touch -d 2021-03-04 05:06:07 UTC created.txt", {"-d", "2021-03-04 05:06:07 UTC"},
        at("created.txt"));
  out.add("times created.txt", times_of(at("created.txt")));
  touch(out, "touch -m -d @1234567890 dir/sub", {"-m", "-d", "@1234567890"}, at("dir/sub"));
  const std::string sub_times = times_of(at("dir/sub"));  // its atime is now: not compared
  out.add("mtime dir/sub", sub_times.substr(sub_times.find("mtime")));
  {
    const timespec times[2] = {{1111111111, 0}, {1222222222, 0}};
    out.call("utimensat written.bin", ::utimensat(AT_FDCWD, at("written.bin"), times, 0));
    out.add("times written.bin", times_of(at("written.bin")));
  }
  touch(out, "touch -d 2001-02-03 dir", {"-d", "2001-02-03 00:00:00 UTC"}, at("dir"));
  out.add("times dir", times_of(at("dir")));
  touch(out, "touch a missing file without creating it", {"-c"}, at("none.txt"));
  out.add("stat none.txt", stat_summary(at("none.txt")));
  return out.lines();
}

// Paths whose mtimes the operations set: only those are compared there.
const std::set<std::string> kTimedPaths = {"created.txt", "written.bin", "dir", "dir/sub",
                                           "dir/hard.txt"};

struct SnapshotOptions {
  // Link counts, and which earlier path shares the inode (the mount cannot
  // show those: SFTP v3 has no link count).
  bool links = false;
  // Every entry's mtime, not only kTimedPaths'.
  bool all_mtimes = false;
};

// One line per entry under base: path, type, mode, size (not for
// directories), contents' SHA-256 (of the last 64 KiB for files over 16 MiB)
// or link target, and the mtime as the options say.
std::vector<std::string> snapshot(const fs::path& base, SnapshotOptions options = {}) {
  std::vector<std::string> lines;
  std::map<std::pair<dev_t, ino_t>, std::string> first_path;
  std::vector<fs::path> entries;
  for (const auto& entry : fs::recursive_directory_iterator(base)) entries.push_back(entry.path());
  std::sort(entries.begin(), entries.end());
  for (const auto& path : entries) {
    const std::string relative = path.lexically_relative(base).string();
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      lines.push_back(relative + " <" + errno_name(errno) + ">");
      continue;
    }
    std::string line = relative + " " + type_letter(st.st_mode) + " " + octal(st.st_mode & 07777);
    if (S_ISREG(st.st_mode)) {
      line += " size " + std::to_string(st.st_size);
      line += " sha256 " + (st.st_size > (16 << 20)
                                ? sha256_hex(read_file_from(path, st.st_size - 65536)) + " (tail)"
                                : sha256_hex(contents(path)));
    } else if (S_ISLNK(st.st_mode)) {
      line += " -> " + fs::read_symlink(path).string();
    }
    if (options.all_mtimes || kTimedPaths.count(relative)) {
      line += " mtime " + std::to_string(st.st_mtime);
    }
    if (options.links && !S_ISDIR(st.st_mode)) {
      line += " links " + std::to_string(st.st_nlink);
      const auto [it, inserted] =
          first_path.emplace(std::make_pair(st.st_dev, st.st_ino), relative);
      if (!inserted) line += " same inode as " + it->second;
    }
    lines.push_back(line);
  }
  return lines;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += "  " + line + "\n";
  return text;
}

// Lines of `actual` that differ from `expected`, position by position (both
// come from the same sequence of operations).
std::vector<std::pair<std::string, std::string>> differences(
    const std::vector<std::string>& expected, const std::vector<std::string>& actual) {
  std::vector<std::pair<std::string, std::string>> found;
  const std::size_t count = std::max(expected.size(), actual.size());
  for (std::size_t i = 0; i < count; ++i) {
    const std::string want = i < expected.size() ? expected[i] : "<missing>";
    const std::string got = i < actual.size() ? actual[i] : "<missing>";
    if (want != got) found.emplace_back(want, got);
  }
  return found;
}

std::string limactl_sftp_server(const fs::path& root, const std::string& extra = "") {
  return std::string(LIMACTL_BINARY) + " sftp-server -e -l ERROR" +
         (extra.empty() ? "" : " " + extra) + " --root " + shell_quote({root.string()});
}

// How sshfs reaches our server.
enum class Transport {
  // `limactl sftp-server --root` on sshfs's stdio (reverse-sshfs).
  kStdio,
  // `limactl sshd`'s in-process "subsystem sftp", sshfs starting OpenSSH's
  // ssh itself; the root is then a directory of the whole file system the
  // subsystem serves.
  kLimactlSshd,
};

std::string transport_name(const ::testing::TestParamInfo<Transport>& info) {
  return info.param == Transport::kStdio ? "SftpServerOnStdio" : "LimactlSshdSubsystem";
}

class SftpSshfsTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(SshfsMount::kSshfsPath)) << "sshfs is missing";
    ASSERT_TRUE(fs::exists("/dev/fuse")) << "/dev/fuse is missing: sshfs cannot mount";
    fs::create_directories(root());
    fs::create_directories(local());
  }

  // Mounts our server's root() at mnt/; extra_server_args go to `limactl
  // sftp-server` (the stdio transport only).
  void mount_ours(const std::string& extra_server_args = "") {
    const fs::path work = temp_.path() / "ours";
    fs::create_directories(work);
    mount_.reset();  // a remount: the old mount goes before the new one comes
    if (transport() == Transport::kStdio) {
      mount_ = SshfsMount::over_stdio(limactl_sftp_server(root(), extra_server_args), "/",
                                      temp_.path() / "mnt", work);
    } else {
      ASSERT_TRUE(extra_server_args.empty()) << "limactl sshd's subsystem takes no arguments";
      if (!sshd_) sshd_ = std::make_unique<LimactlSshServer>();
      mount_ = SshfsMount::over_ssh(
          std::string(LimactlSshServer::kHostAlias) + ":" + root().string(), temp_.path() / "mnt",
          work, {"-F", sshd_->client_config_file().string()});
    }
    ASSERT_TRUE(mount_->wait_until_mounted())
        << "sshfs did not mount: " << mount_->log() << (sshd_ ? sshd_->log() : "");
  }
  virtual Transport transport() const { return GetParam(); }
  fs::path mnt() const { return mount_->mount_point(); }
  fs::path root() const { return temp_.path() / "served"; }
  fs::path local() const { return temp_.path() / "local"; }

  TempDir temp_{"limactl-sftp-sshfs"};
  std::unique_ptr<LimactlSshServer> sshd_;
  std::unique_ptr<SshfsMount> mount_;
};

INSTANTIATE_TEST_SUITE_P(Transports, SftpSshfsTest,
                         ::testing::Values(Transport::kStdio, Transport::kLimactlSshd),
                         transport_name);

// Read-only mode is `limactl sftp-server -R`; the sshd subsystem has none.
class SftpSshfsReadOnlyTest : public SftpSshfsTest {
 protected:
  Transport transport() const override { return Transport::kStdio; }
};

TEST_P(SftpSshfsTest, FileOperationsOnTheMountEndAsOnALocalDirectory) {
  ASSERT_TRUE(fs::exists(kOpenSshSftpServer)) << "OpenSSH's sftp-server is missing";
  mount_ours();
  const auto expected = run_file_operations(local(), local());
  const auto ours = run_file_operations(mnt(), root());

  // The reference for what sshfs over SFTP v3 can show at all: the same
  // operations on a mount of OpenSSH's sftp-server.
  const fs::path reference_root = temp_.path() / "reference";
  fs::create_directories(reference_root);
  const fs::path reference_work = temp_.path() / "reference-work";
  fs::create_directories(reference_work);
  // OpenSSH's sftp-server serves the whole file system: sshfs mounts the
  // reference directory by its absolute path, and the marker proves it did.
  write_file(reference_root / "marker", "reference");
  auto openssh = SshfsMount::over_stdio(std::string(kOpenSshSftpServer) + " -e -l ERROR",
                                        reference_root.string(), temp_.path() / "reference-mnt",
                                        reference_work);
  ASSERT_TRUE(openssh->wait_until_mounted()) << openssh->log();
  ASSERT_EQ(contents(openssh->mount_point() / "marker"), "reference");
  ASSERT_EQ(::unlink((openssh->mount_point() / "marker").c_str()), 0) << errno_name(errno);
  const auto reference = run_file_operations(openssh->mount_point(), reference_root);
  openssh->unmount();

  ASSERT_EQ(ours.size(), expected.size()) << "ours:\n"
                                          << joined(ours) << "local:\n"
                                          << joined(expected);
  std::string shared_with_openssh;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (ours[i] == expected[i]) continue;
    if (i < reference.size() && reference[i] == ours[i]) {
      shared_with_openssh += "  local: " + expected[i] + "\n  mount: " + ours[i] + "\n";
      continue;
    }
    ADD_FAILURE() << "operation " << i
                  << " differs from the local directory\n  local:   " << expected[i]
                  << "\n  ours:    " << ours[i]
                  << "\n  OpenSSH: " << (i < reference.size() ? reference[i] : "<missing>");
  }
  if (!shared_with_openssh.empty()) {
    std::cout << "differences from the local directory that OpenSSH's sftp-server's mount "
                 "shows too (SFTP v3 / sshfs):\n"
              << shared_with_openssh;
  }

  // What the mount shows, and what the served root holds, is the local tree.
  // The mount's view is taken on a fresh mount: sshfs and the kernel cache
  // attributes per path, so after chmod or utimes through one name of a
  // hard-linked file that was read through the other, the other name shows
  // the old attributes for a while (with OpenSSH's sftp-server too).
  mount_->unmount();
  mount_ours();
  const auto local_tree = snapshot(local());
  const auto mount_tree = snapshot(mnt());
  EXPECT_EQ(mount_tree, local_tree) << "mount:\n"
                                    << joined(mount_tree) << "local:\n"
                                    << joined(local_tree);
  EXPECT_EQ(snapshot(root(), {.links = true}), snapshot(local(), {.links = true}));
}

TEST_P(SftpSshfsTest, StatvfsOnTheMountIsTheRootsFileSystem) {
  mount_ours();
  struct statvfs on_mount {};
  struct statvfs on_root {};
  ASSERT_EQ(::statvfs(mnt().c_str(), &on_mount), 0) << errno_name(errno);
  ASSERT_EQ(::statvfs(root().c_str(), &on_root), 0) << errno_name(errno);
  EXPECT_EQ(on_mount.f_bsize, on_root.f_bsize);
  EXPECT_EQ(on_mount.f_frsize, on_root.f_frsize);
  EXPECT_EQ(on_mount.f_blocks, on_root.f_blocks);
  EXPECT_EQ(on_mount.f_files, on_root.f_files);
  EXPECT_EQ(on_mount.f_namemax, on_root.f_namemax);
  // The free counts move with everything else writing to this disk between
  // the two calls: equal within 1 GiB and 10,000 inodes.
  const double frsize = static_cast<double>(on_root.f_frsize);
  EXPECT_NEAR(on_mount.f_bfree * frsize, on_root.f_bfree * frsize, 1 << 30);
  EXPECT_NEAR(on_mount.f_bavail * frsize, on_root.f_bavail * frsize, 1 << 30);
  EXPECT_NEAR(static_cast<double>(on_mount.f_ffree), static_cast<double>(on_root.f_ffree), 10000);

  // df shows the same.
  const auto df = [](const fs::path& path) {
    return run_process({"df", "-B1", "--output=size,itotal,avail", path.string()});
  };
  const auto df_mount = df(mnt());
  const auto df_root = df(root());
  ASSERT_TRUE(df_mount.exited_with(0)) << df_mount.describe();
  ASSERT_TRUE(df_root.exited_with(0)) << df_root.describe();
  const auto numbers = [](const std::string& out) {
    const auto lines = split_lines(out);
    std::vector<double> values;
    if (lines.size() != 2) return values;
    std::istringstream row(lines[1]);
    double value = 0;
    while (row >> value) values.push_back(value);
    return values;
  };
  const auto mount_numbers = numbers(df_mount.out);
  const auto root_numbers = numbers(df_root.out);
  ASSERT_EQ(mount_numbers.size(), 3u) << df_mount.out;
  ASSERT_EQ(root_numbers.size(), 3u) << df_root.out;
  EXPECT_EQ(mount_numbers[0], root_numbers[0]) << df_mount.out << df_root.out;
  EXPECT_EQ(mount_numbers[1], root_numbers[1]) << df_mount.out << df_root.out;
  EXPECT_NEAR(mount_numbers[2], root_numbers[2], 1 << 30) << df_mount.out << df_root.out;
}

// Creates `count` small files in `directory` (made here), lists it and reads
// every file back; the outcome lines say how each stage went.
std::vector<std::string> small_files_round_trip(const fs::path& directory, int count) {
  Outcomes out;
  out.call("mkdir", ::mkdir(directory.c_str(), 0755));
  std::map<std::string, std::string> written;
  int failures = 0;
  std::string first_failure;
  for (int i = 0; i < count; ++i) {
    const std::string name = "small-" + std::to_string(i) + ".txt";
    const std::string data = "small file " + std::to_string(i) + "\n" + std::string(i % 200, 'x');
    Fd fd(::open((directory / name).c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
    if (fd.get() < 0 || write_text(fd.get(), data) < 0 || fd.close() != 0) {
      if (failures++ == 0) first_failure = name + ": " + errno_name(errno);
    }
    written.emplace(name, data);
  }
  out.add("create failures", std::to_string(failures) + " " + first_failure);

  std::set<std::string> listed;
  int regular = 0;
  DIR* dir = ::opendir(directory.c_str());
  out.add("opendir", dir != nullptr ? "ok" : errno_name(errno));
  if (dir != nullptr) {
    while (const dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      listed.insert(name);
      if (entry->d_type == DT_REG) ++regular;
    }
    ::closedir(dir);
  }
  std::set<std::string> expected_names;
  for (const auto& [name, data] : written) expected_names.insert(name);
  out.add("listed", std::to_string(listed.size()) + " entries, " + std::to_string(regular) +
                        " regular, " +
                        (listed == expected_names ? "the names written" : "other names"));

  int mismatches = 0;
  std::string first_mismatch;
  for (const auto& [name, data] : written) {
    const std::string read_back = contents(directory / name);
    if (read_back != data && mismatches++ == 0) first_mismatch = name + ": " + read_back;
  }
  out.add("read back, differing from what was written",
          std::to_string(mismatches) + " " + first_mismatch);
  return out.lines();
}

TEST_P(SftpSshfsTest, TenThousandSmallFilesAreCreatedListedAndReadBack) {
  mount_ours();
  const auto expected = small_files_round_trip(local() / "many", 10000);
  const auto started = std::chrono::steady_clock::now();
  const auto ours = small_files_round_trip(mnt() / "many", 10000);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(ours, expected) << "mount:\n" << joined(ours) << "local:\n" << joined(expected);
  std::cout << "10,000 small files on the mount: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  EXPECT_EQ(snapshot(root() / "many", {.links = true, .all_mtimes = true}).size(), 10000u);
  EXPECT_EQ(snapshot(root() / "many", {.links = true}),
            snapshot(local() / "many", {.links = true}));
}

// ls-like listing: each entry's name, d_type, and lstat type, mode, size,
// mtime, owner and link target, sorted by name.
std::vector<std::string> long_listing(const fs::path& directory) {
  std::vector<std::string> lines;
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return {"opendir: " + errno_name(errno)};
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const fs::path path = directory / name;
    struct stat st {};
    std::string line = name + " d_type " + std::to_string(entry->d_type);
    if (::lstat(path.c_str(), &st) != 0) {
      line += " <" + errno_name(errno) + ">";
    } else {
      line += std::string(" ") + type_letter(st.st_mode) + " " + octal(st.st_mode & 07777) +
              " mtime " + std::to_string(st.st_mtime) + " owner " + std::to_string(st.st_uid) +
              ":" + std::to_string(st.st_gid);
      if (S_ISREG(st.st_mode)) line += " size " + std::to_string(st.st_size);
      if (S_ISLNK(st.st_mode)) line += " -> " + fs::read_symlink(path).string();
    }
    lines.push_back(line);
  }
  ::closedir(dir);
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST_P(SftpSshfsTest, ListingOfFiveThousandEntriesMatchesTheRoot) {
  // Made in the root directly: files of many sizes and modes, directories,
  // symbolic links (to files, to directories, dangling), old mtimes.
  const fs::path big = root() / "big";
  fs::create_directories(big);
  for (int i = 0; i < 5000; ++i) {
    const fs::path path = big / ("entry-" + std::to_string(i));
    switch (i % 10) {
      case 0:
        fs::create_directory(path);
        break;
      case 1:
        fs::create_symlink("entry-" + std::to_string(i + 1), path);
        break;
      case 3:
        fs::create_symlink("missing-" + std::to_string(i), path);
        break;
      default:
        write_file(path, std::string(static_cast<std::size_t>(i), 'e'),
                   fs::perms(0600 | ((i % 7) << 3) | (i % 5)));
        break;
    }
    if (i % 10 != 1 && i % 10 != 3) {
      const timespec times[2] = {{1000000000 + i, 0}, {1500000000 + i * 7, 0}};
      ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << errno_name(errno);
    }
  }
  mount_ours();
  const auto on_root = long_listing(big);
  ASSERT_EQ(on_root.size(), 5000u);
  const auto started = std::chrono::steady_clock::now();
  const auto on_mount = long_listing(mnt() / "big");
  const auto took = std::chrono::steady_clock::now() - started;
  std::cout << "listing 5,000 entries with lstat on the mount: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  const auto different = differences(on_root, on_mount);
  EXPECT_TRUE(different.empty()) << different.size() << " entries differ, first: root "
                                 << different.front().first << ", mount "
                                 << different.front().second;
  // ls itself lists the same names.
  const auto ls_mount = run_process({"ls", "-1", "-A", (mnt() / "big").string()});
  const auto ls_root = run_process({"ls", "-1", "-A", big.string()});
  ASSERT_TRUE(ls_mount.exited_with(0)) << ls_mount.describe();
  EXPECT_EQ(count_nonempty_lines(ls_mount.out), 5000u);
  EXPECT_EQ(ls_mount.out, ls_root.out);
}

TEST_F(SftpSshfsReadOnlyTest, ReadOnlyServerRefusesEveryChangeOnTheMount) {
  write_file(root() / "file.txt", "contents\n");
  fs::create_directories(root() / "dir");
  fs::create_directories(root() / "empty");
  write_file(root() / "dir/inner.txt", "inner\n");
  fs::create_symlink("file.txt", root() / "link");
  const auto before = snapshot(root(), {.links = true, .all_mtimes = true});
  mount_ours("-R");

  const auto at = [&](const char* name) { return (mnt() / name).string(); };
  const auto open_result = [](const std::string& path, int flags) {
    Fd fd(::open(path.c_str(), flags | O_CLOEXEC, 0644));
    return fd.get();
  };
  const timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
  const std::vector<std::pair<std::string, std::function<int()>>> changes = {
      {"create new.txt", [&] { return open_result(at("new.txt"), O_CREAT | O_WRONLY); }},
      {"open file.txt to write", [&] { return open_result(at("file.txt"), O_WRONLY); }},
      {"open file.txt read-write", [&] { return open_result(at("file.txt"), O_RDWR); }},
      {"open file.txt to append", [&] { return open_result(at("file.txt"), O_WRONLY | O_APPEND); }},
      {"open file.txt with O_TRUNC",
       [&] { return open_result(at("file.txt"), O_WRONLY | O_TRUNC); }},
      {"truncate file.txt", [&] { return ::truncate(at("file.txt").c_str(), 1); }},
      {"mkdir", [&] { return ::mkdir(at("newdir").c_str(), 0755); }},
      {"rmdir empty", [&] { return ::rmdir(at("empty").c_str()); }},
      {"unlink file.txt", [&] { return ::unlink(at("file.txt").c_str()); }},
      {"unlink link", [&] { return ::unlink(at("link").c_str()); }},
      {"rename file.txt",
       [&] { return ::rename(at("file.txt").c_str(), at("moved.txt").c_str()); }},
      {"rename over dir/inner.txt",
       [&] { return ::rename(at("file.txt").c_str(), at("dir/inner.txt").c_str()); }},
      {"link file.txt", [&] { return ::link(at("file.txt").c_str(), at("hard.txt").c_str()); }},
      {"symlink", [&] { return ::symlink("file.txt", at("link2").c_str()); }},
      {"chmod file.txt", [&] { return ::chmod(at("file.txt").c_str(), 0600); }},
      {"chmod dir", [&] { return ::chmod(at("dir").c_str(), 0700); }},
      {"utimes file.txt", [&] { return ::utimensat(AT_FDCWD, at("file.txt").c_str(), times, 0); }},
      {"utimes dir", [&] { return ::utimensat(AT_FDCWD, at("dir").c_str(), times, 0); }},
  };
  for (const auto& [what, change] : changes) {
    errno = 0;
    const int result = change();
    const int error = errno;
    EXPECT_LT(result, 0) << what << " succeeded on a read-only server";
    EXPECT_TRUE(error == EACCES || error == EPERM) << what << ": " << errno_name(error);
  }
  // touch, the tool, fails too.
  const auto touched = run_process({"touch", at("file.txt")});
  EXPECT_FALSE(touched.exited_with(0)) << touched.describe();
  EXPECT_TRUE(contains_ignoring_case(touched.err, "permission denied")) << touched.describe();

  // Reading still works, and nothing changed.
  EXPECT_EQ(contents(at("file.txt")), "contents\n");
  EXPECT_EQ(contents(at("link")), "contents\n");
  EXPECT_EQ(contents(at("dir/inner.txt")), "inner\n");
  EXPECT_EQ(snapshot(mnt()), snapshot(root()));
  EXPECT_EQ(snapshot(root(), {.links = true, .all_mtimes = true}), before);
}

}  // namespace
