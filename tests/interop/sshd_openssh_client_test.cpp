// Real clients against `limactl sshd`: OpenSSH's ssh, scp and sftp (and
// AsyncSSH as a second implementation) on a throw-away server per test
// (tests/support/limactl_sshd_fixture.hpp). Exec with separate streams, exit
// statuses and signals, bulk stdin, a pty shell driven through tmux with a
// window resize, the env allow-list, in-process legacy scp, SFTP-mode scp
// and sftp through the in-process subsystem, TCP and unix socket forwards both ways, -W, agent
// forwarding and keepalives.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.hpp"
#include "support/exec_checks.hpp"
#include "support/files.hpp"
#include "support/hashing_server.hpp"
#include "support/keys.hpp"
#include "support/limactl_sshd_fixture.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/tmux.hpp"

namespace testing_support {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

std::string random_bytes(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    const auto word = generator();
    for (std::size_t j = 0; j < 8 && i + j < size; ++j) {
      data[i + j] = static_cast<char>((word >> (8 * j)) & 0xff);
    }
  }
  return data;
}

class LimactlSshdOpenSshClient : public testing::Test {
 protected:
  void SetUp() override { server_ = std::make_unique<LimactlSshServer>(); }

  LimactlSshServer& server() { return *server_; }

  ProcessResult ssh(const std::string& command, const Argv& extra = {}, RunOptions run = {}) {
    return run_process(server().ssh_command(command, extra), run);
  }

  // `ssh -N` with forwarding options, kept running; its messages go to a file.
  std::unique_ptr<BackgroundProcess> start_forwarding(const Argv& forward_options) {
    Argv extra = {"-N", "-o", "ExitOnForwardFailure=yes", "-o", "StreamLocalBindUnlink=yes"};
    extra.insert(extra.end(), forward_options.begin(), forward_options.end());
    SpawnOptions spawn;
    spawn.output_file = scratch_.path() / "ssh-forwarding.log";
    return std::make_unique<BackgroundProcess>(server().ssh_command("", extra), spawn);
  }

  std::string forwarding_log() { return read_file_from(scratch_.path() / "ssh-forwarding.log", 0); }

  std::unique_ptr<LimactlSshServer> server_;
  TempDir scratch_{"limactl-sshd-client"};
};

// ---- exec ----------------------------------------------------------------------

TEST_F(LimactlSshdOpenSshClient, ExecSeparatesStdoutAndStderrAndReportsExitStatus) {
  const auto call = server().openssh_call();
  check_stdout_stderr_and_exit_status(server(), call);
  check_exit_statuses(server(), {0, 1, 3, 42, 254}, call);
  // 255 is also what ssh exits with on its own errors: tell them apart by
  // the output of the command that ran.
  const auto result = ssh("echo ran; exit 255");
  EXPECT_TRUE(result.exited_with(255)) << result.describe();
  EXPECT_EQ(result.out, "ran\n");
  EXPECT_EQ(result.err, "");
}

TEST_F(LimactlSshdOpenSshClient, ExecRunsTheLoginShellAsTheServersUser) {
  const auto result = ssh("id -un; echo \"$HOME\"; echo \"$SHELL\"; echo \"$USER\"");
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, "root\n/root\n/bin/bash\nroot\n");
}

TEST_F(LimactlSshdOpenSshClient, SessionsSeeSshClientAndSshConnectionAsSshdSetsThem) {
  const auto result = ssh("echo \"$SSH_CLIENT\"; echo \"$SSH_CONNECTION\"");
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  const auto lines = split_lines(result.out);
  ASSERT_EQ(lines.size(), 2u) << result.describe();
  // "client-address client-port server-port" and
  // "client-address client-port server-address server-port".
  const auto port = std::to_string(server().port());
  const std::regex client("^127\\.0\\.0\\.1 ([0-9]+) " + port + "$");
  const std::regex connection("^127\\.0\\.0\\.1 ([0-9]+) 127\\.0\\.0\\.1 " + port + "$");
  std::smatch client_match, connection_match;
  ASSERT_TRUE(std::regex_match(lines[0], client_match, client)) << lines[0];
  ASSERT_TRUE(std::regex_match(lines[1], connection_match, connection)) << lines[1];
  EXPECT_EQ(client_match[1], connection_match[1]);
  EXPECT_NE(client_match[1], "0");
}

TEST_F(LimactlSshdOpenSshClient, CommandKilledBySignalEndsWithExitSignal) {
  // The remote shell kills itself: the server reports exit-signal TERM,
  // which OpenSSH's ssh notes and (having no exit status) exits 255 for.
  const auto killed = ssh("kill -TERM $$", {"-v"});
  EXPECT_TRUE(killed.exited_with(255)) << killed.describe();
  EXPECT_NE(killed.err.find("client_input_channel_req: channel 0 rtype exit-signal"),
            std::string::npos)
      << killed.err;
  EXPECT_EQ(killed.err.find("rtype exit-status"), std::string::npos) << killed.err;
  // A child killed by TERM, as its shell reports it: 128 + 15.
  const auto child = ssh("sh -c 'kill -TERM $$'; exit $?");
  EXPECT_TRUE(child.exited_with(143)) << child.describe();
}

TEST_F(LimactlSshdOpenSshClient, SixteenMiBOfStdinReachSha256sumIntact) {
  check_stdin(server(), 16 * 1024 * 1024, server().openssh_call());
}

TEST_F(LimactlSshdOpenSshClient, SixteenMiBOfStdoutArriveIntact) {
  check_stdout_volume(server(), 16 * 1024 * 1024, server().openssh_call());
}

// ---- pty shell -------------------------------------------------------------------

TEST_F(LimactlSshdOpenSshClient, PtyShellFollowsTheTerminalAndItsResize) {
  const auto command = shell_quote(server().ssh_command("", {"-t"}));
  Tmux tmux(scratch_.path(), command, 120, 40);
  // Sums keep the typed command line itself from matching the pattern.
  tmux.type_line("echo \"tty=$(tty) $((20+22))\"");
  const auto tty = tmux.wait_for(std::regex(R"(tty=(/dev/pts/\d+) 42)"), 30s);
  ASSERT_TRUE(tty.has_value()) << tmux.screen() << "\n" << server().log();
  tmux.type_line("echo \"size=$(stty size) $((1+1))\"");
  EXPECT_TRUE(tmux.wait_for(std::regex(R"(size=40 120 2)"), 20s)) << tmux.screen();
  tmux.type_line("echo \"term=$TERM $((2+3))\"");
  EXPECT_TRUE(tmux.wait_for(std::regex(R"(term=(screen|tmux)\S* 5)"), 20s)) << tmux.screen();

  // window-change: the pane shrinks, ssh tells the server, the pty follows.
  const auto resized = tmux.run({"resize-window", "-t", "t", "-x", "100", "-y", "30"});
  ASSERT_TRUE(resized.exited_with(0)) << resized.describe();
  tmux.type_line("clear; echo \"resized=$(stty size) $((3+4))\"");
  EXPECT_TRUE(tmux.wait_for(std::regex(R"(resized=30 100 7)"), 20s)) << tmux.screen();

  // Ctrl-C reaches the foreground process through the pty.
  tmux.type_line("sleep 60; echo \"after-sleep $((4+5))\"");
  std::this_thread::sleep_for(500ms);
  tmux.run({"send-keys", "-t", "t", "C-c"});
  tmux.type_line("echo \"interrupted $((5+6))\"");
  EXPECT_TRUE(tmux.wait_for(std::regex(R"(interrupted 11)"), 20s)) << tmux.screen();
  EXPECT_EQ(tmux.screen().find("after-sleep 9"), std::string::npos) << tmux.screen();
  tmux.type_line("exit");
  EXPECT_TRUE(eventually(
      [&] {
        return !tmux.run({"has-session", "-t", "t"}).exited_with(0);
      },
      20s))
      << tmux.screen();
}

// ---- env ---------------------------------------------------------------------------

TEST_F(LimactlSshdOpenSshClient, EnvAcceptsLangAndLcStarOnly) {
  RunOptions run;
  run.environment = {{"LANG", "C.UTF-8"}, {"LC_TIME", "C.UTF-8"}, {"LIMACTL_TEST_REFUSED", "x"}};
  const auto result =
      ssh("echo \"LANG=${LANG-unset} LC_TIME=${LC_TIME-unset} "
          "REFUSED=${LIMACTL_TEST_REFUSED-unset}\"",
          {"-o", "SendEnv=LANG LC_TIME LIMACTL_TEST_REFUSED"}, run);
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, "LANG=C.UTF-8 LC_TIME=C.UTF-8 REFUSED=unset\n");
  // Without SendEnv nothing of the client's environment arrives.
  const auto plain = ssh("echo \"LC_TIME=${LC_TIME-unset}\"", {}, run);
  ASSERT_TRUE(plain.exited_with(0)) << plain.describe();
  EXPECT_EQ(plain.out, "LC_TIME=unset\n");
}

// ---- scp -------------------------------------------------------------------------------

TEST_F(LimactlSshdOpenSshClient, LegacyScpRunsInProcessWithoutAnScpBinary) {
  // The server and everything it starts see a trap instead of /usr/bin/scp:
  // running it leaves a mark and fails.
  const auto trap = scratch_.path() / "scp-trap";
  const auto mark = scratch_.path() / "scp-binary-was-run";
  write_file(trap,
             "#!/bin/sh\necho \"$@\" >> " + shell_quote({mark.string()}) +
                 "\necho 'trap: the scp binary was run' >&2\nexit 97\n",
             fs::perms(0755));
  LimactlSshServerOptions options;
  options.private_bind_mounts = {{trap, "/usr/bin/scp"}};
  server_ = std::make_unique<LimactlSshServer>(options);
  // The trap is what a session would run as scp.
  const auto seen = ssh("scp -t /tmp; echo \"status $?\"");
  EXPECT_NE(seen.err.find("trap: the scp binary was run"), std::string::npos) << seen.describe();
  EXPECT_EQ(seen.out, "status 97\n");
  ASSERT_TRUE(fs::exists(mark));
  fs::remove(mark);

  const auto remote_dir = scratch_.path() / "remote";
  fs::create_directories(remote_dir);
  const auto local = scratch_.path() / "upload.bin";
  const auto expected = make_random_file(local, 3 * 1024 * 1024 + 17, 5);
  fs::permissions(local, fs::perms(0640), fs::perm_options::replace);
  Argv scp = {"/usr/bin/scp", "-O", "-p", "-P", std::to_string(server().port())};
  const auto options_list = server().openssh_options();
  scp.insert(scp.end(), options_list.begin(), options_list.end());

  Argv upload = scp;
  upload.insert(upload.end(), {local.string(), "root@127.0.0.1:" + remote_dir.string() + "/"});
  const auto uploaded = run_process(upload);
  EXPECT_TRUE(uploaded.exited_with(0)) << uploaded.describe() << "\n" << server().log();
  ASSERT_TRUE(fs::exists(remote_dir / "upload.bin")) << uploaded.describe();
  EXPECT_EQ(sha256_file(remote_dir / "upload.bin"), expected);
  EXPECT_EQ(fs::status(remote_dir / "upload.bin").permissions() & fs::perms::all, fs::perms(0640));

  Argv download = scp;
  const auto downloaded_path = scratch_.path() / "downloaded.bin";
  download.insert(download.end(), {"root@127.0.0.1:" + (remote_dir / "upload.bin").string(),
                                   downloaded_path.string()});
  const auto downloaded = run_process(download);
  EXPECT_TRUE(downloaded.exited_with(0)) << downloaded.describe() << "\n" << server().log();
  EXPECT_EQ(sha256_file(downloaded_path), expected);

  // A file that is not there: scp's error, from our server.
  Argv missing = scp;
  missing.insert(missing.end(), {"root@127.0.0.1:" + (remote_dir / "missing").string(),
                                 (scratch_.path() / "nothing").string()});
  const auto failed = run_process(missing);
  EXPECT_FALSE(failed.exited_with(0)) << failed.describe();
  EXPECT_NE(failed.err.find("No such file or directory"), std::string::npos) << failed.describe();

  EXPECT_FALSE(fs::exists(mark)) << "the scp binary was run: " << read_file(mark);
}

TEST_F(LimactlSshdOpenSshClient, ScpInSftpModeUsesTheInProcessSftpSubsystem) {
  // OpenSSH 9's scp speaks SFTP by default: "subsystem sftp", served
  // in-process: the server runs no sftp-server binary.
  const auto local = scratch_.path() / "upload.bin";
  const auto expected = make_random_file(local, 20 * 1024 * 1024 + 17, 7);
  const auto remote_dir = scratch_.path() / "remote";
  fs::create_directories(remote_dir);
  Argv scp = {"/usr/bin/scp", "-P", std::to_string(server().port())};
  const auto options_list = server().openssh_options();
  scp.insert(scp.end(), options_list.begin(), options_list.end());

  Argv upload = scp;
  upload.insert(upload.end(), {local.string(), "root@127.0.0.1:" + remote_dir.string() + "/"});
  const auto uploaded = run_process(upload);
  ASSERT_TRUE(uploaded.exited_with(0)) << uploaded.describe() << "\n" << server().log();
  EXPECT_EQ(sha256_file(remote_dir / "upload.bin"), expected);

  Argv download = scp;
  const auto downloaded_path = scratch_.path() / "downloaded.bin";
  download.insert(download.end(), {"root@127.0.0.1:" + (remote_dir / "upload.bin").string(),
                                   downloaded_path.string()});
  const auto downloaded = run_process(download);
  ASSERT_TRUE(downloaded.exited_with(0)) << downloaded.describe() << "\n" << server().log();
  EXPECT_EQ(sha256_file(downloaded_path), expected);

  Argv missing = scp;
  missing.insert(missing.end(), {"root@127.0.0.1:" + (remote_dir / "missing").string(),
                                 (scratch_.path() / "nothing").string()});
  const auto failed = run_process(missing);
  EXPECT_FALSE(failed.exited_with(0)) << failed.describe();
  EXPECT_NE(failed.err.find("No such file"), std::string::npos) << failed.describe();
  EXPECT_NE(server().log().find("subsystem sftp"), std::string::npos) << server().log();
}

TEST_F(LimactlSshdOpenSshClient, SftpBatchRunsEveryCommandThroughTheSubsystem) {
  const auto local = scratch_.path() / "local.bin";
  const auto expected = make_random_file(local, 5 * 1024 * 1024 + 3, 11);
  const auto remote = scratch_.path() / "remote";
  fs::create_directories(remote);
  const auto back = scratch_.path() / "back.bin";
  const auto batch = scratch_.path() / "batch";
  write_file(batch, "cd " + remote.string() + "\n" + "put " + local.string() +
                        " up.bin\n"
                        "mkdir dir\n"
                        "rename up.bin dir/moved.bin\n"
                        "chmod 600 dir/moved.bin\n"
                        "symlink dir/moved.bin link\n"
                        "ls -l\n"
                        "ls -l dir\n"
                        "df\n"
                        "get link " +
                        back.string() +
                        "\n"
                        "rm link\n"
                        "rm dir/moved.bin\n"
                        "rmdir dir\n"
                        "pwd\n");
  Argv sftp = {"/usr/bin/sftp",
               "-b",
               batch.string(),
               "-F",
               server().client_config_file().string(),
               LimactlSshServer::kHostAlias};
  const auto result = run_process(sftp);
  ASSERT_TRUE(result.exited_with(0)) << result.describe() << "\n" << server().log();
  EXPECT_EQ(sha256_file(back), expected);
  EXPECT_TRUE(std::regex_search(result.out, std::regex("\nlrwxrwxrwx .* link\n"))) << result.out;
  EXPECT_TRUE(std::regex_search(result.out, std::regex("\n-rw------- .* 5242883 .*moved\\.bin\n")))
      << result.out;
  EXPECT_NE(result.out.find("Remote working directory: " + remote.string()), std::string::npos)
      << result.out;
  EXPECT_TRUE(fs::is_empty(remote));
  EXPECT_NE(server().log().find("subsystem sftp"), std::string::npos);
}

// ---- forwarding ----------------------------------------------------------------------

TEST_F(LimactlSshdOpenSshClient, LocalTcpForwardCarriesAPayloadBothWays) {
  HashingServer target;
  const auto port = free_loopback_port();
  auto forwarding = start_forwarding(
      {"-L", std::to_string(port) + ":127.0.0.1:" + std::to_string(target.port())});
  ASSERT_TRUE(eventually([&] { return process_listens_on(forwarding->pid(), port); }, 20s))
      << forwarding->status_text() << "\n"
      << forwarding_log() << "\n"
      << server().log();
  const auto payload = random_bytes(4 * 1024 * 1024 + 3, 1);
  EXPECT_EQ(send_and_receive(port, payload), HashingServer::expected_reply(payload));
  EXPECT_EQ(send_and_receive(port, ""), HashingServer::expected_reply(""));
  EXPECT_EQ(target.connections_served(), 2);
  EXPECT_TRUE(forwarding->running()) << forwarding_log();
}

TEST_F(LimactlSshdOpenSshClient, LocalForwardToAClosedPortFailsThatChannelOnly) {
  const auto closed_port = free_loopback_port();
  const auto port = free_loopback_port();
  auto forwarding =
      start_forwarding({"-L", std::to_string(port) + ":127.0.0.1:" + std::to_string(closed_port)});
  ASSERT_TRUE(eventually([&] { return process_listens_on(forwarding->pid(), port); }, 20s))
      << forwarding_log();
  EXPECT_EQ(send_and_receive(port, "nobody listens", 20), "");
  EXPECT_TRUE(
      eventually([&] { return forwarding_log().find("open failed") != std::string::npos; }, 10s))
      << forwarding_log();
  EXPECT_TRUE(forwarding->running()) << forwarding_log();
}

TEST_F(LimactlSshdOpenSshClient, RemoteTcpForwardCarriesAPayloadBothWays) {
  HashingServer target;
  const auto port = free_loopback_port();
  auto forwarding = start_forwarding(
      {"-R", "127.0.0.1:" + std::to_string(port) + ":127.0.0.1:" + std::to_string(target.port())});
  // The server itself listens for the client.
  ASSERT_TRUE(eventually([&] { return process_listens_on(server().pid(), port); }, 20s))
      << forwarding->status_text() << "\n"
      << forwarding_log() << "\n"
      << server().log();
  const auto payload = random_bytes(4 * 1024 * 1024 + 5, 2);
  EXPECT_EQ(send_and_receive(port, payload), HashingServer::expected_reply(payload));
  EXPECT_EQ(target.connections_served(), 1);
  // When the client goes, so does the listener.
  forwarding->stop();
  EXPECT_TRUE(eventually([&] { return !process_listens_on(server().pid(), port); }, 10s));
}

TEST_F(LimactlSshdOpenSshClient, StdioForwardServesAsProxyCommand) {
  // -W through our server to our server: the outer ssh logs in over the tunnel.
  const auto inner = shell_quote(server().ssh_command("", {"-W", "%h:%p"}));
  const auto result = ssh("echo through-the-proxy", {"-o", "ProxyCommand=" + inner});
  EXPECT_TRUE(result.exited_with(0)) << result.describe() << "\n" << server().log();
  EXPECT_EQ(result.out, "through-the-proxy\n");
  EXPECT_EQ(count_occurrences(server().log(), "authenticated as root"), 2u) << server().log();

  // And -W's stdin/stdout carry a payload to a TCP service as is.
  HashingServer target;
  RunOptions run;
  run.stdin_data = random_bytes(1024 * 1024, 3);
  const auto raw = ssh("", {"-W", "127.0.0.1:" + std::to_string(target.port())}, run);
  EXPECT_TRUE(raw.exited_with(0)) << raw.describe();
  EXPECT_EQ(raw.out, HashingServer::expected_reply(run.stdin_data));
}

TEST_F(LimactlSshdOpenSshClient, UnixSocketForwardsBothWays) {
  const auto local_target_path = scratch_.path() / "local-target.sock";
  const auto remote_target_path = scratch_.path() / "remote-target.sock";
  HashingServer local_target(local_target_path);
  HashingServer remote_target(remote_target_path);
  const auto local_entry = scratch_.path() / "L.sock";   // ssh listens, server connects
  const auto remote_entry = scratch_.path() / "R.sock";  // server listens, ssh connects
  auto forwarding =
      start_forwarding({"-L", local_entry.string() + ":" + remote_target_path.string(), "-R",
                        remote_entry.string() + ":" + local_target_path.string()});
  ASSERT_TRUE(
      eventually([&] { return fs::is_socket(local_entry) && fs::is_socket(remote_entry); }, 20s))
      << forwarding->status_text() << "\n"
      << forwarding_log() << "\n"
      << server().log();
  const auto payload = random_bytes(2 * 1024 * 1024 + 1, 4);
  EXPECT_EQ(send_and_receive(local_entry, payload), HashingServer::expected_reply(payload));
  EXPECT_EQ(remote_target.connections_served(), 1);
  EXPECT_EQ(send_and_receive(remote_entry, payload), HashingServer::expected_reply(payload));
  EXPECT_EQ(local_target.connections_served(), 1);
}

// ---- agent forwarding --------------------------------------------------------------

TEST_F(LimactlSshdOpenSshClient, AgentForwardingListsTheClientsKeys) {
  const auto agent_socket = scratch_.path() / "agent.sock";
  BackgroundProcess agent({"/usr/bin/ssh-agent", "-D", "-a", agent_socket.string()});
  ASSERT_TRUE(eventually([&] { return fs::is_socket(agent_socket); }, 10s)) << agent.status_text();
  const auto key =
      generate_openssh_key(scratch_.path() / "id_agent", KeyType::kEd25519, "in-agent");
  RunOptions with_agent;
  with_agent.environment = {{"SSH_AUTH_SOCK", agent_socket.string()}};
  const auto added = run_process({"/usr/bin/ssh-add", key.private_key.string()}, with_agent);
  ASSERT_TRUE(added.exited_with(0)) << added.describe();
  const auto listed_here = run_process({"/usr/bin/ssh-keygen", "-lf", key.public_key.string()});
  ASSERT_TRUE(listed_here.exited_with(0)) << listed_here.describe();
  std::smatch fingerprint;
  ASSERT_TRUE(std::regex_search(listed_here.out, fingerprint, std::regex(R"(SHA256:\S+)")));

  const auto forwarded =
      ssh("echo \"sock=${SSH_AUTH_SOCK-unset}\"; ssh-add -l", {"-A"}, with_agent);
  EXPECT_TRUE(forwarded.exited_with(0)) << forwarded.describe() << "\n" << server().log();
  EXPECT_TRUE(std::regex_search(forwarded.out, std::regex(R"(sock=/\S+)"))) << forwarded.out;
  EXPECT_NE(forwarded.out.find(fingerprint.str()), std::string::npos) << forwarded.out;
  EXPECT_NE(forwarded.out.find("in-agent"), std::string::npos) << forwarded.out;

  // Without -A the session has no agent.
  const auto plain = ssh("echo \"sock=${SSH_AUTH_SOCK-unset}\"", {}, with_agent);
  EXPECT_TRUE(plain.exited_with(0)) << plain.describe();
  EXPECT_EQ(plain.out, "sock=unset\n");
}

// ---- keepalives ----------------------------------------------------------------------

TEST_F(LimactlSshdOpenSshClient, KeepalivesAreAnswered) {
  // With no data for 4 s, ssh sends a keepalive every second and gives up
  // after two unanswered ones ("Timeout, server not responding").
  const auto result =
      ssh("sleep 4; echo alive", {"-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2"});
  EXPECT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, "alive\n");
  EXPECT_EQ(result.err.find("Timeout"), std::string::npos) << result.err;
}

// ---- AsyncSSH as a second client -----------------------------------------------------

TEST_F(LimactlSshdOpenSshClient, AsyncSshClientRunsCommands) {
  const auto script = scratch_.path() / "client.py";
  write_file(script, R"PY(
import asyncio, json, sys
import asyncssh

async def main(port, key, known_hosts):
    async with asyncssh.connect('127.0.0.1', port, username='root', client_keys=[key],
                                known_hosts=known_hosts, agent_path=None) as conn:
        plain = await conn.run('echo out; echo err >&2; exit 3')
        killed = await conn.run('kill -TERM $$')
        hashed = await conn.run('sha256sum', input='limactl' * 100000)
        print(json.dumps({
            'stdout': plain.stdout, 'stderr': plain.stderr, 'status': plain.exit_status,
            'signal': killed.exit_signal[0] if killed.exit_signal else None,
            'sha256': hashed.stdout.split()[0],
        }))

asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
)PY");
  const auto result = run_process(
      {"/usr/bin/python3", "-W", "ignore", script.string(), std::to_string(server().port()),
       server().client_key().private_key.string(), server().known_hosts_file().string()});
  ASSERT_TRUE(result.exited_with(0)) << result.describe() << "\n" << server().log();
  std::string expected_hash;
  {
    std::string input;
    for (int i = 0; i < 100000; ++i) input += "limactl";
    expected_hash = sha256_hex(input);
  }
  EXPECT_EQ(trim(result.out),
            "{\"stdout\": \"out\\n\", \"stderr\": \"err\\n\", \"status\": 3, "
            "\"signal\": \"TERM\", \"sha256\": \"" +
                expected_hash + "\"}");
}

}  // namespace
}  // namespace testing_support
