// Path traversal detector, through the public engine API (occurrence search included).
#include <gtest/gtest.h>

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "core/detect/detector.hpp"
#include "vigil/engine.hpp"

namespace vigil {
namespace {

using namespace std::string_literals;

Verdict check(std::string_view value, std::string_view base, std::vector<std::string_view> values) {
  std::vector<Input> inputs;
  for (std::string_view v : values) inputs.push_back(Input{Source::kQuery, "file", v});
  Engine engine;
  return engine.check_sink(Sink::of(SinkType::kPath, value, base), inputs);
}

bool attack(std::string_view value, std::string_view base, std::string_view input) {
  return check(value, base, {input}).attack();
}

TEST(PathDetector, DotDotClimbingOutOfTheBase) {
  Verdict v = check("/srv/files/../../../etc/passwd", "/srv/files", {"../../../etc/passwd"});
  ASSERT_TRUE(v.attack());
  const Detection& d = v.detections[0];
  EXPECT_EQ(d.rule, "path-traversal");
  EXPECT_EQ(d.cwe, "CWE-22");
  EXPECT_EQ(d.begin, 11u);
  EXPECT_EQ(d.reason, "input climbed 2 levels above /srv/files with ../ and reached /etc/passwd");
  ASSERT_EQ(d.tokens.size(), 2u);  // the third ".." is absorbed by the root
  EXPECT_EQ(d.tokens[0].kind, "dotdot");
  EXPECT_EQ(d.tokens[0].begin, 11u);
}

TEST(PathDetector, TemplatesOfTheApplication) {
  // prefix, suffix, sub-directory
  EXPECT_TRUE(attack("/srv/app/files/../secret.txt", "/srv/app/files", "../secret.txt"));
  EXPECT_TRUE(
      attack("/srv/app/templates/../../etc/issue.html", "/srv/app/templates", "../../etc/issue"));
  EXPECT_TRUE(attack("/srv/app/uploads/../../../etc/passwd/avatar.png", "/srv/app/uploads",
                     "../../../etc/passwd"));
  // os.path.join with an absolute input: the input replaced the base
  Verdict v = check("/etc/shadow", "/srv/app/files", {"/etc/shadow"});
  ASSERT_TRUE(v.attack());
  EXPECT_EQ(v.detections[0].reason,
            "input is an absolute path that replaced the base directory /srv/app/files: the "
            "application opens /etc/shadow");
}

TEST(PathDetector, DotDotThatStaysInsideIsClean) {
  EXPECT_FALSE(attack("/srv/files/a/../b.txt", "/srv/files", "a/../b.txt"));
  EXPECT_FALSE(attack("/srv/files/../files/report.pdf", "/srv/files", "../files/report.pdf"));
  EXPECT_FALSE(attack("/srv/files/./docs//x", "/srv/files", "./docs//x"));
  // An absolute input concatenated after the base stays under it.
  EXPECT_FALSE(attack("/srv/files//etc/passwd", "/srv/files", "/etc/passwd"));
}

TEST(PathDetector, EncodedAndBackslashFormsAreLiteral) {
  EXPECT_FALSE(attack("/srv/files/..%2f..%2fetc%2fpasswd", "/srv/files", "..%2f..%2fetc%2fpasswd"));
  EXPECT_FALSE(attack("/srv/files/..%c0%af..%c0%afetc", "/srv/files", "..%c0%af..%c0%afetc"));
  EXPECT_FALSE(attack("/srv/files/%252e%252e%252f", "/srv/files", "%252e%252e%252f"));
  EXPECT_FALSE(
      attack("/srv/files/..\\..\\windows\\win.ini", "/srv/files", "..\\..\\windows\\win.ini"));
  EXPECT_FALSE(attack("/srv/files/....//....//etc", "/srv/files", "....//....//etc"));
}

TEST(PathDetector, DecodedFormInThePathIsFound) {
  // The application url-decoded the input before joining it.
  Verdict v = check("/srv/files/../../etc/passwd", "/srv/files", {"..%2f..%2fetc%2fpasswd"});
  ASSERT_TRUE(v.attack());
  EXPECT_EQ(v.detections[0].form, Form::kUrlDecoded);
}

TEST(PathDetector, NulByte) {
  std::string value = "/srv/files/..\\..\\boot.ini\0.png"s;
  std::string input = "..\\..\\boot.ini\0"s;
  Verdict v = check(value, "/srv/files", {input});
  ASSERT_TRUE(v.attack());
  EXPECT_EQ(v.detections[0].reason,
            "input carried a NUL byte: C file APIs stop there and open "
            "/srv/files/..\\..\\boot.ini (read with \\ as a separator, as on Windows, it "
            "climbs 2 levels above /srv/files)");
  EXPECT_EQ(v.detections[0].tokens.back().kind, "nul");
  // A NUL that the application wrote itself is not the input's.
  EXPECT_FALSE(check("/srv/files/report\0.pdf"s, "/srv/files", {"report"}).attack());
}

TEST(PathDetector, CoincidentalOccurrencesStayClean) {
  // Short inputs matching the application's own text, while another input climbs.
  Verdict v =
      check("/srv/files/../../etc/passwd", "/srv/files", {"es", "1", "/srv", "../../etc/passwd"});
  ASSERT_EQ(v.detections.size(), 1u);
  EXPECT_EQ(v.detections[0].input, 3u);
  // The application climbs by itself; the input is a plain name.
  EXPECT_FALSE(attack("/srv/files/../static/logo.png", "/srv/files", "logo.png"));
  // The input matches the start of the base, which the path did not leave.
  EXPECT_FALSE(attack("/srv/files/a.txt", "/srv/files", "/srv"));
}

TEST(PathDetector, WithoutABaseTheDirectoryBeforeTheInputServes) {
  Verdict v = check("/var/www/static/../../../etc/passwd", "", {"../../../etc/passwd"});
  ASSERT_TRUE(v.attack());
  EXPECT_EQ(v.detections[0].reason,
            "input climbed 3 levels above /var/www/static with ../ and reached /etc/passwd");
  EXPECT_FALSE(attack("/var/www/static/css/../img/a.png", "", "css/../img/a.png"));
  EXPECT_TRUE(attack("../../etc/passwd", "", "../../etc/passwd"));
  EXPECT_TRUE(attack("/etc/passwd", "", "/etc/passwd"));
  EXPECT_FALSE(attack("/var/www/static/img/a.png", "", "/var/www"));
}

// Without a base only a NUL, an absolute input at the path's start or a ".." segment that
// overlaps the input convicts: other paths are settled without reading their segments. Each
// of the three is still found where it touches the input by a single byte.
TEST(PathDetector, WithoutABaseOnlyANulAStartOrADotDotSegmentConvicts) {
  EXPECT_FALSE(attack("/srv/app/files/manual.txt", "", "manual.txt"));
  EXPECT_FALSE(attack("/srv/app/files/v1..2/notes.txt", "", "v1..2"));  // ".." but no segment
  // The input's first dot and the application's make "..".
  EXPECT_TRUE(attack("/srv/files/../etc/passwd", "", "./etc/passwd"));
  EXPECT_TRUE(check("/srv/files/report.pdf\0.png"s, "", {"report.pdf\0"s}).attack());
  EXPECT_TRUE(attack("/etc/passwd", "", "/etc/passwd"));
}

TEST(PathDetector, BaseThatThePathNeverEnters) {
  // A mis-declared base: judged against the directory before the input.
  EXPECT_TRUE(attack("/var/www/../../etc/passwd", "/srv/files", "../../etc/passwd"));
  EXPECT_FALSE(attack("/var/www/a/../b", "/srv/files", "a/../b"));
}

// The engine does not search one-byte inputs (EngineOptions::min_input_length is 2); called
// directly, the detector convicts a lone "/" joined as os.path.join does and a lone NUL.
std::size_t detect_one_byte(std::string_view value, std::string_view base, std::string_view input) {
  Sink sink = Sink::of(SinkType::kPath, value, base);
  Input in{Source::kQuery, "file", input};
  std::vector<detect::Occurrence> occurrences;
  for (std::size_t p = value.find(input); p != std::string_view::npos; p = value.find(input, p + 1))
    occurrences.push_back(detect::Occurrence{0, Form::kRaw, 0, static_cast<std::uint32_t>(p),
                                             static_cast<std::uint32_t>(p + input.size())});
  detect::SinkCheck check{&sink, std::span<const Input>(&in, 1), occurrences};
  std::vector<Detection> out;
  detect::detect_path(check, &out);
  return out.size();
}

TEST(PathDetector, OneByteInputs) {
  EXPECT_EQ(detect_one_byte("/", "/srv/files", "/"), 1u);
  EXPECT_EQ(detect_one_byte("/srv/files/\0"s, "/srv/files", "\0"s), 1u);
  EXPECT_EQ(detect_one_byte("/srv/files//", "/srv/files", "/"), 0u);
  EXPECT_EQ(detect_one_byte("/srv/files/a/b.txt", "/srv/files", "/"), 0u);
}

TEST(PathDetector, LargePathIsFast) {
  std::string value = "/srv/files/";
  std::string input;
  for (int i = 0; i < 200000; ++i) input += "a/../";
  value += input;
  auto start = std::chrono::steady_clock::now();
  Verdict v = check(value, "/srv/files", {input, "a/", "../"});
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  EXPECT_FALSE(v.attack());
  // Guards against quadratic work (minutes at this size), not a speed target (that is
  // bench/micro): CI shares a loaded machine, and sanitizer builds are slower still.
  EXPECT_LT(ms, 10000);
}

}  // namespace
}  // namespace vigil
