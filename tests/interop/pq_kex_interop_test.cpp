// The post-quantum hybrid key exchanges against OpenSSH, both directions:
//   mlkem768x25519-sha256               OpenSSH 10 (Debian 13, run with chroot:
//                                       support/openssh10_fixture.hpp); the
//                                       host's OpenSSH 9.2 does not have it
//   sntrup761x25519-sha512@openssh.com  the host's OpenSSH 9.2
//   sntrup761x25519-sha512              (the name without @) OpenSSH 10, and
//                                       Debian 12's 9.2, which has it first
//                                       in its defaults
// Each direction checks that the peer's debug output names the exchange
// ("kex: algorithm: NAME", which OpenSSH logs for every key exchange), that a
// command runs, that 16 MiB of stdin reach sha256sum intact (so the keys
// derived from the shared secret protect real traffic), and that rekeying
// with the same exchange keeps the session going.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "support/exec_checks.hpp"
#include "support/files.hpp"
#include "support/limactl_sshd_fixture.hpp"
#include "support/openssh10_fixture.hpp"
#include "support/process.hpp"
#include "support/ssh_client.hpp"
#include "support/sshd_fixture.hpp"
#include "support/temp_dir.hpp"

namespace testing_support {
namespace {

const std::string kMlkem = "mlkem768x25519-sha256";
const std::string kSntrup = "sntrup761x25519-sha512@openssh.com";
const std::string kSntrupWithoutAt = "sntrup761x25519-sha512";

constexpr std::uintmax_t kStdinBytes = 16ull * 1024 * 1024;
// With a 1 MiB rekey limit, 8 MiB through are several key exchanges.
constexpr std::uintmax_t kRekeyBytes = 8ull * 1024 * 1024;
constexpr const char* kRekeyLimit = "1M";

Argv kex_option(const std::string& kex) {
  return {"-o", "KexAlgorithms=" + kex};
}

// The exchange named by each "kex: algorithm: NAME" line of OpenSSH's debug
// output (sshd log or ssh -v), in order: one per key exchange.
std::vector<std::string> logged_key_exchanges(const std::string& log) {
  const std::string marker = "kex: algorithm: ";
  std::vector<std::string> names;
  for (auto at = log.find(marker); at != std::string::npos; at = log.find(marker, at)) {
    at += marker.size();
    auto end = log.find_first_of(" \r\n", at);
    names.push_back(log.substr(at, end == std::string::npos ? std::string::npos : end - at));
  }
  return names;
}

// `echo ok` through `call`: runs, prints ok.
ProcessResult expect_echo_ok(const SshServer& server, const SshCall& call) {
  auto result = run_ssh(server, "echo ok", call);
  EXPECT_TRUE(result.exited_with(0)) << result.describe() << "\n--- server log ---\n"
                                     << server.log();
  EXPECT_EQ(result.out, "ok\n");
  return result;
}

// kRekeyBytes of stdin through sha256sum; checks the hash. Returns the run
// (its stderr holds ssh -v output).
ProcessResult expect_upload_intact(const SshServer& server, const SshCall& call,
                                   std::uint64_t seed) {
  TempDir dir("limactl-pq-rekey");
  auto input = dir.path() / "input";
  auto expected = make_random_file(input, kRekeyBytes, seed);
  RunOptions run;
  run.stdin_file = input;
  run.timeout = std::chrono::seconds(120);
  auto result = run_ssh(server, "sha256sum", call, run);
  EXPECT_TRUE(result.exited_with(0)) << result.describe() << "\n--- server log ---\n"
                                     << server.log();
  EXPECT_EQ(result.out, expected + "  -\n");
  return result;
}

// The initial exchange and at least one rekey, all with `kex`.
void expect_rekeyed_with(const std::vector<std::string>& exchanges, const std::string& kex,
                         const std::string& log) {
  EXPECT_GE(exchanges.size(), 2u) << "no rekey in:\n" << log.substr(0, 20000);
  for (const auto& name : exchanges) EXPECT_EQ(name, kex);
}

// ---------------------------------------------------------------------------
// Our client against an OpenSSH sshd: the sshd log (DEBUG3) names the kex.

void expect_client_kex(const OpenSshServer& server, const SshCall& call, const std::string& kex) {
  auto before = server.log_size();
  auto result = expect_echo_ok(server, call);
  if (!result.exited_with(0)) return;
  auto log = server.log_since(before);
  EXPECT_EQ(logged_key_exchanges(log), std::vector<std::string>{kex}) << log.substr(0, 20000);
}

SshCall our_client_with(const std::string& kex) {
  SshCall call;
  call.options = kex_option(kex);
  call.options.push_back("-v");
  return call;
}

// sshd restricted to `kex` and rekeying after every MiB (sshd starts each rekey).
OpenSshServerOptions rekeying_server(const std::string& kex) {
  OpenSshServerOptions options;
  options.extra_config = {"KexAlgorithms " + kex, std::string("RekeyLimit ") + kRekeyLimit};
  return options;
}

void expect_server_rekeys(const OpenSshServer& server, const std::string& kex, std::uint64_t seed) {
  auto before = server.log_size();
  auto result = expect_upload_intact(server, {}, seed);
  if (!result.exited_with(0)) return;
  auto log = server.log_since(before);
  expect_rekeyed_with(logged_key_exchanges(log), kex, log);
}

TEST(PqKexOpenSsh10Server, MlkemRunsACommand) {
  OpenSsh10Server server;
  expect_client_kex(server, our_client_with(kMlkem), kMlkem);
}

TEST(PqKexOpenSsh10Server, MlkemIsChosenByOurDefaults) {
  OpenSsh10Server server;
  expect_client_kex(server, {}, kMlkem);
}

TEST(PqKexOpenSsh10Server, Mlkem16MiBStdinIntact) {
  OpenSsh10Server server({.extra_config = {"KexAlgorithms " + kMlkem}});
  check_stdin(server, kStdinBytes, {.options = kex_option(kMlkem)});
}

TEST(PqKexOpenSsh10Server, MlkemServerInitiatedRekey) {
  OpenSsh10Server server(rekeying_server(kMlkem));
  expect_server_rekeys(server, kMlkem, 1001);
}

TEST(PqKexOpenSsh10Server, SntrupNameWithoutAt) {
  OpenSsh10Server server;
  expect_client_kex(server, our_client_with(kSntrupWithoutAt), kSntrupWithoutAt);
}

TEST(PqKexOpenSsh92Server, SntrupRunsACommand) {
  OpenSshServer server;
  expect_client_kex(server, our_client_with(kSntrup), kSntrup);
}

// Debian 12's OpenSSH 9.2 (9.2p1-2+deb12u10 here) knows the name without @
// too and lists it first by default; mlkem768x25519-sha256, first in ours,
// it lacks.
TEST(PqKexOpenSsh92Server, SntrupIsChosenByOurDefaults) {
  OpenSshServer server;
  expect_client_kex(server, {}, kSntrupWithoutAt);
}

TEST(PqKexOpenSsh92Server, Sntrup16MiBStdinIntact) {
  OpenSshServer server({.extra_config = {"KexAlgorithms " + kSntrup}});
  check_stdin(server, kStdinBytes, {.options = kex_option(kSntrup)});
}

TEST(PqKexOpenSsh92Server, SntrupServerInitiatedRekey) {
  OpenSshServer server(rekeying_server(kSntrup));
  expect_server_rekeys(server, kSntrup, 1002);
}

// ---------------------------------------------------------------------------
// OpenSSH's ssh against our sshd: ssh -v names the kex on stderr.

// Our sshd with -d, which logs "negotiated: kex NAME, ..." for each exchange.
LimactlSshServerOptions debug_server() {
  return {.debug = true};
}

// Our sshd accepting only `kex`.
LimactlSshServerOptions server_allowing(const std::string& kex) {
  return {.options = {"KexAlgorithms=" + kex}};
}

// The server must be a debug_server().
void expect_openssh_client_kex(const LimactlSshServer& server, SshCall call,
                               const std::string& kex) {
  call.options.insert(call.options.begin(), "-v");
  auto result = expect_echo_ok(server, call);
  if (!result.exited_with(0)) return;
  EXPECT_EQ(logged_key_exchanges(result.err), std::vector<std::string>{kex}) << result.err;
  EXPECT_EQ(count_occurrences(server.log(), "negotiated: kex " + kex + ","), 1u) << server.log();
}

// ssh rekeys after every MiB it sends (the client starts each rekey).
void expect_client_rekeys(const LimactlSshServer& server, SshCall call, const std::string& kex,
                          std::uint64_t seed) {
  call.options.insert(call.options.begin(), {"-v", "-o", std::string("RekeyLimit=") + kRekeyLimit});
  auto result = expect_upload_intact(server, call, seed);
  if (!result.exited_with(0)) return;
  expect_rekeyed_with(logged_key_exchanges(result.err), kex, result.err);
}

TEST(PqKexOpenSsh10Client, MlkemRunsACommand) {
  LimactlSshServer server(debug_server());
  OpenSsh10Client client(server);
  expect_openssh_client_kex(server, client.call(kex_option(kMlkem)), kMlkem);
}

TEST(PqKexOpenSsh10Client, MlkemIsChosenByOpenSshDefaults) {
  LimactlSshServer server(debug_server());
  OpenSsh10Client client(server);
  expect_openssh_client_kex(server, client.call(), kMlkem);
}

TEST(PqKexOpenSsh10Client, Mlkem16MiBStdinIntact) {
  LimactlSshServer server(server_allowing(kMlkem));
  OpenSsh10Client client(server);
  check_stdin(server, kStdinBytes, client.call(kex_option(kMlkem)));
}

TEST(PqKexOpenSsh10Client, MlkemClientInitiatedRekey) {
  LimactlSshServer server(server_allowing(kMlkem));
  OpenSsh10Client client(server);
  expect_client_rekeys(server, client.call(kex_option(kMlkem)), kMlkem, 1003);
}

TEST(PqKexOpenSsh92Client, SntrupRunsACommand) {
  LimactlSshServer server(debug_server());
  expect_openssh_client_kex(server, server.openssh_call(kex_option(kSntrup)), kSntrup);
}

TEST(PqKexOpenSsh92Client, SntrupIsChosenByOpenSshDefaults) {
  LimactlSshServer server(debug_server());
  expect_openssh_client_kex(server, server.openssh_call(), kSntrupWithoutAt);
}

TEST(PqKexOpenSsh92Client, Sntrup16MiBStdinIntact) {
  LimactlSshServer server(server_allowing(kSntrup));
  check_stdin(server, kStdinBytes, server.openssh_call(kex_option(kSntrup)));
}

TEST(PqKexOpenSsh92Client, SntrupClientInitiatedRekey) {
  LimactlSshServer server(server_allowing(kSntrup));
  expect_client_rekeys(server, server.openssh_call(kex_option(kSntrup)), kSntrup, 1004);
}

}  // namespace
}  // namespace testing_support
