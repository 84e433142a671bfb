// The download progress display: scp's meter line for a download, started
// over when a download restarts, silent when disabled (not a terminal).
#include "cli/download_progress.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <string>

namespace cli {
namespace {

// stderr captured for the lifetime of the object.
class CapturedStderr {
 public:
  CapturedStderr() : saved_(std::cerr.rdbuf(text_.rdbuf())) {}
  ~CapturedStderr() { std::cerr.rdbuf(saved_); }
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::streambuf* saved_;
};

TEST(DownloadProgressDisplay, DrawsTheImageNameAndEndsAtAHundredPercent) {
  CapturedStderr captured;
  {
    DownloadProgressDisplay display("disk.img", true);
    auto report = display.callback();
    report({0, 4096});
    report({2048, 4096});
    report({4096, 4096});
    display.finish(true);
  }
  const std::string text = captured.text();
  EXPECT_NE(text.find("disk.img"), std::string::npos) << text;
  EXPECT_NE(text.find("100%"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n') << text;
}

TEST(DownloadProgressDisplay, ARestartedDownloadStartsANewLine) {
  CapturedStderr captured;
  {
    DownloadProgressDisplay display("disk.img", true);
    auto report = display.callback();
    report({0, 4096});
    report({3000, 4096});
    report({0, 4096});  // the server sent the whole file again
    report({4096, 4096});
  }
  const std::string text = captured.text();
  EXPECT_GE(std::count(text.begin(), text.end(), '\n'), 2) << text;
}

TEST(DownloadProgressDisplay, DisabledDrawsNothing) {
  CapturedStderr captured;
  {
    DownloadProgressDisplay display("disk.img", false);
    auto report = display.callback();
    report({0, 4096});
    report({4096, 4096});
    display.finish(true);
  }
  EXPECT_EQ(captured.text(), "");
}

}  // namespace
}  // namespace cli
