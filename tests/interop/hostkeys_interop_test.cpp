// Host key rotation (OpenSSH PROTOCOL 2.5) against OpenSSH 9.2 both ways:
// `limactl ssh -o UpdateHostKeys=yes` learns the second host key of a real
// sshd (and forgets a key the sshd no longer has), and OpenSSH's
// `ssh -o UpdateHostKeys=yes` learns the second host key of `limactl sshd`,
// which proves our announcement and our proofs. The known_hosts files are
// checked with `ssh-keygen -F`, as a user would.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/files.hpp"
#include "support/keys.hpp"
#include "support/limactl_sshd_fixture.hpp"
#include "support/process.hpp"
#include "support/ssh_client.hpp"
#include "support/sshd_fixture.hpp"
#include "support/temp_dir.hpp"

namespace testing_support {
namespace {

// The base64 field of "<type> <base64>".
std::string key_base64(const std::string& public_line) {
  const auto without_comment = public_key_without_comment(public_line);
  return without_comment.substr(without_comment.find(' ') + 1);
}

// What `ssh-keygen -F NAME -f FILE` prints (the matching lines).
std::string keygen_find(const std::string& name, const std::filesystem::path& file) {
  const auto result = run_process({"ssh-keygen", "-F", name, "-f", file.string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.out;
}

TEST(HostKeysInterop, OurClientLearnsTheSecondHostKeyOfOpenSshd) {
  OpenSshServerOptions options;
  options.host_keys = {KeyType::kEd25519, KeyType::kEcdsaP256};
  OpenSshServer server(options);
  TempDir scratch("hostkeys-client");
  const auto ed25519 = server.host_key(KeyType::kEd25519).public_line;
  const auto ecdsa = server.host_key(KeyType::kEcdsaP256).public_line;
  // A key the server no longer has, and another host's line that must stay.
  const auto retired = generate_openssh_key(scratch.path() / "retired", KeyType::kEd25519);
  // (OpenSSH skips the whole update when a key to remove is also another
  // host's, and so do we: the other host has a key of its own here.)
  const auto other = generate_openssh_key(scratch.path() / "other", KeyType::kEd25519);
  const auto other_host_line = "other.example " + public_key_without_comment(other.public_line);
  const auto known_hosts = scratch.path() / "known_hosts";
  write_file(known_hosts,
             "# comment stays\n" + server.known_hosts_line(ed25519) + "\n" + other_host_line +
                 "\n" + server.known_hosts_line(retired.public_line) + "\n",
             std::filesystem::perms(0600));

  SshCall call;
  call.known_hosts = known_hosts;
  // ed25519 first, so that the key exchange uses the key already known.
  call.options = {"-v", "-o", "UpdateHostKeys=yes", "-o",
                  "HostKeyAlgorithms=ssh-ed25519,ecdsa-sha2-nistp256"};
  const auto result = run_ssh(server, "sleep 1", call);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  if (!client_is_openssh()) {
    EXPECT_NE(result.err.find("server offers 2 host keys, 1 new, 1 to remove"), std::string::npos)
        << result.err;
  }

  const auto found = keygen_find(server.known_hosts_name(), known_hosts);
  EXPECT_NE(found.find(key_base64(ed25519)), std::string::npos) << found;
  EXPECT_NE(found.find(key_base64(ecdsa)), std::string::npos) << found << result.err;
  EXPECT_EQ(found.find(key_base64(retired.public_line)), std::string::npos) << found;
  const auto text = read_file(known_hosts);
  EXPECT_EQ(text.rfind("# comment stays\n", 0), 0U) << text;
  EXPECT_NE(text.find(other_host_line + "\n"), std::string::npos) << text;

  // The learned key is trusted on its own now.
  SshCall ecdsa_only;
  ecdsa_only.known_hosts = known_hosts;
  ecdsa_only.options = {"-o", "HostKeyAlgorithms=ecdsa-sha2-nistp256"};
  const auto again = run_ssh(server, "true", ecdsa_only);
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

// sshd proves an RSA key with an rsa-sha2 algorithm after an ed25519 key
// exchange; the client must accept that (and nothing with SHA-1).
TEST(HostKeysInterop, OurClientLearnsAnRsaKeyAfterAnEd25519KeyExchange) {
  OpenSshServerOptions options;
  options.host_keys = {KeyType::kEd25519, KeyType::kRsa};
  OpenSshServer server(options);
  TempDir scratch("hostkeys-rsa");
  const auto ed25519 = server.host_key(KeyType::kEd25519).public_line;
  const auto rsa = server.host_key(KeyType::kRsa).public_line;
  const auto known_hosts = scratch.path() / "known_hosts";
  write_file(known_hosts, server.known_hosts_line(ed25519) + "\n", std::filesystem::perms(0600));

  SshCall call;
  call.known_hosts = known_hosts;
  call.options = {"-v", "-o", "UpdateHostKeys=yes", "-o",
                  "HostKeyAlgorithms=ssh-ed25519,rsa-sha2-512,rsa-sha2-256"};
  const auto result = run_ssh(server, "sleep 1", call);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto found = keygen_find(server.known_hosts_name(), known_hosts);
  EXPECT_NE(found.find(key_base64(rsa)), std::string::npos) << found << result.err;
}

TEST(HostKeysInterop, AServerWithAChangedKeyRewritesNothing) {
  OpenSshServerOptions options;
  options.host_keys = {KeyType::kEd25519, KeyType::kEcdsaP256};
  OpenSshServer server(options);
  TempDir scratch("hostkeys-changed");
  // known_hosts holds another key for the host: with StrictHostKeyChecking=no
  // the connection goes on, but the server is not trusted to retire keys.
  const auto recorded = generate_openssh_key(scratch.path() / "recorded", KeyType::kEd25519);
  const auto known_hosts = scratch.path() / "known_hosts";
  const auto text = server.known_hosts_line(recorded.public_line) + "\n";
  write_file(known_hosts, text, std::filesystem::perms(0600));

  SshCall call;
  call.known_hosts = known_hosts;
  call.strict_host_key_checking = "no";
  call.options = {"-o", "UpdateHostKeys=yes", "-o",
                  "HostKeyAlgorithms=ssh-ed25519,ecdsa-sha2-nistp256"};
  const auto result = run_ssh(server, "sleep 1", call);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  if (!client_is_openssh()) {
    EXPECT_NE(result.err.find("UpdateHostKeys is disabled"), std::string::npos) << result.err;
  }
  EXPECT_EQ(read_file(known_hosts), text);
}

TEST(HostKeysInterop, OpenSshClientLearnsTheSecondHostKeyOfLimactlSshd) {
  LimactlSshServerOptions options;
  options.host_keys = {KeyType::kEd25519, KeyType::kEcdsaP256};
  options.debug = true;
  LimactlSshServer server(options);
  TempDir scratch("hostkeys-server");
  const auto& ed25519 = server.host_keys().at(0).public_line;
  const auto& ecdsa = server.host_keys().at(1).public_line;
  const auto known_hosts = scratch.path() / "known_hosts";
  write_file(known_hosts, server.known_hosts_line(ed25519) + "\n", std::filesystem::perms(0600));

  // OpenSSH keeps the first value of an option: these win over the config.
  const auto result = run_process(server.ssh_command(
      "sleep 1", {"-o", "UserKnownHostsFile=" + known_hosts.string(), "-o", "UpdateHostKeys=yes",
                  "-o", "HostKeyAlgorithms=ssh-ed25519,ecdsa-sha2-nistp256", "-v"}));
  ASSERT_EQ(result.exit_code, 0) << result.err << server.log();
  EXPECT_NE(result.err.find("Learned new hostkey"), std::string::npos) << result.err;

  const auto found = keygen_find(server.known_hosts_name(), known_hosts);
  EXPECT_NE(found.find(key_base64(ed25519)), std::string::npos) << found;
  EXPECT_NE(found.find(key_base64(ecdsa)), std::string::npos) << found << result.err;
}

}  // namespace
}  // namespace testing_support
