// `limactl ssh`'s side of connection sharing: -O check|exit|forward|cancel
// and a session run through a master at ControlPath, with OpenSSH's
// messages and exit statuses. The protocol and the master are the
// library's (ssh/asio/control_client, control_master).
#pragma once

#include <asio.hpp>
#include <optional>
#include <string>

#include "ssh/config/client_options.hpp"

namespace cli {

// -O CTL_CMD: the exit status (0, or 255 with a message when no master
// answers or it refused).
int run_control_command(const std::string& control_command,
                        const ssh::config::ClientOptions& options);

// The session through the master at options.control_path: its exit
// status, or nullopt when no master answered (the caller then connects
// itself; `not_answering` says why, for the caller to report).
std::optional<int> run_shared_session(const ssh::config::ClientOptions& options,
                                      const std::string& command, bool want_tty,
                                      std::string& not_answering);

}  // namespace cli
