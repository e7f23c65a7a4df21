// Open-redirect detector target: the bytes are split at 0xFF into a target and up to three inputs;
// each input is also spliced into the target (unless the first byte says not: a target the
// server rewrote holds no input as written), which is resolved against a base that the first
// byte picks (or none), so that the detector sees occurrences in every part of it. Checks that
// detections lie inside the operation.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/engine.hpp"

namespace {

constexpr std::string_view kBases[] = {"https://shop.example.com/", "http://a/b/c?d#e",
                                        "file:///etc/", ""};

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || static_cast<unsigned char>(s[i]) == 0xFF) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::vector<std::string_view> parts =
      split(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  std::string value(parts[0]);
  std::vector<vigil::Input> inputs;
  for (std::size_t i = 1; i < parts.size() && inputs.size() < 3; ++i) {
    inputs.push_back(vigil::Input{vigil::Source::kQuery, "next", parts[i]});
    if (data[0] & 0x40) continue;  // not spliced: the rewritten-target rule's case
    std::size_t at = value.empty() ? 0 : (data[0] + 31 * i) % (value.size() + 1);
    value.insert(at, parts[i]);
  }
  vigil::Engine engine;
  vigil::Verdict v = engine.check_sink(
      vigil::Sink::of(vigil::SinkType::kRedirect, value, kBases[data[0] % 4]), inputs);
  for (const vigil::Detection& d : v.detections) {
    if (d.begin > d.end || d.end > value.size() || d.input >= inputs.size()) std::abort();
    for (const vigil::TokenNote& t : d.tokens)
      if (t.begin > t.end || t.end > value.size()) std::abort();
  }
  return 0;
}
