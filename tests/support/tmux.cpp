#include "support/tmux.hpp"

#include <stdexcept>
#include <thread>

namespace testing_support {

using namespace std::chrono_literals;

Tmux::Tmux(const std::filesystem::path& dir, const std::string& command, int width, int height)
    : socket_((dir / "tmux.sock").string()) {
  const auto started = run({"new-session", "-d", "-s", "t", "-x", std::to_string(width), "-y",
                            std::to_string(height), command});
  if (!started.exited_with(0)) throw std::runtime_error("tmux: " + started.describe());
}

Tmux::~Tmux() {
  run({"kill-server"});
}

ProcessResult Tmux::run(const Argv& arguments) {
  Argv argv = {"/usr/bin/tmux", "-S", socket_, "-f", "/dev/null"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  RunOptions options;
  options.timeout = 20s;
  return run_process(argv, options);
}

void Tmux::type_line(const std::string& line) {
  run({"send-keys", "-t", "t", "-l", line});
  run({"send-keys", "-t", "t", "Enter"});
}

std::string Tmux::screen() {
  return run({"capture-pane", "-p", "-t", "t"}).out;
}

std::optional<std::string> Tmux::wait_for(const std::regex& pattern,
                                          std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::smatch match;
    const auto text = screen();
    if (std::regex_search(text, match, pattern)) {
      return match.size() > 1 ? match[1].str() : match[0].str();
    }
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(50ms);
  }
}

}  // namespace testing_support
