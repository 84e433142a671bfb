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
// With OpenSshServerOptions::root, the sshd of another Debian root directory
// runs instead (tests/support/openssh10_fixture.hpp: OpenSSH 10), as
// `chroot ROOT /usr/sbin/sshd ...`; the fixture's directory is then made in
// ROOT/tmp and the config names its files as sshd sees them, without the ROOT
// prefix. The chroot shares the host's network, so the port is on the host's
// loopback; nothing is mounted (sshd needs no /proc).
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
  // A root directory whose /usr/sbin/sshd runs chrooted into it; empty: the
  // host's sshd.
  std::filesystem::path root;
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
  // The root sshd runs in (OpenSshServerOptions::root); empty for the host's.
  const std::filesystem::path& root() const { return root_; }
  // How sshd (and the sessions it runs) name a file of the host under root():
  // "/tmp/x" for ROOT/tmp/x. The path itself when there is no root.
  std::filesystem::path path_in_root(const std::filesystem::path& host_path) const;

 private:
  std::filesystem::path root_;
  std::vector<KeyPair> host_keys_;
  std::filesystem::path config_file_;
  std::filesystem::path authorized_keys_file_;
};

}  // namespace testing_support
