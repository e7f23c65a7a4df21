#include "core/tokenize/python/python_tokenizer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil::tokenize::python {
namespace {

std::vector<std::string> texts(std::string_view src) {
  std::vector<Token> toks;
  tokenize(src, &toks);
  std::vector<std::string> out;
  for (const Token& t : toks) out.push_back(std::string(src.substr(t.begin, t.end - t.begin)));
  return out;
}

TEST(PythonTokenizer, StringsWithPrefixesAndEscapes) {
  EXPECT_EQ(
      texts("print('a\\'b', rb\"c\", F'{x}')"),
      (std::vector<std::string>{"print", "(", "'a\\'b'", ",", "rb\"c\"", ",", "F'{x}'", ")"}));
  std::vector<Token> toks;
  tokenize("x = f'{y}' + r'\\''", &toks);
  ASSERT_EQ(toks.size(), 5u);
  EXPECT_EQ(toks[2].kind, TokenKind::kString);
  EXPECT_TRUE(toks[2].flags & kStringFormat);
  EXPECT_TRUE(toks[4].flags & kStringRaw);
  EXPECT_FALSE(toks[4].flags & kStringUnterminated);  // r'\'' keeps the escaped quote
  EXPECT_EQ(toks[4].content_begin, 15u);
  EXPECT_EQ(toks[4].content_end, 17u);
}

TEST(PythonTokenizer, TripleQuotesSpanLines) {
  std::vector<Token> toks;
  tokenize("s = '''a\n'b'\n''' # c", &toks);
  ASSERT_EQ(toks.size(), 4u);
  EXPECT_TRUE(toks[2].flags & kStringTriple);
  EXPECT_EQ(toks[3].kind, TokenKind::kComment);
}

TEST(PythonTokenizer, LineFeedEndsASingleQuotedString) {
  std::vector<Token> toks;
  tokenize("print('a\nb')", &toks);
  ASSERT_GE(toks.size(), 3u);
  EXPECT_EQ(toks[2].kind, TokenKind::kString);
  EXPECT_TRUE(toks[2].flags & kStringUnterminated);
  EXPECT_EQ(toks[2].end, 8u);
  // A carriage return stays string content.
  tokenize("print('a\rb')", &toks);
  EXPECT_FALSE(toks[2].flags & kStringUnterminated);
}

TEST(PythonTokenizer, NamesNumbersAndTokenAt) {
  std::vector<Token> toks;
  tokenize("a1 = 1e-3 + .5", &toks);
  ASSERT_EQ(toks.size(), 5u);
  EXPECT_EQ(toks[2].kind, TokenKind::kNumber);
  EXPECT_EQ(toks[2].end, 9u);
  EXPECT_EQ(token_at(toks, 0), 0u);
  EXPECT_EQ(token_at(toks, 2), toks.size());  // white space
  EXPECT_EQ(token_at(toks, 6), 2u);
}

TEST(PythonTokenizer, AnyBytesTerminate) {
  std::string src;
  for (int i = 0; i < 4096; ++i) src += static_cast<char>((i * 131) % 256);
  std::vector<Token> toks;
  tokenize(src, &toks);
  std::uint32_t at = 0;
  for (const Token& t : toks) {
    EXPECT_GE(t.begin, at);
    EXPECT_LE(t.end, src.size());
    at = t.end;
  }
}

}  // namespace
}  // namespace vigil::tokenize::python
