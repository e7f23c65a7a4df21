#include "export/format.hpp"

#include "export/format_internal.hpp"
#include "export/json_writer.hpp"

namespace vigil::exports {

namespace detail {

std::string technique_ids(const Event& e) {
  std::string out;
  for (const Technique* t : techniques_for(e)) {
    if (!out.empty()) out.push_back(',');
    out += t->uid();
  }
  return out;
}

void write_input_and_sink(JsonWriter& w, const Event& e, const FormatOptions& o) {
  if (e.has_input) {
    w.key("input");
    w.begin_object();
    w.member("source", e.input.source);
    w.member("name", e.input.name);
    std::string_view v = cap(o, e.input.value, 2048);
    w.member("value", v);
    if (e.input.value_truncated || v.size() < e.input.value.size())
      w.member_bool("value_truncated", true);
    w.member_nonempty("form", e.input.form);
    w.end_object();
  }
  if (e.has_sink) {
    w.key("sink");
    w.begin_object();
    w.member("type", e.sink.type);
    w.member_nonempty("dialect", e.sink.dialect);
    std::string_view v = cap(o, e.sink.value, 4096);
    w.member("value", v);
    if (e.sink.value_truncated || v.size() < e.sink.value.size())
      w.member_bool("value_truncated", true);
    w.member_nonempty("function", e.sink.function);
    w.end_object();
  }
}

std::string sink_call(const Event& e) {
  if (!e.has_sink) return {};
  std::string out = e.sink.type;
  if (!e.sink.dialect.empty()) out += "/" + e.sink.dialect;
  if (!e.sink.function.empty()) out += " " + e.sink.function;
  return out;
}

std::string_view rule_family(std::string_view rule) noexcept {
  std::size_t cut = rule.find_first_of(".:");
  return cut == std::string_view::npos ? rule : rule.substr(0, cut);
}

std::string description(const Event& e) {
  if (e.summary) {
    std::string s = std::to_string(e.count) + " " + outcome_name(e.outcome) + " event" +
                    (e.count == 1 ? "" : "s") + " of rule " + e.rule;
    if (!e.request.client_ip.empty()) s += " from " + e.request.client_ip;
    if (!e.app.empty()) s += " against " + e.app;
    s += " between " + format_rfc3339_ms(e.first_ms) + " and " + format_rfc3339_ms(e.last_ms);
    return s;
  }
  return e.reason.empty() ? headline(e) : e.reason;
}

}  // namespace detail

const char* format_name(Format f) noexcept {
  switch (f) {
    case Format::kCef: return "cef";
    case Format::kLeef: return "leef";
    case Format::kJson: return "json";
    case Format::kOcsf: return "ocsf";
    case Format::kEcs: return "ecs";
    case Format::kHec: return "hec";
    case Format::kSlack: return "slack";
  }
  return "json";
}

bool parse_format(std::string_view name, Format* f) noexcept {
  static constexpr Format kAll[] = {Format::kCef,  Format::kLeef, Format::kJson, Format::kOcsf,
                                    Format::kEcs,  Format::kHec,  Format::kSlack};
  for (Format x : kAll)
    if (name == format_name(x)) {
      *f = x;
      return true;
    }
  return false;
}

int cef_severity(Severity s) noexcept {
  switch (s) {
    case Severity::kCritical: return 10;
    case Severity::kHigh: return 8;
    case Severity::kMedium: return 5;
    case Severity::kLow: return 3;
  }
  return 3;
}

int ocsf_severity_id(Severity s) noexcept {
  switch (s) {
    case Severity::kCritical: return 5;
    case Severity::kHigh: return 4;
    case Severity::kMedium: return 3;
    case Severity::kLow: return 2;
  }
  return 2;
}

int ecs_severity(Severity s) noexcept {
  switch (s) {
    case Severity::kCritical: return 99;
    case Severity::kHigh: return 73;
    case Severity::kMedium: return 47;
    case Severity::kLow: return 21;
  }
  return 21;
}

int syslog_severity(Severity s) noexcept {
  switch (s) {
    case Severity::kCritical: return 2;  // crit
    case Severity::kHigh: return 3;      // err
    case Severity::kMedium: return 4;    // warning
    case Severity::kLow: return 5;       // notice
  }
  return 5;
}

std::string format_event(Format f, const Event& e, const Fields& extra, const FormatOptions& o) {
  switch (f) {
    case Format::kCef: return format_cef(e, extra, o);
    case Format::kLeef: return format_leef(e, extra, o);
    case Format::kJson: return format_json(e, extra, o);
    case Format::kOcsf: return format_ocsf(e, extra, o);
    case Format::kEcs: return format_ecs(e, extra, o);
    case Format::kHec: return format_hec(e, extra, o);
    case Format::kSlack: return format_slack(e, extra, o);
  }
  return format_json(e, extra, o);
}

}  // namespace vigil::exports
