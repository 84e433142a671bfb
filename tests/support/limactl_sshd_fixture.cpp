#include "support/limactl_sshd_fixture.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/build_paths.hpp"
#include "support/files.hpp"
#include "support/shell_startup.hpp"

namespace testing_support {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kListeningPrefix = "listening on 127.0.0.1:";

// The port from a complete first line "listening on 127.0.0.1:PORT\n"; 0
// while the line is incomplete or says something else.
std::uint16_t port_from_listening_line(const std::string& text) {
  const auto end = text.find('\n');
  if (end == std::string::npos || text.compare(0, kListeningPrefix.size(), kListeningPrefix) != 0) {
    return 0;
  }
  const char* first = text.data() + kListeningPrefix.size();
  const char* last = text.data() + end;
  unsigned value = 0;
  auto [stop, error] = std::from_chars(first, last, value);
  if (error != std::errc() || stop != last || value == 0 || value > 65535) return 0;
  return static_cast<std::uint16_t>(value);
}

}  // namespace

LimactlSshServer::LimactlSshServer(const LimactlSshServerOptions& options)
    : SshServer("limactl sshd", "limactl-ourssh") {
  if (!std::filesystem::exists(LIMACTL_BINARY)) {
    throw std::runtime_error(std::string(LIMACTL_BINARY) + " is missing: build the limactl target");
  }
  const auto& dir = directory();
  for (KeyType type : options.host_keys) {
    host_keys_.push_back(
        generate_openssh_key(dir / ("ssh_host_" + key_type_name(type) + "_key"), type, "host"));
    host_public_keys_.push_back(host_keys_.back().public_line);
  }
  client_key_ = generate_openssh_key(dir / ("id_" + key_type_name(options.client_key)),
                                     options.client_key, "client");
  authorized_keys_file_ = dir / "authorized_keys";
  write_file(authorized_keys_file_, client_key_.public_line + " client\n",
             std::filesystem::perms(0600));
  stdout_file_ = dir / "stdout";

  // stderr (the log) goes to log_file(), stdout to its own file: the
  // listening line must be the only thing on stdout.
  Argv argv = {"/bin/sh",
               "-c",
               "log=$1; shift; exec \"$@\" 2>>\"$log\"",
               "sh",
               log_file().string(),
               LIMACTL_BINARY,
               "sshd",
               "-p",
               "0"};
  for (const auto& key : host_keys_) argv.insert(argv.end(), {"-h", key.private_key.string()});
  argv.insert(argv.end(), {"-o", "ListenAddress=127.0.0.1", "-o",
                           "AuthorizedKeysFile=" + authorized_keys_file_.string()});
  for (const auto& option : options.options) argv.insert(argv.end(), {"-o", option});
  if (options.debug) argv.push_back("-d");

  SpawnOptions spawn;
  spawn.output_file = stdout_file_;
  spawn.environment = options.environment;
  spawn.private_bind_mounts = empty_shell_startup_mounts(dir);
  spawn.private_bind_mounts.insert(spawn.private_bind_mounts.end(),
                                   options.private_bind_mounts.begin(),
                                   options.private_bind_mounts.end());
  process_ = std::make_unique<BackgroundProcess>(argv, spawn);

  const auto deadline = Clock::now() + options.start_timeout;
  while (port_ == 0) {
    port_ = port_from_listening_line(stdout_text());
    if (port_ != 0) break;
    if (!process_->running()) fail_start("exited before printing its port: " + stdout_text());
    if (Clock::now() > deadline) {
      fail_start("printed no \"listening on 127.0.0.1:PORT\" line within " +
                 std::to_string(options.start_timeout.count()) + " ms; stdout: " + stdout_text());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!process_listens_on(process_->pid(), port_) || !port_accepts(port_)) {
    fail_start("printed port " + std::to_string(port_) + " but does not listen on it");
  }
  write_known_hosts();

  client_config_file_ = dir / "ssh_config";
  std::string config = std::string("Host ") + kHostAlias + "\n";
  config += "  HostName 127.0.0.1\n";
  config += "  Port " + std::to_string(port_) + "\n";
  config += "  User root\n";
  config += "  IdentityFile " + client_key_.private_key.string() + "\n";
  config += "  IdentitiesOnly yes\n";
  config += "  UserKnownHostsFile " + known_hosts_file().string() + "\n";
  config += "  StrictHostKeyChecking yes\n";
  config += "  BatchMode yes\n";
  write_file(client_config_file_, config);
}

LimactlSshServer::~LimactlSshServer() = default;

std::string LimactlSshServer::stdout_text() const {
  return read_file_from(stdout_file_, 0);
}

Argv LimactlSshServer::openssh_options() const {
  return {"-F", "/dev/null",
          "-i", client_key_.private_key.string(),
          "-o", "IdentitiesOnly=yes",
          "-o", "UserKnownHostsFile=" + known_hosts_file().string(),
          "-o", "StrictHostKeyChecking=yes",
          "-o", "BatchMode=yes"};
}

Argv LimactlSshServer::ssh_command(const std::string& command, const Argv& extra) const {
  Argv argv = {kOpenSshClientPath};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"-F", client_config_file_.string(), kHostAlias});
  if (!command.empty()) argv.push_back(command);
  return argv;
}

SshCall LimactlSshServer::openssh_call(const Argv& extra) const {
  SshCall call;
  call.client = Argv{kOpenSshClientPath};
  call.options = extra;
  call.options.insert(call.options.end(), {"-o", "IdentitiesOnly=yes"});
  return call;
}

std::string LimactlSshServer::terminate() {
  process_->stop(std::chrono::seconds(10));
  return process_->status_text();
}

int count_open_fds(pid_t pid) {
  std::error_code error;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", error);
  if (error) return -1;
  int count = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (error) return -1;
    ++count;
  }
  return count;
}

std::vector<pid_t> child_pids(pid_t pid) {
  std::vector<pid_t> children;
  std::error_code error;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/task", error);
  if (error) return children;
  for (; it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (error) break;
    std::ifstream file(it->path() / "children");
    pid_t child = 0;
    while (file >> child) children.push_back(child);
  }
  return children;
}

}  // namespace testing_support
