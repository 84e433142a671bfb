// A directory under the system temp dir, removed with everything in it.
#pragma once

#include <filesystem>
#include <string>

namespace testing_support {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "limactl-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace testing_support
