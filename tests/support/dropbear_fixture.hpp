// A throw-away Dropbear server on 127.0.0.1 for interop tests.
//
// Runs `/usr/sbin/dropbear -F -E -s -m -p 127.0.0.1:PORT -r HOSTKEY -P PIDFILE`
// with a host key made by dropbearkey and a client key made by ssh-keygen.
//
// authorized_keys: Dropbear 2022.83 only reads ~USER/.ssh/authorized_keys,
// with ~ taken from the password database (not $HOME), and has no option to
// name another file. Rather than touch root's real ~/.ssh, the fixture starts
// dropbear in a private mount namespace (unshare(CLONE_NEWNS), / made
// private) in which a temporary home directory holding .ssh/authorized_keys
// is bind-mounted over root's home directory. Only dropbear and the sessions
// it starts see that mount; it disappears with them, even if the test
// crashes, and parallel tests each see their own. Remote commands therefore
// run with HOME (and the starting directory) in the fixture's temporary
// home; everything else (/tmp, ...) is the real file system. This needs root
// with CAP_SYS_ADMIN; without it the constructor throws saying so.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "support/ssh_server.hpp"

namespace testing_support {

struct DropbearServerOptions {
  KeyType host_key = KeyType::kEd25519;
  KeyType client_key = KeyType::kEd25519;
  std::vector<std::string> extra_args;  // more dropbear options
  std::chrono::milliseconds start_timeout = std::chrono::seconds(20);
};

class DropbearServer : public SshServer {
 public:
  static constexpr const char* kDropbearPath = "/usr/sbin/dropbear";
  static constexpr const char* kDropbearKeyPath = "/usr/bin/dropbearkey";

  explicit DropbearServer(const DropbearServerOptions& options = {});
  ~DropbearServer() override;

  const std::filesystem::path& host_key_file() const { return host_key_file_; }
  // The temporary directory dropbear sees as root's home.
  const std::filesystem::path& home_directory() const { return home_; }
  // Root's real home directory, hidden from dropbear by the bind mount.
  const std::filesystem::path& real_root_home() const { return real_root_home_; }

 private:
  std::filesystem::path host_key_file_;
  std::filesystem::path home_;
  std::filesystem::path real_root_home_;
};

}  // namespace testing_support
