#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {
namespace {

bool fires(std::string_view value, Hit* out = nullptr, std::string_view name = "q",
           Source source = Source::kQuery) {
  Candidate c{value, features_of(value), Form::kRaw, 0, source, name};
  Hit hit;
  bool r = detect_open_redirect(c, &hit);
  if (out != nullptr) *out = hit;
  return r;
}

TEST(OpenRedirectInput, SchemeRelative) {
  Hit hit;
  EXPECT_TRUE(fires("//evil.example", &hit));
  EXPECT_NE(hit.reason.find("evil.example"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("///evil.example/"));
  EXPECT_TRUE(fires("////evil.example//"));
  EXPECT_TRUE(fires("/\\evil.example"));
  EXPECT_TRUE(fires("\\/\\/evil.example/"));
  EXPECT_TRUE(fires("\\\\evil.example\\"));  // a trailing backslash names no share
  EXPECT_TRUE(fires("\\\\evil.example"));
  EXPECT_TRUE(fires("/\t/evil.example"));  // the tab vanishes
  EXPECT_TRUE(fires("//evil%00.example"));  // malformed, still aimed at a host
  EXPECT_TRUE(fires("//0xd83ad6ce/"));
  EXPECT_TRUE(fires("//evil\xE3\x80\x82" "example"));  // ideographic full stop
  EXPECT_TRUE(fires("//site.example@https:///evil.example/"));
  EXPECT_TRUE(fires("//junk>\\x@site.example@evil.example/"));
  EXPECT_TRUE(fires("//https://evil.example//"));
  EXPECT_TRUE(fires("<>//evil.example"));
}

TEST(OpenRedirectInput, ScriptUrls) {
  EXPECT_TRUE(fires("javascript:alert(1)"));
  EXPECT_TRUE(fires("JaVaScRiPt://site.example/%0aalert(1)"));
  EXPECT_TRUE(fires("java\tscript:alert(1)"));
  EXPECT_TRUE(fires("\x19javascript:alert(1)"));
  EXPECT_TRUE(fires("/\\javascript:alert(1);"));
  EXPECT_TRUE(fires("//javascript:alert(1);"));
  EXPECT_TRUE(fires("<>javascript:alert(1);"));
  EXPECT_TRUE(fires("\\x6A\\x61\\x76\\x61\\x73\\x63\\x72\\x69\\x70\\x74\\x3aalert(1)"));
  EXPECT_TRUE(fires("\\u006A\\u0061\\u0076\\u0061\\u0073\\u0063\\u0072\\u0069\\u0070\\u0074\\u003aalert(1)"));
  EXPECT_TRUE(fires("\\152\\141\\166\\141\\163\\143\\162\\151\\160\\164\\072alert(1)"));
  EXPECT_TRUE(fires("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="));
  // A title is not a URL.
  EXPECT_FALSE(fires("JavaScript: The Good Parts"));
  EXPECT_FALSE(fires("javascript:"));
  // Do-nothing link targets.
  EXPECT_FALSE(fires("javascript:void(0)"));
  EXPECT_FALSE(fires("javascript:void(0);"));
  EXPECT_FALSE(fires("javascript:void 0"));
  EXPECT_TRUE(fires("javascript:void(alert(1))"));
}

TEST(OpenRedirectInput, SchemeWithoutSlashes) {
  Hit hit;
  EXPECT_TRUE(fires("http:evil.example", &hit));
  EXPECT_NE(hit.reason.find("without slashes"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("https:evil.example"));  // a path on https pages, a host on http ones
  EXPECT_TRUE(fires("http:0xd83ad6ce"));
  EXPECT_TRUE(fires("http:junk>\\x@0xd8.3856078"));
}

TEST(OpenRedirectInput, FullUrlsWithBypasses) {
  Hit hit;
  EXPECT_TRUE(fires("https://site.example@evil.example/", &hit));
  EXPECT_NE(hit.reason.find("userinfo"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("https://:@evil.example\\@site.example"));
  EXPECT_TRUE(fires("http://;@evil.example"));
  EXPECT_TRUE(fires("http://evil.example:80#@site.example/", &hit));
  EXPECT_NE(hit.reason.find("other parsers"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("http://evil.example\\tsite.example/"));
  EXPECT_TRUE(fires("http://evil.example%2f%2f.site.example/"));
  EXPECT_TRUE(fires("http://site.example:80%40evil.example/"));
  EXPECT_TRUE(fires("http://0xd8.0x3a.0xd6.0xce", &hit));
  EXPECT_NE(hit.reason.find("216.58.214.206"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("http://3627734734/"));
  EXPECT_TRUE(fires("http://[::216.58.214.206]"));
  EXPECT_TRUE(fires("http://472.314.470.462"));
  EXPECT_TRUE(fires("http:///////////evil.example"));
  EXPECT_TRUE(fires("https:/\\evil.example/"));
  EXPECT_TRUE(fires("http://.evil.example"));
  EXPECT_TRUE(fires("https://evil.example/%2f%2e%2e"));
  EXPECT_TRUE(fires("https://evil.example/../"));
  EXPECT_TRUE(fires("https://evil.example//"));
  EXPECT_TRUE(fires("https://site.example/https://evil.example/"));
  EXPECT_TRUE(fires("http://evil.example?.site.example/"));
  EXPECT_TRUE(fires("http://evil.example#.site.example/"));
}

TEST(OpenRedirectInput, SpacesInTheAuthority) {
  // '+' decoded to a space: parsers split such an authority at different places.
  EXPECT_TRUE(fires("http://site.example &@evil.example# @site.example/"));
  EXPECT_TRUE(fires("//x7Yq@site.example @evil.example/"));
  // Prose with a link and a handle.
  EXPECT_FALSE(fires("http://foo.example @bar"));
  EXPECT_FALSE(fires("http://foo.example is @bar.example/ now"));
  EXPECT_FALSE(fires("https://site.example/a b@c.example/"));
}

TEST(OpenRedirectInput, PathsAndPrefixes) {
  EXPECT_TRUE(fires("/https://evil.example/"));
  EXPECT_TRUE(fires("/http:/evil.example"));
  EXPECT_TRUE(fires("/evil.example//.."));
  EXPECT_TRUE(fires("/evil.example/%2f%2e%2e"));
  EXPECT_TRUE(fires("@evil.example"));
  EXPECT_TRUE(fires("\xE3\x80\xB1" "evil.example"));   // U+3031
  EXPECT_TRUE(fires("/\xEF\xBD\xB0" "evil.example"));  // U+FF70
  EXPECT_TRUE(fires("%68%74%74%70%3a%2f%2f%65%76%69%6c%2e%65%78%61%6d%70%6c%65"));
}

// "@host" after the site's origin makes the site's name userinfo only where the host is one the
// browser can reach: every top-level domain (the Public Suffix List, Debian's publicsuffix) is
// one; a file's name ("@notes.txt") or a name with bytes that are not UTF-8 is not.
TEST(OpenRedirectInput, AtHostNeedsAReachableName) {
  const char* kList = "/usr/share/publicsuffix/public_suffix_list.dat";
  std::ifstream list(kList);
  ASSERT_TRUE(list) << kList << " is missing (scripts/install-deps installs publicsuffix)";
  std::size_t tlds = 0;
  for (std::string line; std::getline(list, line);) {
    if (line.empty() || line.starts_with("//")) continue;
    const std::size_t start = line.find_first_not_of("*.!");
    if (start == std::string::npos || line.find('.', start) != std::string::npos) continue;
    ++tlds;
    EXPECT_TRUE(fires("@evil." + line.substr(start))) << line;
  }
  EXPECT_GT(tlds, 1000u);
  EXPECT_TRUE(fires("@evil.example:8080"));
  EXPECT_TRUE(fires("@evil.zip"));
  EXPECT_FALSE(fires("@notes.txt"));
  EXPECT_FALSE(fires("@2x.png", nullptr, "1", Source::kPath));
  EXPECT_FALSE(fires("@scope.JSON"));
  EXPECT_FALSE(fires("@backup.tar.gz", nullptr, "file"));
  // CPython's test_httpservers names a file with bytes that are not UTF-8 (a lone surrogate).
  EXPECT_FALSE(fires("@test_5889_tmp\xED\xB3\x80w\xED\xB3\x80.txt", nullptr, "1", Source::kPath));
  EXPECT_FALSE(fires("@evil\xED\xB3\x80.com"));
}

TEST(OpenRedirectInput, RedirectParametersWrittenInTheValue) {
  Hit hit;
  EXPECT_TRUE(fires("?next=https://evil.example", &hit));
  EXPECT_NE(hit.reason.find("next"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("/redirect?url=/\\/evil.example&next=/\\/evil.example"));
  EXPECT_TRUE(fires("/out?/\\evil.example"));
  EXPECT_TRUE(fires("?view=evil.example"));
  EXPECT_TRUE(fires("https://shop.example/search?q=%2F%2Fevil.example", nullptr, "Referer",
                    Source::kHeader));
}

TEST(OpenRedirectInput, RedirectorEndpoints) {
  Hit hit;
  EXPECT_TRUE(fires("/out?evil.example.com", &hit));
  EXPECT_NE(hit.reason.find("redirector"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("/redirect/evil.example.com"));
  EXPECT_TRUE(fires("/go/evil.example.org/"));
  // File names are no hosts; other endpoints are no redirectors.
  EXPECT_FALSE(fires("/redirect/index.html"));
  EXPECT_FALSE(fires("/out?report.pdf"));
  EXPECT_FALSE(fires("/docs/evil.example.com"));
}

TEST(OpenRedirectInput, LinksStayClean) {
  // A full URL is a link: in any parameter (even one called "next"), and always in a Referer.
  EXPECT_FALSE(fires("https://github.com/koalaman/shellcheck", nullptr, "next"));
  EXPECT_FALSE(fires("http://www.netlib.org/lapack/"));
  EXPECT_FALSE(fires("https://evil.example/", nullptr, "Referer", Source::kHeader));
  EXPECT_FALSE(fires("https://user@bitbucket.example/team/repo.git"));
  EXPECT_FALSE(fires("https://user:secret@ftp.example/pub/"));
  EXPECT_FALSE(fires("http://127.0.0.1:8000/"));  // canonical: not a bypass
  EXPECT_FALSE(fires("https://web.archive.org/web/2020/https://example.com/"));
  EXPECT_FALSE(fires("https://codesearch.example/search?q=This+file+provides"));
  EXPECT_FALSE(fires("http://metis.example/fortune/dev@metis.example/"));  // '@' in the path
  // Share links carry full URLs in parameters named like redirect targets (u, url).
  EXPECT_FALSE(fires("https://www.facebook.com/sharer/sharer.php?u=https://news.example/a"));
  EXPECT_FALSE(fires("https://www.google.com/url?q=https://news.example/a&url=https://x.example/"));
  // Paths, comments, Windows shares, e-mail, handles, prose.
  EXPECT_FALSE(fires("/usr/share/doc/README.txt"));
  EXPECT_FALSE(fires("/index.html"));
  EXPECT_FALSE(fires("// TODO: check evil.example later"));
  EXPECT_FALSE(fires("//comment"));
  EXPECT_FALSE(fires("\\\\fileserver.corp.example\\share\\report.pdf"));
  EXPECT_FALSE(fires("firstname.lastname@example.com"));
  EXPECT_FALSE(fires("@nickname"));
  EXPECT_FALSE(fires("12:30 / 14:00"));
  EXPECT_FALSE(fires("ーの長い音"));
  EXPECT_FALSE(fires("%20%20"));
}

TEST(OpenRedirectInput, LongValuesStayLinear) {
  std::string v(1 << 20, '/');
  v += "x";
  EXPECT_FALSE(fires(v));
  std::string w(1 << 20, '@');
  EXPECT_FALSE(fires(w));
}

}  // namespace
}  // namespace vigil::detect::input
