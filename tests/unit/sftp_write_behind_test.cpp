// When the SFTP server's local files start writing back to disk.
#include <gtest/gtest.h>

#include "sftp/write_behind.hpp"

namespace {

using sftp::FileRange;
using sftp::WriteBehind;

constexpr std::uint64_t kChunk = 255 * 1024;  // what sshfs and our client send per WRITE

TEST(SftpWriteBehind, ASequentialFileStartsWritebackPerStretch) {
  WriteBehind write_behind;
  std::vector<FileRange> kicked;
  std::uint64_t offset = 0;
  while (offset < 40 * WriteBehind::kStretch / 2) {
    if (auto range = write_behind.wrote(offset, kChunk)) kicked.push_back(*range);
    offset += kChunk;
  }
  ASSERT_GE(kicked.size(), 19u);
  // Back to back, each at least a stretch and less than a stretch plus a write.
  std::uint64_t expected_offset = 0;
  for (const FileRange& range : kicked) {
    EXPECT_EQ(range.offset, expected_offset);
    EXPECT_GE(range.length, WriteBehind::kStretch);
    EXPECT_LT(range.length, WriteBehind::kStretch + kChunk);
    expected_offset += range.length;
  }
}

TEST(SftpWriteBehind, SmallOrScatteredWritesStartNothing) {
  WriteBehind write_behind;
  EXPECT_EQ(write_behind.wrote(0, 4096), std::nullopt);
  EXPECT_EQ(write_behind.wrote(4096, 4096), std::nullopt);
  // Writes that jump around never build a run of a stretch.
  for (std::uint64_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(write_behind.wrote((i * 7919 % 1000) * 2 * kChunk, kChunk), std::nullopt);
  }
}

TEST(SftpWriteBehind, AJumpStartsANewRunFromThere) {
  WriteBehind write_behind;
  EXPECT_EQ(write_behind.wrote(0, WriteBehind::kStretch - 1), std::nullopt);
  // Not a continuation: the run starts again at 1 GiB.
  EXPECT_EQ(write_behind.wrote(1ULL << 30, WriteBehind::kStretch - 1), std::nullopt);
  EXPECT_EQ(write_behind.wrote((1ULL << 30) + WriteBehind::kStretch - 1, 1),
            (FileRange{1ULL << 30, WriteBehind::kStretch}));
  // One write of a whole stretch is a stretch on its own.
  EXPECT_EQ(write_behind.wrote(0, WriteBehind::kStretch), (FileRange{0, WriteBehind::kStretch}));
}

}  // namespace
