#include "core/detect/occurrence.hpp"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace vigil::detect {

std::size_t find_some(std::string_view haystack, std::string_view needle, std::size_t from,
                      std::uint32_t* positions, std::size_t cap, std::size_t* next) noexcept {
  const std::size_t n = needle.size();
  const std::size_t size = haystack.size();
  *next = size;
  if (n == 0 || n > size || from > size - n || cap == 0) return 0;
  const char* h = haystack.data();
  const char* nd = needle.data();
  std::size_t count = 0;
  const std::size_t last_start = size - n;  // last valid match position
  std::size_t i = from;

  auto record = [&](std::size_t pos) {
    positions[count++] = static_cast<std::uint32_t>(pos);
    if (count == cap) *next = pos + 1;
    return count == cap;
  };

  // Long needles: glibc's memmem is linear (Two-Way); the first/last-byte filter below would
  // confirm every candidate with a full compare, quadratic on repetitive text ("<a <a <a ...").
  // Their occurrences are reported without overlap: a long input overlapping itself is a
  // periodic string whose extra occurrences say nothing new, and each memmem call costs the
  // needle's length, so only non-overlapping steps keep the whole search linear.
  if (n > 32) {
    while (i <= last_start) {
      const void* p = memmem(h + i, size - i, nd, n);
      if (!p) break;
      std::size_t pos = static_cast<const char*>(p) - h;
      if (record(pos)) {
        *next = pos + n;
        return count;
      }
      i = pos + n;
    }
    return count;
  }

  if (n == 1) {
    while (i <= last_start) {
      const void* p = std::memchr(h + i, nd[0], size - i);
      if (!p) break;
      std::size_t pos = static_cast<const char*>(p) - h;
      if (record(pos)) return count;
      i = pos + 1;
    }
    return count;
  }

#if defined(__SSE2__)
  // Wojciech Muła's filter: a position is a candidate when both the needle's first and last
  // bytes match; only candidates are compared in full. 16 positions per step.
  const __m128i first = _mm_set1_epi8(nd[0]);
  const __m128i last = _mm_set1_epi8(nd[n - 1]);
  while (i + 16 <= last_start + 1) {
    __m128i block_first = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i));
    __m128i block_last = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i + n - 1));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_and_si128(_mm_cmpeq_epi8(first, block_first), _mm_cmpeq_epi8(last, block_last))));
    while (mask) {
      unsigned bit = static_cast<unsigned>(__builtin_ctz(mask));
      if (n <= 2 || std::memcmp(h + i + bit + 1, nd + 1, n - 2) == 0) {
        if (record(i + bit)) return count;
      }
      mask &= mask - 1;
    }
    i += 16;
  }
#endif
  for (; i <= last_start; ++i) {
    if (h[i] == nd[0] && h[i + n - 1] == nd[n - 1] && std::memcmp(h + i, nd, n) == 0) {
      if (record(i)) return count;
    }
  }
  return count;
}

}  // namespace vigil::detect
