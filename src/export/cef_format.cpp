// ArcSight CEF 0: CEF:0|Vendor|Product|Version|Signature ID|Name|Severity|Extension
// Header fields escape '\' and '|'; extension values escape '\', '=' and CR/LF (as \r, \n).
// Keys are from the CEF key dictionary (src, spt, dst, dpt, act, request, requestMethod,
// requestClientApplication, rt, cs1..cs6 with their labels, ...) plus the export's extras.
#include "export/format_internal.hpp"

namespace vigil::exports {
namespace {

using detail::cap;

class CefRecord {
 public:
  explicit CefRecord(std::string* out) : out_(out) {}
  void header(std::string_view s) {
    cef_escape_header(out_, s);
    out_->push_back('|');
  }
  void field(std::string_view key, std::string_view value) {
    if (value.empty()) return;
    if (!first_) out_->push_back(' ');
    first_ = false;
    out_->append(key);
    out_->push_back('=');
    cef_escape_value(out_, value);
  }
  void labelled(int n, std::string_view label, std::string_view value) {
    if (value.empty()) return;
    std::string k = "cs" + std::to_string(n);
    field(k, value);
    field(k + "Label", label);
  }

 private:
  std::string* out_;
  bool first_ = true;
};

}  // namespace

void cef_escape_header(std::string* out, std::string_view s) {
  append_utf8_escaped(out, s, [](std::string* o, char c) {
    if (c == '\\' || c == '|') {
      o->push_back('\\');
      o->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      o->push_back(' ');  // the header is one line
    } else {
      o->push_back(c);
    }
  });
}

void cef_escape_value(std::string* out, std::string_view s) {
  append_utf8_escaped(out, s, [](std::string* o, char c) {
    switch (c) {
      case '\\': o->append("\\\\"); break;
      case '=': o->append("\\="); break;
      case '\n': o->append("\\n"); break;
      case '\r': o->append("\\r"); break;
      case '\t': o->push_back('\t'); break;  // legal in a value; other controls are not kept
      default:
        o->push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7F ? ' ' : c);
    }
  });
}

std::string format_cef(const Event& e, const Fields& extra, const FormatOptions& o) {
  std::string out = "CEF:0|";
  CefRecord r(&out);
  r.header(o.vendor);
  r.header(o.product);
  r.header(o.version);
  r.header(e.rule);
  r.header(headline(e));
  r.header(std::to_string(cef_severity(e.severity)));

  r.field("rt", std::to_string(e.summary ? e.last_ms : e.time_ms));
  r.field("externalId", e.event_id);
  r.field("act", outcome_name(e.outcome));
  r.field("cat", detail::rule_family(e.rule));
  if (!e.request.client_ip.empty()) {
    if (detail::is_ipv6(e.request.client_ip)) {
      r.field("c6a2", e.request.client_ip);
      r.field("c6a2Label", "Source IPv6 Address");
    } else {
      r.field("src", e.request.client_ip);
    }
  }
  if (e.request.client_port) r.field("spt", std::to_string(e.request.client_port));
  if (!e.request.server_ip.empty()) {
    if (detail::is_ipv6(e.request.server_ip)) {
      r.field("c6a3", e.request.server_ip);
      r.field("c6a3Label", "Destination IPv6 Address");
    } else {
      r.field("dst", e.request.server_ip);
    }
  }
  if (e.request.server_port) r.field("dpt", std::to_string(e.request.server_port));
  r.field("dhost", e.request.host);
  r.field("requestMethod", e.request.method);
  r.field("request", cap(o, e.request.path, 2048));
  r.field("requestClientApplication", cap(o, e.request.user_agent, 512));
  r.field("suser", e.request.user);
  r.field("msg", cap(o, detail::description(e), 1024));
  r.labelled(1, "app", e.app);
  r.labelled(2, "rule", e.rule);
  if (e.has_input) {
    std::string input = e.input.source;
    if (!e.input.name.empty()) input += ":" + e.input.name;
    r.labelled(3, "input", input);
    r.labelled(4, "inputValue", cap(o, e.input.value, 2048));
  }
  if (e.has_sink) r.labelled(5, "sink", cap(o, e.sink.value, 4000));
  r.labelled(6, "cwe", cwe_for(e));
  std::string techniques = detail::technique_ids(e);
  if (!techniques.empty()) {
    r.field("flexString1", techniques);
    r.field("flexString1Label", "mitreAttack");
  }
  if (e.has_sink) {
    r.field("flexString2", detail::sink_call(e));
    r.field("flexString2Label", "sinkCall");
  }
  if (e.summary) {
    r.field("cnt", std::to_string(e.count));
    r.field("start", std::to_string(e.first_ms));
    r.field("end", std::to_string(e.last_ms));
  }
  r.field("deviceExternalId", e.request.id);
  if (e.agent_pid > 0) r.field("dvcpid", std::to_string(e.agent_pid));
  r.field("dvchost", detail::host_of(o));
  for (const auto& [k, v] : extra) r.field(k, cap(o, v, 1024));
  return out;
}

}  // namespace vigil::exports
