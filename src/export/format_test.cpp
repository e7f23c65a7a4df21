#include "export/format.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "export/attack.hpp"
#include "export/event.hpp"
#include "export/testing/record_parsers.hpp"
#include "export/testing/sample_events.hpp"
#include "export/text.hpp"

namespace vigil::exports {
namespace {

using json = nlohmann::json;

Event parse(const std::string& text) {
  Event e;
  std::string error;
  EXPECT_TRUE(parse_event(text, EventLimits{}, 1764126000000, &e, &error)) << error;
  return e;
}

const char* kHostile = "1' OR 1=1-- |a\\b=c\nd\te";

TEST(ParseEvent, ReadsEveryField) {
  Event e = parse(testing::sql_event());
  EXPECT_EQ(e.event_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(e.time_ms, 1795662765123);
  EXPECT_EQ(e.outcome, Outcome::kExploited);
  EXPECT_EQ(e.severity, Severity::kCritical);
  EXPECT_EQ(e.request.client_ip, "203.0.113.9");
  EXPECT_EQ(e.input.value, kHostile);
  EXPECT_EQ(e.sink.function, "sqlite3_prepare_v2");
  ASSERT_EQ(e.stack.size(), 1u);
  EXPECT_EQ(e.stack[0].line, 88);
  EXPECT_EQ(e.agent_pid, 4242);
}

TEST(ParseEvent, RejectsWhatIsNotAnEvent) {
  Event e;
  std::string error;
  EventLimits l;
  EXPECT_FALSE(parse_event("", l, 0, &e, &error));
  EXPECT_FALSE(parse_event("[1]", l, 0, &e, &error));
  EXPECT_FALSE(parse_event(R"({"outcome":"exploited","rule":"x"})", l, 0, &e, &error));
  EXPECT_NE(error.find("event_id"), std::string::npos);
  EXPECT_FALSE(parse_event(R"({"event_id":"a","outcome":"pwned","rule":"x"})", l, 0, &e, &error));
  EXPECT_FALSE(parse_event(R"({"event_id":"a b","outcome":"probed","rule":"x"})", l, 0, &e, &error));
  EXPECT_FALSE(parse_event(R"({"event_id":")" + std::string(65, 'a') + R"(","outcome":"probed","rule":"x"})",
                           l, 0, &e, &error));
  EXPECT_FALSE(parse_event(R"({"event_id":"a","outcome":"probed","rule":"x","n":)" +
                               std::string(100000, '[') + std::string(100000, ']') + "}",
                           l, 0, &e, &error));
  EXPECT_FALSE(parse_event("{\"event_id\":\"a\",\"outcome\":\"probed\",\"rule\":\"\xff\"}", l, 0, &e, &error));
  // Missing severity and time: derived.
  ASSERT_TRUE(parse_event(R"({"event_id":"a","outcome":"blocked","rule":"x"})", l, 77, &e, &error));
  EXPECT_EQ(e.severity, Severity::kHigh);
  EXPECT_EQ(e.time_ms, 77);
}

TEST(ParseEvent, BoundsLongValues) {
  std::string big(100000, 'A');
  big += "\xC3\xA9";  // a two-byte character at the cut must not be split
  Event e = parse(R"({"event_id":"a","outcome":"probed","rule":"xss","input":{"source":"query","name":"q","value":")" +
                  big + R"("}})");
  EXPECT_EQ(e.input.value.size(), 2048u);
  EXPECT_TRUE(e.input.value_truncated);
}

TEST(Attack, TableMapsRulesToTechniques) {
  auto ids = [](const std::string& j) {
    std::string out;
    for (const Technique* t : techniques_for(parse(j))) out += std::string(t->uid()) + " ";
    return out;
  };
  auto ev = [](const std::string& rule, const std::string& sink = "") {
    return R"({"event_id":"a","outcome":"exploited","rule":")" + rule + "\"" +
           (sink.empty() ? "" : R"(,"sink":{"type":"url","value":")" + sink + "\"}") + "}";
  };
  EXPECT_EQ(ids(ev("sql-injection")), "T1190 ");
  EXPECT_EQ(ids(ev("sql-injection.union")), "T1190 ");
  EXPECT_EQ(ids(ev("command-injection")), "T1190 T1059.004 ");
  EXPECT_EQ(ids(ev("path-traversal")), "T1190 T1083 T1005 ");
  EXPECT_EQ(ids(ev("ssrf", "http://10.0.0.1/")), "T1190 ");
  EXPECT_EQ(ids(ev("ssrf", "http://169.254.169.254/latest/")), "T1190 T1552.005 ");
  EXPECT_EQ(ids(ev("ssrf", "http://METADATA.google.internal/")), "T1190 T1552.005 ");
  EXPECT_EQ(ids(ev("xss")), "T1189 T1059.007 ");
  EXPECT_EQ(ids(ev("scanner")), "T1595.002 ");
  EXPECT_EQ(ids(ev("vp-42")), "T1190 ");
  EXPECT_EQ(ids(ev("ip-denylist")), "");
  EXPECT_EQ(cwe_for(parse(ev("path-traversal"))), "CWE-22");
}

TEST(Cef, HeaderAndStandardKeys) {
  Event e = parse(testing::sql_event());
  std::string line = format_cef(e, {{"env", "prod"}}, FormatOptions{});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto r = testing::parse_cef(line);
  ASSERT_TRUE(r) << line;
  EXPECT_EQ(r->header[0], "0");
  EXPECT_EQ(r->header[1], "Vigil");
  EXPECT_EQ(r->header[4], "sql-injection");
  EXPECT_EQ(r->header[5], "SQL injection exploited in shop: GET /product (query id)");
  EXPECT_EQ(r->header[6], "10");
  auto& f = r->fields;
  EXPECT_EQ(f["rt"], "1795662765123");
  EXPECT_EQ(f["src"], "203.0.113.9");
  EXPECT_EQ(f["act"], "exploited");
  EXPECT_EQ(f["request"], "/product");
  EXPECT_EQ(f["requestMethod"], "GET");
  EXPECT_EQ(f["externalId"], e.event_id);
  EXPECT_EQ(f["cs1Label"], "app");
  EXPECT_EQ(f["cs1"], "shop");
  EXPECT_EQ(f["cs2"], "sql-injection");
  EXPECT_EQ(f["cs3"], "query:id");
  EXPECT_EQ(f["cs4"], kHostile);  // | \ = newline and tab survive the round trip
  EXPECT_EQ(f["cs5"], e.sink.value);
  EXPECT_EQ(f["cs6"], "CWE-89");
  EXPECT_EQ(f["flexString1"], "T1190");
  EXPECT_EQ(f["env"], "prod");
  for (const auto& k : r->order) EXPECT_EQ(k.find("(dup)"), std::string::npos) << k;
}

TEST(Cef, EscapesHeaderAndExtension) {
  std::string h, v;
  cef_escape_header(&h, "a|b\\c\nd=e");
  EXPECT_EQ(h, "a\\|b\\\\c d=e");
  cef_escape_value(&v, "a|b\\c\nd=e\r");
  EXPECT_EQ(v, "a|b\\\\c\\nd\\=e\\r");
  Event e = parse(R"({"event_id":"a","outcome":"blocked","rule":"vp|x\\y","request":{"client_ip":"2001:db8::1"}})");
  auto r = testing::parse_cef(format_cef(e, {}, FormatOptions{}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header[4], "vp|x\\y");
  EXPECT_EQ(r->fields["c6a2"], "2001:db8::1");
  EXPECT_EQ(r->fields.count("src"), 0u);
}

TEST(Leef, TabDelimitedAttributes) {
  Event e = parse(testing::sql_event());
  std::string line = format_leef(e, {{"env", "prod"}}, FormatOptions{});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.rfind("LEEF:2.0|Vigil|Vigil ADR|0.1.0|sql-injection|x09|", 0), 0u) << line;
  auto r = testing::parse_leef(line);
  ASSERT_TRUE(r) << line;
  auto& f = r->fields;
  EXPECT_EQ(f["devTime"], "2026-11-26T03:12:45.123Z");
  EXPECT_EQ(f["cat"], "exploited");
  EXPECT_EQ(f["sev"], "10");
  EXPECT_EQ(f["src"], "203.0.113.9");
  EXPECT_EQ(f["url"], "/product");
  EXPECT_EQ(f["inputValue"], kHostile);
  EXPECT_EQ(f["sinkValue"], e.sink.value);
  EXPECT_EQ(f["cwe"], "CWE-89");
  EXPECT_EQ(f["attackTechnique"], "T1190");
  EXPECT_EQ(f["env"], "prod");
  std::string v;
  leef_escape_value(&v, "a\tb\\c\nd=e");
  EXPECT_EQ(v, "a\\tb\\\\c\\nd=e");
}

TEST(Json, EventWithAttackAndLabels) {
  Event e = parse(testing::sql_event());
  json j = json::parse(format_json(e, {{"env", "prod"}}, FormatOptions{}));
  EXPECT_EQ(j["event_id"], e.event_id);
  EXPECT_EQ(j["outcome"], "exploited");
  EXPECT_EQ(j["input"]["value"], kHostile);
  EXPECT_EQ(j["sink"]["dialect"], "sqlite");
  EXPECT_EQ(j["attack"][0]["technique_id"], "T1190");
  EXPECT_EQ(j["labels"]["env"], "prod");
  EXPECT_EQ(j["stack"][0]["line"], 88);
  FormatOptions compact;
  compact.compact = true;
  json c = json::parse(format_json(e, {}, compact));
  EXPECT_FALSE(c.contains("stack"));
}

TEST(Ocsf, DetectionFinding) {
  Event e = parse(testing::sample_events()[2]);  // command injection
  json j = json::parse(format_ocsf(e, {}, FormatOptions{}));
  EXPECT_EQ(j["class_uid"], 2004);
  EXPECT_EQ(j["type_uid"], 200401);
  EXPECT_EQ(j["severity_id"], 5);
  EXPECT_EQ(j["finding_info"]["uid"], e.event_id);
  EXPECT_EQ(j["finding_info"]["attacks"][1]["sub_technique"]["uid"], "T1059.004");
  EXPECT_EQ(j["evidences"][0]["process"]["cmd_line"], "ping -c 1 8.8.8.8; id");
  EXPECT_EQ(j["evidences"][0]["src_endpoint"]["ip"], "2001:db8::7");
  EXPECT_EQ(j["vulnerabilities"][0]["cwe"]["uid"], "CWE-78");
  EXPECT_EQ(j["action"], "Allowed");
}

TEST(Ecs, Document) {
  Event e = parse(testing::sample_events()[4]);  // SSRF to cloud metadata
  json j = json::parse(format_ecs(e, {{"team", "web"}}, FormatOptions{}));
  EXPECT_EQ(j["event"]["kind"], "alert");
  EXPECT_EQ(j["event"]["severity"], 99);
  EXPECT_EQ(j["threat"]["technique"]["id"], json({"T1190", "T1552"}));
  EXPECT_EQ(j["threat"]["technique"]["subtechnique"]["id"], json({"T1552.005"}));
  EXPECT_EQ(j["vulnerability"]["id"], "CWE-918");
  EXPECT_EQ(j["source"]["ip"], "192.0.2.1");
  EXPECT_EQ(j["labels"]["team"], "web");
  EXPECT_EQ(j["vigil"]["sink"]["type"], "url");
}

TEST(Hec, Envelope) {
  Event e = parse(testing::sql_event());
  FormatOptions o;
  o.hec_index = "security";
  json j = json::parse(format_hec(e, {{"env", "prod"}}, o));
  EXPECT_DOUBLE_EQ(j["time"].get<double>(), 1795662765.123);
  EXPECT_EQ(j["sourcetype"], "vigil:event");
  EXPECT_EQ(j["index"], "security");
  EXPECT_EQ(j["event"]["event_id"], e.event_id);
  EXPECT_EQ(j["fields"]["env"], "prod");
  EXPECT_EQ(j["fields"]["mitre_attack"], "T1190");
}

TEST(Slack, EscapesMarkup) {
  Event e = parse(testing::sample_events()[5]);  // xss probe with <!channel>
  json j = json::parse(format_slack(e, {}, FormatOptions{}));
  std::string text = j["text"];
  EXPECT_EQ(text.find("<!channel>"), std::string::npos);
  EXPECT_NE(text.find("&lt;!channel&gt;"), std::string::npos);
  EXPECT_NE(text.find("&amp;"), std::string::npos);
}

TEST(Formats, HostileBytesStayValidAndOnOneLine) {
  std::string nasty = "a\x01\x7f\r\n\"\\|=\t\xff\xfe\xc3(";
  Event e = parse(testing::sql_event());
  e.input.value = nasty;
  e.request.user_agent = nasty;
  e.app = nasty;
  e.rule = nasty;
  for (Format f : {Format::kCef, Format::kLeef, Format::kJson, Format::kOcsf, Format::kEcs,
                   Format::kHec, Format::kSlack}) {
    std::string out = format_event(f, e, {{"k", nasty}}, FormatOptions{});
    EXPECT_EQ(out.find('\n'), std::string::npos) << format_name(f);
    EXPECT_EQ(out.find('\r'), std::string::npos) << format_name(f);
    EXPECT_EQ(out.find('\x01'), std::string::npos) << format_name(f);
    EXPECT_EQ(out.find('\xff'), std::string::npos) << format_name(f);
    if (f != Format::kCef && f != Format::kLeef) {
      EXPECT_TRUE(json::accept(out)) << format_name(f);
    }
  }
}

// A value the record's size cap shortened (compact records, for syslog's max_message) says so
// in every JSON-based format, as one the agent cut already does; a whole value does not.
TEST(Formats, MarkValuesTheSizeCapShortened) {
  Event e = parse(testing::sql_event());
  e.input.value = std::string(1000, 'i');
  e.sink.value = "SELECT * FROM t WHERE id = '" + std::string(1000, 's') + "'";
  FormatOptions compact;
  compact.compact = true;
  // Where each format keeps the input and sink objects.
  struct Case {
    Format format;
    json::json_pointer input, sink;
  };
  const Case kCases[] = {
      {Format::kJson, json::json_pointer("/input"), json::json_pointer("/sink")},
      {Format::kHec, json::json_pointer("/event/input"), json::json_pointer("/event/sink")},
      {Format::kEcs, json::json_pointer("/vigil/input"), json::json_pointer("/vigil/sink")},
      {Format::kOcsf, json::json_pointer("/evidences/0/data/input"),
       json::json_pointer("/evidences/0/data/sink")},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(format_name(c.format));
    json cut = json::parse(format_event(c.format, e, {}, compact));
    ASSERT_TRUE(cut.contains(c.input) && cut.contains(c.sink)) << cut.dump();
    EXPECT_EQ(cut[c.input]["value"], std::string(256, 'i'));
    EXPECT_EQ(cut[c.input]["value_truncated"], true);
    EXPECT_EQ(cut[c.sink]["value"].get<std::string>().size(), 256u);
    EXPECT_EQ(cut[c.sink]["value_truncated"], true);
    json whole = json::parse(format_event(c.format, e, {}, FormatOptions{}));
    EXPECT_EQ(whole[c.input]["value"], e.input.value);
    EXPECT_FALSE(whole[c.input].contains("value_truncated"));
    EXPECT_EQ(whole[c.sink]["value"], e.sink.value);
    EXPECT_FALSE(whole[c.sink].contains("value_truncated"));
  }
}

TEST(Summary, CarriesCountAndInterval) {
  Event e = parse(testing::sample_events()[5]);
  e.summary = true;
  e.count = 1240;
  e.first_ms = 1795662900000;
  e.last_ms = 1795662960000;
  auto r = testing::parse_cef(format_cef(e, {}, FormatOptions{}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->fields["cnt"], "1240");
  EXPECT_EQ(r->fields["start"], "1795662900000");
  json j = json::parse(format_json(e, {}, FormatOptions{}));
  EXPECT_EQ(j["summary"]["count"], 1240);
  json o = json::parse(format_ocsf(e, {}, FormatOptions{}));
  EXPECT_EQ(o["count"], 1240);
}

TEST(Text, Rfc3339RoundTrip) {
  std::int64_t ms;
  ASSERT_TRUE(parse_rfc3339_ms("2026-11-26T03:12:45.123Z", &ms));
  EXPECT_EQ(format_rfc3339_ms(ms), "2026-11-26T03:12:45.123Z");
  ASSERT_TRUE(parse_rfc3339_ms("2026-11-26T04:12:45+01:00", &ms));
  EXPECT_EQ(format_rfc3339_ms(ms), "2026-11-26T03:12:45.000Z");
  EXPECT_FALSE(parse_rfc3339_ms("2026-13-26T03:12:45Z", &ms));
  EXPECT_FALSE(parse_rfc3339_ms("yesterday", &ms));
  EXPECT_EQ(utf8_prefix("ab\xC3\xA9", 3), "ab");
}

}  // namespace
}  // namespace vigil::exports
