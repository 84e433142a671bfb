// How `limactl start` and `stop` show their progress: a line per step on
// stderr, and a progress meter while an image is copied (on a terminal).
#pragma once

#include <memory>
#include <string_view>

#include "cli/download_progress.hpp"
#include "cli/progress_meter.hpp"
#include "vm/instance_start.hpp"

namespace cli {

class TerminalInstanceReporter {
 public:
  explicit TerminalInstanceReporter(std::string_view command);
  const vm::InstanceReporter& reporter() const { return reporter_; }

 private:
  std::string command_;
  std::unique_ptr<ProgressMeter> meter_;
  std::string meter_label_;
  std::unique_ptr<DownloadProgressDisplay> download_;
  vm::InstanceReporter reporter_;
};

}  // namespace cli
