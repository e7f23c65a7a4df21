// Command injection input detector target: the first byte picks the form, the source and the
// parameter name, the rest is the value. A conviction always explains itself and shows
// evidence; a clean verdict leaves the hit empty; the verdict is deterministic (the detector
// keeps per-thread scratch buffers between calls).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/detect/input/input_detector.hpp"

using namespace vigil::detect::input;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr std::string_view kNames[] = {"q", "host", "cmd", "Referer"};
  auto form = static_cast<vigil::Form>(data[0] % 8);
  auto source = static_cast<vigil::Source>((data[0] >> 3) % 8);
  std::string_view value(reinterpret_cast<const char*>(data + 1), size - 1);
  Candidate c{value, features_of(value), form, 0, source, kNames[(data[0] >> 6) & 3]};
  Hit hit;
  const bool fired = detect_cmdi(c, &hit);
  if (fired && (hit.reason.empty() || hit.evidence.empty())) std::abort();
  if (!fired && (!hit.reason.empty() || !hit.evidence.empty())) std::abort();
  Hit again;
  if (detect_cmdi(c, &again) != fired || again.reason != hit.reason) std::abort();
  return 0;
}
