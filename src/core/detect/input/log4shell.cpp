// Log4j lookups (CVE-2021-44228 and friends). The value is evaluated the way Log4j's
// StrSubstitutor would, innermost lookup first, so that obfuscations such as
// ${${lower:j}ndi:...}, ${${::-j}${::-n}di:...} or ${${env:X:-j}ndi:...} resolve to the
// "jndi:" they spell. Linear: every byte is appended to at most one frame and every frame's
// result is shorter than its text.
#include <string>
#include <vector>

#include "core/common/ascii.hpp"
#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {
namespace {

constexpr std::size_t kMaxDepth = 64;

// Lookup prefixes Log4j 2 knows; a ${prefix:...} with one of them is an attempt even without
// jndi (environment and system-property exfiltration inside a DNS name).
constexpr std::string_view kLookups[] = {
    "jndi", "env",  "sys",   "java",   "ctx",    "main",  "lower", "upper", "date",
    "base64", "k8s", "docker", "log4j", "marker", "bundle", "spring", "web",  "event",
    "map",  "sd",   "jvmrunargs", "hostname"};

bool is_lookup(std::string_view prefix) {
  for (std::string_view l : kLookups)
    if (common::iequals(l, prefix)) return true;
  return false;
}

struct Evaluation {
  bool jndi = false;
  std::string_view lookup;  // first known lookup prefix seen (points into a frame: copied below)
  std::string lookup_name;
};

// Resolves one lookup's text (its nested lookups already resolved) to the value Log4j would
// substitute when the named variable does not exist.
std::string resolve(std::string_view text, Evaluation* e) {
  std::size_t colon = text.find(':');
  std::string_view prefix = colon == std::string_view::npos ? text : text.substr(0, colon);
  std::string_view key = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  if (common::istarts_with(text, "jndi:")) e->jndi = true;
  if (colon != std::string_view::npos && is_lookup(prefix) && e->lookup_name.empty())
    e->lookup_name = std::string(prefix);
  // ${anything:-default} and ${prefix:name:-default} fall back to the default.
  std::size_t dash = text.find(":-");
  if (dash != std::string_view::npos) return std::string(text.substr(dash + 2));
  if (common::iequals(prefix, "lower")) return common::folded(key);
  if (common::iequals(prefix, "upper")) {
    std::string up(key);
    for (char& c : up) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
    return up;
  }
  if (common::iequals(prefix, "date")) {
    // A date pattern made of a quoted literal yields the literal: ${date:'j'} -> j.
    std::string out;
    for (char c : key)
      if (c != '\'') out.push_back(c);
    return out;
  }
  return "x";  // an unknown variable: something non-empty
}

}  // namespace

bool detect_log4shell(const Candidate& c, Hit* hit) {
  std::string_view v = c.value;
  if (v.find("${") == std::string_view::npos) return false;
  Evaluation e;
  // frames[0] is the top level; each "${" opens a frame, each "}" closes the innermost one.
  std::vector<std::string> frames(1);
  std::size_t ignored_depth = 0;  // opens beyond kMaxDepth, treated as text
  for (std::size_t i = 0; i < v.size(); ++i) {
    char ch = v[i];
    if (ch == '$' && i + 1 < v.size() && v[i + 1] == '{') {
      if (frames.size() < kMaxDepth) {
        frames.emplace_back();
        ++i;
        continue;
      }
      ++ignored_depth;
    } else if (ch == '}' && frames.size() > 1) {
      if (ignored_depth > 0) {
        --ignored_depth;
      } else {
        std::string value = resolve(frames.back(), &e);
        frames.pop_back();
        frames.back() += value;
        continue;
      }
    }
    frames.back().push_back(ch);
  }
  // Unclosed lookups still show their intent: "${jndi:ldap://x" is an attempt too.
  for (std::size_t k = 1; k < frames.size(); ++k) {
    if (common::istarts_with(frames[k], "jndi:")) e.jndi = true;
  }
  if (e.jndi) {
    hit->reason = "a Log4j JNDI lookup (${jndi:...}), which makes a vulnerable logger load and "
                  "run a remote class";
  } else if (!e.lookup_name.empty()) {
    hit->reason = "a Log4j ${" + e.lookup_name + ":...} lookup, used to probe for or exfiltrate "
                  "through a vulnerable logger";
  } else {
    return false;
  }
  hit->evidence = evidence(v.substr(v.find("${")));
  return true;
}

}  // namespace vigil::detect::input
