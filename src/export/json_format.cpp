// The JSON family that carries the Vigil event itself: plain JSON, the Splunk HEC envelope
// around it, and a Slack-compatible text message.
#include <cstdio>

#include "export/format_internal.hpp"
#include "export/json_writer.hpp"

namespace vigil::exports {
namespace {

using detail::cap;

void write_attack(JsonWriter& w, const Event& e) {
  w.key("attack");
  w.begin_array();
  for (const Technique* t : techniques_for(e)) {
    w.begin_object();
    w.member("technique_id", t->id);
    w.member("technique", t->name);
    if (t->sub_id) {
      w.member("sub_technique_id", t->sub_id);
      w.member("sub_technique", t->sub_name);
    }
    w.member("tactic_id", t->tactic_id);
    w.member("tactic", t->tactic_name);
    w.end_object();
  }
  w.end_array();
}

// The Vigil event's own shape (docs/events.md), bounded, plus title, attack and summary.
void write_event_object(JsonWriter& w, const Event& e, const FormatOptions& o) {
  w.begin_object();
  w.member("event_id", e.event_id);
  w.member("time", e.summary ? format_rfc3339_ms(e.last_ms) : e.time);
  w.member_nonempty("app", e.app);
  w.member("outcome", outcome_name(e.outcome));
  w.member("rule", e.rule);
  w.member("severity", severity_name(e.severity));
  w.member_nonempty("cwe", cwe_for(e));
  w.member_nonempty("mode", e.mode);
  w.member("title", headline(e));
  w.key("request");
  w.begin_object();
  w.member_nonempty("method", e.request.method);
  w.member_nonempty("path", cap(o, e.request.path, 2048));
  w.member_nonempty("client_ip", e.request.client_ip);
  if (e.request.client_port) w.member_int("client_port", e.request.client_port);
  w.member_nonempty("user_agent", cap(o, e.request.user_agent, 512));
  w.member_nonempty("id", e.request.id);
  w.member_nonempty("user", e.request.user);
  w.member_nonempty("server_ip", e.request.server_ip);
  if (e.request.server_port) w.member_int("server_port", e.request.server_port);
  w.member_nonempty("host", e.request.host);
  w.end_object();
  detail::write_input_and_sink(w, e, o);
  if (!e.reason.empty() || !e.evidence.empty() || !e.tokens.empty()) {
    w.key("explanation");
    w.begin_object();
    w.member_nonempty("reason", cap(o, e.reason, 1024));
    w.member_nonempty("evidence", cap(o, e.evidence, 1024));
    if (!o.compact && !e.tokens.empty()) {
      w.key("tokens");
      w.begin_array();
      for (const auto& t : e.tokens) {
        w.begin_object();
        w.member("kind", t.kind);
        w.member("text", t.text);
        w.end_object();
      }
      w.end_array();
    }
    w.end_object();
  }
  w.member_nonempty("note", cap(o, e.note, 1024));
  if (!o.compact && !e.stack.empty()) {
    w.key("stack");
    w.begin_array();
    for (const auto& f : e.stack) {
      w.begin_object();
      w.member_nonempty("address", f.address);
      w.member_nonempty("function", f.function);
      w.member_nonempty("file", f.file);
      if (f.line > 0) w.member_int("line", f.line);
      w.member_nonempty("module", f.module);
      w.end_object();
    }
    w.end_array();
  }
  if (e.agent_pid > 0 || !e.agent_version.empty()) {
    w.key("agent");
    w.begin_object();
    if (e.agent_pid > 0) w.member_int("pid", e.agent_pid);
    w.member_nonempty("version", e.agent_version);
    w.end_object();
  }
  write_attack(w, e);
  if (e.summary) {
    w.key("summary");
    w.begin_object();
    w.key("count");
    w.uinteger(e.count);
    w.member("first_seen", format_rfc3339_ms(e.first_ms));
    w.member("last_seen", format_rfc3339_ms(e.last_ms));
    w.end_object();
  }
}

}  // namespace

std::string format_json(const Event& e, const Fields& extra, const FormatOptions& o) {
  std::string out;
  JsonWriter w(&out);
  write_event_object(w, e, o);
  if (!extra.empty()) {
    w.key("labels");
    w.begin_object();
    for (const auto& [k, v] : extra) w.member(k, cap(o, v, 1024));
    w.end_object();
  }
  w.end_object();
  return out;
}

std::string format_hec(const Event& e, const Fields& extra, const FormatOptions& o) {
  std::string out;
  JsonWriter w(&out);
  w.begin_object();
  // HEC's time: epoch seconds with a fraction.
  std::int64_t ms = e.summary ? e.last_ms : e.time_ms;
  char t[32];
  std::snprintf(t, sizeof t, "%lld.%03lld", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000 < 0 ? -(ms % 1000) : ms % 1000));
  w.key("time");
  w.raw(t);
  w.member("host", detail::host_of(o));
  w.member("source", o.hec_source);
  w.member("sourcetype", o.hec_sourcetype);
  w.member_nonempty("index", o.hec_index);
  w.key("event");
  write_event_object(w, e, o);
  w.end_object();
  // Indexed fields: flat strings, searchable without extraction.
  w.key("fields");
  w.begin_object();
  w.member_nonempty("app", e.app);
  w.member("rule", e.rule);
  w.member("outcome", outcome_name(e.outcome));
  w.member("severity", severity_name(e.severity));
  w.member_nonempty("client_ip", e.request.client_ip);
  w.member_nonempty("cwe", cwe_for(e));
  std::string techniques = detail::technique_ids(e);
  w.member_nonempty("mitre_attack", techniques);
  for (const auto& [k, v] : extra) w.member(k, cap(o, v, 1024));
  w.end_object();
  w.end_object();
  return out;
}

void slack_escape(std::string* out, std::string_view s) {
  // Slack's mrkdwn: &, < and > are control characters (links, mentions such as <!channel>).
  append_utf8_escaped(out, s, [](std::string* o, char c) {
    switch (c) {
      case '&': o->append("&amp;"); break;
      case '<': o->append("&lt;"); break;
      case '>': o->append("&gt;"); break;
      case '`': o->push_back('\''); break;  // would end the code span it sits in
      default:
        o->push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7F ? ' ' : c);
    }
  });
}

std::string format_slack(const Event& e, const Fields& extra, const FormatOptions& o) {
  std::string text;
  text += e.outcome == Outcome::kExploited  ? ":rotating_light: "
          : e.outcome == Outcome::kBlocked ? ":shield: "
                                           : ":mag: ";
  text += "*";
  slack_escape(&text, headline(e));
  text += "*";
  if (!e.request.client_ip.empty()) {
    text += " from `";
    slack_escape(&text, e.request.client_ip);
    text += "`";
  }
  text += "\n";
  if (e.has_input) {
    text += "input `";
    slack_escape(&text, e.input.source + ":" + e.input.name);
    text += "` = `";
    slack_escape(&text, cap(o, e.input.value, 300));
    text += "`\n";
  }
  if (e.has_sink) {
    text += "sink `";
    slack_escape(&text, detail::sink_call(e));
    text += "`: `";
    slack_escape(&text, cap(o, e.sink.value, 300));
    text += "`\n";
  }
  text += "> ";
  slack_escape(&text, cap(o, detail::description(e), 1024));
  text += "\n";
  std::string_view cwe = cwe_for(e);
  std::string tail = std::string(severity_name(e.severity));
  if (!cwe.empty()) tail += " · " + std::string(cwe);
  std::string techniques = detail::technique_ids(e);
  if (!techniques.empty()) tail += " · ATT&CK " + techniques;
  tail += " · event " + e.event_id;
  for (const auto& [k, v] : extra) tail += " · " + k + "=" + std::string(cap(o, v, 200));
  slack_escape(&text, tail);
  std::string out;
  JsonWriter w(&out);
  w.begin_object();
  w.member("text", text);
  w.end_object();
  return out;
}

}  // namespace vigil::exports
