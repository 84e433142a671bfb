// The platform seams (src/platform/) that can be checked without a
// terminal: user and home, files. Runs on Linux and, as unit_tests.exe,
// under wine.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "platform/files.hpp"
#include "platform/user.hpp"
#include "support/temp_dir.hpp"

namespace platform {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(PlatformUser, HasANameAndAHome) {
  EXPECT_FALSE(current_user_name().empty());
  EXPECT_FALSE(home_directory().empty());
  EXPECT_EQ(home_directory_of(current_user_name()).value_or(""), home_directory());
  EXPECT_FALSE(home_directory_of("no-such-user-xyz").has_value());
  EXPECT_FALSE(current_user_id().empty());
}

#ifdef _WIN32
TEST(PlatformUser, WindowsHomeIsTheUserProfile) {
  const char* profile = std::getenv("USERPROFILE");
  ASSERT_NE(profile, nullptr);
  EXPECT_EQ(home_directory(), profile);
  EXPECT_EQ(current_user_id(), "0");
}
#endif

TEST(PlatformFiles, AppendAddsAMissingFinalNewlineAndWritesBytesAsGiven) {
  testing_support::TempDir dir;
  const fs::path file = dir.path() / "known_hosts";
  ASSERT_FALSE(append_to_text_file(file, "a 1\n").has_value());
  EXPECT_EQ(read_all(file), "a 1\n");
  std::ofstream(file, std::ios::binary | std::ios::app) << "b 2";  // no final newline
  ASSERT_FALSE(append_to_text_file(file, "c 3\n").has_value());
  // Binary: no \r\n on Windows either.
  EXPECT_EQ(read_all(file), "a 1\nb 2\nc 3\n");
}

TEST(PlatformFiles, AppendReportsWhatFailed) {
  testing_support::TempDir dir;
  const auto failed = append_to_text_file(dir.path() / "missing" / "file", "x\n");
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->action, "open");
  EXPECT_NE(failed->error_number, 0);
}

TEST(PlatformFiles, MakesPrivateDirectories) {
  testing_support::TempDir dir;
  EXPECT_EQ(make_private_directory(dir.path() / ".ssh"), 0);
  EXPECT_TRUE(fs::is_directory(dir.path() / ".ssh"));
  EXPECT_EQ(make_private_directory(dir.path() / ".ssh"), EEXIST);
#ifndef _WIN32
  EXPECT_EQ(fs::status(dir.path() / ".ssh").permissions() & fs::perms::all, fs::perms(0700));
#endif
}

TEST(PlatformFiles, PrivateKeyModeBits) {
  testing_support::TempDir dir;
  const fs::path key = dir.path() / "id_ed25519";
  std::ofstream(key) << "key";
  fs::permissions(key, fs::perms(0600), fs::perm_options::replace);
  EXPECT_FALSE(private_key_permission_problem(key).has_value());
  fs::permissions(key, fs::perms(0644), fs::perm_options::replace);
#ifdef _WIN32
  // No POSIX mode bits on Windows: nothing to refuse on their account.
  EXPECT_FALSE(private_key_permission_problem(key).has_value());
#else
  EXPECT_TRUE(private_key_permission_problem(key).has_value());
#endif
}

TEST(PlatformFiles, ExpandsWildcardsSorted) {
  testing_support::TempDir dir;
  fs::create_directories(dir.path() / "config.d");
  for (const char* name : {"b.conf", "a.conf", "c.txt", ".hidden.conf"}) {
    std::ofstream(dir.path() / "config.d" / name) << "x";
  }
  const auto conf = expand_wildcards(dir.path() / "config.d" / "*.conf");
  ASSERT_TRUE(conf.has_value());
  EXPECT_EQ(*conf, (std::vector<std::string>{(dir.path() / "config.d" / "a.conf").string(),
                                             (dir.path() / "config.d" / "b.conf").string()}));
  const auto one = expand_wildcards(dir.path() / "config.d" / "[c]?txt");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->size(), 1u);
  EXPECT_EQ(expand_wildcards(dir.path() / "config.d" / "*.none").value().size(), 0u);
  EXPECT_EQ(expand_wildcards(dir.path() / "no-such-dir" / "*").value().size(), 0u);
  EXPECT_EQ(expand_wildcards(dir.path() / "config.d" / "a.conf").value().size(), 1u);
}

}  // namespace
}  // namespace platform
