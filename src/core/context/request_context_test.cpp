#include "vigil/request.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace vigil {
namespace {

using Inputs = std::multimap<std::string, std::string>;

// "source:name" -> value for every input.
Inputs collect(const RequestContext& ctx) {
  Inputs out;
  for (const Input& in : ctx.inputs())
    out.emplace(std::string(source_name(in.source)) + ":" + std::string(in.name), std::string(in.value));
  return out;
}

std::string get(const Inputs& in, const std::string& key) {
  auto it = in.find(key);
  return it == in.end() ? "<missing " + key + ">" : it->second;
}

bool has_diag(const RequestContext& ctx, std::string_view code) {
  for (const auto& d : ctx.diagnostics())
    if (d.code == code) return true;
  return false;
}

TEST(RequestContext, QueryPathHeadersCookies) {
  Header headers[] = {{"Host", "shop.example.com"},
                      {"User-Agent", "sqlmap/1.7"},
                      {"Accept", "*/*"},
                      {"Cookie", "session=abc%27; theme=\"dark\""},
                      {"X-Api-Key", "k1"}};
  HttpRequest req{"GET", "/product/7%27%20OR%201%3D1?q=a+b%27&empty&x=%u003c", headers, {}, "192.0.2.1"};
  RequestContext ctx;
  ctx.parse(req);
  Inputs in = collect(ctx);
  EXPECT_EQ(get(in, "path:0"), "product");
  EXPECT_EQ(get(in, "path:1"), "7' OR 1=1");
  EXPECT_EQ(get(in, "query:q"), "a b'");
  EXPECT_EQ(get(in, "query:empty"), "");
  EXPECT_EQ(get(in, "query:x"), "<");
  EXPECT_EQ(get(in, "cookie:session"), "abc'");
  EXPECT_EQ(get(in, "cookie:theme"), "dark");
  EXPECT_EQ(get(in, "header:User-Agent"), "sqlmap/1.7");
  EXPECT_EQ(get(in, "header:X-Api-Key"), "k1");
  EXPECT_EQ(in.count("header:Accept"), 0u);  // structural headers are not inputs
  EXPECT_EQ(in.count("header:Host"), 0u);
  EXPECT_EQ(in.count("header:referer?a"), 0u);
  EXPECT_EQ(ctx.path(), "/product/7' OR 1=1");
  EXPECT_EQ(ctx.client_ip(), "192.0.2.1");
  EXPECT_EQ(ctx.user_agent(), "sqlmap/1.7");
}

TEST(RequestContext, RefererQueryParametersAreInputs) {
  Header headers[] = {{"Referer", "https://shop.example.com/list?page=2&q=x%27+OR+1%3D1--#top"}};
  HttpRequest req{"GET", "/", headers, {}, "192.0.2.1"};
  RequestContext ctx;
  ctx.parse(req);
  Inputs in = collect(ctx);
  EXPECT_EQ(get(in, "header:referer?q"), "x' OR 1=1--");
  EXPECT_EQ(get(in, "header:referer?page"), "2");
}

TEST(RequestContext, JsonBodyKeyPaths) {
  Header headers[] = {{"Content-Type", "application/json; charset=utf-8"}};
  std::string body = R"({"user":{"name":"bob\u0027","address":[{"street":"Main"},{"zip":123}]},
                         "password":{"$ne":null},"tags":["a",true]})";
  HttpRequest req{"POST", "/api", headers, body, "::1"};
  RequestContext ctx;
  ctx.parse(req);
  Inputs in = collect(ctx);
  EXPECT_EQ(get(in, "json:user.name"), "bob'");
  EXPECT_EQ(get(in, "json:user.address[0].street"), "Main");
  EXPECT_EQ(get(in, "json:user.address[1].zip"), "123");
  EXPECT_EQ(get(in, "json:password.$ne"), "null");
  EXPECT_EQ(get(in, "json:tags[0]"), "a");
  EXPECT_EQ(get(in, "json:tags[1]"), "true");
  EXPECT_TRUE(ctx.diagnostics().empty());
}

TEST(RequestContext, DeepJsonIsBoundedAndReported) {
  Header headers[] = {{"Content-Type", "application/json"}};
  std::string body(100000, '[');
  body += "\"deep\"";
  body += std::string(100000, ']');
  HttpRequest req{"POST", "/", headers, body, "127.0.0.1"};
  RequestLimits limits;
  limits.max_json_depth = 16;
  RequestContext ctx(limits);
  ctx.parse(req);
  EXPECT_TRUE(has_diag(ctx, "limit.json_depth"));
  EXPECT_TRUE(ctx.anomalies() & kAnomalyLimitHit);
}

TEST(RequestContext, MalformedJsonIsKeptWhole) {
  Header headers[] = {{"Content-Type", "application/json"}};
  HttpRequest req{"POST", "/", headers, R"({"a":"x' OR 1=1--", oops)", "127.0.0.1"};
  RequestContext ctx;
  ctx.parse(req);
  Inputs in = collect(ctx);
  EXPECT_EQ(get(in, "json:a"), "x' OR 1=1--");
  EXPECT_EQ(get(in, "body:"), R"({"a":"x' OR 1=1--", oops)");
  EXPECT_TRUE(has_diag(ctx, "malformed.json"));
}

TEST(RequestContext, FormAndMultipartBodies) {
  Header form_headers[] = {{"Content-Type", "application/x-www-form-urlencoded"}};
  HttpRequest form{"POST", "/login", form_headers, "user=bob&pass=x%27+--", "127.0.0.1"};
  RequestContext ctx;
  ctx.parse(form);
  Inputs in = collect(ctx);
  EXPECT_EQ(get(in, "body:pass"), "x' --");

  Header mp_headers[] = {{"Content-Type", "multipart/form-data; boundary=\"XyZ\""}};
  std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello; world\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../x.php\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n<?php system($_GET[1]); ?>\r\n--XyZ--\r\n";
  HttpRequest mp{"POST", "/upload", mp_headers, body, "127.0.0.1"};
  ctx.parse(mp);
  in = collect(ctx);
  EXPECT_EQ(get(in, "multipart:title"), "hello; world");
  EXPECT_EQ(get(in, "multipart:file"), "../../x.php");
}

TEST(RequestContext, BrokenMultipartIsReported) {
  Header headers[] = {{"Content-Type", "multipart/form-data; boundary=abc"}};
  HttpRequest req{"POST", "/", headers, "--abc\r\nno headers here", "127.0.0.1"};
  RequestContext ctx;
  ctx.parse(req);
  EXPECT_TRUE(has_diag(ctx, "malformed.multipart"));
  EXPECT_EQ(collect(ctx).count("body:"), 1u);
}

TEST(RequestContext, XmlTextAttributesAndDoctype) {
  Header headers[] = {{"Content-Type", "application/xml"}};
  std::string body =
      "<?xml version=\"1.0\"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
      "<order id=\"7\"><item sku='a&amp;b'>&xxe;</item><![CDATA[<raw>]]></order>";
  HttpRequest req{"POST", "/", headers, body, "127.0.0.1"};
  RequestContext ctx;
  ctx.parse(req);
  Inputs in = collect(ctx);
  EXPECT_TRUE(ctx.anomalies() & kAnomalyXmlDoctype);
  EXPECT_NE(get(in, "body:!DOCTYPE").find("SYSTEM"), std::string::npos);
  EXPECT_EQ(get(in, "body:order/@id"), "7");
  EXPECT_EQ(get(in, "body:order/item/@sku"), "a&b");
  EXPECT_EQ(get(in, "body:order/item"), "&xxe;");
  EXPECT_EQ(get(in, "body:order"), "<raw>");
}

TEST(RequestContext, TrustedProxiesResolveTheClient) {
  Header headers[] = {{"X-Forwarded-For", "203.0.113.9, 10.0.0.5"}};
  HttpRequest req{"GET", "/", headers, {}, "10.0.0.1"};
  TrustedProxies proxies{{"10.0.0.0/8"}};
  RequestContext ctx;
  ctx.parse(req, &proxies);
  EXPECT_EQ(ctx.client_ip(), "203.0.113.9");
  ctx.parse(req, nullptr);  // untrusted: the peer is the client whatever the header says
  EXPECT_EQ(ctx.client_ip(), "10.0.0.1");
  Header fwd[] = {{"Forwarded", "for=\"[2001:db8::7]:4711\";proto=https, for=10.1.1.1"}};
  HttpRequest req2{"GET", "/", fwd, {}, "10.0.0.1"};
  ctx.parse(req2, &proxies);
  EXPECT_EQ(ctx.client_ip(), "2001:db8::7");
}

TEST(RequestContext, AnomaliesAndLimits) {
  Header headers[] = {{"Content-Length", "5"}, {"Content-Length", "6"}, {"Bad Name", "x"}};
  std::string uri = "/a?";
  for (int i = 0; i < 50; ++i) uri += "p" + std::to_string(i) + "=%zz&";
  HttpRequest req{"GE T", uri, headers, {}, "127.0.0.1"};
  RequestLimits limits;
  limits.max_inputs = 10;
  RequestContext ctx(limits);
  ctx.parse(req);
  std::uint32_t a = ctx.anomalies();
  EXPECT_TRUE(a & kAnomalyBadMethod);
  EXPECT_TRUE(a & kAnomalyBadPercent);
  EXPECT_TRUE(a & kAnomalyDuplicateLength);
  EXPECT_TRUE(a & kAnomalyBadHeader);
  EXPECT_EQ(ctx.inputs().size(), 10u);
  EXPECT_TRUE(has_diag(ctx, "limit.inputs"));
}

}  // namespace
}  // namespace vigil
