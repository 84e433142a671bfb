#include "ssh/config/ssh_config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ssh/limits.hpp"
#include "support/temp_dir.hpp"

namespace ssh::config {
namespace {

using Strings = std::vector<std::string>;
using testing_support::TempDir;

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

ConfigFileSettings settings_for(const TempDir& dir) {
  ConfigFileSettings settings;
  settings.home = dir.path().string();
  settings.local_user = "me";
  return settings;
}

std::vector<std::string> messages_of(const std::vector<ConfigWarning>& warnings) {
  std::vector<std::string> messages;
  for (const auto& warning : warnings) messages.push_back(warning.to_string());
  return messages;
}

// As written by Lima into ~/.lima/<instance>/ssh.config.
constexpr const char* kLimaConfig = R"(# This SSH config file can be passed to 'ssh -F'.
# This file is created by Lima, but not used by Lima itself currently.
# Modifications to this file will be lost on restarting the Lima instance.
Host lima-default
  IdentityFile "/root/.lima/_config/user"
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  NoHostAuthenticationForLocalhost yes
  GSSAPIAuthentication no
  PreferredAuthentications publickey
  Compression no
  BatchMode yes
  IdentitiesOnly yes
  Ciphers "^aes128-gcm@openssh.com,aes256-gcm@openssh.com"
  User root
  ControlMaster auto
  ControlPath "/root/.lima/default/ssh.sock"
  ControlPersist yes
  Hostname 127.0.0.1
  Port 60022
)";

TEST(SshConfig, ReadsLimaStyleConfig) {
  TempDir dir;
  const auto path = dir.path() / "ssh.config";
  write_file(path, kLimaConfig);
  ClientOptions options;
  options.host = "lima-default";
  const auto warnings = apply_config_file(options, path, options.host, settings_for(dir));

  EXPECT_EQ(options.identity_files, (Strings{"/root/.lima/_config/user"}));
  EXPECT_EQ(options.strict_host_key_checking, StrictHostKeyChecking::No);
  EXPECT_EQ(options.user_known_hosts_files, (Strings{"/dev/null"}));
  EXPECT_EQ(options.preferred_authentications, (Strings{"publickey"}));
  EXPECT_FALSE(options.compression);
  EXPECT_TRUE(options.batch_mode);
  EXPECT_TRUE(options.identities_only);
  EXPECT_EQ(options.ciphers, "^aes128-gcm@openssh.com,aes256-gcm@openssh.com");
  EXPECT_EQ(options.user, "root");
  EXPECT_EQ(options.hostname, "127.0.0.1");
  EXPECT_EQ(options.port, 60022);
  EXPECT_EQ(options.control_master, ControlMasterMode::Auto);
  EXPECT_EQ(options.control_path, "/root/.lima/default/ssh.sock");

  const std::string file = path.string();
  EXPECT_EQ(
      messages_of(warnings),
      (Strings{file + " line 8: ignoring unsupported option \"NoHostAuthenticationForLocalhost\"",
               file + " line 9: ignoring unsupported option \"GSSAPIAuthentication\"",
               file + " line 18: ignoring unsupported option \"ControlPersist\""}));

  // The resolved cipher list puts the GCM ciphers first.
  const Strings supported = {"chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com",
                             "aes256-gcm@openssh.com", "aes128-ctr"};
  EXPECT_EQ(resolve_algorithm_list(options.ciphers, supported, supported),
            (Strings{"aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
                     "chacha20-poly1305@openssh.com", "aes128-ctr"}));
}

TEST(SshConfig, LimaConfigDoesNothingForOtherHosts) {
  ClientOptions options;
  const auto warnings = apply_config_text(options, kLimaConfig, "ssh.config", "lima-other");
  EXPECT_TRUE(warnings.empty());
  EXPECT_TRUE(options.assigned_keywords.empty());
  EXPECT_TRUE(options.identity_files.empty());
}

TEST(SshConfig, CommandLineOptionsBeatTheFile) {
  ClientOptions options;
  apply_option(options, "Port", "2222");  // -p 2222 / -o Port=2222 come first
  auto [keyword, value] = parse_option_argument("User=admin");
  apply_option(options, keyword, value);
  apply_option(options, "IdentityFile", "/cli/key");
  apply_config_text(options, kLimaConfig, "ssh.config", "lima-default");
  EXPECT_EQ(options.port, 2222);
  EXPECT_EQ(options.user, "admin");
  EXPECT_EQ(options.hostname, "127.0.0.1");
  EXPECT_EQ(options.identity_files, (Strings{"/cli/key", "/root/.lima/_config/user"}));
}

TEST(SshConfig, FirstMatchingBlockWinsAndGlobalLinesApplyToAll) {
  constexpr const char* kConfig = R"(
ConnectTimeout 5
Host *.example.com !bad.example.com
  User web
  Port 2201
Host db?.example.com
  User db
  ServerAliveInterval 15
Host *
  User fallback
  Port 22
  ServerAliveInterval 60
)";
  ClientOptions web;
  apply_config_text(web, kConfig, "config", "www.example.com");
  EXPECT_EQ(web.user, "web");
  EXPECT_EQ(web.port, 2201);
  EXPECT_EQ(web.connect_timeout, std::chrono::seconds(5));
  EXPECT_EQ(web.server_alive_interval, std::chrono::seconds(60));

  ClientOptions db;
  apply_config_text(db, kConfig, "config", "DB1.Example.COM");
  EXPECT_EQ(db.user, "web");  // the first block also matches and comes first
  EXPECT_EQ(db.server_alive_interval, std::chrono::seconds(15));

  ClientOptions negated;
  apply_config_text(negated, kConfig, "config", "bad.example.com");
  EXPECT_EQ(negated.user, "fallback");
  EXPECT_EQ(negated.port, 22);

  EXPECT_TRUE(host_patterns_match({"db?"}, "db1"));
  EXPECT_FALSE(host_patterns_match({"db?"}, "db10"));
  EXPECT_FALSE(host_patterns_match({"!db1"}, "db2"));  // only negated: never matches
}

TEST(SshConfig, SyntaxVariantsCommentsAndQuotes) {
  constexpr const char* kConfig =
      "# comment\n"
      "\n"
      "   \t\n"
      "Host=\"quoted host\" other\r\n"
      "  User = spaced   # trailing comment\r\n"
      "\tIdentityFile='/path with/spaces'\n"
      "  PORT=2022\n"
      "  UserKnownHostsFile \"/a b\" /c\n";
  ClientOptions options;
  const auto warnings = apply_config_text(options, kConfig, "config", "quoted host");
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(options.user, "spaced");
  EXPECT_EQ(options.identity_files, (Strings{"/path with/spaces"}));
  EXPECT_EQ(options.port, 2022);
  EXPECT_EQ(options.user_known_hosts_files, (Strings{"/a b", "/c"}));
}

TEST(SshConfig, MatchAllHostAndUser) {
  constexpr const char* kConfig = R"(
Host nothing
  User never
Match all
  Port 2022
Match host 10.0.0.* user root
  IdentityFile /keys/root
Match !originalhost vm,other localuser me
  IdentityFile /keys/never
Match originalhost vm localuser me
  IdentityFile /keys/vm
)";
  ClientOptions options;
  options.host = "vm";
  apply_option(options, "HostName", "10.0.0.7");
  apply_option(options, "User", "root");
  const auto warnings = apply_config_text(options, kConfig, "config", "vm", {.local_user = "me"});
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(options.port, 2022);
  EXPECT_EQ(options.identity_files, (Strings{"/keys/root", "/keys/vm"}));
  EXPECT_EQ(options.user, "root");
}

TEST(SshConfig, UnsupportedMatchCriteriaWarnAndSkipTheBlock) {
  constexpr const char* kConfig =
      "Match exec \"true\"\n"
      "  User fromexec\n"
      "Match canonical all\n"
      "  Port 1\n"
      "Host *\n"
      "  User everyone\n";
  ClientOptions options;
  const auto warnings = apply_config_text(options, kConfig, "cfg", "vm");
  EXPECT_EQ(messages_of(warnings),
            (Strings{"cfg line 1: unsupported Match criterion \"exec\"; ignoring this Match block",
                     "cfg line 3: unsupported Match criterion \"canonical\"; ignoring this Match "
                     "block"}));
  EXPECT_EQ(options.user, "everyone");
  EXPECT_EQ(options.port, 22);
}

TEST(SshConfig, ErrorsNameFileAndLine) {
  ClientOptions options;
  try {
    apply_config_text(options, "Host vm\n  User root\n  Port nope\n", "/etc/cfg", "vm");
    FAIL() << "expected an error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.file(), "/etc/cfg");
    EXPECT_EQ(error.line(), 3U);
    EXPECT_STREQ(error.what(), "/etc/cfg line 3: Port: bad port number \"nope\"");
  }
  EXPECT_THROW(apply_config_text(options, "Host\n", "cfg", "vm"), ConfigError);
  EXPECT_THROW(apply_config_text(options, "Match all host x\n", "cfg", "vm"), ConfigError);
  EXPECT_THROW(apply_config_text(options, "Match host\n", "cfg", "vm"), ConfigError);
  EXPECT_THROW(apply_config_text(options, "User \"root\n", "cfg", "vm"), ConfigError);
  // Bad values in blocks for other hosts are not looked at.
  EXPECT_NO_THROW(apply_config_text(options, "Host other\n  Port nope\n", "cfg", "vm"));
}

TEST(SshConfig, UnknownKeywordsWarnWithFileAndLine) {
  ClientOptions options;
  const auto warnings = apply_config_text(options, "Frobnicate yes\nUser root\n", "cfg", "vm");
  EXPECT_EQ(messages_of(warnings), (Strings{"cfg line 1: ignoring unknown option \"Frobnicate\""}));
  EXPECT_EQ(options.user, "root");
}

TEST(SshConfig, IncludeIsRelativeToDotSshAndGlobs) {
  TempDir dir;
  const auto ssh_dir = dir.path() / ".ssh";
  write_file(ssh_dir / "config.d" / "10-vm.conf", "Host vm\n  User included\n");
  write_file(ssh_dir / "config.d" / "20-all.conf", "Port 2200\nHost other\n  Port 1\n");
  write_file(ssh_dir / "extra", "IdentityFile /keys/extra\n");
  write_file(ssh_dir / "config",
             "Host vm\n"
             "  Include config.d/*.conf ~/.ssh/extra config.d/none-*.conf\n"
             "  ServerAliveInterval 7\n"  // still inside "Host vm" after the Include
             "Host nothing\n"
             "  Include ~/.ssh/missing-is-fine\n");
  ClientOptions options;
  apply_config_file(options, ssh_dir / "config", "vm", settings_for(dir));
  EXPECT_EQ(options.user, "included");
  EXPECT_EQ(options.port, 2200);
  EXPECT_EQ(options.identity_files, (Strings{"/keys/extra"}));
  EXPECT_EQ(options.server_alive_interval, std::chrono::seconds(7));
}

TEST(SshConfig, RecursiveIncludeIsAnError) {
  TempDir dir;
  write_file(dir.path() / ".ssh" / "config", "Include config\n");
  ClientOptions options;
  try {
    apply_config_file(options, dir.path() / ".ssh" / "config", "vm", settings_for(dir));
    FAIL() << "expected an error";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("nested too deeply"), std::string::npos);
  }
}

// Include chains as deep as limits::kMaxConfigIncludeDepth are read; one
// level more is refused.
TEST(SshConfig, IncludeDepthLimitAtAndPast) {
  for (const int includes : {limits::kMaxConfigIncludeDepth, limits::kMaxConfigIncludeDepth + 1}) {
    SCOPED_TRACE(includes);
    TempDir dir;
    const auto ssh_dir = dir.path() / ".ssh";
    write_file(ssh_dir / "config", "Include level1\n");
    for (int level = 1; level < includes; ++level) {
      write_file(ssh_dir / ("level" + std::to_string(level)),
                 "Include level" + std::to_string(level + 1) + "\n");
    }
    write_file(ssh_dir / ("level" + std::to_string(includes)), "Port 2222\n");
    ClientOptions options;
    if (includes <= limits::kMaxConfigIncludeDepth) {
      apply_config_file(options, ssh_dir / "config", "vm", settings_for(dir));
      EXPECT_EQ(options.port, 2222);
    } else {
      EXPECT_THROW(apply_config_file(options, ssh_dir / "config", "vm", settings_for(dir)),
                   ConfigError);
    }
  }
}

TEST(SshConfig, MissingFile) {
  TempDir dir;
  ClientOptions options;
  auto settings = settings_for(dir);
  EXPECT_THROW(apply_config_file(options, dir.path() / "absent", "vm", settings), ConfigError);
  settings.missing_file_is_error = false;
  EXPECT_TRUE(apply_config_file(options, dir.path() / "absent", "vm", settings).empty());
}

TEST(SshConfig, DebianSystemConfigParses) {
  // /etc/ssh/ssh_config as Debian 12 ships it, without its comments.
  constexpr const char* kDebian =
      "Include /nonexistent-dir-for-test/ssh_config.d/*.conf\n"
      "Host *\n"
      "    SendEnv LANG LC_*\n"
      "    HashKnownHosts yes\n"
      "    GSSAPIAuthentication yes\n";
  ClientOptions options;
  ConfigFileSettings settings;
  settings.include_directory = "/etc/ssh";
  const auto warnings = apply_config_text(options, kDebian, "/etc/ssh/ssh_config", "vm", settings);
  EXPECT_TRUE(options.hash_known_hosts);
  EXPECT_EQ(warnings.size(), 2U);
}

}  // namespace
}  // namespace ssh::config
