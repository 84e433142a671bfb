// The local disk as an SFTP FileSystem: POSIX system calls on Linux and
// macOS, the C runtime and std::filesystem on Windows.
//
// The server speaks POSIX paths; on Windows they are the guest-mount form
// (/c/Users/jan for C:\Users\jan), and native_path() is the one place that
// maps them (served_path() maps the other way, for --root and -d).
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "sftp/file_system.hpp"

namespace sftp {

class LocalFileSystem : public FileSystem {
 public:
  // The native path for a served (POSIX) path, or an error naming why it
  // names no local path (on Windows: no drive, a character Windows forbids).
  static FsResult<std::filesystem::path> native_path(const std::string& served);
  // The served path for a native absolute path (POSIX: as it is).
  static FsResult<std::string> served_path(const std::filesystem::path& native);

  FsResult<FileInfo> lstat(const std::string& path) override;
  FsResult<std::string> readlink(const std::string& path) override;
  FsResult<std::unique_ptr<File>> open(const std::string& path, const OpenMode& mode) override;
  FsResult<std::unique_ptr<Directory>> open_directory(const std::string& path) override;
  FsStatus set_attributes(const std::string& path, const Attrs& attrs, bool follow_last) override;
  FsStatus remove_file(const std::string& path) override;
  FsStatus make_directory(const std::string& path, std::uint32_t permissions) override;
  FsStatus remove_directory(const std::string& path) override;
  FsStatus rename(const std::string& old_path, const std::string& new_path) override;
  FsStatus symlink(const std::string& target, const std::string& link_path) override;
  FsStatus hardlink(const std::string& existing_path, const std::string& new_path) override;
  FsResult<FsStatvfs> statvfs(const std::string& path) override;
  std::optional<std::string> user_name(std::uint32_t uid) override;
  std::optional<std::string> group_name(std::uint32_t gid) override;

 private:
  std::map<std::uint32_t, std::optional<std::string>> user_names_;
  std::map<std::uint32_t, std::optional<std::string>> group_names_;
};

}  // namespace sftp
