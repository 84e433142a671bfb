// A throw-away AsyncSSH server on 127.0.0.1 for interop tests.
//
// Runs tests/support/asyncssh_server.py with Debian's /usr/bin/python3 (the
// python3 first on PATH may be another Python without python3-asyncssh). The
// script binds port 0 and reports the port the kernel chose through a file,
// so there is no race for a free port. Host and client keys come from
// ssh-keygen; exec requests run through /bin/sh -c.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "support/ssh_server.hpp"

namespace testing_support {

struct AsyncSshServerOptions {
  KeyType host_key = KeyType::kEd25519;
  KeyType client_key = KeyType::kEd25519;
  // When not empty, the only signature algorithms the server uses and
  // accepts, also what it advertises in server-sig-algs (e.g. {"rsa-sha2-256",
  // "ssh-ed25519"}); include the host key's algorithm.
  std::vector<std::string> signature_algorithms;
  // Importing asyncssh takes a while on a busy machine.
  std::chrono::milliseconds start_timeout = std::chrono::seconds(30);
};

class AsyncSshServer : public SshServer {
 public:
  static constexpr const char* kPythonPath = "/usr/bin/python3";

  explicit AsyncSshServer(const AsyncSshServerOptions& options = {});
  ~AsyncSshServer() override;

  // tests/support/asyncssh_server.py in the source tree.
  static std::filesystem::path script_path();
  const KeyPair& host_key() const { return host_key_; }

 private:
  KeyPair host_key_;
};

}  // namespace testing_support
