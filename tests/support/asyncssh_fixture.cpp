#include "support/asyncssh_fixture.hpp"

#include <stdexcept>

#include "support/build_paths.hpp"
#include "support/files.hpp"

namespace testing_support {

std::filesystem::path AsyncSshServer::script_path() {
  return std::filesystem::path(LIMACTL_SOURCE_DIR) / "tests" / "support" / "asyncssh_server.py";
}

AsyncSshServer::AsyncSshServer(const AsyncSshServerOptions& options)
    : SshServer("AsyncSSH", "limactl-asyncssh") {
  if (!std::filesystem::exists(kPythonPath)) {
    throw std::runtime_error(std::string(kPythonPath) +
                             " is missing: install python3-asyncssh (scripts/install-deps)");
  }
  const auto& dir = directory();
  host_key_ = generate_openssh_key(dir / ("ssh_host_" + key_type_name(options.host_key) + "_key"),
                                   options.host_key, "host");
  host_public_keys_.push_back(host_key_.public_line);
  client_key_ = generate_openssh_key(dir / ("id_" + key_type_name(options.client_key)),
                                     options.client_key, "client");
  auto authorized_keys = dir / "authorized_keys";
  write_file(authorized_keys, client_key_.public_line + " client\n", std::filesystem::perms(0600));
  auto port_file = dir / "port";

  Argv argv = {kPythonPath,
               "-W",
               "ignore",  // python3-cryptography's deprecation warnings
               script_path().string(),
               "--host-key",
               host_key_.private_key.string(),
               "--authorized-keys",
               authorized_keys.string(),
               "--port-file",
               port_file.string()};
  if (!options.signature_algorithms.empty()) {
    std::string list;
    for (const auto& algorithm : options.signature_algorithms) {
      list += (list.empty() ? "" : ",") + algorithm;
    }
    argv.insert(argv.end(), {"--signature-algs", list});
  }
  SpawnOptions spawn;
  spawn.output_file = log_file();
  start_reporting_port(argv, spawn, port_file, options.start_timeout);
  write_known_hosts();
}

AsyncSshServer::~AsyncSshServer() = default;

}  // namespace testing_support
