#include "cli/instance_reporter.hpp"

#include <iostream>

#include "platform/console.hpp"

namespace cli {

TerminalInstanceReporter::TerminalInstanceReporter(std::string_view command)
    : command_(command), meter_(std::make_unique<ProgressMeter>(platform::stderr_is_terminal())) {
  reporter_.step = [this](std::string_view line) {
    meter_->break_line();
    std::cerr << command_ << ": " << line << "\n";
  };
  reporter_.copy_progress = [this](std::string_view label, const vm::InstallProgress& progress) {
    // A new file, or a download that started over, gets a fresh line.
    if (meter_label_ != label || progress.source_bytes_done < meter_done_) {
      meter_label_ = std::string(label);
      meter_->start_file(label, progress.source_bytes_total);
    }
    meter_done_ = progress.source_bytes_done;
    meter_->update(progress.source_bytes_done);
    if (progress.source_bytes_total > 0 &&
        progress.source_bytes_done == progress.source_bytes_total) {
      meter_->finish_file(true);
      meter_label_.clear();
      meter_done_ = 0;
    }
  };
}

}  // namespace cli
