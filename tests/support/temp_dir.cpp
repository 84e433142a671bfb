#include "support/temp_dir.hpp"

#include <random>
#include <stdexcept>
#include <system_error>

namespace testing_support {

TempDir::TempDir(const std::string& prefix)
    : TempDir(prefix, std::filesystem::temp_directory_path()) {}

TempDir::TempDir(const std::string& prefix, const std::filesystem::path& parent) {
  std::random_device device;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = parent / (prefix + "-" + std::to_string(device()));
    std::error_code error;
    if (std::filesystem::create_directory(candidate, error)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory in " + parent.string());
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace testing_support
