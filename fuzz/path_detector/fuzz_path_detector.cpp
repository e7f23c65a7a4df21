// Path detector target: the bytes are split at 0xFF into a path, a base and up to three inputs;
// each input is also appended to the path so that occurrences exist. Checks every detection's
// span and token spans against the path.
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
  std::string path(parts[0]);
  std::string_view base = parts.size() > 1 ? parts[1] : std::string_view();
  std::vector<vigil::Input> inputs;
  for (std::size_t i = 2; i < parts.size() && inputs.size() < 3; ++i) {
    inputs.push_back(vigil::Input{vigil::Source::kQuery, "file", parts[i]});
    path.append(parts[i]);
  }
  vigil::Engine engine;
  vigil::Sink sink = vigil::Sink::of(vigil::SinkType::kPath, path, base);
  vigil::Verdict v = engine.check_sink(sink, inputs);
  for (const auto& d : v.detections) {
    if (d.begin > d.end || d.end > path.size() || d.input >= inputs.size()) std::abort();
    if (d.reason.empty()) std::abort();
    for (const auto& t : d.tokens)
      if (t.begin > t.end || t.end > path.size()) std::abort();
  }
  return 0;
}
