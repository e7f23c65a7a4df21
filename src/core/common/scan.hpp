// Byte scans shared by the HTTP parsers (the request parser and the agent's response tracker).
#ifndef VIGIL_CORE_COMMON_SCAN_HPP_
#define VIGIL_CORE_COMMON_SCAN_HPP_

#include <cstddef>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace vigil::common {

// Calls `at(pos)` for each position of `byte` in d[from, n), in ascending order, until a call
// returns something other than npos; returns that, or npos when none did. Where the CPU can,
// 16 bytes are compared at a time: a header block's line feeds cost one compare per 16 bytes
// instead of a memchr call per line.
template <class At>
[[gnu::always_inline]] inline std::size_t for_each_byte(const char* d, std::size_t from,
                                                        std::size_t n, char byte, At&& at) {
  constexpr std::size_t kNpos = std::string_view::npos;
  std::size_t p = from;
#if defined(__SSE2__)
  if (n >= 16 && p < n) {
    const __m128i wanted = _mm_set1_epi8(byte);
    for (;;) {
      // The last block is loaded overlapping the one before; bytes already seen are masked.
      std::size_t block = p + 16 <= n ? p : n - 16;
      auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + block)), wanted)));
      mask &= ~0u << (p - block);
      for (; mask != 0; mask &= mask - 1) {
        std::size_t r = at(block + static_cast<std::size_t>(__builtin_ctz(mask)));
        if (r != kNpos) return r;
      }
      p = block + 16;
      if (p >= n) return kNpos;
    }
  }
#endif
  for (; p < n; ++p) {
    const void* hit = std::memchr(d + p, byte, n - p);
    if (hit == nullptr) break;
    p = static_cast<std::size_t>(static_cast<const char*>(hit) - d);
    std::size_t r = at(p);
    if (r != kNpos) return r;
  }
  return kNpos;
}

}  // namespace vigil::common

#endif  // VIGIL_CORE_COMMON_SCAN_HPP_
