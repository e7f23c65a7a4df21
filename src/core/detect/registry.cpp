#include <array>

#include "core/common/ascii.hpp"
#include "core/detect/detector.hpp"

namespace vigil::detect {
namespace {

// The explicit detector table (no static self-registration: it breaks in static archives and
// in a preloaded library). Indexed by SinkType.
constexpr std::array<DetectorInfo, kSinkTypeCount> kDetectors = {{
    {"sql-injection", 1, SinkType::kSql, "sql-injection", "CWE-89", true, "!&", &detect_sql},
    {"shell-injection", 1, SinkType::kShell, "command-injection", "CWE-78", false, "\n",
     &detect_shell},
    {"exec-injection", 1, SinkType::kExec, "command-injection", "CWE-78", false, "\n!&",
     &detect_exec},
    {"path-traversal", 1, SinkType::kPath, "path-traversal", "CWE-22", false,
     std::string_view("/\0", 2), &detect_path},
    {"ssrf", 1, SinkType::kUrl, "ssrf", "CWE-918", false, "&!", &detect_url},
    {"reflected-xss", 1, SinkType::kHtml, "xss", "CWE-79", true, "", &detect_html},
    {"header-injection", 2, SinkType::kHeader, "header-injection", "CWE-113", false, "\r\n",
     &detect_header},
    {"open-redirect", 2, SinkType::kRedirect, "open-redirect", "CWE-601", false, "&!",
     &detect_redirect},
}};

constexpr bool table_is_indexed_by_sink() {
  for (std::size_t i = 0; i < kDetectors.size(); ++i)
    if (static_cast<std::size_t>(kDetectors[i].sink) != i) return false;
  return true;
}
static_assert(table_is_indexed_by_sink(), "kDetectors must be in SinkType order");

}  // namespace

std::span<const DetectorInfo> detectors() noexcept { return kDetectors; }

const DetectorInfo* detector_for(SinkType type) noexcept {
  std::size_t i = static_cast<std::size_t>(type);
  return i < kDetectors.size() ? &kDetectors[i] : &kDetectors[0];
}

TokenNote note_token(std::string_view kind, std::string_view text, std::uint32_t begin,
                     std::uint32_t end) {
  TokenNote n;
  n.kind = std::string(kind);
  n.text = common::truncate_utf8(text, 80);
  n.begin = begin;
  n.end = end;
  return n;
}

}  // namespace vigil::detect
