// A throw-away `limactl sshd` on 127.0.0.1 for the server's interop tests.
//
// The fixture makes a temporary directory with host keys and a client key
// (ssh-keygen), an authorized_keys file (0600) holding the client key, a
// known_hosts file pinned to the host keys and an OpenSSH client config, then
// runs
//   limactl sshd -p 0 -h HOSTKEY... -o ListenAddress=127.0.0.1
//                -o AuthorizedKeysFile=FILE [-o Key=value]... [-d]
// with stdout in one file and stderr (the log) in another. The server picks
// its own port; the fixture reads it from the one line the server prints on
// stdout, `listening on 127.0.0.1:PORT`, so there is no race for a port.
//
// The clients under test are OpenSSH's ssh, scp and sftp: openssh_options()
// and client_config_file() give them everything (key, IdentitiesOnly,
// known_hosts with StrictHostKeyChecking=yes, BatchMode, -F so no user or
// system config is read).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "support/ssh_client.hpp"
#include "support/ssh_server.hpp"

namespace testing_support {

struct LimactlSshServerOptions {
  std::vector<KeyType> host_keys = {KeyType::kEd25519};
  KeyType client_key = KeyType::kEd25519;
  // Extra -o values, "Key=value" (e.g. "MaxStartups=5", "LoginGraceTime=3").
  std::vector<std::string> options;
  bool debug = false;  // -d
  // Variables added to the server's environment.
  Environment environment;
  // (source, target) paths bind-mounted in a private mount namespace for the
  // server and everything it starts (see SpawnOptions::private_bind_mounts),
  // e.g. a trap script over /usr/bin/scp.
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> private_bind_mounts;
  std::chrono::milliseconds start_timeout = std::chrono::seconds(20);
};

class LimactlSshServer : public SshServer {
 public:
  explicit LimactlSshServer(const LimactlSshServerOptions& options = {});
  ~LimactlSshServer() override;

  pid_t pid() const { return process_->pid(); }
  const std::vector<KeyPair>& host_keys() const { return host_keys_; }
  const std::filesystem::path& authorized_keys_file() const { return authorized_keys_file_; }
  // What the server printed on stdout (the contract: exactly one line).
  std::string stdout_text() const;

  // The name client_config_file() gives this server: `ssh -F CONFIG ALIAS`.
  static constexpr const char* kHostAlias = "limactl-sshd";
  // Host limactl-sshd: HostName, Port, User root, IdentityFile,
  // IdentitiesOnly, UserKnownHostsFile, StrictHostKeyChecking yes, BatchMode.
  const std::filesystem::path& client_config_file() const { return client_config_file_; }
  // The same as command line options for ssh, scp and sftp (no port: ssh
  // takes -p, scp and sftp -P): -F /dev/null -i KEY -o IdentitiesOnly=yes
  // -o UserKnownHostsFile=FILE -o StrictHostKeyChecking=yes -o BatchMode=yes.
  Argv openssh_options() const;
  // /usr/bin/ssh [extra] -F CONFIG limactl-sshd [command]
  Argv ssh_command(const std::string& command, const Argv& extra = {}) const;
  // An SshCall for run_ssh() that runs OpenSSH's ssh with IdentitiesOnly.
  SshCall openssh_call(const Argv& extra = {}) const;

  // SIGTERM, then waits for the exit; returns how it ended ("exited with
  // status 0" is the contract).
  std::string terminate();

 private:
  std::vector<KeyPair> host_keys_;
  std::filesystem::path authorized_keys_file_;
  std::filesystem::path stdout_file_;
  std::filesystem::path client_config_file_;
};

// Open file descriptors of a process (entries of /proc/PID/fd); -1 if it is gone.
int count_open_fds(pid_t pid);
// The pids of the process's children (from /proc/PID/task/*/children).
std::vector<pid_t> child_pids(pid_t pid);

}  // namespace testing_support
