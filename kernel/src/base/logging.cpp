#include "base/logging.hpp"

#include <signals/plugin.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <nlohmann/json.hpp>

namespace signals {
namespace {

spdlog::level::level_enum LevelOf(const std::string& level) {
  if (level == "trace") return spdlog::level::trace;
  if (level == "debug") return spdlog::level::debug;
  if (level == "warn") return spdlog::level::warn;
  if (level == "error") return spdlog::level::err;
  return spdlog::level::info;
}

bool g_json = false;

}  // namespace

void ConfigureLogging(const std::string& level, const std::string& format) {
  auto logger = spdlog::stderr_logger_mt("signals");
  spdlog::set_default_logger(logger);
  g_json = format == "json";
  // JSON lines carry the message already escaped; see LogFromComponent.
  spdlog::set_pattern(g_json ? "%v" : "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(LevelOf(level));
}

void LogFromComponent(int level, const char* component, const char* message) {
  spdlog::level::level_enum l = spdlog::level::info;
  switch (level) {
    case SIGNALS_LOG_TRACE:
      l = spdlog::level::trace;
      break;
    case SIGNALS_LOG_DEBUG:
      l = spdlog::level::debug;
      break;
    case SIGNALS_LOG_INFO:
      l = spdlog::level::info;
      break;
    case SIGNALS_LOG_WARN:
      l = spdlog::level::warn;
      break;
    default:
      l = spdlog::level::err;
      break;
  }
  if (g_json) {
    nlohmann::json line = {{"level", spdlog::level::to_string_view(l).data()},
                           {"component", component ? component : ""},
                           {"message", message ? message : ""}};
    spdlog::log(l, "{}", line.dump());
  } else {
    spdlog::log(l, "[{}] {}", component ? component : "", message ? message : "");
  }
}

}  // namespace signals
