// Every registered input-analysis detector on the same bytes (as value and as name), plus the
// request-level signal detectors. The first byte picks the source.
#include <cstdint>
#include <string_view>

#include "core/detect/input/input_detector.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  namespace in = vigil::detect::input;
  auto source = static_cast<vigil::Source>(data[0] % 8);
  std::string_view value(reinterpret_cast<const char*>(data + 1), size - 1);
  in::Candidate c{value, in::features_of(value), vigil::Form::kRaw, 0, source, value};
  // A value the analyser skips as a clean plain word must be one no detector fires on.
  const bool clean_word = c.features == 0 && in::plain_word_is_clean(value);
  for (const in::InputDetectorInfo& d : in::input_detectors()) {
    in::Hit hit;
    if (!d.fn(c, &hit)) continue;
    if (hit.reason.empty()) __builtin_trap();  // a conviction must say why
    if (clean_word && !((d.prefilter && !(c.features & d.prefilter)) ||
                        value.size() < d.min_length))
      __builtin_trap();
  }
  in::RequestSignals r{"GET", value, value, data[0]};
  in::Hit hit;
  (void)in::detect_scanner(r, &hit);
  (void)in::detect_protocol_anomaly(r, &hit);
  return 0;
}
