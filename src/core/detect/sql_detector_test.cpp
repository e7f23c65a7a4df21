// SQL-injection detector, through the public engine API (occurrence search included).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "vigil/engine.hpp"

namespace vigil {
namespace {

Verdict check(Dialect d, std::string_view query, std::vector<std::string_view> values) {
  std::vector<Input> inputs;
  for (std::string_view v : values) inputs.push_back(Input{Source::kQuery, "q", v});
  Engine engine;
  return engine.check_sink(Sink::sql(d, query), inputs);
}

bool attack(Dialect d, std::string_view query, std::string_view input) {
  return check(d, query, {input}).attack();
}

constexpr Dialect kLite = Dialect::kSqlite;
constexpr Dialect kMy = Dialect::kMysql;
constexpr Dialect kPg = Dialect::kPostgres;

TEST(SqlDetector, ClosedStringLiteralWithKeywordOperatorAndComment) {
  Verdict v = check(kLite, "SELECT * FROM users WHERE name = 'x' OR 1=1 -- ' AND active = 1",
                    {"x' OR 1=1 -- "});
  ASSERT_TRUE(v.attack());
  const Detection& d = v.detections[0];
  EXPECT_EQ(d.rule, "sql-injection");
  EXPECT_EQ(d.cwe, "CWE-89");
  EXPECT_EQ(d.begin, 34u);
  EXPECT_EQ(d.reason,
            "input closed the string literal opened at byte 33 and added the keyword OR, the "
            "operator = and a comment that discards the rest of the statement");
  ASSERT_GE(d.tokens.size(), 4u);
  EXPECT_EQ(d.tokens[0].kind, "string");
  EXPECT_EQ(d.tokens[1].kind, "keyword");
  EXPECT_EQ(d.tokens[1].text, "OR");
  EXPECT_EQ(d.tokens[1].begin, 37u);
}

TEST(SqlDetector, InputInsideOneLiteralIsData) {
  EXPECT_FALSE(attack(kLite, "INSERT INTO c(a, b) VALUES ('guest', '1) and (3020=3020)*6703', 3)",
                      "1) and (3020=3020)*6703"));
  EXPECT_FALSE(attack(kPg, "SELECT 1 FROM t WHERE name LIKE '%-1 union select 1/*%'",
                      "-1 union select 1/*"));
  EXPECT_FALSE(attack(kLite, "SELECT 1 FROM t WHERE name = 'O''Brien'", "O'Brien"));
  EXPECT_FALSE(attack(kMy, "SELECT 1 FROM t WHERE name = 'we\\'re'", "we're"));
  EXPECT_FALSE(attack(kLite, "SELECT 1 FROM t WHERE email = \"a -- b\"", "a -- b"));
}

// An input that lies inside one string literal's content, without the literal's quote or (where
// escapes apply) a backslash, is data in every dialect and every kind of string literal; the
// detector answers it without judging the statement (see settled_without_judge).
TEST(SqlDetector, InputInsidePlainStringContentIsData) {
  for (Dialect d : {Dialect::kGeneric, kLite, kMy, kPg, Dialect::kMssql, Dialect::kOracle})
    EXPECT_FALSE(attack(d,
                        "SELECT name, price FROM products WHERE visible = 1 AND name LIKE "
                        "'%lamp%' ORDER BY id",
                        "lamp"));
  EXPECT_FALSE(attack(kPg, "SELECT $$lamp$$", "lamp"));
  EXPECT_FALSE(attack(kPg, "SELECT $t$a lamp$t$", "a lamp"));
  EXPECT_FALSE(attack(Dialect::kOracle, "SELECT q'[lamp]' FROM dual", "lamp"));
  EXPECT_FALSE(attack(kMy, "SELECT 1 WHERE a = \"lamp\"", "lamp"));
  EXPECT_FALSE(attack(kLite, "SELECT 1 WHERE a = ' lamp '", " lamp "));
  EXPECT_FALSE(attack(kLite, "SELECT 1 WHERE a = '   '", "   "));
}

// The shortcut also settles an input inside one number, or inside a word but not all of it;
// a whole word where a value goes is still judged.
TEST(SqlDetector, InputInsideANumberOrPartOfAWordIsData) {
  for (Dialect d : {Dialect::kGeneric, kLite, kMy, kPg, Dialect::kMssql, Dialect::kOracle}) {
    EXPECT_FALSE(attack(d, "SELECT name, price FROM products WHERE visible = 1 AND id = 42", "42"));
    EXPECT_FALSE(attack(d, "SELECT name FROM products WHERE id = 421", "42"));
    EXPECT_FALSE(attack(d, "SELECT name, price FROM products WHERE visible = 1 AND id = 2",
                        "product"));
    EXPECT_FALSE(attack(d, "SELECT name FROM products WHERE id = 2", "ELEC"));
  }
  EXPECT_TRUE(attack(kLite, "SELECT name FROM products WHERE id = price", "price"));
  EXPECT_TRUE(attack(kLite, "SELECT name FROM products WHERE id = 4 OR 1=1", "4 OR 1=1"));
  EXPECT_TRUE(attack(kMy, "SELECT name FROM products WHERE id = 42 UNION SELECT 1", "42 UNION SELECT 1"));
}

// What that shortcut must leave to the judge: escapes the database interprets, a quote of the
// literal, a backslash at the input's end, a second occurrence outside any string.
TEST(SqlDetector, InputWithEscapesOrQuotesInsideALiteralIsJudged) {
  Verdict v = check(kMy, "SELECT 1 FROM t WHERE a = 'it\\'s'", {"it\\'s"});
  ASSERT_TRUE(v.attack());
  EXPECT_NE(v.detections[0].reason.find("escape \\' was interpreted"), std::string::npos);
  EXPECT_TRUE(attack(kPg, "SELECT 1 FROM t WHERE a = E'lamp\\200'", "lamp\\200"));
  EXPECT_TRUE(attack(kLite, "SELECT 1 FROM t WHERE a LIKE '%lamp' OR 1=1 --%'", "lamp' OR 1=1 --"));
  EXPECT_FALSE(attack(kLite, "SELECT 1 FROM t WHERE name = 'O''Brien'", "O'Brien"));
  // x\ eats the closing quote in MySQL (not in SQLite): the literal swallows the application's
  // text up to the next quote, and what follows is the second input's text, now code. Both
  // inputs changed the statement.
  const std::string_view two = "SELECT 1 FROM t WHERE a = 'x\\' AND b = ' OR 1=1 -- '";
  Verdict w = check(kMy, two, {"x\\", " OR 1=1 -- "});
  ASSERT_TRUE(w.attack());
  bool first = false, second = false;
  for (const Detection& d : w.detections) (d.input == 0 ? first : second) = true;
  EXPECT_TRUE(first);
  EXPECT_TRUE(second);
  EXPECT_FALSE(check(kLite, two, {"x\\", " OR 1=1 -- "}).attack());
  // Alone, the trailing backslash still moves the literal's end (the statement now fails).
  EXPECT_TRUE(attack(kMy, "SELECT 1 FROM t WHERE a = 'x\\' AND b = 'y'", "x\\"));
  // An application that escapes the backslash, or a LIKE pattern's \%, leaves the literal whole.
  EXPECT_FALSE(attack(kMy, "SELECT 1 FROM t WHERE a = 'x\\\\' AND b = 'y'", "x\\"));
  EXPECT_FALSE(attack(kMy, "SELECT 1 FROM t WHERE a LIKE '%50\\%' AND b = 'y'", "50\\"));
  EXPECT_FALSE(attack(kLite, "SELECT 1 FROM t WHERE a = 'x\\' AND b = 'y'", "x\\"));
  // Inside the literal and again as a name where the application placed one.
  EXPECT_FALSE(attack(kLite, "SELECT name FROM p WHERE name LIKE '%lamp%' ORDER BY lamp", "lamp"));
  // Inside the literal and again where a value belongs: as a name alone, the application's own
  // word found by chance (words_found_by_chance); with an operator or a number, judged.
  EXPECT_FALSE(attack(kLite, "SELECT 1 FROM p WHERE a LIKE '%stock%' AND stock > 0", "stock"));
  EXPECT_TRUE(attack(kLite, "SELECT 1 FROM p WHERE a LIKE '%1 OR 1%' AND b = 1 OR 1", "1 OR 1"));
  EXPECT_FALSE(attack(kLite, "SELECT 1 FROM t -- lamp", "lamp"));
}

TEST(SqlDetector, RawApostropheBreaksTheLiteral) {
  Verdict v = check(kLite, "SELECT 1 FROM t WHERE name = 'O'Brien' AND x = 1", {"O'Brien"});
  ASSERT_TRUE(v.attack());
  EXPECT_NE(v.detections[0].reason.find("closed the string literal opened at byte 29"),
            std::string::npos);
}

TEST(SqlDetector, InputThatClosesALiteralTheApplicationReopens) {
  // The input's own quote ends the literal; the application's closing quote opens a new one.
  EXPECT_TRUE(
      attack(kLite, "SELECT 1 FROM p WHERE name LIKE '%%20or%20''='%' AND v = 1", "%20or%20''='"));
  // A run of quotes that merely contains the input is not that.
  EXPECT_FALSE(attack(kPg, "SELECT 1 FROM u WHERE name = '''' AND a = 1", "''"));
  EXPECT_FALSE(attack(kLite, "SELECT 1 FROM p WHERE id = '''''' AND v = 1", "''"));
  EXPECT_FALSE(attack(kMy, "INSERT INTO c(a) VALUES ('\\'')", "'"));
}

TEST(SqlDetector, NumericContext) {
  EXPECT_TRUE(attack(kLite, "SELECT 1 FROM p WHERE id = 1 OR 1=1 AND v = 1", "1 OR 1=1"));
  EXPECT_TRUE(attack(kLite, "SELECT 1 FROM p WHERE id = 1; DROP TABLE p", "1; DROP TABLE p"));
  EXPECT_FALSE(attack(kLite, "SELECT 1 FROM p WHERE id = 42 AND v = 1", "42"));
  EXPECT_FALSE(attack(kPg, "SELECT 1 FROM p WHERE id = -1 AND v = 1", "-1"));
  EXPECT_FALSE(attack(kLite, "SELECT 1 FROM p WHERE id = 'abc' AND v = 1", "'abc'"));
  // Digits of another script: the application took it for a number.
  EXPECT_FALSE(attack(kLite, "SELECT 1 FROM p WHERE id = \u0661\u0662\u0663 AND v = 1",
                      "\u0661\u0662\u0663"));
  // A name where a value belongs reads a column.
  Verdict v = check(kLite, "SELECT 1 FROM p WHERE id = uname AND v = 1", {"uname"});
  ASSERT_TRUE(v.attack());
  EXPECT_NE(v.detections[0].reason.find("the name uname where the application placed a value"),
            std::string::npos);
  EXPECT_TRUE(attack(kLite, "SELECT 1 FROM p WHERE id = insert AND v = 1", "insert"));
  // The same name in a comparison with itself is a tautology; a counter the application updates
  // from its own value ("SET n = n + 1") is the application's text.
  EXPECT_TRUE(attack(kLite, "SELECT 1 FROM p WHERE id = id AND v = 1", "id"));
  EXPECT_FALSE(attack(kLite, "UPDATE agents SET events = events + 1 WHERE id = 3", "events"));
  EXPECT_FALSE(attack(kPg, "UPDATE a SET seen = 1, events = events - 2 WHERE id = 3", "events"));
  EXPECT_TRUE(attack(kLite, "UPDATE a SET events = events WHERE id = 3", "events"));
}

TEST(SqlDetector, BlankInputWhereAValueBelongs) {
  EXPECT_TRUE(attack(kLite, "SELECT 1 FROM p WHERE id = \r\n AND v = 1", "\r\n"));
  EXPECT_TRUE(attack(kMy, "SELECT 1 FROM p WHERE id IN (\r\n) AND v = 1", "\r\n"));
  EXPECT_FALSE(attack(kLite, "SELECT 1 FROM p WHERE name = '  ' AND v = 1", "  "));
}

TEST(SqlDetector, OrderByNamesChosenByTheUserAreData) {
  const char* q = "SELECT id, name FROM p ORDER BY name DESC, p.id LIMIT 5";
  EXPECT_FALSE(attack(kLite, q, "name DESC, p.id"));
  EXPECT_FALSE(attack(kLite, "SELECT id, name FROM p ORDER BY \"flury\" LIMIT 5", "flury"));
  EXPECT_FALSE(attack(kPg, "SELECT id FROM p ORDER BY sharnoff LIMIT 5", "sharnoff"));
  EXPECT_TRUE(attack(kLite, "SELECT id FROM p ORDER BY name; DROP TABLE p", "name; DROP TABLE p"));
  EXPECT_TRUE(attack(kLite, "SELECT id FROM p ORDER BY (CASE WHEN 1=1 THEN id END) LIMIT 5",
                     "(CASE WHEN 1=1 THEN id END)"));
  // PostgreSQL and MySQL: a string constant is not the name the application wanted.
  EXPECT_TRUE(attack(kPg, "SELECT id FROM p ORDER BY '}}</script>' LIMIT 5", "'}}</script>'"));
}

TEST(SqlDetector, InListOfLiteralsIsData) {
  EXPECT_FALSE(attack(kLite, "SELECT 1 FROM p WHERE id IN (1, 2, -3) AND v = 1", "1, 2, -3"));
  EXPECT_TRUE(attack(kLite, "SELECT 1 FROM p WHERE id IN (1) OR (1=1) AND v = 1", "1) OR (1=1"));
  EXPECT_TRUE(attack(kLite, "SELECT 1 FROM p WHERE id IN (limit) AND v = 1", "limit"));
}

TEST(SqlDetector, CoincidentalMatchesOfTheApplicationsOwnText) {
  const char* q = "SELECT id, name FROM users WHERE name = 'bob' ORDER BY id";
  EXPECT_FALSE(attack(kLite, q, "id"));
  EXPECT_FALSE(attack(kLite, q, "name"));
  EXPECT_FALSE(attack(kLite, q, "select"));
  EXPECT_FALSE(attack(kLite, q, "id, name"));
  EXPECT_FALSE(attack(kLite, q, "users"));
}

// The input, quoted where the application put it, is also found among the application's own
// words: a search for "left join" in a statement that joins is not one.
TEST(SqlDetector, WordsOfTheStatementThatTheApplicationAlsoQuotedAreData) {
  const char* join =
      "SELECT p.id, c.title AS category FROM products p LEFT JOIN categories c ON c.id = "
      "p.category_id WHERE p.name LIKE '%{}%' ORDER BY p.price";
  const char* login = "SELECT id FROM users WHERE lower(email) = lower('{}') AND active = 1";
  const char* insert =
      "INSERT INTO orders (user_id, note, created_at) VALUES (42, '{}', CURRENT_TIMESTAMP)";
  const char* sub = "DELETE FROM cart WHERE user_id = 9 AND product_id IN (SELECT id FROM "
                    "products WHERE name = '{}')";
  auto with = [](std::string q, const std::string& input) {
    return q.replace(q.find("{}"), 2, input);
  };
  for (const char* w : {"LEFT JOIN", "left join categories", "ORDER BY", "id WHERE", "AS category",
                        "p.category_id", "FROM products"})
    EXPECT_FALSE(attack(kPg, with(join, w), w)) << w;
  EXPECT_FALSE(attack(kPg, with(login, "lower"), "lower"));
  EXPECT_FALSE(attack(kPg, with(login, "AND active"), "AND active"));
  EXPECT_FALSE(attack(kPg, with(insert, "CURRENT_TIMESTAMP"), "CURRENT_TIMESTAMP"));
  EXPECT_FALSE(attack(kPg, with(sub, "select"), "select"));
  // Not quoted anywhere, the same words are still what they are.
  EXPECT_TRUE(attack(kPg, "SELECT id FROM users WHERE id = 1 AND active = 1 OR 1", "1 OR 1"));
  EXPECT_TRUE(attack(kPg, "SELECT id FROM users WHERE id = 7 AND active", "7 AND active"));
  // Quoted in one place, with a quote, an operator or a number where it is code: judged.
  EXPECT_TRUE(attack(kPg, "SELECT 1 FROM t WHERE a = 'x OR 1=1' AND b = x OR 1=1", "x OR 1=1"));
  EXPECT_TRUE(attack(kPg, "SELECT 1 FROM t WHERE a = 'x--' AND b = x--", "x--"));
}

TEST(SqlDetector, MysqlQuoteDoublingApplicationKeepsBackslashes) {
  // The application doubled the quote but kept the backslash: \'' ends the literal.
  Verdict v = check(kMy, "SELECT 1 FROM u WHERE name = '\\''; desc users; -- ' AND a = 1",
                    {"\\'; desc users; -- "});
  ASSERT_TRUE(v.attack());
  EXPECT_EQ(v.detections[0].form, Form::kQuoteDoubled);
}

TEST(SqlDetector, MysqlEscapesInterpretedInsideTheLiteral) {
  EXPECT_TRUE(attack(kMy, "SELECT 1 FROM u WHERE name = '1\\'1' AND a = 1", "1\\'1"));
  EXPECT_TRUE(attack(kMy, "SELECT 1 FROM p WHERE name LIKE '%a\\tb%'", "a\\tb"));
  // Stored values: any escape changes what is written.
  EXPECT_TRUE(attack(kMy, "INSERT INTO c(a, b) VALUES ('guest', 'https://\\example.com', 3)",
                     "https://\\example.com"));
  // A dropped backslash in a comparison changes nothing observable.
  EXPECT_FALSE(attack(kMy, "SELECT 1 FROM u WHERE name = '\\x27UNION SELECT' AND a = 1",
                      "\\x27UNION SELECT"));
  // An application that escapes backslashes is fine.
  EXPECT_FALSE(attack(kMy, "SELECT 1 FROM u WHERE name = '1\\\\\\'1' AND a = 1", "1\\'1"));
}

TEST(SqlDetector, MysqlVersionedComment) {
  EXPECT_TRUE(attack(kMy, "SELECT 1 FROM p WHERE id = 1/*!UNION*/SELECT 1,2 AND v = 1",
                     "1/*!UNION*/SELECT 1,2"));
}

TEST(SqlDetector, MysqlLimitTakesOnlyIntegersOrNames) {
  const char* base = "SELECT id FROM p ORDER BY id LIMIT ";
  auto q = [&](const char* in) { return std::string(base) + in; };
  // The statement fails at the input's first token: nothing after it can run.
  EXPECT_FALSE(attack(kMy, q("-5 UNION SELECT 1"), "-5 UNION SELECT 1"));
  EXPECT_FALSE(attack(kMy, q("'x' OR 1=1"), "'x' OR 1=1"));
  EXPECT_TRUE(attack(kMy, q("5 UNION SELECT 1"), "5 UNION SELECT 1"));
  EXPECT_TRUE(attack(kMy, q("x UNION SELECT 1"), "x UNION SELECT 1"));
}

TEST(SqlDetector, SqliteLimitThatCannotBeAnIntegerChangesNothing) {
  const char* q = "SELECT id FROM p ORDER BY id LIMIT 1%')) and (8853=9924)*9924 and (('%'='";
  EXPECT_FALSE(attack(kLite, q, "1%')) and (8853=9924)*9924 and (('%'='"));
  EXPECT_TRUE(attack(kLite, "SELECT id FROM p ORDER BY id LIMIT 1 OR 1", "1 OR 1"));
  EXPECT_TRUE(
      attack(kLite, "SELECT id FROM p ORDER BY id LIMIT 1; DELETE FROM p", "1; DELETE FROM p"));
}

TEST(SqlDetector, PostgresEscapeStringsAndDollarQuotes) {
  EXPECT_TRUE(attack(kPg, "SELECT 1 FROM u WHERE name = E'x\\205y' AND a = 1", "x\\205y"));
  EXPECT_FALSE(attack(kPg, "SELECT 1 FROM u WHERE name = E'x\\ny' AND a = 1", "x\\ny"));
  EXPECT_TRUE(attack(kPg, "SELECT 1 FROM u WHERE name = $$x$$ OR 1=1 --$$", "x$$ OR 1=1 --"));
}

TEST(SqlDetector, OneDetectionPerInputWithTheForm) {
  Verdict v = check(kLite, "SELECT 1 FROM t WHERE a = '1' OR '1'='1' AND b = '1' OR '1'='1'",
                    {"1' OR '1'='1", "safe"});
  ASSERT_EQ(v.detections.size(), 1u);
  EXPECT_EQ(v.detections[0].input, 0u);
  EXPECT_EQ(v.detections[0].form, Form::kRaw);
}

// More occurrences than a sink call keeps on the stack (64), and a batch whose matches overflow
// one search's buffer (999 overlapping ones), are all analysed: the attack after them is still
// found, and no limit is reported.
TEST(SqlDetector, ManyOccurrencesAreAllAnalysed) {
  std::string query = "SELECT 1 FROM t WHERE a IN (";
  for (int i = 0; i < 100; ++i) query += "'zz', ";
  query += "'x') AND b = 1 OR 1=1";
  Verdict v = check(kLite, query, {"zz", "1 OR 1=1"});
  EXPECT_FALSE(v.failed_open);
  ASSERT_EQ(v.detections.size(), 1u);
  EXPECT_EQ(v.detections[0].input, 1u);
  EXPECT_EQ(v.detections[0].begin, query.size() - 8);

  const std::string run =
      "SELECT 1 FROM t WHERE a = '" + std::string(1000, 'a') + "' AND b = 1 OR 1=1";
  v = check(kLite, run, {"aa", "1 OR 1=1"});
  EXPECT_FALSE(v.failed_open);
  ASSERT_EQ(v.detections.size(), 1u);
  EXPECT_EQ(v.detections[0].input, 1u);
  EXPECT_EQ(v.detections[0].begin, run.size() - 8);
}

TEST(SqlDetector, OccurrenceLimitFailsOpenWithANote) {
  EngineOptions options;
  options.max_occurrences_per_input = 3;
  Engine engine(options);
  const std::vector<Input> inputs{Input{Source::kQuery, "q", "zz"}};
  Verdict v = engine.check_sink(Sink::sql(kLite, "SELECT 'zz', 'zz', 'zz', 'zz'"), inputs);
  EXPECT_TRUE(v.failed_open);
  EXPECT_EQ(v.note, "occurrence limit reached; some occurrences were not analysed");
  v = engine.check_sink(Sink::sql(kLite, "SELECT 'zz', 'zz', 'zz'"), inputs);
  EXPECT_FALSE(v.failed_open);
  EXPECT_TRUE(v.note.empty());
}

TEST(SqlDetector, HostileSizesStayFast) {
  auto start = std::chrono::steady_clock::now();
  std::string quotes(1 << 20, '\'');
  EXPECT_FALSE(attack(kMy, "SELECT '" + quotes + "'", "''''"));
  std::string parens(1 << 20, '(');
  EXPECT_TRUE(attack(Dialect::kGeneric, parens, "(((("));
  std::string slashes;
  while (slashes.size() < (1u << 20)) slashes += "x\\";
  (void)attack(kMy, "SELECT '" + slashes + "'", "x\\x\\x\\");
  std::string limit = "SELECT 1 LIMIT ";
  while (limit.size() < (1u << 20)) limit += "1%'x'%";
  (void)attack(kLite, limit, "1%'x'%1");
  // Words found thousands of times in code, the literal that quotes them last (and in
  // interleaved inputs): whether each input lies quoted is worked out once.
  std::string words = "SELECT 1 FROM t WHERE a";
  for (int k = 0; k < 4000; ++k) words += " AND a IS b OR c IS d";
  EXPECT_FALSE(
      check(kLite, words + " AND x = 'a IS b' AND y = 'c IS d'", {"a IS b", "c IS d"}).attack());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  // Guards against quadratic work (minutes at this size), not a speed target (that is
  // bench/micro): CI shares a loaded machine, and sanitizer builds are slower still.
  EXPECT_LT(ms, 10000);
}

}  // namespace
}  // namespace vigil
