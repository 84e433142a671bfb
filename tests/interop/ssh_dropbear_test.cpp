// `limactl ssh` against Dropbear 2022.83 (see support/dropbear_fixture.hpp
// for how its authorized_keys is provided without touching root's ~/.ssh).

#include <gtest/gtest.h>

#include "support/dropbear_fixture.hpp"
#include "support/exec_checks.hpp"
#include "support/keys.hpp"

namespace testing_support {
namespace {

constexpr std::uintmax_t kVolume = 16 * 1024 * 1024;

TEST(Dropbear, StdoutStderrAndExitStatus) {
  DropbearServer server;
  check_stdout_stderr_and_exit_status(server);
  check_exit_statuses(server, {0, 1, 42});
}

TEST(Dropbear, Stdin) {
  DropbearServer server;
  check_stdin(server, kVolume);
}

TEST(Dropbear, StdoutVolume) {
  DropbearServer server;
  check_stdout_volume(server, kVolume);
}

class DropbearHostKey : public testing::TestWithParam<KeyType> {};

TEST_P(DropbearHostKey, Connects) {
  DropbearServerOptions options;
  options.host_key = GetParam();
  DropbearServer server(options);
  check_stdout_stderr_and_exit_status(server);
}

INSTANTIATE_TEST_SUITE_P(Dropbear, DropbearHostKey,
                         testing::Values(KeyType::kEd25519, KeyType::kEcdsaP256,
                                         KeyType::kEcdsaP521, KeyType::kRsa),
                         [](const auto& param_info) {
                           std::string name = key_type_name(param_info.param);
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

}  // namespace
}  // namespace testing_support
