// The ISO9660 writer (src/vm/iso9660.*) read back by a small reader written
// here from ECMA-119, SUSP and RRIP: descriptors, path tables, the three
// trees (plain ISO, Rock Ridge, Joliet), contents, and every refusal. Pure
// byte checks, so they also run under wine; the read-back by a real reader
// (xorriso) is in iso9660_readback_test.cpp.
#include "vm/iso9660.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace vm::iso9660 {
namespace {

using Image = std::vector<std::uint8_t>;

constexpr std::size_t kPrimary = 16 * kSectorSize;
constexpr std::size_t kJoliet = 17 * kSectorSize;
constexpr std::size_t kTerminator = 18 * kSectorSize;
// 2026-11-29 18:30:05 UTC.
constexpr std::int64_t kTimestamp = 1795977005;

std::uint32_t le32(const Image& image, std::size_t at) {
  return image.at(at) | image.at(at + 1) << 8 | image.at(at + 2) << 16 |
         static_cast<std::uint32_t>(image.at(at + 3)) << 24;
}
std::uint32_t be32(const Image& image, std::size_t at) {
  return static_cast<std::uint32_t>(image.at(at)) << 24 | image.at(at + 1) << 16 |
         image.at(at + 2) << 8 | image.at(at + 3);
}
std::uint16_t le16(const Image& image, std::size_t at) {
  return static_cast<std::uint16_t>(image.at(at) | image.at(at + 1) << 8);
}
std::uint16_t be16(const Image& image, std::size_t at) {
  return static_cast<std::uint16_t>(image.at(at) << 8 | image.at(at + 1));
}
// A both-endian field (ECMA-119 7.3.3) whose halves must agree.
std::uint32_t both32(const Image& image, std::size_t at) {
  EXPECT_EQ(le32(image, at), be32(image, at + 4)) << "both-endian field at " << at;
  return le32(image, at);
}
std::string text(const Image& image, std::size_t at, std::size_t length) {
  return std::string(image.begin() + static_cast<std::ptrdiff_t>(at),
                     image.begin() + static_cast<std::ptrdiff_t>(at + length));
}
std::string ucs2_to_ascii(std::string_view be_units) {
  std::string out;
  for (std::size_t i = 0; i + 1 < be_units.size(); i += 2) {
    const unsigned unit =
        static_cast<unsigned char>(be_units[i]) << 8 | static_cast<unsigned char>(be_units[i + 1]);
    out.push_back(unit < 0x80 ? static_cast<char>(unit) : '?');
  }
  return out;
}

struct Record {
  std::string identifier;  // raw bytes
  std::uint32_t extent = 0;
  std::uint32_t size = 0;
  bool is_directory = false;
  std::map<std::string, std::string> susp;  // signature -> payload (after the 4-byte header)
};

void parse_susp(const Image& image, std::string_view area, Record& record, int depth = 0) {
  std::size_t at = 0;
  while (at + 4 <= area.size()) {
    const auto length = static_cast<unsigned char>(area[at + 2]);
    ASSERT_GE(length, 4u) << "SUSP entry too short";
    ASSERT_LE(at + length, area.size()) << "SUSP entry runs past its area";
    const std::string signature(area.substr(at, 2));
    const std::string payload(area.substr(at + 4, length - 4));
    record.susp[signature] = payload;
    if (signature == "CE") {
      ASSERT_LT(depth, 4);
      const Image bytes(payload.begin(), payload.end());
      const std::size_t block = both32(bytes, 0);
      const std::size_t offset = both32(bytes, 8);
      const std::size_t ce_length = both32(bytes, 16);
      ASSERT_LE(offset + ce_length, kSectorSize) << "continuation area crosses a sector";
      parse_susp(image, text(image, block * kSectorSize + offset, ce_length), record, depth + 1);
    }
    at += length;
  }
}

std::vector<Record> read_directory(const Image& image, std::uint32_t extent, std::uint32_t size,
                                   bool rock_ridge) {
  std::vector<Record> records;
  EXPECT_EQ(size % kSectorSize, 0u);
  const std::size_t begin = std::size_t{extent} * kSectorSize;
  std::size_t at = begin;
  while (at < begin + size) {
    const std::size_t length = image.at(at);
    if (length == 0) {  // rest of the sector is padding
      at = (at / kSectorSize + 1) * kSectorSize;
      continue;
    }
    EXPECT_EQ(length % 2, 0u) << "odd directory record length";
    EXPECT_EQ(at / kSectorSize, (at + length - 1) / kSectorSize) << "record crosses a sector";
    Record record;
    record.extent = both32(image, at + 2);
    record.size = both32(image, at + 10);
    record.is_directory = (image.at(at + 25) & 0x02) != 0;
    const std::size_t identifier_length = image.at(at + 32);
    record.identifier = text(image, at + 33, identifier_length);
    const std::size_t use_start = at + 33 + identifier_length + (identifier_length % 2 == 0);
    if (rock_ridge) parse_susp(image, text(image, use_start, at + length - use_start), record);
    records.push_back(record);
    at += length;
  }
  return records;
}

Record root_of(const Image& image, std::size_t descriptor) {
  Record root;
  root.extent = both32(image, descriptor + 156 + 2);
  root.size = both32(image, descriptor + 156 + 10);
  root.is_directory = true;
  return root;
}

std::string rock_ridge_name(const Record& record) {
  const auto name = record.susp.find("NM");
  return name == record.susp.end() ? std::string() : name->second.substr(1);
}

std::uint32_t rock_ridge_mode(const Record& record) {
  const std::string& px = record.susp.at("PX");
  return both32(Image(px.begin(), px.end()), 0);
}

// Every file and directory below `directory`, keyed by its path from the
// Rock Ridge names (or, without Rock Ridge, by the Joliet names).
void walk(const Image& image, const Record& directory, const std::string& prefix, bool rock_ridge,
          std::map<std::string, Record>& out) {
  const std::vector<Record> records =
      read_directory(image, directory.extent, directory.size, rock_ridge);
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records[0].identifier, std::string(1, '\0'));
  EXPECT_EQ(records[1].identifier, std::string(1, '\1'));
  for (std::size_t i = 2; i < records.size(); ++i) {
    const Record& record = records[i];
    const std::string name =
        rock_ridge ? rock_ridge_name(record) : ucs2_to_ascii(record.identifier);
    const std::string path = prefix + name;
    EXPECT_TRUE(out.emplace(path, record).second) << "listed twice: " << path;
    if (record.is_directory) walk(image, record, path + "/", rock_ridge, out);
  }
}

std::string contents_of(const Image& image, const Record& record) {
  return text(image, std::size_t{record.extent} * kSectorSize, record.size);
}

const std::string kLongName = "01-a-rather-long-lower-case-script-name-beyond-eight-dot-three.sh";

IsoSpec cidata_spec() {
  IsoSpec spec;
  spec.volume_id = "cidata";
  spec.timestamp_unix_seconds = kTimestamp;
  spec.files = {
      {"user-data", "#cloud-config\nusers: []\n", 0644},
      {"meta-data", "instance-id: iid-test\n", 0644},
      {"network-config", "version: 2\n", 0600},
      {"boot/" + kLongName.substr(0, 64), "#!/bin/sh\ntrue\n", 0755},
      {"boot/nested/deeper/large.bin", testing_support::payload_of(3 * kSectorSize + 17, 7), 0640},
      {"empty", "", 0644},
  };
  return spec;
}

TEST(Iso9660Structure, VolumeDescriptorsSitAtSectors16To18) {
  const Image image = build_iso(cidata_spec());
  EXPECT_EQ(image.at(kPrimary), 1);
  EXPECT_EQ(text(image, kPrimary + 1, 5), "CD001");
  EXPECT_EQ(image.at(kPrimary + 6), 1);
  EXPECT_EQ(image.at(kJoliet), 2);
  EXPECT_EQ(text(image, kJoliet + 1, 5), "CD001");
  EXPECT_EQ(text(image, kJoliet + 88, 3), "%/E") << "Joliet UCS-2 level 3 escape sequence";
  EXPECT_EQ(image.at(kTerminator), 255);
  EXPECT_EQ(text(image, kTerminator + 1, 5), "CD001");
  for (std::size_t at = 0; at < kPrimary; ++at)
    ASSERT_EQ(image[at], 0) << "system area byte " << at;
}

TEST(Iso9660Structure, VolumeIdAndSizesAreRecorded) {
  const Image image = build_iso(cidata_spec());
  ASSERT_EQ(image.size() % kSectorSize, 0u);
  EXPECT_EQ(text(image, kPrimary + 40, 32), "cidata" + std::string(26, ' '));
  EXPECT_EQ(ucs2_to_ascii(text(image, kJoliet + 40, 32)), "cidata" + std::string(10, ' '));
  for (const std::size_t descriptor : {kPrimary, kJoliet}) {
    EXPECT_EQ(both32(image, descriptor + 80), image.size() / kSectorSize);
    EXPECT_EQ(le16(image, descriptor + 128), kSectorSize);
    EXPECT_EQ(be16(image, descriptor + 130), kSectorSize);
  }
}

TEST(Iso9660Structure, TimesComeFromTheSpecNotTheClock) {
  const Image image = build_iso(cidata_spec());
  EXPECT_EQ(text(image, kPrimary + 813, 16), "2026112918300500");  // creation
  EXPECT_EQ(text(image, kPrimary + 830, 16), "2026112918300500");  // modification
  const std::size_t root_record = kPrimary + 156;
  EXPECT_EQ(image.at(root_record + 18), 2026 - 1900);
  EXPECT_EQ(image.at(root_record + 19), 11);
  EXPECT_EQ(image.at(root_record + 20), 29);
  EXPECT_EQ(image.at(root_record + 21), 18);
  EXPECT_EQ(image.at(root_record + 22), 30);
  EXPECT_EQ(image.at(root_record + 23), 5);

  IsoSpec leap_day = cidata_spec();
  leap_day.timestamp_unix_seconds = 1709251199;  // 2024-02-29 23:59:59 UTC
  EXPECT_EQ(text(build_iso(leap_day), kPrimary + 813, 16), "2024022923595900");

  EXPECT_EQ(build_iso(cidata_spec()), image) << "same spec, different bytes";
  EXPECT_NE(build_iso(leap_day), image);
}

TEST(Iso9660Structure, RootCarriesSuspIndicatorAndRockRidgeReference) {
  const Image image = build_iso(cidata_spec());
  const Record root = root_of(image, kPrimary);
  const std::size_t dot = std::size_t{root.extent} * kSectorSize;
  ASSERT_EQ(image.at(dot + 32), 1);  // identifier length of "."
  // SUSP 5.3: SP first in the root's "." system use area, after the pad byte.
  EXPECT_EQ(text(image, dot + 34, 2), "SP");
  EXPECT_EQ(image.at(dot + 38), 0xBE);
  EXPECT_EQ(image.at(dot + 39), 0xEF);
  const std::vector<Record> records = read_directory(image, root.extent, root.size, true);
  ASSERT_FALSE(records.empty());
  ASSERT_EQ(records[0].susp.count("ER"), 1u);
  EXPECT_EQ(records[0].susp.at("ER").substr(4, 10), "RRIP_1991A");
  EXPECT_EQ(rock_ridge_mode(records[0]), 0040755u);
}

TEST(Iso9660Structure, RockRidgeTreeHasNamesModesAndContents) {
  const IsoSpec spec = cidata_spec();
  const Image image = build_iso(spec);
  std::map<std::string, Record> tree;
  walk(image, root_of(image, kPrimary), "", true, tree);
  std::set<std::string> expected_directories{"boot", "boot/nested", "boot/nested/deeper"};
  for (const IsoFile& file : spec.files) {
    const auto found = tree.find(file.path);
    ASSERT_NE(found, tree.end()) << file.path;
    EXPECT_FALSE(found->second.is_directory);
    EXPECT_EQ(rock_ridge_mode(found->second), 0100000 | file.mode) << file.path;
    EXPECT_EQ(contents_of(image, found->second), file.contents) << file.path;
  }
  for (const std::string& directory : expected_directories) {
    ASSERT_EQ(tree.count(directory), 1u) << directory;
    EXPECT_TRUE(tree.at(directory).is_directory);
    EXPECT_EQ(rock_ridge_mode(tree.at(directory)), 0040755u);
  }
  EXPECT_EQ(tree.size(), spec.files.size() + expected_directories.size());
}

TEST(Iso9660Structure, JolietTreeHasTheSameNamesAndContents) {
  const IsoSpec spec = cidata_spec();
  const Image image = build_iso(spec);
  std::map<std::string, Record> tree;
  walk(image, root_of(image, kJoliet), "", false, tree);
  for (const IsoFile& file : spec.files) {
    const auto found = tree.find(file.path);
    ASSERT_NE(found, tree.end()) << file.path;
    EXPECT_EQ(contents_of(image, found->second), file.contents) << file.path;
  }
  EXPECT_EQ(tree.size(), spec.files.size() + 3);
}

TEST(Iso9660Structure, PlainIsoNamesAreLevelOneUniqueAndSorted) {
  IsoSpec spec = cidata_spec();
  spec.files.push_back({"network-config2", "x", 0644});  // same first 8 characters
  spec.files.push_back({"Network-Config", "y", 0644});   // differs only in case
  const Image image = build_iso(spec);
  const Record root = root_of(image, kPrimary);
  const std::vector<Record> records = read_directory(image, root.extent, root.size, false);
  const std::regex file_name("[A-Z0-9_]{1,8}\\.[A-Z0-9_]{0,3};1");
  const std::regex directory_name("[A-Z0-9_]{1,8}");
  std::set<std::string> seen;
  std::string previous;
  for (std::size_t i = 2; i < records.size(); ++i) {
    const std::string& name = records[i].identifier;
    EXPECT_TRUE(std::regex_match(name, records[i].is_directory ? directory_name : file_name))
        << name;
    EXPECT_TRUE(seen.insert(name).second) << "duplicate " << name;
    EXPECT_LT(previous, name) << "not sorted";
    previous = name;
  }
  EXPECT_EQ(seen.size(), 7u);  // the five top-level entries of cidata_spec() and two more
}

TEST(Iso9660Structure, PathTablesListEveryDirectoryInBothByteOrders) {
  const Image image = build_iso(cidata_spec());
  for (const std::size_t descriptor : {kPrimary, kJoliet}) {
    const std::uint32_t size = both32(image, descriptor + 132);
    const std::size_t little = std::size_t{le32(image, descriptor + 140)} * kSectorSize;
    const std::size_t big = std::size_t{be32(image, descriptor + 148)} * kSectorSize;
    std::size_t at = 0;
    std::vector<std::uint16_t> parents;
    while (at < size) {
      const std::size_t identifier_length = image.at(little + at);
      ASSERT_GT(identifier_length, 0u);
      EXPECT_EQ(le32(image, little + at + 2), be32(image, big + at + 2));
      EXPECT_EQ(le16(image, little + at + 6), be16(image, big + at + 6));
      parents.push_back(le16(image, little + at + 6));
      at += 8 + identifier_length + identifier_length % 2;
    }
    EXPECT_EQ(at, size);
    // root, boot, boot/nested, boot/nested/deeper: each the child of the one before.
    EXPECT_EQ(parents, (std::vector<std::uint16_t>{1, 1, 2, 3}));
    EXPECT_EQ(le32(image, little + 2), root_of(image, descriptor).extent);
  }
}

TEST(Iso9660Structure, LongMultiByteNameGoesToContinuationArea) {
  IsoSpec spec = cidata_spec();
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "\xE2\x82\xAC";  // 64 x EURO SIGN: 192 bytes
  spec.files.push_back({"boot/" + long_name, "euro", 0644});
  const Image image = build_iso(spec);
  std::map<std::string, Record> tree;
  walk(image, root_of(image, kPrimary), "", true, tree);
  ASSERT_EQ(tree.count("boot/" + long_name), 1u);
  EXPECT_EQ(tree.at("boot/" + long_name).susp.count("CE"), 1u);
  EXPECT_EQ(contents_of(image, tree.at("boot/" + long_name)), "euro");
}

TEST(Iso9660Structure, ManyFilesSpanSeveralDirectorySectors) {
  IsoSpec spec;
  spec.volume_id = "MANY";
  for (int i = 0; i < 200; ++i) {
    spec.files.push_back({"scripts/provision-step-" + std::to_string(i) + ".sh",
                          "echo " + std::to_string(i) + "\n", 0755});
  }
  const Image image = build_iso(spec);
  std::map<std::string, Record> tree;
  walk(image, root_of(image, kPrimary), "", true, tree);
  EXPECT_GT(tree.at("scripts").size, kSectorSize);
  for (const IsoFile& file : spec.files) {
    ASSERT_EQ(tree.count(file.path), 1u) << file.path;
    EXPECT_EQ(contents_of(image, tree.at(file.path)), file.contents);
  }
}

TEST(Iso9660Write, WritesTheImageToAPath) {
  const testing_support::TempDir directory("iso9660-test");
  const auto path = directory.path() / "cidata.iso";
  write_iso(cidata_spec(), path);
  const Image image = build_iso(cidata_spec());
  EXPECT_EQ(testing_support::read_file(path), std::string(image.begin(), image.end()));
}

// Each refusal: the writer throws IsoError whose message contains `expected`.
void expect_refused(const IsoSpec& spec, const std::string& expected) {
  try {
    build_iso(spec);
    ADD_FAILURE() << "accepted; expected an error containing: " << expected;
  } catch (const IsoError& error) {
    EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
  }
}

IsoSpec with_file(const std::string& path, std::uint32_t mode = 0644) {
  IsoSpec spec;
  spec.volume_id = "cidata";
  spec.files = {{path, "x", mode}};
  return spec;
}

TEST(Iso9660Validation, RefusesBadVolumeIds) {
  IsoSpec spec = with_file("a");
  spec.volume_id = "";
  expect_refused(spec, "1 to 32 characters");
  spec.volume_id = std::string(33, 'A');
  expect_refused(spec, "1 to 32 characters");
  spec.volume_id = std::string(32, 'A');
  EXPECT_NO_THROW(build_iso(spec));
  spec.volume_id = "ci data";
  expect_refused(spec, "may only contain");
}

TEST(Iso9660Validation, RefusesBadPaths) {
  expect_refused(with_file(""), "empty component");
  expect_refused(with_file("/user-data"), "empty component");
  expect_refused(with_file("a//b"), "empty component");
  expect_refused(with_file("dir/"), "empty component");
  expect_refused(with_file("a/../b"), "\"..\"");
  expect_refused(with_file("./a"), "\".\"");
  expect_refused(with_file(std::string("nul\0byte", 8)),
                 "path \"nul\\x00byte\" contains a NUL byte");
  expect_refused(with_file("tab\there"), "control character");
  expect_refused(with_file("what?"), "not allowed in Joliet");
  expect_refused(with_file("c:drive"), "not allowed in Joliet");
  expect_refused(with_file("back\\slash"), "not allowed in Joliet");
  expect_refused(with_file("bad\xFFutf8"), "UTF-8");
  expect_refused(with_file("cut\xE2\x82"), "UTF-8");
  expect_refused(with_file("emoji\xF0\x9F\x98\x80"), "Basic Multilingual Plane");
  expect_refused(with_file("overlong\xC0\xAF"), "not valid UTF-8");
}

TEST(Iso9660Validation, RefusesNamesOverSixtyFourCharacters) {
  expect_refused(with_file(std::string(65, 'n')), "at most 64");
  EXPECT_NO_THROW(build_iso(with_file(std::string(64, 'n'))));
}

TEST(Iso9660Validation, RefusesPathsDeeperThanEightLevels) {
  expect_refused(with_file("1/2/3/4/5/6/7/8/9"), "9 levels deep");
  EXPECT_NO_THROW(build_iso(with_file("1/2/3/4/5/6/7/8")));
}

TEST(Iso9660Validation, RefusesDuplicatesAndFilesUsedAsDirectories) {
  IsoSpec spec = with_file("user-data");
  spec.files.push_back({"user-data", "again", 0644});
  expect_refused(spec, "given twice");

  spec = with_file("scripts/boot.sh");
  spec.files.push_back({"scripts", "a file", 0644});
  expect_refused(spec, "given twice (once as a directory)");

  spec = with_file("scripts");
  spec.files.push_back({"scripts/boot.sh", "", 0755});
  expect_refused(spec, "which is a file");
}

TEST(Iso9660Validation, RefusesModesBeyondPermissionBits) {
  expect_refused(with_file("a", 0100644), "beyond 07777");
  IsoSpec spec = with_file("a");
  spec.directory_mode = 040755;
  expect_refused(spec, "beyond 07777");
  EXPECT_NO_THROW(build_iso(with_file("a", 04755)));
}

TEST(Iso9660Validation, RefusesTimestampsOutsideWhatIsoCanRecord) {
  IsoSpec spec = with_file("a");
  spec.timestamp_unix_seconds = -1;
  expect_refused(spec, "before 1970");
  spec.timestamp_unix_seconds = 5985878400;  // 2159-09-08, past 1900 + 255
  expect_refused(spec, "after 2155");
}

}  // namespace
}  // namespace vm::iso9660
