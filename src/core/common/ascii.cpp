#include "core/common/ascii.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace vigil::common {

void fold_ascii(const char* in, std::size_t n, char* out) noexcept {
  // This runs on every SQL/HTML sink call: 16 bytes per step (GCC at -O2 leaves the byte loop
  // scalar). A byte is upper case when (byte - 'A'), shifted into the signed range, is below 26.
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i shift = _mm_set1_epi8(static_cast<char>(128 - 'A'));
  const __m128i limit = _mm_set1_epi8(static_cast<char>(-128 + 26));
  const __m128i bit = _mm_set1_epi8(0x20);
  for (; i + 16 <= n; i += 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    __m128i upper = _mm_cmplt_epi8(_mm_add_epi8(x, shift), limit);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm_or_si128(x, _mm_and_si128(upper, bit)));
  }
#endif
  for (; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    unsigned char upper = static_cast<unsigned char>(c - 'A') < 26;
    out[i] = static_cast<char>(c | (upper << 5));
  }
}

std::string folded(std::string_view s) {
  std::string out(s.size(), '\0');
  fold_ascii(s.data(), s.size(), out.data());
  return out;
}

std::string truncate_utf8(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t cut = max;
  // Back up to a lead byte so that no UTF-8 sequence is split: three bytes at most (a sequence
  // is four at most). A longer run of continuation bytes is no UTF-8, cut where it stands:
  // backing up through it lost the whole text (a value of such bytes gave an evidence of "…").
  auto continuation = [&](std::size_t i) {
    return (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
  };
  while (cut > 0 && max - cut < 3 && continuation(cut)) --cut;
  if (continuation(cut)) cut = max;
  std::string out(s.substr(0, cut));
  out += "\xE2\x80\xA6";
  return out;
}

std::size_t utf8_length_at(std::string_view s, std::size_t i) noexcept {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = byte(0);
  if (c < 0x80) return 1;
  // The first continuation byte's range depends on the lead byte (Table 3-7 of the Unicode
  // standard): that is where overlong forms, surrogates and values past U+10FFFF are refused.
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() - i < len || byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k)
    if ((byte(k) & 0xC0) != 0x80) return 0;
  return len;
}

bool is_utf8(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = utf8_length_at(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

}  // namespace vigil::common
