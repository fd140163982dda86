// Logging: one spdlog logger on stderr, human-readable lines or JSON lines.
// Plugins log through the host table and land here with their instance name.
// Nothing logged may contain a token, a key or a secret option value; callers
// redact before they log. Thread-safety: spdlog loggers are thread-safe.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace signals {

// Configures the process-wide logger. `level`: trace|debug|info|warn|error;
// `format`: human|json.
void ConfigureLogging(const std::string& level, const std::string& format);

// Logs `message` at `level` (SIGNALS_LOG_*) on behalf of `component`.
void LogFromComponent(int level, const char* component, const char* message);

}  // namespace signals
