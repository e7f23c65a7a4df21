#include "agent/my_wire.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil::agent {
namespace {

std::string packet(std::uint8_t seq, const std::string& payload) {
  const auto n = static_cast<std::uint32_t>(payload.size());
  return std::string{static_cast<char>(n), static_cast<char>(n >> 8), static_cast<char>(n >> 16),
                     static_cast<char>(seq)} + payload;
}
std::string le32(std::uint32_t v) {
  return std::string{static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 24)};
}
// A handshake response: capabilities, max packet, charset, 23 zero bytes, user, auth data...
std::string handshake(std::uint32_t caps, bool ssl_request = false) {
  std::string p = le32(caps) + le32(16 << 20) + std::string(1, '\x21') + std::string(23, '\0');
  if (!ssl_request) p += std::string("shop\0\x14", 6) + std::string(20, 'a') + std::string("shop\0", 5);
  return packet(1, p);
}
constexpr std::uint32_t kCaps = 0x000fa685;  // PyMySQL's usual flags: no SSL, no compression
std::string query(const std::string& sql) { return packet(0, "\x03" + sql); }
std::string prepare(const std::string& sql) { return packet(0, "\x16" + sql); }

std::vector<MyWire::Statement> feed_all(MyWire& w, const std::vector<std::string>& writes, bool* ok) {
  std::vector<MyWire::Statement> out;
  *ok = true;
  for (const auto& data : writes) *ok = w.feed(data, &out) && *ok;
  return out;
}

TEST(MyWire, HandshakeThenQueriesAndPrepares) {
  MyWire w(true);
  bool ok;
  auto got = feed_all(w, {handshake(kCaps), query("SET NAMES utf8mb4"),
                          query("SELECT name FROM products WHERE id = 1 OR 1=1"),
                          prepare("SELECT * FROM t WHERE a = ?"), packet(0, "\x17" + std::string(20, '\x01')),
                          packet(0, "\x0e")}, &ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].type, 'Q');
  EXPECT_EQ(got[1].sql, "SELECT name FROM products WHERE id = 1 OR 1=1");
  EXPECT_EQ(got[2].type, 'P');
  EXPECT_EQ(got[2].sql, "SELECT * FROM t WHERE a = ?");
  EXPECT_TRUE(w.confirmed());
}

TEST(MyWire, PacketsSplitAtEveryByte) {
  const std::string stream = handshake(kCaps) + query("SELECT 'a;b'") + query("SELECT 2");
  MyWire w(true);
  std::vector<MyWire::Statement> got;
  for (char c : stream) ASSERT_TRUE(w.feed(std::string_view(&c, 1), &got));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].sql, "SELECT 'a;b'");
  EXPECT_EQ(got[1].sql, "SELECT 2");
}

TEST(MyWire, SslRequestAndCompressionEndTheFollowing) {
  std::vector<MyWire::Statement> none;
  MyWire ssl(true);
  EXPECT_FALSE(ssl.feed(handshake(kCaps | 0x800, /*ssl_request=*/true), &none));
  EXPECT_FALSE(ssl.feed(query("SELECT 1"), &none));
  MyWire compressed(true);
  EXPECT_FALSE(compressed.feed(handshake(kCaps | 0x20), &none));
  EXPECT_TRUE(none.empty());
}

TEST(MyWire, OtherPacketsOfAnExchangeAreNotCommands) {
  // An auth switch response (sequence 3) and LOAD DATA LOCAL file content (sequence 2 on):
  // their bytes look like anything, and are not SQL.
  MyWire w(true);
  bool ok;
  auto got = feed_all(w, {handshake(kCaps), packet(3, std::string(20, 'x')),
                          query("LOAD DATA LOCAL INFILE 'f' INTO TABLE t"),
                          packet(2, "\x03SELECT 'not a query'"), packet(3, ""), query("SELECT 3")}, &ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].sql, "LOAD DATA LOCAL INFILE 'f' INTO TABLE t");
  EXPECT_EQ(got[1].sql, "SELECT 3");
}

TEST(MyWire, QueryAttributes) {
  MyWire w(true);
  bool ok;
  // Without parameters: a count of 0 and a set count of 1 before the query.
  auto got = feed_all(w, {handshake(kCaps | (1u << 27)), packet(0, std::string("\x03\x00\x01", 3) + "SELECT 4"),
                          packet(0, std::string("\x03\x01\x01", 3) + "\x00\x01\xfe\x00\x01" "a" "\x01" "b" "SELECT 5")},
                     &ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].sql, "SELECT 4");
  EXPECT_EQ(w.unread(), 1u);  // with parameters: not read
}

TEST(MyWire, JoinedLateTrustsOnlyWholeCommands) {
  MyWire w(false);
  bool ok;
  auto got = feed_all(w, {query("SELECT 6") + prepare("SELECT 7"), query("SELECT 8")}, &ok);
  ASSERT_TRUE(ok);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].sql, "SELECT 8");
  std::vector<MyWire::Statement> none;
  MyWire partial(false);
  const std::string q = query("SELECT 1");
  EXPECT_FALSE(partial.feed(q.substr(0, q.size() - 1), &none));
  MyWire handshake_late(false);  // sequence 1: not a command
  EXPECT_FALSE(handshake_late.feed(handshake(kCaps), &none));
  EXPECT_TRUE(none.empty());
}

TEST(MyWire, OtherProtocolsAreNotFollowed) {
  const std::string pg_startup = std::string("\0\0\0\x29\0\x03\0\0", 8) + std::string("user\0shop\0database\0shop\0\0", 25);
  const std::string pg_query = std::string("Q\0\0\0\x0dSELECT 1\0", 14);
  for (bool from_start : {true, false}) {
    std::vector<MyWire::Statement> none;
    for (const std::string& bytes : {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                                     std::string("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), pg_startup, pg_query,
                                     std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)}) {
      MyWire w(from_start);
      EXPECT_FALSE(w.feed(bytes, &none)) << from_start << " " << bytes;
    }
    EXPECT_TRUE(none.empty());
  }
}

TEST(MyWire, LongQueriesAcrossPacketsAndTheCut) {
  MyWire w(true);
  std::vector<MyWire::Statement> got;
  ASSERT_TRUE(w.feed(handshake(kCaps), &got));
  // A command of 16 MiB - 1 bytes goes on in the next packet (sequence 1).
  const std::string sql = "SELECT '" + std::string(0xFFFFFF - 9, 'x');
  const std::string first = packet(0, "\x03" + sql);
  const std::string second = packet(1, "y'");
  for (std::size_t i = 0; i < first.size(); i += 65536) ASSERT_TRUE(w.feed(std::string_view(first).substr(i, 65536), &got));
  ASSERT_TRUE(w.feed(second + query("SELECT 9"), &got));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].cut);
  EXPECT_EQ(got[0].sql.size(), MyWire::kMaxSql);
  EXPECT_EQ(got[0].sql.substr(0, 9), "SELECT 'x");
  EXPECT_EQ(got[1].sql, "SELECT 9");
}

}  // namespace
}  // namespace vigil::agent
