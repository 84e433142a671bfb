#include "interop/scp_peer_path.hpp"

// Set for this file alone by CMakeLists.txt.
const char* scp_stdio_peer_path() {
  return SCP_STDIO_PEER_PATH;
}
