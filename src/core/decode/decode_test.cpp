#include "core/decode/decode.hpp"

#include <gtest/gtest.h>

namespace vigil::decode {
namespace {

std::string url(std::string_view in, bool plus = true) {
  std::string out;
  return url_decode(in, plus, &out) ? out : std::string(in);
}
std::string html(std::string_view in) {
  std::string out;
  return html_entity_decode(in, &out) ? out : std::string(in);
}
std::string js(std::string_view in) {
  std::string out;
  return json_unescape(in, &out) ? out : std::string(in);
}

TEST(UrlDecode, PercentPlusAndIisUnicode) {
  EXPECT_EQ(url("%27%20OR%201%3D1--"), "' OR 1=1--");
  EXPECT_EQ(url("a+b"), "a b");
  EXPECT_EQ(url("a+b", false), "a+b");
  EXPECT_EQ(url("%u003cscript%u003E"), "<script>");
  EXPECT_EQ(url("%u00e9"), "\xC3\xA9");
  // A lone surrogate is no character: U+FFFD, as every other decoder here writes it.
  EXPECT_EQ(url("%uD800x"), "\xEF\xBF\xBDx");
}

TEST(UrlDecode, MalformedSequencesAreKept) {
  EXPECT_EQ(url("100%"), "100%");
  EXPECT_EQ(url("%zz%2"), "%zz%2");
  EXPECT_EQ(url("%u12"), "%u12");
  std::string out = "untouched";
  EXPECT_FALSE(url_decode("plain text", true, &out));
  EXPECT_EQ(out, "untouched");  // copy-on-write: nothing written when nothing changed
}

TEST(UrlDecode, TwiceDecodesDoubleEncoding) {
  EXPECT_EQ(url(url("%252e%252e%252f")), "../");
}

TEST(HtmlDecode, NumericAndNamedReferences) {
  EXPECT_EQ(html("&lt;script&gt;"), "<script>");
  EXPECT_EQ(html("&#60;&#x3C;&#X3c"), "<<<");
  EXPECT_EQ(html("javascript&colon;alert&lpar;1&rpar;"), "javascript:alert(1)");
  EXPECT_EQ(html("&Tab;&NewLine;"), "\t\n");
  EXPECT_EQ(html("&#0;&#x110000;"), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(HtmlDecode, UnknownAndIncompleteReferencesAreKept) {
  EXPECT_EQ(html("AT&T"), "AT&T");
  EXPECT_EQ(html("&colon"), "&colon");  // not a legacy name: needs ';'
  EXPECT_EQ(html("&amp"), "&");         // legacy name without ';'
  EXPECT_EQ(html("&#;"), "&#;");
  EXPECT_EQ(html("&"), "&");
}

TEST(JsonUnescape, EscapesAndSurrogates) {
  EXPECT_EQ(js(R"(\"a\\b\/c\n)"), "\"a\\b/c\n");
  EXPECT_EQ(js(R"(\u0027 OR 1=1)"), "' OR 1=1");
  EXPECT_EQ(js(R"(\ud83d\ude00)"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(js(R"(\ud83d)"), "\xEF\xBF\xBD");  // lone surrogate
  EXPECT_EQ(js(R"(\x3cscript\x3e)"), "<script>");
  EXPECT_EQ(js(R"(\q\u12)"), R"(\q\u12)");
  EXPECT_EQ(js("\\"), "\\");
}

// Base64 that decodes to text, in either alphabet, padded or not; not a token that decodes to
// binary, a word too short to say, or bytes outside the alphabet. Nothing written on false.
TEST(Base64Text, TextOnly) {
  auto b64 = [](std::string_view in) {
    std::string out = "untouched";
    return base64_text(in, &out) ? out : "<no: " + out + ">";
  };
  EXPECT_EQ(b64("eCcgT1IgMT0xIC0t"), "x' OR 1=1 --");
  EXPECT_EQ(b64("aHR0cHM6Ly9ldmlsLmV4YW1wbGUuY29tLw=="), "https://evil.example.com/");
  EXPECT_EQ(b64("Li4vLi4vZXRjL3Bhc3N3ZA"), "../../etc/passwd");     // unpadded
  EXPECT_EQ(b64("PGI-PzwvYj4="), "<b>?</b>");  // URL-safe alphabet
  EXPECT_EQ(b64("3f9a1c27d0b84e6f"), "<no: untouched>");            // a hex token: binary
  EXPECT_EQ(b64("password"), "<no: untouched>");                    // decodes to binary
  EXPECT_EQ(b64("eCcgT1I"), "<no: untouched>");                     // under 8 characters
  EXPECT_EQ(b64("eCcgT1Ig MT0x"), "<no: untouched>");               // a space
  EXPECT_EQ(b64("eCcgT1IgMT0xIC0t==="), "<no: untouched>");         // three pads
  EXPECT_EQ(b64("eCcgT1IgM"), "<no: untouched>");                   // 9 characters: 4n+1
}

std::string wide(std::u16string_view text, bool big, bool bom) {
  std::string out;
  if (bom) out += big ? std::string("\xFE\xFF") : std::string("\xFF\xFE");
  for (char16_t c : text) {
    const char hi = static_cast<char>(c >> 8), lo = static_cast<char>(c & 0xFF);
    out += big ? std::string{hi, lo} : std::string{lo, hi};
  }
  return out;
}
std::string utf8_of(std::string_view in, WideEncoding e) {
  std::string out = "stale";
  wide_to_utf8(in, e, &out);
  return out;
}

TEST(Wide, DetectedAsPythonsJsonLoadsDetectsIt) {
  using enum WideEncoding;
  EXPECT_EQ(detect_wide(wide(u"{\"a\":1}", false, false)), kUtf16Le);
  EXPECT_EQ(detect_wide(wide(u"{\"a\":1}", true, false)), kUtf16Be);
  EXPECT_EQ(detect_wide(wide(u"{}", false, true)), kUtf16Le);
  EXPECT_EQ(detect_wide(wide(u"{}", true, true)), kUtf16Be);
  EXPECT_EQ(detect_wide(std::string("{\0\0\0}\0\0\0", 8)), kUtf32Le);
  EXPECT_EQ(detect_wide(std::string("\0\0\0{\0\0\0}", 8)), kUtf32Be);
  EXPECT_EQ(detect_wide(std::string("\xFF\xFE\0\0{\0\0\0", 8)), kUtf32Le);
  EXPECT_EQ(detect_wide(std::string("\0\0\xFE\xFF\0\0\0{", 8)), kUtf32Be);
  EXPECT_EQ(detect_wide(std::string("1\0", 2)), kUtf16Le);
  // UTF-8, with or without its mark, and bodies too short to tell.
  EXPECT_EQ(detect_wide("{\"a\":1}"), kNone);
  EXPECT_EQ(detect_wide("\xEF\xBB\xBF{}"), kNone);
  EXPECT_EQ(detect_wide("q=1&id=2"), kNone);
  EXPECT_EQ(detect_wide(std::string("a\0b", 3)), kNone);
  EXPECT_EQ(detect_wide(""), kNone);
}

TEST(Wide, TranscodedToUtf8) {
  using enum WideEncoding;
  const std::u16string_view doc = u"{\"name\":\"b'||'ob \u00e9\u20ac\U0001F600\"}";
  const std::string want = "{\"name\":\"b'||'ob \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"}";
  EXPECT_EQ(utf8_of(wide(doc, false, false), kUtf16Le), want);
  EXPECT_EQ(utf8_of(wide(doc, true, false), kUtf16Be), want);
  EXPECT_EQ(utf8_of(wide(doc, false, true), kUtf16Le), want);  // the mark dropped
  EXPECT_EQ(utf8_of(wide(doc, true, true), kUtf16Be), want);
  EXPECT_EQ(utf8_of(std::string("\xFF\xFE\0\0'\0\0\0\x00\xF6\x01\0", 12), kUtf32Le), "'\xF0\x9F\x98\x80");
  EXPECT_EQ(utf8_of(std::string("\0\0\0'\0\x11\0\0", 8), kUtf32Be), "'\xEF\xBF\xBD");  // over U+10FFFF
  // A lone surrogate is U+FFFD (high then not low; low alone); a last odd byte is dropped.
  EXPECT_EQ(utf8_of(std::string("\x00\xD8" "a\0" "\x00\xDC" "b\0" "c", 9), kUtf16Le), "\xEF\xBF\xBD" "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(utf8_of(std::string("\x00\xD8", 2), kUtf16Le), "\xEF\xBF\xBD");
  EXPECT_EQ(utf8_of("anything", kNone), "");
}

TEST(TransferEncodings, QuotedPrintableAsA2bQp) {
  auto qp = [](std::string_view in) {
    std::string out = "untouched";
    return quoted_printable(in, &out) ? out : std::string("(none)");
  };
  EXPECT_EQ(qp("b=27||=27ob"), "b'||'ob");
  EXPECT_EQ(qp("=3c=53cript=3E"), "<Script>");
  EXPECT_EQ(qp("one=\r\ntwo=\nthree"), "onetwothree");  // soft line breaks
  EXPECT_EQ(qp("a=  \r\nb"), "a=  \r\nb");               // '=' then no hex, no line end: kept
  EXPECT_EQ(qp("a=zz=4"), "a=zz=4");
  EXPECT_EQ(qp("a="), "a");
  EXPECT_EQ(qp("plain"), "(none)");
}

TEST(TransferEncodings, MimeBase64SkipsLineBreaksAndKeepsTextOnly) {
  auto b64 = [](std::string_view in) {
    std::string out = "untouched";
    return mime_base64_text(in, &out) ? out : std::string("(none)");
  };
  EXPECT_EQ(b64("YicnfHwnb2I="), "b''||'ob");
  EXPECT_EQ(b64("Yid8fCdv\r\nYg=="), "b'||'ob");  // wrapped as MIME wraps it
  EXPECT_EQ(b64("MQ"), "1");                       // short, unpadded
  EXPECT_EQ(b64("Yi-d_8fCdvYg=="), "b'||'ob");      // '-' and '_' skipped, as b64decode skips them
  EXPECT_EQ(b64("AAEC"), "(none)");                 // binary
  EXPECT_EQ(b64("===="), "(none)");
}

}  // namespace
}  // namespace vigil::decode
