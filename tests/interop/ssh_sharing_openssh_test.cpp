// Connection sharing (`limactl ssh -M -S`, `-S`, `-O`) against OpenSSH's
// sshd: 100 sessions through one master with one handshake, output, error
// and exit status relayed, 16 MiB both ways, -O check/exit/forward/cancel,
// a killed master (the next client falls back, a fresh master replaces the
// stale socket), ControlMaster auto, a client that does not read (the master
// stays bounded), 1,000 channels open at once on the shared connection, and
// a pty session driven by tmux that follows a resize.
// The control protocol is ours (docs/connection-sharing.md), so these run
// with `limactl ssh` only.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/build_paths.hpp"
#include "support/eventually.hpp"
#include "support/files.hpp"
#include "support/hashing_server.hpp"
#include "support/process.hpp"
#include "support/ssh_client.hpp"
#include "support/sshd_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/tmux.hpp"

namespace testing_support {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Argv limactl_ssh() {
  return {LIMACTL_BINARY, "ssh"};
}

class SshSharingTest : public ::testing::Test {
 protected:
  SshSharingTest() : server_(OpenSshServerOptions{}) {}

  ~SshSharingTest() override {
    // A master that went to the background (-f) is not our child.
    if (fs::exists(socket_)) (void)control("exit");
  }

  SshCall call(Argv options = {}) {
    SshCall made;
    made.client = limactl_ssh();
    made.options = {"-S", socket_.string()};
    made.options.insert(made.options.end(), options.begin(), options.end());
    return made;
  }

  // `limactl ssh -M -S SOCKET -N [OPTIONS]`, kept running until the socket
  // answers.
  std::unique_ptr<BackgroundProcess> start_master(const Argv& options = {}) {
    Argv all = {"-M", "-N"};
    all.insert(all.end(), options.begin(), options.end());
    SpawnOptions spawn;
    spawn.output_file = master_log_;
    auto master = std::make_unique<BackgroundProcess>(ssh_argv(server_, "", call(all)), spawn);
    const bool answering =
        eventually([&] { return !master->running() || control("check").exited_with(0); }, 30s);
    EXPECT_TRUE(answering && master->running()) << master->status_text() << "\n"
                                                << master_log() << "\n"
                                                << server_.log();
    return master;
  }

  ProcessResult control(const std::string& command, const Argv& options = {}) {
    Argv all = {"-O", command};
    all.insert(all.end(), options.begin(), options.end());
    RunOptions run;
    run.timeout = 30s;
    return run_ssh(server_, "", call(all), run);
  }

  ProcessResult through_master(const std::string& command, RunOptions run = RunOptions{}) {
    return run_ssh(server_, command, call(), run);
  }

  std::string master_log() { return read_file_from(master_log_, 0); }
  // Handshakes with authentication the server saw (the fixture's own
  // readiness probe is a connection too, but never authenticates).
  std::size_t logins() { return count_occurrences(server_.log(), "Accepted publickey"); }
  std::size_t connections_seen() { return count_occurrences(server_.log(), "Connection from "); }

  TempDir scratch_{"limactl-sharing"};
  fs::path socket_ = scratch_.path() / "master.sock";
  fs::path master_log_ = scratch_.path() / "master.log";
  OpenSshServer server_;
};

TEST_F(SshSharingTest, HundredSequentialSessionsShareOneHandshake) {
  auto master = start_master();
  ASSERT_TRUE(master->running());
  const auto connections_before = connections_seen();
  EXPECT_EQ(logins(), 1u) << server_.log();
  const auto started = Clock::now();
  for (int n = 0; n < 100; ++n) {
    const auto result = through_master("true");
    ASSERT_TRUE(result.exited_with(0)) << "session " << n << ": " << result.describe() << "\n"
                                       << master_log();
  }
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::cout << "100 sessions through the master: " << elapsed.count() << " ms\n";
  // sshd saw no new connection: no handshake, no authentication.
  EXPECT_EQ(connections_seen(), connections_before) << server_.log();
  EXPECT_EQ(logins(), 1u);
  EXPECT_TRUE(master->running()) << master_log();
}

TEST_F(SshSharingTest, OutputErrorsAndExitStatusArriveAsFromADirectSession) {
  auto master = start_master();
  const auto result = through_master("echo to-stdout; echo to-stderr >&2; exit 7");
  EXPECT_TRUE(result.exited_with(7)) << result.describe();
  EXPECT_EQ(result.out, "to-stdout\n");
  EXPECT_NE(result.err.find("to-stderr\n"), std::string::npos) << result.err;

  // Killed by a signal: 255, as ssh.
  const auto killed = through_master("kill -KILL $$");
  EXPECT_TRUE(killed.exited_with(255)) << killed.describe();

  const auto zero = through_master("exit 0");
  EXPECT_TRUE(zero.exited_with(0)) << zero.describe();
  EXPECT_EQ(logins(), 1u);
}

TEST_F(SshSharingTest, SixteenMebibytesEachWayKeepTheirHash) {
  auto master = start_master();
  const std::string payload = payload_of(16 * 1024 * 1024, 7);
  RunOptions run;
  run.stdin_data = payload;
  run.timeout = 120s;
  const auto hashed = through_master("sha256sum", run);
  ASSERT_TRUE(hashed.exited_with(0)) << hashed.describe();
  EXPECT_EQ(hashed.out.substr(0, 64), sha256_hex(payload));

  // Both directions at once: what goes in comes back.
  const auto echoed = through_master("cat", run);
  ASSERT_TRUE(echoed.exited_with(0)) << echoed.describe();
  EXPECT_EQ(echoed.out.size(), payload.size());
  EXPECT_EQ(sha256_hex(echoed.out), sha256_hex(payload));

  // And 16 MiB made remotely.
  const auto generated = through_master("head -c 16777216 /dev/zero | tr '\\0' 'x'", run);
  ASSERT_TRUE(generated.exited_with(0)) << generated.describe();
  EXPECT_EQ(generated.out, std::string(16 * 1024 * 1024, 'x'));
  EXPECT_EQ(logins(), 1u);
}

TEST_F(SshSharingTest, CheckAndExit) {
  const auto none = control("check");
  EXPECT_TRUE(none.exited_with(255)) << none.describe();
  EXPECT_NE(none.err.find("Control socket connect(" + socket_.string() + ")"), std::string::npos)
      << none.err;

  auto master = start_master();
  const auto running = control("check");
  EXPECT_TRUE(running.exited_with(0)) << running.describe();
  EXPECT_NE(running.err.find("Master running (pid=" + std::to_string(master->pid()) + ")"),
            std::string::npos)
      << running.err;
  EXPECT_EQ(fs::status(socket_).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  const auto exited = control("exit");
  EXPECT_TRUE(exited.exited_with(0)) << exited.describe();
  EXPECT_NE(exited.err.find("Exit request sent."), std::string::npos) << exited.err;
  EXPECT_TRUE(eventually([&] { return !master->running(); }, 20s)) << master_log();
  EXPECT_EQ(master->status_text(), "exited with status 0");
  EXPECT_FALSE(fs::exists(socket_));
  EXPECT_TRUE(control("check").exited_with(255));
}

TEST_F(SshSharingTest, ForwardAndCancelWhileASessionRuns) {
  auto master = start_master();
  ProcessResult session;
  std::thread running([&] { session = through_master("sleep 3; echo session-done"); });

  HashingServer target;
  const auto port = free_loopback_port();
  const std::string spec = std::to_string(port) + ":127.0.0.1:" + std::to_string(target.port());
  const auto forwarded = control("forward", {"-L", spec});
  ASSERT_TRUE(forwarded.exited_with(0)) << forwarded.describe() << "\n" << master_log();
  ASSERT_TRUE(wait_for_port(port, 20s));
  const auto payload = payload_of(2 * 1024 * 1024, 11);
  EXPECT_EQ(send_and_receive(port, payload), HashingServer::expected_reply(payload));

  const auto cancelled = control("cancel", {"-L", spec});
  EXPECT_TRUE(cancelled.exited_with(0)) << cancelled.describe() << "\n" << master_log();
  EXPECT_FALSE(port_accepts(port));
  const auto again = control("cancel", {"-L", spec});
  EXPECT_TRUE(again.exited_with(255)) << again.describe();

  // -R through the master: the server picks the port, the client prints it.
  const auto remote = control("forward", {"-R", "0:127.0.0.1:" + std::to_string(target.port())});
  ASSERT_TRUE(remote.exited_with(0)) << remote.describe() << "\n" << master_log();
  std::smatch match;
  ASSERT_TRUE(std::regex_search(remote.out, match, std::regex("Allocated port ([0-9]+)")))
      << remote.out;
  const auto remote_port = static_cast<std::uint16_t>(std::stoi(match[1]));
  EXPECT_EQ(send_and_receive(remote_port, payload), HashingServer::expected_reply(payload));
  const auto remote_cancelled =
      control("cancel", {"-R", match[1].str() + ":127.0.0.1:" + std::to_string(target.port())});
  EXPECT_TRUE(remote_cancelled.exited_with(0)) << remote_cancelled.describe();

  running.join();
  EXPECT_TRUE(session.exited_with(0)) << session.describe();
  EXPECT_EQ(session.out, "session-done\n");
  EXPECT_EQ(logins(), 1u);
}

TEST_F(SshSharingTest, KilledMasterFallsBackAndIsReplacedByAFreshOne) {
  auto master = start_master();
  ProcessResult cut;
  // The remote side is this machine: the marker says the session runs.
  const auto marker = scratch_.path() / "session-started";
  std::thread running([&] { cut = through_master("touch " + marker.string() + "; sleep 30"); });
  ASSERT_TRUE(eventually([&] { return fs::exists(marker); }, 30s)) << master_log();
  ASSERT_EQ(::kill(master->pid(), SIGKILL), 0);
  running.join();
  // The session's connection was lost: 255, as a direct session.
  EXPECT_TRUE(cut.exited_with(255)) << cut.describe();
  EXPECT_LT(cut.elapsed, 20s);
  ASSERT_TRUE(eventually([&] { return !master->running(); }, 10s));
  ASSERT_TRUE(fs::exists(socket_));  // a stale socket

  // -O: a clear error. A session: connects directly (ControlMaster no).
  const auto check = control("check");
  EXPECT_TRUE(check.exited_with(255)) << check.describe();
  EXPECT_NE(check.err.find("Connection refused"), std::string::npos) << check.err;
  const auto direct = through_master("echo direct");
  EXPECT_TRUE(direct.exited_with(0)) << direct.describe();
  EXPECT_EQ(direct.out, "direct\n");
  EXPECT_NE(direct.err.find("Control socket connect(" + socket_.string() + "): Connection refused"),
            std::string::npos)
      << direct.err;
  EXPECT_EQ(logins(), 2u);

  // A fresh master replaces the stale socket.
  auto fresh = start_master();
  ASSERT_TRUE(fresh->running()) << master_log();
  EXPECT_NE(master_log().find("removing stale control socket"), std::string::npos) << master_log();
  const auto shared = through_master("echo shared");
  EXPECT_TRUE(shared.exited_with(0)) << shared.describe();
  EXPECT_EQ(shared.out, "shared\n");
  EXPECT_EQ(logins(), 3u);

  // A second master on a live socket: a clear error, the first one stays.
  RunOptions run;
  run.timeout = 30s;
  const auto second = run_ssh(server_, "", call({"-M", "-N"}), run);
  EXPECT_TRUE(second.exited_with(255)) << second.describe();
  EXPECT_NE(second.err.find("already exists"), std::string::npos) << second.err;
  EXPECT_TRUE(control("check").exited_with(0));
}

TEST_F(SshSharingTest, ForkedMasterServesAndExits) {
  RunOptions run;
  run.timeout = 30s;
  const auto forked = run_ssh(server_, "", call({"-M", "-N", "-f"}), run);
  ASSERT_TRUE(forked.exited_with(0)) << forked.describe();
  // Listening before the parent returned.
  const auto check = control("check");
  ASSERT_TRUE(check.exited_with(0)) << check.describe();
  const auto shared = through_master("echo from-forked");
  EXPECT_EQ(shared.out, "from-forked\n") << shared.describe();
  EXPECT_TRUE(control("exit").exited_with(0));
  EXPECT_TRUE(eventually([&] { return !fs::exists(socket_); }, 20s));
}

TEST_F(SshSharingTest, ControlMasterAutoBecomesTheMasterThenShares) {
  ProcessResult first;
  const auto marker = scratch_.path() / "first-started";
  std::thread running([&] {
    first = run_ssh(server_, "touch " + marker.string() + "; sleep 4; echo first",
                    call({"-o", "ControlMaster=auto"}));
  });
  ASSERT_TRUE(eventually([&] { return fs::exists(marker) && fs::exists(socket_); }, 30s));
  const auto second = run_ssh(server_, "echo second", call({"-o", "ControlMaster=auto"}));
  EXPECT_TRUE(second.exited_with(0)) << second.describe();
  EXPECT_EQ(second.out, "second\n");
  // With a forward of its own, an auto client connects itself but does not
  // try to replace the live master.
  const auto port = free_loopback_port();
  const auto forwarding =
      run_ssh(server_, "echo third",
              call({"-o", "ControlMaster=auto", "-L", std::to_string(port) + ":127.0.0.1:9"}));
  EXPECT_TRUE(forwarding.exited_with(0)) << forwarding.describe();
  EXPECT_EQ(forwarding.out, "third\n");
  running.join();
  EXPECT_TRUE(first.exited_with(0)) << first.describe();
  EXPECT_EQ(first.out, "first\n");
  EXPECT_EQ(logins(), 2u);
}

// Resident memory of a process in KiB (VmRSS), 0 if it is gone.
std::size_t resident_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  }
  return 0;
}

TEST_F(SshSharingTest, AClientThatDoesNotReadCannotMakeTheMasterBuffer) {
  auto master = start_master();
  const auto before = resident_kib(master->pid());
  // 256 MiB of output towards a client that is stopped: the master may hold
  // what the channel's window allows, not the stream.
  const auto output = scratch_.path() / "output";
  Argv argv = ssh_argv(server_, "head -c 268435456 /dev/zero", call());
  argv.insert(argv.begin(), {"/bin/sh", "-c", "exec \"$0\" \"$@\" > " + output.string()});
  BackgroundProcess reader(argv);
  ASSERT_TRUE(eventually([&] { return fs::exists(output) && fs::file_size(output) > 0; }, 30s));
  ASSERT_EQ(::kill(reader.pid(), SIGSTOP), 0);
  std::this_thread::sleep_for(3s);
  const auto stalled = resident_kib(master->pid());
  const auto written = fs::file_size(output);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(fs::file_size(output), written);  // really stopped
  EXPECT_LT(stalled, before + 16 * 1024) << "master grew from " << before << " KiB";
  ASSERT_EQ(::kill(reader.pid(), SIGCONT), 0);
  EXPECT_TRUE(eventually([&] { return !reader.running(); }, 120s));
  EXPECT_EQ(reader.status_text(), "exited with status 0");
  EXPECT_EQ(fs::file_size(output), 268435456u);

  // The other way: stdin that the remote command never reads.
  const auto flood = scratch_.path() / "flood";
  Argv writer_argv = ssh_argv(server_, "sleep 6", call());
  writer_argv.insert(writer_argv.begin(),
                     {"/bin/sh", "-c", "head -c 268435456 /dev/zero | \"$0\" \"$@\""});
  BackgroundProcess writer(writer_argv);
  std::this_thread::sleep_for(4s);
  EXPECT_TRUE(writer.running());
  EXPECT_LT(resident_kib(master->pid()), before + 16 * 1024);
  EXPECT_TRUE(eventually([&] { return !writer.running(); }, 60s));
}

// A target that serves every connection at once (HashingServer serves one
// after another): read to EOF, answer "<sha256> <count>\n".
constexpr const char* kConcurrentHashServer = R"(
import asyncio, hashlib, sys
async def serve(reader, writer):
    data = await reader.read(-1)
    writer.write(f"{hashlib.sha256(data).hexdigest()} {len(data)}\n".encode())
    await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]), backlog=2048)
    async with server:
        await server.serve_forever()
asyncio.run(main())
)";

TEST_F(SshSharingTest, ThousandChannelsOpenAtOnceCarryTheirData) {
  constexpr int kChannels = 1000;
  const auto target_port = free_loopback_port();
  const auto script = scratch_.path() / "hash_server.py";
  write_file(script, kConcurrentHashServer);
  BackgroundProcess target({"/usr/bin/python3", script.string(), std::to_string(target_port)});
  ASSERT_TRUE(wait_for_port(target_port, 30s, [&] { return target.running(); }));

  auto master = start_master();
  const auto port = free_loopback_port();
  const auto forwarded = control(
      "forward", {"-L", std::to_string(port) + ":127.0.0.1:" + std::to_string(target_port)});
  ASSERT_TRUE(forwarded.exited_with(0)) << forwarded.describe();

  // Every connection is opened and has sent its payload before any ends
  // its input, and the target answers only at end of input: all 1,000
  // channels are open at the same time.
  std::vector<int> sockets;
  std::vector<std::string> payloads;
  for (int n = 0; n < kChannels; ++n) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockets.push_back(fd);
    timeval timeout{120, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << n;
    payloads.push_back(payload_of(1000 + static_cast<std::size_t>(n) * 7, n + 100));
    ASSERT_EQ(::write(fd, payloads.back().data(), payloads.back().size()),
              static_cast<ssize_t>(payloads.back().size()));
  }
  for (int fd : sockets) ::shutdown(fd, SHUT_WR);
  int correct = 0;
  for (int n = 0; n < kChannels; ++n) {
    std::string reply;
    char buffer[256];
    for (;;) {
      const auto got = ::read(sockets[n], buffer, sizeof buffer);
      if (got <= 0) break;
      reply.append(buffer, static_cast<std::size_t>(got));
    }
    ::close(sockets[n]);
    const auto expected = sha256_hex(payloads[n]) + " " + std::to_string(payloads[n].size()) + "\n";
    if (reply == expected) {
      ++correct;
    } else {
      ADD_FAILURE() << "channel " << n << ": " << reply;
      if (n > 5 && correct == 0) break;
    }
  }
  EXPECT_EQ(correct, kChannels) << master_log();
  EXPECT_TRUE(master->running());
  EXPECT_EQ(logins(), 1u);
}

TEST_F(SshSharingTest, PtySessionThroughTheMasterFollowsAResize) {
  auto master = start_master();
  const auto command = shell_quote(ssh_argv(server_, "", call({"-t"})));
  Tmux tmux(scratch_.path(), command, 120, 40);
  tmux.type_line("echo \"size=$(stty size) $((20+22))\"");
  ASSERT_TRUE(tmux.wait_for(std::regex(R"(size=40 120 42)"), 30s)) << tmux.screen() << "\n"
                                                                   << master_log();
  const auto resized = tmux.run({"resize-window", "-t", "t", "-x", "100", "-y", "30"});
  ASSERT_TRUE(resized.exited_with(0)) << resized.describe();
  tmux.type_line("clear; echo \"resized=$(stty size) $((3+4))\"");
  EXPECT_TRUE(tmux.wait_for(std::regex(R"(resized=30 100 7)"), 20s)) << tmux.screen();
  tmux.type_line("exit");
  EXPECT_TRUE(eventually(
      [&] {
        return !tmux.run({"has-session", "-t", "t"}).exited_with(0);
      },
      20s))
      << tmux.screen();
  EXPECT_EQ(logins(), 1u);
}

}  // namespace
}  // namespace testing_support
