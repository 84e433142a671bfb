#include "ssh/config/known_hosts.hpp"

#include <botan/auto_rng.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ssh/config/host_key_check.hpp"
#include "support/temp_dir.hpp"

namespace ssh::config {
namespace {

using Strings = std::vector<std::string>;
using testing_support::TempDir;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream stream(path);
  std::ostringstream contents;
  contents << stream.rdbuf();
  return contents.str();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

int run(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

// A key made by the real ssh-keygen: the .pub line and the parsed key.
struct GeneratedKey {
  std::string pub_line;  // "type base64 comment"
  std::string type_and_base64;
  keys::PublicKey key;
};

GeneratedKey generate_key(const TempDir& dir, const std::string& name,
                          const std::string& type = "ed25519") {
  const auto path = dir.path() / name;
  const std::string command =
      "ssh-keygen -q -t " + type + " -N '' -C test@" + name + " -f '" + path.string() + "'";
  if (run(command) != 0) throw std::runtime_error("ssh-keygen failed: " + command);
  std::string line = read_file(path.string() + ".pub");
  while (!line.empty() && line.back() == '\n') line.pop_back();
  auto key = keys::PublicKey::from_openssh_line(line);
  if (!key) throw std::runtime_error("cannot parse " + line + ": " + key.error().message);
  const std::string type_and_base64 = line.substr(0, line.rfind(' '));
  return {line, type_and_base64, *key};
}

// ssh-keygen takes a while for ECDSA; every test shares the same keys.
struct SharedKeys {
  TempDir dir{"limactl-test-keys"};
  GeneratedKey ed25519 = generate_key(dir, "host_ed25519");
  GeneratedKey other_ed25519 = generate_key(dir, "other_ed25519");
  GeneratedKey ecdsa = generate_key(dir, "host_ecdsa", "ecdsa");
};

class KnownHostsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!keys_) keys_ = std::make_unique<SharedKeys>();
  }
  static void TearDownTestSuite() { keys_.reset(); }

  TempDir dir_;
  const GeneratedKey& ed25519_ = keys_->ed25519;
  const GeneratedKey& other_ed25519_ = keys_->other_ed25519;
  const GeneratedKey& ecdsa_ = keys_->ecdsa;

 private:
  static inline std::unique_ptr<SharedKeys> keys_;
};

TEST_F(KnownHostsTest, PlainEntryAndKeyscanStyleLinesMatch) {
  KnownHosts known_hosts;
  // ssh-keyscan prints "host type base64"; .pub-style lines carry a comment.
  known_hosts.load_text("vm.example.com " + ed25519_.type_and_base64 + "\n" + "alias,10.0.0.2 " +
                            ecdsa_.pub_line + "\n",
                        "kh");
  ASSERT_TRUE(known_hosts.problems().empty());
  ASSERT_EQ(known_hosts.entries().size(), 2U);
  EXPECT_EQ(known_hosts.entries()[1].comment, "test@host_ecdsa");

  auto result = known_hosts.lookup("vm.example.com", 22, ed25519_.key);
  EXPECT_EQ(result.status, HostKeyStatus::Match);
  EXPECT_EQ(result.file, "kh");
  EXPECT_EQ(result.line, 1U);
  EXPECT_EQ(known_hosts.lookup("VM.Example.COM", 22, ed25519_.key).status, HostKeyStatus::Match);
  EXPECT_EQ(known_hosts.lookup("10.0.0.2", 22, ecdsa_.key).line, 2U);
  EXPECT_EQ(known_hosts.lookup("unknown", 22, ed25519_.key).status, HostKeyStatus::NotFound);
}

TEST_F(KnownHostsTest, NonStandardPortsUseBrackets) {
  EXPECT_EQ(known_hosts_name("Host", 22), "host");
  EXPECT_EQ(known_hosts_name("127.0.0.1", 2222), "[127.0.0.1]:2222");
  KnownHosts known_hosts;
  known_hosts.load_text("[127.0.0.1]:2222 " + ed25519_.type_and_base64 + "\n" + "127.0.0.1 " +
                            other_ed25519_.type_and_base64 + "\n" + "[localhost]:* " +
                            ecdsa_.type_and_base64 + "\n",
                        "kh");
  EXPECT_EQ(known_hosts.lookup("127.0.0.1", 2222, ed25519_.key).status, HostKeyStatus::Match);
  EXPECT_EQ(known_hosts.lookup("127.0.0.1", 22, other_ed25519_.key).status, HostKeyStatus::Match);
  // The port-22 entry says nothing about port 2223.
  EXPECT_EQ(known_hosts.lookup("127.0.0.1", 2223, other_ed25519_.key).status,
            HostKeyStatus::NotFound);
  EXPECT_EQ(known_hosts.lookup("localhost", 60022, ecdsa_.key).status, HostKeyStatus::Match);
}

TEST_F(KnownHostsTest, WildcardsAndNegation) {
  KnownHosts known_hosts;
  known_hosts.load_text(
      "*.lima.internal,!bad.lima.internal,192.168.5.? " + ed25519_.type_and_base64 + "\n", "kh");
  EXPECT_EQ(known_hosts.lookup("default.lima.internal", 22, ed25519_.key).status,
            HostKeyStatus::Match);
  EXPECT_EQ(known_hosts.lookup("192.168.5.2", 22, ed25519_.key).status, HostKeyStatus::Match);
  EXPECT_EQ(known_hosts.lookup("192.168.5.15", 22, ed25519_.key).status, HostKeyStatus::NotFound);
  EXPECT_EQ(known_hosts.lookup("bad.lima.internal", 22, ed25519_.key).status,
            HostKeyStatus::NotFound);
}

TEST_F(KnownHostsTest, ReadsEntriesHashedBySshKeygen) {
  const auto file = dir_.path() / "known_hosts";
  write_file(file, "vm " + ed25519_.type_and_base64 + "\n" + "[127.0.0.1]:60022 " +
                       ecdsa_.type_and_base64 + "\n");
  ASSERT_EQ(run("ssh-keygen -H -f '" + file.string() + "'"), 0);
  const std::string hashed = read_file(file);
  ASSERT_EQ(hashed.find("vm "), std::string::npos) << hashed;

  KnownHosts known_hosts;
  ASSERT_TRUE(known_hosts.load_file(file));
  EXPECT_TRUE(known_hosts.problems().empty());
  ASSERT_EQ(known_hosts.entries().size(), 2U);
  EXPECT_TRUE(known_hosts.entries()[0].hashed);
  EXPECT_TRUE(known_hosts.entries()[0].hosts.starts_with("|1|"));
  EXPECT_EQ(known_hosts.lookup("vm", 22, ed25519_.key).status, HostKeyStatus::Match);
  EXPECT_EQ(known_hosts.lookup("VM", 22, ed25519_.key).status, HostKeyStatus::Match);
  const auto result = known_hosts.lookup("127.0.0.1", 60022, ecdsa_.key);
  EXPECT_EQ(result.status, HostKeyStatus::Match);
  EXPECT_EQ(result.line, 2U);
  EXPECT_EQ(known_hosts.lookup("127.0.0.1", 22, ecdsa_.key).status, HostKeyStatus::NotFound);
  EXPECT_EQ(known_hosts.lookup("vm", 22, other_ed25519_.key).status, HostKeyStatus::Mismatch);
}

TEST_F(KnownHostsTest, HashesLikeOpenSsh) {
  // The same salt gives the same line as ssh-keygen's hashing.
  const auto file = dir_.path() / "known_hosts";
  write_file(file, "[10.1.2.3]:2222 " + ed25519_.type_and_base64 + "\n");
  ASSERT_EQ(run("ssh-keygen -H -f '" + file.string() + "'"), 0);
  KnownHosts known_hosts;
  known_hosts.load_file(file);
  ASSERT_EQ(known_hosts.entries().size(), 1U);
  const auto& entry = known_hosts.entries()[0];
  EXPECT_EQ(hash_known_hosts_name("[10.1.2.3]:2222", entry.salt), entry.hosts);
}

TEST_F(KnownHostsTest, HashingAFileIsReadBySshKeygenAndByUs) {
  const auto file = dir_.path() / "known_hosts";
  const std::string original =
      "# kept\n"
      "vm,192.168.5.15 " +
      ed25519_.type_and_base64 +
      " a comment\n"
      "\n"
      "[127.0.0.1]:60022 " +
      ecdsa_.type_and_base64 +
      "\n"
      "*.example.org,!bad.example.org " +
      other_ed25519_.type_and_base64 +
      "\n"
      "@cert-authority *.corp " +
      other_ed25519_.type_and_base64 +
      "\n"
      "UPPER " +
      ed25519_.type_and_base64 + "\n";
  write_file(file, original);
  ::chmod(file.c_str(), 0640);

  Botan::AutoSeeded_RNG rng;
  const auto hashed = hash_known_hosts_file(file, rng);
  ASSERT_TRUE(hashed) << hashed.error().message;
  EXPECT_EQ(hashed->hashed_names, 4U);
  ASSERT_EQ(hashed->left_alone.size(), 1U);
  EXPECT_EQ(hashed->left_alone[0].line, 5U);
  EXPECT_NE(hashed->left_alone[0].message.find("*.example.org"), std::string::npos);

  EXPECT_EQ(read_file(file.string() + ".old"), original);
  const std::string text = read_file(file);
  EXPECT_EQ(text, hashed->text);
  // No plain name is left at the start of a line (base64 may contain "vm").
  EXPECT_EQ(text.find("vm,"), std::string::npos) << text;
  EXPECT_EQ(text.find("\nUPPER "), std::string::npos) << text;
  EXPECT_EQ(text.find("[127.0.0.1]"), std::string::npos) << text;
  EXPECT_EQ(text.find("192.168.5.15"), std::string::npos) << text;
  EXPECT_NE(text.find("# kept\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" a comment\n"), std::string::npos) << text;
  EXPECT_NE(text.find("*.example.org,!bad.example.org "), std::string::npos) << text;
  EXPECT_NE(text.find("@cert-authority *.corp "), std::string::npos) << text;
  struct stat status {};
  ASSERT_EQ(::stat(file.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0640U);

  // ssh-keygen -F finds each hashed name (it exits 1 when it finds nothing).
  for (const char* name : {"vm", "192.168.5.15", "[127.0.0.1]:60022", "upper"}) {
    EXPECT_EQ(run("ssh-keygen -F '" + std::string(name) + "' -f '" + file.string() + "'"), 0)
        << name;
  }
  EXPECT_NE(run("ssh-keygen -F nothere -f '" + file.string() + "'"), 0);

  KnownHosts known_hosts;
  ASSERT_TRUE(known_hosts.load_file(file));
  EXPECT_TRUE(known_hosts.problems().empty());
  EXPECT_EQ(known_hosts.lookup("vm", 22, ed25519_.key).status, HostKeyStatus::Match);
  EXPECT_EQ(known_hosts.lookup("192.168.5.15", 22, ed25519_.key).status, HostKeyStatus::Match);
  EXPECT_EQ(known_hosts.lookup("127.0.0.1", 60022, ecdsa_.key).status, HostKeyStatus::Match);
  EXPECT_EQ(known_hosts.lookup("Upper", 22, ed25519_.key).status, HostKeyStatus::Match);
  EXPECT_EQ(known_hosts.lookup("a.example.org", 22, other_ed25519_.key).status,
            HostKeyStatus::Match);
  EXPECT_EQ(known_hosts.lookup("bad.example.org", 22, other_ed25519_.key).status,
            HostKeyStatus::NotFound);

  // Hashing again changes nothing but the backup.
  const auto again = hash_known_hosts_file(file, rng);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->hashed_names, 0U);
  EXPECT_EQ(read_file(file), text);
}

TEST_F(KnownHostsTest, HashingRefusesAFileWithAMalformedLine) {
  const auto file = dir_.path() / "known_hosts";
  const std::string original =
      "vm " + ed25519_.type_and_base64 + "\n" + "broken-line-without-key\n";
  write_file(file, original);
  Botan::AutoSeeded_RNG rng;
  const auto hashed = hash_known_hosts_file(file, rng);
  ASSERT_FALSE(hashed);
  EXPECT_NE(hashed.error().message.find(file.string() + " line 2"), std::string::npos)
      << hashed.error().message;
  EXPECT_EQ(read_file(file), original);
  EXPECT_FALSE(std::filesystem::exists(file.string() + ".old"));

  const auto missing = hash_known_hosts_file(dir_.path() / "missing", rng);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("missing"), std::string::npos);
}

TEST_F(KnownHostsTest, MismatchReportsFileAndLineOfTheSameKeyType) {
  const auto user_file = dir_.path() / "user_known_hosts";
  const auto global_file = dir_.path() / "global_known_hosts";
  write_file(user_file, "# comment\n\nvm " + ecdsa_.type_and_base64 + "\nvm " +
                            other_ed25519_.type_and_base64 + "\n");
  write_file(global_file, "vm " + ed25519_.type_and_base64 + "\n");

  auto user_only = KnownHosts::load({user_file.string()});
  auto result = user_only.lookup("vm", 22, ed25519_.key);
  EXPECT_EQ(result.status, HostKeyStatus::Mismatch);
  EXPECT_EQ(result.file, user_file.string());
  EXPECT_EQ(result.line, 4U);
  EXPECT_EQ(result.known_key_types, (Strings{ecdsa_.key.type(), "ssh-ed25519"}));

  // A match in any file wins over a mismatch in another.
  auto both = KnownHosts::load({user_file.string(), global_file.string()});
  result = both.lookup("vm", 22, ed25519_.key);
  EXPECT_EQ(result.status, HostKeyStatus::Match);
  EXPECT_EQ(result.file, global_file.string());
  EXPECT_EQ(result.line, 1U);
}

TEST_F(KnownHostsTest, KeyOfAnotherTypeIsNotAMismatch) {
  KnownHosts known_hosts;
  known_hosts.load_text("vm " + ed25519_.type_and_base64 + "\n", "kh");
  const auto result = known_hosts.lookup("vm", 22, ecdsa_.key);
  EXPECT_EQ(result.status, HostKeyStatus::NotFound);
  EXPECT_EQ(result.known_key_types, (Strings{"ssh-ed25519"}));
}

TEST_F(KnownHostsTest, RevokedKeysAreReportedWhateverElseIsRecorded) {
  KnownHosts known_hosts;
  known_hosts.load_text(
      "vm " + ed25519_.type_and_base64 + "\n" + "@revoked * " + ed25519_.type_and_base64 + "\n",
      "kh");
  const auto result = known_hosts.lookup("vm", 22, ed25519_.key);
  EXPECT_EQ(result.status, HostKeyStatus::Revoked);
  EXPECT_EQ(result.line, 2U);
  EXPECT_EQ(known_hosts.entries()[1].marker, KnownHostMarker::Revoked);
}

TEST_F(KnownHostsTest, CertAuthorityEntriesDoNotVouchForPlainKeys) {
  KnownHosts known_hosts;
  known_hosts.load_text("@cert-authority *.lima " + ed25519_.type_and_base64 + "\n", "kh");
  ASSERT_EQ(known_hosts.entries().size(), 1U);
  EXPECT_EQ(known_hosts.entries()[0].marker, KnownHostMarker::CertAuthority);
  EXPECT_EQ(known_hosts.lookup("vm.lima", 22, ed25519_.key).status, HostKeyStatus::NotFound);
}

TEST_F(KnownHostsTest, MalformedLinesAreSkippedAndReported) {
  const std::string good = "vm " + ed25519_.type_and_base64 + "\r\n";
  const std::string ed25519_base64 = ed25519_.type_and_base64.substr(12);
  const std::string text = "garbage\n" +                                      // 1
                           std::string("vm ssh-ed25519 !!!notbase64\n") +     // 2
                           "@bogus vm " + ed25519_.type_and_base64 + "\n" +   // 3
                           "vm ssh-rsa " + ed25519_base64 + "\n" +            // 4
                           "|1|bad|bad " + ed25519_.type_and_base64 + "\n" +  // 5
                           "vm 1024 35 12345\n" +                             // 6
                           "@revoked\n" +                                     // 7
                           "   # indented comment\n" +                        // 8
                           good;                                              // 9
  KnownHosts known_hosts;
  known_hosts.load_text(text, "/k/known_hosts");
  ASSERT_EQ(known_hosts.entries().size(), 1U);
  EXPECT_EQ(known_hosts.entries()[0].line, 9U);
  Strings problems;
  for (const auto& problem : known_hosts.problems()) problems.push_back(problem.to_string());
  EXPECT_EQ(problems, (Strings{"/k/known_hosts line 1: missing key type or key",
                               "/k/known_hosts line 2: invalid base64 in the key",
                               "/k/known_hosts line 3: unknown marker \"@bogus\"",
                               "/k/known_hosts line 4: key type \"ssh-rsa\" does not match the key",
                               "/k/known_hosts line 5: malformed hashed host name",
                               "/k/known_hosts line 6: SSH protocol 1 keys are not supported",
                               "/k/known_hosts line 7: missing host names after the marker"}));
  EXPECT_EQ(known_hosts.lookup("vm", 22, ed25519_.key).status, HostKeyStatus::Match);
}

TEST_F(KnownHostsTest, MissingFilesAreSkipped) {
  KnownHosts known_hosts;
  EXPECT_FALSE(known_hosts.load_file(dir_.path() / "absent"));
  EXPECT_TRUE(known_hosts.problems().empty());
  EXPECT_TRUE(KnownHosts::load({"/dev/null", (dir_.path() / "x").string()}).entries().empty());
}

TEST_F(KnownHostsTest, AddCreatesDirectoryAndFileThatOpenSshReads) {
  const auto file = dir_.path() / "new" / ".ssh" / "known_hosts";
  ASSERT_TRUE(add_known_host(file, "127.0.0.1", 2222, ed25519_.key, false).ok());
  ASSERT_TRUE(add_known_host(file, "VM", 22, ecdsa_.key, false).ok());
  EXPECT_EQ(read_file(file), "[127.0.0.1]:2222 " + ed25519_.type_and_base64 + "\nvm " +
                                 ecdsa_.type_and_base64 + "\n");
  struct stat info {};
  ASSERT_EQ(stat(file.parent_path().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700U);
  // ssh-keygen -F finds what we wrote.
  EXPECT_EQ(run("ssh-keygen -F '[127.0.0.1]:2222' -f '" + file.string() + "'"), 0);
  EXPECT_EQ(run("ssh-keygen -F vm -f '" + file.string() + "'"), 0);
}

TEST_F(KnownHostsTest, AddHashedIsFoundBySshKeygenAndByUs) {
  const auto file = dir_.path() / "known_hosts";
  write_file(file, "other " + other_ed25519_.type_and_base64);  // no final newline
  ASSERT_TRUE(add_known_host(file, "127.0.0.1", 60022, ed25519_.key, true).ok());
  const std::string text = read_file(file);
  EXPECT_NE(text.find("\n|1|"), std::string::npos) << text;
  EXPECT_EQ(text.find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(run("ssh-keygen -F '[127.0.0.1]:60022' -f '" + file.string() + "'"), 0);
  EXPECT_NE(run("ssh-keygen -F '[127.0.0.1]:60023' -f '" + file.string() + "'"), 0);
  const auto known_hosts = KnownHosts::load({file.string()});
  EXPECT_TRUE(known_hosts.problems().empty());
  EXPECT_EQ(known_hosts.lookup("127.0.0.1", 60022, ed25519_.key).status, HostKeyStatus::Match);
  EXPECT_EQ(known_hosts.lookup("other", 22, other_ed25519_.key).status, HostKeyStatus::Match);
}

TEST_F(KnownHostsTest, AddToDevNullSucceeds) {
  EXPECT_TRUE(add_known_host("/dev/null", "vm", 22, ed25519_.key, false).ok());
}

TEST_F(KnownHostsTest, AddReportsErrors) {
  const auto blocker = dir_.path() / "file";
  write_file(blocker, "");
  const auto result = add_known_host(blocker / "known_hosts", "vm", 22, ed25519_.key, false);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find(blocker.string()), std::string::npos);
}

// Host key checking.

class HostKeyCheckTest : public KnownHostsTest {
 protected:
  HostKeyPolicy policy(StrictHostKeyChecking mode) const {
    HostKeyPolicy result;
    result.strict_host_key_checking = mode;
    result.user_known_hosts_files = {user_file_.string(), (dir_.path() / "known_hosts2").string()};
    result.global_known_hosts_files = {(dir_.path() / "global").string()};
    return result;
  }
  void record(const GeneratedKey& key, const std::string& host = "[127.0.0.1]:2222") {
    std::ofstream(user_file_, std::ios::app) << host << " " << key.type_and_base64 << "\n";
  }

  std::filesystem::path user_file_ = dir_.path() / "dot-ssh" / "known_hosts";
};

TEST_F(HostKeyCheckTest, KnownKeyIsAccepted) {
  std::filesystem::create_directories(user_file_.parent_path());
  record(ed25519_);
  const auto decision =
      check_host_key(policy(StrictHostKeyChecking::Yes), "127.0.0.1", 2222, ed25519_.key);
  EXPECT_TRUE(decision.accepted);
  EXPECT_EQ(decision.status, HostKeyStatus::Match);
  EXPECT_EQ(decision.reason,
            "host key for [127.0.0.1]:2222 (ssh-ed25519 " + ed25519_.key.fingerprint_sha256() +
                ") is known (known_hosts file " + user_file_.string() + " line 1)");
}

TEST_F(HostKeyCheckTest, ChangedKeyIsRefusedWithFileAndLine) {
  std::filesystem::create_directories(user_file_.parent_path());
  write_file(user_file_, "# first\n\n");
  record(other_ed25519_);
  for (auto mode :
       {StrictHostKeyChecking::Yes, StrictHostKeyChecking::AcceptNew, StrictHostKeyChecking::Ask}) {
    const auto decision = check_host_key(policy(mode), "127.0.0.1", 2222, ed25519_.key);
    EXPECT_FALSE(decision.accepted);
    EXPECT_EQ(decision.status, HostKeyStatus::Mismatch);
    EXPECT_EQ(decision.reason,
              "Host key verification failed: host key for [127.0.0.1]:2222 has changed "
              "(ssh-ed25519 " +
                  ed25519_.key.fingerprint_sha256() + "; known_hosts file " + user_file_.string() +
                  " line 3)");
  }
}

TEST_F(HostKeyCheckTest, NoAcceptsAChangedKeyAndSaysSo) {
  std::filesystem::create_directories(user_file_.parent_path());
  record(other_ed25519_);
  const auto decision =
      check_host_key(policy(StrictHostKeyChecking::No), "127.0.0.1", 2222, ed25519_.key);
  EXPECT_TRUE(decision.accepted);
  EXPECT_TRUE(decision.key_changed);
  EXPECT_TRUE(decision.added_to.empty());
  EXPECT_NE(decision.reason.find("has changed"), std::string::npos);
  EXPECT_NE(decision.reason.find("StrictHostKeyChecking is no"), std::string::npos);
}

TEST_F(HostKeyCheckTest, UnknownKeyIsRefusedWhenStrict) {
  for (auto mode : {StrictHostKeyChecking::Yes, StrictHostKeyChecking::Ask}) {
    const auto decision = check_host_key(policy(mode), "127.0.0.1", 2222, ed25519_.key);
    EXPECT_FALSE(decision.accepted);
    EXPECT_EQ(decision.status, HostKeyStatus::NotFound);
    EXPECT_EQ(decision.reason,
              "Host key verification failed: no ssh-ed25519 host key is known for "
              "[127.0.0.1]:2222 (" +
                  ed25519_.key.fingerprint_sha256() + ") and strict checking is requested");
  }
  EXPECT_FALSE(std::filesystem::exists(user_file_));
}

TEST_F(HostKeyCheckTest, AcceptNewRecordsTheKey) {
  const auto first =
      check_host_key(policy(StrictHostKeyChecking::AcceptNew), "127.0.0.1", 2222, ed25519_.key);
  EXPECT_TRUE(first.accepted);
  EXPECT_EQ(first.added_to, user_file_.string());
  EXPECT_EQ(read_file(user_file_), "[127.0.0.1]:2222 " + ed25519_.type_and_base64 + "\n");
  const auto second =
      check_host_key(policy(StrictHostKeyChecking::Yes), "127.0.0.1", 2222, ed25519_.key);
  EXPECT_TRUE(second.accepted);
  EXPECT_EQ(second.status, HostKeyStatus::Match);
}

TEST_F(HostKeyCheckTest, NoRecordsHashedWhenAsked) {
  auto hashing = policy(StrictHostKeyChecking::No);
  hashing.hash_known_hosts = true;
  const auto decision = check_host_key(hashing, "vm", 22, ed25519_.key);
  EXPECT_TRUE(decision.accepted);
  EXPECT_FALSE(decision.key_changed);
  EXPECT_TRUE(read_file(user_file_).starts_with("|1|"));
  EXPECT_EQ(check_host_key(policy(StrictHostKeyChecking::Yes), "vm", 22, ed25519_.key).status,
            HostKeyStatus::Match);
}

TEST_F(HostKeyCheckTest, AskUsesTheConfirmCallbackUnlessBatchMode) {
  auto asking = policy(StrictHostKeyChecking::Ask);
  std::string question;
  asking.confirm = [&](const std::string& text) {
    question = text;
    return false;
  };
  auto decision = check_host_key(asking, "127.0.0.1", 2222, ed25519_.key);
  EXPECT_FALSE(decision.accepted);
  EXPECT_NE(question.find("The authenticity of host '[127.0.0.1]:2222' can't be established."),
            std::string::npos);
  EXPECT_NE(question.find(ed25519_.key.fingerprint_sha256()), std::string::npos);

  asking.confirm = [](const std::string&) { return true; };
  asking.batch_mode = true;
  EXPECT_FALSE(check_host_key(asking, "127.0.0.1", 2222, ed25519_.key).accepted);
  asking.batch_mode = false;
  decision = check_host_key(asking, "127.0.0.1", 2222, ed25519_.key);
  EXPECT_TRUE(decision.accepted);
  EXPECT_EQ(decision.added_to, user_file_.string());
}

TEST_F(HostKeyCheckTest, RevokedKeyIsRefusedEvenWithNo) {
  std::filesystem::create_directories(user_file_.parent_path());
  record(ed25519_);
  record(ed25519_, "@revoked *");
  const auto decision =
      check_host_key(policy(StrictHostKeyChecking::No), "127.0.0.1", 2222, ed25519_.key);
  EXPECT_FALSE(decision.accepted);
  EXPECT_EQ(decision.status, HostKeyStatus::Revoked);
  EXPECT_EQ(decision.reason,
            "Host key verification failed: host key for [127.0.0.1]:2222 "
            "(ssh-ed25519 " +
                ed25519_.key.fingerprint_sha256() + ") is marked as revoked (known_hosts file " +
                user_file_.string() + " line 2)");
}

TEST_F(HostKeyCheckTest, PinnedFingerprintsOverrideKnownHosts) {
  std::filesystem::create_directories(user_file_.parent_path());
  record(other_ed25519_);  // would be a mismatch without pins
  auto pinned = policy(StrictHostKeyChecking::Yes);
  pinned.pinned_fingerprints = {ecdsa_.key.fingerprint_sha256(), ed25519_.key.fingerprint_sha256()};
  auto decision = check_host_key(pinned, "127.0.0.1", 2222, ed25519_.key);
  EXPECT_TRUE(decision.accepted);
  EXPECT_NE(decision.reason.find("matches a pinned fingerprint"), std::string::npos);

  // A key that is known but not pinned is refused, and nothing is written.
  pinned.strict_host_key_checking = StrictHostKeyChecking::No;
  pinned.pinned_fingerprints = {ecdsa_.key.fingerprint_sha256()};
  const std::string before = read_file(user_file_);
  decision = check_host_key(pinned, "127.0.0.1", 2222, other_ed25519_.key);
  EXPECT_FALSE(decision.accepted);
  EXPECT_EQ(decision.reason,
            "Host key verification failed: host key for [127.0.0.1]:2222 "
            "(ssh-ed25519 " +
                other_ed25519_.key.fingerprint_sha256() + ") matches no pinned fingerprint");
  EXPECT_EQ(read_file(user_file_), before);
}

TEST_F(HostKeyCheckTest, PolicyFromOptionsUsesAliasAndPins) {
  std::filesystem::create_directories(user_file_.parent_path());
  record(ed25519_, "lima-default");
  ClientOptions options;
  options.host = "lima-default";
  apply_option(options, "HostName", "127.0.0.1");
  apply_option(options, "Port", "60022");
  apply_option(options, "HostKeyAlias", "lima-default");
  apply_option(options, "StrictHostKeyChecking", "yes");
  apply_option(options, "UserKnownHostsFile", user_file_.string());
  apply_option(options, "BatchMode", "yes");
  finalize_options(options, "me", dir_.path().string());
  auto from_options = HostKeyPolicy::from_options(options);
  EXPECT_TRUE(from_options.batch_mode);
  EXPECT_EQ(from_options.host_key_alias, "lima-default");
  EXPECT_TRUE(check_host_key(from_options, options.hostname, options.port, ed25519_.key).accepted);
  EXPECT_FALSE(
      check_host_key(from_options, options.hostname, options.port, other_ed25519_.key).accepted);

  apply_option(options, "PinnedHostKey", other_ed25519_.key.fingerprint_sha256());
  from_options = HostKeyPolicy::from_options(options);
  EXPECT_TRUE(
      check_host_key(from_options, options.hostname, options.port, other_ed25519_.key).accepted);
}

}  // namespace
}  // namespace ssh::config
