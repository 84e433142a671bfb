// Named loggers for the layers of the SSH stack ("ssh.transport",
// "ssh.hostkeys", ...). Every layer gets its logger through get() so that
// the program configures logging once (spdlog's global level, or by
// registering its own logger under the same name before first use).
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

namespace ssh::log {

// Returns the logger named "ssh.<layer>". If nobody registered it yet, it is
// created writing to stderr at spdlog's global level and registered, so
// later calls (from any thread) share it.
std::shared_ptr<spdlog::logger> get(std::string_view layer);

}  // namespace ssh::log
