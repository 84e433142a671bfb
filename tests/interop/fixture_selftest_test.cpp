// Permanent checks that the test infrastructure itself works: the process
// runner, and each server fixture driven by the REAL OpenSSH client
// (/usr/bin/ssh), independent of limactl. If these fail, the other interop
// tests say nothing about limactl.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "support/asyncssh_fixture.hpp"
#include "support/dropbear_fixture.hpp"
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/ssh_client.hpp"
#include "support/sshd_fixture.hpp"
#include "support/temp_dir.hpp"

namespace testing_support {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

SshCall with_openssh(SshCall call = {}) {
  call.client = Argv{kOpenSshClientPath};
  return call;
}

TEST(ProcessRunner, CapturesStdoutStderrAndExitStatus) {
  auto result = run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_TRUE(result.exited_with(3)) << result.describe();
  EXPECT_EQ(result.out, "out\n");
  EXPECT_EQ(result.err, "err\n");
}

TEST(ProcessRunner, FeedsStdinFromMemoryAndFromAFile) {
  std::string data(3 * 1024 * 1024 + 17, 'x');
  RunOptions options;
  options.stdin_data = data;
  auto piped = run_process({"/bin/cat"}, options);
  ASSERT_TRUE(piped.exited_with(0)) << piped.describe();
  EXPECT_EQ(piped.out.size(), data.size());
  EXPECT_EQ(piped.out, data);

  TempDir dir;
  auto expected = make_random_file(dir.path() / "input", 5 * 1024 * 1024 + 3, 7);
  RunOptions from_file;
  from_file.stdin_file = dir.path() / "input";
  Sha256 hash;
  from_file.stdout_sink = [&](std::string_view chunk) { hash.update(chunk); };
  auto streamed = run_process({"/bin/cat"}, from_file);
  ASSERT_TRUE(streamed.exited_with(0)) << streamed.describe();
  EXPECT_EQ(hash.size(), 5u * 1024 * 1024 + 3);
  EXPECT_EQ(hash.hex(), expected);
  EXPECT_EQ(sha256_file(dir.path() / "input"), expected);
}

TEST(ProcessRunner, EmptyStdinIsEndOfFile) {
  auto result = run_process({"/bin/cat"});
  EXPECT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, "");
}

TEST(ProcessRunner, KillsTheWholeProcessGroupOnTimeout) {
  RunOptions options;
  options.timeout = milliseconds(300);
  auto result = run_process({"/bin/sh", "-c", "sleep 30 & sleep 30"}, options);
  EXPECT_TRUE(result.timed_out);
  EXPECT_FALSE(result.exited_with(0));
  EXPECT_LT(result.elapsed, seconds(5)) << result.describe();
}

TEST(ProcessRunner, ReportsASignalAndAMissingProgram) {
  auto result = run_process({"/bin/sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(result.signal, 15) << result.describe();
  EXPECT_THROW(run_process({"/nonexistent/program"}), std::runtime_error);
}

TEST(ProcessRunner, FreePortIsFreeAndQuoteIsShellSafe) {
  auto port = free_loopback_port();
  EXPECT_NE(port, 0);
  EXPECT_FALSE(port_accepts(port));
  auto quoted = shell_quote({"printf", "%s|", "a b", "it's", ""});
  auto result = run_process({"/bin/sh", "-c", quoted});
  EXPECT_EQ(result.out, "a b|it's||") << quoted;
}

TEST(OpenSshFixture, RealSshRunsACommand) {
  OpenSshServer server;
  auto result = run_ssh(server, "echo out; echo err >&2; exit 3", with_openssh());
  EXPECT_TRUE(result.exited_with(3)) << result.describe() << "\n" << server.log();
  EXPECT_EQ(result.out, "out\n");
  EXPECT_EQ(result.err, "err\n");
  EXPECT_NE(server.log().find("Accepted publickey for root"), std::string::npos);
}

TEST(OpenSshFixture, ServesEveryHostKeyTypeListedInKnownHosts) {
  OpenSshServerOptions options;
  options.host_keys = all_key_types();
  OpenSshServer server(options);
  EXPECT_EQ(count_nonempty_lines(read_file(server.known_hosts_file())), all_key_types().size());
  for (KeyType type : all_key_types()) {
    for (const auto& algorithm : key_signature_algorithms(type)) {
      SCOPED_TRACE(algorithm);
      auto before = server.log_size();
      auto result = run_ssh(server, "echo ok",
                            with_openssh({.options = {"-o", "HostKeyAlgorithms=" + algorithm}}));
      EXPECT_TRUE(result.exited_with(0)) << result.describe();
      EXPECT_NE(server.log_since(before).find("kex: host key algorithm: " + algorithm),
                std::string::npos);
    }
  }
}

TEST(OpenSshFixture, AppliesExtraConfigLines) {
  OpenSshServerOptions options;
  options.extra_config = {"Ciphers aes128-ctr", "MACs hmac-sha2-256",
                          "KexAlgorithms curve25519-sha256"};
  OpenSshServer server(options);
  auto result = run_ssh(server, "echo ok", with_openssh());
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  auto log = server.log();
  EXPECT_NE(log.find("kex: algorithm: curve25519-sha256"), std::string::npos) << log;
  EXPECT_NE(log.find("kex: client->server cipher: aes128-ctr MAC: hmac-sha2-256 "),
            std::string::npos);
  // A client that insists on something else is refused.
  auto refused =
      run_ssh(server, "echo ok", with_openssh({.options = {"-o", "Ciphers=aes256-ctr"}}));
  EXPECT_TRUE(refused.exited_with(255)) << refused.describe();
}

TEST(OpenSshFixture, AcceptsEachClientKeyType) {
  for (KeyType type : all_key_types()) {
    SCOPED_TRACE(key_type_name(type));
    OpenSshServerOptions options;
    options.client_key = type;
    OpenSshServer server(options);
    auto result = run_ssh(server, "echo ok", with_openssh());
    EXPECT_TRUE(result.exited_with(0)) << result.describe();
  }
}

TEST(OpenSshFixture, BadConfigFailsLoudlyWithTheLog) {
  OpenSshServerOptions options;
  options.extra_config = {"NoSuchKeyword yes"};
  try {
    OpenSshServer server(options);
    FAIL() << "sshd started with a bad config";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("NoSuchKeyword"), std::string::npos) << error.what();
  }
}

TEST(OpenSshFixture, TwoServersRunSideBySideAndStopFreesThePort) {
  std::uint16_t first_port = 0;
  {
    OpenSshServer first;
    OpenSshServer second;
    first_port = first.port();
    EXPECT_NE(first.port(), second.port());
    EXPECT_TRUE(run_ssh(second, "true", with_openssh()).exited_with(0));
    EXPECT_TRUE(port_accepts(first_port));
  }
  EXPECT_FALSE(port_accepts(first_port));
}

TEST(DropbearFixture, RealSshRunsACommandAndRootsHomeIsUntouched) {
  auto real_keys = std::filesystem::path("/root/.ssh/authorized_keys");
  bool existed = std::filesystem::exists(real_keys);
  std::string before = existed ? read_file(real_keys) : "";
  {
    DropbearServer server;
    EXPECT_NE(server.real_root_home(), server.home_directory());
    auto result = run_ssh(server, "echo out; echo err >&2; echo $HOME; exit 3", with_openssh());
    EXPECT_TRUE(result.exited_with(3)) << result.describe() << "\n" << server.log();
    EXPECT_EQ(result.out, "out\n" + server.real_root_home().string() + "\n");
    EXPECT_EQ(result.err, "err\n");
    RunOptions stdin_options;
    stdin_options.stdin_data = std::string(1 << 20, 'd');
    auto piped = run_ssh(server, "sha256sum", with_openssh(), stdin_options);
    EXPECT_TRUE(piped.exited_with(0)) << piped.describe();
    EXPECT_EQ(piped.out, sha256_hex(stdin_options.stdin_data) + "  -\n");
  }
  EXPECT_EQ(std::filesystem::exists(real_keys), existed);
  if (existed) {
    EXPECT_EQ(read_file(real_keys), before);
  }
}

TEST(AsyncSshFixture, RealSshRunsACommand) {
  AsyncSshServer server;
  auto result = run_ssh(server, "echo out; echo err >&2; exit 3", with_openssh());
  EXPECT_TRUE(result.exited_with(3)) << result.describe() << "\n" << server.log();
  EXPECT_EQ(result.out, "out\n");
  EXPECT_EQ(result.err, "err\n");
  RunOptions stdin_options;
  stdin_options.stdin_data = std::string(1 << 20, 'a');
  auto piped = run_ssh(server, "sha256sum", with_openssh(), stdin_options);
  EXPECT_TRUE(piped.exited_with(0)) << piped.describe();
  EXPECT_EQ(piped.out, sha256_hex(stdin_options.stdin_data) + "  -\n");
}

}  // namespace
}  // namespace testing_support
