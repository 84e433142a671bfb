#include "support/sshd_fixture.hpp"

#include <stdexcept>
#include <system_error>

#include "support/files.hpp"
#include "support/shell_startup.hpp"

namespace testing_support {

OpenSshServer::OpenSshServer(const OpenSshServerOptions& options)
    : SshServer("OpenSSH sshd", "limactl-sshd") {
  if (!std::filesystem::exists(kSshdPath)) {
    throw std::runtime_error(std::string(kSshdPath) +
                             " is missing: install openssh-server (scripts/install-deps)");
  }
  // sshd refuses to start without its privilege separation directory; on a
  // machine that never ran the system sshd it does not exist yet.
  std::error_code error;
  std::filesystem::create_directories("/run/sshd", error);
  if (error) {
    throw std::runtime_error("cannot create /run/sshd (sshd's privilege separation directory): " +
                             error.message() + " (the interop tests run as root)");
  }

  const auto& dir = directory();
  for (KeyType type : options.host_keys) {
    host_keys_.push_back(
        generate_openssh_key(dir / ("ssh_host_" + key_type_name(type) + "_key"), type, "host"));
    host_public_keys_.push_back(host_keys_.back().public_line);
  }
  client_key_ = generate_openssh_key(dir / ("id_" + key_type_name(options.client_key)),
                                     options.client_key, "client");
  authorized_keys_file_ = dir / "authorized_keys";
  write_file(authorized_keys_file_, client_key_.public_line + " client\n",
             std::filesystem::perms(0600));
  config_file_ = dir / "sshd_config";

  auto make_argv = [&](std::uint16_t port) {
    std::string config;
    for (const auto& line : options.extra_config) config += line + "\n";
    config += "Port " + std::to_string(port) + "\n";
    config += "ListenAddress 127.0.0.1\n";
    for (const auto& key : host_keys_) config += "HostKey " + key.private_key.string() + "\n";
    config += "AuthorizedKeysFile " + authorized_keys_file_.string() + "\n";
    config +=
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PermitRootLogin yes\n"
        "StrictModes no\n"
        "UsePAM no\n"
        "PrintMotd no\n"
        "PrintLastLog no\n";
    config += std::string("Subsystem sftp ") + kSftpServerPath + "\n";
    config += "PidFile " + (directory() / "sshd.pid").string() + "\n";
    config += "LogLevel " + options.log_level + "\n";
    write_file(config_file_, config);
    return Argv{kSshdPath, "-D", "-E", log_file().string(), "-f", config_file_.string()};
  };
  SpawnOptions spawn;
  spawn.output_file = log_file();  // anything sshd prints before -E takes effect
  spawn.private_bind_mounts = empty_shell_startup_mounts(directory());
  start_on_free_port(make_argv, spawn, options.start_timeout);
  write_known_hosts();
}

OpenSshServer::~OpenSshServer() = default;

const KeyPair& OpenSshServer::host_key(KeyType type) const {
  for (const auto& key : host_keys_) {
    if (key.type == type) return key;
  }
  throw std::invalid_argument("this sshd has no " + key_type_name(type) + " host key");
}

}  // namespace testing_support
