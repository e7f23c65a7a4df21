// Header detector target: the bytes are split at 0xFF into a header block and up to three
// inputs, each inserted into the block after "X-Request-Id: ". Checks spans, and that a
// detection's span really holds a line break.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/engine.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= all.size(); ++i) {
    if (i == all.size() || all[i] == '\xFF') {
      parts.push_back(all.substr(start, i - start));
      start = i + 1;
    }
  }
  std::string block(parts[0]);
  std::vector<vigil::Input> inputs;
  for (std::size_t i = 1; i < parts.size() && inputs.size() < 3; ++i) {
    inputs.push_back(vigil::Input{vigil::Source::kQuery, "id", parts[i]});
    block += "X-Request-Id: ";
    block.append(parts[i]);
    block += "\r\n";
  }
  vigil::Engine engine;
  vigil::Sink sink = vigil::Sink::of(vigil::SinkType::kHeader, block);
  vigil::Verdict v = engine.check_sink(sink, inputs);
  for (const auto& d : v.detections) {
    if (d.begin > d.end || d.end > block.size() || d.input >= inputs.size()) std::abort();
    std::string_view span = std::string_view(block).substr(d.begin, d.end - d.begin);
    if (span.find_first_of("\r\n") == std::string_view::npos) std::abort();
    if (d.reason.empty()) std::abort();
    for (const auto& t : d.tokens)
      if (t.begin > t.end || t.end > block.size()) std::abort();
  }
  return 0;
}
