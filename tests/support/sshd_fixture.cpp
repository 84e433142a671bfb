#include "support/sshd_fixture.hpp"

#include <stdexcept>
#include <system_error>

#include "support/files.hpp"
#include "support/shell_startup.hpp"

namespace testing_support {

namespace {

std::string server_name(const std::filesystem::path& root) {
  return root.empty() ? "OpenSSH sshd" : "OpenSSH sshd (chroot " + root.string() + ")";
}

// Where the host finds `path` as seen from inside `root` ("/run/sshd").
std::filesystem::path host_path(const std::filesystem::path& root,
                                const std::filesystem::path& path) {
  return root.empty() ? path : root / path.relative_path();
}

}  // namespace

OpenSshServer::OpenSshServer(const OpenSshServerOptions& options)
    : SshServer(server_name(options.root), "limactl-sshd",
                options.root.empty() ? std::filesystem::path() : options.root / "tmp"),
      root_(options.root) {
  const auto sshd = host_path(root_, kSshdPath);
  if (!std::filesystem::exists(sshd)) {
    throw std::runtime_error(sshd.string() + " is missing: " +
                             (root_.empty() ? "install openssh-server (scripts/install-deps)"
                                            : "the root has no openssh-server"));
  }
  // sshd refuses to start without its privilege separation directory; on a
  // machine that never ran the system sshd it does not exist yet.
  const auto privsep_dir = host_path(root_, "/run/sshd");
  std::error_code error;
  std::filesystem::create_directories(privsep_dir, error);
  if (error) {
    throw std::runtime_error("cannot create " + privsep_dir.string() +
                             " (sshd's privilege separation directory): " + error.message() +
                             " (the interop tests run as root)");
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
    for (const auto& key : host_keys_) {
      config += "HostKey " + path_in_root(key.private_key).string() + "\n";
    }
    config += "AuthorizedKeysFile " + path_in_root(authorized_keys_file_).string() + "\n";
    config +=
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PermitRootLogin yes\n"
        "StrictModes no\n"
        "UsePAM no\n"
        "PrintMotd no\n"
        "PrintLastLog no\n";
    config += std::string("Subsystem sftp ") + kSftpServerPath + "\n";
    config += "PidFile " + path_in_root(directory() / "sshd.pid").string() + "\n";
    config += "LogLevel " + options.log_level + "\n";
    write_file(config_file_, config);
    Argv argv;
    // chroot execs sshd in the same process, so the fixture's check that
    // this very process listens on the port still holds.
    if (!root_.empty()) argv = {"/usr/sbin/chroot", root_.string()};
    argv.insert(argv.end(), {kSshdPath, "-D", "-E", path_in_root(log_file()).string(), "-f",
                             path_in_root(config_file_).string()});
    return argv;
  };
  SpawnOptions spawn;
  spawn.output_file = log_file();  // anything sshd prints before -E takes effect
  // A chrooted sshd's sessions read the root's own start-up files: Debian's
  // defaults, nothing of the machine's owner.
  if (root_.empty()) spawn.private_bind_mounts = empty_shell_startup_mounts(directory());
  start_on_free_port(make_argv, spawn, options.start_timeout);
  write_known_hosts();
}

OpenSshServer::~OpenSshServer() = default;

std::filesystem::path OpenSshServer::path_in_root(const std::filesystem::path& host_path) const {
  if (root_.empty()) return host_path;
  return std::filesystem::path("/") / host_path.lexically_relative(root_);
}

const KeyPair& OpenSshServer::host_key(KeyType type) const {
  for (const auto& key : host_keys_) {
    if (key.type == type) return key;
  }
  throw std::invalid_argument("this sshd has no " + key_type_name(type) + " host key");
}

}  // namespace testing_support
