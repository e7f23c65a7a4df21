// Small text helpers shared by the formatters and transports: UTF-8-safe truncation, JSON
// string escaping that always yields valid UTF-8, RFC 3339 times, and bounded copies.
// Every function is linear in its input and never throws except std::bad_alloc.
#ifndef VIGIL_EXPORT_TEXT_HPP_
#define VIGIL_EXPORT_TEXT_HPP_

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::exports {

// The longest prefix of `s` of at most `max` bytes that does not cut a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t max) noexcept;

// Appends `s` as a JSON string literal (quotes included). Control characters are escaped,
// invalid UTF-8 becomes U+FFFD, so the output is always valid JSON and valid UTF-8.
void append_json_string(std::string* out, std::string_view s);

// Appends `s` with every byte outside printable ASCII and valid UTF-8 text replaced: control
// characters (incl. CR, LF, TAB) by a space, invalid UTF-8 by U+FFFD. For header-like fields
// that must stay on one line.
void append_single_line(std::string* out, std::string_view s);

// Length of the valid UTF-8 sequence starting at s[i] (1 for ASCII), or 0 when the bytes there
// are not valid UTF-8 (overlong, surrogate, beyond U+10FFFF, cut short).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept;

// Appends `s`, calling on_ascii(out, c) for each ASCII byte (it appends what it wants),
// copying valid multi-byte UTF-8 sequences, and replacing invalid bytes by U+FFFD.
template <class OnAscii>
void append_utf8_escaped(std::string* out, std::string_view s, OnAscii on_ascii) {
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      on_ascii(out, static_cast<char>(c));
      ++i;
      continue;
    }
    std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out->append("\xEF\xBF\xBD");
      ++i;
    } else {
      out->append(s.substr(i, n));
      i += n;
    }
  }
}

// Milliseconds since the epoch for an RFC 3339 time ("2026-11-26T03:12:45.123Z",
// "...+02:00"); false when `s` is not one.
bool parse_rfc3339_ms(std::string_view s, std::int64_t* ms) noexcept;

// "2026-11-26T03:12:45.123Z" for `ms` since the epoch (UTC, milliseconds).
std::string format_rfc3339_ms(std::int64_t ms);

// Milliseconds since the epoch, now (system clock).
std::int64_t now_ms() noexcept;

// This machine's host name, printable ASCII without spaces, at most 255 bytes ("-" if none).
const std::string& local_hostname();

}  // namespace vigil::exports

#endif  // VIGIL_EXPORT_TEXT_HPP_
