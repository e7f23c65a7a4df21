// The WHATWG URL parser: components as spans, failures, relative resolution.
#include "core/tokenize/url/url_parser.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace vigil::tokenize::url {
namespace {

std::string span(std::string_view text, const Span& s) {
  if (!s.present) return "<none>";
  return std::string(text.substr(s.begin, s.end - s.begin));
}

std::string host(const Url& u) {
  char buf[300];
  return std::string(buf, u.host.serialize(buf, sizeof(buf)));
}

// "scheme host port" of a parse, or "FAIL <error>".
std::string summary(std::string_view text, std::string_view base = {}) {
  Url b, u;
  const Url* bp = nullptr;
  if (!base.empty()) {
    EXPECT_TRUE(parse_url(base, nullptr, &b));
    bp = &b;
  }
  if (!parse_url(text, bp, &u)) return "FAIL " + std::string(url_error_name(u.error));
  return std::string(u.scheme()) + " " + host(u) + " " + std::to_string(u.effective_port());
}

TEST(UrlParser, ComponentsAreSpansOfTheText) {
  std::string_view t = "https://user:pw@Example.COM:8443/a/b?q=1#frag";
  Url u;
  ASSERT_TRUE(parse_url(t, nullptr, &u));
  EXPECT_EQ(u.scheme(), "https");
  EXPECT_TRUE(u.special);
  EXPECT_EQ(span(t, u.scheme_span), "https");
  EXPECT_EQ(span(t, u.userinfo_span), "user:pw");
  EXPECT_TRUE(u.has_userinfo());
  EXPECT_EQ(span(t, u.host_span), "Example.COM");
  EXPECT_EQ(host(u), "example.com");
  EXPECT_EQ(span(t, u.port_span), "8443");
  EXPECT_EQ(u.port, 8443);
  EXPECT_EQ(span(t, u.path_span), "/a/b");
  EXPECT_EQ(span(t, u.query_span), "q=1");
  EXPECT_EQ(span(t, u.fragment_span), "frag");
  EXPECT_EQ(u.origin_end, 32u);  // the '/' that ended the port
}

TEST(UrlParser, UserinfoEndsAtTheLastAtSign) {
  std::string_view t = "http://a@b@evil.com/";
  Url u;
  ASSERT_TRUE(parse_url(t, nullptr, &u));
  EXPECT_EQ(span(t, u.userinfo_span), "a@b");
  EXPECT_EQ(host(u), "evil.com");
  EXPECT_EQ(summary("http://allowed.example.com@127.1/"), "http 127.0.0.1 80");
  // '#', '?' and '\' end the authority first: the '@' after them is not userinfo.
  EXPECT_EQ(summary("http://127.0.0.1#@allowed.example.com/"), "http 127.0.0.1 80");
  EXPECT_EQ(summary("http://127.0.0.1?@allowed.example.com/"), "http 127.0.0.1 80");
  EXPECT_EQ(summary("http://127.1.1.1:80\\@127.2.2.2:80/"), "http 127.1.1.1 80");
  EXPECT_EQ(summary("foo://127.1.1.1\\@127.2.2.2/"), "foo 127.2.2.2 -1");
}

TEST(UrlParser, SpecialSchemesTakeAnyRunOfSlashesAndBackslashes) {
  EXPECT_EQ(summary("https:evil.com"), "https evil.com 443");
  EXPECT_EQ(summary("https:\\\\evil.com"), "https evil.com 443");
  EXPECT_EQ(summary("https:////\\/evil.com/x"), "https evil.com 443");
  EXPECT_EQ(summary("HTTP://EVIL.com:80/"), "http evil.com 80");
}

TEST(UrlParser, StripsControlsAndRemovesTabsAndNewlines) {
  EXPECT_EQ(summary("  \x01http://evil.com/ \x00"), "http evil.com 80");
  EXPECT_EQ(summary("ht\ttp://ev\nil.co\rm/"), "http evil.com 80");
  EXPECT_EQ(summary("\x19Jav\tasc\tript:alert(1)"), "javascript  -1");
  std::string_view t = "http://lo\tcal\nhost:8\t0/";
  Url u;
  ASSERT_TRUE(parse_url(t, nullptr, &u));
  EXPECT_EQ(host(u), "localhost");
  EXPECT_EQ(span(t, u.host_span), "lo\tcal\nhost");  // tabs stay inside the span
  EXPECT_EQ(u.port, -1);                             // 80 is http's default
}

TEST(UrlParser, Ports) {
  EXPECT_EQ(summary("http://h:8080/"), "http h 8080");
  EXPECT_EQ(summary("http://h:/"), "http h 80");
  EXPECT_EQ(summary("https://h:0000443/"), "https h 443");
  EXPECT_EQ(summary("http://h:65535/"), "http h 65535");
  EXPECT_EQ(summary("http://h:65536/"), "FAIL invalid port");
  EXPECT_EQ(summary("http://h:99999999999999999999/"), "FAIL invalid port");
  EXPECT_EQ(summary("http://h:8a/"), "FAIL invalid port");
  EXPECT_EQ(summary("http://h:-1/"), "FAIL invalid port");
}

TEST(UrlParser, Failures) {
  EXPECT_EQ(summary(""), "FAIL relative reference without a base URL");
  EXPECT_EQ(summary("just words here"), "FAIL relative reference without a base URL");
  EXPECT_EQ(summary("//evil.com"), "FAIL relative reference without a base URL");
  EXPECT_EQ(summary("http://"), "FAIL missing host");
  EXPECT_EQ(summary("http://user@/x"), "FAIL missing host");
  EXPECT_EQ(summary("http://:80/"), "FAIL missing host");
  EXPECT_EQ(summary("http://a b/"), "FAIL invalid host");
  EXPECT_EQ(summary("http://1.2.3.256/"), "FAIL invalid host");
  EXPECT_EQ(summary("http://[::1/"), "FAIL invalid host");
  EXPECT_EQ(summary("https://Love is never asking why?.cdn.example.net/"), "FAIL invalid host");
}

TEST(UrlParser, NonSpecialAndOpaqueUrls) {
  Url u;
  std::string_view t = "javascript:alert(document.domain)//";
  ASSERT_TRUE(parse_url(t, nullptr, &u));
  EXPECT_TRUE(u.opaque_path);
  EXPECT_EQ(u.host.kind, HostKind::kNone);
  EXPECT_EQ(span(t, u.path_span), "alert(document.domain)//");
  EXPECT_FALSE(has_tuple_origin(u));
  EXPECT_EQ(summary("gopher://127.0.0.1:6379/_INFO"), "gopher 127.0.0.1 6379");
  EXPECT_EQ(summary("QOTD: a quote"), "qotd  -1");
  EXPECT_EQ(summary("jar:http://127.0.0.1!/"), "jar  -1");
  EXPECT_EQ(summary("dict://[::1]:11211/"), "dict [::1] 11211");
}

TEST(UrlParser, FileUrls) {
  EXPECT_EQ(summary("file:///etc/passwd"), "file  -1");
  EXPECT_EQ(summary("file://localhost/etc/passwd"), "file  -1");
  EXPECT_EQ(summary("file://\\/\\/etc/passwd"), "file  -1");
  EXPECT_EQ(summary("file://c:/windows/win.ini"), "file  -1");
  EXPECT_EQ(summary("file://server/share"), "file server -1");
  EXPECT_EQ(summary("file://a b/"), "FAIL invalid host");
}

TEST(UrlParser, RelativeResolution) {
  constexpr std::string_view base = "https://shop.example.com/cart/";
  EXPECT_EQ(summary("/welcome", base), "https shop.example.com 443");
  EXPECT_EQ(summary("welcome?x=1", base), "https shop.example.com 443");
  EXPECT_EQ(summary("?x", base), "https shop.example.com 443");
  EXPECT_EQ(summary("#top", base), "https shop.example.com 443");
  EXPECT_EQ(summary("", base), "https shop.example.com 443");
  EXPECT_EQ(summary("//evil.com/x", base), "https evil.com 443");
  EXPECT_EQ(summary("/\\evil.com", base), "https evil.com 443");
  EXPECT_EQ(summary("\\\\evil.com", base), "https evil.com 443");
  EXPECT_EQ(summary("\\/evil.com", base), "https evil.com 443");
  EXPECT_EQ(summary("///evil.com", base), "https evil.com 443");
  // The base's own scheme without slashes is a relative reference ...
  EXPECT_EQ(summary("https:evil.example", base), "https shop.example.com 443");
  // ... but with slashes, or with another special scheme, it is absolute.
  EXPECT_EQ(summary("https://evil.example", base), "https evil.example 443");
  EXPECT_EQ(summary("http:evil.example", base), "http evil.example 80");
  EXPECT_EQ(summary("https:/\\evil.example", base), "https evil.example 443");
  Url b, u;
  ASSERT_TRUE(parse_url(base, nullptr, &b));
  ASSERT_TRUE(parse_url("/x", &b, &u));
  EXPECT_TRUE(u.scheme_from_base);
  EXPECT_TRUE(u.authority_from_base);
  EXPECT_TRUE(same_origin(u, b));
  ASSERT_TRUE(parse_url("//shop.example.com:443/x", &b, &u));
  EXPECT_FALSE(u.authority_from_base);
  EXPECT_TRUE(same_origin(u, b));
  ASSERT_TRUE(parse_url("//shop.example.com:444/x", &b, &u));
  EXPECT_FALSE(same_origin(u, b));
  // A base with an opaque path takes only fragments.
  Url opaque;
  ASSERT_TRUE(parse_url("mailto:a@b", nullptr, &opaque));
  EXPECT_FALSE(parse_url("/x", &opaque, &u));
  EXPECT_TRUE(parse_url("#x", &opaque, &u));
}

TEST(UrlParser, ParsesPiecesWithoutCopying) {
  Url u;
  ASSERT_TRUE(parse_url(Text("https://", "evil.com", ".cdn.example.net/x"), nullptr, &u));
  EXPECT_EQ(host(u), "evil.com.cdn.example.net");
  EXPECT_EQ(u.host_span.begin, 8u);
  EXPECT_EQ(u.host_span.end, 32u);
}

TEST(UrlParser, LinearOnLargeAndHostileInput) {
  std::string big = "http://" + std::string(1 << 20, 'a') + "/";
  std::string tabs = "http://a" + std::string(1 << 20, '\t') + "b/";
  std::string slashes = "https:" + std::string(1 << 20, '/') + "x";
  std::string junk(1 << 20, '\0');
  for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>(i * 131 + 7);
  auto t0 = std::chrono::steady_clock::now();
  Url u;
  EXPECT_TRUE(parse_url(big, nullptr, &u));
  EXPECT_TRUE(parse_url(tabs, nullptr, &u));
  EXPECT_EQ(host(u), "ab");
  EXPECT_TRUE(parse_url(slashes, nullptr, &u));
  parse_url(junk, nullptr, &u);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0).count();
  // Guards against quadratic work (minutes at this size), not a speed target (that is
  // bench/micro): CI shares a loaded machine, and sanitizer builds are slower still.
  EXPECT_LT(ms, 10000);
}

}  // namespace
}  // namespace vigil::tokenize::url
