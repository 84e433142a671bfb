// `scp -t ...` / `scp -f ...` as a command served inside the server
// (net::InProcessCommand): the protocol (ssh/scp/scp_protocol.hpp) on the
// local disk, so OpenSSH's `scp -O` works against a host without scp.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ssh/asio/server_context.hpp"

namespace ssh::net {

// The command for a session's exec command line, or nullptr when it is not
// a scp invocation this serves (the session then runs it as usual).
// Relative paths and "~" are taken relative to working_directory.
std::unique_ptr<InProcessCommand> make_scp_command(std::string_view command_line,
                                                   const std::string& working_directory);

}  // namespace ssh::net
