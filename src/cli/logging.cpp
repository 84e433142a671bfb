#include "cli/logging.hpp"

#include <spdlog/spdlog.h>

namespace cli {

void configure_logging(ssh::config::LogLevel level) {
  using ssh::config::LogLevel;
  spdlog::level::level_enum spd = spdlog::level::warn;
  switch (level) {
    case LogLevel::Quiet:
    case LogLevel::Fatal:
      spd = spdlog::level::critical;
      break;
    case LogLevel::Error:
      spd = spdlog::level::err;
      break;
    case LogLevel::Info:
    case LogLevel::Verbose:
      spd = spdlog::level::warn;
      break;
    case LogLevel::Debug1:
    case LogLevel::Debug2:
      spd = spdlog::level::debug;
      break;
    case LogLevel::Debug3:
      spd = spdlog::level::trace;
      break;
  }
  spdlog::set_level(spd);
  // Loggers created before this call keep their own level; align them too.
  spdlog::apply_all(
      [spd](const std::shared_ptr<spdlog::logger>& logger) { logger->set_level(spd); });
  spdlog::set_pattern("%^%l%$: [%n] %v");
}

void configure_logging_verbosity(int verbosity, bool quiet) {
  using ssh::config::LogLevel;
  configure_logging(quiet            ? LogLevel::Quiet
                    : verbosity == 0 ? LogLevel::Info
                    : verbosity == 1 ? LogLevel::Debug1
                                     : LogLevel::Debug3);
}

}  // namespace cli
