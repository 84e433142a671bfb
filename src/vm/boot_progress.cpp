#include "vm/boot_progress.hpp"

#include <cctype>

namespace vm {
namespace {

constexpr std::string_view kLimaPrefix = "LIMA| ";
constexpr std::string_view kBootDone = "boot script done (status ";

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// "[    1.234567] Linux version ..." -> "Linux version ..."
std::string_view without_kernel_timestamp(std::string_view line) {
  if (line.starts_with("[")) {
    const auto close = line.find(']');
    if (close != std::string_view::npos) return trim(line.substr(close + 1));
  }
  return line;
}

}  // namespace

std::string printable_console_text(std::string_view line) {
  // Normal text, ESC seen, a CSI sequence (ESC [ ... final byte 0x40-0x7e),
  // an OSC string (ESC ] ... BEL or ESC \).
  enum class State { Text, Escape, Csi, Osc } state = State::Text;
  std::string text;
  for (char c : line) {
    const auto byte = static_cast<unsigned char>(c);
    switch (state) {
      case State::Escape:
        state = c == '[' ? State::Csi : c == ']' ? State::Osc : State::Text;
        continue;
      case State::Csi:
        if (byte >= 0x40 && byte <= 0x7e) state = State::Text;
        continue;
      case State::Osc:
        if (byte == 0x07) state = State::Text;
        if (byte == 0x1b) state = State::Escape;
        continue;
      case State::Text:
        break;
    }
    if (byte == 0x1b) {
      state = State::Escape;
      continue;
    }
    if (byte < 0x20 || byte == 0x7f) continue;
    text += c;
  }
  return text;
}

std::vector<BootEvent> BootProgress::feed(std::string_view bytes) {
  std::vector<BootEvent> events;
  for (char c : bytes) {
    if (c == '\n') {
      take_line(events);
      continue;
    }
    if (line_.size() < kMaxBootLogLine) line_ += c;
  }
  return events;
}

void BootProgress::take_line(std::vector<BootEvent>& events) {
  const std::string text = printable_console_text(line_);
  line_.clear();
  const std::string_view line = without_kernel_timestamp(trim(text));
  if (const auto at = line.find(kLimaPrefix); at != std::string_view::npos) {
    const std::string_view message = trim(line.substr(at + kLimaPrefix.size()));
    if (message.starts_with(kBootDone)) {
      const bool succeeded = message.substr(kBootDone.size()).starts_with("0)");
      ready_ = true;
      events.push_back(
          {succeeded ? BootEvent::Kind::Ready : BootEvent::Kind::Failed, std::string(message)});
      return;
    }
    events.push_back({BootEvent::Kind::Step, std::string(message)});
    return;
  }
  if (line.starts_with("Linux version ")) {
    std::string_view version = line.substr(std::string_view("Linux version ").size());
    version = version.substr(0, version.find(' '));
    events.push_back({BootEvent::Kind::Step, "guest kernel " + std::string(version) + " started"});
    return;
  }
  if (line.starts_with("Kernel panic")) {
    events.push_back({BootEvent::Kind::Failed, std::string(line)});
    return;
  }
  // "cloud-init[201]: Cloud-init v. 22.4.2 running 'init-local' at ..." and
  // "... finished at ...".
  if (const auto at = line.find("Cloud-init v. "); at != std::string_view::npos) {
    const std::string_view rest = line.substr(at);
    const auto running = rest.find(" running '");
    if (running != std::string_view::npos) {
      std::string_view stage = rest.substr(running + std::string_view(" running '").size());
      stage = stage.substr(0, stage.find('\''));
      events.push_back({BootEvent::Kind::Step, "cloud-init stage " + std::string(stage)});
    } else if (rest.find(" finished at ") != std::string_view::npos) {
      events.push_back({BootEvent::Kind::Step, "cloud-init finished"});
    }
    return;
  }
  if (line.ends_with(" login:")) {
    events.push_back({BootEvent::Kind::Step, "login prompt on the console"});
  }
}

}  // namespace vm
