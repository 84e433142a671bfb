// The file operations the legacy scp protocol (src/ssh/scp/scp_protocol.hpp)
// needs, so the protocol itself does no I/O: the server gives it the local
// disk (src/platform/scp_local_files.hpp), tests an in-memory tree.
//
// Paths are the protocol's own text: '/'-separated, relative ones relative to
// the directory the implementation was given (the session's working
// directory). Failures carry the system's text for them ("No such file or
// directory"), which the client is shown as "scp: PATH: TEXT".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ssh/common.hpp"

namespace ssh::scp {

enum class FileKind { Regular, Directory, Other };

struct FileInfo {
  FileKind kind = FileKind::Other;
  // Permission bits with set-user-ID, set-group-ID and sticky (07777).
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
  // Seconds since the epoch.
  std::int64_t mtime = 0;
  std::int64_t atime = 0;
};

// A "T" record's times.
struct FileTimes {
  std::int64_t mtime_seconds = 0;
  std::uint32_t mtime_microseconds = 0;
  std::int64_t atime_seconds = 0;
  std::uint32_t atime_microseconds = 0;
};

// A failure of a file operation: `message` is the system's text for it.
inline Error file_error(std::string message) {
  return {DisconnectReason::ByApplication, std::move(message)};
}

class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to buffer.size() bytes; 0 means the end of the file.
  virtual Result<std::size_t> read(MutableByteView buffer) = 0;
};

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status write(ByteView data) = 0;
  virtual Status truncate(std::uint64_t size) = 0;
  // Sets the permission bits exactly (no creation mask).
  virtual Status set_mode(std::uint32_t mode) = 0;
  // Further calls are errors; the destructor closes a file not closed.
  virtual Status close() = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Follows symbolic links, as stat(2).
  virtual Result<FileInfo> stat(const std::string& path) = 0;
  virtual Result<std::unique_ptr<ReadableFile>> open_for_reading(const std::string& path) = 0;
  // Opens for writing without truncating (O_WRONLY|O_CREAT); a missing file
  // is created with create_mode less the creation mask.
  virtual Result<std::unique_ptr<WritableFile>> open_for_writing(const std::string& path,
                                                                 std::uint32_t create_mode) = 0;
  // Creates one directory with mode less the creation mask.
  virtual Status make_directory(const std::string& path, std::uint32_t mode) = 0;
  // Sets the permission bits exactly.
  virtual Status set_mode(const std::string& path, std::uint32_t mode) = 0;
  virtual Status set_times(const std::string& path, const FileTimes& times) = 0;
  // Replaces `to` if it exists (rename(2)): how a client's download lands
  // under its final name in one step.
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  // Removes a file (not a directory).
  virtual Status remove_file(const std::string& path) = 0;
  // The names in a directory, without "." and "..".
  virtual Result<std::vector<std::string>> list_directory(const std::string& path) = 0;
  // What a shell makes of an unquoted wildcard word: the matching paths,
  // sorted, empty when none match.
  virtual std::vector<std::string> expand_wildcards(const std::string& pattern) = 0;
  // The umask: the bits a created file or directory does not get.
  virtual std::uint32_t creation_mask() const = 0;
  // True where '\\' separates path components too (Windows), so a name
  // received from the client must not contain it.
  virtual bool backslash_separates() const { return false; }
};

}  // namespace ssh::scp
