#include "core/tokenize/html/js_tokenizer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace vigil::tokenize::js {
namespace {

struct Tok {
  TokenKind kind;
  std::string text;
  bool error;
};

std::vector<Tok> toks(std::string_view src) {
  std::vector<Token> v;
  tokenize(src, &v);
  std::vector<Tok> r;
  for (const Token& t : v)
    r.push_back({t.kind, std::string(src.substr(t.begin, t.end - t.begin)), t.error});
  return r;
}

std::vector<std::string> texts(std::string_view src) {
  std::vector<std::string> r;
  for (auto& t : toks(src)) r.push_back(t.text);
  return r;
}

TEST(JsTokenizer, PunctuatorsLongestMatch) {
  EXPECT_EQ(texts("a>>>=b===c!==d?.e?\?=f=>g...h"),
            (std::vector<std::string>{"a", ">>>=", "b", "===", "c", "!==", "d", "?.", "e",
                                      "?\?=", "f", "=>", "g", "...", "h"}));
  EXPECT_EQ(texts("x?.5:1"), (std::vector<std::string>{"x", "?", ".5", ":", "1"}));
}

TEST(JsTokenizer, StringsAndEscapes) {
  auto t = toks(R"(var q = "a\"b\\" + 'c\'d';)");
  ASSERT_EQ(t.size(), 7u);
  EXPECT_EQ(t[3].kind, TokenKind::kString);
  EXPECT_EQ(t[3].text, R"("a\"b\\")");
  EXPECT_FALSE(t[3].error);
  EXPECT_EQ(t[5].text, "'c\\'d'");
  // A line break ends a string with an error; a backslash before it continues it.
  auto u = toks("x = \"ab\ncd\"");
  EXPECT_TRUE(u[2].error);
  EXPECT_EQ(u[2].text, "\"ab");
  auto v = toks("x = \"ab\\\ncd\"");
  EXPECT_FALSE(v[2].error);
  // U+2028 is allowed inside a string literal.
  auto w = toks("x = \"a\xE2\x80\xA8" "b\"");
  EXPECT_FALSE(w[2].error);
  // Invalid hex and unicode escapes are syntax errors; \8 and octal are not (sloppy mode).
  EXPECT_TRUE(toks(R"("\x4")")[0].error);
  EXPECT_TRUE(toks(R"("\user")")[0].error);
  EXPECT_FALSE(toks(R"("\u{1F600}\u0041\x41\8\07")")[0].error);
  EXPECT_TRUE(toks(R"("\u{110000}")")[0].error);
  EXPECT_TRUE(toks("\"unterminated")[0].error);
}

TEST(JsTokenizer, RegexOrDivision) {
  auto t = toks("a = b / c / d; e = /x[/]y/gi.test(f); g(/h/); i = j++ / 2; return /k/");
  std::vector<TokenKind> kinds;
  int regexes = 0, divisions = 0;
  for (auto& x : t) {
    if (x.kind == TokenKind::kRegex) ++regexes;
    if (x.kind == TokenKind::kPunctuator && x.text == "/") ++divisions;
  }
  EXPECT_EQ(regexes, 3);
  EXPECT_EQ(divisions, 3);
  EXPECT_TRUE(toks("x = /abc\n/")[2].error);
  bool found = false;
  for (auto& x : t)
    if (x.text == "/x[/]y/gi") found = true;
  EXPECT_TRUE(found);
}

TEST(JsTokenizer, TemplatesNest) {
  auto t = toks("`a${b + `c${d}e`}f${ {g:1}.g }h`");
  std::vector<TokenKind> kinds;
  for (auto& x : t) kinds.push_back(x.kind);
  std::vector<TokenKind> want = {
      TokenKind::kTemplateHead, TokenKind::kIdentifier,     TokenKind::kPunctuator,
      TokenKind::kTemplateHead, TokenKind::kIdentifier,     TokenKind::kTemplateTail,
      TokenKind::kTemplateMiddle, TokenKind::kPunctuator,   TokenKind::kIdentifier,
      TokenKind::kPunctuator,   TokenKind::kNumber,         TokenKind::kPunctuator,
      TokenKind::kPunctuator,   TokenKind::kIdentifier,     TokenKind::kTemplateTail};
  EXPECT_EQ(kinds, want);
  EXPECT_TRUE(toks("`abc")[0].error);
  EXPECT_TRUE(toks("`\\x`")[0].error);      // untagged: invalid escape
  EXPECT_FALSE(toks("f`\\x`")[1].error);    // tagged: allowed
  // Nesting beyond the bounded stack is reported, never overflows.
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "`${";
  auto d = toks(deep);
  bool any_error = false;
  for (auto& x : d) any_error = any_error || x.error;
  EXPECT_TRUE(any_error);
}

TEST(JsTokenizer, Comments) {
  auto t = toks("a // b\n/* c\n */ --> d\n<!-- e\nf --> g");
  std::vector<std::string> want = {"a", "// b", "/* c\n */", "--> d", "<!-- e", "f", "--", ">",
                                   "g"};
  EXPECT_EQ(texts("a // b\n/* c\n */ --> d\n<!-- e\nf --> g"), want);
  EXPECT_EQ(t[3].kind, TokenKind::kComment);
  EXPECT_TRUE(toks("/* open")[0].error);
  EXPECT_EQ(toks("#!/usr/bin/env node\nx")[0].kind, TokenKind::kComment);
}

TEST(JsTokenizer, NumbersAndIdentifiers) {
  EXPECT_EQ(texts("0x1F 0o17 0b1 017 1_000n .5e-3 1e+2"),
            (std::vector<std::string>{"0x1F", "0o17", "0b1", "017", "1_000n", ".5e-3", "1e+2"}));
  EXPECT_TRUE(toks("3in")[0].error);
  auto t = toks("\\u0061b caf\xC3\xA9 #p return null");
  EXPECT_EQ(t[0].kind, TokenKind::kIdentifier);
  EXPECT_EQ(t[1].text, "caf\xC3\xA9");
  EXPECT_EQ(t[2].kind, TokenKind::kPrivateName);
  EXPECT_EQ(t[3].kind, TokenKind::kKeyword);
  EXPECT_EQ(t[4].kind, TokenKind::kKeyword);
  auto u = toks("a @ b");
  EXPECT_EQ(u[1].kind, TokenKind::kInvalid);
  EXPECT_TRUE(u[1].error);
}

TEST(JsTokenizer, LineTerminators) {
  std::vector<Token> v;
  tokenize("a\xE2\x80\xA9" "b\rc", &v);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_TRUE(v[1].newline_before);
  EXPECT_TRUE(v[2].newline_before);
  // "-->" after a line separator starts a comment.
  auto t = toks("x\xE2\x80\xA8--> y");
  EXPECT_EQ(t[1].kind, TokenKind::kComment);
}

TEST(JsTokenizer, AnyBytesLinear) {
  std::string s;
  for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  std::string big;
  while (big.size() < (1u << 20)) big += s;
  std::vector<Token> v;
  auto t0 = std::chrono::steady_clock::now();
  tokenize(big, &v);
  tokenize(std::string(1 << 20, '/'), &v);
  tokenize(std::string(1 << 20, '`'), &v);
  tokenize(std::string(1 << 20, '\\'), &v);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0)
                .count();
  // Guards against quadratic work (minutes at this size), not a speed target (that is
  // bench/micro): CI shares a loaded machine, and sanitizer builds are slower still.
  EXPECT_LT(ms, 10000);
  std::uint32_t prev = 0;
  for (const Token& t : v) {
    EXPECT_LE(prev, t.begin);
    EXPECT_LT(t.begin, t.end);
    prev = t.end;
  }
}

}  // namespace
}  // namespace vigil::tokenize::js
