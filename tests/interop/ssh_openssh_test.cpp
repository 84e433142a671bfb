// `limactl ssh` against OpenSSH's sshd (Debian 12: OpenSSH 9.2).
//
// Written against the CLI contract: `limactl ssh [-p port] [-l user]
// [-i identity]... [-o Option=value]... [-F configfile] [-t|-T] [-q] [-v]
// [user@]host [command...]` with OpenSSH's meaning; exit status is the remote
// command's, or 255 with a one-line reason when connecting, verifying the
// host key or authenticating fails.
//
// Algorithm coverage without starting sshd thousands of times: each test
// below starts one sshd and runs a group of connections against it (one
// `echo ok` each), checking in the sshd log that the intended algorithms
// were really negotiated:
//   HostKeyMatrix     6 host key algorithms (server-restricted) x 9 KEX  =  54
//   KexCipherMatrix   9 KEX x 15 cipher/MAC pairs (client-chosen)        = 135
//   ServerRestricted  19 servers each allowing one KEX, cipher or MAC,
//                     the client using its defaults                      =  19
// With LIMACTL_TEST_CLIENT=openssh every test here must pass with OpenSSH's
// own client (that is how the tests themselves are checked).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/files.hpp"
#include "support/keys.hpp"
#include "support/process.hpp"
#include "support/ssh_client.hpp"
#include "support/sshd_fixture.hpp"
#include "support/temp_dir.hpp"

namespace testing_support {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::uintmax_t kBulkSize = 256ull * 1024 * 1024;  // 256 MiB
constexpr seconds kBulkTimeout{600};

const std::vector<std::string> kKexAlgorithms = {
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "diffie-hellman-group14-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "sntrup761x25519-sha512@openssh.com",
};

const std::vector<std::string> kHostKeyAlgorithms = {
    "ssh-ed25519",         "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521", "rsa-sha2-512",        "rsa-sha2-256",
};

const std::vector<std::string> kAeadCiphers = {
    "chacha20-poly1305@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
};
const std::vector<std::string> kCtrCiphers = {"aes128-ctr", "aes192-ctr", "aes256-ctr"};
const std::vector<std::string> kMacs = {
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha2-256",
    "hmac-sha2-512",
};

struct CipherChoice {
  std::string cipher;
  std::string mac;  // empty for AEAD ciphers (their MAC is implicit)
};

std::vector<CipherChoice> all_cipher_choices() {
  std::vector<CipherChoice> choices;
  for (const auto& cipher : kAeadCiphers) choices.push_back({cipher, ""});
  for (const auto& cipher : kCtrCiphers) {
    for (const auto& mac : kMacs) choices.push_back({cipher, mac});
  }
  return choices;
}

// What sshd (LogLevel DEBUG1 and up) logs for a negotiated cipher/MAC pair.
std::vector<std::string> cipher_log_lines(const CipherChoice& choice) {
  std::string mac = choice.mac.empty() ? "<implicit>" : choice.mac;
  return {"kex: client->server cipher: " + choice.cipher + " MAC: " + mac + " compression",
          "kex: server->client cipher: " + choice.cipher + " MAC: " + mac + " compression"};
}

// A gtest-safe parameter name: letters, digits and underscores only.
std::string param_name(std::string text) {
  for (char& c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return text;
}

// One `echo ok` through `server` with `call`; checks the output and that the
// server's log for this connection contains every line in `expected_log`.
void expect_echo_ok(const SshServer& server, const SshCall& call,
                    const std::vector<std::string>& expected_log, const std::string& label) {
  SCOPED_TRACE(label);
  auto before = server.log_size();
  auto result = run_ssh(server, "echo ok", call);
  EXPECT_TRUE(result.exited_with(0)) << label << ": " << result.describe();
  EXPECT_EQ(result.out, "ok\n") << label;
  if (!result.exited_with(0)) return;
  auto log = server.log_since(before);
  for (const auto& line : expected_log) {
    EXPECT_NE(log.find(line), std::string::npos)
        << label << ": the sshd log of this connection lacks \"" << line << "\":\n"
        << log.substr(0, 20000);
  }
}

std::vector<std::string> options_for(const std::string& kex, const CipherChoice& choice) {
  std::vector<std::string> options = {"-o", "KexAlgorithms=" + kex};
  if (!choice.cipher.empty()) options.insert(options.end(), {"-o", "Ciphers=" + choice.cipher});
  if (!choice.mac.empty()) options.insert(options.end(), {"-o", "MACs=" + choice.mac});
  return options;
}

// ---------------------------------------------------------------------------
// Exec: stdout, stderr, exit status, arguments, stdin.

TEST(OpenSshExec, SeparatesStdoutStderrAndExitStatus) {
  OpenSshServer server;
  auto result = run_ssh(server, "echo out; echo err >&2; exit 3");
  EXPECT_TRUE(result.exited_with(3)) << result.describe();
  EXPECT_EQ(result.out, "out\n");
  EXPECT_EQ(result.err, "err\n");
}

TEST(OpenSshExec, PassesExitStatusesThrough) {
  OpenSshServer server;
  for (int status : {0, 1, 42, 254}) {
    auto result = run_ssh(server, "exit " + std::to_string(status));
    EXPECT_TRUE(result.exited_with(status)) << "exit " << status << ": " << result.describe();
  }
}

TEST(OpenSshExec, JoinsCommandArgumentsWithSpaces) {
  OpenSshServer server;
  auto argv = ssh_argv(server, "echo");
  argv.insert(argv.end(), {"hello", "world", "$((6*7))"});
  auto result = run_process(argv);
  EXPECT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, "hello world 42\n");
}

TEST(OpenSshExec, SmallAndEmptyStdin) {
  OpenSshServer server;
  RunOptions some;
  some.stdin_data = "first line\nsecond line without newline";
  auto echoed = run_ssh(server, "cat", {}, some);
  EXPECT_TRUE(echoed.exited_with(0)) << echoed.describe();
  EXPECT_EQ(echoed.out, some.stdin_data);

  // End of file must reach the remote command, or `wc` never finishes.
  RunOptions none;
  none.timeout = seconds(30);
  auto counted = run_ssh(server, "wc -c", {}, none);
  EXPECT_TRUE(counted.exited_with(0)) << counted.describe();
  EXPECT_EQ(trim(counted.out), "0");
}

TEST(OpenSshExec, Streams256MiBOfStdinToTheRemoteCommand) {
  OpenSshServer server;
  TempDir dir("limactl-bulk");
  auto input = dir.path() / "input";
  auto expected = make_random_file(input, kBulkSize, 1);
  RunOptions run;
  run.stdin_file = input;
  run.timeout = kBulkTimeout;
  auto result = run_ssh(server, "sha256sum", {}, run);
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, expected + "  -\n");
}

TEST(OpenSshExec, Streams256MiBOfStdoutFromTheRemoteCommand) {
  OpenSshServer server;
  TempDir dir("limactl-bulk");
  auto file = dir.path() / "output-source";
  auto expected = make_random_file(file, kBulkSize, 2);
  Sha256 received;
  RunOptions run;
  run.timeout = kBulkTimeout;
  run.stdout_sink = [&](std::string_view chunk) { received.update(chunk); };
  // Same machine: the remote command reads the file the test wrote.
  auto result = run_ssh(server, "cat " + shell_quote({file.string()}), {}, run);
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(received.size(), kBulkSize);
  EXPECT_EQ(received.hex(), expected);
}

TEST(OpenSshExec, Carries16MiBOnStderr) {
  OpenSshServer server;
  TempDir dir("limactl-bulk");
  auto file = dir.path() / "stderr-source";
  auto expected = make_random_file(file, 16 * 1024 * 1024, 3);
  RunOptions run;
  run.timeout = seconds(120);
  auto result = run_ssh(server, "cat " + shell_quote({file.string()}) + " >&2; echo done", {}, run);
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, "done\n");
  EXPECT_EQ(result.err.size(), 16u * 1024 * 1024);
  EXPECT_EQ(sha256_hex(result.err), expected);
}

// ---------------------------------------------------------------------------
// Command line: option spellings, config file, -q, -v.

TEST(OpenSshCommandLine, PortUserAndIdentityAsOptions) {
  OpenSshServer server;
  const auto port = std::to_string(server.port());
  const auto key = server.client_key().private_key.string();
  const auto known_hosts = "UserKnownHostsFile=" + server.known_hosts_file().string();
  Argv common = {"-F", "/dev/null",    "-o", known_hosts, "-o", "StrictHostKeyChecking=yes",
                 "-o", "BatchMode=yes"};

  Argv with_o = client_command();
  with_o.insert(with_o.end(), common.begin(), common.end());
  with_o.insert(with_o.end(), {"-o", "Port=" + port, "-o", "User=root", "-o", "IdentityFile=" + key,
                               "127.0.0.1", "echo ok"});
  auto result = run_process(with_o);
  EXPECT_TRUE(result.exited_with(0)) << shell_quote(with_o) << "\n" << result.describe();
  EXPECT_EQ(result.out, "ok\n");

  Argv with_l = client_command();
  with_l.insert(with_l.end(), common.begin(), common.end());
  with_l.insert(with_l.end(), {"-l", "root", "-p", port, "-i", key, "127.0.0.1", "echo ok"});
  result = run_process(with_l);
  EXPECT_TRUE(result.exited_with(0)) << shell_quote(with_l) << "\n" << result.describe();
  EXPECT_EQ(result.out, "ok\n");
}

TEST(OpenSshCommandLine, ReadsAConfigFile) {
  OpenSshServer server;
  auto config = server.directory() / "ssh_config";
  write_file(config,
             "Host 127.0.0.1\n"
             "  Port " +
                 std::to_string(server.port()) +
                 "\n"
                 "  User root\n"
                 "  IdentityFile " +
                 server.client_key().private_key.string() +
                 "\n"
                 "  UserKnownHostsFile " +
                 server.known_hosts_file().string() +
                 "\n"
                 "  StrictHostKeyChecking yes\n"
                 "  BatchMode yes\n");
  Argv argv = client_command();
  argv.insert(argv.end(), {"-F", config.string(), "127.0.0.1", "echo ok"});
  auto result = run_process(argv);
  EXPECT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, "ok\n");
}

TEST(OpenSshCommandLine, QuietSuppressesWarningsAndVerboseGoesToStderr) {
  OpenSshServer server;
  // accept-new into an empty file would print "Warning: Permanently added ...".
  auto fresh = server.directory() / "fresh_known_hosts";
  auto quiet =
      run_ssh(server, "echo ok",
              {.options = {"-q"}, .known_hosts = fresh, .strict_host_key_checking = "accept-new"});
  EXPECT_TRUE(quiet.exited_with(0)) << quiet.describe();
  EXPECT_EQ(quiet.out, "ok\n");
  EXPECT_EQ(quiet.err, "");

  auto verbose = run_ssh(server, "echo ok", {.options = {"-v"}});
  EXPECT_TRUE(verbose.exited_with(0)) << verbose.describe();
  EXPECT_EQ(verbose.out, "ok\n");  // diagnostics never mix into the command's stdout
  EXPECT_FALSE(verbose.err.empty());
}

// ---------------------------------------------------------------------------
// Algorithm matrix.

class HostKeyMatrix : public testing::TestWithParam<std::string> {};

TEST_P(HostKeyMatrix, EveryKexWithThisHostKeyAlgorithm) {
  const std::string& algorithm = GetParam();
  OpenSshServerOptions options;
  options.host_keys = {key_type_for_algorithm(algorithm)};
  options.extra_config = {"HostKeyAlgorithms " + algorithm};
  OpenSshServer server(options);
  for (const auto& kex : kKexAlgorithms) {
    expect_echo_ok(server, {.options = {"-o", "KexAlgorithms=" + kex}},
                   {"kex: algorithm: " + kex, "kex: host key algorithm: " + algorithm},
                   "host key " + algorithm + ", kex " + kex);
  }
}

INSTANTIATE_TEST_SUITE_P(OpenSsh, HostKeyMatrix, testing::ValuesIn(kHostKeyAlgorithms),
                         [](const auto& param_info) { return param_name(param_info.param); });

class KexCipherMatrix : public testing::TestWithParam<std::string> {};

TEST_P(KexCipherMatrix, EveryCipherAndMacWithThisKex) {
  const std::string& kex = GetParam();
  OpenSshServer server;
  for (const auto& choice : all_cipher_choices()) {
    auto expected = cipher_log_lines(choice);
    expected.push_back("kex: algorithm: " + kex);
    expect_echo_ok(server, {.options = options_for(kex, choice)}, expected,
                   "kex " + kex + ", cipher " + choice.cipher +
                       (choice.mac.empty() ? "" : ", mac " + choice.mac));
  }
}

INSTANTIATE_TEST_SUITE_P(OpenSsh, KexCipherMatrix, testing::ValuesIn(kKexAlgorithms),
                         [](const auto& param_info) { return param_name(param_info.param); });

struct ServerRestriction {
  std::string name;
  std::vector<std::string> config;        // sshd_config lines
  std::vector<std::string> expected_log;  // what the negotiation must show
};

std::vector<ServerRestriction> server_restrictions() {
  std::vector<ServerRestriction> cases;
  for (const auto& kex : kKexAlgorithms) {
    cases.push_back({"kex_" + kex, {"KexAlgorithms " + kex}, {"kex: algorithm: " + kex}});
  }
  for (const auto& cipher : kAeadCiphers) {
    cases.push_back({"cipher_" + cipher, {"Ciphers " + cipher}, cipher_log_lines({cipher, ""})});
  }
  for (const auto& cipher : kCtrCiphers) {
    cases.push_back({"cipher_" + cipher,
                     {"Ciphers " + cipher},
                     {"kex: client->server cipher: " + cipher + " MAC: "}});
  }
  for (const auto& mac : kMacs) {
    cases.push_back({"mac_" + mac,
                     {"Ciphers aes128-ctr", "MACs " + mac},
                     cipher_log_lines({"aes128-ctr", mac})});
  }
  return cases;
}

void PrintTo(const ServerRestriction& restriction, std::ostream* out) {
  *out << restriction.name;
}

class ServerRestricted : public testing::TestWithParam<ServerRestriction> {};

TEST_P(ServerRestricted, ClientDefaultsNegotiateIt) {
  OpenSshServerOptions options;
  options.extra_config = GetParam().config;
  OpenSshServer server(options);
  expect_echo_ok(server, {}, GetParam().expected_log, "server allows only " + GetParam().name);
}

INSTANTIATE_TEST_SUITE_P(OpenSsh, ServerRestricted, testing::ValuesIn(server_restrictions()),
                         [](const auto& param_info) { return param_name(param_info.param.name); });

// ---------------------------------------------------------------------------
// User key types. The server accepts only the given signature algorithm.
// rsa-sha2-256 is tested against AsyncSSH instead (ssh_asyncssh_test.cpp):
// sshd 9.2 advertises a fixed server-sig-algs list whatever
// PubkeyAcceptedAlgorithms says, so a client (OpenSSH's included) picks
// rsa-sha2-512 and is refused.

struct UserKeyCase {
  std::string name;
  KeyType type;
  std::string algorithm;  // the signature algorithm the server insists on
};

void PrintTo(const UserKeyCase& key_case, std::ostream* out) {
  *out << key_case.algorithm;
}

class UserKeyTypes : public testing::TestWithParam<UserKeyCase> {};

TEST_P(UserKeyTypes, AuthenticatesWithThisKey) {
  const auto& param = GetParam();
  OpenSshServerOptions options;
  options.client_key = param.type;
  options.extra_config = {"PubkeyAcceptedAlgorithms " + param.algorithm};
  OpenSshServer server(options);
  expect_echo_ok(server, {}, {"userauth_pubkey: authenticated 1 pkalg " + param.algorithm},
                 "user key " + param.name);
}

INSTANTIATE_TEST_SUITE_P(
    OpenSsh, UserKeyTypes,
    testing::Values(UserKeyCase{"ed25519", KeyType::kEd25519, "ssh-ed25519"},
                    UserKeyCase{"ecdsa_p256", KeyType::kEcdsaP256, "ecdsa-sha2-nistp256"},
                    UserKeyCase{"ecdsa_p384", KeyType::kEcdsaP384, "ecdsa-sha2-nistp384"},
                    UserKeyCase{"ecdsa_p521", KeyType::kEcdsaP521, "ecdsa-sha2-nistp521"},
                    UserKeyCase{"rsa_sha2_512", KeyType::kRsa, "rsa-sha2-512"}),
    [](const auto& param_info) { return param_info.param.name; });

// ---------------------------------------------------------------------------
// Rekeying: 256 MiB through with a 1 MiB rekey limit is ~256 key exchanges.

std::size_t completed_key_exchanges(const std::string& log) {
  return count_occurrences(log, "SSH2_MSG_NEWKEYS received");
}

constexpr std::size_t kMinimumRekeys = 64;  // of ~256 expected; any real rekeying passes

void upload_and_check(const OpenSshServer& server, const SshCall& call, std::uint64_t seed) {
  TempDir dir("limactl-rekey");
  auto input = dir.path() / "input";
  auto expected = make_random_file(input, kBulkSize, seed);
  RunOptions run;
  run.stdin_file = input;
  run.timeout = kBulkTimeout;
  auto before = server.log_size();
  auto result = run_ssh(server, "sha256sum", call, run);
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, expected + "  -\n");
  EXPECT_GE(completed_key_exchanges(server.log_since(before)), kMinimumRekeys);
}

void download_and_check(const OpenSshServer& server, const SshCall& call, std::uint64_t seed) {
  TempDir dir("limactl-rekey");
  auto file = dir.path() / "source";
  auto expected = make_random_file(file, kBulkSize, seed);
  Sha256 received;
  RunOptions run;
  run.timeout = kBulkTimeout;
  run.stdout_sink = [&](std::string_view chunk) { received.update(chunk); };
  auto before = server.log_size();
  auto result = run_ssh(server, "cat " + shell_quote({file.string()}), call, run);
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(received.size(), kBulkSize);
  EXPECT_EQ(received.hex(), expected);
  EXPECT_GE(completed_key_exchanges(server.log_since(before)), kMinimumRekeys);
}

OpenSshServerOptions rekeying_server() {
  OpenSshServerOptions options;
  options.extra_config = {"RekeyLimit 1M"};
  return options;
}

TEST(OpenSshRekey, ServerInitiatedDuring256MiBUpload) {
  OpenSshServer server(rekeying_server());
  upload_and_check(server, {}, 11);
}

TEST(OpenSshRekey, ServerInitiatedDuring256MiBDownload) {
  OpenSshServer server(rekeying_server());
  download_and_check(server, {}, 12);
}

TEST(OpenSshRekey, ClientInitiatedDuring256MiBUpload) {
  OpenSshServer server;
  upload_and_check(server, {.options = {"-o", "RekeyLimit=1M"}}, 13);
}

TEST(OpenSshRekey, ClientInitiatedDuring256MiBDownload) {
  OpenSshServer server;
  download_and_check(server, {.options = {"-o", "RekeyLimit=1M"}}, 14);
}

// ---------------------------------------------------------------------------
// Pseudo-terminals.

TEST(OpenSshPty, NoTerminalWithT) {
  OpenSshServer server;
  auto result = run_ssh(server, "test -t 0 || echo no-tty", {.options = {"-T"}});
  EXPECT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, "no-tty\n");
}

TEST(OpenSshPty, ForcedTerminalForACommandUnderScript) {
  OpenSshServer server;
  auto ssh =
      ssh_argv(server, "test -t 0 && test -t 1 && echo tty-yes; exit 4", {.options = {"-t"}});
  // script(1) gives the client a terminal; its -e returns the client's status.
  auto result = run_process({"/usr/bin/script", "-qec", shell_quote(ssh), "/dev/null"});
  EXPECT_TRUE(result.exited_with(4)) << shell_quote(ssh) << "\n" << result.describe();
  EXPECT_NE(result.out.find("tty-yes"), std::string::npos) << result.out;
}

// A client killed while its terminal is raw puts the terminal back as it
// found it (OpenSSH does the same), so the shell left behind still echoes.
TEST(OpenSshPty, TerminalIsRestoredWhenTheClientIsKilled) {
  OpenSshServer server;
  auto ssh = ssh_argv(server, "sleep 60", {.options = {"-t"}});
  for (const std::string signal : {"TERM", "HUP"}) {
    SCOPED_TRACE("SIG" + signal);
    // The client runs in the background with the terminal as stdin; once it
    // has made the terminal raw it is killed, then stty shows the modes.
    const std::string inner =
        shell_quote(ssh) + " </dev/tty >/dev/null 2>&1 & pid=$!; " +
        "for i in $(seq 100); do stty -a </dev/tty | grep -q -- -icanon && " +
        "break; sleep 0.1; done; stty -a </dev/tty | grep -o -- '-icanon' | " +
        "sed 's/^/raw-seen:/'; kill -" + signal + " $pid; wait $pid; " +
        "echo status=$?; stty -a </dev/tty";
    auto result =
        run_process({"/usr/bin/script", "-qec", "sh -c " + shell_quote({inner}), "/dev/null"});
    EXPECT_TRUE(result.exited_with(0)) << result.describe();
    EXPECT_NE(result.out.find("raw-seen:-icanon"), std::string::npos) << result.out;
    const auto after = result.out.substr(result.out.find("status="));
    EXPECT_NE(after.find(" icanon"), std::string::npos) << after;
    EXPECT_NE(after.find(" echo "), std::string::npos) << after;
    EXPECT_EQ(after.find("-icanon"), std::string::npos) << after;
  }
}

// A tmux server of our own (its own socket), killed when the test ends.
class Tmux {
 public:
  explicit Tmux(const std::filesystem::path& dir) {
    if (!std::filesystem::exists("/usr/bin/tmux")) {
      throw std::runtime_error("/usr/bin/tmux is missing: install tmux (scripts/install-deps)");
    }
    auto config = dir / "tmux.conf";
    // Keep the pane (and so its screen) after the client exits.
    write_file(config, "set-option -g remain-on-exit on\nset-option -g history-limit 5000\n");
    base_ = {"/usr/bin/tmux", "-S", (dir / "tmux.sock").string(), "-f", config.string()};
  }
  ~Tmux() { run({"kill-server"}); }

  ProcessResult run(const Argv& args) {
    Argv argv = base_;
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions options;
    options.timeout = seconds(20);
    options.environment = {{"TERM", "xterm-256color"}};
    return run_process(argv, options);
  }
  std::string screen() { return run({"capture-pane", "-p", "-J", "-t", "t"}).out; }
  std::string query(const std::string& format) {
    return trim(run({"display-message", "-p", "-t", "t", format}).out);
  }
  bool pane_dead() { return query("#{pane_dead}") == "1"; }

 private:
  Argv base_;
};

template <class Predicate>
bool wait_until(Predicate predicate, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return predicate();
}

bool shows_prompt(const std::string& screen) {
  for (const auto& line : split_lines(screen)) {
    auto text = trim(line);
    if (!text.empty() && (text.back() == '#' || text.back() == '$')) return true;
  }
  return false;
}

TEST(OpenSshPty, InteractiveShellUnderTmux) {
  OpenSshServer server;
  TempDir dir("limactl-tmux");
  Tmux tmux(dir.path());
  auto ssh = ssh_argv(server, "", {.options = {"-t"}});  // a login shell
  // The client's exit status comes through a file written by a shell around
  // it, not from tmux's #{pane_dead_status}: tmux misses the exit of a
  // program that leaves a thread blocked reading the terminal (it reaps it
  // only on some later SIGCHLD), which says nothing about the client.
  auto status_file = dir.path() / "status";
  auto command = shell_quote(ssh) + "; echo $? > " + shell_quote({status_file.string()});
  auto started = tmux.run({"new-session", "-d", "-s", "t", "-x", "120", "-y", "40", command});
  ASSERT_TRUE(started.exited_with(0)) << started.describe();

  bool prompt = wait_until(
      [&] {
        auto screen = tmux.screen();
        return shows_prompt(screen) || tmux.pane_dead();
      },
      seconds(30));
  ASSERT_TRUE(prompt && !tmux.pane_dead()) << "no shell prompt; screen:\n" << tmux.screen();
  std::string size = tmux.query("#{pane_height} #{pane_width}");

  ASSERT_TRUE(
      tmux.run({"send-keys", "-t", "t", "-l", "stty size; echo $((6*7)); exit 3"}).exited_with(0));
  ASSERT_TRUE(tmux.run({"send-keys", "-t", "t", "Enter"}).exited_with(0));
  bool ended =
      wait_until([&] { return !trim(read_file_from(status_file, 0)).empty(); }, seconds(30));
  auto screen = tmux.screen();
  ASSERT_TRUE(ended) << "the client did not exit; screen:\n" << screen;

  auto lines = split_lines(screen);
  auto has_line = [&](const std::string& wanted) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& line) { return trim(line) == wanted; });
  };
  EXPECT_TRUE(has_line("42")) << screen;
  EXPECT_TRUE(has_line(size)) << "the remote terminal size is not the local " << size << ":\n"
                              << screen;
  EXPECT_EQ(trim(read_file(status_file)), "3")
      << "the client did not exit with the remote shell's status:\n"
      << screen;
}

// ---------------------------------------------------------------------------
// Failures: exit status 255 with a short reason, and never a hang.

TEST(OpenSshErrors, WrongKeyIsPermissionDenied) {
  OpenSshServer server;
  auto stranger = generate_openssh_key(server.directory() / "stranger", KeyType::kEd25519);
  auto result = run_ssh(server, "echo ok", {.identity = stranger.private_key});
  EXPECT_TRUE(result.exited_with(255)) << result.describe();
  EXPECT_EQ(result.out, "");
  EXPECT_NE(result.err.find("Permission denied"), std::string::npos) << result.err;
  EXPECT_EQ(count_nonempty_lines(result.err), 1u) << result.err;
  EXPECT_LT(result.elapsed, seconds(30));
}

TEST(OpenSshErrors, UnknownHostKeyWithStrictCheckingFails) {
  OpenSshServer server;
  auto empty = server.directory() / "empty_known_hosts";
  write_file(empty, "");
  auto result = run_ssh(server, "echo ok", {.known_hosts = empty});
  EXPECT_TRUE(result.exited_with(255)) << result.describe();
  EXPECT_EQ(result.out, "");
  EXPECT_NE(result.err.find("Host key verification failed"), std::string::npos) << result.err;
  EXPECT_EQ(read_file(empty), "");
}

TEST(OpenSshErrors, AcceptNewRecordsTheHostKeyThenTrustsIt) {
  OpenSshServer server;
  auto file = server.directory() / "recorded_known_hosts";
  auto first =
      run_ssh(server, "echo ok", {.known_hosts = file, .strict_host_key_checking = "accept-new"});
  ASSERT_TRUE(first.exited_with(0)) << first.describe();
  EXPECT_EQ(first.out, "ok\n");
  ASSERT_TRUE(std::filesystem::exists(file));
  auto recorded = read_file(file);
  auto base64 = server.host_public_keys().at(0).substr(server.host_public_keys()[0].find(' ') + 1);
  EXPECT_NE(recorded.find(base64), std::string::npos) << recorded;

  auto second = run_ssh(server, "echo ok", {.known_hosts = file});  // StrictHostKeyChecking=yes
  EXPECT_TRUE(second.exited_with(0)) << second.describe();
  EXPECT_EQ(read_file(file), recorded);
}

// Entries OpenSSH's own client records (plain and hashed) are trusted by the
// client under test with StrictHostKeyChecking=yes.
TEST(OpenSshErrors, HostKeysRecordedByOpenSshAreTrusted) {
  OpenSshServer server;
  for (const std::string hash : {"no", "yes"}) {
    SCOPED_TRACE("HashKnownHosts=" + hash);
    auto file = server.directory() / ("openssh_known_hosts_" + hash);
    auto recorded = run_ssh(server, "true",
                            {.options = {"-o", "HashKnownHosts=" + hash},
                             .known_hosts = file,
                             .strict_host_key_checking = "accept-new",
                             .client = Argv{kOpenSshClientPath}});
    ASSERT_TRUE(recorded.exited_with(0)) << recorded.describe();
    const auto content = read_file(file);
    ASSERT_NE(content.find(hash == "yes" ? "|1|" : "[127.0.0.1]:"), std::string::npos) << content;

    auto result = run_ssh(server, "echo trusted", {.known_hosts = file});
    EXPECT_TRUE(result.exited_with(0)) << result.describe();
    EXPECT_EQ(result.out, "trusted\n");
    EXPECT_EQ(read_file(file), content);
  }
}

TEST(OpenSshErrors, ChangedHostKeyFailsNamingFileAndLine) {
  OpenSshServer server;
  auto impostor = generate_openssh_key(server.directory() / "impostor", KeyType::kEd25519);
  auto file = server.directory() / "stale_known_hosts";
  // The entry for this server (line 3) holds another ed25519 key.
  std::string content = "elsewhere.example " + impostor.public_line + "\n" + "[127.0.0.1]:1 " +
                        impostor.public_line + "\n" +
                        server.known_hosts_line(impostor.public_line) + "\n";
  write_file(file, content);
  auto result =
      run_ssh(server, "echo ok", {.known_hosts = file, .strict_host_key_checking = "accept-new"});
  EXPECT_TRUE(result.exited_with(255)) << result.describe();
  EXPECT_EQ(result.out, "");
  // OpenSSH says "Offending ED25519 key in FILE:3"; "FILE line 3" does as well.
  bool names_line = result.err.find(file.string() + ":3") != std::string::npos ||
                    (result.err.find(file.string()) != std::string::npos &&
                     result.err.find("line 3") != std::string::npos);
  EXPECT_TRUE(names_line) << "the message must name " << file << " and line 3:\n" << result.err;
  EXPECT_EQ(read_file(file), content) << "accept-new must not replace a changed key";
}

TEST(OpenSshErrors, ConnectionRefusedFailsFast) {
  auto port = free_loopback_port();  // nobody listens there
  Argv argv = client_command();
  argv.insert(argv.end(), {"-F", "/dev/null", "-p", std::to_string(port), "-o", "BatchMode=yes",
                           "-o", "UserKnownHostsFile=/dev/null", "root@127.0.0.1", "true"});
  RunOptions run;
  run.timeout = seconds(30);
  auto result = run_process(argv, run);
  EXPECT_TRUE(result.exited_with(255)) << result.describe();
  EXPECT_LT(result.elapsed, seconds(5)) << result.describe();
  EXPECT_TRUE(contains_ignoring_case(result.err, "refused")) << result.err;
  EXPECT_EQ(count_nonempty_lines(result.err), 1u) << result.err;
}

// A socket that listens but never accepts: the kernel completes the TCP
// handshake, then nothing is ever said.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd_, 16) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

TEST(OpenSshErrors, SilentServerEndsAtConnectTimeout) {
  SilentListener listener;
  Argv argv = client_command();
  argv.insert(argv.end(), {"-F", "/dev/null", "-p", std::to_string(listener.port()), "-o",
                           "ConnectTimeout=2", "-o", "BatchMode=yes", "-o",
                           "UserKnownHostsFile=/dev/null", "root@127.0.0.1", "true"});
  RunOptions run;
  run.timeout = seconds(30);
  auto result = run_process(argv, run);
  EXPECT_TRUE(result.exited_with(255)) << result.describe();
  EXPECT_GE(result.elapsed, milliseconds(1500)) << "gave up before the timeout: " << result.err;
  EXPECT_LT(result.elapsed, seconds(8)) << result.describe();
  EXPECT_FALSE(trim(result.err).empty());
}

}  // namespace
}  // namespace testing_support
