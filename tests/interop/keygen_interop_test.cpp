// Key files against OpenSSH's own tools: keys ssh-keygen writes (openssh-key-v1,
// -m PEM, -m PKCS8, with and without a passphrase, every -Z cipher) are read by
// us with the same public key and fingerprints; keys `limactl keygen` writes
// are read by ssh-keygen -y (-P), its -l matches ssh-keygen -l, -p output
// decrypts with ssh-keygen; RFC 4716 both ways; and limactl-made keys log
// into a real sshd with OpenSSH's ssh and with `limactl ssh`.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ssh/keys/key_files.hpp"
#include "ssh/keys/keys.hpp"
#include "support/build_paths.hpp"
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/ssh_client.hpp"
#include "support/sshd_fixture.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace testing_support;
using ssh::SecureBytes;

constexpr const char* kSshKeygen = "/usr/bin/ssh-keygen";

struct KeyKind {
  const char* label;
  const char* type;  // -t
  int bits;          // -b, 0 = default
  const char* key_type;
};

const KeyKind kKinds[] = {
    {"ed25519", "ed25519", 0, "ssh-ed25519"},
    {"ecdsa256", "ecdsa", 256, "ecdsa-sha2-nistp256"},
    {"ecdsa384", "ecdsa", 384, "ecdsa-sha2-nistp384"},
    {"ecdsa521", "ecdsa", 521, "ecdsa-sha2-nistp521"},
    {"rsa2048", "rsa", 2048, "ssh-rsa"},
};

ProcessResult run(const Argv& argv, RunOptions options = {}) {
  options.timeout = std::chrono::seconds(120);
  return run_process(argv, options);
}

Argv with_kind(Argv argv, const KeyKind& kind) {
  argv.insert(argv.end(), {"-t", kind.type});
  if (kind.bits != 0) argv.insert(argv.end(), {"-b", std::to_string(kind.bits)});
  return argv;
}

// "type base64" of a line, without the comment.
std::string key_part(const std::string& line) {
  return public_key_without_comment(line.substr(0, line.find('\n')));
}

SecureBytes secret(const std::string& text) {
  return SecureBytes(text.begin(), text.end());
}

void expect_same_fingerprints(const fs::path& public_file, const ssh::keys::PublicKey& key) {
  const ProcessResult sha256 = run({kSshKeygen, "-l", "-f", public_file.string()});
  ASSERT_TRUE(sha256.exited_with(0)) << sha256.describe();
  EXPECT_NE(sha256.out.find(" " + key.fingerprint_sha256() + " "), std::string::npos)
      << sha256.out << " vs " << key.fingerprint_sha256();
  const ProcessResult md5 = run({kSshKeygen, "-l", "-E", "md5", "-f", public_file.string()});
  ASSERT_TRUE(md5.exited_with(0)) << md5.describe();
  EXPECT_NE(md5.out.find(" " + key.fingerprint_md5() + " "), std::string::npos)
      << md5.out << " vs " << key.fingerprint_md5();
}

// ---------------------------------------------------------------------------
// ssh-keygen's files, read by us.

struct ForeignCase {
  KeyKind kind;
  const char* format;  // -m: "RFC4716" (openssh-key-v1), "PEM", "PKCS8"
  const char* passphrase;
};

std::vector<ForeignCase> foreign_cases() {
  std::vector<ForeignCase> cases;
  for (const KeyKind& kind : kKinds) {
    for (const char* format : {"RFC4716", "PEM", "PKCS8"}) {
      // ssh-keygen writes Ed25519 keys only as openssh-key-v1.
      if (std::string(kind.type) == "ed25519" && std::string(format) != "RFC4716") continue;
      for (const char* passphrase : {"", "pass phrase"})
        cases.push_back({kind, format, passphrase});
    }
  }
  return cases;
}

class KeygenForeignKeys : public testing::TestWithParam<ForeignCase> {
 protected:
  TempDir dir_;
};

TEST_P(KeygenForeignKeys, ReadWithTheSamePublicKeyAndFingerprints) {
  const ForeignCase& c = GetParam();
  const fs::path file = dir_.path() / "id_key";
  const ProcessResult made = run(with_kind({kSshKeygen, "-q", "-m", c.format, "-N", c.passphrase,
                                            "-C", "made by ssh-keygen", "-f", file.string()},
                                           c.kind));
  ASSERT_TRUE(made.exited_with(0)) << made.describe();
  const std::string pub_line = read_file(file.string() + ".pub");

  auto key = ssh::keys::load_private_key_file(
      file, [&c] { return std::optional<SecureBytes>(secret(c.passphrase)); });
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->public_key().type(), c.kind.key_type);
  EXPECT_EQ(key->public_key().to_openssh_line(), key_part(pub_line));
  if (std::string(c.format) == "RFC4716") {
    EXPECT_EQ(key->comment(), "made by ssh-keygen");
  }
  expect_same_fingerprints(file.string() + ".pub", key->public_key());

  // `limactl keygen -y` prints what ssh-keygen -y prints; -l on the private
  // key file (with its .pub beside) is ssh-keygen -l's line.
  const ProcessResult ours =
      run({LIMACTL_BINARY, "keygen", "-y", "-P", c.passphrase, "-f", file.string()});
  ASSERT_TRUE(ours.exited_with(0)) << ours.describe();
  const ProcessResult theirs = run({kSshKeygen, "-y", "-P", c.passphrase, "-f", file.string()});
  ASSERT_TRUE(theirs.exited_with(0)) << theirs.describe();
  EXPECT_EQ(key_part(ours.out), key_part(theirs.out));
  for (const char* hash : {"sha256", "md5"}) {
    const ProcessResult our_list =
        run({LIMACTL_BINARY, "keygen", "-l", "-E", hash, "-f", file.string()});
    const ProcessResult their_list = run({kSshKeygen, "-l", "-E", hash, "-f", file.string()});
    ASSERT_TRUE(our_list.exited_with(0)) << our_list.describe();
    ASSERT_TRUE(their_list.exited_with(0)) << their_list.describe();
    EXPECT_EQ(our_list.out, their_list.out);
  }

  if (std::string(c.passphrase).empty()) return;
  auto wrong = ssh::keys::load_private_key_file(
      file, [] { return std::optional<SecureBytes>(secret("wrong")); });
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message, file.string() + ": incorrect passphrase");
  const ProcessResult refused =
      run({LIMACTL_BINARY, "keygen", "-y", "-P", "wrong", "-f", file.string()});
  EXPECT_TRUE(refused.exited_with(1)) << refused.describe();
  EXPECT_NE(refused.err.find("incorrect passphrase"), std::string::npos) << refused.err;
}

INSTANTIATE_TEST_SUITE_P(SshKeygen, KeygenForeignKeys, testing::ValuesIn(foreign_cases()),
                         [](const testing::TestParamInfo<ForeignCase>& param_info) {
                           return std::string(param_info.param.kind.label) + "_" +
                                  param_info.param.format +
                                  (std::string(param_info.param.passphrase).empty() ? "_plain"
                                                                                    : "_encrypted");
                         });

TEST(KeygenForeignCiphers, EveryCipherSshKeygenWrites) {
  TempDir dir;
  for (const char* cipher :
       {"aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-cbc", "aes192-cbc", "aes256-cbc",
        "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"}) {
    SCOPED_TRACE(cipher);
    const fs::path file =
        dir.path() / (std::string("id_") + std::to_string(std::hash<std::string>{}(cipher)));
    const ProcessResult made = run({kSshKeygen, "-q", "-t", "ecdsa", "-Z", cipher, "-a", "4", "-N",
                                    "pw", "-C", cipher, "-f", file.string()});
    ASSERT_TRUE(made.exited_with(0)) << made.describe();
    auto key = ssh::keys::load_private_key_file(
        file, [] { return std::optional<SecureBytes>(secret("pw")); });
    ASSERT_TRUE(key.ok()) << key.error().message;
    EXPECT_EQ(key->comment(), cipher);
    EXPECT_EQ(key->public_key().to_openssh_line(), key_part(read_file(file.string() + ".pub")));
    auto wrong = ssh::keys::load_private_key_file(
        file, [] { return std::optional<SecureBytes>(secret("pW")); });
    ASSERT_FALSE(wrong.ok());
    EXPECT_TRUE(ssh::keys::is_incorrect_passphrase(wrong.error())) << wrong.error().message;
  }
}

// ---------------------------------------------------------------------------
// limactl keygen's files, read by ssh-keygen.

struct OwnCase {
  KeyKind kind;
  const char* passphrase;
};

std::vector<OwnCase> own_cases() {
  std::vector<OwnCase> cases;
  for (const KeyKind& kind : kKinds) {
    for (const char* passphrase : {"", "limactl pass"}) cases.push_back({kind, passphrase});
  }
  return cases;
}

class KeygenOwnKeys : public testing::TestWithParam<OwnCase> {
 protected:
  TempDir dir_;
};

TEST_P(KeygenOwnKeys, ReadBySshKeygen) {
  const OwnCase& c = GetParam();
  const fs::path file = dir_.path() / "id_ours";
  const ProcessResult made = run(with_kind({LIMACTL_BINARY, "keygen", "-q", "-N", c.passphrase,
                                            "-C", "made by limactl", "-f", file.string()},
                                           c.kind));
  ASSERT_TRUE(made.exited_with(0)) << made.describe();
  EXPECT_EQ(made.out, "");  // -q
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms(0600));
  EXPECT_EQ(fs::status(file.string() + ".pub").permissions() & fs::perms::all, fs::perms(0644));
  const std::string pub_line = read_file(file.string() + ".pub");
  EXPECT_EQ(pub_line.substr(pub_line.find(' ', pub_line.find(' ') + 1)), " made by limactl\n");
  EXPECT_EQ(pub_line.rfind(std::string(c.kind.key_type) + " ", 0), 0U) << pub_line;

  const ProcessResult derived = run({kSshKeygen, "-y", "-P", c.passphrase, "-f", file.string()});
  ASSERT_TRUE(derived.exited_with(0)) << derived.describe();
  EXPECT_EQ(key_part(derived.out), key_part(pub_line));

  for (const char* hash : {"sha256", "md5"}) {
    for (const std::string& target : {file.string(), file.string() + ".pub"}) {
      const ProcessResult ours = run({LIMACTL_BINARY, "keygen", "-l", "-E", hash, "-f", target});
      const ProcessResult theirs = run({kSshKeygen, "-l", "-E", hash, "-f", target});
      ASSERT_TRUE(ours.exited_with(0)) << ours.describe();
      ASSERT_TRUE(theirs.exited_with(0)) << theirs.describe();
      EXPECT_EQ(ours.out, theirs.out) << target;
    }
  }
  // The randomart picture too.
  const ProcessResult our_art =
      run({LIMACTL_BINARY, "keygen", "-l", "-v", "-f", file.string() + ".pub"});
  const ProcessResult their_art = run({kSshKeygen, "-l", "-v", "-f", file.string() + ".pub"});
  EXPECT_EQ(our_art.out, their_art.out);

  if (std::string(c.passphrase).empty()) return;
  const ProcessResult wrong = run({kSshKeygen, "-y", "-P", "wrong", "-f", file.string()});
  EXPECT_FALSE(wrong.exited_with(0)) << wrong.describe();
}

TEST_P(KeygenOwnKeys, PassphraseChangesDecryptWithSshKeygen) {
  const OwnCase& c = GetParam();
  const fs::path file = dir_.path() / "id_ours";
  const ProcessResult made = run(with_kind(
      {LIMACTL_BINARY, "keygen", "-q", "-N", c.passphrase, "-C", "c", "-f", file.string()},
      c.kind));
  ASSERT_TRUE(made.exited_with(0)) << made.describe();
  const std::string pub = key_part(read_file(file.string() + ".pub"));

  const ProcessResult changed = run(
      {LIMACTL_BINARY, "keygen", "-p", "-P", c.passphrase, "-N", "new one", "-f", file.string()});
  ASSERT_TRUE(changed.exited_with(0)) << changed.describe();
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms(0600));
  const ProcessResult derived = run({kSshKeygen, "-y", "-P", "new one", "-f", file.string()});
  ASSERT_TRUE(derived.exited_with(0)) << derived.describe();
  EXPECT_EQ(key_part(derived.out), pub);
  const ProcessResult old = run({kSshKeygen, "-y", "-P", c.passphrase, "-f", file.string()});
  EXPECT_FALSE(old.exited_with(0)) << old.describe();

  // ssh-keygen -p on our file, then our -p back to no passphrase.
  const ProcessResult theirs =
      run({kSshKeygen, "-p", "-P", "new one", "-N", "third", "-f", file.string()});
  ASSERT_TRUE(theirs.exited_with(0)) << theirs.describe();
  const ProcessResult cleared =
      run({LIMACTL_BINARY, "keygen", "-p", "-P", "third", "-N", "", "-f", file.string()});
  ASSERT_TRUE(cleared.exited_with(0)) << cleared.describe();
  const ProcessResult plain = run({kSshKeygen, "-y", "-P", "", "-f", file.string()});
  ASSERT_TRUE(plain.exited_with(0)) << plain.describe();
  EXPECT_EQ(key_part(plain.out), pub);
}

INSTANTIATE_TEST_SUITE_P(Limactl, KeygenOwnKeys, testing::ValuesIn(own_cases()),
                         [](const testing::TestParamInfo<OwnCase>& param_info) {
                           return std::string(param_info.param.kind.label) +
                                  (std::string(param_info.param.passphrase).empty() ? "_plain"
                                                                                    : "_encrypted");
                         });

TEST(KeygenCommand, RefusesToOverwriteWithoutATerminal) {
  TempDir dir;
  const fs::path file = dir.path() / "id_ed25519";
  const ProcessResult first = run({LIMACTL_BINARY, "keygen", "-q", "-N", "", "-f", file.string()});
  ASSERT_TRUE(first.exited_with(0)) << first.describe();
  const std::string before = read_file(file);
  const ProcessResult second = run({LIMACTL_BINARY, "keygen", "-q", "-N", "", "-f", file.string()});
  EXPECT_TRUE(second.exited_with(1)) << second.describe();
  EXPECT_NE(second.err.find(file.string() + " already exists"), std::string::npos) << second.err;
  EXPECT_EQ(read_file(file), before);
}

TEST(KeygenCommand, DefaultsAndBadArguments) {
  TempDir dir;
  // Without -f: ~/.ssh/id_ed25519, ~/.ssh made 0700; comment user@host.
  const ProcessResult made = run({LIMACTL_BINARY, "keygen", "-N", ""},
                                 RunOptions{.environment = {{"HOME", dir.path().string()}}});
  ASSERT_TRUE(made.exited_with(0)) << made.describe();
  const fs::path file = dir.path() / ".ssh" / "id_ed25519";
  EXPECT_EQ(fs::status(dir.path() / ".ssh").permissions() & fs::perms::all, fs::perms(0700));
  EXPECT_NE(made.out.find("Your identification has been saved in " + file.string()),
            std::string::npos)
      << made.out;
  EXPECT_NE(made.out.find("+----[SHA256]-----+"), std::string::npos) << made.out;
  const std::string pub = read_file(file.string() + ".pub");
  EXPECT_NE(pub.find('@'), std::string::npos) << pub;

  const ProcessResult rsa_default = run(
      {LIMACTL_BINARY, "keygen", "-q", "-t", "rsa", "-N", "", "-f", (dir.path() / "rsa").string()});
  ASSERT_TRUE(rsa_default.exited_with(0)) << rsa_default.describe();
  const ProcessResult listed = run({kSshKeygen, "-l", "-f", (dir.path() / "rsa").string()});
  EXPECT_EQ(listed.out.substr(0, 5), "3072 ") << listed.out;

  const ProcessResult small = run({LIMACTL_BINARY, "keygen", "-q", "-t", "rsa", "-b", "768", "-N",
                                   "", "-f", (dir.path() / "small").string()});
  EXPECT_TRUE(small.exited_with(1)) << small.describe();
  EXPECT_NE(small.err.find("minimum is 1024"), std::string::npos) << small.err;
  const ProcessResult curve = run({LIMACTL_BINARY, "keygen", "-q", "-t", "ecdsa", "-b", "300", "-N",
                                   "", "-f", (dir.path() / "curve").string()});
  EXPECT_TRUE(curve.exited_with(1)) << curve.describe();
  const ProcessResult dsa = run(
      {LIMACTL_BINARY, "keygen", "-q", "-t", "dsa", "-N", "", "-f", (dir.path() / "dsa").string()});
  EXPECT_TRUE(dsa.exited_with(1)) << dsa.describe();
  EXPECT_FALSE(fs::exists(dir.path() / "dsa"));

  const fs::path garbage = dir.path() / "garbage";
  write_file(garbage, "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n", fs::perms(0600));
  const ProcessResult broken = run({LIMACTL_BINARY, "keygen", "-y", "-f", garbage.string()});
  EXPECT_TRUE(broken.exited_with(1)) << broken.describe();
  EXPECT_NE(broken.err.find(garbage.string() + ": truncated"), std::string::npos) << broken.err;
}

// -H hashes a known_hosts file that ssh-keygen -F then searches.
TEST(KeygenCommand, HashesKnownHostsLikeSshKeygen) {
  TempDir dir;
  const fs::path key = dir.path() / "host";
  ASSERT_TRUE(
      run({kSshKeygen, "-q", "-t", "ed25519", "-N", "", "-f", key.string()}).exited_with(0));
  const std::string key_line = key_part(read_file(key.string() + ".pub"));
  const fs::path file = dir.path() / "known_hosts";
  const std::string original = "vm,[127.0.0.1]:2222 " + key_line + "\n*.lan " + key_line + "\n";
  write_file(file, original);

  const ProcessResult hashed = run({LIMACTL_BINARY, "keygen", "-H", "-f", file.string()});
  ASSERT_TRUE(hashed.exited_with(0)) << hashed.describe();
  EXPECT_NE(hashed.out.find(file.string() + " updated (2 host names hashed)"), std::string::npos)
      << hashed.out;
  EXPECT_NE(hashed.err.find(file.string() + " line 2"), std::string::npos) << hashed.err;
  EXPECT_EQ(read_file(file.string() + ".old"), original);
  const std::string text = read_file(file);
  // No plain name is left (base64 may contain "vm" by chance).
  EXPECT_EQ(text.find("vm,"), std::string::npos) << text;
  EXPECT_EQ(text.find("[127.0.0.1]"), std::string::npos) << text;
  for (const char* name : {"vm", "[127.0.0.1]:2222"}) {
    const ProcessResult found = run({kSshKeygen, "-F", name, "-f", file.string()});
    EXPECT_TRUE(found.exited_with(0)) << name << "\n" << found.describe();
    EXPECT_NE(found.out.find(key_line), std::string::npos) << found.out;
  }

  write_file(file, "vm " + key_line + "\nnot a valid line\n");
  const ProcessResult refused = run({LIMACTL_BINARY, "keygen", "-H", "-f", file.string()});
  EXPECT_TRUE(refused.exited_with(1)) << refused.describe();
  EXPECT_NE(refused.err.find(file.string() + " line 2"), std::string::npos) << refused.err;
  const ProcessResult combined = run({LIMACTL_BINARY, "keygen", "-H", "-l", "-f", file.string()});
  EXPECT_TRUE(combined.exited_with(1)) << combined.describe();
}

// ---------------------------------------------------------------------------
// RFC 4716, both ways.

TEST(KeygenRfc4716, SshKeygenExportAndImport) {
  TempDir dir;
  for (const KeyKind& kind : kKinds) {
    SCOPED_TRACE(kind.label);
    const fs::path file = dir.path() / (std::string("id_") + kind.label);
    const ProcessResult made =
        run(with_kind({kSshKeygen, "-q", "-N", "", "-C", "rfc", "-f", file.string()}, kind));
    ASSERT_TRUE(made.exited_with(0)) << made.describe();
    const std::string pub_line = read_file(file.string() + ".pub");

    const ProcessResult exported = run({kSshKeygen, "-e", "-f", file.string() + ".pub"});
    ASSERT_TRUE(exported.exited_with(0)) << exported.describe();
    auto read = ssh::keys::parse_public_key_text(exported.out);
    ASSERT_TRUE(read.ok()) << read.error().message << "\n" << exported.out;
    EXPECT_EQ(read->key.to_openssh_line(), key_part(pub_line));
    EXPECT_FALSE(read->comment.empty());  // ssh-keygen writes "<bits>-bit <TYPE>, converted by ..."

    auto ours = ssh::keys::PublicKey::from_openssh_line(pub_line);
    ASSERT_TRUE(ours.ok());
    const fs::path rfc_file = dir.path() / "ours.rfc";
    write_file(rfc_file, ours->to_rfc4716("a comment that is long enough to need a continuation "
                                          "line in RFC 4716, which allows 72 bytes"));
    const ProcessResult imported = run({kSshKeygen, "-i", "-f", rfc_file.string()});
    ASSERT_TRUE(imported.exited_with(0)) << imported.describe();
    EXPECT_EQ(key_part(imported.out), key_part(pub_line));
  }
}

// ---------------------------------------------------------------------------
// Logging in with limactl-made keys.

TEST(KeygenLogin, LimactlKeysLogIntoSshdWithOpenSshAndLimactl) {
  OpenSshServer server;
  TempDir dir;
  const fs::path plain = dir.path() / "id_plain";
  const fs::path locked = dir.path() / "id_locked";
  ASSERT_TRUE(run({LIMACTL_BINARY, "keygen", "-q", "-N", "", "-f", plain.string()}).exited_with(0));
  ASSERT_TRUE(run({LIMACTL_BINARY, "keygen", "-q", "-t", "ecdsa", "-N", "open sesame", "-f",
                   locked.string()})
                  .exited_with(0));
  write_file(server.authorized_keys_file(),
             read_file(plain.string() + ".pub") + read_file(locked.string() + ".pub"));
  const fs::path askpass = dir.path() / "askpass";
  write_file(askpass, "#!/bin/sh\necho 'open sesame'\n", fs::perms(0755));

  const Argv openssh = {kOpenSshClientPath};
  for (const fs::path& key : {plain, locked}) {
    SCOPED_TRACE(key.string());
    SshCall call;
    call.identity = key;
    call.client = openssh;
    call.options = {"-o", "BatchMode=no", "-o", "IdentitiesOnly=yes"};
    RunOptions environment;
    environment.environment = {
        {"SSH_ASKPASS", askpass.string()}, {"SSH_ASKPASS_REQUIRE", "force"}, {"DISPLAY", ":0"}};
    const ProcessResult with_openssh = run_ssh(server, "echo logged-in", call, environment);
    EXPECT_TRUE(with_openssh.exited_with(0)) << with_openssh.describe();
    EXPECT_EQ(with_openssh.out, "logged-in\n");

    SshCall ours;
    ours.identity = key;
    ours.client = Argv{LIMACTL_BINARY, "ssh"};
    RunOptions passphrase;
    passphrase.environment = {{"LIMACTL_SSH_PASSPHRASE", "open sesame"}};
    const ProcessResult with_limactl = run_ssh(server, "echo logged-in", ours, passphrase);
    EXPECT_TRUE(with_limactl.exited_with(0)) << with_limactl.describe();
    EXPECT_EQ(with_limactl.out, "logged-in\n");
  }

  // BatchMode and no passphrase: the encrypted key is skipped, the login fails.
  SshCall ours;
  ours.identity = locked;
  ours.client = Argv{LIMACTL_BINARY, "ssh"};
  const ProcessResult skipped = run_ssh(server, "echo logged-in", ours);
  EXPECT_FALSE(skipped.exited_with(0)) << skipped.describe();
  EXPECT_EQ(skipped.out, "");
}

}  // namespace
