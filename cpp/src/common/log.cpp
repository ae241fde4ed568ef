#include "hptrain/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include "hptrain/error.h"

namespace hptrain::log {

void init(const std::string& level) {
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    throw ConfigError("--log-level '" + level +
                      "': must be one of trace, debug, info, warn, error, off");
  }
  spdlog::drop("hptrain");
  auto logger = spdlog::stderr_color_mt("hptrain");
  logger->set_pattern("[%H:%M:%S] [%^%l%$] %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
}

}  // namespace hptrain::log
