// Elastic Common Schema (8.x) document: event.*, rule.*, threat.* (MITRE ATT&CK),
// vulnerability.* (CWE), source.*, url.*, http.*, user_agent.*, service.*, observer.*, and
// Vigil's specifics under the custom `vigil.*` namespace.
#include "export/format_internal.hpp"
#include "export/json_writer.hpp"

namespace vigil::exports {
namespace {

using detail::cap;

void string_array(JsonWriter& w, std::string_view k, const std::vector<std::string>& v) {
  w.key(k);
  w.begin_array();
  for (const auto& s : v) w.string(s);
  w.end_array();
}

}  // namespace

std::string format_ecs(const Event& e, const Fields& extra, const FormatOptions& o) {
  std::string out;
  JsonWriter w(&out);
  const std::int64_t time = e.summary ? e.last_ms : e.time_ms;
  w.begin_object();
  w.member("@timestamp", format_rfc3339_ms(time));
  w.member("message", headline(e));
  w.key("ecs");
  w.begin_object();
  w.member("version", "8.11.0");
  w.end_object();

  w.key("event");
  w.begin_object();
  w.member("id", e.event_id);
  w.member("kind", e.summary ? "metric" : "alert");
  string_array(w, "category", {"intrusion_detection", "web"});
  string_array(w, "type", {e.outcome == Outcome::kBlocked ? "denied"
                           : e.outcome == Outcome::kExploited ? "allowed"
                                                              : "info"});
  w.member("action", outcome_name(e.outcome));
  w.member("outcome", e.outcome == Outcome::kExploited ? "success"
                      : e.outcome == Outcome::kBlocked ? "failure"
                                                       : "unknown");
  w.member_int("severity", ecs_severity(e.severity));
  w.member("code", e.rule);
  w.member("module", "vigil");
  w.member("dataset", "vigil.events");
  w.member("provider", "vigil-agent");
  w.member("reason", cap(o, detail::description(e), 1024));
  if (e.summary) {
    w.member("start", format_rfc3339_ms(e.first_ms));
    w.member("end", format_rfc3339_ms(e.last_ms));
  } else {
    w.member("created", e.time);
  }
  w.end_object();

  w.key("log");
  w.begin_object();
  w.member("level", severity_name(e.severity));
  w.end_object();

  RuleInfo info = rule_info(e.rule);
  w.key("rule");
  w.begin_object();
  w.member("id", e.rule);
  w.member("name", e.rule);
  w.member("category", detail::rule_family(e.rule));
  w.member_nonempty("description", info.title);
  w.member("ruleset", "vigil");
  w.end_object();

  auto techniques = techniques_for(e);
  if (!techniques.empty()) {
    std::vector<std::string> tid, tname, sid, sname, taid, taname;
    for (const Technique* t : techniques) {
      tid.push_back(t->id);
      tname.push_back(t->name);
      if (t->sub_id) {
        sid.push_back(t->sub_id);
        sname.push_back(t->sub_name);
      }
      taid.push_back(t->tactic_id);
      taname.push_back(t->tactic_name);
    }
    w.key("threat");
    w.begin_object();
    w.member("framework", "MITRE ATT&CK");
    w.key("technique");
    w.begin_object();
    string_array(w, "id", tid);
    string_array(w, "name", tname);
    if (!sid.empty()) {
      w.key("subtechnique");
      w.begin_object();
      string_array(w, "id", sid);
      string_array(w, "name", sname);
      w.end_object();
    }
    w.end_object();
    w.key("tactic");
    w.begin_object();
    string_array(w, "id", taid);
    string_array(w, "name", taname);
    w.end_object();
    w.end_object();
  }

  std::string_view cwe = cwe_for(e);
  if (!cwe.empty()) {
    w.key("vulnerability");
    w.begin_object();
    w.member("id", cwe);
    w.member("classification", "CWE");
    w.member("enumeration", "CWE");
    if (info.cwe_name && cwe == info.cwe) w.member("description", info.cwe_name);
    w.end_object();
  }

  if (!e.request.client_ip.empty()) {
    w.key("source");
    w.begin_object();
    w.member("ip", e.request.client_ip);
    w.member("address", e.request.client_ip);
    if (e.request.client_port) w.member_int("port", e.request.client_port);
    w.end_object();
  }
  if (!e.request.server_ip.empty()) {
    w.key("destination");
    w.begin_object();
    w.member("ip", e.request.server_ip);
    if (e.request.server_port) w.member_int("port", e.request.server_port);
    w.end_object();
  }
  if (!e.request.path.empty()) {
    w.key("url");
    w.begin_object();
    w.member("path", cap(o, e.request.path, 2048));
    w.member_nonempty("domain", e.request.host);
    w.end_object();
  }
  if (!e.request.method.empty() || !e.request.id.empty()) {
    w.key("http");
    w.begin_object();
    w.key("request");
    w.begin_object();
    w.member_nonempty("method", e.request.method);
    w.member_nonempty("id", e.request.id);
    w.end_object();
    w.end_object();
  }
  if (!e.request.user_agent.empty()) {
    w.key("user_agent");
    w.begin_object();
    w.member("original", cap(o, e.request.user_agent, 512));
    w.end_object();
  }
  if (!e.request.user.empty()) {
    w.key("user");
    w.begin_object();
    w.member("name", e.request.user);
    w.end_object();
  }
  if (!e.app.empty()) {
    w.key("service");
    w.begin_object();
    w.member("name", e.app);
    w.end_object();
  }
  if (e.agent_pid > 0) {
    w.key("process");
    w.begin_object();
    w.member_int("pid", e.agent_pid);
    w.end_object();
  }
  w.key("observer");
  w.begin_object();
  w.member("vendor", o.vendor);
  w.member("product", o.product);
  w.member("version", o.version);
  w.member("type", "application-security");
  w.member("hostname", detail::host_of(o));
  w.end_object();
  if (!extra.empty()) {
    w.key("labels");
    w.begin_object();
    for (const auto& [k, v] : extra) w.member(k, cap(o, v, 1024));
    w.end_object();
  }

  w.key("vigil");
  w.begin_object();
  w.member("outcome", outcome_name(e.outcome));
  w.member_nonempty("mode", e.mode);
  detail::write_input_and_sink(w, e, o);
  w.member_nonempty("evidence", cap(o, e.evidence, 1024));
  w.member_nonempty("note", cap(o, e.note, 1024));
  if (e.summary) {
    w.key("count");
    w.uinteger(e.count);
  }
  w.end_object();
  w.end_object();
  return out;
}

}  // namespace vigil::exports
