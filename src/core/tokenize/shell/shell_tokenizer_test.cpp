#include "core/tokenize/shell/shell_tokenizer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

namespace vigil::tokenize::shell {
namespace {

using namespace std::string_literals;

Tokens lex(std::string_view src, Dialect dialect = Dialect::kBash) {
  Tokens t;
  tokenize(src, dialect, &t);
  return t;
}

// "kind:text" for every token at depth 0 (or all depths).
std::vector<std::string> summary(std::string_view src, Dialect dialect = Dialect::kBash,
                                 bool all_depths = false) {
  Tokens t = lex(src, dialect);
  std::vector<std::string> out;
  for (const Token& tok : t.tokens) {
    if (!all_depths && tok.depth != 0) continue;
    out.push_back(std::string(token_kind_name(tok.kind)) + ":" +
                  std::string(src.substr(tok.begin, tok.end - tok.begin)));
  }
  return out;
}

std::vector<std::string> parts_of(std::string_view src, Dialect dialect = Dialect::kBash) {
  Tokens t = lex(src, dialect);
  std::vector<std::string> out;
  for (const Part& p : t.parts)
    out.push_back(std::string(part_kind_name(p.kind)) + ":" +
                  std::string(src.substr(p.begin, p.end - p.begin)));
  return out;
}

// Every byte belongs to exactly one part, in order.
void expect_partition(std::string_view src, const Tokens& t) {
  std::uint32_t at = 0;
  for (const Part& p : t.parts) {
    ASSERT_EQ(p.begin, at);
    ASSERT_LT(p.begin, p.end);
    at = p.end;
    if (p.token != kNoToken) {
      ASSERT_LT(p.token, t.tokens.size());
    }
  }
  ASSERT_EQ(at, src.size());
  for (const Token& tok : t.tokens) {
    ASSERT_LE(tok.begin, tok.end);
    ASSERT_LE(tok.end, src.size());
  }
}

TEST(ShellTokenizer, WordsOperatorsAndRedirections) {
  EXPECT_EQ(summary("ping -c 1 8.8.8.8; id && ls|wc -l &"),
            (std::vector<std::string>{"word:ping", "word:-c", "word:1", "word:8.8.8.8",
                                      "operator:;", "word:id", "operator:&&", "word:ls",
                                      "operator:|", "word:wc", "word:-l", "operator:&"}));
  EXPECT_EQ(summary("cat <in >out 2>>err 2>&1 &>all >|f <>rw"),
            (std::vector<std::string>{"word:cat", "redirection:<", "word:in", "redirection:>",
                                      "word:out", "redirection:2>>", "word:err", "redirection:2>&",
                                      "word:1", "redirection:&>", "word:all", "redirection:>|",
                                      "word:f", "redirection:<>", "word:rw"}));
  // An fd prefix only when the word is all digits.
  EXPECT_EQ(summary("echo a2>f"),
            (std::vector<std::string>{"word:echo", "word:a2", "redirection:>", "word:f"}));
  EXPECT_EQ(summary("echo x {fd}>f"),
            (std::vector<std::string>{"word:echo", "word:x", "redirection:{fd}>", "word:f"}));
  EXPECT_EQ(summary("a;;b;&c;;&d|&e"),
            (std::vector<std::string>{"word:a", "operator:;;", "word:b", "operator:;&", "word:c",
                                      "operator:;;&", "word:d", "operator:|&", "word:e"}));
}

TEST(ShellTokenizer, PosixDialectReadsBashOperatorsAsDash) {
  EXPECT_EQ(summary("a|&b", Dialect::kPosix),
            (std::vector<std::string>{"word:a", "operator:|", "operator:&", "word:b"}));
  // $'...' is a literal dollar and a single-quoted string in dash.
  EXPECT_EQ(parts_of("echo $'a'", Dialect::kPosix),
            (std::vector<std::string>{"literal:echo", "blank: ", "literal:$", "quote-open:'",
                                      "quoted-text:a", "quote-close:'"}));
  EXPECT_EQ(parts_of("echo $'a\\'b'"),
            (std::vector<std::string>{"literal:echo", "blank: ", "quote-open:$'", "quoted-text:a",
                                      "escape:\\'", "quoted-text:b", "quote-close:'"}));
  // <( is a process substitution in bash, a redirection and a subshell in dash.
  EXPECT_EQ(summary("diff <(ls) x", Dialect::kPosix),
            (std::vector<std::string>{"word:diff", "redirection:<", "operator:(", "word:ls",
                                      "operator:)", "word:x"}));
  EXPECT_EQ(summary("diff <(ls) x"),
            (std::vector<std::string>{"word:diff", "word:<(ls)", "word:x"}));
}

TEST(ShellTokenizer, QuotesAndEscapesStayInOneWord) {
  EXPECT_EQ(summary("echo 'a b'\"c $d\"e\\ f"),
            (std::vector<std::string>{"word:echo", "word:'a b'\"c $d\"e\\ f"}));
  EXPECT_EQ(
      parts_of("x\"a\\\"b\\q$1\""),
      (std::vector<std::string>{"literal:x", "quote-open:\"", "quoted-text:a", "escape:\\\"",
                                "quoted-text:b\\q", "parameter-expansion:$1", "quote-close:\""}));
  Tokens t = lex("echo \"a b\" c");
  ASSERT_EQ(t.tokens.size(), 3u);
  EXPECT_TRUE(t.tokens[1].flags & kFlagQuoted);
  EXPECT_TRUE(t.tokens[1].flags & kFlagCommandName ? false : true);
  EXPECT_TRUE(t.tokens[0].flags & kFlagCommandName);
}

TEST(ShellTokenizer, CarriageReturnIsABlankAndNulIsText) {
  EXPECT_EQ(summary("a\rb"), (std::vector<std::string>{"word:a", "word:b"}));
  EXPECT_EQ(summary("a\0b"s), (std::vector<std::string>{"word:a\0b"s}));
}

TEST(ShellTokenizer, ExpansionsAndSubstitutionsNest) {
  std::string_view src = "echo $HOME ${x:-\"y z\"} $(id -u; `uname`) $((1+2)) $[3] a$?b";
  Tokens t = lex(src);
  expect_partition(src, t);
  std::vector<std::string> top = summary(src);
  EXPECT_EQ(top, (std::vector<std::string>{"word:echo", "word:$HOME", "word:${x:-\"y z\"}",
                                           "word:$(id -u; `uname`)", "word:$((1+2))", "word:$[3]",
                                           "word:a$?b"}));
  // The command substitution's own tokens are nested one level deeper, with a parent.
  std::vector<std::string> nested;
  for (const Token& tok : t.tokens)
    if (tok.depth == 1) nested.push_back(std::string(src.substr(tok.begin, tok.end - tok.begin)));
  EXPECT_EQ(nested, (std::vector<std::string>{"id", "-u", ";", "`uname`"}));
  EXPECT_EQ(t.tokens[4].parent, 3u);
  EXPECT_TRUE(t.tokens[1].flags & kFlagParam);
  EXPECT_TRUE(t.tokens[3].flags & kFlagSubstitution);
  EXPECT_FALSE(t.unterminated);
}

TEST(ShellTokenizer, DollarThatStartsNothingIsLiteral) {
  EXPECT_EQ(
      parts_of("a$ $% \"$\" $"),
      (std::vector<std::string>{"literal:a$", "blank: ", "literal:$%", "blank: ", "quote-open:\"",
                                "quoted-text:$", "quote-close:\"", "blank: ", "literal:$"}));
}

TEST(ShellTokenizer, CommentsOnlyAtWordStart) {
  EXPECT_EQ(
      summary("echo a#b #c d\nls"),
      (std::vector<std::string>{"word:echo", "word:a#b", "comment:#c d", "newline:\n", "word:ls"}));
  EXPECT_EQ(summary("a;#x"), (std::vector<std::string>{"word:a", "operator:;", "comment:#x"}));
  // After a quoted part or an expansion, '#' starts a comment (mvdan/sh), after text it does not.
  EXPECT_EQ(summary("echo a\"b\"#c d"),
            (std::vector<std::string>{"word:echo", "word:a\"b\"", "comment:#c d"}));
  EXPECT_EQ(summary("echo $x#c ${y}#d"),
            (std::vector<std::string>{"word:echo", "word:$x", "comment:#c ${y}#d"}));
  EXPECT_EQ(summary("echo \\##c"), (std::vector<std::string>{"word:echo", "word:\\##c"}));
}

TEST(ShellTokenizer, GlobsAndExtendedGlobs) {
  Tokens t = lex("ls *.txt ?(a|b) [ab]c");
  ASSERT_EQ(t.tokens.size(), 4u);
  EXPECT_TRUE(t.tokens[1].flags & kFlagGlob);
  EXPECT_TRUE(t.tokens[2].flags & kFlagExtGlob);
  EXPECT_TRUE(t.tokens[3].flags & kFlagGlob);
  // "@()" is not an extended glob (it reads as a function declaration).
  EXPECT_EQ(parts_of("f@()"), (std::vector<std::string>{"literal:f@", "operator:(", "operator:)"}));
}

TEST(ShellTokenizer, AssignmentsAndReservedWordsInCommandPosition) {
  Tokens t = lex("A=1 B+=2 cmd C=3; if true; then x; fi");
  ASSERT_GE(t.tokens.size(), 4u);
  EXPECT_TRUE(t.tokens[0].flags & kFlagAssignment);
  EXPECT_EQ(t.tokens[0].aux, 1u);
  EXPECT_TRUE(t.tokens[1].flags & kFlagAssignment);
  EXPECT_TRUE(t.tokens[2].flags & kFlagCommandName);
  EXPECT_FALSE(t.tokens[3].flags & kFlagAssignment);  // an argument, not an assignment
  EXPECT_TRUE(t.tokens[5].flags & kFlagReserved);     // if
  EXPECT_TRUE(t.tokens[6].flags & kFlagCommandName);  // true
}

TEST(ShellTokenizer, HereDocumentsEndAtTheirDelimiterLine) {
  std::string_view src = "cat <<EOF >out\nhello $USER\n\\$x\nEOF\necho done";
  Tokens t = lex(src);
  expect_partition(src, t);
  EXPECT_EQ(summary(src),
            (std::vector<std::string>{
                "word:cat", "redirection:<<", "word:EOF", "redirection:>", "word:out", "newline:\n",
                "here-document:hello $USER\n\\$x\nEOF\n", "word:echo", "word:done"}));
  std::vector<std::string> p = parts_of(src);
  EXPECT_NE(std::find(p.begin(), p.end(), "here-document-expansion:$USER"), p.end());
  EXPECT_NE(std::find(p.begin(), p.end(), "here-document-end:EOF\n"), p.end());
  // A quoted delimiter makes the body literal; <<- strips leading tabs before comparing.
  std::string_view quoted = "cat <<-'E O'\n\t$x\n\tE O\nls";
  EXPECT_EQ(summary(quoted),
            (std::vector<std::string>{"word:cat", "redirection:<<-", "word:'E O'", "newline:\n",
                                      "here-document:\t$x\n\tE O\n", "word:ls"}));
  Tokens q = lex(quoted);
  EXPECT_TRUE(q.tokens[4].flags & kFlagHeredocQuoted);
  // No delimiter line: the body runs to the end and is unterminated.
  Tokens open = lex("cat <<EOF\nabc\n");
  EXPECT_TRUE(open.unterminated);
  EXPECT_EQ(open.eof_quote, Quote::kHeredoc);
}

TEST(ShellTokenizer, UnterminatedConstructsReportTheirState) {
  Tokens a = lex("echo 'abc");
  EXPECT_TRUE(a.unterminated);
  EXPECT_EQ(a.eof_quote, Quote::kSingle);
  Tokens b = lex("echo \"abc");
  EXPECT_EQ(b.eof_quote, Quote::kDouble);
  Tokens c = lex("echo $(id");
  EXPECT_EQ(c.eof_quote, Quote::kNone);
  EXPECT_EQ(c.eof_depth, 1u);
  EXPECT_TRUE(c.unterminated);
  Tokens d = lex("echo ${x");
  EXPECT_EQ(d.eof_quote, Quote::kParam);
  Tokens e = lex("echo ok");
  EXPECT_FALSE(e.unterminated);
  EXPECT_EQ(e.eof_quote, Quote::kNone);
}

TEST(ShellTokenizer, LineContinuationJoinsWords) {
  EXPECT_EQ(summary("ec\\\nho a \\\n b"),
            (std::vector<std::string>{"word:ec\\\nho", "word:a", "word:b"}));
}

TEST(ShellTokenizer, DeepNestingEndsInAnErrorPart) {
  std::string src;
  for (int i = 0; i < 1000; ++i) src += "$(";
  Tokens t = lex(src);
  expect_partition(src, t);
  EXPECT_TRUE(t.depth_exceeded);
  EXPECT_EQ(t.parts.back().kind, PartKind::kError);
  std::string quotes;
  for (int i = 0; i < 1000; ++i) quotes += "\"$(";
  Tokens q = lex(quotes);
  expect_partition(quotes, q);
}

TEST(ShellTokenizer, PartAtFindsTheContainingPart) {
  std::string_view src = "ab 'cd'";
  Tokens t = lex(src);
  EXPECT_EQ(t.parts[part_at(t, 0)].kind, PartKind::kLiteral);
  EXPECT_EQ(t.parts[part_at(t, 2)].kind, PartKind::kBlank);
  EXPECT_EQ(t.parts[part_at(t, 3)].kind, PartKind::kQuoteOpen);
  EXPECT_EQ(t.parts[part_at(t, 5)].kind, PartKind::kQuotedText);
}

TEST(ShellTokenizer, RandomBytesArePartitioned) {
  std::mt19937 rng(7);
  const char alphabet[] = "ab $'\"\\`(){}[]<>|&;#\n\r\t*?!@+=-0123456789E\0";
  for (int round = 0; round < 3000; ++round) {
    std::string src;
    int len = static_cast<int>(rng() % 64);
    for (int i = 0; i < len; ++i) {
      src += (rng() % 8 == 0) ? static_cast<char>(rng() % 256)
                              : alphabet[rng() % (sizeof(alphabet) - 1)];
    }
    for (Dialect d : {Dialect::kBash, Dialect::kPosix}) {
      Tokens t;
      tokenize(src, d, &t);
      expect_partition(src, t);
    }
  }
}

TEST(ShellTokenizer, OneMegabyteIsLinear) {
  std::string big;
  while (big.size() < (1u << 20)) big += "echo \"a $b\" 'c' $(d e) | f; ";
  std::string quotes(1u << 20, '\'');
  std::string parens;
  while (parens.size() < (1u << 20)) parens += "$(";
  std::string words(1u << 20, 'a');
  for (const std::string* src : {&big, &quotes, &parens, &words}) {
    Tokens t;
    tokenize(*src, Dialect::kBash, &t);  // first call sizes the buffers
    auto start = std::chrono::steady_clock::now();
    tokenize(*src, Dialect::kBash, &t);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    // A few ms to a few tens of ms (the densest input makes a part per 1.3 bytes). The bound
    // guards against quadratic work (minutes at this size), not a speed target (that is
    // bench/micro): CI shares a loaded machine, and sanitizer builds are slower still.
    EXPECT_LT(ms, 10000);
    expect_partition(*src, t);
  }
}

}  // namespace
}  // namespace vigil::tokenize::shell
