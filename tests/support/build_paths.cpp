#include "support/build_paths.hpp"

namespace testing_support {

// Set for this file alone by CMakeLists.txt.
const char* limactl_binary_path() {
  return LIMACTL_BINARY_PATH;
}
const char* limactl_source_directory() {
  return LIMACTL_SOURCE_DIRECTORY;
}

}  // namespace testing_support
