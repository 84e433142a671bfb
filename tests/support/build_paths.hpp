// Where this build put limactl, and where the source tree is: for tests that
// run the real binary or the repository's scripts.
//
// Only build_paths.cpp is compiled with these absolute paths, so every other
// test object is the same in any checkout and build directory, and the
// compiler cache serves it to a fresh clone.
#pragma once

namespace testing_support {

const char* limactl_binary_path();
const char* limactl_source_directory();

}  // namespace testing_support

#define LIMACTL_BINARY (::testing_support::limactl_binary_path())
#define LIMACTL_SOURCE_DIR (::testing_support::limactl_source_directory())
