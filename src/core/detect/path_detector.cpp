// Path traversal: did an input make the path the application opens leave the directory it
// meant (its base)?
//
// The path is normalised lexically (POSIX: only '/' separates) and walked against the base. An
// input is convicted when its own ".." segments climb out of the base and the final path is
// outside it, when it is an absolute path that took the base's place (os.path.join semantics),
// or when it carries a NUL byte (a C API would open a shorter path than the one checked).
// Percent-encoded and overlong forms ("..%2f", "..%c0%af") are literal characters to the kernel;
// the engine also searches the url-decoded forms of each input, so an application that decodes
// them is caught through that form.
#include <algorithm>
#include <cstring>
#include <string>

#include "core/common/ascii.hpp"
#include "core/detect/detector.hpp"
#include "core/tokenize/path/path_normalize.hpp"

namespace vigil::detect {
namespace {

namespace tp = tokenize::path;

constexpr std::size_t kShownPath = 120;  // bytes of a path quoted in a reason
constexpr std::size_t kMaxNotes = 16;    // ".." tokens listed per detection
// Occurrences evaluated against the directory before them when there is no usable base; each
// costs a walk of the path, so they are bounded to keep a sink call linear.
constexpr int kMaxDerivedEvaluations = 32;

bool convicted(const std::vector<Detection>& out, std::uint32_t input) {
  for (const Detection& d : out)
    if (d.input == input) return true;
  return false;
}

std::string shown(std::string_view path) {
  std::string s;
  for (unsigned char c : common::truncate_utf8(path, kShownPath)) {
    if (c == '\0') {
      s += "\\0";
    } else if (c < 0x20 || c == 0x7F) {
      static const char* const kHex = "0123456789abcdef";
      s += "\\x";
      s.push_back(kHex[c >> 4]);
      s.push_back(kHex[c & 15]);
    } else {
      s.push_back(static_cast<char>(c));
    }
  }
  return s;
}

std::string levels(std::uint32_t n) { return std::to_string(n) + (n == 1 ? " level" : " levels"); }

// First segment of `kind` (kDotDot) or first climbing segment whose end lies past a position,
// advanced monotonically: occurrences come sorted by begin, so the whole pass is linear.
class SegmentCursor {
 public:
  SegmentCursor(std::string_view path, const tp::Base* base, bool climbs_only) noexcept
      : path_(path),
        reader_(path),
        walk_(base != nullptr ? *base : empty_, reader_.root()),
        climbs_only_(climbs_only) {}

  // True when a matching segment overlaps [begin, end).
  bool any_in(std::uint32_t begin, std::uint32_t end) noexcept {
    while (!done_ && (!have_ || current_.end <= begin)) {
      tp::Segment s;
      if (!reader_.next(&s)) {
        done_ = true;
        have_ = false;
        break;
      }
      bool hit = climbs_only_ ? walk_.step(path_, s) == tp::Step::kClimb
                              : s.kind == tp::SegmentKind::kDotDot;
      if (hit) {
        current_ = s;
        have_ = true;
      }
    }
    return have_ && current_.end > begin && current_.begin < end;
  }

 private:
  std::string_view path_;
  tp::Base empty_;
  tp::SegmentReader reader_;
  tp::Confinement walk_;
  bool climbs_only_;
  bool have_ = false;
  bool done_ = false;
  tp::Segment current_;
};

// What the ".." segments of one occurrence did, from a fresh walk (made once per conviction).
struct SpanClimb {
  std::uint32_t climbs = 0;
  std::uint32_t levels = 0;  // the most levels above the base reached by the span's climbs
  std::vector<TokenNote> notes;
};

SpanClimb climbs_in_span(std::string_view path, const tp::Base& base, tp::Style style,
                         std::uint32_t begin, std::uint32_t end) {
  SpanClimb r;
  tp::SegmentReader reader(path, style);
  tp::Confinement walk(base, reader.root());
  tp::Segment s;
  while (reader.next(&s)) {
    if (s.begin >= end) break;
    if (walk.step(path, s) != tp::Step::kClimb || s.end <= begin) continue;
    ++r.climbs;
    if (walk.levels_above() > r.levels) r.levels = walk.levels_above();
    if (r.notes.size() < kMaxNotes)
      r.notes.push_back(
          note_token("dotdot", path.substr(s.begin, s.end - s.begin), s.begin, s.end));
  }
  return r;
}

std::string base_name(const tp::Base& base) {
  if (base.text().empty()) return "the working directory";
  return shown(base.text());
}

// Why a NUL matters, with the path a C API would really open.
std::string nul_clause(std::string_view path, std::uint32_t nul, const tp::Base& base) {
  std::string_view truncated = path.substr(0, nul);
  std::string s = "carried a NUL byte: C file APIs stop there and open " +
                  shown(tp::normalized_string(truncated));
  // Payloads written for Windows climb with backslashes; say so, since a Windows server (or a
  // later copy of the path) would read them as separators.
  if (truncated.find('\\') != std::string_view::npos) {
    tp::Resolution w = tp::resolve(truncated, base, tp::Style::kWindows);
    if (!w.inside && w.max_levels_above > 0)
      s += " (read with \\ as a separator, as on Windows, it climbs " + levels(w.max_levels_above) +
           " above " + base_name(base) + ")";
  }
  return s;
}

struct Facts {
  bool nul = false;
  std::uint32_t nul_at = 0;
  bool climbed = false;
  bool replaced = false;
};

void record(const SinkCheck& check, const Occurrence& occ, const tp::Base& base, const Facts& facts,
            std::vector<Detection>* out) {
  std::string_view path = check.sink->value;
  Detection d;
  d.input = occ.input;
  d.form = occ.form;
  d.begin = occ.begin;
  d.end = occ.end;
  std::string reached = shown(tp::normalized_string(path));
  if (facts.climbed) {
    SpanClimb c = climbs_in_span(path, base, tp::Style::kPosix, occ.begin, occ.end);
    d.reason = "input climbed " + levels(c.levels) + " above " + base_name(base) +
               " with ../ and reached " + reached;
    if (facts.nul) d.reason += "; it also " + nul_clause(path, facts.nul_at, base);
    d.tokens = std::move(c.notes);
  } else if (facts.replaced) {
    d.reason = base.text().empty()
                   ? "input is an absolute path that the application opens as given: " + reached
                   : "input is an absolute path that replaced the base directory " +
                         base_name(base) + ": the application opens " + reached;
    if (facts.nul) d.reason += "; it also " + nul_clause(path, facts.nul_at, base);
    std::size_t root_end = 0;
    while (root_end < occ.end && path[root_end] == '/') ++root_end;
    d.tokens.push_back(
        note_token("root", path.substr(0, root_end), 0, static_cast<std::uint32_t>(root_end)));
  } else {
    d.reason = "input " + nul_clause(path, facts.nul_at, base);
  }
  if (facts.nul)
    d.tokens.push_back(
        note_token("nul", std::string_view("\0", 1), facts.nul_at, facts.nul_at + 1));
  out->push_back(std::move(d));
}

// Where an absolute input at the start of the path must reach to have chosen it: the end of
// the first segment when the base is known (the base was replaced), the separator before the
// last segment when it is not (the application added at most a file name).
std::uint32_t replacement_reach(std::string_view path, bool have_base) {
  tp::SegmentReader reader(path);
  tp::Segment s, last;
  std::uint32_t reach = reader.root_end();
  bool first = true;
  while (reader.next(&s)) {
    if (first && have_base) return s.end;
    first = false;
    last = s;
  }
  if (!first) reach = last.begin > reader.root_end() ? last.begin - 1 : last.end;
  return reach;
}

// Without a base, an occurrence is convicted only for a NUL in it, for standing at the start of
// an absolute path, or for a ".." segment that overlaps it (which puts the two dots within one
// byte of it). False when no occurrence can be: the path a request names mostly is one of these,
// settled without reading its segments.
bool may_convict_without_base(std::string_view path, std::span<const Occurrence> occurrences) {
  for (const Occurrence& o : occurrences) {
    if (o.begin == 0 || o.begin >= o.end || o.end > path.size()) return true;
    const std::size_t from = o.begin - 1;
    const std::size_t to = std::min<std::size_t>(path.size(), std::size_t{o.end} + 1);
    if (path.substr(from, to - from).find("..") != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

void detect_path(const SinkCheck& check, std::vector<Detection>* out) {
  const std::string_view path = check.sink->value;
  const void* nul_ptr = path.empty() ? nullptr : std::memchr(path.data(), '\0', path.size());
  if (check.sink->base.empty() && nul_ptr == nullptr &&
      !may_convict_without_base(path, check.occurrences))
    return;
  const tp::Root root = tp::SegmentReader(path).root();
  const bool absolute = root != tp::Root::kRelative;

  // The application's base: usable unless it is absolute and the path relative (then the two
  // cannot be compared; the directory written before each input serves instead).
  const tp::Base base(check.sink->base, tp::Style::kPosix);
  const bool have_base = !check.sink->base.empty() && base.valid() &&
                         !(base.root() != tp::Root::kRelative && !absolute);
  tp::Resolution whole;
  if (have_base) {
    whole = tp::resolve(path, base, tp::Style::kPosix);
    if (whole.inside && nul_ptr == nullptr) return;  // the common case: nothing left the base
  }
  // Without a usable base, or when the path never entered it, each occurrence is judged against
  // the directory the application wrote before it.
  const bool derived = !have_base || !whole.entered;
  const std::uint32_t reach = replacement_reach(path, have_base);

  SegmentCursor climbs(path, have_base ? &base : nullptr, true);
  SegmentCursor dotdots(path, nullptr, false);
  std::uint32_t next_nul =
      nul_ptr ? static_cast<std::uint32_t>(static_cast<const char*>(nul_ptr) - path.data())
              : UINT32_MAX;
  int evaluations = 0;

  for (const Occurrence& occ : check.occurrences) {
    if (convicted(*out, occ.input)) continue;
    Facts facts;
    // Next NUL at or after this occurrence's begin (begins never decrease).
    while (next_nul < occ.begin) {
      const void* p = std::memchr(path.data() + next_nul + 1, '\0', path.size() - next_nul - 1);
      next_nul =
          p ? static_cast<std::uint32_t>(static_cast<const char*>(p) - path.data()) : UINT32_MAX;
    }
    if (next_nul < occ.end) {
      facts.nul = true;
      facts.nul_at = next_nul;
    }
    // An absolute input at the start of a path that never entered the base took its place.
    if (absolute && derived && occ.begin == 0 && occ.end >= reach) facts.replaced = true;

    if (have_base && !whole.inside && whole.entered) {
      facts.climbed = climbs.any_in(occ.begin, occ.end);
      if (facts.nul || facts.climbed || facts.replaced) record(check, occ, base, facts, out);
      continue;
    }
    if (derived && !facts.replaced && dotdots.any_in(occ.begin, occ.end) &&
        evaluations < kMaxDerivedEvaluations) {
      ++evaluations;
      std::size_t slash = path.rfind('/', occ.begin == 0 ? 0 : occ.begin - 1);
      std::string_view dir;
      if (occ.begin > 0 && slash != std::string_view::npos)
        dir = path.substr(0, slash == 0 ? 1 : slash);
      tp::Base local(dir, tp::Style::kPosix);
      tp::Resolution r = tp::resolve(path, local, tp::Style::kPosix);
      if (!r.inside && climbs_in_span(path, local, tp::Style::kPosix, occ.begin, occ.end).climbs) {
        facts.climbed = true;
        record(check, occ, local, facts, out);
        continue;
      }
    }
    if (facts.nul || facts.replaced) record(check, occ, have_base ? base : tp::Base(), facts, out);
  }
}

}  // namespace vigil::detect
