// IBM LEEF 2.0: LEEF:2.0|Vendor|Product|Version|EventID|x09|key=value<TAB>key=value...
// The header escapes '\' and '|'. Attribute values may not hold the delimiter: tab, CR and LF
// become \t, \r, \n and '\' becomes \\ (so the escapes read back unambiguously); a key ends at
// the first '=' of its attribute, so '=' in a value needs no escape. EventID is the rule and
// `cat` the outcome, which together select the QRadar QID.
#include "export/format_internal.hpp"

namespace vigil::exports {
namespace {

using detail::cap;

class LeefRecord {
 public:
  explicit LeefRecord(std::string* out) : out_(out) {}
  void field(std::string_view key, std::string_view value) {
    if (value.empty()) return;
    if (!first_) out_->push_back('\t');
    first_ = false;
    out_->append(key);
    out_->push_back('=');
    leef_escape_value(out_, value);
  }

 private:
  std::string* out_;
  bool first_ = true;
};

}  // namespace

void leef_escape_header(std::string* out, std::string_view s) {
  append_utf8_escaped(out, s, [](std::string* o, char c) {
    if (c == '\\' || c == '|') {
      o->push_back('\\');
      o->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      o->push_back(' ');
    } else {
      o->push_back(c);
    }
  });
}

void leef_escape_value(std::string* out, std::string_view s) {
  append_utf8_escaped(out, s, [](std::string* o, char c) {
    switch (c) {
      case '\\': o->append("\\\\"); break;
      case '\t': o->append("\\t"); break;
      case '\n': o->append("\\n"); break;
      case '\r': o->append("\\r"); break;
      default:
        o->push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7F ? ' ' : c);
    }
  });
}

std::string format_leef(const Event& e, const Fields& extra, const FormatOptions& o) {
  std::string out = "LEEF:2.0|";
  for (std::string_view h : {std::string_view(o.vendor), std::string_view(o.product),
                             std::string_view(o.version), std::string_view(e.rule)}) {
    leef_escape_header(&out, h);
    out.push_back('|');
  }
  out += "x09|";
  LeefRecord r(&out);
  r.field("devTime", format_rfc3339_ms(e.summary ? e.last_ms : e.time_ms));
  r.field("devTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSX");
  r.field("cat", outcome_name(e.outcome));
  r.field("sev", std::to_string(cef_severity(e.severity)));
  r.field("src", e.request.client_ip);
  if (e.request.client_port) r.field("srcPort", std::to_string(e.request.client_port));
  r.field("dst", e.request.server_ip);
  if (e.request.server_port) r.field("dstPort", std::to_string(e.request.server_port));
  r.field("usrName", e.request.user);
  r.field("url", cap(o, e.request.path, 2048));
  r.field("policy", e.mode);
  r.field("resource", e.app);
  r.field("eventId", e.event_id);
  r.field("rule", e.rule);
  r.field("outcome", outcome_name(e.outcome));
  r.field("severity", severity_name(e.severity));
  r.field("requestMethod", e.request.method);
  r.field("userAgent", cap(o, e.request.user_agent, 512));
  r.field("requestId", e.request.id);
  if (e.has_input) {
    r.field("inputSource", e.input.source);
    r.field("inputName", e.input.name);
    r.field("inputValue", cap(o, e.input.value, 2048));
  }
  if (e.has_sink) {
    r.field("sinkType", e.sink.type);
    r.field("sinkDialect", e.sink.dialect);
    r.field("sinkFunction", e.sink.function);
    r.field("sinkValue", cap(o, e.sink.value, 4000));
  }
  r.field("cwe", cwe_for(e));
  r.field("attackTechnique", detail::technique_ids(e));
  r.field("reason", cap(o, detail::description(e), 1024));
  if (!o.compact) r.field("evidence", e.evidence);
  if (e.summary) {
    r.field("count", std::to_string(e.count));
    r.field("startTime", format_rfc3339_ms(e.first_ms));
    r.field("endTime", format_rfc3339_ms(e.last_ms));
  }
  r.field("vigilHost", detail::host_of(o));
  for (const auto& [k, v] : extra) r.field(k, cap(o, v, 1024));
  return out;
}

}  // namespace vigil::exports
