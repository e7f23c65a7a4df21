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
