// Logging for hptrain: spdlog to stderr. Use HP_LOG_INFO("x = {}", x) etc.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

#define HP_LOG_TRACE(...) ::spdlog::trace(__VA_ARGS__)
#define HP_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define HP_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define HP_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define HP_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)

namespace hptrain::log {

// Sends all logging to stderr at `level` (trace, debug, info, warn, error, off).
// Throws ConfigError for an unknown level.
void init(const std::string& level);

}  // namespace hptrain::log
