#include <string>

#include <gtest/gtest.h>

#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {
namespace {

bool fires(std::string_view value, Hit* out = nullptr, Source source = Source::kQuery,
           Form form = Form::kUrlDecoded) {
  Candidate c{value, features_of(value), form, 0, source, "next"};
  Hit hit;
  bool r = detect_crlf(c, &hit);
  if (out != nullptr) *out = hit;
  return r;
}

TEST(CrlfInput, HeaderLines) {
  Hit hit;
  ASSERT_TRUE(fires("/\r\nSet-Cookie:crlf=injection", &hit));
  EXPECT_NE(hit.reason.find("\"Set-Cookie:\""), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("en\nLocation: https://evil.example/"));
  EXPECT_TRUE(fires("x\r\nX-Forwarded-Host: evil.example"));  // any hyphenated header name
  EXPECT_TRUE(fires("/#\rSet-Cookie:crlf=injection"));        // a bare CR
}

TEST(CrlfInput, ResponseSplitting) {
  EXPECT_TRUE(fires("r\r\nContentLength: 0\r\n\r\nHTTP/1.1 200 OK\r\nContentType: text/html"));
  EXPECT_TRUE(fires("\r\n\r\n<script>alert(1)</script>"));
  EXPECT_TRUE(fires("\">\n\n<script>alert(\"XSS\")</script><\""));
  EXPECT_TRUE(fires("x\nHTTP/1.1 200 OK"));
}

TEST(CrlfInput, EncodedBreaks) {
  Hit hit;
  ASSERT_TRUE(fires("/%0d%0aSet-Cookie:crlf=injection", &hit, Source::kQuery, Form::kRaw));
  EXPECT_NE(hit.reason.find("percent-encoded"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("/%250aSet-Cookie:crlf=injection"));
  EXPECT_TRUE(fires("/%25%30%61Set-Cookie:crlf=injection"));
  EXPECT_TRUE(fires("/%u000aSet-Cookie:crlf=injection"));
  EXPECT_TRUE(fires("x\\r\\nSet-Cookie: a=b"));  // written as text escapes
  EXPECT_TRUE(fires("%0AContent-Type:html%0A%0A%3Cscript%3Ealert(1)%3C/script%3E"));
}

TEST(CrlfInput, Probes) {
  EXPECT_TRUE(fires("%0d%0a"));
  EXPECT_TRUE(fires("\r\n"));
  EXPECT_TRUE(fires("\r\r\n\n"));
  EXPECT_TRUE(fires("%0d%0d%0a%0a"));
  EXPECT_TRUE(fires("0x0D0x0A"));
  EXPECT_TRUE(fires("0x0D0x0D0x0A0x0A"));
  EXPECT_TRUE(fires("%5cr%5cn"));
  EXPECT_TRUE(fires("\\r\\n"));
  // Inside a URL (a Referer), the probe is one query field.
  EXPECT_TRUE(fires("https://shop.example.com/search?q=0x0D0x0A", nullptr, Source::kHeader));
}

TEST(CrlfInput, NestedForFilters) {
  // Deleting the inner CR/LF puts "%0d%0a" together.
  Hit hit;
  ASSERT_TRUE(fires("%0\r\nd%0\r\na", &hit));
  EXPECT_NE(hit.reason.find("nested"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("%0%0d%0ad%0%0d%0aa", nullptr, Source::kQuery, Form::kRaw));
  EXPECT_TRUE(fires("%0%0D%0AD%0%0D%0AA", nullptr, Source::kQuery, Form::kRaw));
}

TEST(CrlfInput, HeaderSourcesTakeAnyRealBreak) {
  EXPECT_TRUE(fires("Mozilla/5.0\r\nfoo", nullptr, Source::kHeader, Form::kRaw));
  // A JSON-unescaped reading of a header is a guess: its breaks need a payload.
  EXPECT_FALSE(fires("[\"\\\"\\\\\\/\\b\\f\n\r\t\"]", nullptr, Source::kHeader,
                     Form::kJsonUnescaped));
}

TEST(CrlfInput, BenignStaysClean) {
  for (std::string_view v : {
           "hello world", "50% off", "100%", "C:\\new\\report.txt", "0x0", "0x0F",
           "printf(\"hello\\n\");", "line one\nline two", "Dear Sir,\n\nThanks for the parcel.",
           "a\\nb", "%0", "path\\to\\nowhere", "Note: see below\nThanks: all",
           "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "https://example.com/?a=1&b=2", "0xdeadbeef"}) {
    EXPECT_FALSE(fires(v)) << v;
  }
}

TEST(CrlfInput, AnyBytes) {
  std::string big(1 << 20, '%');
  EXPECT_FALSE(fires(big));
  std::string breaks(1 << 20, '\n');
  EXPECT_TRUE(fires(breaks));
  std::string mixed;
  for (int i = 0; i < 200000; ++i) mixed += "%0\r\nd\\x0a0x0D"[i % 14];
  fires(mixed);  // must not crash
}

}  // namespace
}  // namespace vigil::detect::input
