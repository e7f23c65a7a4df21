// vigild's log: one line per message on standard error, "vigild: LEVEL: message". Thread-safe.
#ifndef VIGIL_SERVER_COMMON_LOG_HPP_
#define VIGIL_SERVER_COMMON_LOG_HPP_

#include <string_view>

namespace vigil::server {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

void set_log_level(LogLevel level) noexcept;
bool log_enabled(LogLevel level) noexcept;
void log(LogLevel level, std::string_view message) noexcept;

inline void log_info(std::string_view m) noexcept { log(LogLevel::kInfo, m); }
inline void log_warning(std::string_view m) noexcept { log(LogLevel::kWarning, m); }
inline void log_error(std::string_view m) noexcept { log(LogLevel::kError, m); }

}  // namespace vigil::server

#endif  // VIGIL_SERVER_COMMON_LOG_HPP_
