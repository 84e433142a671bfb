// Keeps the test user's own shell start-up files out of server tests.
//
// Servers under test run sessions with the user's login shell, and bash
// reads ~/.bashrc even for `ssh host command` when SSH_CLIENT is set (as
// sshd and limactl sshd set it). Whatever the machine's owner put there
// (a pyenv init that takes two seconds, or hangs a minute on a stale lock
// file) would then time every test command. The fixtures bind an empty
// file over each start-up file in the server's private mount namespace, so
// sessions start the shell the way a fresh account would.
#pragma once

#include <filesystem>
#include <utility>
#include <vector>

namespace testing_support {

// (empty file, start-up file) pairs for SpawnOptions::private_bind_mounts:
// one for each of ~/.bashrc, ~/.profile, ~/.bash_profile and ~/.bash_login
// that exists in the home directory of the user the tests run as. The empty
// file is made in `scratch_directory`.
std::vector<std::pair<std::filesystem::path, std::filesystem::path>> empty_shell_startup_mounts(
    const std::filesystem::path& scratch_directory);

}  // namespace testing_support
