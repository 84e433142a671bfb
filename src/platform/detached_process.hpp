// Starting a program that outlives limactl (the VM's QEMU): it runs in a
// session of its own, with stdin from the null device and stdout and stderr
// appended to a log file, so closing the terminal or ending limactl does not
// end it. While limactl still runs it is limactl's child, so an early exit
// (a bad option, a port QEMU cannot forward) is seen with its status.
//
// POSIX only for now: on Windows start_detached returns an error saying so.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ssh/common.hpp"

namespace platform {

// Starts argv[0] (a path, or a name found in PATH) detached as above.
// Returns its pid. Errors: argv empty, the log cannot be opened, the fork
// failed, or the program could not be executed (with the reason).
ssh::Result<int> start_detached(const std::vector<std::string>& argv,
                                const std::filesystem::path& log_file);

struct ChildExit {
  std::optional<int> exit_code;  // set when it exited normally
  int signal = 0;                // the signal that ended it, if any
};

// Whether a child started by start_detached has ended (not waiting); reaps
// it when it has. nullopt while it runs.
std::optional<ChildExit> poll_child_exit(int pid);

// A plain description: "exit status 1", "signal 9 (Killed)".
std::string describe_child_exit(const ChildExit& exit);

// Where `name` is in PATH (or `name` itself if it has a directory part and
// exists); nullopt when it is nowhere.
std::optional<std::filesystem::path> find_program(const std::string& name);

}  // namespace platform
