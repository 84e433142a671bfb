// The file system the SFTP server serves, as an interface: the local disk
// (local_file_system.hpp) in the product, an in-memory tree in the tests.
//
// Paths here are absolute POSIX paths of the host's tree ("/home/jan/x"; on
// Windows the guest-mount form "/c/Users/jan/x", mapped to native paths in
// one place inside LocalFileSystem). The server confines clients itself: it
// resolves symbolic links component by component before it calls in here,
// so a path it passes names no link in its directories, and only names a
// link in its last component where the operation must not follow it
// (lstat, readlink, remove, rename, symlink, hardlink, lsetstat).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "sftp/messages.hpp"

namespace sftp {

// Why a file system call failed, in the protocol's terms.
struct FsError {
  StatusCode code = StatusCode::Failure;
  std::string message;
};

template <class T>
class [[nodiscard]] FsResult {
 public:
  FsResult(T value) : state_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  FsResult(FsError error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const FsError& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, FsError> state_;
};

struct FsOk {};
using FsStatus = FsResult<FsOk>;

struct FileInfo {
  // Size, owner, permissions (with the file type bits) and times.
  Attrs attrs;
  std::uint64_t link_count = 1;
};

// How a file is opened (SSH_FXP_OPEN's pflags, checked by the server).
struct OpenMode {
  bool read = false;
  bool write = false;
  bool append = false;
  bool create = false;
  bool truncate = false;
  bool exclusive = false;
  std::uint32_t create_permissions = 0644;  // umask already applied
};

class File {
 public:
  virtual ~File() = default;
  // Reads up to buffer.size() bytes at offset; 0 means end of file.
  virtual FsResult<std::size_t> read(std::uint64_t offset, ssh::MutableByteView buffer) = 0;
  // Writes all of data at offset (at the end when opened for append).
  virtual FsStatus write(std::uint64_t offset, ByteView data) = 0;
  virtual FsResult<FileInfo> stat() = 0;
  virtual FsStatus set_attributes(const Attrs& attrs) = 0;
  virtual FsStatus sync() = 0;
};

class Directory {
 public:
  virtual ~Directory() = default;
  // The next entry's name ("." and ".." included, as readdir(3)), or nullopt
  // at the end.
  virtual FsResult<std::optional<std::string>> next() = 0;
};

using FsStatvfs = ext::StatvfsReply;

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Does not follow a link in the last component.
  virtual FsResult<FileInfo> lstat(const std::string& path) = 0;
  virtual FsResult<std::string> readlink(const std::string& path) = 0;
  virtual FsResult<std::unique_ptr<File>> open(const std::string& path, const OpenMode& mode) = 0;
  virtual FsResult<std::unique_ptr<Directory>> open_directory(const std::string& path) = 0;
  // follow_last: whether a link in the last component is followed (setstat)
  // or changed itself (lsetstat).
  virtual FsStatus set_attributes(const std::string& path, const Attrs& attrs,
                                  bool follow_last) = 0;
  virtual FsStatus remove_file(const std::string& path) = 0;
  virtual FsStatus make_directory(const std::string& path, std::uint32_t permissions) = 0;
  virtual FsStatus remove_directory(const std::string& path) = 0;
  // Replaces new_path if it exists (rename(2)); the server checks first for
  // the draft's "fail if it exists" RENAME.
  virtual FsStatus rename(const std::string& old_path, const std::string& new_path) = 0;
  // Creates link_path holding target as given.
  virtual FsStatus symlink(const std::string& target, const std::string& link_path) = 0;
  virtual FsStatus hardlink(const std::string& existing_path, const std::string& new_path) = 0;
  virtual FsResult<FsStatvfs> statvfs(const std::string& path) = 0;
  // Names for ls -l style listings and users-groups-by-id; nullopt if unknown.
  virtual std::optional<std::string> user_name(std::uint32_t uid) = 0;
  virtual std::optional<std::string> group_name(std::uint32_t gid) = 0;
};

}  // namespace sftp
