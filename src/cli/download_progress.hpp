// A download's progress on the terminal: the scp-style meter on stderr when
// stderr is a terminal, nothing otherwise (logs and pipes stay clean).
#pragma once

#include <cstdint>
#include <string>

#include "cli/progress_meter.hpp"
#include "vm/image_download.hpp"

namespace cli {

class DownloadProgressDisplay {
 public:
  // `name`: what the meter line shows (an image's file name).
  explicit DownloadProgressDisplay(std::string name);
  // `enabled` decided by the caller (tests); the other one asks stderr.
  DownloadProgressDisplay(std::string name, bool enabled);
  ~DownloadProgressDisplay();  // finishes a drawn line
  DownloadProgressDisplay(const DownloadProgressDisplay&) = delete;
  DownloadProgressDisplay& operator=(const DownloadProgressDisplay&) = delete;

  // For vm::fetch_to_cache / vm::download_file; valid while this lives.
  vm::DownloadProgressCallback callback();
  // Ends the line with the elapsed time (ok) or as it stands (failed).
  void finish(bool ok);

 private:
  void report(const vm::DownloadProgress& progress);

  ProgressMeter meter_;
  std::string name_;
  bool started_ = false;
  std::uint64_t total_ = 0;
  std::uint64_t done_ = 0;
};

}  // namespace cli
