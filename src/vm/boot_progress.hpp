// Following a guest's boot from its serial console (serial.log): which
// steps it has reached, when its boot script is done, and when it failed.
// Fed the log's bytes as they grow; pure, so tests give it sample logs.
//
// The serial console is the guest's to write: lines are cut at
// kMaxBootLogLine, escape sequences and other control bytes are dropped,
// and only lines of known shapes become events.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vm {

inline constexpr std::size_t kMaxBootLogLine = 1024;

struct BootEvent {
  enum class Kind {
    Step,    // something worth telling the user ("guest kernel 6.1 started")
    Ready,   // the boot script finished (/run/lima-boot-done written)
    Failed,  // the guest cannot come up (kernel panic, failed boot script)
  };
  Kind kind = Kind::Step;
  std::string message;
};

class BootProgress {
 public:
  // The events of the complete lines in `bytes` (a partial last line waits
  // for the next call).
  std::vector<BootEvent> feed(std::string_view bytes);
  bool ready() const { return ready_; }

 private:
  void take_line(std::vector<BootEvent>& events);

  std::string line_;
  bool ready_ = false;
};

// The line as printable text: ANSI escape sequences and control bytes
// removed (what feed() does per line; public for tests).
std::string printable_console_text(std::string_view line);

}  // namespace vm
