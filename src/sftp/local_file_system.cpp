#include "sftp/local_file_system.hpp"

#include "sftp/write_behind.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#ifdef _WIN32
#include <io.h>
#include <sys/utime.h>

#include "platform/text.hpp"
#include "platform/windows_paths.hpp"
#else
#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <sys/statvfs.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

namespace sftp {
namespace {

FsError error_from_errno(int error_number, const std::string& what) {
  StatusCode code = StatusCode::Failure;
  switch (error_number) {
    case ENOENT:
    case ENOTDIR:
      code = StatusCode::NoSuchFile;
      break;
    case EACCES:
    case EPERM:
    case EROFS:
      code = StatusCode::PermissionDenied;
      break;
    case ENOSYS:
#if defined(EOPNOTSUPP)
    case EOPNOTSUPP:
#endif
      code = StatusCode::OpUnsupported;
      break;
    default:
      break;
  }
  return {code, what + ": " + std::strerror(error_number)};
}

FsStatus status_from(int result, const std::string& what) {
  if (result == 0) return FsOk{};
  return error_from_errno(errno, what);
}

}  // namespace

#ifndef _WIN32

// POSIX ----------------------------------------------------------------------

namespace {

FileInfo info_from(const struct stat& st) {
  FileInfo info;
  info.attrs.size = static_cast<std::uint64_t>(st.st_size);
  info.attrs.owner =
      Attrs::Owner{static_cast<std::uint32_t>(st.st_uid), static_cast<std::uint32_t>(st.st_gid)};
  info.attrs.permissions = static_cast<std::uint32_t>(st.st_mode);
  info.attrs.times = Attrs::Times{static_cast<std::uint32_t>(st.st_atime),
                                  static_cast<std::uint32_t>(st.st_mtime)};
  info.link_count = static_cast<std::uint64_t>(st.st_nlink);
  return info;
}

timespec to_timespec(std::uint32_t seconds) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(seconds);
  return ts;
}

class PosixFile : public File {
 public:
  explicit PosixFile(int fd) : fd_(fd) {}
  ~PosixFile() override { ::close(fd_); }

  FsResult<std::size_t> read(std::uint64_t offset, ssh::MutableByteView buffer) override {
    while (true) {
      const ssize_t count = ::pread(fd_, buffer.data(), buffer.size(), static_cast<off_t>(offset));
      if (count >= 0) return static_cast<std::size_t>(count);
      if (errno != EINTR) return error_from_errno(errno, "read");
    }
  }
  FsStatus write(std::uint64_t offset, ByteView data) override {
    [[maybe_unused]] const std::uint64_t start = offset;
    [[maybe_unused]] const std::uint64_t size = data.size();
    while (!data.empty()) {
      const ssize_t count = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (count < 0) {
        if (errno == EINTR) continue;
        return error_from_errno(errno, "write");
      }
      if (count == 0) return FsError{StatusCode::Failure, "write: no progress"};
      data = data.subspan(static_cast<std::size_t>(count));
      offset += static_cast<std::uint64_t>(count);
    }
#ifdef __linux__
    if (const auto stretch = write_behind_.wrote(start, size)) {
      // Only a hint: a failure here shows up at fsync or close, as it would anyway.
      ::sync_file_range(fd_, static_cast<off64_t>(stretch->offset),
                        static_cast<off64_t>(stretch->length), SYNC_FILE_RANGE_WRITE);
    }
#endif
    return FsOk{};
  }
  FsResult<FileInfo> stat() override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return error_from_errno(errno, "fstat");
    return info_from(st);
  }
  FsStatus set_attributes(const Attrs& attrs) override {
    if (attrs.size && ::ftruncate(fd_, static_cast<off_t>(*attrs.size)) != 0) {
      return error_from_errno(errno, "truncate");
    }
    if (attrs.permissions && ::fchmod(fd_, static_cast<mode_t>(*attrs.permissions)) != 0) {
      return error_from_errno(errno, "chmod");
    }
    if (attrs.times) {
      const timespec times[2] = {to_timespec(attrs.times->atime), to_timespec(attrs.times->mtime)};
      if (::futimens(fd_, times) != 0) return error_from_errno(errno, "utimes");
    }
    if (attrs.owner && ::fchown(fd_, attrs.owner->uid, attrs.owner->gid) != 0) {
      return error_from_errno(errno, "chown");
    }
    return FsOk{};
  }
  FsStatus sync() override { return status_from(::fsync(fd_), "fsync"); }

 private:
  int fd_;
  WriteBehind write_behind_;
};

class PosixDirectory : public Directory {
 public:
  explicit PosixDirectory(DIR* dir) : dir_(dir) {}
  ~PosixDirectory() override { ::closedir(dir_); }
  FsResult<std::optional<std::string>> next() override {
    errno = 0;
    const dirent* entry = ::readdir(dir_);
    if (entry == nullptr) {
      if (errno != 0) return error_from_errno(errno, "readdir");
      return std::optional<std::string>();
    }
    return std::optional<std::string>(entry->d_name);
  }

 private:
  DIR* dir_;
};

}  // namespace

FsResult<std::filesystem::path> LocalFileSystem::native_path(const std::string& served) {
  return std::filesystem::path(served);
}

FsResult<std::string> LocalFileSystem::served_path(const std::filesystem::path& native) {
  if (!native.is_absolute()) return FsError{StatusCode::Failure, "not an absolute path"};
  return native.lexically_normal().string();
}

FsResult<FileInfo> LocalFileSystem::lstat(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return error_from_errno(errno, "lstat");
  return info_from(st);
}

FsResult<std::string> LocalFileSystem::readlink(const std::string& path) {
  std::vector<char> buffer(256);
  while (true) {
    const ssize_t count = ::readlink(path.c_str(), buffer.data(), buffer.size());
    if (count < 0) return error_from_errno(errno, "readlink");
    if (static_cast<std::size_t>(count) < buffer.size()) {
      return std::string(buffer.data(), static_cast<std::size_t>(count));
    }
    if (buffer.size() >= 65536) return FsError{StatusCode::Failure, "readlink: target too long"};
    buffer.resize(buffer.size() * 2);
  }
}

FsResult<std::unique_ptr<File>> LocalFileSystem::open(const std::string& path,
                                                      const OpenMode& mode) {
  int flags = O_CLOEXEC | O_NOCTTY;
  // The server resolved every link on the way; O_NOFOLLOW makes a link
  // swapped in since then fail rather than be followed out of the root.
  flags |= O_NOFOLLOW;
  if (mode.read && mode.write) {
    flags |= O_RDWR;
  } else if (mode.write) {
    flags |= O_WRONLY;
  } else {
    flags |= O_RDONLY;
  }
  if (mode.append) flags |= O_APPEND;
  if (mode.create) flags |= O_CREAT;
  if (mode.truncate) flags |= O_TRUNC;
  if (mode.exclusive) flags |= O_EXCL;
  const int fd = ::open(path.c_str(), flags, static_cast<mode_t>(mode.create_permissions));
  if (fd < 0) return error_from_errno(errno, "open");
  return std::unique_ptr<File>(std::make_unique<PosixFile>(fd));
}

FsResult<std::unique_ptr<Directory>> LocalFileSystem::open_directory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return error_from_errno(errno, "opendir");
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    const int error_number = errno;
    ::close(fd);
    return error_from_errno(error_number, "opendir");
  }
  return std::unique_ptr<Directory>(std::make_unique<PosixDirectory>(dir));
}

FsStatus LocalFileSystem::set_attributes(const std::string& path, const Attrs& attrs,
                                         bool follow_last) {
  const int at_flags = follow_last ? 0 : AT_SYMLINK_NOFOLLOW;
  if (attrs.size) {
    if (!follow_last) return FsError{StatusCode::BadMessage, "lsetstat cannot change the size"};
    if (::truncate(path.c_str(), static_cast<off_t>(*attrs.size)) != 0) {
      return error_from_errno(errno, "truncate");
    }
  }
  if (attrs.permissions &&
      ::fchmodat(AT_FDCWD, path.c_str(), static_cast<mode_t>(*attrs.permissions), at_flags) != 0) {
    return error_from_errno(errno, "chmod");
  }
  if (attrs.times) {
    const timespec times[2] = {to_timespec(attrs.times->atime), to_timespec(attrs.times->mtime)};
    if (::utimensat(AT_FDCWD, path.c_str(), times, at_flags) != 0) {
      return error_from_errno(errno, "utimes");
    }
  }
  if (attrs.owner &&
      ::fchownat(AT_FDCWD, path.c_str(), attrs.owner->uid, attrs.owner->gid, at_flags) != 0) {
    return error_from_errno(errno, "chown");
  }
  return FsOk{};
}

FsStatus LocalFileSystem::remove_file(const std::string& path) {
  return status_from(::unlink(path.c_str()), "remove");
}

FsStatus LocalFileSystem::make_directory(const std::string& path, std::uint32_t permissions) {
  return status_from(::mkdir(path.c_str(), static_cast<mode_t>(permissions)), "mkdir");
}

FsStatus LocalFileSystem::remove_directory(const std::string& path) {
  return status_from(::rmdir(path.c_str()), "rmdir");
}

FsStatus LocalFileSystem::rename(const std::string& old_path, const std::string& new_path) {
  return status_from(::rename(old_path.c_str(), new_path.c_str()), "rename");
}

FsStatus LocalFileSystem::symlink(const std::string& target, const std::string& link_path) {
  return status_from(::symlink(target.c_str(), link_path.c_str()), "symlink");
}

FsStatus LocalFileSystem::hardlink(const std::string& existing_path, const std::string& new_path) {
  // linkat without AT_SYMLINK_FOLLOW links a symbolic link itself, never
  // the file outside the root it may point to.
  return status_from(::linkat(AT_FDCWD, existing_path.c_str(), AT_FDCWD, new_path.c_str(), 0),
                     "hardlink");
}

FsResult<FsStatvfs> LocalFileSystem::statvfs(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return error_from_errno(errno, "statvfs");
  FsStatvfs out;
  out.block_size = st.f_bsize;
  out.fragment_size = st.f_frsize;
  out.blocks = st.f_blocks;
  out.free_blocks = st.f_bfree;
  out.available_blocks = st.f_bavail;
  out.files = st.f_files;
  out.free_files = st.f_ffree;
  out.available_files = st.f_favail;
  out.filesystem_id = st.f_fsid;
  out.flags = ((st.f_flag & ST_RDONLY) ? FsStatvfs::kReadOnly : 0) |
              ((st.f_flag & ST_NOSUID) ? FsStatvfs::kNoSuid : 0);
  out.max_name_length = st.f_namemax;
  return out;
}

std::optional<std::string> LocalFileSystem::user_name(std::uint32_t uid) {
  auto cached = user_names_.find(uid);
  if (cached != user_names_.end()) return cached->second;
  std::optional<std::string> name;
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(static_cast<uid_t>(uid), &entry, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr) {
    name = found->pw_name;
  }
  // A client may ask for many ids; remember a bounded number of answers.
  if (user_names_.size() < 4096) user_names_[uid] = name;
  return name;
}

std::optional<std::string> LocalFileSystem::group_name(std::uint32_t gid) {
  auto cached = group_names_.find(gid);
  if (cached != group_names_.end()) return cached->second;
  std::optional<std::string> name;
  std::vector<char> buffer(16384);
  group entry{};
  group* found = nullptr;
  if (::getgrgid_r(static_cast<gid_t>(gid), &entry, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr) {
    name = found->gr_name;
  }
  if (group_names_.size() < 4096) group_names_[gid] = name;
  return name;
}

#else

// Windows --------------------------------------------------------------------
//
// No POSIX owners, modes or links in the same sense: permissions are what
// the C runtime reports (0644/0755-like, 0444 when read-only), owners are
// absent, chown succeeds without doing anything (as Windows OpenSSH's
// sftp-server), and symbolic links need a privilege Windows rarely grants.

namespace {

FsError error_from_code(const std::error_code& ec, const std::string& what) {
  if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
    return {StatusCode::NoSuchFile, what + ": " + ec.message()};
  }
  if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted) {
    return {StatusCode::PermissionDenied, what + ": " + ec.message()};
  }
  return {StatusCode::Failure, what + ": " + ec.message()};
}

std::string utf8(const std::filesystem::path& path) {
  return platform::wide_to_utf8(path.native());
}

FileInfo info_from(const struct _stat64& st) {
  FileInfo info;
  info.attrs.size = static_cast<std::uint64_t>(st.st_size);
  std::uint32_t mode = static_cast<std::uint32_t>(st.st_mode) & 0777;
  if ((st.st_mode & _S_IFMT) == _S_IFDIR) {
    mode |= file_type::kDirectory;
  } else {
    mode |= file_type::kRegular;
  }
  info.attrs.permissions = mode;
  info.attrs.times = Attrs::Times{static_cast<std::uint32_t>(st.st_atime),
                                  static_cast<std::uint32_t>(st.st_mtime)};
  info.link_count = st.st_nlink > 0 ? static_cast<std::uint64_t>(st.st_nlink) : 1;
  return info;
}

class WindowsFile : public File {
 public:
  explicit WindowsFile(int fd, bool append) : fd_(fd), append_(append) {}
  ~WindowsFile() override { ::_close(fd_); }

  FsResult<std::size_t> read(std::uint64_t offset, ssh::MutableByteView buffer) override {
    if (::_lseeki64(fd_, static_cast<__int64>(offset), SEEK_SET) < 0) {
      return error_from_errno(errno, "seek");
    }
    const int count = ::_read(fd_, buffer.data(), static_cast<unsigned>(buffer.size()));
    if (count < 0) return error_from_errno(errno, "read");
    return static_cast<std::size_t>(count);
  }
  FsStatus write(std::uint64_t offset, ByteView data) override {
    if (::_lseeki64(fd_, static_cast<__int64>(offset), append_ ? SEEK_END : SEEK_SET) < 0) {
      return error_from_errno(errno, "seek");
    }
    while (!data.empty()) {
      const int count = ::_write(fd_, data.data(), static_cast<unsigned>(data.size()));
      if (count <= 0) return error_from_errno(errno, "write");
      data = data.subspan(static_cast<std::size_t>(count));
    }
    return FsOk{};
  }
  FsResult<FileInfo> stat() override {
    struct _stat64 st {};
    if (::_fstat64(fd_, &st) != 0) return error_from_errno(errno, "fstat");
    return info_from(st);
  }
  FsStatus set_attributes(const Attrs& attrs) override {
    if (attrs.size && ::_chsize_s(fd_, static_cast<__int64>(*attrs.size)) != 0) {
      return error_from_errno(errno, "truncate");
    }
    if (attrs.times) {
      struct __utimbuf64 times {};
      times.actime = attrs.times->atime;
      times.modtime = attrs.times->mtime;
      if (::_futime64(fd_, &times) != 0) return error_from_errno(errno, "utimes");
    }
    return FsOk{};
  }
  FsStatus sync() override { return status_from(::_commit(fd_), "fsync"); }

 private:
  int fd_;
  bool append_;
};

class WindowsDirectory : public Directory {
 public:
  explicit WindowsDirectory(std::filesystem::directory_iterator it) : it_(std::move(it)) {}
  FsResult<std::optional<std::string>> next() override {
    if (it_ == std::filesystem::directory_iterator()) return std::optional<std::string>();
    std::string name = utf8(it_->path().filename());
    std::error_code ec;
    it_.increment(ec);
    if (ec) return error_from_code(ec, "readdir");
    return std::optional<std::string>(std::move(name));
  }

 private:
  std::filesystem::directory_iterator it_;
};

}  // namespace

FsResult<std::filesystem::path> LocalFileSystem::native_path(const std::string& served) {
  auto native = platform::from_guest_mount_path(served);
  if (!native.ok()) return FsError{StatusCode::NoSuchFile, native.error().message};
  return std::filesystem::path(platform::utf8_to_wide(*native));
}

FsResult<std::string> LocalFileSystem::served_path(const std::filesystem::path& native) {
  auto served = platform::to_guest_mount_path(utf8(native));
  if (!served.ok()) return FsError{StatusCode::Failure, served.error().message};
  return *served;
}

FsResult<FileInfo> LocalFileSystem::lstat(const std::string& path) {
  auto native = native_path(path);
  if (!native.ok()) return native.error();
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(*native, ec);
  if (!ec && std::filesystem::is_symlink(status)) {
    FileInfo info;
    info.attrs.permissions = file_type::kSymlink | 0777;
    info.attrs.size = 0;
    return info;
  }
  struct _stat64 st {};
  if (::_wstat64(native->c_str(), &st) != 0) return error_from_errno(errno, "lstat");
  return info_from(st);
}

FsResult<std::string> LocalFileSystem::readlink(const std::string& path) {
  auto native = native_path(path);
  if (!native.ok()) return native.error();
  std::error_code ec;
  const auto target = std::filesystem::read_symlink(*native, ec);
  if (ec) return error_from_code(ec, "readlink");
  std::string text = utf8(target);
  if (platform::is_absolute_windows_path(text)) {
    auto served = served_path(target);
    if (served.ok()) return *served;
  }
  std::replace(text.begin(), text.end(), '\\', '/');
  return text;
}

FsResult<std::unique_ptr<File>> LocalFileSystem::open(const std::string& path,
                                                      const OpenMode& mode) {
  auto native = native_path(path);
  if (!native.ok()) return native.error();
  int flags = _O_BINARY | _O_NOINHERIT;
  if (mode.read && mode.write) {
    flags |= _O_RDWR;
  } else if (mode.write) {
    flags |= _O_WRONLY;
  } else {
    flags |= _O_RDONLY;
  }
  if (mode.create) flags |= _O_CREAT;
  if (mode.truncate) flags |= _O_TRUNC;
  if (mode.exclusive) flags |= _O_EXCL;
  const int permissions = (mode.create_permissions & 0200) ? (_S_IREAD | _S_IWRITE) : _S_IREAD;
  const int fd = ::_wopen(native->c_str(), flags, permissions);
  if (fd < 0) return error_from_errno(errno, "open");
  return std::unique_ptr<File>(std::make_unique<WindowsFile>(fd, mode.append));
}

FsResult<std::unique_ptr<Directory>> LocalFileSystem::open_directory(const std::string& path) {
  auto native = native_path(path);
  if (!native.ok()) return native.error();
  std::error_code ec;
  std::filesystem::directory_iterator it(*native, ec);
  if (ec) return error_from_code(ec, "opendir");
  return std::unique_ptr<Directory>(std::make_unique<WindowsDirectory>(std::move(it)));
}

FsStatus LocalFileSystem::set_attributes(const std::string& path, const Attrs& attrs, bool) {
  auto native = native_path(path);
  if (!native.ok()) return native.error();
  std::error_code ec;
  if (attrs.size) {
    std::filesystem::resize_file(*native, *attrs.size, ec);
    if (ec) return error_from_code(ec, "truncate");
  }
  if (attrs.permissions) {
    const int mode = (*attrs.permissions & 0200) ? (_S_IREAD | _S_IWRITE) : _S_IREAD;
    if (::_wchmod(native->c_str(), mode) != 0) return error_from_errno(errno, "chmod");
  }
  if (attrs.times) {
    struct __utimbuf64 times {};
    times.actime = attrs.times->atime;
    times.modtime = attrs.times->mtime;
    if (::_wutime64(native->c_str(), &times) != 0) return error_from_errno(errno, "utimes");
  }
  return FsOk{};
}

FsStatus LocalFileSystem::remove_file(const std::string& path) {
  auto native = native_path(path);
  if (!native.ok()) return native.error();
  return status_from(::_wunlink(native->c_str()), "remove");
}

FsStatus LocalFileSystem::make_directory(const std::string& path, std::uint32_t) {
  auto native = native_path(path);
  if (!native.ok()) return native.error();
  return status_from(::_wmkdir(native->c_str()), "mkdir");
}

FsStatus LocalFileSystem::remove_directory(const std::string& path) {
  auto native = native_path(path);
  if (!native.ok()) return native.error();
  return status_from(::_wrmdir(native->c_str()), "rmdir");
}

FsStatus LocalFileSystem::rename(const std::string& old_path, const std::string& new_path) {
  auto from = native_path(old_path);
  if (!from.ok()) return from.error();
  auto to = native_path(new_path);
  if (!to.ok()) return to.error();
  std::error_code ec;
  std::filesystem::rename(*from, *to, ec);
  if (ec) return error_from_code(ec, "rename");
  return FsOk{};
}

FsStatus LocalFileSystem::symlink(const std::string& target, const std::string& link_path) {
  auto native = native_path(link_path);
  if (!native.ok()) return native.error();
  std::error_code ec;
  std::filesystem::create_symlink(std::filesystem::path(platform::utf8_to_wide(target)), *native,
                                  ec);
  if (ec) return error_from_code(ec, "symlink");
  return FsOk{};
}

FsStatus LocalFileSystem::hardlink(const std::string& existing_path, const std::string& new_path) {
  auto from = native_path(existing_path);
  if (!from.ok()) return from.error();
  auto to = native_path(new_path);
  if (!to.ok()) return to.error();
  std::error_code ec;
  std::filesystem::create_hard_link(*from, *to, ec);
  if (ec) return error_from_code(ec, "hardlink");
  return FsOk{};
}

FsResult<FsStatvfs> LocalFileSystem::statvfs(const std::string& path) {
  auto native = native_path(path);
  if (!native.ok()) return native.error();
  std::error_code ec;
  const auto space = std::filesystem::space(*native, ec);
  if (ec) return error_from_code(ec, "statvfs");
  constexpr std::uint64_t kBlock = 4096;
  FsStatvfs out;
  out.block_size = kBlock;
  out.fragment_size = kBlock;
  out.blocks = space.capacity / kBlock;
  out.free_blocks = space.free / kBlock;
  out.available_blocks = space.available / kBlock;
  out.max_name_length = 255;
  return out;
}

std::optional<std::string> LocalFileSystem::user_name(std::uint32_t) {
  return std::nullopt;
}

std::optional<std::string> LocalFileSystem::group_name(std::uint32_t) {
  return std::nullopt;
}

#endif

}  // namespace sftp
