// `limactl scp` against OpenSSH's sshd (Debian 12: OpenSSH 9.2), whose
// remote side is OpenSSH's own `scp -t` / `scp -f` (with -O) or its
// sftp-server (the default, SFTP mode). The server runs as root on this
// machine, so "remote" paths are files in a temporary directory here.
//
// Each mode: a 20 MiB random file up and down (SHA-256 equal, no temporary
// file left), -r -p trees (contents, modes, modification times), a missing
// remote file (scp's message, exit 1). Faults: limactl is killed (SIGKILL)
// in the middle of a copy: nothing is left under the final name (except
// for -O uploads, which the remote scp writes in place, as with OpenSSH's
// scp -O); a --resume run (SFTP mode) then completes with the right SHA-256.
// Also: remote wildcards (both modes pick the same files; no match is an
// error), the progress meter under a pseudo-terminal (one monotonic line per
// file), and -O downloads ended by SIGINT, SIGTERM or a lost connection
// (no temporary file left, the old destination untouched).

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/build_paths.hpp"
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/sshd_fixture.hpp"
#include "support/temp_dir.hpp"

namespace testing_support {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::uintmax_t kFileSize = 20ull * 1024 * 1024;
// Large enough that a copy is still running when it is killed.
constexpr std::uintmax_t kFaultFileSize = 768ull * 1024 * 1024;

enum class Mode { Sftp, Legacy };

std::string mode_name(const ::testing::TestParamInfo<Mode>& info) {
  return info.param == Mode::Sftp ? "Sftp" : "Legacy";
}

class LimactlScp : public ::testing::TestWithParam<Mode> {
 protected:
  LimactlScp() {
    fs::create_directories(local_);
    fs::create_directories(remote_);
  }

  Argv scp_argv(const std::vector<std::string>& arguments, Mode mode) const {
    Argv argv = {LIMACTL_BINARY, "scp",
                 "-F",           "/dev/null",
                 "-P",           std::to_string(server_.port()),
                 "-i",           server_.client_key().private_key.string(),
                 "-o",           "UserKnownHostsFile=" + server_.known_hosts_file().string(),
                 "-o",           "StrictHostKeyChecking=yes",
                 "-o",           "BatchMode=yes"};
    if (mode == Mode::Legacy) argv.push_back("-O");
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return argv;
  }

  ProcessResult scp(const std::vector<std::string>& arguments, Mode mode) const {
    RunOptions options;
    options.timeout = seconds(300);
    return run_process(scp_argv(arguments, mode), options);
  }
  ProcessResult scp(const std::vector<std::string>& arguments) const {
    return scp(arguments, GetParam());
  }

  std::string remote_spec(const fs::path& path) const {
    return server_.user() + "@127.0.0.1:" + path.string();
  }

  // Every file under root whose name is not in `finals`: temporary files.
  static std::vector<std::string> leftovers(const fs::path& root) {
    std::vector<std::string> names;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      const std::string name = entry.path().filename().string();
      if (name.starts_with(".") || name.ends_with(".part") ||
          name.find("partial") != std::string::npos) {
        names.push_back(entry.path().string());
      }
    }
    return names;
  }

  OpenSshServer server_;
  TempDir dir_{"limactl-scp-interop"};
  fs::path local_ = dir_.path() / "local";
  fs::path remote_ = dir_.path() / "remote";
};

TEST_P(LimactlScp, UploadAndDownloadA20MiBFile) {
  const std::string sha = make_random_file(local_ / "random.bin", kFileSize, 6);
  const ProcessResult up = scp({(local_ / "random.bin").string(), remote_spec(remote_) + "/"});
  ASSERT_TRUE(up.exited_with(0)) << up.describe();
  EXPECT_EQ(sha256_file(remote_ / "random.bin"), sha);

  fs::create_directories(local_ / "back");
  const ProcessResult down = scp({remote_spec(remote_ / "random.bin"), (local_ / "back").string()});
  ASSERT_TRUE(down.exited_with(0)) << down.describe();
  EXPECT_EQ(sha256_file(local_ / "back/random.bin"), sha);

  // To an explicit new name, both ways.
  const ProcessResult renamed_up =
      scp({(local_ / "random.bin").string(), remote_spec(remote_ / "copy.bin")});
  ASSERT_TRUE(renamed_up.exited_with(0)) << renamed_up.describe();
  EXPECT_EQ(sha256_file(remote_ / "copy.bin"), sha);
  const ProcessResult renamed_down =
      scp({remote_spec(remote_ / "copy.bin"), (local_ / "copy.bin").string()});
  ASSERT_TRUE(renamed_down.exited_with(0)) << renamed_down.describe();
  EXPECT_EQ(sha256_file(local_ / "copy.bin"), sha);

  EXPECT_TRUE(leftovers(local_).empty());
  EXPECT_TRUE(leftovers(remote_).empty());
  // Not a terminal: no progress meter on stderr.
  EXPECT_EQ(up.err, "");
  EXPECT_EQ(down.err, "");
}

// The progress meter as a terminal shows it: limactl runs under script(1)
// (a pseudo-terminal), each redraw is one line here.
struct MeterLine {
  std::string name;
  int percent = 0;
  bool finished = false;  // the file's last line: elapsed time instead of "ETA"
};

std::vector<MeterLine> meter_lines(const std::string& output) {
  std::vector<MeterLine> lines;
  std::string current;
  auto take = [&] {
    // "NAME   42%   12MB  3.4MB/s 00:05 ETA" or "NAME  100%   20MB  ... 00:01    ".
    const auto percent_sign = current.find("% ");
    if (percent_sign != std::string::npos && percent_sign >= 3) {
      MeterLine line;
      std::istringstream words(current.substr(0, percent_sign));
      std::string word;
      std::vector<std::string> parts;
      while (words >> word) parts.push_back(word);
      if (parts.size() >= 2) {
        line.name = parts.front();
        line.percent = std::stoi(parts.back());
        std::string rest = current.substr(percent_sign);
        while (!rest.empty() && rest.back() == ' ') rest.pop_back();
        line.finished = !rest.ends_with("ETA");
        lines.push_back(line);
      }
    }
    current.clear();
  };
  for (const char c : output) {
    if (c == '\r' || c == '\n') {
      take();
    } else {
      current.push_back(c);
    }
  }
  take();
  return lines;
}

// Per file: percentages never go back, the one finished line is the file's
// last and says 100%, and no file is drawn twice.
void expect_one_monotonic_meter_per_file(const std::vector<MeterLine>& lines,
                                         const std::vector<std::string>& names) {
  std::vector<std::string> order;
  for (const MeterLine& line : lines) {
    if (order.empty() || order.back() != line.name) order.push_back(line.name);
  }
  std::vector<std::string> sorted_order = order;
  std::sort(sorted_order.begin(), sorted_order.end());
  EXPECT_EQ(sorted_order, names) << "each file on the meter once, in one stretch";
  for (const std::string& name : names) {
    int previous = 0;
    std::size_t finished_lines = 0;
    bool seen_finished = false;
    for (const MeterLine& line : lines) {
      if (line.name != name) continue;
      EXPECT_FALSE(seen_finished) << name << ": drawn again after its final line";
      EXPECT_GE(line.percent, previous) << name;
      previous = line.percent;
      if (line.finished) {
        ++finished_lines;
        seen_finished = true;
        EXPECT_EQ(line.percent, 100) << name;
      }
    }
    EXPECT_EQ(finished_lines, 1u) << name;
  }
}

TEST_P(LimactlScp, ProgressMeterOnATerminalIsOneMonotonicLinePerFile) {
  (void)make_random_file(local_ / "first.bin", kFileSize, 31);
  (void)make_random_file(local_ / "second.bin", kFileSize + 4321, 32);
  auto under_terminal = [&](const std::vector<std::string>& arguments) {
    RunOptions options;
    options.timeout = seconds(300);
    return run_process(
        {"script", "-qec", shell_quote(scp_argv(arguments, GetParam())), "/dev/null"}, options);
  };
  const ProcessResult up = under_terminal(
      {(local_ / "first.bin").string(), (local_ / "second.bin").string(), remote_spec(remote_)});
  ASSERT_TRUE(up.exited_with(0)) << up.describe();
  expect_one_monotonic_meter_per_file(meter_lines(up.out), {"first.bin", "second.bin"});

  fs::create_directories(local_ / "back");
  const ProcessResult down =
      under_terminal({remote_spec(remote_ / "first.bin"), remote_spec(remote_ / "second.bin"),
                      (local_ / "back").string()});
  ASSERT_TRUE(down.exited_with(0)) << down.describe();
  expect_one_monotonic_meter_per_file(meter_lines(down.out), {"first.bin", "second.bin"});
}

void make_tree(const fs::path& root) {
  fs::create_directories(root / "sub/deeper");
  fs::create_directories(root / "empty");
  write_file(root / "top.txt", "top\n", fs::perms(0640));
  write_file(root / "sub/run.sh", "#!/bin/sh\necho hi\n", fs::perms(0755));
  (void)make_random_file(root / "sub/deeper/data.bin", 3 * 1024 * 1024 + 17, 9);
  fs::permissions(root / "sub/deeper/data.bin", fs::perms(0600));
  fs::permissions(root / "sub", fs::perms(0750));
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(24 * 100);
  for (const char* name : {"top.txt", "sub/run.sh", "sub/deeper/data.bin"}) {
    fs::last_write_time(root / name, old);
  }
}

void expect_same_tree(const fs::path& expected, const fs::path& actual) {
  std::vector<std::string> expected_names;
  std::vector<std::string> actual_names;
  for (const auto& entry : fs::recursive_directory_iterator(expected)) {
    expected_names.push_back(fs::relative(entry.path(), expected).string());
  }
  for (const auto& entry : fs::recursive_directory_iterator(actual)) {
    actual_names.push_back(fs::relative(entry.path(), actual).string());
  }
  std::sort(expected_names.begin(), expected_names.end());
  std::sort(actual_names.begin(), actual_names.end());
  ASSERT_EQ(actual_names, expected_names);
  for (const std::string& name : expected_names) {
    const fs::path from = expected / name;
    const fs::path to = actual / name;
    EXPECT_EQ(fs::status(to).permissions(), fs::status(from).permissions()) << name;
    if (!fs::is_regular_file(from)) continue;
    EXPECT_EQ(sha256_file(to), sha256_file(from)) << name;
    EXPECT_EQ(std::chrono::floor<seconds>(fs::last_write_time(to).time_since_epoch()),
              std::chrono::floor<seconds>(fs::last_write_time(from).time_since_epoch()))
        << name;
  }
}

TEST_P(LimactlScp, RecursiveTreesWithPreservedModesAndTimes) {
  make_tree(local_ / "tree");
  const ProcessResult up = scp({"-r", "-p", (local_ / "tree").string(), remote_spec(remote_)});
  ASSERT_TRUE(up.exited_with(0)) << up.describe();
  expect_same_tree(local_ / "tree", remote_ / "tree");

  const ProcessResult down =
      scp({"-r", "-p", remote_spec(remote_ / "tree"), (local_ / "back").string()});
  ASSERT_TRUE(down.exited_with(0)) << down.describe();
  // "back" did not exist: the tree's copy is named "back".
  expect_same_tree(local_ / "tree", local_ / "back");
  EXPECT_TRUE(leftovers(local_ / "back").empty());
}

TEST_P(LimactlScp, MissingRemoteFileIsAnErrorWithScpsMessage) {
  const fs::path missing = remote_ / "no-such-file";
  const ProcessResult down = scp({remote_spec(missing), local_.string()});
  EXPECT_TRUE(down.exited_with(1)) << down.describe();
  EXPECT_NE(down.err.find("scp: " + missing.string() + ": No such file"), std::string::npos)
      << down.describe();
  EXPECT_TRUE(fs::is_empty(local_));

  // Uploading into a directory that does not exist.
  write_file(local_ / "a.txt", "a");
  const ProcessResult up =
      scp({(local_ / "a.txt").string(), remote_spec(remote_ / "no/such/dir/a.txt")});
  EXPECT_TRUE(up.exited_with(1)) << up.describe();
  EXPECT_NE(up.err.find("No such file"), std::string::npos) << up.describe();
}

TEST_P(LimactlScp, UsageErrors) {
  const ProcessResult both_remote =
      scp({remote_spec(remote_ / "a"), "other@127.0.0.1:" + remote_.string()});
  EXPECT_TRUE(both_remote.exited_with(1)) << both_remote.describe();
  EXPECT_NE(both_remote.err.find("two remote hosts are not supported"), std::string::npos);
  const ProcessResult both_local = scp({"./a:b/c", (local_ / "x").string()});
  EXPECT_TRUE(both_local.exited_with(1)) << both_local.describe();
  EXPECT_NE(both_local.err.find("no remote path given"), std::string::npos);
}

// Starts a copy, waits until `partial` holds some bytes, kills limactl.
void kill_mid_copy(const Argv& argv, const std::function<std::uintmax_t()>& copied_so_far,
                   const fs::path& log) {
  SpawnOptions spawn;
  spawn.output_file = log;
  BackgroundProcess copy(argv, spawn);
  const auto deadline = std::chrono::steady_clock::now() + seconds(120);
  while (copied_so_far() < 8 * 1024 * 1024) {
    ASSERT_TRUE(copy.running()) << "the copy ended before it could be killed: "
                                << copy.status_text() << "\n"
                                << read_file(log);
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << read_file(log);
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_EQ(::kill(copy.pid(), SIGKILL), 0);
  for (int i = 0; i < 1000 && copy.running(); ++i) std::this_thread::sleep_for(milliseconds(5));
  EXPECT_TRUE(copy.status_text().starts_with("killed by signal 9")) << copy.status_text();
}

std::string read_file_or_empty(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::uintmax_t size_of_partials(const fs::path& directory) {
  std::uintmax_t total = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".")) total += fs::file_size(entry.path(), error);
  }
  return total;
}

TEST_P(LimactlScp, KilledDownloadLeavesNoFileUnderTheFinalName) {
  const std::string sha = make_random_file(remote_ / "big.bin", kFaultFileSize, 21);
  const Argv argv = scp_argv({remote_spec(remote_ / "big.bin"), local_.string()}, GetParam());
  kill_mid_copy(
      argv, [&] { return size_of_partials(local_); }, dir_.path() / "copy.log");
  EXPECT_FALSE(fs::exists(local_ / "big.bin"));
  EXPECT_GT(size_of_partials(local_), 0u);  // the partial copy, under its temporary name

  if (GetParam() == Mode::Legacy) {
    // scp -O has no resume: a new run starts over and still lands in one piece.
    const ProcessResult again = scp({remote_spec(remote_ / "big.bin"), local_.string()});
    ASSERT_TRUE(again.exited_with(0)) << again.describe();
  } else {
    const ProcessResult resumed =
        scp({"--resume", remote_spec(remote_ / "big.bin"), local_.string()});
    ASSERT_TRUE(resumed.exited_with(0)) << resumed.describe();
  }
  EXPECT_EQ(sha256_file(local_ / "big.bin"), sha);
  if (GetParam() == Mode::Sftp) {
    EXPECT_TRUE(leftovers(local_).empty());
  }
}

TEST_P(LimactlScp, KilledUploadLeavesNoFileUnderTheFinalNameExceptWithO) {
  const std::string sha = make_random_file(local_ / "big.bin", kFaultFileSize, 22);
  const Argv argv = scp_argv({(local_ / "big.bin").string(), remote_spec(remote_)}, GetParam());
  if (GetParam() == Mode::Legacy) {
    // The remote scp -t writes in place (as with OpenSSH's scp -O): the
    // final name holds what arrived. A new run replaces it whole.
    kill_mid_copy(
        argv,
        [&] {
          std::error_code error;
          const auto size = fs::file_size(remote_ / "big.bin", error);
          return error ? 0 : size;
        },
        dir_.path() / "copy.log");
    EXPECT_LT(fs::file_size(remote_ / "big.bin"), kFaultFileSize);
    const ProcessResult again = scp({(local_ / "big.bin").string(), remote_spec(remote_)});
    ASSERT_TRUE(again.exited_with(0)) << again.describe();
  } else {
    kill_mid_copy(
        argv, [&] { return size_of_partials(remote_); }, dir_.path() / "copy.log");
    EXPECT_FALSE(fs::exists(remote_ / "big.bin"));
    EXPECT_GT(size_of_partials(remote_), 0u);
    const ProcessResult resumed =
        scp({"--resume", (local_ / "big.bin").string(), remote_spec(remote_)});
    ASSERT_TRUE(resumed.exited_with(0)) << resumed.describe();
    EXPECT_TRUE(leftovers(remote_).empty());
  }
  EXPECT_EQ(sha256_file(remote_ / "big.bin"), sha);
}

// Remote wildcards: SFTP mode expands them through READDIR (as OpenSSH's
// scp does), -O leaves them to the remote shell; both must pick the same
// files. Hidden names are only matched by a pattern starting with '.'.
TEST_P(LimactlScp, RemoteWildcardsAreExpandedLikeOpenSsh) {
  fs::create_directories(remote_ / "dir/sub");
  for (const char* name : {"a.txt", "b.txt", "c.log", "ab.txt", ".hidden.txt", "sub/d.txt"}) {
    write_file(remote_ / "dir" / name, "content of " + fs::path(name).filename().string());
  }
  auto fetched = [&](const std::string& pattern) {
    const fs::path into = local_ / ("into-" + std::to_string(std::hash<std::string>{}(pattern)));
    fs::create_directories(into);
    const ProcessResult copy = scp({remote_spec(remote_) + "/" + pattern, into.string()});
    EXPECT_TRUE(copy.exited_with(0)) << pattern << "\n" << copy.describe();
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(into)) {
      const std::string name = entry.path().filename().string();
      EXPECT_EQ(read_file(entry.path()), "content of " + name) << name;
      names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(fetched("dir/*.txt"), (Names{"a.txt", "ab.txt", "b.txt"}));
  EXPECT_EQ(fetched("dir/?.txt"), (Names{"a.txt", "b.txt"}));
  EXPECT_EQ(fetched("dir/[a-b].*"), (Names{"a.txt", "b.txt"}));
  EXPECT_EQ(fetched("dir/[!as]*"), (Names{"b.txt", "c.log"}));
  EXPECT_EQ(fetched("dir/.h*"), (Names{".hidden.txt"}));
  // A wildcard in a directory component, a literal last one.
  EXPECT_EQ(fetched("d?r/s*/d.txt"), (Names{"d.txt"}));
  // Several patterns, one of them plain.
  fs::create_directories(local_ / "several");
  const ProcessResult several =
      scp({remote_spec(remote_ / "dir/*.log"), remote_spec(remote_ / "dir/a.txt"),
           (local_ / "several").string()});
  ASSERT_TRUE(several.exited_with(0)) << several.describe();
  EXPECT_TRUE(fs::exists(local_ / "several/c.log"));
  EXPECT_TRUE(fs::exists(local_ / "several/a.txt"));
}

TEST_P(LimactlScp, RemoteWildcardWithoutMatchIsAnError) {
  fs::create_directories(remote_ / "dir");
  write_file(remote_ / "dir/a.txt", "a");
  fs::create_directories(local_ / "into");
  const fs::path pattern = remote_ / "dir/*.none";
  const ProcessResult copy = scp({remote_spec(pattern), (local_ / "into").string()});
  EXPECT_TRUE(copy.exited_with(1)) << copy.describe();
  EXPECT_NE(copy.err.find("scp: " + pattern.string() + ": No such file or directory"),
            std::string::npos)
      << copy.describe();
  EXPECT_TRUE(fs::is_empty(local_ / "into"));
}

INSTANTIATE_TEST_SUITE_P(Modes, LimactlScp, ::testing::Values(Mode::Sftp, Mode::Legacy), mode_name);

// scp -O downloads interrupted by a signal or a lost connection: as with
// OpenSSH, the temporary file goes away and a file already under the final
// name keeps its old contents.
class LimactlScpLegacyInterrupted : public LimactlScp {
 protected:
  // Starts the download of remote big.bin over local big.bin (which holds
  // "old"), waits for the temporary file to hold a few MiB, calls
  // `interrupt` with limactl's pid, and returns how limactl ended.
  std::string interrupted_download(const std::function<void(pid_t)>& interrupt) {
    (void)make_random_file(remote_ / "big.bin", kFaultFileSize, 23);
    write_file(local_ / "big.bin", "old");
    const Argv argv = scp_argv({remote_spec(remote_ / "big.bin"), local_.string()}, Mode::Legacy);
    SpawnOptions spawn;
    const fs::path log = dir_.path() / "copy.log";
    spawn.output_file = log;
    BackgroundProcess copy(argv, spawn);
    const auto deadline = std::chrono::steady_clock::now() + seconds(120);
    while (size_of_partials(local_) < 8 * 1024 * 1024) {
      if (!copy.running()) {
        ADD_FAILURE() << "the copy ended before it was interrupted: " << copy.status_text() << "\n"
                      << read_file(log);
        return copy.status_text();
      }
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "no progress: " << read_file(log);
        return copy.status_text();
      }
      std::this_thread::sleep_for(milliseconds(5));
    }
    interrupt(copy.pid());
    for (int i = 0; i < 2000 && copy.running(); ++i) std::this_thread::sleep_for(milliseconds(5));
    return copy.status_text();
  }

  void expect_clean_local_directory() {
    EXPECT_EQ(read_file(local_ / "big.bin"), "old");
    EXPECT_TRUE(leftovers(local_).empty()) << leftovers(local_).front();
  }
};

TEST_F(LimactlScpLegacyInterrupted, SigintRemovesTheTemporaryFile) {
  const std::string ended =
      interrupted_download([](pid_t pid) { ASSERT_EQ(::kill(pid, SIGINT), 0); });
  EXPECT_EQ(ended, "exited with status 1");
  expect_clean_local_directory();
}

TEST_F(LimactlScpLegacyInterrupted, SigtermRemovesTheTemporaryFile) {
  const std::string ended =
      interrupted_download([](pid_t pid) { ASSERT_EQ(::kill(pid, SIGTERM), 0); });
  EXPECT_EQ(ended, "exited with status 1");
  expect_clean_local_directory();
}

// The parent of the remote `scp -f` is sshd's process for the connection:
// killing it drops the TCP connection under limactl.
TEST_F(LimactlScpLegacyInterrupted, LostConnectionRemovesTheTemporaryFile) {
  const std::string remote_path = (remote_ / "big.bin").string();
  const std::string ended = interrupted_download([&](pid_t) {
    std::optional<pid_t> connection;
    for (const auto& entry : fs::directory_iterator("/proc")) {
      const std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::string command = read_file_or_empty(entry.path() / "cmdline");
      std::replace(command.begin(), command.end(), '\0', ' ');
      if (command.starts_with("scp ") && command.find(" -f ") != std::string::npos &&
          command.find(remote_path) != std::string::npos) {
        const std::string stat = read_file_or_empty(entry.path() / "stat");
        // "pid (comm) state ppid ...": comm may hold spaces, so after the ')'.
        std::istringstream fields(stat.substr(stat.rfind(')') + 2));
        char state = 0;
        pid_t parent = 0;
        fields >> state >> parent;
        connection = parent;
      }
    }
    ASSERT_TRUE(connection.has_value()) << "no remote scp -f for " << remote_path;
    ASSERT_EQ(::kill(*connection, SIGKILL), 0);
  });
  EXPECT_EQ(ended, "exited with status 1");
  expect_clean_local_directory();
}

}  // namespace
}  // namespace testing_support
