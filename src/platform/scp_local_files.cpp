#include "platform/scp_local_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#ifdef _WIN32
#include <io.h>
#else
#include <sys/types.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "platform/files.hpp"

namespace platform {

namespace {

namespace fs = std::filesystem;
using ssh::ByteView;
using ssh::MutableByteView;
using ssh::Result;
using ssh::Status;
using ssh::scp::file_error;
using ssh::scp::FileInfo;
using ssh::scp::FileKind;
using ssh::scp::FileTimes;

ssh::Error errno_error(int error_number) {
  return file_error(std::generic_category().message(error_number));
}

ssh::Error code_error(const std::error_code& code) {
  return file_error(std::generic_category().message(code.value()));
}

class LocalReadableFile final : public ssh::scp::ReadableFile {
 public:
  explicit LocalReadableFile(int fd) : fd_(fd) {}
  ~LocalReadableFile() override {
#ifdef _WIN32
    ::_close(fd_);
#else
    ::close(fd_);
#endif
  }

  Result<std::size_t> read(MutableByteView buffer) override {
    for (;;) {
#ifdef _WIN32
      const int count =
          ::_read(fd_, buffer.data(),
                  static_cast<unsigned>(std::min<std::size_t>(buffer.size(), 1u << 30)));
#else
      const ssize_t count = ::read(fd_, buffer.data(), buffer.size());
#endif
      if (count >= 0) return static_cast<std::size_t>(count);
      if (errno != EINTR) return errno_error(errno);
    }
  }

 private:
  int fd_;
};

class LocalWritableFile final : public ssh::scp::WritableFile {
 public:
  LocalWritableFile(int fd, fs::path path) : fd_(fd), path_(std::move(path)) {}
  ~LocalWritableFile() override { (void)close(); }

  Status write(ByteView data) override {
    if (fd_ < 0) return errno_error(EBADF);
    while (!data.empty()) {
#ifdef _WIN32
      const int written = ::_write(
          fd_, data.data(), static_cast<unsigned>(std::min<std::size_t>(data.size(), 1u << 30)));
#else
      const ssize_t written = ::write(fd_, data.data(), data.size());
#endif
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) return errno_error(errno);
      if (written == 0) return errno_error(EIO);
      data = data.subspan(static_cast<std::size_t>(written));
    }
    return {};
  }

  Status truncate(std::uint64_t size) override {
    if (fd_ < 0) return errno_error(EBADF);
#ifdef _WIN32
    const int error_number = ::_chsize_s(fd_, static_cast<long long>(size));
    if (error_number != 0) return errno_error(error_number);
#else
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return errno_error(errno);
#endif
    return {};
  }

  Status set_mode(std::uint32_t mode) override {
    if (fd_ < 0) return errno_error(EBADF);
#ifdef _WIN32
    pending_mode_ = mode;  // applied by close(): the attribute is the path's
#else
    if (::fchmod(fd_, static_cast<mode_t>(mode)) != 0) return errno_error(errno);
#endif
    return {};
  }

  Status close() override {
    if (fd_ < 0) return errno_error(EBADF);
    const int fd = fd_;
    fd_ = -1;
#ifdef _WIN32
    if (::_close(fd) != 0) return errno_error(errno);
    if (pending_mode_) {
      std::error_code error;
      fs::permissions(path_, fs::perms(*pending_mode_ & 0777), error);
      if (error) return code_error(error);
    }
#else
    if (::close(fd) != 0) return errno_error(errno);
#endif
    return {};
  }

 private:
  int fd_;
  fs::path path_;
  std::optional<std::uint32_t> pending_mode_;
};

#ifdef _WIN32
std::int64_t seconds_since_epoch(fs::file_time_type time) {
  const auto system_time = std::chrono::file_clock::to_sys(time);
  return std::chrono::duration_cast<std::chrono::seconds>(system_time.time_since_epoch()).count();
}
#else
std::uint32_t read_umask() {
  // umask(2) only reads by writing; nothing else here creates files meanwhile.
  const mode_t mask = ::umask(022);
  ::umask(mask);
  return static_cast<std::uint32_t>(mask);
}
#endif

class LocalFileSystem final : public ssh::scp::FileSystem {
 public:
  explicit LocalFileSystem(std::string base_directory) : base_(std::move(base_directory)) {
#ifdef _WIN32
    creation_mask_ = 022;
#else
    creation_mask_ = read_umask();
#endif
  }

  Result<FileInfo> stat(const std::string& path) override {
    const fs::path resolved = resolve(path);
#ifdef _WIN32
    std::error_code error;
    const fs::file_status status = fs::status(resolved, error);
    if (error) return code_error(error);
    FileInfo info;
    info.kind = fs::is_regular_file(status) ? FileKind::Regular
                : fs::is_directory(status)  ? FileKind::Directory
                                            : FileKind::Other;
    // The C runtime says 0666 or 0444 (0777 for directories): without the
    // umask, a client keeping modes (-p) would make our files world-writable.
    info.mode = static_cast<std::uint32_t>(status.permissions()) & 0777 & ~creation_mask_;
    if (info.kind == FileKind::Regular) {
      info.size = fs::file_size(resolved, error);
      if (error) return code_error(error);
    }
    const fs::file_time_type written = fs::last_write_time(resolved, error);
    if (error) return code_error(error);
    info.mtime = seconds_since_epoch(written);
    info.atime = info.mtime;
    return info;
#else
    struct stat status {};
    if (::stat(resolved.c_str(), &status) != 0) return errno_error(errno);
    FileInfo info;
    info.kind = S_ISREG(status.st_mode) ? FileKind::Regular
                : S_ISDIR(status.st_mode) ? FileKind::Directory
                                          : FileKind::Other;
    info.mode = static_cast<std::uint32_t>(status.st_mode) & 07777;
    info.size = status.st_size < 0 ? 0 : static_cast<std::uint64_t>(status.st_size);
    info.mtime = status.st_mtime;
    info.atime = status.st_atime;
    return info;
#endif
  }

  Result<std::unique_ptr<ssh::scp::ReadableFile>> open_for_reading(
      const std::string& path) override {
    const fs::path resolved = resolve(path);
#ifdef _WIN32
    const int fd = ::_wopen(resolved.c_str(), _O_RDONLY | _O_BINARY | _O_NOINHERIT);
#else
    const int fd = ::open(resolved.c_str(), O_RDONLY | O_CLOEXEC);
#endif
    if (fd < 0) return errno_error(errno);
    return std::unique_ptr<ssh::scp::ReadableFile>(std::make_unique<LocalReadableFile>(fd));
  }

  Result<std::unique_ptr<ssh::scp::WritableFile>> open_for_writing(
      const std::string& path, std::uint32_t create_mode) override {
    const fs::path resolved = resolve(path);
#ifdef _WIN32
    const int fd = ::_wopen(resolved.c_str(), _O_WRONLY | _O_CREAT | _O_BINARY | _O_NOINHERIT,
                            (create_mode & 0200) != 0 ? (_S_IREAD | _S_IWRITE) : _S_IREAD);
#else
    const int fd =
        ::open(resolved.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, static_cast<mode_t>(create_mode));
#endif
    if (fd < 0) return errno_error(errno);
    return std::unique_ptr<ssh::scp::WritableFile>(
        std::make_unique<LocalWritableFile>(fd, resolved));
  }

  Status make_directory(const std::string& path, std::uint32_t mode) override {
    const fs::path resolved = resolve(path);
#ifdef _WIN32
    (void)mode;
    if (::_wmkdir(resolved.c_str()) != 0) return errno_error(errno);
#else
    if (::mkdir(resolved.c_str(), static_cast<mode_t>(mode)) != 0) return errno_error(errno);
#endif
    return {};
  }

  Status set_mode(const std::string& path, std::uint32_t mode) override {
    const fs::path resolved = resolve(path);
#ifdef _WIN32
    std::error_code error;
    fs::permissions(resolved, fs::perms(mode & 0777), error);
    if (error) return code_error(error);
#else
    if (::chmod(resolved.c_str(), static_cast<mode_t>(mode)) != 0) return errno_error(errno);
#endif
    return {};
  }

  Status set_times(const std::string& path, const FileTimes& times) override {
    const fs::path resolved = resolve(path);
#ifdef _WIN32
    const auto system_time =
        std::chrono::system_clock::time_point(std::chrono::seconds(times.mtime_seconds) +
                                              std::chrono::microseconds(times.mtime_microseconds));
    std::error_code error;
    fs::last_write_time(resolved, std::chrono::file_clock::from_sys(system_time), error);
    if (error) return code_error(error);
#else
    struct timespec stamps[2]{};
    stamps[0].tv_sec = static_cast<time_t>(times.atime_seconds);
    stamps[0].tv_nsec = static_cast<long>(times.atime_microseconds) * 1000;
    stamps[1].tv_sec = static_cast<time_t>(times.mtime_seconds);
    stamps[1].tv_nsec = static_cast<long>(times.mtime_microseconds) * 1000;
    if (::utimensat(AT_FDCWD, resolved.c_str(), stamps, 0) != 0) return errno_error(errno);
#endif
    return {};
  }

  Status rename(const std::string& from, const std::string& to) override {
    // std::filesystem::rename replaces an existing target on Windows too
    // (MoveFileEx with MOVEFILE_REPLACE_EXISTING).
    std::error_code error;
    fs::rename(resolve(from), resolve(to), error);
    if (error) return code_error(error);
    return {};
  }

  Status remove_file(const std::string& path) override {
    std::error_code error;
    if (!fs::remove(resolve(path), error) && !error) return errno_error(ENOENT);
    if (error) return code_error(error);
    return {};
  }

  Result<std::vector<std::string>> list_directory(const std::string& path) override {
    std::error_code error;
    fs::directory_iterator entries(resolve(path), error);
    if (error) return code_error(error);
    std::vector<std::string> names;
    for (; entries != fs::directory_iterator(); entries.increment(error)) {
      names.push_back(entries->path().filename().string());
    }
    if (error) return code_error(error);
    return names;
  }

  std::vector<std::string> expand_wildcards(const std::string& pattern) override {
    const bool relative = !fs::path(pattern).is_absolute() && !base_.empty();
    const std::optional<std::vector<std::string>> matches =
        platform::expand_wildcards(resolve(pattern));
    if (!matches) return {};
    if (!relative) return *matches;
    // Back to the form the pattern had, as a shell in base_ would print them.
    std::vector<std::string> shortened;
    const std::string prefix = (fs::path(base_) / "").string();
    for (const std::string& match : *matches) {
      shortened.push_back(match.starts_with(prefix) ? match.substr(prefix.size()) : match);
    }
    return shortened;
  }

  std::uint32_t creation_mask() const override {
    return creation_mask_;
  }

  bool backslash_separates() const override {
#ifdef _WIN32
    return true;
#else
    return false;
#endif
  }

 private:
  fs::path resolve(const std::string& path) const {
    const fs::path given(path);
    if (given.is_absolute() || base_.empty()) return given;
    return fs::path(base_) / given;
  }

  std::string base_;
  std::uint32_t creation_mask_ = 0;
};

}  // namespace

std::unique_ptr<ssh::scp::FileSystem> make_local_scp_file_system(std::string base_directory) {
  return std::make_unique<LocalFileSystem>(std::move(base_directory));
}

}  // namespace platform
