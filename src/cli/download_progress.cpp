#include "cli/download_progress.hpp"

#include <utility>

#include "platform/console.hpp"

namespace cli {

DownloadProgressDisplay::DownloadProgressDisplay(std::string name)
    : DownloadProgressDisplay(std::move(name), platform::stderr_is_terminal()) {}

DownloadProgressDisplay::DownloadProgressDisplay(std::string name, bool enabled)
    : meter_(enabled), name_(std::move(name)) {}

DownloadProgressDisplay::~DownloadProgressDisplay() {
  finish(false);
}

vm::DownloadProgressCallback DownloadProgressDisplay::callback() {
  return [this](const vm::DownloadProgress& progress) { report(progress); };
}

void DownloadProgressDisplay::report(const vm::DownloadProgress& progress) {
  // A new total or fewer bytes than before mean a new response (a restart
  // or a resumed try): the meter starts over with it.
  if (!started_ || progress.bytes_total != total_ || progress.bytes_done < done_) {
    if (started_) meter_.break_line();
    meter_.start_file(name_, progress.bytes_total);
    started_ = true;
    total_ = progress.bytes_total;
  }
  done_ = progress.bytes_done;
  meter_.update(progress.bytes_done);
}

void DownloadProgressDisplay::finish(bool ok) {
  if (!started_) return;
  meter_.finish_file(ok);
  started_ = false;
}

}  // namespace cli
