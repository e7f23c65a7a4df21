// Shell detector: the first two bytes choose an input span inside the rest (the command); the
// span is analysed directly and through the engine. Never crashes; detections lie inside the
// command; a span the analysis calls data gives no detection through the engine either when it
// is the only occurrence.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/detect/shell_detector.hpp"
#include "vigil/engine.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  std::string_view cmd(reinterpret_cast<const char*>(data + 2), size - 2);
  std::size_t begin = data[0] % cmd.size();
  std::size_t len = 1 + data[1] % (cmd.size() - begin);
  static vigil::detect::ShellAnalysis analysis;
  for (auto dialect :
       {vigil::tokenize::shell::Dialect::kBash, vigil::tokenize::shell::Dialect::kPosix}) {
    analysis.reset(cmd, dialect);
    vigil::detect::ShellFinding f;
    bool clean = analysis.span_is_data(static_cast<std::uint32_t>(begin),
                                       static_cast<std::uint32_t>(begin + len), &f);
    if (!clean && f.reason.empty()) std::abort();
    for (const auto& t : f.tokens)
      if (t.begin > t.end || t.end > cmd.size()) std::abort();
  }
  vigil::Input inputs[] = {{vigil::Source::kQuery, "q", cmd.substr(begin, len)}};
  vigil::Engine engine;
  vigil::Verdict v = engine.check_sink(vigil::Sink::of(vigil::SinkType::kShell, cmd), inputs);
  for (const auto& d : v.detections) {
    if (d.begin > d.end || d.end > cmd.size() || d.reason.empty()) std::abort();
    for (const auto& t : d.tokens)
      if (t.begin > t.end || t.end > cmd.size()) std::abort();
  }
  return 0;
}
