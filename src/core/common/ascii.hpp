// ASCII helpers that never depend on the C locale (the host program may have set any).
#ifndef VIGIL_CORE_COMMON_ASCII_HPP_
#define VIGIL_CORE_COMMON_ASCII_HPP_

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace vigil::common {

constexpr char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}
constexpr bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(char c) noexcept { return is_alpha(c) || is_digit(c); }
constexpr bool is_xdigit(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr int hex_value(char c) noexcept {
  return is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                               : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}
// Space as most languages see it: SP, TAB, LF, VT, FF, CR.
constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Case-insensitive ASCII equality.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  return true;
}
constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Lower-cases ASCII letters of `in` into `out` (same length). `out` may alias `in`.
void fold_ascii(const char* in, std::size_t n, char* out) noexcept;
// The position of the first byte of `s` at or after `from` that is one of `set`'s bytes, or
// npos: string_view::find_first_of with one pass over `s` (libstdc++'s calls memchr on `set`
// for every byte of `s`, which dominated the parsing of headers).
constexpr std::size_t find_any(std::string_view s, std::string_view set,
                               std::size_t from = 0) noexcept {
  if (set.size() == 1) return s.find(set[0], from);
  if (set.size() <= 4) {  // compares beat building a table
    for (std::size_t i = from; i < s.size(); ++i)
      for (char c : set)
        if (s[i] == c) return i;
    return std::string_view::npos;
  }
  bool in_set[256] = {};
  for (char c : set) in_set[static_cast<unsigned char>(c)] = true;
  for (std::size_t i = from; i < s.size(); ++i)
    if (in_set[static_cast<unsigned char>(s[i])]) return i;
  return std::string_view::npos;
}

// The OR of table[b] over the bytes b of `s`: which classes of bytes a value holds, in one
// pass. Four independent accumulators let the CPU overlap the table loads.
template <class T>
constexpr T or_over_bytes(const std::array<T, 256>& table, std::string_view s) noexcept {
  T a = 0, b = 0, c = 0, d = 0;
  std::size_t n = s.size(), i = 0;
  for (; i + 4 <= n; i += 4) {
    a |= table[static_cast<unsigned char>(s[i])];
    b |= table[static_cast<unsigned char>(s[i + 1])];
    c |= table[static_cast<unsigned char>(s[i + 2])];
    d |= table[static_cast<unsigned char>(s[i + 3])];
  }
  for (; i < n; ++i) a |= table[static_cast<unsigned char>(s[i])];
  return static_cast<T>(a | b | c | d);
}

std::string folded(std::string_view s);

// Strips leading and trailing is_space() characters.
constexpr std::string_view trim(std::string_view s) noexcept {
  std::size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// `s` cut to at most `max` bytes without splitting a UTF-8 sequence, with "…" when cut.
std::string truncate_utf8(std::string_view s, std::size_t max);

}  // namespace vigil::common

#endif  // VIGIL_CORE_COMMON_ASCII_HPP_
