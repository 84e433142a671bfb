// Runs xorriso (a test tool: scripts/install-deps) the way the ISO readback
// tests read our images. Linux only, like the tests that use it.
#pragma once

#include <string>
#include <vector>

namespace testing_support {

// xorriso with `arguments` in a UTF-8 locale (so UTF-8 names pass through
// unchanged); returns its stdout. Fails the current test when xorriso is
// missing, exits non-zero, or reports anything worse than a NOTE/UPDATE.
std::string run_xorriso(const std::vector<std::string>& arguments);

}  // namespace testing_support
