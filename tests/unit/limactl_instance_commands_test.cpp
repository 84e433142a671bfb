// `limactl create`, `list`, `delete` and `info` as users run them: the
// built binary with $LIMA_HOME in a temp dir. Linux only (it runs processes
// through tests/support/process.*). Starting VMs is tested elsewhere; here
// a running VM is a stand-in process whose pid is in qemu.pid.
#include <gtest/gtest.h>
#include <signal.h>

#include <asio.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "support/build_paths.hpp"
#include "support/files.hpp"
#include "support/http_test_server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "vm/lima_config_load.hpp"

namespace {

namespace fs = std::filesystem;
using testing_support::ProcessResult;
using testing_support::TempDir;

class LimactlInstances : public ::testing::Test {
 protected:
  fs::path home() const { return dir_.path() / "lima-home"; }

  ProcessResult limactl(const testing_support::Argv& arguments,
                        const testing_support::Environment& extra_environment = {}) {
    testing_support::Argv argv = {LIMACTL_BINARY};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    testing_support::RunOptions options;
    options.environment = {{"LIMA_HOME", home().string()},
                           {"XDG_CACHE_HOME", (dir_.path() / "cache").string()}};
    options.environment.insert(options.environment.end(), extra_environment.begin(),
                               extra_environment.end());
    options.timeout = std::chrono::seconds(30);
    return testing_support::run_process(argv, options);
  }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_.path() / name;
    testing_support::write_file(path, text);
    return path.string();
  }

  std::vector<nlohmann::json> list_json() {
    const ProcessResult result = limactl({"list", "--json"});
    EXPECT_TRUE(result.exited_with(0)) << result.describe();
    std::vector<nlohmann::json> objects;
    std::istringstream lines(result.out);
    for (std::string line; std::getline(lines, line);)
      objects.push_back(nlohmann::json::parse(line));
    return objects;
  }

  TempDir dir_{"limactl-instances"};
};

TEST_F(LimactlInstances, CreateFromBothTemplatesListAndDelete) {
  ProcessResult result = limactl({"list"});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "No instance found. Run `limactl create` to create an instance.\n");

  result = limactl({"create", "--name", "local", "template:debian-local"});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, "Created instance \"local\" in " + (home() / "local").string() +
                            "\nRun `limactl start local` to start it.\n");
  // The guest image paths point where scripts/build-guest-image leaves it.
  const auto yaml = testing_support::read_file(home() / "local" / "lima.yaml");
  EXPECT_NE(yaml.find((dir_.path() / "cache" / "limactl" / "guest-image" / "disk.qcow2").string()),
            std::string::npos)
      << yaml;

  // template:default is the default source and gives its name.
  result = limactl(
      {"create", "--cpus", "3", "--memory", "2.5", "--disk", "20", "--mount", "/srv/data:w"});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  const auto loaded = vm::load_lima_config_file(home() / "default" / "lima.yaml");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded.config.cpus, 3);
  EXPECT_EQ(loaded.config.memory, 2560ULL << 20);
  EXPECT_EQ(loaded.config.disk, 20ULL << 30);
  ASSERT_EQ(loaded.config.mounts.size(), 3u);  // the template's two and ours
  EXPECT_EQ(loaded.config.mounts[2].location, "/srv/data");
  EXPECT_EQ(loaded.config.mounts[2].writable, true);

  result = limactl({"list"});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  std::istringstream table(result.out);
  std::string header, first, second, extra;
  std::getline(table, header);
  std::getline(table, first);
  std::getline(table, second);
  EXPECT_FALSE(std::getline(table, extra)) << result.out;
  for (const char* column :
       {"NAME", "STATUS", "SSH", "VMTYPE", "ARCH", "CPUS", "MEMORY", "DISK", "DIR"}) {
    EXPECT_NE(header.find(column), std::string::npos) << header;
  }
  EXPECT_TRUE(first.starts_with("default ")) << first;
  EXPECT_NE(first.find("Stopped"), std::string::npos) << first;
  EXPECT_NE(first.find("2560MiB"), std::string::npos) << first;
  EXPECT_NE(first.find("20GiB"), std::string::npos) << first;
  EXPECT_TRUE(second.starts_with("local ")) << second;
  EXPECT_NE(second.find("1GiB"), std::string::npos) << second;

  const auto objects = list_json();
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0]["name"], "default");
  EXPECT_EQ(objects[0]["status"], "Stopped");
  EXPECT_EQ(objects[0]["cpus"], 3);
  EXPECT_EQ(objects[0]["memory"], 2560ULL << 20);
  EXPECT_EQ(objects[0]["vmType"], "qemu");
  EXPECT_EQ(objects[0]["dir"], (home() / "default").string());
  EXPECT_EQ(objects[1]["name"], "local");

  result = limactl({"list", "-q"});
  EXPECT_EQ(result.out, "default\nlocal\n");
  result = limactl({"list", "local", "nosuch"});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_NE(result.out.find("local "), std::string::npos) << result.out;
  EXPECT_EQ(result.err, "limactl list: no instance named \"nosuch\"\n");

  result = limactl({"delete", "default", "local"});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_FALSE(fs::exists(home() / "default"));
  EXPECT_FALSE(fs::exists(home() / "local"));
  EXPECT_TRUE(list_json().empty());
}

TEST_F(LimactlInstances, BadInputIsOneLineAndLeavesNothingBehind) {
  ProcessResult result = limactl({"create", "--name", "a"});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  result = limactl({"create", "--name", "a"});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_EQ(result.err,
            "limactl create: instance \"a\" already exists (" + (home() / "a").string() + ")\n");

  result = limactl({"create", "--name", "no/slash"});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_NE(result.err.find("instance name \"no/slash\" is not valid"), std::string::npos)
      << result.err;

  result = limactl({"create", "template:nosuch"});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_EQ(result.err,
            "limactl create: no template named \"nosuch\"; built-in templates: debian-local, "
            "default\n");

  result = limactl({"create", (dir_.path() / "missing.yaml").string()});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_NE(result.err.find("cannot read"), std::string::npos) << result.err;

  const std::string bad = write("bad.yaml", "images:\n- location: rel.img\ncpus: 0\n");
  result = limactl({"create", bad});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_EQ(result.err, "limactl create: " + bad +
                            ":2: images[0].location: must be an absolute path or start with ~/, "
                            "got \"rel.img\"\n"
                            "limactl create: " +
                            bad + ":3: cpus: must be greater than 0, got 0\n" + "limactl create: " +
                            bad + " is not a valid configuration; no instance was created\n");
  EXPECT_FALSE(fs::exists(home() / "bad"));

  const std::string malformed = write("malformed.yaml", "cpus: [2\n");
  result = limactl({"create", "--cpus", "2", malformed});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_NE(result.err.find("malformed YAML"), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(home() / "malformed"));

  // $LIMA_HOME under a file cannot be made.
  write("a-file", "");
  testing_support::RunOptions options;
  options.environment = {{"LIMA_HOME", (dir_.path() / "a-file" / "lima").string()}};
  options.timeout = std::chrono::seconds(30);
  result = testing_support::run_process({LIMACTL_BINARY, "create", "--name", "x"}, options);
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_NE(result.err.find("set LIMA_HOME to a writable directory"), std::string::npos)
      << result.err;

  EXPECT_EQ(list_json().size(), 1u);  // only "a"
}

TEST_F(LimactlInstances, RunningInstancesAreShownAndOnlyDeletedWithForce) {
  ASSERT_TRUE(limactl({"create", "--name", "vm"}).exited_with(0));
  testing_support::BackgroundProcess stand_in({"sleep", "600"});
  write("lima-home/vm/qemu.pid", std::to_string(stand_in.pid()) + "\n");

  auto objects = list_json();
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0]["status"], "Running");
  EXPECT_EQ(objects[0]["driverPID"], stand_in.pid());

  ProcessResult result = limactl({"delete", "vm"});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_EQ(result.err, "limactl delete: instance \"vm\" is running (pid " +
                            std::to_string(stand_in.pid()) +
                            "): stop it first (limactl stop), or delete with --force\n");
  EXPECT_TRUE(fs::exists(home() / "vm" / "lima.yaml"));

  result = limactl({"delete", "--force", "vm"});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_FALSE(fs::exists(home() / "vm"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (stand_in.running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(stand_in.status_text().starts_with("killed by signal 9")) << stand_in.status_text();
}

TEST_F(LimactlInstances, AStalePidFileIsBrokenWithTheReason) {
  ASSERT_TRUE(limactl({"create", "--name", "vm"}).exited_with(0));
  int gone_pid = 0;
  {
    testing_support::BackgroundProcess short_lived({"true"});
    gone_pid = short_lived.pid();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (short_lived.running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  write("lima-home/vm/qemu.pid", std::to_string(gone_pid) + "\n");
  const auto objects = list_json();
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0]["status"], "Broken");
  ASSERT_TRUE(objects[0].contains("errors"));
  EXPECT_NE(objects[0]["errors"][0].get<std::string>().find("which is not running"),
            std::string::npos)
      << objects[0].dump();
  // A broken instance can be deleted without --force.
  EXPECT_TRUE(limactl({"delete", "vm"}).exited_with(0));
}

TEST_F(LimactlInstances, InfoNamesHomeTemplatesAndTheGuestImageDirectory) {
  const ProcessResult result = limactl({"info"});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  const auto info = nlohmann::json::parse(result.out);
  EXPECT_EQ(info["limaHome"], home().string());
  EXPECT_EQ(info["vmTypes"], nlohmann::json::array({"qemu"}));
  EXPECT_EQ(info["templates"].size(), 2u);
  EXPECT_EQ(info["guestImageDirectory"],
            (dir_.path() / "cache" / "limactl" / "guest-image").string());
}

// An instance whose "disk" is a small raw file and whose kernel is not one:
// enough for start to get as far as QEMU, which then refuses the kernel.
std::string small_instance_yaml(const fs::path& dir, int ssh_port) {
  testing_support::write_file(dir / "disk.raw", std::string(1 << 20, '\0'));
  testing_support::write_file(dir / "not-a-kernel", "this is no kernel\n");
  return "vmType: qemu\n"
         "arch: x86_64\n"
         "images:\n"
         "- location: \"" +
         (dir / "disk.raw").string() +
         "\"\n"
         "  arch: x86_64\n"
         "  kernel:\n"
         "    location: \"" +
         (dir / "not-a-kernel").string() +
         "\"\n"
         "cpus: 1\n"
         "memory: 256MiB\n"
         "disk: 1GiB\n"
         "ssh:\n"
         "  localPort: " +
         std::to_string(ssh_port) + "\n";
}

TEST_F(LimactlInstances, StartWithItsSshPortTakenSaysSoAndStartsNothing) {
  asio::io_context io;
  asio::ip::tcp::acceptor taken(io, {asio::ip::address_v4::loopback(), 0});
  const int port = taken.local_endpoint().port();
  const std::string yaml = write("small.yaml", small_instance_yaml(dir_.path(), port));
  ASSERT_TRUE(limactl({"create", "--name", "small", yaml}).exited_with(0));

  const ProcessResult result = limactl({"start", "small"});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_NE(result.err.find("limactl start: 127.0.0.1:" + std::to_string(port) +
                            " (ssh.localPort in lima.yaml) cannot be used: "),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("set ssh.localPort to 0 to take a free port"), std::string::npos);
  EXPECT_FALSE(fs::exists(home() / "small" / "qemu.pid"));
  // The disk was made; the next start reuses it.
  EXPECT_TRUE(fs::exists(home() / "small" / "diffdisk"));
}

TEST_F(LimactlInstances, StartWhenQemuExitsAtOnceShowsQemusWordsAndLeavesItStopped) {
  const std::string yaml = write("small.yaml", small_instance_yaml(dir_.path(), 0));
  ASSERT_TRUE(limactl({"create", "--name", "small", yaml}).exited_with(0));

  ProcessResult result = limactl({"start", "small"});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_NE(result.err.find("limactl start: QEMU exited (exit status 1):"), std::string::npos)
      << result.err;
  // QEMU's own complaint about the kernel, quoted from its log.
  EXPECT_NE(result.err.find("(exit status 1):\n  qemu"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("qemu.stderr.log"), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(home() / "small" / "qemu.pid"));
  result = limactl({"list", "--json", "small"});
  EXPECT_EQ(nlohmann::json::parse(result.out)["status"], "Stopped") << result.out;
  // What start prepared: the guest's host key, cidata, the overlay.
  for (const char* file : {"ssh_host_ed25519_key", "ssh_host_ed25519_key.pub", "cidata.iso",
                           "basedisk", "diffdisk", "kernel", "ssh.config", "known_hosts"}) {
    EXPECT_TRUE(fs::exists(home() / "small" / file)) << file;
  }
  EXPECT_TRUE(fs::exists(home() / "_config" / "user"));
}

TEST_F(LimactlInstances, StartWithoutQemuOrImageAndStopOfAStoppedInstanceAreClearErrors) {
  const std::string yaml = write("small.yaml", small_instance_yaml(dir_.path(), 0));
  ASSERT_TRUE(limactl({"create", "--name", "small", yaml}).exited_with(0));
  ProcessResult result =
      limactl({"start", "small"}, {{"QEMU_SYSTEM_X86_64", "/nonexistent/qemu-system-x86_64"}});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_EQ(result.err,
            "limactl start: /nonexistent/qemu-system-x86_64 was not found ($QEMU_SYSTEM_X86_64): "
            "install QEMU (Debian: apt install qemu-system-x86 qemu-utils)\n");

  ASSERT_TRUE(limactl({"create", "--name", "local", "template:debian-local"}).exited_with(0));
  result = limactl({"start", "local"});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_NE(result.err.find("does not exist: build the local guest image first with "
                            "scripts/build-guest-image"),
            std::string::npos)
      << result.err;

  result = limactl({"stop", "small"});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_EQ(result.err, "limactl stop: instance \"small\" is not running\n");
  result = limactl({"start", "missing"});
  EXPECT_TRUE(result.exited_with(1));
  EXPECT_EQ(result.err, "limactl start: no instance \"missing\" in " + home().string() +
                            ": create it with `limactl create --name missing TEMPLATE`\n");
}

TEST_F(LimactlInstances, StopOfAVmThatDiedClearsItsStaleFiles) {
  const std::string yaml = write("small.yaml", small_instance_yaml(dir_.path(), 0));
  ASSERT_TRUE(limactl({"create", "--name", "small", yaml}).exited_with(0));
  // A pid that is surely gone: a child that has exited and been reaped.
  const ProcessResult finished = testing_support::run_process({"/bin/sh", "-c", "echo $$"});
  testing_support::write_file(home() / "small" / "qemu.pid", finished.out);
  const ProcessResult result = limactl({"stop", "small"});
  EXPECT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_NE(result.err.find("was not running"), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(home() / "small" / "qemu.pid"));
}

// Stands in for a QEMU whose guest ignores the power button: answers QMP on
// the instance's qmp.sock but never exits. Detached (it forks and its parent
// exits), so once killed it is nobody's zombie here.
constexpr const char* kDeafQemu = R"(
import json, os, socket, sys
if os.fork():
    os._exit(0)
os.setsid()
sock = socket.socket(socket.AF_UNIX)
sock.bind(sys.argv[1])
sock.listen(1)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while True:
    conn, _ = sock.accept()
    stream = conn.makefile("rwb")
    stream.write(b'{"QMP": {"version": {}, "capabilities": []}}\r\n')
    stream.flush()
    for line in stream:
        json.loads(line)
        stream.write(b'{"return": {}}\r\n')
        stream.flush()
)";

TEST_F(LimactlInstances, StopKillsQemuWhenTheGuestIgnoresThePowerButton) {
  const std::string yaml = write("small.yaml", small_instance_yaml(dir_.path(), 0));
  ASSERT_TRUE(limactl({"create", "--name", "small", yaml}).exited_with(0));
  const fs::path instance = home() / "small";
  const std::string script = write("deaf_qemu.py", kDeafQemu);
  const ProcessResult launched = testing_support::run_process(
      {"python3", script, (instance / "qmp.sock").string(), (instance / "qemu.pid").string()});
  ASSERT_TRUE(launched.exited_with(0)) << launched.describe();
  for (int i = 0; i < 100 && !fs::exists(instance / "qemu.pid"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(fs::exists(instance / "qemu.pid"));
  const int pid = std::stoi(testing_support::read_file(instance / "qemu.pid"));

  ProcessResult result = limactl({"list", "--json", "small"});
  EXPECT_EQ(nlohmann::json::parse(result.out)["status"], "Running") << result.out;
  result = limactl({"stop", "--timeout", "2", "small"});
  EXPECT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.err,
            "limactl stop: asking the guest to power off (QMP system_powerdown)\n"
            "limactl stop: the guest did not power off within 2 s; killing QEMU\n"
            "limactl stop: QEMU (pid " +
                std::to_string(pid) + ") killed\n");
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_FALSE(fs::exists(instance / "qemu.pid"));
  EXPECT_FALSE(fs::exists(instance / "qmp.sock"));
  result = limactl({"list", "--json", "small"});
  EXPECT_EQ(nlohmann::json::parse(result.out)["status"], "Stopped") << result.out;
}

TEST_F(LimactlInstances, StartDownloadsRemoteImagesIntoTheCacheOnce) {
  const std::string disk(1 << 20, '\0');
  const std::string kernel = "this is no kernel\n";
  testing_support::HttpTestServer server([&](const testing_support::HttpRequest& request) {
    if (request.target.starts_with("/images/disk.raw")) {
      return testing_support::reply_for_file(request, {disk, "\"d1\""});
    }
    if (request.target == "/images/vmlinuz") {
      return testing_support::reply_for_file(request, {kernel, "\"k1\""});
    }
    testing_support::HttpReply missing;
    missing.status = 404;
    missing.reason = "Not Found";
    return missing;
  });
  const std::string disk_url = server.url("/images/disk.raw");
  const std::string yaml = write("remote.yaml",
                                 "vmType: qemu\n"
                                 "arch: x86_64\n"
                                 "images:\n"
                                 "- location: \"" +
                                     disk_url +
                                     "\"\n"
                                     "  arch: x86_64\n"
                                     "  digest: \"" +
                                     "sha256:" + testing_support::sha256_hex(disk) +
                                     "\"\n"
                                     "  kernel:\n"
                                     "    location: \"" +
                                     server.url("/images/vmlinuz") +
                                     "\"\n"
                                     "cpus: 1\n"
                                     "memory: 256MiB\n"
                                     "disk: 1GiB\n");
  ASSERT_TRUE(limactl({"create", "--name", "remote", yaml}).exited_with(0));
  ProcessResult result = limactl({"start", "remote"});
  // The kernel is no kernel: QEMU refuses it once everything was fetched.
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_NE(result.err.find("limactl start: downloading the disk image " + disk_url),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("QEMU exited"), std::string::npos) << result.err;
  // Lima's cache layout under $XDG_CACHE_HOME/limactl, and the instance's copies.
  const fs::path cached = dir_.path() / "cache" / "limactl" / "download" / "by-url-sha256";
  std::size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(cached)) {
    if (entry.is_directory()) ++entries;
  }
  EXPECT_EQ(entries, 2u);
  EXPECT_EQ(testing_support::read_file(home() / "remote" / "basedisk"), disk);
  EXPECT_EQ(testing_support::read_file(home() / "remote" / "kernel"), kernel);
  const std::size_t requests = server.requests().size();
  EXPECT_EQ(requests, 2u);

  // A second instance of the same images takes them from the cache.
  ASSERT_TRUE(limactl({"create", "--name", "again", yaml}).exited_with(0));
  result = limactl({"start", "again"});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_EQ(server.requests().size(), requests);
  EXPECT_EQ(testing_support::read_file(home() / "again" / "basedisk"), disk);

  // A wrong digest is refused and nothing of it is kept.
  const std::string wrong = write("wrong.yaml",
                                  "images:\n"
                                  "- location: \"" +
                                      server.url("/images/disk.raw?other") +
                                      "\"\n"
                                      "  digest: \"sha256:" +
                                      std::string(64, '0') +
                                      "\"\n"
                                      "memory: 256MiB\n");
  ASSERT_TRUE(limactl({"create", "--name", "wrong", wrong}).exited_with(0));
  result = limactl({"start", "wrong"});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_NE(result.err.find("digest"), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(home() / "wrong" / "basedisk"));
}

}  // namespace
