#include "server/ingest/event_batch.hpp"

#include <gtest/gtest.h>

#include "server/common/json.hpp"

namespace vigil::server::ingest {
namespace {

constexpr std::int64_t kNow = 1795662765123;

Status parse(const std::string& body, std::vector<EventRecord>* out, BatchLimits limits = {}) {
  return parse_event_batch(body, "shop", kNow, limits, out);
}

const char* kGood = R"([{"event_id":"0123456789abcdef0123456789abcdef","time":"2026-11-26T03:12:45.123Z",
  "app":"shop","outcome":"exploited","rule":"sql-injection","severity":"critical",
  "request":{"method":"GET","path":"/product","client_ip":"203.0.113.9","user_agent":"sqlmap/1.7.2#stable"},
  "input":{"source":"query","name":"id","value":"1' OR 1=1--"},
  "sink":{"type":"sql","value":"SELECT 1","function":"sqlite3_prepare_v2"}}])";

TEST(EventBatch, ExtractsIndexedFields) {
  std::vector<EventRecord> ev;
  ASSERT_TRUE(parse(kGood, &ev).ok());
  ASSERT_EQ(ev.size(), 1u);
  const EventRecord& e = ev[0];
  EXPECT_EQ(e.event_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(e.time_ms, kNow);
  EXPECT_EQ(e.outcome, kExploited);
  EXPECT_EQ(e.family, "sql-injection");
  EXPECT_EQ(e.client_ip, "203.0.113.9");
  EXPECT_EQ(e.attacker, "ip:203.0.113.9");
  EXPECT_EQ(e.tool, "sqlmap");
  EXPECT_EQ(e.input_source, "query");
  EXPECT_EQ(e.input_name, "id");
  EXPECT_EQ(e.sink_type, "sql");
  std::string error;
  auto doc = parse_json(e.json, &error);
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["input"]["value"], "1' OR 1=1--");
}

TEST(EventBatch, FillsAppAndTimeAndClampsTheFuture) {
  std::vector<EventRecord> ev;
  ASSERT_TRUE(parse(R"({"events":[{"event_id":"a","outcome":"probed","rule":"xss"},
      {"event_id":"b","outcome":"probed","rule":"xss","time":"2099-01-01T00:00:00Z",
       "user":"bob","request":{"client_ip":"::1"}}]})",
                    &ev)
                  .ok());
  EXPECT_EQ(ev[0].time_ms, kNow);
  EXPECT_NE(ev[0].json.find("\"app\":\"shop\""), std::string::npos);
  EXPECT_NE(ev[0].json.find("\"time\":\"2026-11-26T03:12:45.123Z\""), std::string::npos);
  EXPECT_EQ(ev[0].attacker, "unknown");
  EXPECT_EQ(ev[1].time_ms, kNow);
  EXPECT_EQ(ev[1].attacker, "user:bob");
}

TEST(EventBatch, StoresACompactEventAsItsOwnBytes) {
  const std::string a =
      R"({"event_id":"a","time":"2026-11-26T03:12:45.123Z","app":"shop","outcome":"probed",)"
      R"("rule":"xss","n":1.50,"input":{"name":"q","value":"x \u0041 \/ y"}})";
  const std::string b = R"({"event_id":"b","app":"shop","outcome":"probed","rule":"xss"})";
  std::vector<EventRecord> ev;
  ASSERT_TRUE(parse("[" + a + "," + b + "]", &ev).ok());
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].json, a);  // as sent: numbers and escapes untouched
  EXPECT_NE(ev[1].json, b);  // no time: it is added
  EXPECT_NE(ev[1].json.find("\"time\":\"2026-11-26T03:12:45.123Z\""), std::string::npos);
  std::string error;
  auto doc = parse_json(ev[0].json, &error);
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["input"]["value"], "x A / y");

  // Whitespace between tokens: the event is re-serialised compactly.
  ASSERT_TRUE(parse("[\n  " + a + " ,\t" + a + "\r\n]", &ev).ok());
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].json.find(' ', ev[1].json.find("\"value\"") + 20), std::string::npos);
  EXPECT_NE(ev[1].json, a);  // "\/" and "\u0041" come out decoded
  doc = parse_json(ev[1].json, &error);
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["input"]["value"], "x A / y");
  EXPECT_EQ((*doc)["n"], 1.5);
}

// Damaged bodies (bytes changed, dropped, repeated): each is refused, or every event it yields
// is stored as one JSON object of its application with the fields that were extracted.
TEST(EventBatch, DamagedBodiesAreRefusedOrStoredAsValidEvents) {
  const std::string good =
      std::string("[") + R"({"event_id":"a1","time":"2026-11-26T03:12:45.123Z","app":"shop",)" +
      R"("outcome":"probed","rule":"xss","request":{"path":"/p","client_ip":"::1"},)" +
      R"("input":{"name":"q","value":"<b \"x\"> \u00e9"}},)" +
      R"({"event_id":"b2","outcome":"exploited","rule":"sql-injection","n":[1,{"k":[]}]}])";
  const char kBytes[] = "[]{}\",:\\ 0a\x01\xc3\xa9";
  std::uint32_t seed = 12345;
  auto next = [&seed] { return seed = seed * 1103515245 + 12345, (seed >> 8) & 0xffff; };
  int stored = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string body = good;
    for (int k = 1 + next() % 3; k > 0; --k) {
      std::size_t at = next() % body.size();
      switch (next() % 3) {
        case 0: body[at] = kBytes[next() % (sizeof kBytes - 1)]; break;
        case 1: body.erase(at, 1 + next() % 4); break;
        default: body.insert(at, body.substr(at, 1 + next() % 8)); break;
      }
    }
    std::vector<EventRecord> ev;
    if (!parse(body, &ev).ok()) continue;
    ++stored;
    for (const EventRecord& e : ev) {
      std::string error;
      auto doc = parse_json(e.json, &error);
      ASSERT_TRUE(doc && doc->is_object()) << body << "\n" << e.json << ": " << error;
      EXPECT_EQ((*doc)["app"], "shop") << e.json;
      EXPECT_EQ((*doc)["event_id"], e.event_id) << e.json;
      EXPECT_TRUE(doc->contains("time")) << e.json;
    }
  }
  EXPECT_GT(stored, 100);  // the damage left many bodies valid: both paths ran
}

TEST(EventBatch, NamesTheBadField) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"([{"outcome":"probed","rule":"xss"}])", "events[0].event_id"},
      {R"([{"event_id":"a b","outcome":"probed","rule":"xss"}])", "events[0].event_id"},
      {R"([{"event_id":"a","outcome":"owned","rule":"xss"}])", "events[0].outcome"},
      {R"([{"event_id":"a","outcome":"probed"}])", "events[0].rule"},
      {R"([{"event_id":"a","outcome":"probed","rule":"x"},{"event_id":"b","outcome":"probed","rule":"x","time":"yesterday"}])",
       "events[1].time"},
      {R"([{"event_id":"a","outcome":"probed","rule":"x","app":"other"}])", "events[0].app"},
      {R"([{"event_id":"a","outcome":"probed","rule":"x","request":{"client_ip":"1.2.3"}}])",
       "events[0].request.client_ip"},
      {R"([{"event_id":"a","outcome":"probed","rule":"x","request":{"path":7}}])",
       "events[0].request.path"},
      {R"([{"event_id":"a","outcome":"probed","rule":"x","request":"GET /"}])", "events[0].request"},
      {R"([{"event_id":"a","outcome":"probed","rule":"x","severity":"urgent"}])",
       "events[0].severity"},
      {R"([7])", "events[0]"},
  };
  for (const auto& c : cases) {
    std::vector<EventRecord> ev;
    Status st = parse(c.body, &ev);
    EXPECT_EQ(st.http(), 400) << c.body;
    EXPECT_EQ(st.field(), c.field) << st.message();
  }
}

TEST(EventBatch, RefusesBadBodies) {
  std::vector<EventRecord> ev;
  EXPECT_EQ(parse("", &ev).http(), 400);
  EXPECT_EQ(parse("{", &ev).http(), 400);
  EXPECT_EQ(parse("{}", &ev).http(), 400);
  EXPECT_EQ(parse("\"x\"", &ev).http(), 400);
  EXPECT_EQ(parse(std::string(100, '[') + std::string(100, ']'), &ev).http(), 400);
  EXPECT_EQ(parse("[{\"event_id\":\"\xff\"}]", &ev).http(), 400);  // not UTF-8
  BatchLimits small;
  small.max_events = 1;
  EXPECT_EQ(parse(R"([{"event_id":"a","outcome":"probed","rule":"x"},{"event_id":"b","outcome":"probed","rule":"x"}])",
                  &ev, small)
                .http(),
            413);
  small.max_event_bytes = 1024;
  small.max_events = 10;
  std::string big = R"([{"event_id":"a","outcome":"probed","rule":"x","input":{"value":")" +
                    std::string(2000, 'x') + "\"}}]";
  EXPECT_EQ(parse(big, &ev, small).http(), 413);
  EXPECT_TRUE(parse("[]", &ev).ok());
}

// The body scan before the parse: strict UTF-8 anywhere, bounded depth outside strings, no NUL.
TEST(EventBatch, EncodingAndDepthAreCheckedBeforeParsing) {
  auto with_value = [](const std::string& v) {
    return R"([{"event_id":"a","outcome":"probed","rule":"x","input":{"value":")" + v + "\"}}]";
  };
  std::vector<EventRecord> ev;
  ASSERT_TRUE(parse(with_value("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"), &ev).ok());
  EXPECT_NE(ev[0].json.find("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), std::string::npos);
  for (const char* bad : {"\xc0\x80", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                          "\xf5\x80\x80\x80", "\xe2\x82", "\x80", "\xf0\x9f\x98"}) {
    Status st = parse(with_value(bad), &ev);
    EXPECT_EQ(st.http(), 400) << bad;
    EXPECT_NE(st.message().find("UTF-8"), std::string::npos) << st.message();
  }
  EXPECT_EQ(parse("[\"\xe2\x82", &ev).http(), 400);  // truncated at the end
  std::string nul = with_value("x");
  nul.insert(nul.size() - 1, 1, '\0');  // inside the array
  EXPECT_EQ(parse(nul, &ev).http(), 400);
  EXPECT_EQ(parse(std::string(kGood) + std::string(1, '\0') + "garbage", &ev).http(), 400);
  // Brackets and escaped quotes inside strings are not nesting.
  EXPECT_TRUE(parse(with_value(std::string(200, '[') + "\\\"" + std::string(200, '{')), &ev).ok());
  std::string deep = "[{\"event_id\":\"a\",\"outcome\":\"probed\",\"rule\":\"x\",\"extra\":" +
                     std::string(70, '[') + std::string(70, ']') + "}]";
  EXPECT_EQ(parse(deep, &ev).http(), 400);
  deep = "[{\"event_id\":\"a\",\"outcome\":\"probed\",\"rule\":\"x\",\"extra\":" +
         std::string(60, '[') + std::string(60, ']') + "}]";
  EXPECT_TRUE(parse(deep, &ev).ok());
}

TEST(EventBatch, FamiliesAndTools) {
  EXPECT_EQ(family_of("sql-injection"), "sql-injection");
  EXPECT_EQ(family_of("sql-injection.union"), "sql-injection");
  EXPECT_EQ(family_of("vp-export:1"), "vp-export");
  EXPECT_EQ(detect_tool("Mozilla/5.0 (compatible; Nikto/2.5)"), "Nikto");
  EXPECT_EQ(detect_tool("sqlmap/1.7.2#stable (https://sqlmap.org)"), "sqlmap");
  EXPECT_EQ(detect_tool("Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"), "");
}

}  // namespace
}  // namespace vigil::server::ingest
