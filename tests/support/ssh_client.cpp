#include "support/ssh_client.hpp"

#include <cstdlib>
#include <string_view>

#include "support/build_paths.hpp"

namespace testing_support {

bool client_is_openssh() {
  const char* value = std::getenv("LIMACTL_TEST_CLIENT");
  return value != nullptr && std::string_view(value) == "openssh";
}

Argv client_command() {
  if (client_is_openssh()) return {kOpenSshClientPath};
  return {LIMACTL_BINARY, "ssh"};
}

std::string client_description() {
  return client_is_openssh() ? "OpenSSH ssh" : "limactl ssh";
}

Argv ssh_argv(const SshServer& server, const std::string& command, const SshCall& call) {
  Argv argv = call.client ? *call.client : client_command();
  argv.insert(argv.end(), call.options.begin(), call.options.end());
  auto identity = call.identity ? *call.identity : server.client_key().private_key;
  auto known_hosts = call.known_hosts ? *call.known_hosts : server.known_hosts_file();
  argv.insert(argv.end(),
              {"-F", "/dev/null", "-p", std::to_string(server.port()), "-i", identity.string(),
               "-o", "UserKnownHostsFile=" + known_hosts.string(), "-o",
               "StrictHostKeyChecking=" + call.strict_host_key_checking, "-o", "BatchMode=yes"});
  argv.push_back(call.destination ? *call.destination : server.destination());
  if (!command.empty()) argv.push_back(command);
  return argv;
}

ProcessResult run_ssh(const SshServer& server, const std::string& command, const SshCall& call,
                      RunOptions run) {
  return run_process(ssh_argv(server, command, call), run);
}

}  // namespace testing_support
