// Open-redirect detector, through the public engine API.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "vigil/engine.hpp"

namespace vigil {
namespace {

constexpr std::string_view kBase = "https://shop.example.com/";

Verdict check(std::string_view target, std::vector<std::string_view> values,
              std::string_view base = kBase) {
  std::vector<Input> inputs;
  for (std::string_view v : values) inputs.push_back(Input{Source::kQuery, "next", v});
  Engine engine;
  return engine.check_sink(Sink::of(SinkType::kRedirect, target, base), inputs);
}

bool attack(std::string_view target, std::string_view input) {
  return check(target, {input}).attack();
}

TEST(RedirectDetector, WholeTargetLeavingTheOrigin) {
  for (std::string_view t : {"//evil.example", "/\\evil.example", "\\\\evil.example",
                             "https://evil.example/", "http://shop.example.com/",
                             "https://shop.example.com:8443/", "https:/\\evil.example",
                             "////www.whitelisteddomain.tld@google.com/%2e%2e",
                             "https://\t/example.com@google.com", "javascript:alert(1)",
                             "data:text/html,<script>alert(1)</script>",
                             "jaVAscript://x%0aalert(1)",
                             "https://shop.example.com.evil.example/", "http://169.254.169.254/"}) {
    EXPECT_TRUE(attack(t, t)) << t;
  }
}

TEST(RedirectDetector, WholeTargetStayingOnTheOrigin) {
  for (std::string_view t : {"/account", "account?tab=orders", "https:evil.example", "#top",
                             "https://shop.example.com/cart", "https://SHOP.example.com:443/x",
                             "/https://evil.example", "?next=//evil.example",
                             "/%2F%2Fevil.example", "http:XY>.7d8T\\205pZM@00330.0x3a.54990"}) {
    EXPECT_FALSE(attack(t, t)) << t;
  }
}

// A target that starts with one slash keeps the page's origin, unless what the parser strips
// (tabs and line breaks anywhere, controls and spaces before it) joins two slashes, or the page
// is not http(s).
TEST(RedirectDetector, OneSlashAndWhatTheParserStrips) {
  for (std::string_view t : {"/\t/evil.example", "/\n\\evil.example", "/\r\n/evil.example",
                             " //evil.example", "\x01\t/\t/evil.example", "\\\t\\evil.example"}) {
    EXPECT_TRUE(attack(t, t)) << t;
  }
  for (std::string_view t : {"/", " /", "/ /evil.example", "/x//evil.example", "\\x",
                             "/\x01/evil.example", "/search?q=//evil.example"}) {
    EXPECT_FALSE(attack(t, t)) << t;
  }
  // A page that is not http(s): the target is judged by the parser (a file: page's paths have
  // no host of the page's to keep).
  EXPECT_FALSE(check("/account", {"/account"}, "file:///srv/app/index.html").attack());
  EXPECT_TRUE(check("//evil.example", {"//evil.example"}, "HTTP://shop.example.com/").attack());
  EXPECT_FALSE(check("/account", {"/account"}, "HTTPS://shop.example.com/").attack());
}

TEST(RedirectDetector, InputAfterASlash) {
  auto path = [](std::string_view in) { return "/" + std::string(in); };
  EXPECT_TRUE(attack(path("/evil.example"), "/evil.example"));
  EXPECT_TRUE(attack(path("\\evil.example"), "\\evil.example"));
  EXPECT_TRUE(attack(path("/\\evil.example"), "/\\evil.example"));
  EXPECT_FALSE(attack(path("orders/42"), "orders/42"));
  EXPECT_FALSE(attack(path("https://evil.example"), "https://evil.example"));
}

TEST(RedirectDetector, InputAfterTheOrigin) {
  auto origin = [](std::string_view in) { return "https://shop.example.com" + std::string(in); };
  EXPECT_FALSE(attack(origin("/orders"), "/orders"));
  EXPECT_FALSE(attack(origin("?x=@evil.example"), "?x=@evil.example"));
  EXPECT_TRUE(attack(origin("@evil.example"), "@evil.example"));
  EXPECT_TRUE(attack(origin(".evil.example"), ".evil.example"));
  EXPECT_TRUE(attack(origin(":8443/"), ":8443/"));
  EXPECT_TRUE(attack(origin("http://evil.example"), "http://evil.example"));
  EXPECT_FALSE(attack(origin("Life is like an onion"), "Life is like an onion"));
}

TEST(RedirectDetector, TheApplicationsOwnExternalTargetIsNotTheInputs) {
  // The application redirects to a partner; the input only fills the query.
  EXPECT_FALSE(attack("https://partner.example/cb?order=42", "42"));
  // A short input that coincides with the application's external host.
  EXPECT_FALSE(attack("https://partner.example/cb", "partner"));
  EXPECT_FALSE(attack("https://partner.example/cb", "https"));
  // An input that fills a label of the application's chosen domain stays in it.
  EXPECT_FALSE(attack("https://eu.partner.example/cb", "eu"));
  // Letters inside the scheme, or finishing the last label the application began.
  for (std::string_view w : {"ps", "tp", "ttps", "om", "http"}) {
    EXPECT_FALSE(attack("https://accounts.example.com/oauth/authorize?state=1", w)) << w;
    EXPECT_FALSE(check("https://accounts.example.com/o", {w}, "").attack()) << w;
  }
  // The input that writes the host, or a label after a whole domain, still moves the redirect.
  EXPECT_TRUE(attack("https://accounts.example.com.evil.net/o", "om.evil.net"));
  EXPECT_TRUE(attack("https://accounts.example.comdir/o", "dir"));
  EXPECT_TRUE(attack("javascript:alert(1)", "javascript"));
}

TEST(RedirectDetector, ReasonsNameTheOrigins) {
  Verdict v = check("//evil.example/x", {"//evil.example/x"});
  ASSERT_TRUE(v.attack());
  EXPECT_EQ(v.detections[0].rule, "open-redirect");
  EXPECT_EQ(v.detections[0].cwe, "CWE-601");
  EXPECT_EQ(v.detections[0].reason,
            "input sends the redirect to https://evil.example instead of the site's origin "
            "https://shop.example.com");
  Verdict j = check("javascript:alert(1)", {"javascript:alert(1)"});
  ASSERT_TRUE(j.attack());
  EXPECT_EQ(j.detections[0].reason,
            "input made the redirect target a javascript: URL, whose opaque origin is not the "
            "site's");
}

TEST(RedirectDetector, WithoutABaseOnlyAbsoluteTargetsCount) {
  EXPECT_TRUE(check("https://evil.example/", {"https://evil.example/"}, "").attack());
  EXPECT_FALSE(check("/account", {"/account"}, "").attack());
}

TEST(RedirectDetector, TargetRewrittenByTheServer) {
  // WEBrick writes a scheme-relative Location absolute, with the request's port; a
  // server may lower-case the host. The input is no longer in the target as written.
  constexpr std::string_view kPage = "http://127.0.0.1:8080/";
  for (auto [target, input] : std::initializer_list<std::pair<std::string_view, std::string_view>>{
           {"http://evil.example:8080/login", "//evil.example/login"},
           {"http://evil.example:8080/", "//Evil.Example"},
           {"http://evil.example:8080/", "\\\\evil.example"},
           {"http://evil.example:8080/a?b=c", " /\\evil.example/a?b=c"},
           {"https://evil.example/x", "https://EVIL.example/x"},
           {"http://evil.example/x", "HTTP://evil.example/x#frag"}}) {
    Verdict v = check(target, {"1", input}, kPage);
    ASSERT_TRUE(v.attack()) << target << " from " << input;
    EXPECT_EQ(v.detections[0].input, 1u);
    EXPECT_EQ(v.detections[0].rule, "open-redirect");
    EXPECT_EQ(target.substr(v.detections[0].begin, v.detections[0].end - v.detections[0].begin),
              "evil.example");
  }
  Verdict v = check("http://evil.example:8080/login", {"//evil.example/login"}, kPage);
  ASSERT_TRUE(v.attack());
  EXPECT_EQ(v.detections[0].reason,
            "input names the host the redirect sends to, http://evil.example:8080, with its path "
            "and query: the server rewrote the input into the target (the site's origin is "
            "http://127.0.0.1:8080)");
}

TEST(RedirectDetector, ARewriteNeedsTheInputsHostPathAndQuery) {
  constexpr std::string_view kPage = "http://127.0.0.1:8080/";
  // The application's own external target: an input naming the same host elsewhere, or
  // another path or query on it, did not write it.
  // (Inputs spelled otherwise than the target, so that none occurs in it as written.)
  EXPECT_FALSE(check("https://sso.example/authorize?client=shop", {"https://SSO.example/"}, kPage)
                   .attack());
  EXPECT_FALSE(check("https://sso.example/authorize?client=shop",
                     {"https://SSO.example/authorize"}, kPage).attack());
  EXPECT_FALSE(check("https://sso.example/authorize", {"//SSO.example/authorize?x=1"}, kPage)
                   .attack());
  EXPECT_FALSE(check("https://sso.example/authorize", {"//SSO.example/Authorize"}, kPage)
                   .attack());
  EXPECT_FALSE(check("https://sso.example/authorize", {"SSO.example/authorize", "SSO.example"},
                     kPage).attack());
  // The site's own host, or a target on the site: nothing left the origin.
  EXPECT_FALSE(check("http://127.0.0.1:8080/login", {"//127.0.0.1/login"}, kPage).attack());
  EXPECT_FALSE(check("/login", {"//evil.example/login"}, kPage).attack());
  // A target that is not followed, or an opaque one no server writes from a "//" input.
  EXPECT_FALSE(check("http://[::1/login", {"//evil.example/login"}, kPage).attack());
  EXPECT_FALSE(check("javascript:alert(1)", {"javascript:alert(2)"}, kPage).attack());
}

}  // namespace
}  // namespace vigil
