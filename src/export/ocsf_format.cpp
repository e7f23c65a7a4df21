// OCSF Detection Finding (class_uid 2004, category 2 Findings, activity 1 Create) with the
// Security Control profile (action, disposition, attacks). Validated in tests against the
// schema's source in ../shared/reference/ocsf-schema (testing/ocsf_schema.py).
#include "export/format_internal.hpp"
#include "export/json_writer.hpp"

namespace vigil::exports {

// The OCSF schema version the records follow (the reference's version.json).
const char* const kOcsfVersion = "1.9.0-dev";

namespace {

using detail::cap;

const char* severity_caption(int id) {
  static const char* const kCaptions[] = {"Unknown", "Informational", "Low", "Medium",
                                          "High", "Critical", "Fatal"};
  return id >= 0 && id <= 6 ? kCaptions[id] : "Other";
}

void write_attacks(JsonWriter& w, const Event& e) {
  w.begin_array();
  for (const Technique* t : techniques_for(e)) {
    w.begin_object();
    w.key("technique");
    w.begin_object();
    w.member("uid", t->id);
    w.member("name", t->name);
    w.end_object();
    if (t->sub_id) {
      w.key("sub_technique");
      w.begin_object();
      w.member("uid", t->sub_id);
      w.member("name", t->sub_name);
      w.end_object();
    }
    w.key("tactic");
    w.begin_object();
    w.member("uid", t->tactic_id);
    w.member("name", t->tactic_name);
    w.end_object();
    w.member("version", "15");
    w.end_object();
  }
  w.end_array();
}

std::string_view basename_of(std::string_view path) {
  std::size_t slash = path.find_last_of("/\\");
  std::string_view b = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return b.empty() ? path : b;
}

}  // namespace

std::string format_ocsf(const Event& e, const Fields& extra, const FormatOptions& o) {
  std::string out;
  JsonWriter w(&out);
  const int severity_id = ocsf_severity_id(e.severity);
  const std::int64_t time = e.summary ? e.last_ms : e.time_ms;
  // Security Control profile: what the control did, and what became of the activity.
  int action_id = 3, disposition_id = 15;  // Observed, Detected
  const char *action = "Observed", *disposition = "Detected";
  int confidence_id = 2;
  const char* confidence = "Medium";
  switch (e.outcome) {
    case Outcome::kBlocked:
      action_id = 2, action = "Denied", disposition_id = 2, disposition = "Blocked";
      confidence_id = 3, confidence = "High";
      break;
    case Outcome::kExploited:
      action_id = 1, action = "Allowed", disposition_id = 1, disposition = "Allowed";
      confidence_id = 3, confidence = "High";
      break;
    case Outcome::kProbed: break;
    case Outcome::kSuspicious:
      disposition_id = 17, disposition = "Logged";
      confidence_id = 1, confidence = "Low";
      break;
  }

  w.begin_object();
  w.member_int("activity_id", 1);
  w.member("activity_name", "Create");
  w.member_int("category_uid", 2);
  w.member("category_name", "Findings");
  w.member_int("class_uid", 2004);
  w.member("class_name", "Detection Finding");
  w.member_int("type_uid", 200401);
  w.member("type_name", "Detection Finding: Create");
  w.member_int("time", time);
  w.member_int("timezone_offset", 0);
  w.member_int("severity_id", severity_id);
  w.member("severity", severity_caption(severity_id));
  w.member("message", headline(e));
  w.member_int("status_id", 1);
  w.member("status", "New");
  w.member_int("confidence_id", confidence_id);
  w.member("confidence", confidence);
  w.member_bool("is_alert", e.outcome == Outcome::kExploited || e.outcome == Outcome::kBlocked);
  w.member_int("action_id", action_id);
  w.member("action", action);
  w.member_int("disposition_id", disposition_id);
  w.member("disposition", disposition);
  if (e.summary) {
    w.key("count");
    w.uinteger(e.count);
    w.member_int("start_time", e.first_ms);
    w.member_int("end_time", e.last_ms);
  }

  w.key("metadata");
  w.begin_object();
  w.member("version", kOcsfVersion);
  w.key("product");
  w.begin_object();
  w.member("name", o.product);
  w.member("vendor_name", o.vendor);
  w.member("version", o.version);
  w.end_object();
  w.member("uid", e.event_id);
  w.member_nonempty("correlation_uid", e.request.id);
  w.member("log_name", "vigil.events");
  w.key("profiles");
  w.begin_array();
  w.string("security_control");
  w.end_array();
  w.end_object();

  w.key("finding_info");
  w.begin_object();
  w.member("uid", e.event_id);
  w.member("title", headline(e));
  w.member("desc", cap(o, detail::description(e), 1024));
  w.key("types");
  w.begin_array();
  w.string(detail::rule_family(e.rule));
  w.end_array();
  w.key("analytic");
  w.begin_object();
  w.member("uid", e.rule);
  w.member("name", e.rule);
  w.member_int("type_id", 1);
  w.member("type", "Rule");
  w.end_object();
  w.key("attacks");
  write_attacks(w, e);
  w.member_int("first_seen_time", e.summary ? e.first_ms : time);
  w.member_int("last_seen_time", time);
  w.end_object();

  w.key("attacks");  // Security Control profile; duplicated into finding_info as OCSF asks
  write_attacks(w, e);

  w.key("evidences");
  w.begin_array();
  w.begin_object();
  w.member("name", e.summary ? "summary" : "request");
  if (!e.request.method.empty() || !e.request.path.empty()) {
    w.key("http_request");
    w.begin_object();
    w.member_nonempty("http_method", e.request.method);
    w.key("url");
    w.begin_object();
    w.member("path", cap(o, e.request.path, 2048));
    w.member_nonempty("hostname", e.request.host);
    w.end_object();
    w.member_nonempty("user_agent", cap(o, e.request.user_agent, 512));
    w.member_nonempty("uid", e.request.id);
    w.end_object();
  }
  if (!e.request.client_ip.empty()) {
    w.key("src_endpoint");
    w.begin_object();
    w.member("ip", e.request.client_ip);
    if (e.request.client_port) w.member_int("port", e.request.client_port);
    w.end_object();
  }
  if (!e.request.server_ip.empty()) {
    w.key("dst_endpoint");
    w.begin_object();
    w.member("ip", e.request.server_ip);
    if (e.request.server_port) w.member_int("port", e.request.server_port);
    w.end_object();
  }
  if (e.has_sink && (e.sink.type == "shell" || e.sink.type == "exec")) {
    w.key("process");
    w.begin_object();
    w.member("cmd_line", cap(o, e.sink.value, 4096));
    if (e.agent_pid > 0) w.member_int("pid", e.agent_pid);
    w.end_object();
  } else if (e.has_sink && e.sink.type == "path" && !e.sink.value.empty()) {
    w.key("file");
    w.begin_object();
    std::string_view path = cap(o, e.sink.value, 4096);
    w.member("name", basename_of(path));
    w.member("path", path);
    w.member_int("type_id", 1);
    w.member("type", "Regular File");
    w.end_object();
  }
  if (!e.request.user.empty()) {
    w.key("user");
    w.begin_object();
    w.member("name", e.request.user);
    w.end_object();
  }
  // The Vigil specifics OCSF has no attribute for: what input changed which operation.
  w.key("data");
  w.begin_object();
  w.member("outcome", outcome_name(e.outcome));
  w.member_nonempty("app", e.app);
  detail::write_input_and_sink(w, e, o);
  w.member_nonempty("evidence", cap(o, e.evidence, 1024));
  w.end_object();
  w.end_object();
  w.end_array();

  std::string_view cwe = cwe_for(e);
  if (!cwe.empty()) {
    RuleInfo info = rule_info(e.rule);
    w.key("vulnerabilities");
    w.begin_array();
    w.begin_object();
    w.key("cwe");
    w.begin_object();
    w.member("uid", cwe);
    if (info.cwe_name && cwe == info.cwe) w.member("caption", info.cwe_name);
    w.end_object();
    w.member("title", *info.title ? info.title : e.rule);
    w.end_object();
    w.end_array();
  }

  if (!e.app.empty()) {
    w.key("resources");
    w.begin_array();
    w.begin_object();
    w.member("name", e.app);
    w.member("type", "application");
    w.member_int("role_id", 1);
    w.member("role", "Target");
    w.end_object();
    w.end_array();
  }

  w.key("unmapped");
  w.begin_object();
  w.member("vigil_outcome", outcome_name(e.outcome));
  w.member_nonempty("vigil_mode", e.mode);
  w.member_nonempty("vigil_note", cap(o, e.note, 1024));
  w.member("observer_host", detail::host_of(o));
  if (!extra.empty()) {
    w.key("labels");
    w.begin_object();
    for (const auto& [k, v] : extra) w.member(k, cap(o, v, 1024));
    w.end_object();
  }
  w.end_object();
  w.end_object();
  return out;
}

}  // namespace vigil::exports
