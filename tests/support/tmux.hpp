// A tmux server of its own (private socket, no config) holding one session:
// how interop tests drive a real terminal (a pty session, its resize).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>

#include "support/process.hpp"

namespace testing_support {

class Tmux {
 public:
  // Starts `command` in a detached session of width x height cells.
  Tmux(const std::filesystem::path& dir, const std::string& command, int width, int height);
  ~Tmux();
  Tmux(const Tmux&) = delete;
  Tmux& operator=(const Tmux&) = delete;

  ProcessResult run(const Argv& arguments);
  void type_line(const std::string& line);
  std::string screen();
  // Waits until the screen matches `pattern`; returns the match's first
  // group (or the whole match when the pattern has none).
  std::optional<std::string> wait_for(const std::regex& pattern, std::chrono::milliseconds timeout);

 private:
  std::string socket_;
};

}  // namespace testing_support
