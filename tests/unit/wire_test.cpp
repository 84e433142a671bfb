#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "ssh/limits.hpp"
#include "ssh/wire/reader.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::wire {
namespace {

TEST(Wire, RoundTripsEveryType) {
  Bytes buffer;
  Writer writer(buffer);
  writer.u8(7);
  writer.boolean(true);
  writer.u32(0xdeadbeef);
  writer.u64(0x0102030405060708ULL);
  writer.string("hello");
  writer.name_list({"a", "bc"});
  const std::uint8_t magnitude[] = {0x00, 0x80, 0x01};
  writer.mpint_unsigned(magnitude);

  Reader reader(buffer);
  EXPECT_EQ(reader.u8(), 7);
  EXPECT_TRUE(reader.boolean());
  EXPECT_EQ(reader.u32(), 0xdeadbeefU);
  EXPECT_EQ(reader.u64(), 0x0102030405060708ULL);
  EXPECT_EQ(reader.text(), "hello");
  EXPECT_EQ(reader.name_list(), (std::vector<std::string>{"a", "bc"}));
  auto mp = reader.mpint();
  ASSERT_EQ(mp.size(), 3U);
  EXPECT_EQ(mp[0], 0);
  EXPECT_EQ(mp[1], 0x80);
  EXPECT_TRUE(reader.finished());
}

TEST(Wire, TruncatedStringFailsWithoutAllocating) {
  const std::uint8_t data[] = {0xff, 0xff, 0xff, 0xff, 'a'};
  Reader reader(data);
  EXPECT_TRUE(reader.string().empty());
  EXPECT_FALSE(reader.ok());
  EXPECT_EQ(reader.u32(), 0U);  // sticky
}

TEST(Wire, RejectsNegativeAndNonMinimalMpints) {
  const std::uint8_t negative[] = {0, 0, 0, 1, 0x80};
  Reader a(negative);
  a.mpint();
  EXPECT_FALSE(a.ok());
  const std::uint8_t padded[] = {0, 0, 0, 2, 0x00, 0x01};
  Reader b(padded);
  b.mpint();
  EXPECT_FALSE(b.ok());
}

TEST(Wire, RejectsEmptyNameInList) {
  Bytes buffer;
  Writer(buffer).string("a,,b");
  Reader reader(buffer);
  reader.name_list();
  EXPECT_FALSE(reader.ok());
}

// limits::kMaxNameListEntries and kMaxNameListLength, at and one past.
std::string names_joined(std::size_t count, std::size_t total_length) {
  // `count` names, the last one padded so the list is total_length bytes.
  std::string list;
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) list += ',';
    list += 'n';
  }
  if (list.size() < total_length) list.insert(list.size(), total_length - list.size(), 'x');
  return list;
}

std::optional<std::size_t> names_read(const std::string& list) {
  Bytes buffer;
  Writer(buffer).string(list);
  Reader reader(buffer);
  auto names = reader.name_list();
  if (!reader.ok()) return std::nullopt;
  return names.size();
}

TEST(Wire, NameListEntryLimitAtAndPast) {
  EXPECT_EQ(names_read(names_joined(limits::kMaxNameListEntries, 0)),
            std::optional<std::size_t>(limits::kMaxNameListEntries));
  EXPECT_EQ(names_read(names_joined(limits::kMaxNameListEntries + 1, 0)), std::nullopt);
}

TEST(Wire, NameListLengthLimitAtAndPast) {
  EXPECT_EQ(names_read(names_joined(1, limits::kMaxNameListLength)), std::optional<std::size_t>(1));
  EXPECT_EQ(names_read(names_joined(1, limits::kMaxNameListLength + 1)), std::nullopt);
}

}  // namespace
}  // namespace ssh::wire
