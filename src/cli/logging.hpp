// Logging for the command line: one stderr sink shared by every layer's
// logger ("ssh.transport", "ssh.auth", ...), its level set by -v / -q.
#pragma once

#include "ssh/config/client_options.hpp"

namespace cli {

void configure_logging(ssh::config::LogLevel level);
// Levels by -v count (0 = warnings only, 1 = debug, 2+ = trace).
void configure_logging_verbosity(int verbosity, bool quiet);

}  // namespace cli
