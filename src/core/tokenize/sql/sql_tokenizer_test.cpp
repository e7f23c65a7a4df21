// SQL lexer: token kinds and spans per dialect, on tricky and hostile inputs.
#include "core/tokenize/sql/sql_tokenizer.hpp"

#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

namespace vigil::tokenize::sql {
namespace {

struct Tok {
  TokenKind kind;
  std::string text;
};

// Significant tokens (white space dropped) as (kind, text).
std::vector<Tok> lex(std::string_view text, Dialect d) {
  std::vector<Token> tokens;
  tokenize(text, d, &tokens);
  std::vector<Tok> out;
  for (const Token& t : tokens)
    if (t.kind != TokenKind::kWhitespace) out.push_back({t.kind, std::string(t.text(text))});
  return out;
}

std::vector<Token> raw(std::string_view text, Dialect d) {
  std::vector<Token> tokens;
  tokenize(text, d, &tokens);
  return tokens;
}

// Tokens cover the text in order, without gaps or overlaps, and inner spans nest.
void expect_cover(std::string_view text, Dialect d) {
  std::vector<Token> tokens = raw(text, d);
  std::uint32_t at = 0;
  for (const Token& t : tokens) {
    ASSERT_EQ(t.begin, at);
    ASSERT_GT(t.end, t.begin);
    ASSERT_LE(t.begin, t.inner_begin);
    ASSERT_LE(t.inner_begin, t.inner_end);
    ASSERT_LE(t.inner_end, t.end);
    at = t.end;
  }
  ASSERT_EQ(at, text.size());
}

#define EXPECT_TOK(tok, k, s)            \
  do {                                   \
    EXPECT_EQ((tok).kind, TokenKind::k); \
    EXPECT_EQ((tok).text, s);            \
  } while (0)

TEST(SqlTokenizer, KeywordsIdentifiersAndPunctuation) {
  auto t = lex("SELECT id, name FROM users WHERE id = 1;", Dialect::kSqlite);
  ASSERT_EQ(t.size(), 11u);
  EXPECT_TOK(t[0], kKeyword, "SELECT");
  EXPECT_TOK(t[1], kIdentifier, "id");
  EXPECT_TOK(t[2], kPunctuation, ",");
  EXPECT_TOK(t[3], kIdentifier, "name");
  EXPECT_TOK(t[4], kKeyword, "FROM");
  EXPECT_TOK(t[7], kIdentifier, "id");
  EXPECT_TOK(t[8], kOperator, "=");
  EXPECT_TOK(t[9], kNumber, "1");
  EXPECT_TOK(t[10], kPunctuation, ";");
}

TEST(SqlTokenizer, FunctionNamesAndCommonColumnNamesAreNotKeywords) {
  EXPECT_FALSE(is_keyword("sleep"));
  EXPECT_FALSE(is_keyword("user"));
  EXPECT_FALSE(is_keyword("name"));
  EXPECT_FALSE(is_keyword("version"));
  EXPECT_TRUE(is_keyword("UnIoN"));
  EXPECT_TRUE(is_keyword("sql_calc_found_rows"));
  EXPECT_FALSE(is_keyword("unions"));
  EXPECT_FALSE(is_keyword(""));
}

TEST(SqlTokenizer, SqliteStringsIdentifiersAndBlobs) {
  auto t = lex("'it''s' \"col\" [my col] `b``q` X'0aFF' x'abc'", Dialect::kSqlite);
  ASSERT_EQ(t.size(), 6u);
  EXPECT_TOK(t[0], kString, "'it''s'");
  EXPECT_TOK(t[1], kQuotedIdentifier, "\"col\"");
  EXPECT_TOK(t[2], kQuotedIdentifier, "[my col]");
  EXPECT_TOK(t[3], kQuotedIdentifier, "`b``q`");
  EXPECT_TOK(t[4], kBlob, "X'0aFF'");
  EXPECT_TOK(t[5], kError, "x'abc'");  // odd number of hex digits
}

TEST(SqlTokenizer, SqliteHasNoBackslashEscapes) {
  auto t = lex("'a\\' OR 1=1 --'", Dialect::kSqlite);
  EXPECT_TOK(t[0], kString, "'a\\'");
  EXPECT_TOK(t[1], kKeyword, "OR");
  EXPECT_TOK(t[5], kComment, "--'");
}

TEST(SqlTokenizer, SqliteNumbersParametersAndOperators) {
  auto t = lex("0x1F 1.5e-3 .5 ?12 :name @v $x || << >> <= >= == != <> -> ->>", Dialect::kSqlite);
  ASSERT_EQ(t.size(), 17u);
  EXPECT_TOK(t[0], kNumber, "0x1F");
  EXPECT_TOK(t[1], kNumber, "1.5e-3");
  EXPECT_TOK(t[2], kNumber, ".5");
  EXPECT_TOK(t[3], kParameter, "?12");
  EXPECT_TOK(t[4], kParameter, ":name");
  EXPECT_TOK(t[5], kParameter, "@v");
  EXPECT_TOK(t[6], kParameter, "$x");
  EXPECT_TOK(t[7], kOperator, "||");
  EXPECT_TOK(t[15], kOperator, "->");
  EXPECT_TOK(t[16], kOperator, "->>");
}

TEST(SqlTokenizer, SqliteRejectsNumberWithTrailingLetters) {
  auto t = lex("ORDER BY 50645313a", Dialect::kSqlite);
  EXPECT_TOK(t[2], kError, "50645313a");
  auto m = lex("ORDER BY 50645313a", Dialect::kMysql);
  EXPECT_TOK(m[2], kIdentifier, "50645313a");  // MySQL names may start with digits
}

TEST(SqlTokenizer, UnterminatedBlockCommentRunsToTheEnd) {
  auto tokens = raw("SELECT 1 /* open", Dialect::kSqlite);
  const Token& last = tokens.back();
  EXPECT_EQ(last.kind, TokenKind::kComment);
  EXPECT_TRUE(last.unterminated());
  EXPECT_EQ(last.end, 16u);
}

TEST(SqlTokenizer, UnterminatedStringIsFlagged) {
  auto tokens = raw("x = 'abc", Dialect::kPostgres);
  EXPECT_EQ(tokens.back().kind, TokenKind::kString);
  EXPECT_TRUE(tokens.back().unterminated());
  EXPECT_EQ(tokens.back().inner_begin, 5u);
  EXPECT_EQ(tokens.back().inner_end, 8u);
}

TEST(SqlTokenizer, MysqlStringsTakeBackslashesAndDoubledQuotes) {
  auto t = lex("'a\\'b' \"c\\\"d\" 'e''f' `t``x`", Dialect::kMysql);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_TOK(t[0], kString, "'a\\'b'");
  EXPECT_TOK(t[1], kString, "\"c\\\"d\"");
  EXPECT_TOK(t[2], kString, "'e''f'");
  EXPECT_TOK(t[3], kQuotedIdentifier, "`t``x`");
  auto tokens = raw("'a\\'b'", Dialect::kMysql);
  EXPECT_TRUE(tokens[0].flags & kBackslashEscapes);
}

TEST(SqlTokenizer, MysqlDashDashNeedsASpace) {
  auto t = lex("1--1", Dialect::kMysql);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_TOK(t[1], kOperator, "-");
  EXPECT_TOK(t[2], kOperator, "-");
  auto c = lex("1-- x\n2", Dialect::kMysql);
  EXPECT_TOK(c[1], kComment, "-- x");
  EXPECT_TOK(c[2], kNumber, "2");
  auto end = lex("1--", Dialect::kMysql);
  EXPECT_TOK(end[1], kComment, "--");
  auto s = lex("1--1", Dialect::kSqlite);
  EXPECT_TOK(s[1], kComment, "--1");
}

TEST(SqlTokenizer, MysqlHashComment) {
  auto t = lex("1 # rest\n2", Dialect::kMysql);
  EXPECT_TOK(t[1], kComment, "# rest");
  EXPECT_TOK(t[2], kNumber, "2");
}

TEST(SqlTokenizer, MysqlVersionedCommentContentIsCode) {
  auto t = lex("1/*!50000UNION*/ /*!SELECT*/ /*M!100100 1*/", Dialect::kMysql);
  ASSERT_EQ(t.size(), 10u);
  EXPECT_TOK(t[1], kComment, "/*!50000");
  EXPECT_TOK(t[2], kKeyword, "UNION");
  EXPECT_TOK(t[3], kComment, "*/");
  EXPECT_TOK(t[4], kComment, "/*!");
  EXPECT_TOK(t[5], kKeyword, "SELECT");
  EXPECT_TOK(t[7], kComment, "/*M!100100");
  EXPECT_TOK(t[8], kNumber, "1");
  auto tokens = raw("/*!UNION*/", Dialect::kMysql);
  EXPECT_TRUE(tokens[0].flags & kVersionedOpen);
  EXPECT_TRUE(tokens[2].flags & kVersionedClose);
  // Elsewhere "/*!" is an ordinary comment.
  auto p = lex("/*!UNION*/", Dialect::kPostgres);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TOK(p[0], kComment, "/*!UNION*/");
}

TEST(SqlTokenizer, MysqlLiteralsAndVariables) {
  auto t = lex("0x41 x'41' b'01' 0b01 _utf8mb4'x' N'y' @v @@session.sql_mode @'q v' := && <=> !",
               Dialect::kMysql);
  ASSERT_EQ(t.size(), 13u);
  EXPECT_TOK(t[0], kBlob, "0x41");
  EXPECT_TOK(t[1], kBlob, "x'41'");
  EXPECT_TOK(t[2], kBlob, "b'01'");
  EXPECT_TOK(t[3], kBlob, "0b01");
  EXPECT_TOK(t[4], kString, "_utf8mb4'x'");
  EXPECT_TOK(t[5], kString, "N'y'");
  EXPECT_TOK(t[6], kParameter, "@v");
  EXPECT_TOK(t[7], kParameter, "@@session.sql_mode");
  EXPECT_TOK(t[8], kParameter, "@'q v'");
  EXPECT_TOK(t[9], kOperator, ":=");
  EXPECT_TOK(t[10], kOperator, "&&");
  EXPECT_TOK(t[11], kOperator, "<=>");
  EXPECT_TOK(t[12], kOperator, "!");
}

TEST(SqlTokenizer, PostgresStringsOfEveryForm) {
  auto t =
      lex("'a\\' E'b\\'c' U&'d' B'01' X'1f' $$e'f$$ $tag$g$$h$tag$ \"I\"\"d\"", Dialect::kPostgres);
  ASSERT_EQ(t.size(), 8u);
  EXPECT_TOK(t[0], kString, "'a\\'");  // standard strings: a backslash is a backslash
  EXPECT_TOK(t[1], kString, "E'b\\'c'");
  EXPECT_TOK(t[2], kString, "U&'d'");
  EXPECT_TOK(t[3], kBlob, "B'01'");
  EXPECT_TOK(t[4], kBlob, "X'1f'");
  EXPECT_TOK(t[5], kString, "$$e'f$$");
  EXPECT_TOK(t[6], kString, "$tag$g$$h$tag$");
  EXPECT_TOK(t[7], kQuotedIdentifier, "\"I\"\"d\"");
  auto tokens = raw("$tag$body$tag$", Dialect::kPostgres);
  EXPECT_EQ(tokens[0].inner_begin, 5u);
  EXPECT_EQ(tokens[0].inner_end, 9u);
}

TEST(SqlTokenizer, PostgresNestedCommentsCastsAndParameters) {
  auto t = lex("/* a /* b */ c */ x::int $1 a$b", Dialect::kPostgres);
  ASSERT_EQ(t.size(), 6u);
  EXPECT_TOK(t[0], kComment, "/* a /* b */ c */");
  EXPECT_TOK(t[2], kOperator, "::");
  EXPECT_TOK(t[4], kParameter, "$1");
  EXPECT_TOK(t[5], kIdentifier, "a$b");
}

TEST(SqlTokenizer, PostgresOperatorRuns) {
  // A multi-character operator cannot end in + or - unless it holds one of ~!@#%^&|`?.
  auto t = lex("a=-1 b@-1 c<>d e--f", Dialect::kPostgres);
  EXPECT_TOK(t[1], kOperator, "=");
  EXPECT_TOK(t[2], kOperator, "-");
  EXPECT_TOK(t[5], kOperator, "@-");
  EXPECT_TOK(t[8], kOperator, "<>");
  EXPECT_TOK(t[11], kComment, "--f");
}

TEST(SqlTokenizer, MssqlBracketsAndNationalStrings) {
  auto t = lex("[a]]b] N'x''y' 0xFF @v @@ROWCOUNT #tmp \"q\"", Dialect::kMssql);
  ASSERT_EQ(t.size(), 7u);
  EXPECT_TOK(t[0], kQuotedIdentifier, "[a]]b]");
  EXPECT_TOK(t[1], kString, "N'x''y'");
  EXPECT_TOK(t[2], kBlob, "0xFF");
  EXPECT_TOK(t[3], kParameter, "@v");
  EXPECT_TOK(t[4], kParameter, "@@ROWCOUNT");
  EXPECT_TOK(t[5], kIdentifier, "#tmp");
  EXPECT_TOK(t[6], kQuotedIdentifier, "\"q\"");
}

TEST(SqlTokenizer, OracleAlternativeQuoting) {
  auto t = lex("q'[it's]' q'{a}b}' Q'(x)' q'<y>' q'!z!' nq'#w#' N'v' :b", Dialect::kOracle);
  ASSERT_EQ(t.size(), 8u);
  EXPECT_TOK(t[0], kString, "q'[it's]'");
  EXPECT_TOK(t[1], kString, "q'{a}b}'");
  EXPECT_TOK(t[2], kString, "Q'(x)'");
  EXPECT_TOK(t[3], kString, "q'<y>'");
  EXPECT_TOK(t[4], kString, "q'!z!'");
  EXPECT_TOK(t[5], kString, "nq'#w#'");
  EXPECT_TOK(t[6], kString, "N'v'");
  EXPECT_TOK(t[7], kParameter, ":b");
  auto tokens = raw("q'[x]'", Dialect::kOracle);
  EXPECT_EQ(tokens[0].inner_begin, 3u);
  EXPECT_EQ(tokens[0].inner_end, 4u);
}

TEST(SqlTokenizer, GenericIsThePermissiveUnion) {
  auto t = lex("'a\\'b' \"c\" # x\n-- y\n/* z */ `d` [e]", Dialect::kGeneric);
  ASSERT_EQ(t.size(), 7u);
  EXPECT_TOK(t[0], kString, "'a\\'b'");
  EXPECT_TOK(t[1], kString, "\"c\"");
  EXPECT_TOK(t[2], kComment, "# x");
  EXPECT_TOK(t[3], kComment, "-- y");
  EXPECT_TOK(t[4], kComment, "/* z */");
  EXPECT_TOK(t[5], kQuotedIdentifier, "`d`");
  EXPECT_TOK(t[6], kQuotedIdentifier, "[e]");
}

TEST(SqlTokenizer, RejectedBytes) {
  auto t = lex(std::string("a\0b \\ ``", 8), Dialect::kSqlite);
  EXPECT_TOK(t[1], kError, std::string(1, '\0'));
  EXPECT_TOK(t[3], kError, "\\");
  auto m = lex("x ``", Dialect::kMssql);
  EXPECT_TOK(m[1], kError, "``");  // a run of one rejected byte is one token
}

TEST(SqlTokenizer, CoversEveryByteOnHostileInput) {
  const char* samples[] = {
      "'",        "\"",
      "`",        "[",
      "/*",       "/*!",
      "*/",       "--",
      "#",        "$",
      "$a",       "$a$",
      "$$x",      "E'\\",
      "q'",       "q'[",
      "nq'",      "U&'",
      "x'",       "0x",
      "1e",       "1e+",
      "..",       "@",
      "@@",       "@'",
      ":",        "?",
      "\xff\xfe", std::string("\0'\0", 3).c_str(),
      "'\\",      "N'",
      "_utf8'",   "/*!50000 */ */",
  };
  for (Dialect d : {Dialect::kGeneric, Dialect::kSqlite, Dialect::kMysql, Dialect::kPostgres,
                    Dialect::kMssql, Dialect::kOracle}) {
    for (const char* s : samples) expect_cover(s, d);
    expect_cover(std::string("a\0b'c\0", 6), d);
    expect_cover("SELECT * FROM t WHERE a = 'x'' OR 1=1 -- ' AND b = $1 /* c", d);
  }
}

// The table lookup the lexer uses for words must agree with is_keyword() (which compares the
// folded bytes one by one) on every keyword in any case and on near misses: words of 8 bytes and
// more share their first eight bytes with keywords (current_date / current_time / current_user).
TEST(SqlTokenizer, WordsAreKeywordsExactlyWhenIsKeywordSaysSo) {
  const char* words[] = {"SELECT",       "select",        "SeLeCt",       "selec",
                         "selects",      "_select",       "select_",      "or",
                         "OR",           "o",             "ORDER",        "orders",
                         "DISTINCTROW",  "distinctro",    "current_date", "CURRENT_TIME",
                         "current_user", "current_users", "current_",     "current_timestamp",
                         "current_timestampx", "sql_calc_found_rows", "SQL_CALC_FOUND_ROWZ",
                         "straight_join", "high_priority", "transaction", "x",
                         "products",     "visible",       "$and",         "and$",
                         "l\xc3\xa9",    "price1",        "union9"};
  for (Dialect d : {Dialect::kGeneric, Dialect::kSqlite, Dialect::kMysql, Dialect::kPostgres,
                    Dialect::kMssql, Dialect::kOracle}) {
    for (const char* w : words) {
      // Alone (the text ends within 8 bytes of the word) and followed by more text.
      for (std::string text : {std::string(w), std::string(w) + " FROM t WHERE a = 1"}) {
        std::vector<Token> tokens = raw(text, d);
        ASSERT_FALSE(tokens.empty());
        const Token& t = tokens[0];
        if (t.kind != TokenKind::kKeyword && t.kind != TokenKind::kIdentifier) continue;
        EXPECT_EQ(t.kind == TokenKind::kKeyword, is_keyword(t.text(text)))
            << text << " dialect " << static_cast<int>(d);
      }
    }
  }
}

// tokenize() into a reused TokenBuffer, next_batch() and next() give the same tokens as
// tokenize() into a vector; seek() gives the token that holds a byte.
TEST(SqlTokenizer, BufferBatchPullAndSeekAgree) {
  const char* texts[] = {
      "SELECT name, price FROM products WHERE visible = 1 AND name LIKE '%lamp%' ORDER BY id",
      "SELECT * FROM t WHERE a = 'x'' OR 1=1 -- ' AND b = $1 /* c",
      "INSERT INTO t VALUES (X'0a', N'x', E'\\'', 0x1F, 1.5e3, @v, :p, ?2, `q`, [b], \"d\")",
      "a",
      "",
  };
  TokenBuffer buffer;
  for (Dialect d : {Dialect::kGeneric, Dialect::kSqlite, Dialect::kMysql, Dialect::kPostgres,
                    Dialect::kMssql, Dialect::kOracle}) {
    for (std::string_view text : texts) {
      std::vector<Token> expected = raw(text, d);
      std::span<const Token> got = tokenize(text, d, &buffer);
      ASSERT_EQ(got.size(), expected.size()) << text;
      auto same = [](const Token& t, const Token& e) {
        return t.kind == e.kind && t.flags == e.flags && t.begin == e.begin && t.end == e.end &&
               t.inner_begin == e.inner_begin && t.inner_end == e.inner_end;
      };
      std::vector<Token> batched;
      Lexer batch(text, d);
      Token two[2];
      for (std::size_t n; (n = batch.next_batch(two, 2)) > 0;)
        batched.insert(batched.end(), two, two + n);
      ASSERT_EQ(batched.size(), expected.size()) << text;
      Lexer pull(text, d);
      for (std::size_t i = 0; i < expected.size(); ++i) {
        const Token& e = expected[i];
        EXPECT_TRUE(same(got[i], e)) << text << " token " << i;
        EXPECT_TRUE(same(batched[i], e)) << text << " token " << i;
        Token p;
        ASSERT_TRUE(pull.next(&p));
        EXPECT_TRUE(same(p, e)) << text << " token " << i;
        // To its last byte, its first and one between (a seek may start lexing inside a plain
        // run, where white space ends before its target).
        for (std::uint32_t at : {e.end - 1, e.begin, e.begin + (e.end - e.begin) / 2}) {
          Lexer seeker(text, d);
          Token s;
          ASSERT_TRUE(seeker.seek(at, &s));
          EXPECT_TRUE(same(s, e)) << text << " seek to byte " << at << " of token " << i;
        }
      }
      Token p;
      EXPECT_FALSE(pull.next(&p));
      Lexer past(text, d);
      Token s;
      EXPECT_FALSE(past.seek(static_cast<std::uint32_t>(text.size()), &s));
    }
  }
  // A buffer grown by a long statement serves shorter ones.
  std::string many;
  for (int i = 0; i < 500; ++i) many += "a,";
  EXPECT_EQ(tokenize(many, Dialect::kSqlite, &buffer).size(), 1000u);
  EXPECT_EQ(tokenize("a b", Dialect::kSqlite, &buffer).size(), 3u);
}

// seek() passes over runs of plain bytes 16 and 32 at a time: every byte value, placed at
// places in and across those steps of a long plain run, stops it exactly where tokenize() says.
TEST(SqlTokenizer, SeekStopsAtEveryNonPlainByteInLongRuns) {
  // Non-plain bytes after the run end what the byte placed in it may start (a string, a
  // comment, a quoted name), so a run that wrongly went on would end before the seek target.
  const std::string run =
      "select a,b from t where c = d and e<f or g.h*2>=(i) ; k l m n o p q r s t u v w x y z";
  for (const char* tail : {" 'q' w", " \"q\" w `q` w", " /*c*/ w", " -- c\n w", " [q] w $1 w"}) {
    for (int b = 0; b < 256; ++b) {
      for (std::size_t at : {0u, 5u, 15u, 16u, 31u, 32u, 33u, 47u, 63u, 64u, 70u}) {
        std::string text = run + tail;
        text[at] = static_cast<char>(b);
        for (Dialect d : {Dialect::kSqlite, Dialect::kMysql, Dialect::kPostgres}) {
          const std::vector<Token> expected = raw(text, d);
          for (std::size_t i = 0; i < expected.size(); ++i) {
            const Token& e = expected[i];
            for (std::uint32_t to : {e.end - 1, e.begin}) {
              Lexer seeker(text, d);
              Token t;
              ASSERT_TRUE(seeker.seek(to, &t));
              ASSERT_TRUE(t.kind == e.kind && t.begin == e.begin && t.end == e.end)
                  << "byte " << b << " at " << at << " token " << i << " tail " << tail;
            }
          }
        }
      }
    }
  }
}

TEST(SqlTokenizer, LargeHostileInputIsLinear) {
  std::string big;
  while (big.size() < (1u << 20)) big += "$a$'\"`/*-#\\";
  std::vector<Token> tokens;
  for (Dialect d : {Dialect::kGeneric, Dialect::kSqlite, Dialect::kMysql, Dialect::kPostgres,
                    Dialect::kMssql, Dialect::kOracle}) {
    tokenize(big, d, &tokens);
    ASSERT_FALSE(tokens.empty());
    EXPECT_EQ(tokens.back().end, big.size());
  }
}

}  // namespace
}  // namespace vigil::tokenize::sql
