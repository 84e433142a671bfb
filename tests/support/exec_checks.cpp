#include "support/exec_checks.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace testing_support {

namespace {
// Dropbear's 24 KiB window makes it the slowest peer: allow ~1 MiB/s.
std::chrono::milliseconds volume_timeout(std::uintmax_t bytes) {
  return std::chrono::seconds(60 + static_cast<long>(bytes >> 20));
}
}  // namespace

void check_stdout_stderr_and_exit_status(const SshServer& server, const SshCall& call) {
  auto result = run_ssh(server, "echo out; echo err >&2; exit 3", call);
  EXPECT_TRUE(result.exited_with(3)) << server.name() << ": " << result.describe() << "\n"
                                     << server.log();
  EXPECT_EQ(result.out, "out\n") << server.name();
  EXPECT_EQ(result.err, "err\n") << server.name();
}

void check_exit_statuses(const SshServer& server, std::initializer_list<int> statuses,
                         const SshCall& call) {
  for (int status : statuses) {
    auto result = run_ssh(server, "exit " + std::to_string(status), call);
    EXPECT_TRUE(result.exited_with(status))
        << server.name() << ", exit " << status << ": " << result.describe();
  }
}

void check_stdin(const SshServer& server, std::uintmax_t bytes, const SshCall& call) {
  TempDir dir("limactl-stdin");
  auto input = dir.path() / "input";
  auto expected = make_random_file(input, bytes, bytes);
  RunOptions run;
  run.stdin_file = input;
  run.timeout = volume_timeout(bytes);
  auto hashed = run_ssh(server, "sha256sum", call, run);
  EXPECT_TRUE(hashed.exited_with(0)) << server.name() << ": " << hashed.describe() << "\n"
                                     << server.log();
  EXPECT_EQ(hashed.out, expected + "  -\n") << server.name();

  RunOptions nothing;
  nothing.timeout = std::chrono::seconds(30);
  auto counted = run_ssh(server, "wc -c", call, nothing);
  EXPECT_TRUE(counted.exited_with(0)) << server.name() << ": " << counted.describe();
  EXPECT_EQ(trim(counted.out), "0") << server.name();
}

void check_stdout_volume(const SshServer& server, std::uintmax_t bytes, const SshCall& call) {
  TempDir dir("limactl-stdout");
  auto file = dir.path() / "source";
  auto expected = make_random_file(file, bytes, bytes + 1);
  Sha256 received;
  RunOptions run;
  run.timeout = volume_timeout(bytes);
  run.stdout_sink = [&](std::string_view chunk) { received.update(chunk); };
  auto result = run_ssh(server, "cat " + shell_quote({file.string()}), call, run);
  EXPECT_TRUE(result.exited_with(0)) << server.name() << ": " << result.describe() << "\n"
                                     << server.log();
  EXPECT_EQ(received.size(), bytes) << server.name();
  EXPECT_EQ(received.hex(), expected) << server.name();
}

}  // namespace testing_support
