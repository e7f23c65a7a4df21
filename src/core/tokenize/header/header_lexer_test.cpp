#include "core/tokenize/header/header_lexer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace vigil::tokenize::header {
namespace {

using namespace std::string_literals;

std::vector<Line> lex(std::string_view block) {
  std::vector<Line> out;
  Lexer lexer(block);
  Line line;
  while (lexer.next(&line)) out.push_back(line);
  return out;
}

std::string_view part(std::string_view s, std::uint32_t b, std::uint32_t e) {
  return s.substr(b, e - b);
}

TEST(HeaderLexer, OneFieldLine) {
  std::string_view block = "Location: /welcome?name=bob \r\n";
  auto lines = lex(block);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].kind, LineKind::kField);
  EXPECT_EQ(lines[0].end_kind, LineEnd::kCrlf);
  EXPECT_EQ(part(block, lines[0].begin, lines[0].name_end), "Location");
  EXPECT_EQ(part(block, lines[0].value_begin, lines[0].value_end), "/welcome?name=bob");
  EXPECT_EQ(lines[0].next, block.size());
  EXPECT_FALSE(lines[0].invalid_value_byte);
}

TEST(HeaderLexer, InjectedFieldAndBody) {
  std::string_view block = "X-Request-Id: a\r\nSet-Cookie: s=1\r\n\r\n<html>hi</html>\r\n";
  auto lines = lex(block);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1].kind, LineKind::kField);
  EXPECT_EQ(part(block, lines[1].begin, lines[1].name_end), "Set-Cookie");
  EXPECT_EQ(lines[2].kind, LineKind::kEmpty);
  EXPECT_EQ(lines[3].kind, LineKind::kBody);
  EXPECT_EQ(lines[3].end_kind, LineEnd::kNone);
  EXPECT_EQ(part(block, lines[3].begin, lines[3].end), "<html>hi</html>\r\n");
}

TEST(HeaderLexer, BareLineBreaks) {
  std::string_view block = "X: a\nb: c\rd\r\r\n";
  auto lines = lex(block);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].end_kind, LineEnd::kLf);
  EXPECT_EQ(lines[1].end_kind, LineEnd::kCr);
  EXPECT_EQ(lines[1].kind, LineKind::kField);
  EXPECT_EQ(lines[2].kind, LineKind::kMalformed);  // "d": no colon
  EXPECT_EQ(lines[2].end_kind, LineEnd::kCr);
  EXPECT_EQ(lines[3].kind, LineKind::kEmpty);  // the CRLF after the bare CR
  EXPECT_EQ(lines[3].end_kind, LineEnd::kCrlf);
}

TEST(HeaderLexer, FoldedAndMalformedLines) {
  std::string_view block = "A: 1\r\n  folded\r\nB : 2\r\n: x\r\nC\x01: y\r\nD:\r\n";
  auto lines = lex(block);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[1].kind, LineKind::kContinuation);
  EXPECT_EQ(part(block, lines[1].value_begin, lines[1].value_end), "folded");
  EXPECT_EQ(lines[2].kind, LineKind::kMalformed);  // white space before the colon
  EXPECT_EQ(lines[3].kind, LineKind::kMalformed);  // empty name
  EXPECT_EQ(lines[4].kind, LineKind::kMalformed);  // control byte in the name
  EXPECT_EQ(lines[4].next, block.size() - 4);
  EXPECT_EQ(lines[5].kind, LineKind::kField);
}

TEST(HeaderLexer, EmptyValueAndControlBytes) {
  std::string_view block = "D:\r\nE: a\x01z\tb\r\n";
  auto lines = lex(block);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].kind, LineKind::kField);
  EXPECT_EQ(lines[0].value_begin, lines[0].value_end);
  EXPECT_TRUE(lines[1].invalid_value_byte);
}

TEST(HeaderLexer, UnterminatedLastLine) {
  auto lines = lex("A: 1");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].end_kind, LineEnd::kNone);
  // An unterminated empty line cannot happen: an empty block has no lines.
  EXPECT_TRUE(lex("").empty());
}

TEST(HeaderLexer, LinesCoverTheBlockInOrder) {
  std::string block = "A: 1\r\n\r\r\n\n: \x00x\r\n \r\nB:2\r\n\r\nbody\r\n\r\nmore"s;
  std::uint32_t pos = 0;
  for (const Line& l : lex(block)) {
    EXPECT_EQ(l.begin, pos);
    EXPECT_LE(l.begin, l.end);
    EXPECT_LE(l.end, l.next);
    pos = l.next;
  }
  EXPECT_EQ(pos, block.size());
}

TEST(HeaderLexer, TokenChars) {
  EXPECT_TRUE(is_token_char('a'));
  EXPECT_TRUE(is_token_char('~'));
  EXPECT_FALSE(is_token_char(':'));
  EXPECT_FALSE(is_token_char(' '));
  EXPECT_FALSE(is_token_char('\0'));
  EXPECT_FALSE(is_token_char('"'));
}

TEST(HeaderLexer, LinearOnLargeInputs) {
  // 1.4 MB of short lines; a quadratic lexer would take minutes. The bound is loose because
  // the machine is shared.
  std::string block;
  for (int i = 0; i < 200000; ++i) block += "X: a\nY\r";
  auto start = std::chrono::steady_clock::now();
  Lexer lexer(block);
  Line line;
  std::size_t n = 0;
  while (lexer.next(&line)) ++n;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  EXPECT_EQ(n, 400000u);
  // Guards against quadratic work (minutes at this size), not a speed target (that is
  // bench/micro): CI shares a loaded machine, and sanitizer builds are slower still.
  EXPECT_LT(ms, 10000);
}

}  // namespace
}  // namespace vigil::tokenize::header
