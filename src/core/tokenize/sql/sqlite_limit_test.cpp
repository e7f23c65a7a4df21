// SQLite LIMIT evaluation: which clauses SQLite would refuse with "datatype mismatch".
#include "core/tokenize/sql/sqlite_limit.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil::tokenize::sql {
namespace {

LimitVerdict verdict(const std::string& clause) {
  std::string text = "SELECT id FROM products ORDER BY id " + clause;
  std::vector<Token> tokens;
  tokenize(text, Dialect::kSqlite, &tokens);
  for (std::uint32_t i = 0; i < tokens.size(); ++i)
    if (tokens[i].kind == TokenKind::kKeyword && tokens[i].text(text) == "LIMIT")
      return sqlite_limit_verdict(text, tokens, i);
  return LimitVerdict::kUnknown;
}

TEST(SqliteLimit, IntegersRun) {
  EXPECT_EQ(verdict("LIMIT 5"), LimitVerdict::kRuns);
  EXPECT_EQ(verdict("LIMIT 5 OFFSET 10"), LimitVerdict::kRuns);
  EXPECT_EQ(verdict("LIMIT 10, 5"), LimitVerdict::kRuns);
  EXPECT_EQ(verdict("LIMIT -1"), LimitVerdict::kRuns);
  EXPECT_EQ(verdict("LIMIT '12'"), LimitVerdict::kRuns);  // text that is an integer
  EXPECT_EQ(verdict("LIMIT 3.0"), LimitVerdict::kRuns);   // a real with an integer value
  EXPECT_EQ(verdict("LIMIT 1 OR 'x'"), LimitVerdict::kRuns);
  EXPECT_EQ(verdict("LIMIT (SELECT 2) -- c"), LimitVerdict::kRuns);
  EXPECT_EQ(verdict("LIMIT cos(0)"), LimitVerdict::kRuns);  // 1.0
}

TEST(SqliteLimit, NonIntegersFail) {
  EXPECT_EQ(verdict("LIMIT 'abc'"), LimitVerdict::kMismatch);
  EXPECT_EQ(verdict("LIMIT \"x\" -- y"), LimitVerdict::kMismatch);  // unknown name: a string
  EXPECT_EQ(verdict("LIMIT NULL"), LimitVerdict::kMismatch);
  EXPECT_EQ(verdict("LIMIT 0.5"), LimitVerdict::kMismatch);
  EXPECT_EQ(verdict("LIMIT 1%')) and (8853=9924)*9924 and (('%'='"), LimitVerdict::kMismatch);
  EXPECT_EQ(verdict("LIMIT 1%\"))) or sleep(5) and (((\"%\"=\""), LimitVerdict::kMismatch);
  EXPECT_EQ(verdict("LIMIT (select (case when (1=2) then 1 else 1/(select 0) end))"),
            LimitVerdict::kMismatch);
  EXPECT_EQ(verdict("LIMIT 1,(select (case when (4828=2600) then 1 else 1/(select 0) end))"),
            LimitVerdict::kMismatch);
  EXPECT_EQ(verdict("LIMIT ( COS ( ( SELECT 1 OR 'b')) )  --"), LimitVerdict::kMismatch);
  EXPECT_EQ(verdict("LIMIT ( (SELECT COS ( ( SELECT ( 'b')))) )"), LimitVerdict::kMismatch);
  EXPECT_EQ(verdict("LIMIT case sin(1) when 2 then 2 end"), LimitVerdict::kMismatch);
  EXPECT_EQ(verdict("LIMIT 5 OFFSET 'x'"), LimitVerdict::kMismatch);
}

TEST(SqliteLimit, AnythingElseIsUnknown) {
  EXPECT_EQ(verdict("LIMIT id"), LimitVerdict::kUnknown);        // a column: "no such column"
  EXPECT_EQ(verdict("LIMIT sleep(5)"), LimitVerdict::kUnknown);  // no such function
  EXPECT_EQ(verdict("LIMIT random()"), LimitVerdict::kUnknown);
  EXPECT_EQ(verdict("LIMIT (SELECT count(*) FROM users)"), LimitVerdict::kUnknown);
  EXPECT_EQ(verdict("LIMIT 'x'; DROP TABLE users"), LimitVerdict::kUnknown);
  EXPECT_EQ(verdict("LIMIT 1 UNION SELECT 2"), LimitVerdict::kUnknown);
  EXPECT_EQ(verdict("LIMIT 'x' 'y'"), LimitVerdict::kUnknown);
  EXPECT_EQ(verdict("LIMIT"), LimitVerdict::kUnknown);
  EXPECT_EQ(verdict("LIMIT randomblob(500000000)"), LimitVerdict::kUnknown);
}

TEST(SqliteLimit, DeepNestingIsBounded) {
  std::string deep = "LIMIT " + std::string(5000, '(') + "'x'" + std::string(5000, ')');
  EXPECT_EQ(verdict(deep), LimitVerdict::kUnknown);
  std::string unary = "LIMIT " + std::string(100000, '~') + "'x'";
  EXPECT_EQ(verdict(unary), LimitVerdict::kUnknown);
}

}  // namespace
}  // namespace vigil::tokenize::sql
