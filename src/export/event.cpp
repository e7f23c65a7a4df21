#include "export/event.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "export/text.hpp"

namespace vigil::exports {
namespace {

constexpr int kMaxDepth = 64;

// Rejects documents nested deeper than kMaxDepth before the DOM is built (RapidJSON's DOM
// destructor recurses).
bool depth_ok(std::string_view json) noexcept {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

using Value = rapidjson::Value;

const Value* member(const Value& obj, const char* name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

// Copies a string member (numbers are accepted as their text) cut to `max` bytes.
bool copy(const Value& obj, const char* name, std::size_t max, std::string* out,
          bool* truncated = nullptr) {
  const Value* v = member(obj, name);
  if (!v) return false;
  if (v->IsString()) {
    std::string_view s(v->GetString(), v->GetStringLength());
    std::string_view cut = utf8_prefix(s, max);
    out->assign(cut);
    if (truncated && cut.size() < s.size()) *truncated = true;
    return true;
  }
  if (v->IsInt64()) {
    *out = std::to_string(v->GetInt64());
    return true;
  }
  return false;
}

std::int64_t integer(const Value& obj, const char* name, std::int64_t dflt = 0) {
  const Value* v = member(obj, name);
  if (v && v->IsInt64()) return v->GetInt64();
  if (v && v->IsString()) {
    std::int64_t r = 0;
    std::string_view s(v->GetString(), v->GetStringLength());
    if (s.empty() || s.size() > 18) return dflt;
    for (char c : s) {
      if (c < '0' || c > '9') return dflt;
      r = r * 10 + (c - '0');
    }
    return r;
  }
  return dflt;
}

bool flag(const Value& obj, const char* name) {
  const Value* v = member(obj, name);
  return v && v->IsBool() && v->GetBool();
}

}  // namespace

const char* outcome_name(Outcome o) noexcept {
  switch (o) {
    case Outcome::kExploited: return "exploited";
    case Outcome::kBlocked: return "blocked";
    case Outcome::kProbed: return "probed";
    case Outcome::kSuspicious: return "suspicious";
  }
  return "suspicious";
}

const char* severity_name(Severity s) noexcept {
  switch (s) {
    case Severity::kCritical: return "critical";
    case Severity::kHigh: return "high";
    case Severity::kMedium: return "medium";
    case Severity::kLow: return "low";
  }
  return "low";
}

bool parse_outcome(std::string_view s, Outcome* o) noexcept {
  if (s == "exploited") *o = Outcome::kExploited;
  else if (s == "blocked") *o = Outcome::kBlocked;
  else if (s == "probed") *o = Outcome::kProbed;
  else if (s == "suspicious") *o = Outcome::kSuspicious;
  else return false;
  return true;
}

bool parse_severity(std::string_view s, Severity* out) noexcept {
  if (s == "critical") *out = Severity::kCritical;
  else if (s == "high") *out = Severity::kHigh;
  else if (s == "medium") *out = Severity::kMedium;
  else if (s == "low") *out = Severity::kLow;
  else return false;
  return true;
}

Severity default_severity(Outcome o) noexcept {
  switch (o) {
    case Outcome::kExploited: return Severity::kCritical;
    case Outcome::kBlocked: return Severity::kHigh;
    case Outcome::kProbed: return Severity::kMedium;
    case Outcome::kSuspicious: return Severity::kLow;
  }
  return Severity::kLow;
}

std::size_t Event::approx_bytes() const noexcept {
  std::size_t n = sizeof(Event) + event_id.size() + time.size() + app.size() + rule.size() +
                  cwe.size() + mode.size() + request.method.size() + request.path.size() +
                  request.client_ip.size() + request.user_agent.size() + request.id.size() +
                  request.user.size() + request.server_ip.size() + request.host.size() +
                  input.source.size() + input.name.size() + input.value.size() +
                  input.form.size() + sink.type.size() + sink.dialect.size() + sink.value.size() +
                  sink.function.size() + reason.size() + evidence.size() + note.size() +
                  agent_version.size();
  for (const auto& t : tokens) n += sizeof(Token) + t.kind.size() + t.text.size();
  for (const auto& f : stack)
    n += sizeof(Frame) + f.address.size() + f.function.size() + f.file.size() + f.module.size();
  return n;
}

bool parse_event(std::string_view json, const EventLimits& limits, std::int64_t now,
                 Event* e, std::string* error) {
  if (!depth_ok(json)) {
    *error = "event nested deeper than 64 levels";
    return false;
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag |
            rapidjson::kParseStopWhenDoneFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    *error = std::string("event is not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError());
    return false;
  }
  if (!doc.IsObject()) {
    *error = "event is not a JSON object";
    return false;
  }
  *e = Event();
  if (!copy(doc, "event_id", 1 << 20, &e->event_id) || e->event_id.empty() ||
      e->event_id.size() > limits.id) {
    *error = "event_id: missing, empty or longer than 64 bytes";
    return false;
  }
  for (char c : e->event_id)
    if (c <= 0x20 || c >= 0x7F) {
      *error = "event_id: printable ASCII only";
      return false;
    }
  std::string s;
  if (!copy(doc, "outcome", 32, &s) || !parse_outcome(s, &e->outcome)) {
    *error = "outcome: exploited, blocked, probed or suspicious";
    return false;
  }
  if (!copy(doc, "rule", limits.name, &e->rule) || e->rule.empty()) {
    *error = "rule: missing";
    return false;
  }
  s.clear();
  if (!copy(doc, "severity", 32, &s) || !parse_severity(s, &e->severity))
    e->severity = default_severity(e->outcome);
  if (copy(doc, "time", 64, &e->time) && parse_rfc3339_ms(e->time, &e->time_ms)) {
    // keep the agent's text
  } else {
    e->time_ms = now;
    e->time = format_rfc3339_ms(now);
  }
  copy(doc, "app", limits.name, &e->app);
  copy(doc, "cwe", limits.name, &e->cwe);
  copy(doc, "mode", limits.name, &e->mode);
  copy(doc, "note", limits.text, &e->note);

  if (const Value* r = member(doc, "request"); r && r->IsObject()) {
    copy(*r, "method", limits.name, &e->request.method);
    copy(*r, "path", limits.path, &e->request.path, &e->request.path_truncated);
    copy(*r, "client_ip", limits.name, &e->request.client_ip);
    copy(*r, "user_agent", limits.user_agent, &e->request.user_agent,
         &e->request.user_agent_truncated);
    copy(*r, "id", limits.id, &e->request.id);
    copy(*r, "user", limits.name, &e->request.user);
    copy(*r, "server_ip", limits.name, &e->request.server_ip);
    copy(*r, "host", limits.name, &e->request.host);
    std::int64_t p = integer(*r, "client_port");
    e->request.client_port = p > 0 && p < 65536 ? static_cast<int>(p) : 0;
    p = integer(*r, "server_port");
    e->request.server_port = p > 0 && p < 65536 ? static_cast<int>(p) : 0;
  }
  if (const Value* in = member(doc, "input"); in && in->IsObject()) {
    e->has_input = true;
    copy(*in, "source", limits.name, &e->input.source);
    copy(*in, "name", limits.name, &e->input.name);
    copy(*in, "value", limits.input_value, &e->input.value, &e->input.value_truncated);
    copy(*in, "form", limits.name, &e->input.form);
    if (flag(*in, "value_truncated")) e->input.value_truncated = true;
  }
  if (const Value* sk = member(doc, "sink"); sk && sk->IsObject()) {
    e->has_sink = true;
    copy(*sk, "type", limits.name, &e->sink.type);
    copy(*sk, "dialect", limits.name, &e->sink.dialect);
    copy(*sk, "value", limits.sink_value, &e->sink.value, &e->sink.value_truncated);
    copy(*sk, "function", limits.name, &e->sink.function);
    if (flag(*sk, "value_truncated")) e->sink.value_truncated = true;
  }
  if (const Value* ex = member(doc, "explanation"); ex && ex->IsObject()) {
    copy(*ex, "reason", limits.text, &e->reason);
    copy(*ex, "evidence", limits.text, &e->evidence);
    if (const Value* toks = member(*ex, "tokens"); toks && toks->IsArray()) {
      for (const auto& t : toks->GetArray()) {
        if (e->tokens.size() >= limits.tokens) break;
        if (!t.IsObject()) continue;
        Token tok;
        copy(t, "kind", limits.name, &tok.kind);
        copy(t, "text", limits.name, &tok.text);
        e->tokens.push_back(std::move(tok));
      }
    }
  }
  if (const Value* st = member(doc, "stack"); st && st->IsArray()) {
    for (const auto& f : st->GetArray()) {
      if (e->stack.size() >= limits.frames) break;
      if (!f.IsObject()) continue;
      Frame fr;
      copy(f, "address", limits.name, &fr.address);
      copy(f, "function", limits.name, &fr.function);
      copy(f, "file", limits.name, &fr.file);
      copy(f, "module", limits.name, &fr.module);
      fr.line = integer(f, "line");
      e->stack.push_back(std::move(fr));
    }
  }
  if (const Value* ag = member(doc, "agent"); ag && ag->IsObject()) {
    e->agent_pid = integer(*ag, "pid");
    copy(*ag, "version", limits.name, &e->agent_version);
  }
  return true;
}

}  // namespace vigil::exports
