#include "support/xorriso.hpp"

#include <gtest/gtest.h>

#include <exception>

#include "support/process.hpp"

namespace testing_support {

std::string run_xorriso(const std::vector<std::string>& arguments) {
  std::vector<std::string> argv{"xorriso"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  ProcessResult result;
  try {
    RunOptions options;
    options.environment = {{"LC_ALL", "C.UTF-8"}};
    result = run_process(argv, options);
  } catch (const std::exception& error) {
    ADD_FAILURE() << "cannot run xorriso (install it: scripts/install-deps): " << error.what();
    return {};
  }
  EXPECT_TRUE(result.exited_with(0)) << shell_quote(argv) << "\n" << result.describe();
  for (const char* severity : {": WARNING :", ": SORRY :", ": FAILURE :", ": MISHAP :"}) {
    EXPECT_EQ(result.err.find(severity), std::string::npos) << shell_quote(argv) << "\n"
                                                            << result.err;
  }
  return result.out;
}

}  // namespace testing_support
