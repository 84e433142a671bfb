// Client configuration against the POSIX password database and file modes.
// Not in the Windows unit tests (see CMakeLists.txt): there is no passwd
// database there, and no POSIX mode bits.
#include <botan/auto_rng.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ssh/config/client_options.hpp"
#include "ssh/config/session_config.hpp"
#include "ssh/keys/keys.hpp"
#include "support/temp_dir.hpp"

namespace ssh::config {
namespace {

namespace fs = std::filesystem;

TEST(ConfigOptionsPosix, TildeUserComesFromThePasswordDatabase) {
  EXPECT_EQ(expand_tilde("~root/.ssh", "/home/me"),
            std::string(getpwnam("root")->pw_dir) + "/.ssh");
}

TEST(ConfigOptionsPosix, CurrentUserComesFromThePasswordDatabase) {
  const passwd* entry = getpwuid(getuid());
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(current_user_name(), entry->pw_name);
  EXPECT_FALSE(home_directory().empty());
}

class IdentityPermissions : public ::testing::Test {
 protected:
  // Writes a fresh ed25519 key with the given mode and returns its path.
  std::string write_key(const std::string& name, fs::perms mode) {
    Botan::AutoSeeded_RNG rng;
    auto key = keys::PrivateKey::generate("ssh-ed25519", 0, rng);
    EXPECT_TRUE(key.ok());
    const fs::path path = dir_.path() / name;
    std::ofstream(path, std::ios::binary) << key->to_openssh("test", rng);
    fs::permissions(path, mode, fs::perm_options::replace);
    return path.string();
  }

  static LoadedIdentities load(const std::string& file) {
    ClientOptions options;
    options.identity_files = {file};
    return load_identities(options);
  }

  testing_support::TempDir dir_;
};

TEST_F(IdentityPermissions, OwnerOnlyKeysAreUsed) {
  for (auto mode : {fs::perms(0600), fs::perms(0400), fs::perms(0700)}) {
    const auto loaded = load(write_key("id_ok", mode));
    EXPECT_EQ(loaded.identities.size(), 1u);
    EXPECT_TRUE(loaded.warnings.empty());
  }
}

TEST_F(IdentityPermissions, KeysOthersMayReadAreRefusedLikeOpenSsh) {
  for (auto [mode, text] : {std::pair{fs::perms(0644), "0644"}, std::pair{fs::perms(0640), "0640"},
                            std::pair{fs::perms(0604), "0604"}, std::pair{fs::perms(0660), "0660"},
                            std::pair{fs::perms(0602), "0602"}}) {
    const std::string file = write_key("id_open", mode);
    const auto loaded = load(file);
    EXPECT_TRUE(loaded.identities.empty()) << text;
    ASSERT_EQ(loaded.warnings.size(), 1u) << text;
    EXPECT_NE(loaded.warnings[0].find("UNPROTECTED PRIVATE KEY FILE!"), std::string::npos);
    EXPECT_NE(loaded.warnings[0].find(std::string("Permissions ") + text + " for '" + file +
                                      "' are too open"),
              std::string::npos)
        << loaded.warnings[0];
  }
}

}  // namespace
}  // namespace ssh::config
