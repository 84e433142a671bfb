// The ISO9660 writer's images read back by a real reader, xorriso (a test
// tool only: scripts/install-deps), in each of its three views: Rock
// Ridge (names, modes, contents, as Linux mounts cidata), Joliet and plain
// ECMA-119. Linux only (CMakeLists.txt leaves it out of the Windows build).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/xorriso.hpp"
#include "vm/iso9660.hpp"

namespace vm::iso9660 {
namespace {

namespace fs = std::filesystem;
using testing_support::run_process;
using testing_support::run_xorriso;
using testing_support::TempDir;

constexpr std::int64_t kTimestamp = 1795977005;  // 2026-11-29 18:30:05 UTC

IsoSpec cidata_spec() {
  IsoSpec spec;
  spec.volume_id = "cidata";
  spec.timestamp_unix_seconds = kTimestamp;
  spec.files = {
      {"user-data", "#cloud-config\nusers:\n  - name: lima\n", 0644},
      {"meta-data", "instance-id: iid-readback\nlocal-hostname: lima-test\n", 0644},
      {"network-config", "version: 2\nethernets: {}\n", 0600},
      {"boot/00-write-ssh-ready-marker-and-more-words-in-a-long-name.sh",
       "#!/bin/sh\ntouch /run/lima-ssh-ready\n", 0755},
      {"boot/nested/deeper/large.bin", testing_support::payload_of(5 * kSectorSize + 123, 11),
       0640},
      {"provision/system/Mixed Case And Spaces.txt", "spaces\n", 0444},
      {"provision/r\xC3\xA9sum\xC3\xA9.txt", "utf-8 name\n", 0644},  // résumé.txt
      {"empty", "", 0644},
  };
  return spec;
}

// Every regular file below `root`, relative path -> contents.
std::map<std::string, std::string> files_below(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) {
      files[fs::relative(entry.path(), root).generic_string()] =
          testing_support::read_file(entry.path());
    }
  }
  return files;
}

std::map<std::string, std::string> expected_files(const IsoSpec& spec) {
  std::map<std::string, std::string> files;
  for (const IsoFile& file : spec.files) files[file.path] = file.contents;
  return files;
}

// "-rwxr-xr-x" for 0755.
std::string mode_string(std::uint32_t mode, char type) {
  std::string text(1, type);
  const char* letters = "rwxrwxrwx";
  for (int bit = 8; bit >= 0; --bit) text.push_back((mode >> bit) & 1 ? letters[8 - bit] : '-');
  return text;
}

class Iso9660Readback : public testing::Test {
 protected:
  void SetUp() override {
    image_ = directory_.path() / "cidata.iso";
    write_iso(spec_, image_);
  }

  const IsoSpec spec_ = cidata_spec();
  TempDir directory_{"iso9660-readback"};
  fs::path image_;
};

TEST_F(Iso9660Readback, XorrisoReadsTheVolumeId) {
  const std::string info = run_xorriso({"-indev", image_.string(), "-pvd_info"});
  EXPECT_NE(info.find("Volume Id    : cidata\n"), std::string::npos) << info;
}

TEST_F(Iso9660Readback, RockRidgeGivesNamesModesAndContents) {
  const fs::path out = directory_.path() / "rock-ridge";
  run_xorriso({"-osirrox", "on", "-indev", image_.string(), "-extract", "/", out.string()});
  EXPECT_EQ(files_below(out), expected_files(spec_));

  // xorriso's ls -l of every node: "-rw-r--r--    1 0        0  ... '/user-data'".
  const std::string listing =
      run_xorriso({"-indev", image_.string(), "-find", "/", "-exec", "lsdl", "--"});
  std::map<std::string, std::string> modes;
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    const auto quote = line.find('\'');
    if (quote == std::string::npos || line.back() != '\'') continue;
    modes[line.substr(quote + 2, line.size() - quote - 3)] = line.substr(0, 10);
  }
  for (const IsoFile& file : spec_.files) {
    EXPECT_EQ(modes[file.path], mode_string(file.mode, '-')) << file.path << "\n" << listing;
  }
  for (const char* directory :
       {"boot", "boot/nested", "boot/nested/deeper", "provision", "provision/system"}) {
    EXPECT_EQ(modes[directory], mode_string(0755, 'd')) << directory << "\n" << listing;
  }
  EXPECT_EQ(modes[""], mode_string(0755, 'd')) << "the root\n" << listing;
  modes.erase("");
  EXPECT_EQ(modes.size(), spec_.files.size() + 5) << listing;
}

TEST_F(Iso9660Readback, JolietTreeGivesTheSameNamesAndContents) {
  const fs::path out = directory_.path() / "joliet";
  run_xorriso({"-read_fs", "norock", "-osirrox", "on", "-indev", image_.string(), "-extract", "/",
               out.string()});
  EXPECT_EQ(files_below(out), expected_files(spec_));
}

TEST_F(Iso9660Readback, PlainIsoTreeHoldsEveryFile) {
  const fs::path out = directory_.path() / "ecma119";
  run_xorriso({"-read_fs", "ecma119", "-osirrox", "on", "-indev", image_.string(), "-extract", "/",
               out.string()});
  // The names are 8.3 there; every content must be present, in its directory.
  std::multiset<std::string> found;
  std::multiset<std::string> expected;
  for (const auto& [path, contents] : files_below(out)) {
    found.insert(std::to_string(std::count(path.begin(), path.end(), '/')) + ":" + contents);
  }
  for (const IsoFile& file : spec_.files) {
    expected.insert(std::to_string(std::count(file.path.begin(), file.path.end(), '/')) + ":" +
                    file.contents);
  }
  EXPECT_EQ(found, expected);
}

}  // namespace
}  // namespace vm::iso9660
