#include "vigil/request.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

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

// Every value of "source:name", in order.
std::vector<std::string> get_all(const Inputs& in, const std::string& key) {
  std::vector<std::string> values;
  for (auto [it, end] = in.equal_range(key); it != end; ++it) values.push_back(it->second);
  return values;
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
  // The value below the limit is an input still, named by a path cut at its limit.
  bool deep = false;
  for (const Input& in : ctx.inputs()) {
    deep = deep || in.value == "deep";
    EXPECT_LE(in.name.size(), limits.max_key_path_bytes);
  }
  EXPECT_TRUE(deep);
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

  // Faults that Python's json.loads and JSON.parse read past (a lone surrogate, a number beyond
  // a double): the strings from the fault on are inputs still, named by their keys.
  HttpRequest lone{"POST", "/", headers, R"({"x":"\ud800","name":"b'||'ob","t":["a\"b"]})", "127.0.0.1"};
  ctx.parse(lone);
  in = collect(ctx);
  EXPECT_EQ(get(in, "json:name"), "b'||'ob");
  EXPECT_EQ(get(in, "json:t"), "a\"b");
  HttpRequest big{"POST", "/", headers, R"({"n":1e999,"name":"x"})", "127.0.0.1"};
  ctx.parse(big);
  EXPECT_EQ(get(collect(ctx), "json:name"), "x");
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

// RFC 6266's filename* (charset'language'percent-encoded), which Werkzeug, Python's email
// package and busboy prefer to filename: the name a program saves a file under is an input.
TEST(RequestContext, MultipartExtendedFilenameIsAnInput) {
  Header headers[] = {{"Content-Type", "multipart/form-data; boundary=b"}};
  std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"up\"; filename=\"a.txt\"; "
      "filename*=UTF-8''..%2F..%2Fshell.php\r\n\r\n<?php ?>\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"up2\"; filename*=utf-8'en'r%C3%A9sum%C3%A9.pdf\r\n\r\nx\r\n"
      "--b--\r\n";
  HttpRequest req{"POST", "/upload", headers, body, "127.0.0.1"};
  RequestContext ctx;
  ctx.parse(req);
  Inputs in = collect(ctx);
  EXPECT_EQ(get_all(in, "multipart:up"), (std::vector<std::string>{"a.txt", "../../shell.php"}));
  EXPECT_EQ(get_all(in, "multipart:up2"),
            (std::vector<std::string>{"", "r\xC3\xA9sum\xC3\xA9.pdf"}));
}

TEST(RequestContext, BrokenMultipartIsReported) {
  Header headers[] = {{"Content-Type", "multipart/form-data; boundary=abc"}};
  HttpRequest req{"POST", "/", headers, "--abc\r\nno headers here", "127.0.0.1"};
  RequestContext ctx;
  ctx.parse(req);
  EXPECT_TRUE(has_diag(ctx, "malformed.multipart"));
  EXPECT_EQ(collect(ctx).count("body:"), 1u);

  // No closing delimiter: PHP and Python's email package read the last part to the body's end.
  HttpRequest unclosed{"POST", "/", headers,
                       "--abc\r\nContent-Disposition: form-data; name=\"q\"\r\n\r\nb'||'ob\r\n",
                       "127.0.0.1"};
  ctx.parse(unclosed);
  EXPECT_TRUE(has_diag(ctx, "malformed.multipart"));
  EXPECT_EQ(get(collect(ctx), "multipart:q"), "b'||'ob");
  EXPECT_EQ(collect(ctx).count("body:"), 0u);  // its parts are read: not one more input
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

// A program may read a body as JSON (or XML) whatever type it declares: json.loads of the raw
// body, PHP's json_decode of php://input. Such a body is read as what it looks like as well as
// what it says it is; a body that only looks so for a byte is no anomaly.
TEST(RequestContext, BodiesAreReadAsWhatTheyLookLikeToo) {
  for (const char* type : {"application/x-www-form-urlencoded", "multipart/form-data; boundary=z",
                           "application/xml", "text/plain", ""}) {
    Header headers[] = {{"Content-Type", type}};
    HttpRequest req{"POST", "/", headers, R"({"name":"b'||'ob","tags":["x"]})", "127.0.0.1"};
    RequestContext ctx;
    ctx.parse(req);
    Inputs in = collect(ctx);
    EXPECT_EQ(get(in, "json:name"), "b'||'ob") << type;
    EXPECT_EQ(get(in, "json:tags[0]"), "x") << type;
  }
  Header form[] = {{"Content-Type", "application/x-www-form-urlencoded"}};
  HttpRequest xml{"POST", "/", form, "<order><item>a'||'b</item></order>", "127.0.0.1"};
  RequestContext ctx;
  ctx.parse(xml);
  EXPECT_EQ(get(collect(ctx), "body:order/item"), "a'||'b");

  // A UTF-8 byte order mark first, which Python's json.loads (Flask's get_json) reads past.
  Header json_type[] = {{"Content-Type", "application/json"}};
  for (auto* h : {json_type, form}) {
    HttpRequest bom{"POST", "/", std::span<const Header>(h, 1),
                    "\xEF\xBB\xBF {\"name\":\"b'||'ob\"}", "127.0.0.1"};
    ctx.parse(bom);
    EXPECT_EQ(get(collect(ctx), "json:name"), "b'||'ob") << h->value;
  }

  // Two Content-Types that differ: the body is read by each (Node.js and Python's http.server
  // go by the first, this context by the last).
  Header two[] = {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Content-Type", "application/json"}};
  HttpRequest both{"POST", "/", two, "q=b'||'ob", "127.0.0.1"};
  ctx.parse(both);
  EXPECT_EQ(get(collect(ctx), "body:q"), "b'||'ob");

  // A form whose first name starts with a brace: read as a form, not reported as bad JSON.
  HttpRequest odd{"POST", "/", form, "{a}=1&b=2", "127.0.0.1"};
  ctx.parse(odd);
  Inputs in = collect(ctx);
  EXPECT_EQ(get(in, "body:{a}"), "1");
  EXPECT_EQ(get(in, "body:b"), "2");
  EXPECT_FALSE(has_diag(ctx, "malformed.json"));
  EXPECT_FALSE(ctx.anomalies() & kAnomalyBodyMismatch);
  EXPECT_EQ(in.count("body:"), 0u);
}

// `text` (ASCII) in UTF-16 or UTF-32, either byte order, with a byte order mark or not.
std::string wide(std::string_view text, int unit, bool big, bool bom) {
  std::string out;
  auto put = [&](char32_t c) {
    for (int i = 0; i < unit; ++i) {
      const int shift = 8 * (big ? unit - 1 - i : i);
      out += static_cast<char>((c >> shift) & 0xFF);
    }
  };
  if (bom) put(0xFEFF);
  for (char c : text) put(static_cast<unsigned char>(c));
  return out;
}

TEST(RequestContext, Utf16AndUtf32DocumentsAreReadAsTheirReadersDecodeThem) {
  // What json.loads of bytes (Flask's get_json, Django) and Jackson take, as the type declares
  // and as another type (read whatever the type: no malformed finding for the declared one).
  RequestContext ctx;
  const std::string doc = R"( {"name":"b'||'ob","tags":["x"]})";
  const std::pair<int, bool> forms[] = {{2, false}, {2, true}, {4, false}, {4, true}};
  for (const char* type : {"application/json", "application/x-www-form-urlencoded", "text/plain", ""}) {
    for (auto [unit, big] : forms) {
      for (bool bom : {false, true}) {
        const std::string body = wide(doc, unit, big, bom);
        Header h[] = {{"Content-Type", type}};
        HttpRequest req{"POST", "/", h, body, "127.0.0.1"};
        ctx.parse(req);
        Inputs in = collect(ctx);
        const std::string what = std::string(type) + " unit " + std::to_string(unit) +
                                 (big ? " BE" : " LE") + (bom ? " BOM" : "");
        EXPECT_EQ(get(in, "json:name"), "b'||'ob") << what;
        EXPECT_EQ(get(in, "json:tags[0]"), "x") << what;
        EXPECT_FALSE(has_diag(ctx, "malformed.json")) << what;
      }
    }
  }
  // XML (a UTF-16 document with its declaration), declared XML or a form.
  for (const char* type : {"application/xml", "application/x-www-form-urlencoded"}) {
    const std::string body = wide("<?xml version=\"1.0\" encoding=\"UTF-16\"?><order><item>a'||'b</item></order>", 2, false, true);
    Header h[] = {{"Content-Type", type}};
    HttpRequest req{"POST", "/", h, body, "127.0.0.1"};
    ctx.parse(req);
    EXPECT_EQ(get(collect(ctx), "body:order/item"), "a'||'b") << type;
  }
  // A form whose second byte is NUL is still read as a form (PHP reads past it); a binary body
  // that decodes to no document gives nothing more.
  Header form[] = {{"Content-Type", "application/x-www-form-urlencoded"}};
  HttpRequest nul{"POST", "/", form, std::string_view("a\0=1&id=1 OR 1=1", 16), "127.0.0.1"};
  ctx.parse(nul);
  EXPECT_EQ(get(collect(ctx), "body:id"), "1 OR 1=1");
  Header binary[] = {{"Content-Type", "application/octet-stream"}};
  HttpRequest blob{"POST", "/", binary, std::string_view("\x08\0\x12\x04" "ab'c", 8), "127.0.0.1"};
  ctx.parse(blob);
  Inputs in = collect(ctx);
  EXPECT_EQ(in.size(), 1u);
  EXPECT_EQ(in.count("body:"), 1u);
}

TEST(RequestContext, MultipartTransferEncodingsAreUndoneToo) {
  // python-multipart (FastAPI) hands the program b'||'ob for each of these parts; PHP the bytes.
  Header h[] = {{"Content-Type", "multipart/form-data; boundary=XX"}};
  const std::string body =
      "--XX\r\nContent-Disposition: form-data; name=\"q\"\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\nb=27||=27o=\r\nb\r\n"
      "--XX\r\nContent-Disposition: form-data; name=\"b\"\r\n"
      "content-transfer-encoding: BASE64\r\n\r\nYid8fCdv\r\nYg==\r\n"
      "--XX\r\nContent-Disposition: form-data; name=\"plain\"\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\na=27b\r\n--XX--\r\n";
  HttpRequest req{"POST", "/", h, body, "127.0.0.1"};
  RequestContext ctx;
  ctx.parse(req);
  Inputs in = collect(ctx);
  EXPECT_EQ(get_all(in, "multipart:q"), (std::vector<std::string>{"b=27||=27o=\r\nb", "b'||'ob"}));
  EXPECT_EQ(get_all(in, "multipart:b"), (std::vector<std::string>{"Yid8fCdv\r\nYg==", "b'||'ob"}));
  EXPECT_EQ(get_all(in, "multipart:plain"), (std::vector<std::string>{"a=27b"}));
  // Base64 on one line: its decoding is a form of the value already, not a second input.
  const std::string one_line =
      "--XX\r\nContent-Disposition: form-data; name=\"b\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nYid8fCdvYg==\r\n--XX--\r\n";
  HttpRequest again{"POST", "/", h, one_line, "127.0.0.1"};
  ctx.parse(again);
  EXPECT_EQ(get_all(collect(ctx), "multipart:b"), (std::vector<std::string>{"Yid8fCdvYg=="}));
}

TEST(RequestContext, XmlReadAsElementTreeReadsIt) {
  Header h[] = {{"Content-Type", "application/xml"}};
  RequestContext ctx;
  auto values = [&](std::string_view body, const std::string& key) {
    HttpRequest req{"POST", "/", h, body, "127.0.0.1"};
    ctx.parse(req);
    return get_all(collect(ctx), key);
  };
  using V = std::vector<std::string>;
  // Entities the DOCTYPE declares with a literal value are expanded (nested, with character and
  // predefined references); an external one is not.
  EXPECT_EQ(values(R"(<!DOCTYPE a [<!ENTITY q "'||'">]><a>b&q;ob</a>)", "body:a"), V{"b'||'ob"});
  EXPECT_EQ(values(R"(<!DOCTYPE a [<!ENTITY x "&#39;"><!ENTITY y '&x;||&x;'>]><a k="b&y;ob">&amp;</a>)",
                   "body:a/@k"),
            V{"b'||'ob"});
  EXPECT_EQ(values(R"(<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd"><!ENTITY % p "x">]><a>&e;</a>)",
                   "body:a"),
            V{"&e;"});
  EXPECT_FALSE(has_diag(ctx, "limit.xml_entities"));
  // Character data that comments, processing instructions and CDATA sections split is joined
  // too (ElementTree's .text), white space between pieces kept; each piece stays an input.
  EXPECT_EQ(values("<a>b<!-- c --><![CDATA[']]><?pi x?>||'ob</a>", "body:a"),
            (V{"b", "'", "||'ob", "b'||'ob"}));
  EXPECT_EQ(values("<a><![CDATA[b']]> <![CDATA[||'ob]]><c/>tail</a>", "body:a"),
            (V{"b'", "||'ob", "b' ||'ob", "tail"}));
  // A billion laughs stops at the bounds, promptly, and says so.
  std::string laughs = "<!DOCTYPE a [<!ENTITY l0 \"ha\">";
  for (int i = 1; i <= 9; ++i) {
    laughs += "<!ENTITY l" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) laughs += "&l" + std::to_string(i - 1) + ";";
    laughs += "\">";
  }
  laughs += "]><a>&l9;</a>";
  const V got = values(laughs, "body:a");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_LE(got[0].size(), 64u * 1024 + 64);
  EXPECT_TRUE(has_diag(ctx, "limit.xml_entities"));
  // Many values each naming one large entity: what entities add to a body is bounded too.
  std::string many = "<!DOCTYPE a [<!ENTITY big \"" + std::string(60000, 'x') + "\">]><a>";
  for (int i = 0; i < 500; ++i) many += "<v>&big;</v>";
  many += "</a>";
  const V vs = values(many, "body:a/v");
  ASSERT_EQ(vs.size(), 500u);
  std::size_t total = 0;
  for (const auto& v : vs) total += v.size();
  EXPECT_LT(total, (1u << 20) + 64u * 1024 + 500u * 8);
}

TEST(RequestContext, QuotedCookiesAreReadAsPythonReadsThemToo) {
  RequestContext ctx;
  auto cookies = [&](std::string_view header, const std::string& key) {
    Header h[] = {{"Cookie", header}};
    HttpRequest req{"GET", "/", h, "", "127.0.0.1"};
    ctx.parse(req);
    return get_all(collect(ctx), key);
  };
  using V = std::vector<std::string>;
  // Octal and character escapes undone (http.cookies, Werkzeug); the plain reading stays.
  EXPECT_EQ(cookies(R"(who="b\047||\047ob"; x=1)", "cookie:who"), (V{"b'||'ob", R"(b\047||\047ob)"}));
  EXPECT_EQ(cookies(R"(who="a\"b\\c")", "cookie:who"), (V{R"(a"b\c)", R"(a\"b\\c)"}));
  // A ';' inside the quotes: one value to Python, cut at the ';' by the others.
  EXPECT_EQ(cookies(R"(who="x;y"; z=2)", "cookie:who"), (V{"x;y", "\"x"}));
  // A plain quoted value, and one never closed: read once.
  EXPECT_EQ(cookies(R"(who="bob"; z=2)", "cookie:who"), V{"bob"});
  EXPECT_EQ(cookies(R"(who="bob)", "cookie:who"), V{"\"bob"});
}

TEST(RequestContext, PathParametersAreTakenOffAsServletContainersDo) {
  RequestContext ctx;
  auto inputs = [&](std::string_view target) {
    HttpRequest req{"GET", target, {}, "", "127.0.0.1"};
    ctx.parse(req);
    return collect(ctx);
  };
  using V = std::vector<std::string>;
  // Jetty's getPathInfo() of this target is /product/1 OR 1=1.
  Inputs in = inputs("/product/1%20OR%201=1;x=2;jsessionid=ab%27c?q=1");
  EXPECT_EQ(get_all(in, "path:1"), (V{"1 OR 1=1;x=2;jsessionid=ab'c", "1 OR 1=1"}));
  EXPECT_EQ(get_all(in, "path:x"), V{"2"});
  EXPECT_EQ(get_all(in, "path:jsessionid"), V{"ab'c"});
  EXPECT_EQ(get(in, "query:q"), "1");
  // Without a '%': the same, the plain segment a view.
  in = inputs("/cars;color=red;year=2012/a;b");
  EXPECT_EQ(get_all(in, "path:0"), (V{"cars;color=red;year=2012", "cars"}));
  EXPECT_EQ(get(in, "path:color"), "red");
  EXPECT_EQ(get_all(in, "path:1"), (V{"a;b", "a"}));
  // An encoded ';' is no parameter.
  in = inputs("/a%3Bb");
  EXPECT_EQ(get_all(in, "path:0"), V{"a;b"});
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

// Two equal lengths are a duplicate; lengths that differ, a length that is not a number, or one
// beside Transfer-Encoding leave where the body ends to the reader: request smuggling.
TEST(RequestContext, AmbiguousBodyLengths) {
  auto anomalies = [](std::initializer_list<Header> list) {
    std::vector<Header> headers(list);
    RequestContext ctx;
    ctx.parse(HttpRequest{"POST", "/", headers, {}, "127.0.0.1"});
    return ctx.anomalies() & (kAnomalyDuplicateLength | kAnomalyAmbiguousLength);
  };
  EXPECT_EQ(anomalies({{"Content-Length", "5"}}), 0u);
  EXPECT_EQ(anomalies({{"Transfer-Encoding", "chunked"}}), 0u);
  EXPECT_EQ(anomalies({{"Content-Length", "5"}, {"content-length", "5"}}),
            static_cast<std::uint32_t>(kAnomalyDuplicateLength));
  EXPECT_EQ(anomalies({{"Content-Length", "5"}, {"Content-Length", "6"}}),
            kAnomalyDuplicateLength | kAnomalyAmbiguousLength);
  EXPECT_EQ(anomalies({{"Content-Length", "5x"}}),
            static_cast<std::uint32_t>(kAnomalyAmbiguousLength));
  EXPECT_EQ(anomalies({{"Content-Length", "-1"}}),
            static_cast<std::uint32_t>(kAnomalyAmbiguousLength));
  EXPECT_EQ(anomalies({{"Content-Length", "3"}, {"Transfer-Encoding", "chunked"}}),
            kAnomalyDuplicateLength | kAnomalyAmbiguousLength);
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

// Header names are classified by whole-word compares in any case: only a name equal to a known
// one, byte for byte but for the case of letters, takes its meaning.
TEST(RequestContext, HeaderNamesMatchInAnyCaseAndOnlyWhole) {
  Header headers[] = {{"uSER-aGENT", "first"},
                      {"User-Agent", "second"},
                      {"User\rAgent", "split"},
                      {"SEC-FETCH-MODE", "navigate"},
                      {"Accept-Encodinh", "gzip"},
                      {"ACCEPT-ENCODING", "br"},
                      {"COOKIE", "a=1"},
                      {"X-A-Header-Name-Longer-Than-Thirty-Two-Bytes", "long"}};
  HttpRequest req{"GET", "/", headers, {}, "192.0.2.1"};
  RequestContext ctx;
  ctx.parse(req);
  Inputs in = collect(ctx);
  EXPECT_EQ(ctx.user_agent(), "first");
  EXPECT_EQ(ctx.header("User-Agent"), "first");
  EXPECT_EQ(get(in, "header:User\rAgent"), "split");
  EXPECT_EQ(in.count("header:SEC-FETCH-MODE"), 0u);
  EXPECT_EQ(get(in, "header:Accept-Encodinh"), "gzip");
  EXPECT_EQ(in.count("header:ACCEPT-ENCODING"), 0u);
  EXPECT_EQ(get(in, "cookie:a"), "1");
  EXPECT_EQ(get(in, "header:X-A-Header-Name-Longer-Than-Thirty-Two-Bytes"), "long");
  EXPECT_TRUE(ctx.anomalies() & kAnomalyBadHeader);  // the CR in a name

  Header clean[] = {{"Sec-Ch-Ua", "x"}, {"Host", "h"}};
  ctx.parse(HttpRequest{"GET", "/", clean, {}, "192.0.2.1"});
  EXPECT_EQ(ctx.anomalies(), 0u);
  Header bad_browser[] = {{"Sec-Ch\x01", "x"}};
  ctx.parse(HttpRequest{"GET", "/", bad_browser, {}, "192.0.2.1"});
  EXPECT_TRUE(ctx.anomalies() & kAnomalyBadHeader);
  EXPECT_TRUE(ctx.inputs().empty());
}

// Headers past max_headers are not analysed, but the body's type and user_agent() still read
// every header, as they always did.
TEST(RequestContext, HeadersPastTheLimitStillNameTheBodyType) {
  Header headers[] = {{"X-A", "1"},
                      {"X-B", "2"},
                      {"Content-Type", "application/x-www-form-urlencoded"},
                      {"User-Agent", "late"}};
  RequestLimits limits;
  limits.max_headers = 2;
  RequestContext ctx(limits);
  ctx.parse(HttpRequest{"POST", "/", headers, "a=1", "192.0.2.1"});
  Inputs in = collect(ctx);
  EXPECT_EQ(get(in, "body:a"), "1");
  EXPECT_EQ(ctx.user_agent(), "late");
  EXPECT_TRUE(has_diag(ctx, "limit.headers"));
}

// The client's text is the peer's own when canonical, its normalised form otherwise; a context
// reused across peers (one per agent thread) never keeps a stale one.
TEST(RequestContext, ClientAddressFollowsEachPeer) {
  RequestContext ctx;
  const std::pair<const char*, const char*> cases[] = {
      {"1.2.3.4:80", "1.2.3.4"}, {"127.0.0.1", "127.0.0.1"}, {"[::1]:8080", "::1"},
      {"garbage", "garbage"},    {"2001:DB8::1", "2001:db8::1"}, {"127.0.0.1", "127.0.0.1"},
      {"1.2.3.4:80", "1.2.3.4"}, {" 10.0.0.1 ", "10.0.0.1"}};
  for (const auto& [peer, client] : cases) {
    const std::string peer_text = peer;  // the request's bytes, alive while the context is used
    ctx.parse(HttpRequest{"GET", "/", {}, {}, peer_text});
    EXPECT_EQ(ctx.client_ip(), client) << peer;
  }
}

// Nothing is decoded that needs no decoding, and everything that does is.
TEST(RequestContext, DecodesOnlyWhatAPercentOrPlusChanges) {
  RequestContext ctx;
  ctx.parse(HttpRequest{"GET", "/a%2Fb/c+d/e?x=1+2&y=%41&z=plain", {}, {}, "192.0.2.1"});
  Inputs in = collect(ctx);
  EXPECT_EQ(get(in, "path:0"), "a/b");
  EXPECT_EQ(get(in, "path:1"), "c+d");  // '+' is a space only in a query
  EXPECT_EQ(get(in, "query:x"), "1 2");
  EXPECT_EQ(get(in, "query:y"), "A");
  EXPECT_EQ(ctx.path(), "/a/b/c+d/e");
  ctx.parse(HttpRequest{"GET", "/plain/path?q=a+b", {}, {}, "192.0.2.1"});
  in = collect(ctx);
  EXPECT_EQ(get(in, "query:q"), "a b");
  EXPECT_EQ(ctx.path(), "/plain/path");
  std::string many = "/";
  for (int i = 0; i < 120; ++i) many += "s/";
  ctx.parse(HttpRequest{"GET", many, {}, {}, "192.0.2.1"});
  in = collect(ctx);
  EXPECT_EQ(get(in, "path:9"), "s");
  EXPECT_EQ(get(in, "path:99"), "s");
  EXPECT_EQ(get(in, "path:119"), "s");
  Header referer[] = {{"Referer", "https://x.example/p?a%20b=c"}};
  ctx.parse(HttpRequest{"GET", "/", referer, {}, "192.0.2.1"});
  EXPECT_EQ(get(collect(ctx), "header:referer?a b"), "c");
}

// A NUL is reported wherever an input carries it: raw in a header, decoded from the target,
// unescaped from a body.
TEST(RequestContext, NulBytesInInputsAreReported) {
  RequestContext ctx;
  const std::string nul_value("a\0b", 3);
  Header raw[] = {{"X-A", nul_value}};
  ctx.parse(HttpRequest{"GET", "/", raw, {}, "192.0.2.1"});
  EXPECT_TRUE(ctx.anomalies() & kAnomalyNulByte);
  ctx.parse(HttpRequest{"GET", "/?q=%00", {}, {}, "192.0.2.1"});
  EXPECT_TRUE(ctx.anomalies() & kAnomalyNulByte);
  Header json[] = {{"Content-Type", "application/json"}};
  ctx.parse(HttpRequest{"POST", "/", json, R"({"a":"x\u0000y"})", "192.0.2.1"});
  EXPECT_TRUE(ctx.anomalies() & kAnomalyNulByte);
  ctx.parse(HttpRequest{"GET", "/?q=x", {}, {}, "192.0.2.1"});
  EXPECT_EQ(ctx.anomalies(), 0u);
}

// The agent reuses one context per thread: parsing the same request again allocates nothing
// new, and the inputs live where they lived.
TEST(RequestContext, ReuseKeepsCapacity) {
  Header headers[] = {{"User-Agent", "wrk"}, {"Cookie", "a=%27x"}};
  HttpRequest req{"GET", "/search/x?q=lamp&r=%41", headers, {}, "[::1]:80"};
  RequestContext ctx;
  ctx.parse(req);
  const std::size_t bytes = ctx.memory_bytes();
  const Input* where = ctx.inputs().data();
  for (int i = 0; i < 3; ++i) {
    ctx.parse(req);
    EXPECT_EQ(ctx.memory_bytes(), bytes);
    EXPECT_EQ(ctx.inputs().data(), where);
  }
}

// A target without '%' or '+' takes the one-pass path (views only); these pin what it yields:
// empty segments and pairs skipped, the first '?' ends the path, the first '=' splits a pair,
// and the inputs limit stops segments and parameters alike.
TEST(RequestContext, PlainTargetSegmentsAndQuery) {
  auto inputs_of = [](const RequestContext& ctx) {
    std::string out;
    for (const Input& in : ctx.inputs())
      out += std::string(source_name(in.source)) + ":" + std::string(in.name) + "=" +
             std::string(in.value) + ";";
    return out;
  };
  RequestContext ctx;
  ctx.parse(HttpRequest{"GET", "/a//b/?x=1&&y&=z&k=v=w?", {}, {}, "192.0.2.1"});
  EXPECT_EQ(inputs_of(ctx), "path:0=a;path:1=b;query:x=1;query:y=;query:=z;query:k=v=w?;");
  EXPECT_EQ(ctx.raw_path(), "/a//b/");
  EXPECT_EQ(ctx.path(), "/a//b/");
  EXPECT_EQ(ctx.query(), "x=1&&y&=z&k=v=w?");
  EXPECT_EQ(ctx.anomalies(), 0u);

  ctx.parse(HttpRequest{"GET", "/", {}, {}, "192.0.2.1"});
  EXPECT_EQ(inputs_of(ctx), "");
  EXPECT_EQ(ctx.raw_path(), "/");
  EXPECT_EQ(ctx.query(), "");

  ctx.parse(HttpRequest{"GET", "/p?", {}, {}, "192.0.2.1"});
  EXPECT_EQ(inputs_of(ctx), "path:0=p;");
  EXPECT_EQ(ctx.raw_path(), "/p");
  EXPECT_EQ(ctx.query(), "");

  ctx.parse(HttpRequest{"OPTIONS", "*", {}, {}, "192.0.2.1"});
  EXPECT_EQ(inputs_of(ctx), "path:0=*;");
  EXPECT_EQ(ctx.anomalies(), 0u);

  ctx.parse(HttpRequest{"GET", "http://h.example/x/y?q=1", {}, {}, "192.0.2.1"});
  EXPECT_EQ(inputs_of(ctx), "path:0=x;path:1=y;query:q=1;");
  EXPECT_EQ(ctx.raw_path(), "/x/y");

  RequestLimits limits;
  limits.max_inputs = 2;
  RequestContext small(limits);
  small.parse(HttpRequest{"GET", "/a/b/c?x=1", {}, {}, "192.0.2.1"});
  EXPECT_EQ(inputs_of(small), "path:0=a;path:1=b;");
  EXPECT_EQ(small.raw_path(), "/a/b/c");
  EXPECT_EQ(small.query(), "x=1");
  EXPECT_NE(small.anomalies() & kAnomalyLimitHit, 0u);
}

}  // namespace
}  // namespace vigil
