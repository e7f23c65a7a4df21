// The names vigild accepts from outside (application names, user names, ...): short, printable
// and safe in URLs, logs, SQL parameters and every export format.
#ifndef VIGIL_SERVER_COMMON_NAMES_HPP_
#define VIGIL_SERVER_COMMON_NAMES_HPP_

#include <string>
#include <string_view>

namespace vigil::server {

// 1-64 of [A-Za-z0-9._-], starting with a letter or digit.
bool valid_app_name(std::string_view name) noexcept;
// 1-64 of [A-Za-z0-9._@-].
bool valid_username(std::string_view name) noexcept;
// Well-formed UTF-8 without C0 control characters other than tab (and newline when allowed).
bool printable_utf8(std::string_view text, bool allow_newlines = false) noexcept;
// A textual IPv4 or IPv6 address (inet_pton).
bool valid_ip(std::string_view text) noexcept;

// `text` cut to at most `max` bytes, never inside a UTF-8 sequence.
std::string truncate_utf8(std::string_view text, std::size_t max);

}  // namespace vigil::server

#endif  // VIGIL_SERVER_COMMON_NAMES_HPP_
