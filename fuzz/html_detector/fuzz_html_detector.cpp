// Reflected-XSS detector target. The bytes are split at 0xFF into a page template and up to
// three inputs; the first input is placed into the template at its "@" marker (or at the end),
// so that the detector always sees an occurrence. Checks every detection's span and tokens, for
// the page and for its start up to the input's end, as an unfinished page (Sink::partial).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/engine.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= rest.size(); ++i) {
    if (i == rest.size() || static_cast<unsigned char>(rest[i]) == 0xFF) {
      parts.push_back(rest.substr(start, i - start));
      start = i + 1;
    }
  }
  std::string page(parts[0]);
  std::vector<vigil::Input> inputs;
  for (std::size_t i = 1; i < parts.size() && inputs.size() < 3; ++i)
    inputs.push_back(vigil::Input{vigil::Source::kQuery, "q", parts[i]});
  if (!inputs.empty()) {
    std::size_t at = page.find('@');
    if (at == std::string::npos) at = page.size();
    page.replace(at, at < page.size() ? 1 : 0, inputs[0].value);
  }
  vigil::Engine engine;
  auto check = [&](std::string_view text, bool partial) {
    vigil::Sink sink = vigil::Sink::of(vigil::SinkType::kHtml, text);
    sink.partial = partial;
    vigil::Verdict v = engine.check_sink(sink, inputs);
    for (const auto& d : v.detections) {
      if (d.begin > d.end || d.end > text.size() || d.input >= inputs.size()) std::abort();
      if (d.reason.empty()) std::abort();
      for (const auto& t : d.tokens)
        if (t.begin > t.end || t.end > text.size()) std::abort();
    }
  };
  check(page, false);
  if (!inputs.empty()) {
    std::size_t at = page.find(inputs[0].value);
    if (at != std::string::npos) check(std::string_view(page).substr(0, at + inputs[0].value.size()), true);
  }
  return 0;
}
