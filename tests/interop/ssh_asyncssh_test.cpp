// `limactl ssh` against AsyncSSH 2.10 (tests/support/asyncssh_server.py).

#include <gtest/gtest.h>

#include <string>

#include "support/asyncssh_fixture.hpp"
#include "support/exec_checks.hpp"
#include "support/keys.hpp"

namespace testing_support {
namespace {

constexpr std::uintmax_t kVolume = 16 * 1024 * 1024;

TEST(AsyncSsh, StdoutStderrAndExitStatus) {
  AsyncSshServer server;
  check_stdout_stderr_and_exit_status(server);
  check_exit_statuses(server, {0, 1, 42});
}

TEST(AsyncSsh, Stdin) {
  AsyncSshServer server;
  check_stdin(server, kVolume);
}

TEST(AsyncSsh, StdoutVolume) {
  AsyncSshServer server;
  check_stdout_volume(server, kVolume);
}

class AsyncSshHostKey : public testing::TestWithParam<KeyType> {};

TEST_P(AsyncSshHostKey, Connects) {
  AsyncSshServerOptions options;
  options.host_key = GetParam();
  AsyncSshServer server(options);
  check_stdout_stderr_and_exit_status(server);
}

INSTANTIATE_TEST_SUITE_P(AsyncSsh, AsyncSshHostKey, testing::ValuesIn(all_key_types()),
                         [](const auto& param_info) {
                           std::string name = key_type_name(param_info.param);
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

// The server advertises (server-sig-algs) and uses only one RSA signature
// algorithm besides its host key's: the client must sign with that one.
class AsyncSshRsaUserKey : public testing::TestWithParam<std::string> {};

TEST_P(AsyncSshRsaUserKey, SignsWithTheAdvertisedAlgorithm) {
  AsyncSshServerOptions options;
  options.client_key = KeyType::kRsa;
  options.signature_algorithms = {GetParam(), "ssh-ed25519"};
  AsyncSshServer server(options);
  auto before = server.log_size();
  check_stdout_stderr_and_exit_status(server);
  auto log = server.log_since(before);
  EXPECT_NE(log.find("Verifying request with " + GetParam() + " key"), std::string::npos) << log;
}

INSTANTIATE_TEST_SUITE_P(AsyncSsh, AsyncSshRsaUserKey,
                         testing::Values("rsa-sha2-256", "rsa-sha2-512"),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

}  // namespace
}  // namespace testing_support
