// A throw-away OpenSSH sshd on 127.0.0.1 for interop tests.
//
// The fixture makes a temporary directory with host keys (ssh-keygen), a
// client key pair already in a temporary authorized_keys file, a known_hosts
// file and an sshd_config, then runs `/usr/sbin/sshd -D -E LOG -f CONFIG` on a
// free port. It never touches /etc/ssh or a system sshd: everything it uses
// is named in its own config. Run as root (sshd's privilege separation).
//
// The sshd_config (see OpenSshServer::config_file()) is:
//   <extra_config lines>            (first: sshd keeps the first value it reads)
//   Port, ListenAddress 127.0.0.1, HostKey <each requested type>,
//   AuthorizedKeysFile <temp file>, PasswordAuthentication no,
//   KbdInteractiveAuthentication no, PermitRootLogin yes, StrictModes no,
//   UsePAM no, PrintMotd no, PrintLastLog no,
//   Subsystem sftp /usr/lib/openssh/sftp-server, PidFile <temp>,
//   LogLevel <log_level, DEBUG3 by default>
//
// The log goes to a file with -E rather than to stderr with -e: with -e,
// sshd's per-session processes print debug lines on the session's stderr,
// where the SSH client would receive them as remote output.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "support/ssh_server.hpp"

namespace testing_support {

struct OpenSshServerOptions {
  // One HostKey per entry. A server with several offers all their algorithms
  // unless extra_config restricts HostKeyAlgorithms.
  std::vector<KeyType> host_keys = {KeyType::kEd25519};
  KeyType client_key = KeyType::kEd25519;
  // sshd_config lines placed before the fixture's own, e.g. "Ciphers aes128-ctr",
  // "MACs hmac-sha2-256", "KexAlgorithms curve25519-sha256",
  // "HostKeyAlgorithms rsa-sha2-256", "RekeyLimit 1M". No Match blocks.
  std::vector<std::string> extra_config;
  std::string log_level = "DEBUG3";
  std::chrono::milliseconds start_timeout = std::chrono::seconds(20);
};

class OpenSshServer : public SshServer {
 public:
  static constexpr const char* kSshdPath = "/usr/sbin/sshd";
  static constexpr const char* kSftpServerPath = "/usr/lib/openssh/sftp-server";

  explicit OpenSshServer(const OpenSshServerOptions& options = {});
  ~OpenSshServer() override;

  // Host key pairs in the order of OpenSshServerOptions::host_keys.
  const std::vector<KeyPair>& host_keys() const { return host_keys_; }
  // The host key of this type; throws if the server has none.
  const KeyPair& host_key(KeyType type) const;
  const std::filesystem::path& config_file() const { return config_file_; }
  const std::filesystem::path& authorized_keys_file() const { return authorized_keys_file_; }

 private:
  std::vector<KeyPair> host_keys_;
  std::filesystem::path config_file_;
  std::filesystem::path authorized_keys_file_;
};

}  // namespace testing_support
