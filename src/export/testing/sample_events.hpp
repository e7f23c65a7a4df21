// Test support: Vigil events as agents write them (docs/events.md), one per kind of detection,
// with hostile values in the places an attacker controls.
#ifndef VIGIL_EXPORT_TESTING_SAMPLE_EVENTS_HPP_
#define VIGIL_EXPORT_TESTING_SAMPLE_EVENTS_HPP_

#include <string>
#include <vector>

namespace vigil::exports::testing {

// An exploited SQL injection with every field set; `id` is its event_id.
inline std::string sql_event(const std::string& id = "0123456789abcdef0123456789abcdef",
                             const std::string& outcome = "exploited") {
  return R"J({"event_id":")J" + id + R"J(","time":"2026-11-26T03:12:45.123Z","app":"shop","outcome":")J" +
         outcome +
         R"J(","rule":"sql-injection","severity":")J" +
         (outcome == "exploited" ? "critical" : outcome == "blocked" ? "high" : "medium") +
         R"J(","cwe":"CWE-89","mode":"monitor",)J"
         R"J("request":{"method":"GET","path":"/product","client_ip":"203.0.113.9","user_agent":"sqlmap/1.7#stable (https://sqlmap.org)","id":"r-42"},)J"
         R"J("input":{"source":"query","name":"id","value":"1' OR 1=1-- |a\\b=c\nd\te","form":"url"},)J"
         R"J("sink":{"type":"sql","dialect":"sqlite","value":"SELECT * FROM products WHERE id = '1' OR 1=1-- |a\\b=c\nd\te'","function":"sqlite3_prepare_v2","span":{"begin":37,"end":60,"element":0}},)J"
         R"J("explanation":{"reason":"input query:id turned the string literal into a boolean expression and a comment","tokens":[{"kind":"operator","text":"OR","begin":41,"end":43}]},)J"
         R"J("stack":[{"address":"0x55d0c0ffee","function":"Shop::product(Request const&)","file":"shop.cpp","line":88,"module":"shop"}],)J"
         R"J("agent":{"pid":4242,"version":"0.1.0"}})J";
}

// One event per rule family, sink type and outcome the formats must map.
inline std::vector<std::string> sample_events() {
  return {
      sql_event(),
      sql_event("11111111111111111111111111111111", "blocked"),
      R"J({"event_id":"22222222222222222222222222222222","time":"2026-11-26T03:13:00.000Z","app":"shop","outcome":"exploited","rule":"command-injection","severity":"critical","cwe":"CWE-78","mode":"monitor","request":{"method":"POST","path":"/ping","client_ip":"2001:db8::7","user_agent":"curl/8.0","id":"r-43"},"input":{"source":"body","name":"host","value":"8.8.8.8; id"},"sink":{"type":"shell","value":"ping -c 1 8.8.8.8; id","function":"system"},"explanation":{"reason":"input body:host added a command separator"},"agent":{"pid":4242,"version":"0.1.0"}})J",
      R"J({"event_id":"33333333333333333333333333333333","time":"2026-11-26T03:14:00.000+01:00","app":"files","outcome":"blocked","rule":"path-traversal","severity":"high","mode":"block","request":{"method":"GET","path":"/download","client_ip":"198.51.100.4","user_agent":"Mozilla/5.0","id":"r-44"},"input":{"source":"query","name":"f","value":"../../etc/passwd"},"sink":{"type":"path","value":"/srv/files/../../etc/passwd","function":"openat"},"explanation":{"reason":"the path escaped its base /srv/files"}})J",
      R"J({"event_id":"44444444444444444444444444444444","time":"2026-11-26T03:15:00.000Z","app":"proxy","outcome":"exploited","rule":"ssrf","request":{"method":"GET","path":"/fetch","client_ip":"192.0.2.1"},"input":{"source":"query","name":"url","value":"http://169.254.169.254/latest/meta-data/"},"sink":{"type":"url","value":"http://169.254.169.254/latest/meta-data/iam/security-credentials/","function":"connect"},"explanation":{"reason":"input took over the outbound request's host"}})J",
      R"J({"event_id":"55555555555555555555555555555555","time":"2026-11-26T03:16:00.000Z","app":"shop","outcome":"probed","rule":"xss","severity":"medium","request":{"method":"GET","path":"/search","client_ip":"203.0.113.9","user_agent":"<script>alert(1)</script>"},"input":{"source":"query","name":"q","value":"<img src=x onerror=alert(1)> <!channel> & `rm`"},"explanation":{"evidence":"an element with an event handler"}})J",
      R"J({"event_id":"66666666666666666666666666666666","time":"2026-11-26T03:17:00.000Z","app":"shop","outcome":"suspicious","rule":"scanner","request":{"method":"GET","path":"/.env","client_ip":"203.0.113.9","user_agent":"Nikto/2.5"}})J",
      R"J({"event_id":"77777777777777777777777777777777","time":"2026-11-26T03:18:00.000Z","app":"shop","outcome":"blocked","rule":"vp-block-admin","request":{"method":"DELETE","path":"/admin","client_ip":"203.0.113.10"}})J",
      R"J({"event_id":"88888888888888888888888888888888","app":"shop","outcome":"exploited","rule":"open-redirect","request":{"method":"GET","path":"/login","client_ip":"203.0.113.11","user":"bob"},"input":{"source":"query","name":"next","value":"https://evil.example/"},"sink":{"type":"redirect","value":"https://evil.example/","function":"write"}})J",
  };
}

}  // namespace vigil::exports::testing

#endif  // VIGIL_EXPORT_TESTING_SAMPLE_EVENTS_HPP_
