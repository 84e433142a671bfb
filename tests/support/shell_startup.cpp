#include "support/shell_startup.hpp"

#include <pwd.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

namespace testing_support {

std::vector<std::pair<std::filesystem::path, std::filesystem::path>> empty_shell_startup_mounts(
    const std::filesystem::path& scratch_directory) {
  const passwd* account = ::getpwuid(::getuid());
  if (!account || !account->pw_dir) {
    throw std::runtime_error("no passwd entry for the user the tests run as");
  }
  const std::filesystem::path home(account->pw_dir);
  const auto empty = scratch_directory / "empty-shell-startup";
  std::ofstream(empty).flush();
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> mounts;
  for (const char* name : {".bashrc", ".profile", ".bash_profile", ".bash_login"}) {
    std::error_code error;
    if (std::filesystem::is_regular_file(home / name, error)) {
      mounts.emplace_back(empty, home / name);
    }
  }
  return mounts;
}

}  // namespace testing_support
