// The SQL injection input detector on arbitrary bytes: never crashes, stays within time on
// any input, and a conviction always says why and shows evidence taken from the value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/detect/input/input_detector.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace in = vigil::detect::input;
  std::string_view value(reinterpret_cast<const char*>(data), size);
  in::Candidate c{value, in::features_of(value), vigil::Form::kRaw, 0, vigil::Source::kQuery,
                  "q"};
  in::Hit hit;
  if (in::detect_sqli(c, &hit)) {
    if (hit.reason.empty() || hit.evidence.empty()) std::abort();
    // The evidence is a piece of the value from the break-out on (truncated for display, where
    // invalid UTF-8 may be replaced), so it starts with a byte of the value.
    if (value.find(hit.evidence[0]) == std::string_view::npos) std::abort();
  }
  return 0;
}
