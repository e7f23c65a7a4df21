// Case-insensitive compares against names known at compile time (header and field names),
// a few 8-byte word compares instead of folding the bytes first.
#ifndef VIGIL_CORE_COMMON_KNOWN_NAME_HPP_
#define VIGIL_CORE_COMMON_KNOWN_NAME_HPP_

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace vigil::common {

// A name as a template argument (lower case): its bytes become constants.
template <std::size_t N>
struct KnownName {
  char text[N];
  consteval KnownName(const char (&s)[N]) {
    for (std::size_t i = 0; i < N; ++i) text[i] = s[i];
  }
  static constexpr std::size_t size = N - 1;
};

namespace detail {

// Bytes [at, at + len) of a known name as a little word (as memcpy loads them), and the mask
// with 0x20 at each letter. `word | mask == known` holds exactly when every letter matches in
// either case and every other byte matches itself: 'A' | 0x20 == 'a', and nothing else is (a
// CR never passes for a '-').
template <KnownName L, std::size_t At, std::size_t Len>
[[gnu::always_inline]] inline bool word_matches(const char* p) {
  constexpr std::uint64_t known = [] {
    std::array<char, 8> b{};
    for (std::size_t i = 0; i < Len; ++i) b[i] = L.text[At + i];
    return std::bit_cast<std::uint64_t>(b);
  }();
  constexpr std::uint64_t mask = [] {
    std::array<char, 8> b{};
    for (std::size_t i = 0; i < Len; ++i) {
      const char c = L.text[At + i];
      b[i] = c >= 'a' && c <= 'z' ? 0x20 : 0;
    }
    return std::bit_cast<std::uint64_t>(b);
  }();
  std::uint64_t w = 0;
  std::memcpy(&w, p + At, Len);
  return (w | mask) == known;
}

}  // namespace detail

// Case-insensitive: do the L.size bytes at `p` (all readable) spell L?
template <KnownName L>
[[gnu::always_inline]] inline bool iequals_known(const char* p) {
  constexpr std::size_t n = L.size;
  static_assert(n >= 1 && n <= 32 && L.text[n] == '\0');
  using detail::word_matches;
  if constexpr (n <= 8) {
    return word_matches<L, 0, n>(p);
  } else if constexpr (n <= 16) {
    return word_matches<L, 0, 8>(p) && word_matches<L, n - 8, 8>(p);
  } else if constexpr (n <= 24) {
    return word_matches<L, 0, 8>(p) && word_matches<L, 8, 8>(p) && word_matches<L, n - 8, 8>(p);
  } else {
    return word_matches<L, 0, 8>(p) && word_matches<L, 8, 8>(p) &&
           word_matches<L, 16, 8>(p) && word_matches<L, n - 8, 8>(p);
  }
}

// Case-insensitive: does `s` start with L?
template <KnownName L>
[[gnu::always_inline]] inline bool istarts_with_known(std::string_view s) {
  return s.size() >= L.size && iequals_known<L>(s.data());
}

}  // namespace vigil::common

#endif  // VIGIL_CORE_COMMON_KNOWN_NAME_HPP_
