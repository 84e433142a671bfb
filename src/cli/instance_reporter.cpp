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
    if (meter_label_ != label) {
      meter_label_ = std::string(label);
      meter_->start_file(label, progress.source_bytes_total);
    }
    meter_->update(progress.source_bytes_done);
    if (progress.source_bytes_done == progress.source_bytes_total) {
      meter_->finish_file(true);
      meter_label_.clear();
    }
  };
  // The download meter (restarts, unknown sizes) is DownloadProgressDisplay's.
  reporter_.begin_download = [this](std::string_view label) -> vm::DownloadProgressCallback {
    meter_->break_line();
    download_ = std::make_unique<DownloadProgressDisplay>("download " + std::string(label));
    return download_->callback();
  };
}

}  // namespace cli
