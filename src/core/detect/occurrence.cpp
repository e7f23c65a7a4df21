#include "core/detect/occurrence.hpp"

#include <algorithm>
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

// Whether needle k occurs at `pos` (its first two bytes are known to match). `case_bit` is 0x20
// to compare as if the text were folded (fold_byte), else 0: one loop for both.
inline bool rest_matches(const char* h, std::size_t size, std::size_t pos, std::string_view nd,
                         unsigned char case_bit) {
  if (pos + nd.size() > size) return false;
  // Needles are short: a byte loop beats a call to memcmp.
  for (std::size_t k = 2; k < nd.size(); ++k) {
    const unsigned char u = static_cast<unsigned char>(h[pos + k]);
    const unsigned char folded = u | (static_cast<unsigned char>(u - 'A') < 26 ? case_bit : 0);
    if (folded != static_cast<unsigned char>(nd[k])) return false;
  }
  return true;
}

// One find_batch call's text, needles and output, as the block recorder sees them.
struct BatchOut {
  const char* h;
  std::size_t size;
  const std::string_view* needles;
  std::size_t count;
  Match* out;
  std::size_t cap;
  std::size_t written;
  std::size_t* resume;  // the first position not reported, when `out` fills up
  unsigned char case_bit;  // 0x20 when folding
};

// Records the matches of the block at i given per-needle masks of candidate positions (bit b:
// the needle's first two bytes are at i + b). Returns false when the output is full (then
// *resume is the first position not reported). Out of line: the batch loops call it only for a
// block with candidates.
__attribute__((noinline, aligned(64))) bool record_block(BatchOut* b, std::size_t i,
                                                        const std::uint32_t* masks) {
  const char* h = b->h;
  const std::size_t size = b->size, count = b->count;
  // When every candidate fits in the buffer (nearly always), needle by needle; a block has at
  // most 32 per needle, so that needs no count in the usual case.
  std::size_t candidates = 32 * count;
  if (b->written + candidates > b->cap) [[unlikely]] {
    candidates = 0;
    for (std::size_t k = 0; k < count; ++k)  // few bits are set: cheaper than a popcount call
      for (std::uint32_t m = masks[k]; m; m &= m - 1) ++candidates;
  }
  if (b->written + candidates <= b->cap) [[likely]] {
    for (std::size_t k = 0; k < count; ++k) {
      for (std::uint32_t m = masks[k]; m; m &= m - 1) {
        const std::size_t pos = i + static_cast<unsigned>(__builtin_ctz(m));
        if (rest_matches(h, size, pos, b->needles[k], b->case_bit))
          b->out[b->written++] =
              Match{static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(pos)};
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
      if ((masks[k] >> bit & 1u) && rest_matches(h, size, pos, b->needles[k], b->case_bit))
        ++need;
    if (b->written + need > b->cap) {
      *b->resume = pos;
      return false;
    }
    for (std::size_t k = 0; k < count; ++k)
      if ((masks[k] >> bit & 1u) && rest_matches(h, size, pos, b->needles[k], b->case_bit))
        b->out[b->written++] =
            Match{static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(pos)};
    any &= any - 1;
  }
  return true;
}

#if defined(__x86_64__)
// Read once at load time rather than behind a guard on every call.
const bool kHaveAvx2 = [] {
  __builtin_cpu_init();  // may run before libgcc's own constructor
  return __builtin_cpu_supports("avx2") != 0;
}();

// 32 bytes at p, with fold_byte applied when case_bit is 0x20 (no branch): bytes 'A'..'Z'
// moved to -128..-103 are the ones below -102.
__attribute__((target("avx2"), always_inline)) inline __m256i load_avx2(const char* p,
                                                                       __m256i case_bit) {
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i upper = _mm256_cmpgt_epi8(_mm256_set1_epi8(static_cast<char>(0x80 + 26)),
                                          _mm256_add_epi8(b, _mm256_set1_epi8(0x80 - 'A')));
  return _mm256_or_si256(b, _mm256_and_si256(upper, case_bit));
}

// find_batch for texts of 33 bytes or more: 32 positions per block from `from`, the last block
// moved back to end at the text's end (the positions already done masked off). The loop is kept
// small (a loop over the needles, a block's candidates recorded out of line by record_block):
// its code is read from memory on nearly every call, as the application's code runs in between.
__attribute__((target("avx2"), aligned(64))) std::size_t batch_avx2(
    const char* h, std::size_t size, const std::string_view* needles, std::size_t count,
    std::size_t from, Match* out, std::size_t cap, std::size_t* next, bool fold) {
  *next = size;
  __m256i first[kMaxBatch], second[kMaxBatch];
  for (std::size_t k = 0; k < count; ++k) {
    first[k] = _mm256_set1_epi8(needles[k][0]);
    second[k] = _mm256_set1_epi8(needles[k][1]);
  }
  const __m256i case_bit = _mm256_set1_epi8(fold ? 0x20 : 0);
  const unsigned char fold_bit = fold ? 0x20 : 0;
  BatchOut b{h, size, needles, count, out, cap, 0, next, fold_bit};
  std::uint32_t keep = ~0u;
  for (std::size_t i = from; i + 1 < size;) {
    std::size_t j = i;
    if (size - i < 33) {
      j = size - 33;
      keep = ~0u << (i - j);  // i - j < 32
    }
    const __m256i b0 = load_avx2(h + j, case_bit), b1 = load_avx2(h + j + 1, case_bit);
    std::uint32_t masks[kMaxBatch];
    std::uint32_t any = 0;
    for (std::size_t k = 0; k < count; ++k) {
      masks[k] = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_and_si256(
                     _mm256_cmpeq_epi8(b0, first[k]), _mm256_cmpeq_epi8(b1, second[k])))) &
                 keep;
      any |= masks[k];
    }
    if (any != 0 && !record_block(&b, j, masks)) return b.written;
    i = j + 32;
  }
  return b.written;
}

// find_batch from the text's start for up to four needles in a text of up to 1 KiB (nearly every
// sink call: one to three inputs in a statement or a path), needle by needle: each one's first
// and last bytes filter 32 positions per step, in a loop of a few code lines that reads no
// arrays of needles or masks. That is less code to run and to read from memory than batch_avx2
// and record_block (the application's code runs between sink calls and evicts it). It writes
// exactly what batch_avx2 writes, in the same order (order_like_blocks); kCannot when it cannot
// (a needle too long for the text; more matches than batch_avx2 writes in needle order): then
// batch_avx2 takes the call.
constexpr std::size_t kFewNeedles = 4;
constexpr std::size_t kFewMaxText = 1024;
constexpr std::size_t kCannot = ~std::size_t{0};

// Puts the matches of several needles, written needle by needle, in batch_avx2's order: by its
// 32-byte block (the last one, moved back to end at the text's end, holds every position from
// where the blocks before it stop), then by needle, then by position. Out of line: nearly
// always one needle at most has matches.
__attribute__((noinline, cold)) void order_like_blocks(Match* out, std::size_t n,
                                                      std::size_t size) {
  const std::uint32_t last = static_cast<std::uint32_t>((size - 33) / 32 + 1);
  std::sort(out, out + n, [last](const Match& a, const Match& b) {
    const std::uint32_t ba = std::min(a.position / 32, last), bb = std::min(b.position / 32, last);
    if (ba != bb) return ba < bb;
    if (a.needle != b.needle) return a.needle < b.needle;
    return a.position < b.position;
  });
}

__attribute__((target("avx2"), aligned(64))) std::size_t few_avx2(
    const char* h, std::size_t size, const std::string_view* needles, std::size_t count,
    Match* out, std::size_t cap, bool fold) {
  // batch_avx2 writes a block's matches needle by needle while room for 32 per needle is left:
  // within that room, the order below is its order.
  if (cap < 32 * count) return kCannot;
  const std::size_t room = cap - 32 * count;
  const __m256i case_bit = _mm256_set1_epi8(fold ? 0x20 : 0);
  const unsigned char fold_bit = fold ? 0x20 : 0;
  std::size_t written = 0;
  std::size_t matched = 0;  // needles with matches
  for (std::size_t k = 0; k < count; ++k) {
    const char* nd = needles[k].data();
    const std::size_t n = needles[k].size();
    // Positions 0 .. end - 1 in blocks of 32; the last block ends at the last position.
    const std::size_t end = size - n + 1;
    if (end < 32) return kCannot;
    const __m256i first = _mm256_set1_epi8(nd[0]), last = _mm256_set1_epi8(nd[n - 1]);
    const std::size_t before = written;
    std::uint32_t keep = ~0u;
    for (std::size_t i = 0; i < end;) {
      std::size_t j = i;
      if (end - i < 32) {
        j = end - 32;
        keep = ~0u << (i - j);  // i - j < 32
      }
      std::uint32_t m = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_and_si256(
                            _mm256_cmpeq_epi8(load_avx2(h + j, case_bit), first),
                            _mm256_cmpeq_epi8(load_avx2(h + j + n - 1, case_bit), last)))) &
                        keep;
      for (; m != 0; m &= m - 1) {
        const std::size_t pos = j + static_cast<unsigned>(__builtin_ctz(m));
        std::size_t b = 1;  // the bytes between the first and the last
        for (; b + 1 < n; ++b) {
          const unsigned char u = static_cast<unsigned char>(h[pos + b]);
          if ((u | (static_cast<unsigned char>(u - 'A') < 26 ? fold_bit : 0)) !=
              static_cast<unsigned char>(nd[b]))
            break;
        }
        if (b + 1 < n) continue;
        if (written == room) return kCannot;
        out[written++] = Match{static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(pos)};
      }
      i = j + 32;
    }
    matched += written != before;
  }
  if (matched > 1) order_like_blocks(out, written, size);
  return written;
}
#endif

#if defined(__SSE2__)
// fold_byte of 16 bytes (when `fold`).
inline __m128i fold_sse2(__m128i b, bool fold) {
  if (!fold) return b;
  const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(b, _mm_set1_epi8('A' - 1)),
                                      _mm_cmpgt_epi8(_mm_set1_epi8('Z' + 1), b));
  return _mm_or_si128(b, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
}
#endif

// find_batch without AVX2 or for short texts: 16 positions per step, then one at a time.
__attribute__((noinline)) std::size_t batch_sse2(const char* h, std::size_t size,
                                                 const std::string_view* needles,
                                                 std::size_t count, std::size_t from, Match* out,
                                                 std::size_t cap, std::size_t* next, bool fold) {
  *next = size;
  if (count == 0 || count > kMaxBatch || cap < count || size < 2) return 0;
  std::size_t i = from;
  const unsigned char fold_bit = fold ? 0x20 : 0;
  BatchOut b{h, size, needles, count, out, cap, 0, next, fold_bit};
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
      if (!record_block(&b, i, masks)) return b.written;
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
      if (!record_block(&b, j, masks)) return b.written;
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
    if (!record_block(&b, i, masks)) return b.written;
  }
  return b.written;
}

}  // namespace

// Starts a cache line, as batch_avx2 and record_block: see Engine::check_sink.
__attribute__((aligned(64)))
std::size_t find_batch(std::string_view haystack, const std::string_view* needles,
                       std::size_t count, std::size_t from, Match* out, std::size_t cap,
                       std::size_t* next, bool fold) noexcept {
#if defined(__x86_64__)
  if (kHaveAvx2 && haystack.size() >= 33 && count - 1 < kMaxBatch && cap >= count) [[likely]] {
    if (from == 0 && count <= kFewNeedles && haystack.size() <= kFewMaxText) [[likely]] {
      const std::size_t n =
          few_avx2(haystack.data(), haystack.size(), needles, count, out, cap, fold);
      if (n != kCannot) [[likely]] {
        *next = haystack.size();
        return n;
      }
    }
    return batch_avx2(haystack.data(), haystack.size(), needles, count, from, out, cap, next, fold);
  }
#endif
  return batch_sse2(haystack.data(), haystack.size(), needles, count, from, out, cap, next, fold);
}

std::size_t find_batch_by_blocks(std::string_view haystack, const std::string_view* needles,
                                 std::size_t count, std::size_t from, Match* out, std::size_t cap,
                                 std::size_t* next, bool fold) noexcept {
#if defined(__x86_64__)
  if (kHaveAvx2 && haystack.size() >= 33 && count - 1 < kMaxBatch && cap >= count)
    return batch_avx2(haystack.data(), haystack.size(), needles, count, from, out, cap, next, fold);
#endif
  return batch_sse2(haystack.data(), haystack.size(), needles, count, from, out, cap, next, fold);
}

}  // namespace vigil::detect
