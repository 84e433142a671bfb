// An in-memory ISO9660 (ECMA-119) image writer with Rock Ridge and Joliet,
// for the cloud-init NoCloud data (volume "cidata") that a VM boots with.
//
// The image holds three views of the same files: plain ISO9660 level 1 names
// (8.3, upper case) for readers that know nothing else, Rock Ridge (SUSP SP,
// CE, ER; RRIP PX, TF, NM) so Linux sees the real names and POSIX modes, and
// a Joliet tree (UCS-2 names) for Windows. The output depends only on the
// spec: no wall clock, no environment, so images can be golden-tested.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace vm::iso9660 {

// Every input the writer refuses; what() names the offending value and why.
class IsoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct IsoFile {
  // Within the image, '/'-separated, no leading '/' ("user-data",
  // "scripts/boot.sh"). Directories on the way are created. Each component:
  // 1..64 characters of UTF-8 (Basic Multilingual Plane, the Joliet limit),
  // not "." or "..", no control characters and none of * / : ; ? \ (Joliet
  // forbids them). At most 8 components (ECMA-119's depth limit).
  std::string path;
  std::string contents;       // bytes, written as they are
  std::uint32_t mode = 0644;  // permission bits only (07777), as in chmod
};

struct IsoSpec {
  // The PVD volume identifier: 1..32 of A-Z a-z 0-9 _ - . (cloud-init looks
  // for "cidata"). The Joliet descriptor carries its first 16 characters.
  std::string volume_id;
  std::vector<IsoFile> files;
  // Recorded as every creation/modification time, in UTC. 1970..2155.
  std::int64_t timestamp_unix_seconds = 0;
  std::uint32_t directory_mode = 0755;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

inline constexpr std::size_t kSectorSize = 2048;

// The whole image. Throws IsoError on invalid input.
std::vector<std::uint8_t> build_iso(const IsoSpec& spec);

// build_iso() written to `path` (replaced if it exists). Throws IsoError on
// invalid input and std::runtime_error if the file cannot be written.
void write_iso(const IsoSpec& spec, const std::filesystem::path& path);

}  // namespace vm::iso9660
