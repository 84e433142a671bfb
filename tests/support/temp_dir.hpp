// A directory under the system temp dir (or under a given parent), removed
// with everything in it.
#pragma once

#include <filesystem>
#include <string>

namespace testing_support {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "limactl-test");
  // Under `parent` instead, e.g. inside a chroot's /tmp, where programs run
  // with `chroot ROOT` can see it.
  TempDir(const std::string& prefix, const std::filesystem::path& parent);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace testing_support
