#include "cli/progress_meter.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "platform/console.hpp"

namespace cli {
namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(200);

// "1023B", "12KB", "1.5MB", "2.0GB", as scp shows sizes.
std::string human_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  std::size_t unit = 0;
  while (bytes >= 1024.0 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024.0;
    ++unit;
  }
  char text[32];
  if (unit == 0 || bytes >= 100.0) {
    std::snprintf(text, sizeof text, "%.0f%s", bytes, kUnits[unit]);
  } else {
    std::snprintf(text, sizeof text, "%.1f%s", bytes, kUnits[unit]);
  }
  return text;
}

std::string clock_text(std::chrono::seconds duration) {
  const long long total = std::max<long long>(duration.count(), 0);
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", total / 3600, (total / 60) % 60,
                  total % 60);
  } else {
    std::snprintf(text, sizeof text, "%02lld:%02lld", total / 60, total % 60);
  }
  return text;
}

}  // namespace

std::string ProgressMeter::render(std::string_view name, std::uint64_t done, std::uint64_t total,
                                  double bytes_per_second, std::chrono::seconds elapsed,
                                  bool finished, std::size_t columns) {
  const int percent =
      total == 0 ? 100 : static_cast<int>(static_cast<double>(done) * 100.0 / total);
  std::string time;
  if (finished) {
    time = clock_text(elapsed) + "    ";
  } else if (bytes_per_second > 0.0 && total >= done) {
    time = clock_text(std::chrono::seconds(
               static_cast<long long>(static_cast<double>(total - done) / bytes_per_second))) +
           " ETA";
  } else {
    time = "--:-- ETA";
  }
  char right[96];
  std::snprintf(right, sizeof right, " %3d%% %7s %9s/s %9s", std::min(percent, 100),
                human_bytes(static_cast<double>(done)).c_str(),
                human_bytes(bytes_per_second).c_str(), time.c_str());
  const std::string tail = right;
  const std::size_t name_width = columns > tail.size() ? columns - tail.size() : 1;
  std::string line(name.substr(0, name_width));
  line.resize(name_width, ' ');
  return line + tail;
}

void ProgressMeter::start_file(std::string_view name, std::uint64_t size,
                               std::optional<Clock::time_point> started) {
  if (!enabled_) return;
  name_ = std::string(name);
  size_ = size;
  done_ = 0;
  active_ = true;
  started_ = started.value_or(Clock::now());
  last_draw_ = Clock::time_point{};
  draw(false);
}

void ProgressMeter::update(std::uint64_t bytes_done) {
  if (!enabled_ || !active_) return;
  done_ = bytes_done;
  if (Clock::now() - last_draw_ >= kRedrawInterval) draw(false);
}

void ProgressMeter::finish_file(bool ok, std::optional<Clock::time_point> ended) {
  if (!enabled_ || !active_) return;
  if (ok) done_ = size_;
  draw(true, ended.value_or(Clock::now()));
  std::cerr << "\n" << std::flush;
  line_open_ = false;
  active_ = false;
}

void ProgressMeter::break_line() {
  if (!line_open_) return;
  std::cerr << "\n" << std::flush;
  line_open_ = false;
}

void ProgressMeter::draw(bool finished, Clock::time_point now) {
  last_draw_ = Clock::now();
  line_open_ = true;
  const double seconds = std::chrono::duration<double>(now - started_).count();
  const double rate = seconds > 0.0 ? static_cast<double>(done_) / seconds : 0.0;
  const std::size_t columns = platform::terminal_size().value_or(platform::TerminalSize{}).columns;
  std::cerr << "\r"
            << render(name_, done_, size_, rate,
                      std::chrono::duration_cast<std::chrono::seconds>(now - started_), finished,
                      std::max<std::size_t>(columns, 40) - 1)
            << std::flush;
}

}  // namespace cli
