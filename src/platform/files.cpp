#include "platform/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#ifdef _WIN32
#include <io.h>
#else
#include <glob.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cwctype>

namespace platform {

#ifdef _WIN32

std::optional<std::string> private_key_permission_problem(const std::filesystem::path&) {
  return std::nullopt;
}

int make_private_directory(const std::filesystem::path& path) {
  return ::_wmkdir(path.c_str()) == 0 ? 0 : errno;
}

namespace {

bool lacks_final_newline(int fd) {
  struct _stat64 info {};
  if (::_fstat64(fd, &info) != 0 || (info.st_mode & _S_IFMT) != _S_IFREG || info.st_size == 0) {
    return false;
  }
  if (::_lseeki64(fd, info.st_size - 1, SEEK_SET) < 0) return false;
  char last = '\n';
  if (::_read(fd, &last, 1) != 1) return false;
  return last != '\n';
}

}  // namespace

std::optional<FileError> append_to_text_file(const std::filesystem::path& file,
                                             std::string_view text) {
  constexpr int kFlags = _O_APPEND | _O_BINARY | _O_NOINHERIT;
  int fd = ::_wopen(file.c_str(), _O_RDWR | _O_CREAT | kFlags, _S_IREAD | _S_IWRITE);
  if (fd < 0 && errno == EACCES) fd = ::_wopen(file.c_str(), _O_WRONLY | kFlags);
  if (fd < 0) return FileError{"open", errno};
  std::string data(text);
  if (lacks_final_newline(fd)) data.insert(data.begin(), '\n');
  std::string_view remaining = data;
  while (!remaining.empty()) {
    const int written = ::_write(fd, remaining.data(), static_cast<unsigned>(remaining.size()));
    if (written <= 0) {
      const int error_number = errno;
      ::_close(fd);
      return FileError{"write", error_number};
    }
    remaining.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::_close(fd) != 0) return FileError{"write", errno};
  return std::nullopt;
}

std::optional<FileError> write_file_with_mode(const std::filesystem::path& file,
                                              std::string_view content, unsigned) {
  const int fd = ::_wopen(file.c_str(), _O_WRONLY | _O_CREAT | _O_TRUNC | _O_BINARY | _O_NOINHERIT,
                          _S_IREAD | _S_IWRITE);
  if (fd < 0) return FileError{"open", errno};
  while (!content.empty()) {
    const int written = ::_write(fd, content.data(), static_cast<unsigned>(content.size()));
    if (written <= 0) {
      const int error_number = errno;
      ::_close(fd);
      return FileError{"write", error_number};
    }
    content.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::_close(fd) != 0) return FileError{"write", errno};
  return std::nullopt;
}

namespace {

// fnmatch() for one path component, case-insensitive.
bool component_matches(std::wstring_view pattern, std::wstring_view name) {
  if (pattern.empty()) return name.empty();
  const wchar_t first = pattern.front();
  if (first == L'*') {
    for (std::size_t skip = 0; skip <= name.size(); ++skip) {
      if (component_matches(pattern.substr(1), name.substr(skip))) return true;
    }
    return false;
  }
  if (name.empty()) return false;
  const wchar_t c = static_cast<wchar_t>(std::towlower(name.front()));
  if (first == L'?') return component_matches(pattern.substr(1), name.substr(1));
  if (first == L'[') {
    const std::size_t close = pattern.find(L']', 2);
    if (close != std::wstring_view::npos) {
      std::wstring_view set = pattern.substr(1, close - 1);
      const bool negated = !set.empty() && (set.front() == L'!' || set.front() == L'^');
      if (negated) set.remove_prefix(1);
      bool found = false;
      for (std::size_t i = 0; i < set.size(); ++i) {
        const wchar_t low = static_cast<wchar_t>(std::towlower(set[i]));
        if (i + 2 < set.size() && set[i + 1] == L'-') {
          const wchar_t high = static_cast<wchar_t>(std::towlower(set[i + 2]));
          found = found || (low <= c && c <= high);
          i += 2;
        } else {
          found = found || low == c;
        }
      }
      if (found == negated) return false;
      return component_matches(pattern.substr(close + 1), name.substr(1));
    }
  }
  if (static_cast<wchar_t>(std::towlower(first)) != c) return false;
  return component_matches(pattern.substr(1), name.substr(1));
}

bool has_wildcard(std::wstring_view component) {
  return component.find_first_of(L"*?[") != std::wstring_view::npos;
}

}  // namespace

std::optional<std::vector<std::string>> expand_wildcards(const std::filesystem::path& pattern) {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates{fs::path()};
  for (const auto& component : pattern) {
    const std::wstring text = component.wstring();
    std::vector<fs::path> next;
    for (const auto& base : candidates) {
      if (!has_wildcard(text)) {
        next.push_back(base / component);
        continue;
      }
      std::error_code error;
      fs::directory_iterator it(base.empty() ? fs::path(L".") : base, error);
      if (error) continue;
      for (const auto& entry : it) {
        const std::wstring name = entry.path().filename().wstring();
        if (name.starts_with(L".") && !text.starts_with(L".")) continue;  // as glob(3)
        if (component_matches(text, name)) next.push_back(base / name);
      }
    }
    candidates = std::move(next);
  }
  std::vector<std::string> files;
  for (const auto& candidate : candidates) {
    std::error_code error;
    if (fs::exists(candidate, error)) files.push_back(candidate.string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

#else  // POSIX

std::optional<std::string> private_key_permission_problem(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return std::nullopt;  // reading it will tell
  // As OpenSSH's sshkey_perm_ok(): only files of our own are checked.
  if (info.st_uid != ::getuid() || (info.st_mode & 077) == 0) return std::nullopt;
  char mode[8];
  std::snprintf(mode, sizeof mode, "0%3.3o", static_cast<unsigned>(info.st_mode & 0777));
  return "UNPROTECTED PRIVATE KEY FILE! Permissions " + std::string(mode) + " for '" +
         path.string() +
         "' are too open. It is required that your private key files are NOT accessible by "
         "others. This private key will be ignored.";
}

int make_private_directory(const std::filesystem::path& path) {
  return ::mkdir(path.c_str(), 0700) == 0 ? 0 : errno;
}

namespace {

bool lacks_final_newline(int fd) {
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) || info.st_size == 0) return false;
  char last = '\n';
  if (pread(fd, &last, 1, info.st_size - 1) != 1) return false;
  return last != '\n';
}

}  // namespace

std::optional<FileError> append_to_text_file(const std::filesystem::path& file,
                                             std::string_view text) {
  // Read access lets us check the last byte; a write-only file still gets the text.
  int fd = ::open(file.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EACCES) fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return FileError{"open", errno};
  std::string data(text);
  if (lacks_final_newline(fd)) data.insert(data.begin(), '\n');
  std::string_view remaining = data;
  while (!remaining.empty()) {
    const ssize_t written = ::write(fd, remaining.data(), remaining.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      const int error_number = errno;
      ::close(fd);
      return FileError{"write", error_number};
    }
    remaining.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::close(fd) != 0) return FileError{"write", errno};
  return std::nullopt;
}

std::optional<FileError> write_file_with_mode(const std::filesystem::path& file,
                                              std::string_view content, unsigned mode) {
  const int fd =
      ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) return FileError{"open", errno};
  // An existing file keeps its mode through O_CREAT; a key must not.
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    const int error_number = errno;
    ::close(fd);
    return FileError{"chmod", error_number};
  }
  while (!content.empty()) {
    const ssize_t written = ::write(fd, content.data(), content.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      const int error_number = errno;
      ::close(fd);
      return FileError{"write", error_number};
    }
    content.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::close(fd) != 0) return FileError{"write", errno};
  return std::nullopt;
}

std::optional<std::vector<std::string>> expand_wildcards(const std::filesystem::path& pattern) {
  glob_t matches{};
  const int status = glob(pattern.c_str(), 0, nullptr, &matches);
  std::vector<std::string> files;
  if (status == 0) files.assign(matches.gl_pathv, matches.gl_pathv + matches.gl_pathc);
  globfree(&matches);
  if (status != 0 && status != GLOB_NOMATCH) return std::nullopt;
  return files;
}

#endif

}  // namespace platform
