// OpenSSH 10 (Debian 13) as an interop peer on this Debian 12 host, whose own
// OpenSSH is 9.2: for what 9.2 lacks, such as mlkem768x25519-sha256.
//
// scripts/build-openssh10-root builds a Debian 13 root directory with
// mmdebstrap (once; cached per recipe in ~/.cache/limactl/openssh10-root) and
// the tests run its programs with `chroot ROOT`. The chroot shares the host's
// network namespace, so a chrooted sshd listens on the host's loopback and a
// chrooted ssh reaches servers there. Files those programs read are kept in
// ROOT/tmp and named to them without the ROOT prefix.
//
// The root is a requirement, not an option: if it cannot be built, the
// fixtures throw with the script's output and the test fails.
#pragma once

#include <filesystem>
#include <string>

#include "support/process.hpp"
#include "support/ssh_client.hpp"
#include "support/ssh_server.hpp"
#include "support/sshd_fixture.hpp"
#include "support/temp_dir.hpp"

namespace testing_support {

// The Debian 13 root: runs scripts/build-openssh10-root (from the source
// tree) the first time in this process and keeps the path it printed.
// Throws std::runtime_error with the script's output when it fails.
const std::filesystem::path& openssh10_root();

// OpenSSH 10's sshd: OpenSshServer with the root of openssh10_root()
// (options.root is set here; everything else is as for OpenSshServer).
class OpenSsh10Server : public OpenSshServer {
 public:
  explicit OpenSsh10Server(OpenSshServerOptions options = {});
};

// OpenSSH 10's ssh as a client of `server` (any SshServer on the host's
// loopback, e.g. LimactlSshServer): copies of the server's client key and
// known_hosts file inside the root, and SshCalls that run
// `chroot ROOT /usr/bin/ssh` with them. Make it after the server has started
// (its known_hosts file names the port).
class OpenSsh10Client {
 public:
  explicit OpenSsh10Client(const SshServer& server);

  // For run_ssh(server, ...) and the exec checks: `extra` options go first.
  SshCall call(const Argv& extra = {}) const;
  // The files as the chrooted ssh sees them.
  std::filesystem::path identity_in_root() const;
  std::filesystem::path known_hosts_in_root() const;

 private:
  std::filesystem::path root_;
  TempDir dir_;
};

}  // namespace testing_support
