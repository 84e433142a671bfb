// What every throw-away SSH server fixture offers the tests: a loopback port,
// a client key the server accepts for root, a known_hosts file with the
// server's host keys, and the server's log.
//
// Each fixture owns a temporary directory with everything it made (keys,
// configuration, log) and stops its server in the destructor. Constructors
// throw std::runtime_error with the server's log when the server cannot be
// started: a missing server program is a failure, never a skip.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/keys.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace testing_support {

class SshServer {
 public:
  virtual ~SshServer();
  SshServer(const SshServer&) = delete;
  SshServer& operator=(const SshServer&) = delete;

  // "OpenSSH sshd", "Dropbear", "AsyncSSH".
  const std::string& name() const { return name_; }
  std::uint16_t port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  std::string user() const { return "root"; }
  std::string destination() const { return user() + "@" + host(); }
  // How known_hosts names this server: "[127.0.0.1]:PORT".
  std::string known_hosts_name() const;
  // "[127.0.0.1]:PORT <type> <base64>" for a public key line.
  std::string known_hosts_line(const std::string& public_line) const;

  // The key pair whose public half the server accepts for root.
  const KeyPair& client_key() const { return client_key_; }
  // A known_hosts file listing every host key of this server.
  const std::filesystem::path& known_hosts_file() const { return known_hosts_file_; }
  // The server's host public keys, "<type> <base64>".
  const std::vector<std::string>& host_public_keys() const { return host_public_keys_; }
  // The fixture's temporary directory (removed in the destructor).
  const std::filesystem::path& directory() const { return dir_.path(); }

  const std::filesystem::path& log_file() const { return log_file_; }
  std::string log() const;
  // For "what did the server log during this connection": take log_size()
  // before, read log_since() after.
  std::uintmax_t log_size() const;
  std::string log_since(std::uintmax_t offset) const;

  bool running();
  void stop();

 protected:
  // The temporary directory is made in temp_parent, or in the system temp
  // dir when it is empty.
  SshServer(std::string name, const std::string& temp_prefix,
            const std::filesystem::path& temp_parent = {});

  // Starts the server made by make_argv(port) on a free port and waits up to
  // `timeout` until this very process listens on it (then checks that the
  // port accepts a connection). Retries with another port when the server
  // dies saying the address is in use; otherwise throws with the log.
  void start_on_free_port(const std::function<Argv(std::uint16_t port)>& make_argv,
                          const SpawnOptions& spawn_options, std::chrono::milliseconds timeout);
  // For servers that choose their own port: waits until `port_file` holds a
  // port number the server listens on.
  void start_reporting_port(const Argv& argv, const SpawnOptions& spawn_options,
                            const std::filesystem::path& port_file,
                            std::chrono::milliseconds timeout);
  void write_known_hosts();
  [[noreturn]] void fail_start(const std::string& what);

  TempDir dir_;
  std::string name_;
  std::uint16_t port_ = 0;
  KeyPair client_key_;
  std::vector<std::string> host_public_keys_;
  std::filesystem::path known_hosts_file_;
  std::filesystem::path log_file_;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace testing_support
