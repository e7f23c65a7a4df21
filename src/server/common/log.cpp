#include "server/common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <string>

namespace vigil::server {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
}

void set_log_level(LogLevel level) noexcept { g_level = static_cast<int>(level); }

bool log_enabled(LogLevel level) noexcept { return static_cast<int>(level) >= g_level; }

void log(LogLevel level, std::string_view message) noexcept {
  if (!log_enabled(level)) return;
  static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
  try {
    std::string line = "vigild: ";
    if (level != LogLevel::kInfo) line += std::string(kNames[static_cast<int>(level)]) + ": ";
    // One write() per line: lines of concurrent threads do not interleave.
    for (char c : message) line += (c == '\n' || c == '\r') ? ' ' : c;
    line += '\n';
    ssize_t ignored = ::write(2, line.data(), line.size());
    (void)ignored;
  } catch (...) {
  }
}

}  // namespace vigil::server
