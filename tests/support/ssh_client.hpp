// Building and running SSH client command lines against a test server.
//
// The client under test is `limactl ssh` (LIMACTL_BINARY). Setting the
// environment variable LIMACTL_TEST_CLIENT=openssh runs the same tests with
// OpenSSH's /usr/bin/ssh instead, which checks the tests themselves: every
// interop test must pass against OpenSSH's client.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "support/build_paths.hpp"
#include "support/process.hpp"
#include "support/ssh_server.hpp"

namespace testing_support {

constexpr const char* kOpenSshClientPath = "/usr/bin/ssh";

// {LIMACTL_BINARY, "ssh"}, or {"/usr/bin/ssh"} with LIMACTL_TEST_CLIENT=openssh.
Argv client_command();
bool client_is_openssh();
// "limactl ssh" or "OpenSSH ssh", for messages.
std::string client_description();

struct SshCall {
  // Options placed before the defaults below. OpenSSH (and so `limactl ssh`)
  // keeps the first value given for an option, so these win, e.g.
  // {"-o", "Ciphers=aes128-ctr"}, {"-t"}, {"-o", "ConnectTimeout=2"}.
  std::vector<std::string> options;
  // Defaults: the server's client key, the server's known_hosts file,
  // StrictHostKeyChecking=yes, root@127.0.0.1.
  std::optional<std::filesystem::path> identity;
  std::optional<std::filesystem::path> known_hosts;
  std::string strict_host_key_checking = "yes";
  std::optional<std::string> destination;
  // The client program; default client_command().
  std::optional<Argv> client;
};

// client + options + -F /dev/null -p PORT -i KEY -o UserKnownHostsFile=FILE
// -o StrictHostKeyChecking=... -o BatchMode=yes DESTINATION [COMMAND].
// -F /dev/null keeps ~/.ssh/config and /etc/ssh/ssh_config out (Debian's
// turns on HashKnownHosts, for one). An empty command adds no argument.
Argv ssh_argv(const SshServer& server, const std::string& command, const SshCall& call = {});

// ssh_argv() run with run_process(); the default timeout is 60 s.
ProcessResult run_ssh(const SshServer& server, const std::string& command, const SshCall& call = {},
                      RunOptions run = RunOptions{});

}  // namespace testing_support
