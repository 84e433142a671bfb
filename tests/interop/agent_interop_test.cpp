// `limactl ssh` with a real OpenSSH ssh-agent (started by each test with
// `ssh-agent -D -a SOCKET`, keys added with ssh-add) against a real sshd:
// logging in with the agent's keys and no key file, IdentityAgent=none,
// IdentitiesOnly, and agent forwarding (-A) checked from the server side
// with ssh-add.
//
// With LIMACTL_TEST_CLIENT=openssh every test here passes with OpenSSH's ssh.

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/files.hpp"
#include "support/keys.hpp"
#include "support/process.hpp"
#include "support/ssh_client.hpp"
#include "support/sshd_fixture.hpp"
#include "support/temp_dir.hpp"

namespace testing_support {
namespace {

namespace fs = std::filesystem;

// A private ssh-agent on a socket in its own temporary directory.
class SshAgent {
 public:
  SshAgent() : socket_(dir_.path() / "agent.sock") {
    process_ = std::make_unique<BackgroundProcess>(
        Argv{"/usr/bin/ssh-agent", "-D", "-a", socket_.string()});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!fs::exists(socket_)) {
      if (!process_->running() || std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("ssh-agent did not create " + socket_.string() + " (" +
                                 process_->status_text() + ")");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  const fs::path& socket() const { return socket_; }
  const fs::path& directory() const { return dir_.path(); }
  Environment environment() const { return {{"SSH_AUTH_SOCK", socket_.string()}}; }

  // A new key of this type made by ssh-keygen and added with ssh-add.
  KeyPair add_new_key(KeyType type, const std::string& name) {
    KeyPair key = generate_openssh_key(dir_.path() / name, type, "agent-" + name);
    add(key.private_key);
    return key;
  }

  void add(const fs::path& private_key) {
    RunOptions options;
    options.environment = environment();
    const auto result = run_process({"ssh-add", private_key.string()}, options);
    if (!result.exited_with(0)) throw std::runtime_error("ssh-add failed: " + result.describe());
  }

  // `ssh-add -L` against this agent.
  std::string list_public_keys() const {
    RunOptions options;
    options.environment = environment();
    const auto result = run_process({"ssh-add", "-L"}, options);
    if (!result.exited_with(0)) throw std::runtime_error("ssh-add -L failed: " + result.describe());
    return result.out;
  }

 private:
  TempDir dir_{"limactl-agent"};
  fs::path socket_;
  std::unique_ptr<BackgroundProcess> process_;
};

void authorize(const OpenSshServer& server, const KeyPair& key) {
  std::string keys = read_file(server.authorized_keys_file());
  if (!keys.empty() && keys.back() != '\n') keys += '\n';
  write_file(server.authorized_keys_file(), keys + key.public_line + "\n", fs::perms(0600));
}

// "SHA256:..." as ssh-keygen -l prints it for the key.
std::string fingerprint(const KeyPair& key) {
  const auto result = run_process({"ssh-keygen", "-l", "-f", key.public_key.string()});
  if (!result.exited_with(0)) throw std::runtime_error("ssh-keygen -l: " + result.describe());
  const auto start = result.out.find("SHA256:");
  return result.out.substr(start, result.out.find(' ', start) - start);
}

// A call that offers no key file: -i names a file that does not exist, so
// only the agent can authenticate (and the default ~/.ssh keys stay out).
SshCall agent_only_call(const SshAgent& agent, std::vector<std::string> options = {}) {
  SshCall call;
  call.identity = agent.directory() / "no-such-key";
  call.options = std::move(options);
  return call;
}

RunOptions with_agent(const SshAgent& agent) {
  RunOptions run;
  run.environment = agent.environment();
  return run;
}

struct AgentLoginCase {
  KeyType type;
  // The one signature algorithm the server accepts (PubkeyAcceptedAlgorithms).
  std::string algorithm;
};

void PrintTo(const AgentLoginCase& login, std::ostream* out) {
  *out << login.algorithm;
}

class AgentLogin : public ::testing::TestWithParam<AgentLoginCase> {};

TEST_P(AgentLogin, LogsInWithTheAgentKeyAndNoKeyFile) {
  const auto& param = GetParam();
  OpenSshServerOptions server_options;
  server_options.extra_config = {"PubkeyAcceptedAlgorithms " + param.algorithm};
  OpenSshServer server(server_options);
  SshAgent agent;
  const KeyPair key = agent.add_new_key(param.type, key_type_name(param.type));
  authorize(server, key);

  // sshd 9.2 advertises every algorithm in server-sig-algs whatever it
  // accepts, so for RSA the client is told which hash to use; the agent then
  // gets the matching flag (2 for rsa-sha2-256, 4 for rsa-sha2-512).
  std::vector<std::string> options;
  if (param.type == KeyType::kRsa) options = {"-o", "PubkeyAcceptedAlgorithms=" + param.algorithm};

  const auto before = server.log_size();
  const auto result =
      run_ssh(server, "echo agent-ok", agent_only_call(agent, options), with_agent(agent));
  EXPECT_TRUE(result.exited_with(0)) << client_description() << ": " << result.describe();
  EXPECT_EQ(result.out, "agent-ok\n");
  const std::string log = server.log_since(before);
  EXPECT_NE(log.find("userauth_pubkey: authenticated 1 pkalg " + param.algorithm),
            std::string::npos)
      << log;
  EXPECT_NE(log.find(fingerprint(key)), std::string::npos)
      << "the agent's key was not the one accepted:\n"
      << log;
}

INSTANTIATE_TEST_SUITE_P(
    EveryKeyType, AgentLogin,
    ::testing::Values(AgentLoginCase{KeyType::kEd25519, "ssh-ed25519"},
                      AgentLoginCase{KeyType::kEcdsaP256, "ecdsa-sha2-nistp256"},
                      AgentLoginCase{KeyType::kEcdsaP384, "ecdsa-sha2-nistp384"},
                      AgentLoginCase{KeyType::kEcdsaP521, "ecdsa-sha2-nistp521"},
                      AgentLoginCase{KeyType::kRsa, "rsa-sha2-256"},
                      AgentLoginCase{KeyType::kRsa, "rsa-sha2-512"}),
    [](const auto& test_info) {
      std::string name = test_info.param.algorithm;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(AgentInterop, IdentityAgentNoneDoesNotUseTheAgent) {
  OpenSshServer server;
  SshAgent agent;
  authorize(server, agent.add_new_key(KeyType::kEd25519, "ed25519"));
  const auto refused =
      run_ssh(server, "echo agent-ok", agent_only_call(agent, {"-o", "IdentityAgent=none"}),
              with_agent(agent));
  EXPECT_TRUE(refused.exited_with(255)) << refused.describe();
  EXPECT_EQ(refused.out, "");
  EXPECT_NE(refused.err.find("Permission denied"), std::string::npos) << refused.describe();
}

TEST(AgentInterop, IdentityAgentPathIsUsedInsteadOfTheEnvironment) {
  OpenSshServer server;
  SshAgent agent;
  authorize(server, agent.add_new_key(KeyType::kEcdsaP256, "ecdsa"));
  RunOptions run;
  run.environment = {{"SSH_AUTH_SOCK", (agent.directory() / "not-an-agent").string()}};
  const auto result =
      run_ssh(server, "echo agent-ok",
              agent_only_call(agent, {"-o", "IdentityAgent=" + agent.socket().string()}), run);
  EXPECT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, "agent-ok\n");
}

TEST(AgentInterop, IdentitiesOnlyUsesOnlyAgentKeysNamedByIdentityFiles) {
  OpenSshServer server;
  SshAgent agent;
  const KeyPair authorized = agent.add_new_key(KeyType::kEd25519, "authorized");
  authorize(server, authorized);
  const KeyPair unrelated =
      generate_openssh_key(agent.directory() / "unrelated", KeyType::kEd25519);

  // -i names a key the server does not know: the agent's (authorized) key
  // must not be offered.
  SshCall other_file;
  other_file.identity = unrelated.private_key;
  other_file.options = {"-o", "IdentitiesOnly=yes"};
  const auto refused = run_ssh(server, "echo agent-ok", other_file, with_agent(agent));
  EXPECT_TRUE(refused.exited_with(255)) << refused.describe();
  EXPECT_NE(refused.err.find("Permission denied"), std::string::npos) << refused.describe();

  // -i names the agent's key, whose file is passphrase-protected (and with
  // BatchMode nobody types the passphrase): the .pub beside it tells which
  // agent key it is, and the agent signs.
  const auto protect = run_process({"ssh-keygen", "-q", "-p", "-P", "", "-N", "secret phrase", "-f",
                                    authorized.private_key.string()});
  ASSERT_TRUE(protect.exited_with(0)) << protect.describe();
  SshCall agent_file;
  agent_file.identity = authorized.private_key;
  agent_file.options = {"-o", "IdentitiesOnly=yes"};
  const auto result = run_ssh(server, "echo agent-ok", agent_file, with_agent(agent));
  EXPECT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, "agent-ok\n");
}

TEST(AgentInterop, ForwardedAgentListsTheKeysOnTheServer) {
  OpenSshServer server;  // AllowAgentForwarding defaults to yes
  SshAgent agent;
  const KeyPair ed25519 = agent.add_new_key(KeyType::kEd25519, "ed25519");
  const KeyPair rsa = agent.add_new_key(KeyType::kRsa, "rsa");
  const KeyPair ecdsa = agent.add_new_key(KeyType::kEcdsaP384, "ecdsa");
  authorize(server, ed25519);

  // ssh-add runs on the server, against the socket sshd made for the
  // forwarded agent, whose every request is relayed to our agent.
  const auto listed =
      run_ssh(server, "ssh-add -l", agent_only_call(agent, {"-A"}), with_agent(agent));
  EXPECT_TRUE(listed.exited_with(0)) << listed.describe();
  for (const auto* key : {&ed25519, &rsa, &ecdsa}) {
    EXPECT_NE(listed.out.find(fingerprint(*key)), std::string::npos)
        << key_type_name(key->type) << " missing from: " << listed.out;
  }

  const auto public_keys =
      run_ssh(server, "ssh-add -L", agent_only_call(agent, {"-A"}), with_agent(agent));
  EXPECT_TRUE(public_keys.exited_with(0)) << public_keys.describe();
  EXPECT_EQ(public_keys.out, agent.list_public_keys());

  // ForwardAgent=yes means the same as -A.
  const auto by_option = run_ssh(
      server, "ssh-add -L", agent_only_call(agent, {"-o", "ForwardAgent=yes"}), with_agent(agent));
  EXPECT_TRUE(by_option.exited_with(0)) << by_option.describe();
  EXPECT_EQ(by_option.out, agent.list_public_keys());
}

TEST(AgentInterop, ForwardedAgentSignsForALoginFromTheServer) {
  // The server logs into itself with the forwarded agent: a full sign
  // request and response travel through our relay.
  OpenSshServer server;
  SshAgent agent;
  const KeyPair key = agent.add_new_key(KeyType::kEd25519, "ed25519");
  authorize(server, key);
  const std::string inner =
      "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no "
      "-o UserKnownHostsFile=/dev/null -o IdentitiesOnly=no -p " +
      std::to_string(server.port()) + " root@127.0.0.1 echo inner-ok";
  const auto result = run_ssh(server, inner, agent_only_call(agent, {"-A"}), with_agent(agent));
  EXPECT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, "inner-ok\n");
}

TEST(AgentInterop, WithoutForwardingTheServerHasNoAgent) {
  OpenSshServer server;
  SshAgent agent;
  authorize(server, agent.add_new_key(KeyType::kEd25519, "ed25519"));
  for (const auto& options : std::vector<std::vector<std::string>>{{}, {"-a"}, {"-A", "-a"}}) {
    const auto result = run_ssh(server, "echo \"[${SSH_AUTH_SOCK-unset}]\"",
                                agent_only_call(agent, options), with_agent(agent));
    EXPECT_TRUE(result.exited_with(0)) << result.describe();
    EXPECT_EQ(result.out, "[unset]\n") << shell_quote(options);
  }
}

}  // namespace
}  // namespace testing_support
