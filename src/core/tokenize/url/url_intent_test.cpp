// What the application meant: placement of an input in a URL and host_fits().
#include "core/tokenize/url/url_intent.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vigil::tokenize::url {
namespace {

// Builds "prefix + input + suffix", the intent of the input's span, and whether the real
// parse's host fits it.
struct Case {
  std::string text;
  Intent intent;
  Url real;
  bool fits = false;
};

Case make(std::string_view prefix, std::string_view input, std::string_view suffix) {
  Case c;
  c.text = std::string(prefix) + std::string(input) + std::string(suffix);
  EXPECT_TRUE(build_intent(c.text, prefix.size(), prefix.size() + input.size(), nullptr,
                           &c.intent));
  if (parse_url(c.text, nullptr, &c.real)) c.fits = host_fits(c.intent, c.real);
  return c;
}

TEST(UrlIntent, Placements) {
  EXPECT_EQ(make("http://", "evil.com", "/api").intent.placement, Placement::kHost);
  EXPECT_EQ(make("https://a.com/v1/", "x", "/y").intent.placement, Placement::kPath);
  EXPECT_EQ(make("https://a.com/?q=", "x", "").intent.placement, Placement::kQuery);
  EXPECT_EQ(make("https://a.com/#", "x", "").intent.placement, Placement::kFragment);
  EXPECT_EQ(make("https://", "u", "@a.com/").intent.placement, Placement::kUserinfo);
  Case port = make("http://a.com:", "8080", "/");
  EXPECT_EQ(port.intent.placement, Placement::kPort);
  EXPECT_EQ(port.intent.placeholder, "1");  // "x" is not a port
}

TEST(UrlIntent, WholeHostAllowsAnyHost) {
  Case c = make("http://", "//3232235777/", "/api/health");
  EXPECT_TRUE(c.intent.whole_host);
  EXPECT_TRUE(c.fits);
}

TEST(UrlIntent, SubdomainLabelKeepsTheFixedSuffix) {
  EXPECT_TRUE(make("https://", "images", ".cdn.example.net/x").fits);
  EXPECT_TRUE(make("https://", "a.b", ".cdn.example.net/x").fits);
  EXPECT_TRUE(make("https://", "user@eu", ".cdn.example.net/x").fits);
  EXPECT_TRUE(make("https://", "\uff45\uff55", ".cdn.example.net/x").fits);
  Case moved = make("https://", "evil.com/", ".cdn.example.net/x");
  EXPECT_EQ(moved.intent.host_suffix(), ".cdn.example.net");
  EXPECT_FALSE(moved.fits);
  EXPECT_FALSE(make("https://", "evil.com#", ".cdn.example.net/x").fits);
  EXPECT_FALSE(make("https://", "evil.com?", ".cdn.example.net/x").fits);
  EXPECT_FALSE(make("https://", "evil.com\\", ".cdn.example.net/x").fits);
  EXPECT_FALSE(make("https://", "//10.1/", ".cdn.example.net/x").fits);
}

TEST(UrlIntent, InputGluedToACompleteHost) {
  Case c = make("https://api.example.com", "/v1/users", "");
  EXPECT_TRUE(c.intent.glued_end);
  EXPECT_TRUE(c.fits);
  EXPECT_FALSE(make("https://api.example.com", ".evil.com", "").fits);
  EXPECT_FALSE(make("https://api.example.com", "evil.com", "").fits);
  EXPECT_FALSE(make("https://api.example.com", "@evil.com", "").fits);
  EXPECT_FALSE(make("https://api.example.com", "http://127.0.0.1", "").fits);
  EXPECT_TRUE(make("https://api.example.com", "?q=@evil.com", "").fits);
  EXPECT_TRUE(make("https://api.example.com", "#@evil.com", "").fits);
}

TEST(UrlIntent, CoincidentalOccurrencesInsideTheApplicationsHost) {
  // An input that happens to equal a label of the application's own host lines up with it.
  EXPECT_TRUE(make("https://api.", "example", ".com/v1").fits);
  EXPECT_TRUE(make("https://", "api", ".example.com/v1").fits);
  EXPECT_TRUE(make("https://api.example.", "com", "/v1").fits);
  EXPECT_TRUE(make("https://git", "hub", ".com/x").fits);
}

TEST(UrlIntent, InputInThePathCannotMoveTheHost) {
  EXPECT_TRUE(make("https://api.example.com/v1/users/", "@evil.com", "/avatar").fits);
  EXPECT_TRUE(make("https://api.example.com/v1/users/", "//evil.com", "/avatar").fits);
}

TEST(UrlIntent, NumericPlaceholderShowsAnInternalTemplate) {
  Case c = make("http://10.0.0.", "5", "/status");
  EXPECT_TRUE(is_internal(classify(c.real.host).cls));
  EXPECT_TRUE(intent_is_internal(c.text, 14, 15, nullptr, c.intent));
  Case d = make("http://", "10.0.0.5", "/status");
  EXPECT_FALSE(intent_is_internal(d.text, 7, 15, nullptr, d.intent));
}

}  // namespace
}  // namespace vigil::tokenize::url
