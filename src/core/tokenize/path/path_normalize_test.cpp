#include "core/tokenize/path/path_normalize.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace vigil::tokenize::path {
namespace {

using namespace std::string_literals;

std::vector<std::string> segments(std::string_view path, Style style = Style::kPosix) {
  std::vector<std::string> out;
  SegmentReader reader(path, style);
  Segment s;
  while (reader.next(&s)) out.emplace_back(path.substr(s.begin, s.end - s.begin));
  return out;
}

TEST(PathSegments, SplitsOnRunsOfSlashesAndKeepsSpans) {
  EXPECT_EQ(segments("a//b/./../c/"), (std::vector<std::string>{"a", "b", ".", "..", "c"}));
  SegmentReader reader("/srv//..");
  Segment s;
  ASSERT_TRUE(reader.next(&s));
  EXPECT_EQ(s.kind, SegmentKind::kName);
  EXPECT_EQ(s.begin, 1u);
  EXPECT_EQ(s.end, 4u);
  ASSERT_TRUE(reader.next(&s));
  EXPECT_EQ(s.kind, SegmentKind::kDotDot);
  EXPECT_EQ(s.begin, 6u);
  EXPECT_EQ(s.end, 8u);
  EXPECT_FALSE(reader.next(&s));
}

TEST(PathSegments, RootKinds) {
  EXPECT_EQ(SegmentReader("a/b").root(), Root::kRelative);
  EXPECT_EQ(SegmentReader("/a").root(), Root::kSlash);
  EXPECT_EQ(SegmentReader("//a").root(), Root::kDoubleSlash);
  EXPECT_EQ(SegmentReader("///a").root(), Root::kSlash);
  EXPECT_EQ(SegmentReader("///a").root_end(), 3u);
  EXPECT_EQ(SegmentReader("").root(), Root::kRelative);
}

TEST(PathSegments, BackslashIsOrdinaryOnPosixAndSeparatesOnWindows) {
  EXPECT_EQ(segments("..\\..\\etc"), (std::vector<std::string>{"..\\..\\etc"}));
  EXPECT_EQ(segments("..\\..\\etc", Style::kWindows),
            (std::vector<std::string>{"..", "..", "etc"}));
  EXPECT_EQ(SegmentReader("\\\\srv\\x", Style::kWindows).root(), Root::kDoubleSlash);
}

TEST(PathSegments, EncodedAndOddDotsAreNames) {
  SegmentReader reader("%2e%2e/..%2f/.../..%c0%af/. ./.\x00."s);
  Segment s;
  while (reader.next(&s)) EXPECT_EQ(s.kind, SegmentKind::kName);
}

TEST(PathNormalize, MatchesPosixpathNormpath) {
  struct Case {
    std::string in, out;
  } cases[] = {
      {"", "."},
      {".", "."},
      {"/", "/"},
      {"//", "//"},
      {"///", "/"},
      {"a/..", "."},
      {"../a", "../a"},
      {"../../a/../b", "../../b"},
      {"/../a", "/a"},
      {"/a/b/../../..", "/"},
      {"//a/../..", "//"},
      {"a/./b//c/", "a/b/c"},
      {"/srv/files/../../etc/passwd", "/etc/passwd"},
      {"/srv/files/a/../b", "/srv/files/b"},
      {"/srv/files/..\\..\\boot.ini", "/srv/files/..\\..\\boot.ini"},
      {"/srv/files/...", "/srv/files/..."},
  };
  for (const auto& c : cases) EXPECT_EQ(normalized_string(c.in), c.out) << c.in;
}

TEST(PathNormalize, WindowsView) {
  EXPECT_EQ(normalized_string("/srv/files/..\\..\\boot.ini", Style::kWindows), "\\boot.ini");
}

TEST(PathNormalize, ReportsNulAndLeadingDotDots) {
  std::vector<Segment> kept;
  Normalized n = normalize("../../a\0b"s, Style::kPosix, &kept);
  EXPECT_EQ(n.root, Root::kRelative);
  EXPECT_EQ(n.leading_dotdots, 2u);
  EXPECT_TRUE(n.has_nul);
  EXPECT_EQ(n.first_nul, 7u);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[2].kind, SegmentKind::kName);
}

TEST(PathConfinement, ClimbOutOfBase) {
  Base base("/srv/files", Style::kPosix);
  Resolution r = resolve("/srv/files/../../etc/passwd", base, Style::kPosix);
  EXPECT_FALSE(r.inside);
  EXPECT_TRUE(r.entered);
  EXPECT_EQ(r.climbs, 2u);
  EXPECT_EQ(r.max_levels_above, 2u);
}

TEST(PathConfinement, RootAbsorbsExtraDotDots) {
  Base base("/srv/app/files", Style::kPosix);
  Resolution r = resolve("/srv/app/files/../../../../../../etc/passwd", base, Style::kPosix);
  EXPECT_FALSE(r.inside);
  EXPECT_EQ(r.climbs, 3u);
  EXPECT_EQ(r.max_levels_above, 3u);
}

TEST(PathConfinement, ReenteringTheBaseStaysInside) {
  Base base("/srv/files/", Style::kPosix);
  EXPECT_TRUE(resolve("/srv/files/../files/x", base, Style::kPosix).inside);
  EXPECT_TRUE(resolve("/srv/files/a/../b", base, Style::kPosix).inside);
  EXPECT_TRUE(resolve("/srv/files", base, Style::kPosix).inside);
  EXPECT_TRUE(resolve("/srv/./files/.", base, Style::kPosix).inside);
  EXPECT_TRUE(resolve("/srv/files//etc/passwd", base, Style::kPosix).inside);
  EXPECT_FALSE(resolve("/srv/filesx", base, Style::kPosix).inside);
  EXPECT_FALSE(resolve("/srv/files/../filesx/a", base, Style::kPosix).inside);
}

TEST(PathConfinement, AbsolutePathElsewhereNeverEnters) {
  Base base("/srv/files", Style::kPosix);
  Resolution r = resolve("/etc/passwd", base, Style::kPosix);
  EXPECT_FALSE(r.inside);
  EXPECT_FALSE(r.entered);
  EXPECT_TRUE(r.replaced_base);
  EXPECT_EQ(r.climbs, 0u);
  EXPECT_FALSE(resolve("/srv/files/../../etc", base, Style::kPosix).replaced_base);
  // "//" is another root than "/".
  EXPECT_FALSE(resolve("//srv/files/x", base, Style::kPosix).inside);
}

TEST(PathConfinement, BackslashesOnlyClimbInTheWindowsView) {
  Base posix("/srv/files", Style::kPosix);
  EXPECT_TRUE(resolve("/srv/files/..\\..\\boot.ini", posix, Style::kPosix).inside);
  Base windows("/srv/files", Style::kWindows);
  Resolution r = resolve("/srv/files/..\\..\\boot.ini", windows, Style::kWindows);
  EXPECT_FALSE(r.inside);
  EXPECT_EQ(r.max_levels_above, 2u);
}

TEST(PathConfinement, RelativeBaseAndWorkingDirectory) {
  Base uploads("uploads", Style::kPosix);
  EXPECT_TRUE(resolve("uploads/a/b", uploads, Style::kPosix).inside);
  EXPECT_FALSE(resolve("uploads/../../x", uploads, Style::kPosix).inside);
  Base cwd("", Style::kPosix);
  EXPECT_TRUE(resolve("a/../b", cwd, Style::kPosix).inside);
  Resolution r = resolve("../../etc/passwd", cwd, Style::kPosix);
  EXPECT_FALSE(r.inside);
  EXPECT_EQ(r.max_levels_above, 2u);
  EXPECT_FALSE(Base("../x", Style::kPosix).valid());
  EXPECT_TRUE(Base("/../x", Style::kPosix).valid());
}

TEST(PathConfinement, DeepBaseIsComparedLeniently) {
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "/d";
  Base base(deep, Style::kPosix);
  EXPECT_EQ(base.depth(), 300u);
  EXPECT_TRUE(resolve(deep + "/x", base, Style::kPosix).inside);
  EXPECT_FALSE(resolve(deep + "/../../x", base, Style::kPosix).inside);
}

TEST(PathConfinement, LinearOnLargeInputs) {
  std::string big = "/srv/files/";
  for (int i = 0; i < 350000; ++i) big += "../";
  big.push_back('\0');
  Base base("/srv/files", Style::kPosix);
  auto start = std::chrono::steady_clock::now();
  Resolution r = resolve(big, base, Style::kPosix);
  std::string n = normalized_string(big);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  EXPECT_FALSE(r.inside);
  EXPECT_TRUE(r.has_nul);
  EXPECT_EQ(n, "/\0"s);
  EXPECT_LT(ms, 500);
}

}  // namespace
}  // namespace vigil::tokenize::path
