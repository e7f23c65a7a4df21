// Lexical path normalisation and base-directory confinement, zero-copy.
//
// A path is read as a root (none, "/" or "//") followed by segments separated by runs of
// separators. Segments are spans of the path: nothing is copied. Normalisation is the POSIX
// lexical one that Python's posixpath.normpath performs: "." and empty segments vanish, ".."
// removes the segment before it, ".." at an absolute root stays at the root, and ".." at the
// front of a relative path is kept. No file system is consulted: symbolic links are not
// followed, and "a/../b" is "b" whether or not "a" exists.
//
// Styles. kPosix treats only '/' as a separator; every other byte (a backslash, a NUL, "%2f")
// is an ordinary character of a segment, as the kernel sees it. kWindows also treats '\\' as a
// separator: a view of what the same text would mean to a Windows server, used to explain
// payloads written for one (drive letters and device names are not interpreted).
//
// Confinement. A Base is a directory the application meant to stay in; a Confinement walks a
// path's segments against it with O(1) state (counters, no stack) and says, after each segment,
// whether the path so far is the base or below it, and whether a ".." just climbed out of it.
// That is what lets a detector name the exact ".." segments that left the base.
//
// Complexity: every function is linear in the length of its input, on any bytes (NUL, invalid
// UTF-8, megabytes), with no recursion. Only normalize() and normalized_string() allocate (their
// result). Thread safety: the classes are values owned by one thread; functions are reentrant.
#ifndef VIGIL_CORE_TOKENIZE_PATH_PATH_NORMALIZE_HPP_
#define VIGIL_CORE_TOKENIZE_PATH_PATH_NORMALIZE_HPP_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::tokenize::path {

enum class Style : std::uint8_t {
  kPosix,    // '/' separates; backslashes are ordinary characters (what Linux opens)
  kWindows,  // '/' and '\\' separate (a view, for explanations)
};

// What a path starts from.
enum class Root : std::uint8_t {
  kRelative,     // no leading separator: resolved against the working directory
  kSlash,        // one, or three or more, leading separators: "/"
  kDoubleSlash,  // exactly two: "//" (POSIX leaves its meaning to the implementation; kept
                 // apart from "/" as posixpath.normpath keeps it)
};

enum class SegmentKind : std::uint8_t {
  kName,    // any other non-empty run of non-separator bytes ("...", "..%2f", "a\\..")
  kDot,     // "."
  kDotDot,  // ".."
};

// One segment: [begin, end) in the path, separators excluded; never empty.
struct Segment {
  SegmentKind kind = SegmentKind::kName;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

constexpr bool is_separator(char c, Style style) noexcept {
  return c == '/' || (style == Style::kWindows && c == '\\');
}

// A cursor over the segments of a path, left to right. Paths longer than 4 GiB are read up to
// their first 4 GiB (offsets are 32-bit).
class SegmentReader {
 public:
  explicit SegmentReader(std::string_view path, Style style = Style::kPosix) noexcept;

  Root root() const noexcept { return root_; }
  // Offset just past the leading separators (0 for a relative path).
  std::uint32_t root_end() const noexcept { return root_end_; }

  // Stores the next segment in *out and returns true, or returns false at the end.
  bool next(Segment* out) noexcept;

 private:
  std::string_view path_;
  Style style_;
  Root root_ = Root::kRelative;
  std::uint32_t root_end_ = 0;
  std::size_t pos_ = 0;
};

// The result of normalize(): the root, and how the kept segments are to be read.
struct Normalized {
  Root root = Root::kRelative;
  std::uint32_t leading_dotdots = 0;  // relative paths: ".." kept at the front
  bool has_nul = false;               // the path holds a NUL byte (a C API stops there)
  std::uint32_t first_nul = 0;        // its offset, when has_nul
};

// Lexical normalisation. *kept receives the surviving segments in order (cleared first): the
// leading ".." of a relative path (kDotDot), then names. Linear time; allocates only *kept.
Normalized normalize(std::string_view path, Style style, std::vector<Segment>* kept);

// posixpath.normpath(path) for kPosix ("." for an empty relative result, "/" or "//" for a
// bare root); for kWindows the same with '\\' joining the segments.
std::string normalized_string(std::string_view path, Style style = Style::kPosix);

// A normalised base directory. Keeps spans into the text it was built from, which must
// outlive it. Bases deeper than kMaxDepth segments keep only their first kMaxDepth segments'
// names; deeper positions compare equal to any name (lenient: fewer convictions, never more).
class Base {
 public:
  static constexpr std::uint32_t kMaxDepth = 128;

  Base() noexcept = default;
  Base(std::string_view text, Style style) noexcept;

  // False when the base cannot serve: it is a relative path that climbs above its own start
  // ("../x"), whose position the walk cannot know.
  bool valid() const noexcept { return valid_; }
  Root root() const noexcept { return root_; }
  std::uint32_t depth() const noexcept { return depth_; }
  std::string_view text() const noexcept { return text_; }
  // True when `name` matches the base's segment at `index` (< depth()).
  bool matches(std::uint32_t index, std::string_view name) const noexcept;

 private:
  std::string_view text_;
  std::array<Segment, kMaxDepth> segments_{};
  std::uint32_t depth_ = 0;
  Root root_ = Root::kRelative;
  bool valid_ = true;
};

// What one segment did to the walk.
enum class Step : std::uint8_t {
  kStay,        // ".": nothing
  kFollowBase,  // a name that is the base's next segment: one level closer to the base
  kDescend,     // a name: one level deeper, under the base or beside its path
  kAscend,      // "..": one level up, still under the base or beside its path
  kClimb,       // "..": one level up from the base or from one of its ancestors (leaves it)
  kAtRoot,      // "..": at an absolute root, where it has no effect
};

// One lexical walk of a path's segments against a base. O(1) state: the number of base
// segments matched, the depth below or beside the base's path, and (relative paths) how far
// above the starting directory the walk went.
class Confinement {
 public:
  // A path with `path_root` walked against `base`. A root that differs from the base's (a
  // relative path against an absolute base, "//" against "/") never enters the base.
  Confinement(const Base& base, Root path_root) noexcept;

  // Feeds the next segment of `path` (as read by a SegmentReader).
  Step step(std::string_view path, const Segment& segment) noexcept;

  // The path so far is the base itself or below it.
  bool inside() const noexcept;
  // inside() was true at some point of the walk (including its start).
  bool entered() const noexcept { return entered_; }
  // The most levels above the base the walk stood at while on the base's path (3 for
  // "/srv/app/files/../../../.." against /srv/app/files: the root absorbs the fourth).
  std::uint32_t max_levels_above() const noexcept { return max_above_; }
  // Levels above the base right now; meaningful after a kClimb (the walk is on the base's path).
  std::uint32_t levels_above() const noexcept;

 private:
  void note_level() noexcept;

  const Base* base_;
  Root path_root_;
  bool foreign_ = false;
  bool entered_ = false;
  std::uint32_t matched_ = 0;  // base segments matched, from its root
  std::uint32_t off_ = 0;      // levels below base (matched_ == depth) or beside its path
  std::uint32_t above_ = 0;    // relative paths: levels above the starting directory
  std::uint32_t max_above_ = 0;
};

// A whole path against a base, in one pass.
struct Resolution {
  Root root = Root::kRelative;  // the path's root
  bool inside = false;          // the normalised path is the base or below it
  bool entered = false;         // the walk was inside the base at some point
  // The path has a root and never passed through the base: what os.path.join(base, p) gives
  // when p is absolute (the base is replaced).
  bool replaced_base = false;
  bool has_nul = false;  // a NUL byte is in the path
  std::uint32_t first_nul = 0;
  std::uint32_t climbs = 0;  // ".." segments that climbed out of the base or above it
  std::uint32_t max_levels_above = 0;
};
Resolution resolve(std::string_view path, const Base& base, Style style) noexcept;

}  // namespace vigil::tokenize::path

#endif  // VIGIL_CORE_TOKENIZE_PATH_PATH_NORMALIZE_HPP_
