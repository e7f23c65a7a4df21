// Substring search for the occurrence step: the hot path of every sink call.
#ifndef VIGIL_CORE_DETECT_OCCURRENCE_HPP_
#define VIGIL_CORE_DETECT_OCCURRENCE_HPP_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vigil::detect {

// Calls on_match(position) for every occurrence of `needle` in `haystack` (overlapping ones
// too, for needles up to 32 bytes), left to right, at most `max` times; returns the number of matches found, which
// may exceed `max` by one to say "there were more". An empty needle matches nothing.
// Linear in haystack size for a fixed needle (SSE2 first/last-byte filter, then memcmp).
template <typename F>
std::size_t find_all(std::string_view haystack, std::string_view needle, std::size_t max,
                     F&& on_match);

// The non-template core: fills `positions` (capacity `cap`) starting the search at `from`;
// returns how many were written. `*next` receives where to resume (haystack.size() when done).
std::size_t find_some(std::string_view haystack, std::string_view needle, std::size_t from,
                      std::uint32_t* positions, std::size_t cap, std::size_t* next) noexcept;

// Several needles in one pass over the haystack, for the common sink call where none occurs:
// each 16- or 32-byte block is loaded once and compared with every needle's first two bytes,
// instead of once per needle. Needles must be 2..kMaxBatchNeedle bytes; at most kMaxBatch.
// Calls on_match(needle_index, position) for every occurrence (overlapping ones too), at most
// `max` times per needle; counts[k] receives needle k's matches, max + 1 meaning "there were
// more". Linear in haystack size times the number of needles. With `fold`, the haystack is
// searched as if ASCII-lower-cased (common::fold_ascii) without copying it; the needles must
// then be folded already.
inline constexpr std::size_t kMaxBatch = 16;
inline constexpr std::size_t kMaxBatchNeedle = 32;
struct Match {
  std::uint32_t needle;
  std::uint32_t position;
};
// The non-template core: appends up to `cap` (>= count) matches from haystack position `from`;
// returns how many; *next receives where to resume (haystack.size() when done). Per-needle
// limits are the caller's (find_all_batch).
std::size_t find_batch(std::string_view haystack, const std::string_view* needles,
                       std::size_t count, std::size_t from, Match* out, std::size_t cap,
                       std::size_t* next, bool fold = false) noexcept;

// find_batch without its path for a few needles (which must write exactly what this writes):
// for the tests that hold the two to that.
std::size_t find_batch_by_blocks(std::string_view haystack, const std::string_view* needles,
                                 std::size_t count, std::size_t from, Match* out, std::size_t cap,
                                 std::size_t* next, bool fold = false) noexcept;

template <typename F>
void find_all_batch(std::string_view haystack, const std::string_view* needles,
                    std::size_t count, std::size_t max, std::size_t* counts, F&& on_match,
                    bool fold = false) {
  Match buf[kMaxBatch * 32];  // room for a whole block's candidates: the search's fast path
  for (std::size_t k = 0; k < count; ++k) counts[k] = 0;
  std::size_t from = 0;
  while (from < haystack.size()) {
    std::size_t next = haystack.size();
    std::size_t n = find_batch(haystack, needles, count, from, buf, kMaxBatch * 32, &next, fold);
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t& c = counts[buf[i].needle];
      if (c > max) continue;
      if (c == max) {
        ++c;
        continue;
      }
      ++c;
      on_match(buf[i].needle, buf[i].position);
    }
    if (next >= haystack.size()) break;
    from = next;
  }
}

template <typename F>
std::size_t find_all(std::string_view haystack, std::string_view needle, std::size_t max,
                     F&& on_match) {
  std::uint32_t buf[32];
  std::size_t from = 0, found = 0;
  while (from < haystack.size()) {
    std::size_t next = haystack.size();
    std::size_t n = find_some(haystack, needle, from, buf, 32, &next);
    for (std::size_t i = 0; i < n; ++i) {
      if (found == max) return found + 1;
      on_match(buf[i]);
      ++found;
    }
    if (n < 32) break;
    from = next;
  }
  return found;
}

}  // namespace vigil::detect

#endif  // VIGIL_CORE_DETECT_OCCURRENCE_HPP_
