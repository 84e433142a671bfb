#include "support/openssh10_fixture.hpp"

#include <mutex>
#include <stdexcept>
#include <utility>

#include "support/build_paths.hpp"
#include "support/files.hpp"

namespace testing_support {

namespace {

constexpr const char* kChrootPath = "/usr/sbin/chroot";

// The last non-empty line of the script's stdout.
std::string last_line(const std::string& text) {
  auto end = text.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  auto begin = text.rfind('\n', end);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(begin, end - begin + 1);
}

std::filesystem::path build_root() {
  const auto script =
      std::filesystem::path(LIMACTL_SOURCE_DIR) / "scripts" / "build-openssh10-root";
  RunOptions run;
  // A cold build downloads and unpacks Debian 13 (a minute or two); scripts/test
  // builds it before ctest, so tests normally find it cached.
  run.timeout = std::chrono::minutes(20);
  auto result = run_process({script.string()}, run);
  auto root = std::filesystem::path(last_line(result.out));
  if (!result.exited_with(0) || root.empty() || !root.is_absolute() ||
      !std::filesystem::exists(root / "usr/sbin/sshd")) {
    throw std::runtime_error("the OpenSSH 10 root could not be built by " + script.string() + ": " +
                             result.describe() + "\n--- stderr ---\n" + result.err +
                             "\n--- stdout ---\n" + result.out);
  }
  return root;
}

OpenSshServerOptions in_openssh10_root(OpenSshServerOptions options) {
  options.root = openssh10_root();
  return options;
}

}  // namespace

const std::filesystem::path& openssh10_root() {
  // Built at most once per process; a failure is not cached, so every test
  // that needs the root reports it.
  static std::mutex mutex;
  static std::filesystem::path root;
  std::lock_guard lock(mutex);
  if (root.empty()) root = build_root();
  return root;
}

OpenSsh10Server::OpenSsh10Server(OpenSshServerOptions options)
    : OpenSshServer(in_openssh10_root(std::move(options))) {}

OpenSsh10Client::OpenSsh10Client(const SshServer& server)
    : root_(openssh10_root()), dir_("limactl-ssh10-client", root_ / "tmp") {
  write_file(dir_.path() / "id", read_file(server.client_key().private_key),
             std::filesystem::perms(0600));
  write_file(dir_.path() / "known_hosts", read_file(server.known_hosts_file()));
}

std::filesystem::path OpenSsh10Client::identity_in_root() const {
  return std::filesystem::path("/") / (dir_.path() / "id").lexically_relative(root_);
}

std::filesystem::path OpenSsh10Client::known_hosts_in_root() const {
  return std::filesystem::path("/") / (dir_.path() / "known_hosts").lexically_relative(root_);
}

SshCall OpenSsh10Client::call(const Argv& extra) const {
  SshCall call;
  call.client = Argv{kChrootPath, root_.string(), kOpenSshClientPath};
  call.options = extra;
  call.options.insert(call.options.end(), {"-o", "IdentitiesOnly=yes"});
  call.identity = identity_in_root();
  call.known_hosts = known_hosts_in_root();
  return call;
}

}  // namespace testing_support
