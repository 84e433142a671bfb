#include "ssh/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>
#include <string>

namespace ssh::log {

std::shared_ptr<spdlog::logger> get(std::string_view layer) {
  std::string name = "ssh.";
  name.append(layer);
  if (auto existing = spdlog::get(name)) return existing;

  // Two threads may both miss above; the lock makes only one of them create
  // the logger (spdlog::register_logger throws on a duplicate name).
  static std::mutex creation_mutex;
  std::lock_guard lock(creation_mutex);
  if (auto existing = spdlog::get(name)) return existing;
  // One sink shared by all our loggers keeps their lines from interleaving.
  static const auto stderr_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(name, stderr_sink);
  logger->set_level(spdlog::get_level());
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace ssh::log
