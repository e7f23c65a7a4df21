// Times in vigild: milliseconds since the Unix epoch (UTC) inside, RFC 3339 outside.
#ifndef VIGIL_SERVER_COMMON_TIME_HPP_
#define VIGIL_SERVER_COMMON_TIME_HPP_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::server {

// Wall-clock now, ms since the epoch.
std::int64_t now_ms() noexcept;

// Parses an RFC 3339 date-time ("2026-11-26T03:12:45.123Z", "...+02:00", fractional seconds of
// any length, 'T' or ' ' separator, 'z' accepted). Returns nullopt on anything else.
std::optional<std::int64_t> parse_rfc3339(std::string_view text) noexcept;

// Formats as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string format_rfc3339(std::int64_t ms);
// Formats as "YYYY-MM-DDTHH:MM:SSZ" (whole seconds: the policy documents' form).
std::string format_rfc3339_seconds(std::int64_t ms);

// Parses a duration: "90s", "15m", "24h", "7d" or a plain number of seconds. nullopt if bad.
std::optional<std::int64_t> parse_duration_ms(std::string_view text) noexcept;

}  // namespace vigil::server

#endif  // VIGIL_SERVER_COMMON_TIME_HPP_
