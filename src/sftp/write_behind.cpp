#include "sftp/write_behind.hpp"

namespace sftp {

std::optional<FileRange> WriteBehind::wrote(std::uint64_t offset, std::uint64_t size) {
  if (offset != run_end_) run_start_ = offset;
  run_end_ = offset + size;
  if (run_end_ - run_start_ < kStretch) return std::nullopt;
  const FileRange stretch{run_start_, run_end_ - run_start_};
  run_start_ = run_end_;
  return stretch;
}

}  // namespace sftp
