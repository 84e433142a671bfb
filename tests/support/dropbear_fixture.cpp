#include "support/dropbear_fixture.hpp"

#include <pwd.h>

#include <stdexcept>

#include "support/files.hpp"

namespace testing_support {

namespace {

Argv dropbearkey_type_args(KeyType type) {
  switch (type) {
    case KeyType::kEd25519:
      return {"-t", "ed25519"};
    case KeyType::kEcdsaP256:
      return {"-t", "ecdsa", "-s", "256"};
    case KeyType::kEcdsaP384:
      return {"-t", "ecdsa", "-s", "384"};
    case KeyType::kEcdsaP521:
      return {"-t", "ecdsa", "-s", "521"};
    case KeyType::kRsa:
      return {"-t", "rsa", "-s", "3072"};
  }
  return {};
}

}  // namespace

DropbearServer::DropbearServer(const DropbearServerOptions& options)
    : SshServer("Dropbear", "limactl-dropbear") {
  for (const char* program : {kDropbearPath, kDropbearKeyPath}) {
    if (!std::filesystem::exists(program)) {
      throw std::runtime_error(std::string(program) +
                               " is missing: install dropbear-bin (scripts/install-deps)");
    }
  }
  const passwd* root = ::getpwuid(0);
  if (root == nullptr || root->pw_dir == nullptr || !std::filesystem::is_directory(root->pw_dir)) {
    throw std::runtime_error("Dropbear fixture: root has no home directory to mount over");
  }
  real_root_home_ = root->pw_dir;

  const auto& dir = directory();
  host_key_file_ = dir / ("dropbear_" + key_type_name(options.host_key) + "_host_key");
  Argv keygen = {kDropbearKeyPath};
  auto type_args = dropbearkey_type_args(options.host_key);
  keygen.insert(keygen.end(), type_args.begin(), type_args.end());
  keygen.insert(keygen.end(), {"-f", host_key_file_.string()});
  auto made = run_process(keygen);
  if (!made.exited_with(0)) {
    throw std::runtime_error("`" + shell_quote(keygen) + "` failed: " + made.describe());
  }
  auto shown = run_process({kDropbearKeyPath, "-y", "-f", host_key_file_.string()});
  if (!shown.exited_with(0)) {
    throw std::runtime_error("dropbearkey -y failed: " + shown.describe());
  }
  for (const auto& line : split_lines(shown.out)) {
    if (line.rfind("ssh-", 0) == 0 || line.rfind("ecdsa-", 0) == 0) {
      host_public_keys_.push_back(public_key_without_comment(line));
    }
  }
  if (host_public_keys_.empty()) {
    throw std::runtime_error("no public key in dropbearkey -y output:\n" + shown.out);
  }

  client_key_ = generate_openssh_key(dir / ("id_" + key_type_name(options.client_key)),
                                     options.client_key, "client");
  // Dropbear checks that the home directory, ~/.ssh and authorized_keys are
  // owned by the user or root and not writable by group or others.
  home_ = dir / "home";
  std::filesystem::create_directories(home_ / ".ssh");
  std::filesystem::permissions(home_, std::filesystem::perms(0700),
                               std::filesystem::perm_options::replace);
  std::filesystem::permissions(home_ / ".ssh", std::filesystem::perms(0700),
                               std::filesystem::perm_options::replace);
  write_file(home_ / ".ssh" / "authorized_keys", client_key_.public_line + " client\n",
             std::filesystem::perms(0600));

  auto make_argv = [&](std::uint16_t port) {
    Argv argv = {kDropbearPath,
                 "-F",  // foreground
                 "-E",  // log to stderr (our log file)
                 "-s",  // no password logins
                 "-m",  // no motd
                 "-p",          "127.0.0.1:" + std::to_string(port), "-r", host_key_file_.string(),
                 "-P",          (dir / "dropbear.pid").string()};
    argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
    return argv;
  };
  SpawnOptions spawn;
  spawn.output_file = log_file();
  spawn.private_bind_mounts = {{home_, real_root_home_}};
  start_on_free_port(make_argv, spawn, options.start_timeout);
  write_known_hosts();
}

DropbearServer::~DropbearServer() = default;

}  // namespace testing_support
