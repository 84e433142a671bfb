// scp's progress meter on stderr: one line per file, redrawn in place with
// the name, percent done, bytes, rate and time left ("ETA"), ended with
// the total time once the file is done. Drawn only when enabled (a
// terminal, and no -q).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cli {

class ProgressMeter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ProgressMeter(bool enabled) : enabled_(enabled) {}

  bool enabled() const { return enabled_; }

  // `started`: when the file's bytes began to move, if before now (a file
  // that waited for the meter while another one was shown).
  void start_file(std::string_view name, std::uint64_t size,
                  std::optional<Clock::time_point> started = {});
  // Redraws at most a few times a second.
  void update(std::uint64_t bytes_done);
  // The final line for the file (100% and the elapsed time on success);
  // `ended`: when it was done, if before now.
  void finish_file(bool ok, std::optional<Clock::time_point> ended = {});
  // Ends a partly drawn line so a message can go below it; the next update
  // draws a fresh one.
  void break_line();

  // The line as drawn, for `columns` characters (exposed for tests).
  static std::string render(std::string_view name, std::uint64_t done, std::uint64_t total,
                            double bytes_per_second, std::chrono::seconds elapsed, bool finished,
                            std::size_t columns);

 private:
  void draw(bool finished, Clock::time_point now = Clock::now());

  bool enabled_;
  bool active_ = false;
  bool line_open_ = false;  // something drawn since the last newline
  std::string name_;
  std::uint64_t size_ = 0;
  std::uint64_t done_ = 0;
  Clock::time_point started_{};
  Clock::time_point last_draw_{};
};

}  // namespace cli
