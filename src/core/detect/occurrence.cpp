#include "core/detect/occurrence.hpp"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
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

namespace {

// common::fold_ascii of one byte.
inline char fold_byte(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return static_cast<char>(u | (static_cast<unsigned char>(u - 'A') < 26 ? 0x20 : 0));
}

// Whether needle k occurs at `pos` (its first two bytes are known to match).
inline bool rest_matches(const char* h, std::size_t size, std::size_t pos, std::string_view nd,
                         bool fold) {
  if (pos + nd.size() > size) return false;
  // Needles are short: a byte loop beats a call to memcmp.
  if (fold) {
    for (std::size_t k = 2; k < nd.size(); ++k)
      if (fold_byte(h[pos + k]) != nd[k]) return false;
    return true;
  }
  for (std::size_t k = 2; k < nd.size(); ++k)
    if (h[pos + k] != nd[k]) return false;
  return true;
}

// Records the matches of the block at i given per-needle masks of candidate positions (bit b:
// the needle's first two bytes are at i + b). Returns false when `out` is full (then *resume is
// the first position not reported).
bool record_block(const char* h, std::size_t size, const std::string_view* needles,
                  std::size_t count, std::size_t i, const std::uint32_t* masks, Match* out,
                  std::size_t cap, std::size_t* written, std::size_t* resume, bool fold) {
  // When every candidate fits in the buffer (nearly always), needle by needle.
  std::size_t candidates = 0;
  for (std::size_t k = 0; k < count; ++k)  // few bits are set: cheaper than a popcount call
    for (std::uint32_t m = masks[k]; m; m &= m - 1) ++candidates;
  if (*written + candidates <= cap) {
    for (std::size_t k = 0; k < count; ++k) {
      for (std::uint32_t m = masks[k]; m; m &= m - 1) {
        const std::size_t pos = i + static_cast<unsigned>(__builtin_ctz(m));
        if (rest_matches(h, size, pos, needles[k], fold))
          out[(*written)++] = Match{static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(pos)};
      }
    }
    return true;
  }
  // Otherwise position order first, then needle order, so that a full buffer resumes at a
  // position.
  std::uint32_t any = 0;
  for (std::size_t k = 0; k < count; ++k) any |= masks[k];
  while (any) {
    const unsigned bit = static_cast<unsigned>(__builtin_ctz(any));
    const std::size_t pos = i + bit;
    std::size_t need = 0;
    for (std::size_t k = 0; k < count; ++k)
      if ((masks[k] >> bit & 1u) && rest_matches(h, size, pos, needles[k], fold)) ++need;
    if (*written + need > cap) {
      *resume = pos;
      return false;
    }
    for (std::size_t k = 0; k < count; ++k)
      if ((masks[k] >> bit & 1u) && rest_matches(h, size, pos, needles[k], fold))
        out[(*written)++] = Match{static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(pos)};
    any &= any - 1;
  }
  return true;
}

#if defined(__x86_64__)
// fold_byte of 32 bytes (when `fold`): signed compares, so bytes >= 0x80 stay as they are.
__attribute__((target("avx2"), always_inline)) inline __m256i fold_avx2(__m256i b, bool fold) {
  if (!fold) return b;
  const __m256i upper = _mm256_and_si256(_mm256_cmpgt_epi8(b, _mm256_set1_epi8('A' - 1)),
                                         _mm256_cmpgt_epi8(_mm256_set1_epi8('Z' + 1), b));
  return _mm256_or_si256(b, _mm256_and_si256(upper, _mm256_set1_epi8(0x20)));
}

// The candidate masks of a block (positions outside `keep` dropped), the needles that have any
// (bit k: needle k) and their total count.
__attribute__((target("avx2,popcnt"), always_inline)) inline std::uint32_t block_masks_avx2(
    __m256i b0, __m256i b1, const __m256i* first, const __m256i* second, std::size_t count,
    std::uint32_t keep, std::uint32_t* masks, std::size_t* candidates) {
  std::uint32_t which = 0;
  std::size_t total = 0;
  for (std::size_t k = 0; k < count; ++k) {
    masks[k] = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_and_si256(
                   _mm256_cmpeq_epi8(b0, first[k]), _mm256_cmpeq_epi8(b1, second[k])))) &
               keep;
    which |= std::uint32_t(masks[k] != 0) << k;
    total += static_cast<std::size_t>(__builtin_popcount(masks[k]));
  }
  *candidates = total;
  return which;
}

// record_block for the usual block: its candidates fit in `out`, so they are recorded needle by
// needle, visiting only the needles that have any.
inline void record_needles(const char* h, std::size_t size, const std::string_view* needles,
                           std::size_t i, std::uint32_t which, const std::uint32_t* masks,
                           Match* out, std::size_t* written, bool fold) {
  for (; which; which &= which - 1) {
    const std::size_t k = static_cast<unsigned>(__builtin_ctz(which));
    for (std::uint32_t m = masks[k]; m; m &= m - 1) {
      const std::size_t pos = i + static_cast<unsigned>(__builtin_ctz(m));
      if (rest_matches(h, size, pos, needles[k], fold))
        out[(*written)++] = Match{static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(pos)};
    }
  }
}

// record_needles for a block whose every candidate surely fits in `out` (32 per needle): each
// needle's mask is recorded as it is made, without first counting the candidates.
__attribute__((target("avx2"), always_inline)) inline void record_direct_avx2(
    const char* h, std::size_t size, const std::string_view* needles, std::size_t i, __m256i b0,
    __m256i b1, const __m256i* first, const __m256i* second, std::size_t count,
    std::uint32_t keep, Match* out, std::size_t* written, bool fold) {
  for (std::size_t k = 0; k < count; ++k) {
    std::uint32_t m = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_and_si256(
                          _mm256_cmpeq_epi8(b0, first[k]), _mm256_cmpeq_epi8(b1, second[k])))) &
                      keep;
    for (; m; m &= m - 1) {
      const std::size_t pos = i + static_cast<unsigned>(__builtin_ctz(m));
      if (rest_matches(h, size, pos, needles[k], fold))
        out[(*written)++] = Match{static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(pos)};
    }
  }
}

// kCount > 0: exactly that many needles, for the usual few (one per input of a small request),
// so that the loops over needles unroll and their byte vectors stay in registers; 0: any count.
template <std::size_t kCount>
__attribute__((target("avx2,popcnt"))) std::size_t batch_avx2(const char* h, std::size_t size,
                                                              const std::string_view* needles,
                                                              std::size_t any_count,
                                                              std::size_t* i_io, Match* out,
                                                              std::size_t cap, std::size_t* resume,
                                                              bool fold) {
  const std::size_t count = kCount > 0 ? kCount : any_count;
  __m256i first[kCount > 0 ? kCount : kMaxBatch], second[kCount > 0 ? kCount : kMaxBatch];
  for (std::size_t k = 0; k < count; ++k) {
    first[k] = _mm256_set1_epi8(needles[k][0]);
    second[k] = _mm256_set1_epi8(needles[k][1]);
  }
  std::size_t written = 0, i = *i_io;
  for (; i + 33 <= size; i += 32) {
    const __m256i b0 = fold_avx2(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i)), fold);
    const __m256i b1 =
        fold_avx2(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i + 1)), fold);
    __m256i acc = _mm256_setzero_si256();
    for (std::size_t k = 0; k < count; ++k)
      acc = _mm256_or_si256(acc, _mm256_and_si256(_mm256_cmpeq_epi8(b0, first[k]),
                                                  _mm256_cmpeq_epi8(b1, second[k])));
    if (_mm256_testz_si256(acc, acc)) continue;
    if (written + 32 * count <= cap) {
      record_direct_avx2(h, size, needles, i, b0, b1, first, second, count, ~0u, out, &written,
                         fold);
      continue;
    }
    std::uint32_t masks[kMaxBatch];
    std::size_t candidates;
    const std::uint32_t which =
        block_masks_avx2(b0, b1, first, second, count, ~0u, masks, &candidates);
    if (written + candidates <= cap) {
      record_needles(h, size, needles, i, which, masks, out, &written, fold);
      continue;
    }
    if (!record_block(h, size, needles, count, i, masks, out, cap, &written, resume, fold)) {
      *i_io = i;
      return written;
    }
  }
  // The last positions: one more block that ends at the text's end, without the positions the
  // loop already did (a scalar tail would cost more than the whole loop on short texts).
  if (size >= 33 && i + 1 < size) {
    const std::size_t j = size - 33;
    const __m256i b0 = fold_avx2(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + j)), fold);
    const __m256i b1 =
        fold_avx2(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + j + 1)), fold);
    const std::uint32_t done = (1u << (i - j)) - 1;  // i - j < 32
    if (written + 32 * count <= cap) {
      record_direct_avx2(h, size, needles, j, b0, b1, first, second, count, ~done, out, &written,
                         fold);
    } else {
      std::uint32_t masks[kMaxBatch];
      std::size_t candidates;
      const std::uint32_t which =
          block_masks_avx2(b0, b1, first, second, count, ~done, masks, &candidates);
      if (written + candidates <= cap) {
        record_needles(h, size, needles, j, which, masks, out, &written, fold);
      } else if (!record_block(h, size, needles, count, j, masks, out, cap, &written, resume,
                               fold)) {
        *i_io = *resume;
        return written;
      }
    }
    i = size;
  }
  *i_io = i;
  *resume = size;
  return written;
}
#endif

#if defined(__SSE2__)
// fold_byte of 16 bytes (when `fold`), as fold_avx2.
inline __m128i fold_sse2(__m128i b, bool fold) {
  if (!fold) return b;
  const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(b, _mm_set1_epi8('A' - 1)),
                                      _mm_cmpgt_epi8(_mm_set1_epi8('Z' + 1), b));
  return _mm_or_si128(b, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
}
#endif

}  // namespace

std::size_t find_batch(std::string_view haystack, const std::string_view* needles,
                       std::size_t count, std::size_t from, Match* out, std::size_t cap,
                       std::size_t* next, bool fold) noexcept {
  const char* h = haystack.data();
  const std::size_t size = haystack.size();
  *next = size;
  if (count == 0 || count > kMaxBatch || cap < count || size < 2) return 0;
  std::size_t written = 0, i = from, resume = size;
#if defined(__x86_64__)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) {
    switch (count) {
      case 1: written = batch_avx2<1>(h, size, needles, count, &i, out, cap, &resume, fold); break;
      case 2: written = batch_avx2<2>(h, size, needles, count, &i, out, cap, &resume, fold); break;
      case 3: written = batch_avx2<3>(h, size, needles, count, &i, out, cap, &resume, fold); break;
      case 4: written = batch_avx2<4>(h, size, needles, count, &i, out, cap, &resume, fold); break;
      default: written = batch_avx2<0>(h, size, needles, count, &i, out, cap, &resume, fold);
    }
    if (resume < size) {
      *next = resume;
      return written;
    }
    if (i >= size) return written;
  }
#endif
#if defined(__SSE2__)
  {
    __m128i first[kMaxBatch], second[kMaxBatch];
    for (std::size_t k = 0; k < count; ++k) {
      first[k] = _mm_set1_epi8(needles[k][0]);
      second[k] = _mm_set1_epi8(needles[k][1]);
    }
    for (; i + 17 <= size; i += 16) {
      const __m128i b0 = fold_sse2(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i)), fold);
      const __m128i b1 =
          fold_sse2(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i + 1)), fold);
      __m128i acc = _mm_setzero_si128();
      for (std::size_t k = 0; k < count; ++k)
        acc = _mm_or_si128(acc, _mm_and_si128(_mm_cmpeq_epi8(b0, first[k]),
                                              _mm_cmpeq_epi8(b1, second[k])));
      if (_mm_movemask_epi8(acc) == 0) continue;
      std::uint32_t masks[kMaxBatch];
      for (std::size_t k = 0; k < count; ++k)
        masks[k] = static_cast<std::uint32_t>(_mm_movemask_epi8(
            _mm_and_si128(_mm_cmpeq_epi8(b0, first[k]), _mm_cmpeq_epi8(b1, second[k]))));
      if (!record_block(h, size, needles, count, i, masks, out, cap, &written, &resume, fold)) {
        *next = resume;
        return written;
      }
    }
    if (size >= 17 && i + 1 < size) {  // the last positions, as in batch_avx2
      const std::size_t j = size - 17;
      const __m128i b0 = fold_sse2(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + j)), fold);
      const __m128i b1 =
          fold_sse2(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + j + 1)), fold);
      const std::uint32_t done = (1u << (i - j)) - 1;  // i - j < 16
      std::uint32_t masks[kMaxBatch];
      for (std::size_t k = 0; k < count; ++k)
        masks[k] = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_and_si128(
                       _mm_cmpeq_epi8(b0, first[k]), _mm_cmpeq_epi8(b1, second[k])))) &
                   ~done;
      if (!record_block(h, size, needles, count, j, masks, out, cap, &written, &resume, fold)) {
        *next = resume;
        return written;
      }
      i = size;
    }
  }
#endif
  // The tail (and machines without SSE2): one position at a time.
  for (; i + 1 < size; ++i) {
    std::uint32_t masks[kMaxBatch];
    const char c0 = fold ? fold_byte(h[i]) : h[i];
    const char c1 = fold ? fold_byte(h[i + 1]) : h[i + 1];
    for (std::size_t k = 0; k < count; ++k)
      masks[k] = c0 == needles[k][0] && c1 == needles[k][1];
    if (!record_block(h, size, needles, count, i, masks, out, cap, &written, &resume, fold)) {
      *next = resume;
      return written;
    }
  }
  return written;
}

}  // namespace vigil::detect
