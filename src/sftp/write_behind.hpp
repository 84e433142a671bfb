// When to start writing a file's new data to disk while it is still being
// written. A file written front to back (an sshfs `dd`, a copy) otherwise
// sits in the page cache until the writer's final fsync, or until the
// kernel's dirty limits, which on a host with a lot of memory can be the
// whole file: the fsync then waits for all of it at once. Starting
// writeback of each finished stretch (Linux sync_file_range, which does not
// wait) overlaps the disk with the transfer. Nothing else changes: fsync
// still waits for everything.
//
// Pure: told each write, it says which range to start writing back.
#pragma once

#include <cstdint>
#include <optional>

namespace sftp {

struct FileRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;

  bool operator==(const FileRange&) const = default;
};

class WriteBehind {
 public:
  // Writeback starts per this much written in sequence.
  static constexpr std::uint64_t kStretch = 8ULL << 20;

  // A write of `size` bytes at `offset` is done. Returns the stretch whose
  // writeback should start now: the sequential run so far once it reaches
  // kStretch. A write elsewhere starts a new run.
  std::optional<FileRange> wrote(std::uint64_t offset, std::uint64_t size);

 private:
  std::uint64_t run_start_ = 0;
  std::uint64_t run_end_ = 0;
};

}  // namespace sftp
