// ASCII helpers that never depend on the C locale (the host program may have set any).
#ifndef VIGIL_CORE_COMMON_ASCII_HPP_
#define VIGIL_CORE_COMMON_ASCII_HPP_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

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

namespace detail {
// The eight bytes at `p` with their ASCII capitals lower-cased, the others as they are. A byte's
// high bit in `ge_a` says its low seven bits are >= 'A', in `gt_z` that they are > 'Z' (no sum
// carries into the next byte: 0x7F + 0x3F < 0x100).
inline std::uint64_t fold8(const char* p) noexcept {
  std::uint64_t x;
  std::memcpy(&x, p, sizeof x);
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const std::uint64_t low7 = x & ~kHigh;
  const std::uint64_t ge_a = low7 + 0x3F3F3F3F3F3F3F3FULL;
  const std::uint64_t gt_z = low7 + 0x2525252525252525ULL;
  const std::uint64_t capital = ~x & (ge_a ^ gt_z) & kHigh;
  return x | (capital >> 2);
}
}  // namespace detail

// Case-insensitive ASCII equality. Eight bytes at a time from eight on: a byte at a time it was
// half of the work on a form POST's headers ("application/x-www-form-urlencoded" is 33 bytes).
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  const std::size_t n = a.size();
  if (!std::is_constant_evaluated() && n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (detail::fold8(a.data() + i) != detail::fold8(b.data() + i)) return false;
    return detail::fold8(a.data() + n - 8) == detail::fold8(b.data() + n - 8);  // the last 8
  }
  for (std::size_t i = 0; i < n; ++i)
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

// The length of the well-formed UTF-8 sequence that starts at s[i] (1 for ASCII), or 0 when
// none does (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF, no sequence cut
// short). i < s.size().
std::size_t utf8_length_at(std::string_view s, std::size_t i) noexcept;

// Whether `s` is well-formed UTF-8 (utf8_length_at), as a decoder that replaces what is not with
// U+FFFD would leave it unchanged.
bool is_utf8(std::string_view s) noexcept;

}  // namespace vigil::common

#endif  // VIGIL_CORE_COMMON_ASCII_HPP_
