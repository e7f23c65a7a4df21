// Exec detector: the bytes after the first are split at 0xFF into argv elements; the first byte
// chooses which element holds the input and where (the input is a piece of that element).
// Never crashes; detections name an existing element and lie inside it.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "vigil/engine.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string_view> argv;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= rest.size() && argv.size() < 64; ++i) {
    if (i == rest.size() || static_cast<unsigned char>(rest[i]) == 0xFF) {
      argv.push_back(rest.substr(start, i - start));
      start = i + 1;
    }
  }
  std::string_view element = argv[data[0] % argv.size()];
  std::string_view input = element.substr(element.empty() ? 0 : (data[0] / 16) % element.size());
  vigil::Input inputs[] = {{vigil::Source::kQuery, "q", input},
                           {vigil::Source::kQuery, "w", element}};
  vigil::Engine engine;
  vigil::Verdict v = engine.check_sink(vigil::Sink::exec(argv), inputs);
  for (const auto& d : v.detections) {
    if (d.element >= argv.size()) std::abort();
    if (d.begin > d.end || d.end > argv[d.element].size() || d.reason.empty()) std::abort();
    for (const auto& t : d.tokens)
      if (t.begin > t.end || t.end > argv[d.element].size()) std::abort();
  }
  return 0;
}
