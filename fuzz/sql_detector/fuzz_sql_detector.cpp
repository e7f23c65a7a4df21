// SQL detector: the first byte picks the dialect, the next two an input span inside the rest
// (the statement); the span is checked through the engine, alone and with a second input (the
// span's text with its quotes doubled). Never crashes; detections lie inside the statement,
// carry a reason and token notes inside it; checking is deterministic.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "vigil/engine.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const auto dialect = static_cast<vigil::Dialect>(data[0] % 6);
  std::string_view query(reinterpret_cast<const char*>(data + 3), size - 3);
  std::size_t begin = data[1] % query.size();
  std::size_t len = 1 + data[2] % (query.size() - begin);
  std::string_view span = query.substr(begin, len);
  std::string doubled;
  for (char c : span) {
    doubled.push_back(c);
    if (c == '\'') doubled.push_back('\'');
  }
  vigil::Input inputs[] = {{vigil::Source::kQuery, "q", span},
                           {vigil::Source::kBody, "b", doubled}};
  vigil::Engine engine;
  vigil::Sink sink = vigil::Sink::sql(dialect, query);
  vigil::Verdict v = engine.check_sink(sink, inputs);
  for (const auto& d : v.detections) {
    if (d.begin > d.end || d.end > query.size() || d.reason.empty() || d.input > 1) std::abort();
    for (const auto& t : d.tokens)
      if (t.begin > t.end || t.end > query.size() || t.kind.empty()) std::abort();
  }
  vigil::Verdict again = engine.check_sink(sink, inputs);
  if (again.attack() != v.attack() || again.detections.size() != v.detections.size()) std::abort();
  (void)vigil::describe(sink, inputs, v);
  return 0;
}
