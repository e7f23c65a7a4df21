#include "agent/pg_wire.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil::agent {
namespace {

std::string be32(std::uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}
std::string message(char type, const std::string& body) {
  return std::string(1, type) + be32(static_cast<std::uint32_t>(body.size() + 4)) + body;
}
std::string startup() {
  const std::string params = std::string("user\0shop\0database\0shop\0\0", 25);
  return be32(static_cast<std::uint32_t>(8 + params.size())) + be32(196608) + params;
}
std::string query(const std::string& sql) { return message('Q', sql + '\0'); }
std::string parse(const std::string& name, const std::string& sql) {
  return message('P', name + '\0' + sql + '\0' + std::string("\0\0", 2));
}
// What node-postgres and pg8000 write for one parameterless extended query.
std::string extended(const std::string& sql) {
  return parse("", sql) + message('B', std::string(8, '\0')) + message('D', std::string("P\0", 2)) +
         message('E', std::string(5, '\0')) + message('S', "");
}

std::vector<PgWire::Statement> feed_all(PgWire& w, const std::vector<std::string>& writes,
                                        bool* ok) {
  std::vector<PgWire::Statement> out;
  *ok = true;
  for (const auto& data : writes) *ok = w.feed(data, &out) && *ok;
  return out;
}

TEST(PgWire, StartupThenSimpleAndExtendedQueries) {
  PgWire w(true);
  bool ok;
  auto got = feed_all(w, {startup(), message('p', std::string("secret\0", 7)),
                          query("SELECT 1"), extended("SELECT name FROM t WHERE id = 7")}, &ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, 'Q');
  EXPECT_EQ(got[0].sql, "SELECT 1");
  EXPECT_EQ(got[1].type, 'P');
  EXPECT_EQ(got[1].sql, "SELECT name FROM t WHERE id = 7");
  EXPECT_FALSE(got[1].cut);
  EXPECT_TRUE(w.confirmed());
}

TEST(PgWire, MessagesSplitAtEveryByte) {
  const std::string stream = startup() + query("SELECT 'a;b'") + extended("SELECT 2") + query("SELECT 3");
  PgWire w(true);
  std::vector<PgWire::Statement> got;
  for (char c : stream) ASSERT_TRUE(w.feed(std::string_view(&c, 1), &got));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].sql, "SELECT 'a;b'");
  EXPECT_EQ(got[1].sql, "SELECT 2");
  EXPECT_EQ(got[2].sql, "SELECT 3");
}

TEST(PgWire, NamedParseKeepsOnlyTheSql) {
  PgWire w(true);
  bool ok;
  auto got = feed_all(w, {startup() + parse("stmt_12", "UPDATE t SET a = $1")}, &ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].sql, "UPDATE t SET a = $1");
}

// Bind of a statement, as pgjdbc writes it once the statement is kept on the server: portal,
// statement, no parameter formats, no parameters, no result formats.
std::string bind(const std::string& statement) {
  return message('B', std::string("\0", 1) + statement + std::string("\0\0\0\0\0\0\0", 7));
}
std::string run_named(const std::string& statement) {
  return bind(statement) + message('E', std::string(5, '\0')) + message('S', "");
}
std::string close_statement(const std::string& name) { return message('C', "S" + name + '\0'); }

TEST(PgWire, BindOfAKeptStatementGivesItsSqlAgain) {
  // JDBC's first server-side run (Parse, Bind together), then two runs by Bind alone: the first
  // Bind runs what the Parse's check saw; the later ones are runs a later request may have asked.
  PgWire w(true);
  bool ok;
  auto got = feed_all(w, {startup(), parse("S_1", "SELECT * FROM t WHERE a = 'x'") + run_named("S_1"),
                          run_named("S_1"), run_named("S_1")}, &ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, 'P');
  EXPECT_EQ(got[1].type, 'B');
  EXPECT_EQ(got[2].type, 'B');
  EXPECT_EQ(got[2].sql, "SELECT * FROM t WHERE a = 'x'");
  EXPECT_EQ(w.unknown_binds(), 0u);
}

TEST(PgWire, BindSplitAtEveryByteAndUnnamedBindsAreNotStatements) {
  const std::string stream = startup() + extended("SELECT 2") + parse("S_2", "SELECT 3") + run_named("S_2") +
                             run_named("S_2") + extended("SELECT 4");
  PgWire w(true);
  std::vector<PgWire::Statement> got;
  for (char c : stream) ASSERT_TRUE(w.feed(std::string_view(&c, 1), &got));
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].sql, "SELECT 2");
  EXPECT_EQ(got[1].sql, "SELECT 3");
  EXPECT_EQ(got[2].type, 'B');
  EXPECT_EQ(got[2].sql, "SELECT 3");
  EXPECT_EQ(got[3].sql, "SELECT 4");
}

TEST(PgWire, ClosedReplacedAndUnknownStatements) {
  PgWire w(true);
  bool ok;
  auto got = feed_all(w, {startup(), parse("a", "SELECT 1") + run_named("a"), close_statement("a"),
                          run_named("a"), parse("b", "SELECT 2") + run_named("b"),
                          parse("b", "SELECT 3") + run_named("b"), run_named("b")}, &ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(got.size(), 4u);  // Parse a, Parse b, Parse b again, Bind b (its second text)
  EXPECT_EQ(got[3].type, 'B');
  EXPECT_EQ(got[3].sql, "SELECT 3");
  EXPECT_EQ(w.unknown_binds(), 1u);  // the Bind of the closed "a"
}

TEST(PgWire, KeptStatementsAreBoundedOldestForgottenFirst) {
  PgWire w(true);
  std::vector<PgWire::Statement> got;
  ASSERT_TRUE(w.feed(startup(), &got));
  for (std::size_t i = 0; i <= PgWire::kMaxNamed; ++i)
    ASSERT_TRUE(w.feed(parse("s" + std::to_string(i), "SELECT " + std::to_string(i)) +
                       run_named("s" + std::to_string(i)), &got));
  got.clear();
  ASSERT_TRUE(w.feed(run_named("s0") + run_named("s1") + run_named(std::to_string(PgWire::kMaxNamed)), &got));
  ASSERT_TRUE(w.feed(run_named("s" + std::to_string(PgWire::kMaxNamed)), &got));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].sql, "SELECT 1");
  EXPECT_EQ(got[1].sql, "SELECT " + std::to_string(PgWire::kMaxNamed));
  EXPECT_EQ(w.unknown_binds(), 2u);  // s0, forgotten for room, and a name never parsed
  // By size too: a statement larger than the room is not kept, and pushes nothing out.
  ASSERT_TRUE(w.feed(parse("big", std::string(PgWire::kMaxNamedBytes + 1, 'x')) + run_named("big") +
                     run_named("big") + run_named("s1"), &got));
  EXPECT_EQ(w.unknown_binds(), 4u);  // two Binds of "big"; s1 was still kept
}

TEST(PgWire, SslRequestThenPlaintextOrTls) {
  const std::string ssl_request = be32(8) + be32(80877103);
  PgWire refused(true);  // the server said 'N': the startup message follows in the clear
  bool ok;
  auto got = feed_all(refused, {ssl_request, startup(), query("SELECT 1")}, &ok);
  EXPECT_TRUE(ok);
  EXPECT_EQ(got.size(), 1u);
  PgWire accepted(true);  // the server said 'S': a TLS ClientHello follows
  std::vector<PgWire::Statement> none;
  EXPECT_TRUE(accepted.feed(ssl_request, &none));
  EXPECT_FALSE(accepted.feed(std::string("\x16\x03\x01\x02\x00", 5), &none));
  EXPECT_FALSE(accepted.feed(query("SELECT 1"), &none));  // dead: fed no more
  EXPECT_TRUE(none.empty());
}

TEST(PgWire, JoinedLateTrustsOnlyWholeMessages) {
  PgWire w(false);
  bool ok;
  auto got = feed_all(w, {extended("SELECT * FROM products WHERE name LIKE '%lamp%'"),
                          query("SELECT 2")}, &ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].sql, "SELECT * FROM products WHERE name LIKE '%lamp%'");
  // A first write that ends inside a message: the stream cannot be trusted.
  PgWire partial(false);
  std::vector<PgWire::Statement> none;
  const std::string q = query("SELECT 1");
  EXPECT_FALSE(partial.feed(q.substr(0, q.size() - 2), &none));
  EXPECT_TRUE(none.empty());
  // A connection's opening seen late after all (started between connect and the first write).
  PgWire opening(false);
  EXPECT_TRUE(opening.feed(startup() + query("SELECT 5"), &none));
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].sql, "SELECT 5");
}

TEST(PgWire, OtherProtocolsAreNotFollowed) {
  for (bool from_start : {true, false}) {
    std::vector<PgWire::Statement> none;
    PgWire http(from_start);
    EXPECT_FALSE(http.feed("POST /api HTTP/1.1\r\nHost: x\r\n\r\n", &none));
    PgWire h2(from_start);
    EXPECT_FALSE(h2.feed("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", &none));
    // MySQL COM_QUERY: 3-byte length, sequence 0, command 3.
    PgWire mysql(from_start);
    EXPECT_FALSE(mysql.feed(std::string("\x09\x00\x00\x00\x03SELECT 1", 13), &none));
    PgWire redis(from_start);
    EXPECT_FALSE(redis.feed("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", &none));
    EXPECT_TRUE(none.empty());
  }
  // A malformed message after a good start ends the following.
  PgWire w(true);
  std::vector<PgWire::Statement> got;
  EXPECT_TRUE(w.feed(startup(), &got));
  EXPECT_FALSE(w.feed(std::string("Z") + be32(4), &got));  // 'Z' is the server's, not a client's
  EXPECT_FALSE(w.feed(std::string("Q") + be32(3), &got));
}

TEST(PgWire, LongSqlIsCutNotKeptWhole) {
  PgWire w(true);
  std::vector<PgWire::Statement> got;
  const std::string big = "SELECT '" + std::string(PgWire::kMaxSql + 1000, 'x') + "'";
  const std::string stream = startup() + query(big) + query("SELECT 9");
  // In writes of 64 KiB, as a driver's buffered socket would.
  for (std::size_t i = 0; i < stream.size(); i += 65536)
    ASSERT_TRUE(w.feed(std::string_view(stream).substr(i, 65536), &got));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].cut);
  EXPECT_EQ(got[0].sql.size(), PgWire::kMaxSql);
  EXPECT_EQ(got[0].sql.substr(0, 9), "SELECT 'x");
  EXPECT_EQ(got[1].sql, "SELECT 9");
  EXPECT_FALSE(got[1].cut);
}

TEST(PgWire, LargeOtherMessagesAreSkippedWithoutBeingKept) {
  PgWire w(true);
  std::vector<PgWire::Statement> got;
  ASSERT_TRUE(w.feed(startup() + parse("", "INSERT INTO blobs VALUES ($1)"), &got));
  // A 32 MiB Bind in pieces, then the rest of the query.
  const std::uint32_t n = 32u << 20;
  ASSERT_TRUE(w.feed(std::string("B") + be32(n + 4), &got));
  const std::string piece(1 << 20, 'b');
  for (std::uint32_t sent = 0; sent < n; sent += piece.size()) ASSERT_TRUE(w.feed(piece, &got));
  ASSERT_TRUE(w.feed(message('E', std::string(5, '\0')) + message('S', "") + query("SELECT 1"), &got));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].sql, "SELECT 1");
}

}  // namespace
}  // namespace vigil::agent
