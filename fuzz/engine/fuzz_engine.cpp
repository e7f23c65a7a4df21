// Whole-engine target: the bytes are split into a sink type, an operation and up to four
// inputs; every sink's detector runs on them. Also checks that every detection's span lies
// inside the operation.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "vigil/engine.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto type = static_cast<vigil::SinkType>(data[0] % vigil::kSinkTypeCount);
  const auto dialect = static_cast<vigil::Dialect>(data[1] % 6);
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  // Fields are separated by 0xFF: operation, then inputs.
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= rest.size(); ++i) {
    if (i == rest.size() || static_cast<unsigned char>(rest[i]) == 0xFF) {
      parts.push_back(rest.substr(start, i - start));
      start = i + 1;
    }
  }
  std::vector<vigil::Input> inputs;
  // The second and fourth inputs are named by their own bytes (a key the client chose), so
  // that names are searched in the operation too.
  for (std::size_t i = 1; i < parts.size() && inputs.size() < 4; ++i) {
    if (i % 2 == 1)
      inputs.push_back(vigil::Input{vigil::Source::kQuery, "q", parts[i]});
    else
      inputs.push_back(vigil::Input{vigil::Source::kJson, parts[i], parts[i]});
  }
  // The input is also embedded in the operation so that detectors see occurrences.
  std::vector<std::string_view> argv;
  vigil::Sink sink;
  if (type == vigil::SinkType::kExec) {
    for (std::size_t i = 0; i < parts.size(); ++i) argv.push_back(parts[i]);
    sink = vigil::Sink::exec(argv);
  } else {
    sink = vigil::Sink::of(type, parts[0], parts.size() > 2 ? parts[2] : std::string_view());
    sink.dialect = dialect;
  }
  vigil::Engine engine;
  vigil::Verdict v = engine.check_sink(sink, inputs);
  for (const auto& d : v.detections) {
    std::string_view text = type == vigil::SinkType::kExec
                                ? (d.element < argv.size() ? argv[d.element] : std::string_view())
                                : sink.value;
    if (d.begin > d.end || d.end > text.size() || d.input >= inputs.size()) std::abort();
  }
  (void)vigil::describe(sink, inputs, v);
  return 0;
}
