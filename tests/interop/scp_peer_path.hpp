// Where this build put scp_stdio_peer (the stand-in for ssh under OpenSSH's
// `scp -S`). Only scp_peer_path.cpp is compiled with the path (see
// support/build_paths.hpp for why).
#pragma once

const char* scp_stdio_peer_path();

#define SCP_STDIO_PEER_BINARY (scp_stdio_peer_path())
