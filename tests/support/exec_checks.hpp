// The basic exec checks every SSH server peer gets (Dropbear, AsyncSSH, ...):
// gtest EXPECT_* assertions reported on the calling test. Each runs the
// client under test (see ssh_client.hpp) against `server`.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "support/ssh_client.hpp"
#include "support/ssh_server.hpp"

namespace testing_support {

// `echo out; echo err >&2; exit 3`: stdout "out\n", stderr "err\n", status 3.
void check_stdout_stderr_and_exit_status(const SshServer& server, const SshCall& call = {});
// `exit N` gives status N for each N.
void check_exit_statuses(const SshServer& server, std::initializer_list<int> statuses,
                         const SshCall& call = {});
// `bytes` of random data into `sha256sum`, and `cat` with no input at all
// (end of file must reach the remote command).
void check_stdin(const SshServer& server, std::uintmax_t bytes, const SshCall& call = {});
// `cat FILE` of `bytes` random bytes: the client writes exactly them.
void check_stdout_volume(const SshServer& server, std::uintmax_t bytes, const SshCall& call = {});

}  // namespace testing_support
