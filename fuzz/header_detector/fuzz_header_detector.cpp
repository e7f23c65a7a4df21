// Header detector target: the bytes are split at 0xFF into a header block and up to three
// inputs, each inserted into the block after "X-Request-Id: " (or, when the block starts with
// 0x01, split into lines as Puma writes a value). Checks spans, and that a detection's span
// really holds a line break.
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
  // A block that starts with 0x01 has its inputs written as a Rack server (Puma) writes a value:
  // a line per line of it, without the lines that hold a control byte.
  const bool rack = !block.empty() && block[0] == '\x01';
  std::vector<vigil::Input> inputs;
  for (std::size_t i = 1; i < parts.size() && inputs.size() < 3; ++i) {
    inputs.push_back(vigil::Input{vigil::Source::kQuery, "id", parts[i]});
    std::size_t from = 0;
    while (from <= parts[i].size()) {
      std::size_t lf = rack ? parts[i].find('\n', from) : std::string_view::npos;
      std::string_view piece = parts[i].substr(from, lf == std::string_view::npos ? lf : lf - from);
      bool dropped = false;
      for (unsigned char c : piece) dropped |= rack && ((c < 0x20 && c != '\t') || c == 0x7F);
      if (!dropped) {
        block += "X-Request-Id: ";
        block.append(piece);
        block += "\r\n";
      }
      if (lf == std::string_view::npos) break;
      from = lf + 1;
    }
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
