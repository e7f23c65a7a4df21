// Path normaliser target: the bytes are split at the first 0xFF into a base and a path. Checks
// that segments are in order, non-empty, within bounds and never contain a separator; that
// normalisation is idempotent; and that a path the walk finds inside the base normalises to a
// string that starts with the normalised base.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenize/path/path_normalize.hpp"

namespace tp = vigil::tokenize::path;

static void check_segments(std::string_view path, tp::Style style) {
  tp::SegmentReader reader(path, style);
  if (reader.root_end() > path.size()) std::abort();
  std::uint32_t pos = reader.root_end();
  tp::Segment s;
  while (reader.next(&s)) {
    if (s.begin < pos || s.end <= s.begin || s.end > path.size()) std::abort();
    for (std::uint32_t i = s.begin; i < s.end; ++i)
      if (tp::is_separator(path[i], style)) std::abort();
    std::string_view text = path.substr(s.begin, s.end - s.begin);
    if ((text == "..") != (s.kind == tp::SegmentKind::kDotDot)) std::abort();
    if ((text == ".") != (s.kind == tp::SegmentKind::kDot)) std::abort();
    pos = s.end;
  }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  std::size_t cut = all.find('\xFF');
  std::string_view base_text =
      cut == std::string_view::npos ? std::string_view() : all.substr(0, cut);
  std::string_view path = cut == std::string_view::npos ? all : all.substr(cut + 1);

  for (tp::Style style : {tp::Style::kPosix, tp::Style::kWindows}) {
    check_segments(path, style);
    std::string once = tp::normalized_string(path, style);
    if (tp::normalized_string(once, style) != once) std::abort();

    tp::Base base(base_text, style);
    tp::Resolution r = tp::resolve(path, base, style);
    if (r.has_nul != (path.find('\0') != std::string_view::npos)) std::abort();
    if (r.inside && !r.entered) std::abort();
    if (base.valid() && r.inside && base.depth() <= tp::Base::kMaxDepth) {
      // Inside means the normalised path is the normalised base or below it.
      std::string b = tp::normalized_string(base_text, style);
      if (b == ".") b.clear();
      std::string p = tp::normalized_string(path, style);
      if (!b.empty() && p.compare(0, b.size(), b) != 0) std::abort();
    }
  }
  return 0;
}
