// vigil_export_samples FORMAT: prints one record per sample event (and one summary) in FORMAT,
// one per line. For the schema tests (ocsf_schema_test.py).
#include <cstdio>
#include <iostream>

#include "export/event.hpp"
#include "export/format.hpp"
#include "export/testing/sample_events.hpp"

int main(int argc, char** argv) {
  namespace ve = vigil::exports;
  ve::Format format;
  if (argc != 2 || !ve::parse_format(argv[1], &format)) {
    std::cerr << "usage: vigil_export_samples cef|leef|json|ocsf|ecs|hec|slack\n";
    return 2;
  }
  ve::FormatOptions options;
  ve::Fields extra = {{"env", "prod"}, {"dc", "eu-1"}};
  for (const auto& json : ve::testing::sample_events()) {
    ve::Event e;
    std::string error;
    if (!ve::parse_event(json, ve::EventLimits{}, 1764126000000, &e, &error)) {
      std::cerr << "sample does not parse: " << error << "\n";
      return 1;
    }
    std::cout << ve::format_event(format, e, extra, options) << "\n";
    options.compact = !options.compact;  // every other record in compact form
    std::cout << ve::format_event(format, e, {}, options) << "\n";
    options.compact = !options.compact;
    if (e.outcome == ve::Outcome::kProbed) {
      e.summary = true;
      e.count = 1240;
      e.first_ms = e.time_ms - 60000;
      e.last_ms = e.time_ms;
      std::cout << ve::format_event(format, e, extra, options) << "\n";
    }
  }
  return 0;
}
