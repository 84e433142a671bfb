// Running a helper program to completion with a deadline (qemu for the
// acceleration probe): argv without a shell, stdin from the null device,
// stdout and stderr captured together.
//
// POSIX only for now: on Windows run_program returns an error saying so.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "ssh/common.hpp"

namespace platform {

struct ProgramRun {
  std::optional<int> exit_code;  // set when it exited normally
  int signal = 0;                // the signal that ended it, if any
  bool timed_out = false;        // killed (with its process group) at the deadline
  std::string output;            // stdout and stderr interleaved, the first output_limit bytes
};

// Runs argv[0] (found in PATH when it has no slash) in a process group of its
// own. At `timeout` the whole group is killed. Errors: argv empty, the pipe or
// fork failed, or the program could not be executed (with the reason).
ssh::Result<ProgramRun> run_program(const std::vector<std::string>& argv,
                                    std::chrono::milliseconds timeout,
                                    std::size_t output_limit = 64 * 1024);

}  // namespace platform
