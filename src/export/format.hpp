// Formatters: one Vigil event (or summary) -> one record in a SOC's format. Each maps the
// outcome, rule, severity, request, input, sink, explanation, CWE and ATT&CK techniques to the
// format's own fields and escapes by the format's rules (docs/exports.md has the table).
//
//   kCef    ArcSight Common Event Format 0 (one line; header | and \ escaped; extension
//           \ = and newlines escaped)
//   kLeef   IBM QRadar LEEF 2.0, tab-delimited attributes (tab, newlines and \ escaped)
//   kJson   the Vigil event as JSON (bounded fields) plus `attack`, `summary`, `labels`
//   kOcsf   OCSF Detection Finding (class_uid 2004) with the Security Control profile
//   kEcs    Elastic Common Schema document
//   kHec    Splunk HTTP Event Collector envelope ({"time","host","source","sourcetype",
//           "event","fields"}) around the kJson record
//   kSlack  a Slack-compatible incoming-webhook message ({"text": ...})
//
// Every output is one line (no raw CR or LF), valid UTF-8, and bounded in size by the
// Event's limits. Pure functions of their arguments; thread-safe; never throw except
// std::bad_alloc.
#ifndef VIGIL_EXPORT_FORMAT_HPP_
#define VIGIL_EXPORT_FORMAT_HPP_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "export/event.hpp"

namespace vigil::exports {

enum class Format { kCef, kLeef, kJson, kOcsf, kEcs, kHec, kSlack };

const char* format_name(Format f) noexcept;
bool parse_format(std::string_view name, Format* f) noexcept;

// Extra fields an export adds to each record, already rendered for this event (key, value).
// Keys are validated by the export's configuration: [A-Za-z][A-Za-z0-9_]{0,62}.
using Fields = std::vector<std::pair<std::string, std::string>>;

struct FormatOptions {
  std::string vendor = "Vigil";
  std::string product = "Vigil ADR";
  std::string version = "0.1.0";
  std::string host;              // the exporting host; "" = local_hostname()
  std::string hec_source = "vigil";
  std::string hec_sourcetype = "vigil:event";
  std::string hec_index;         // "" = the token's default index
  // Smaller records: long values cut to 256 bytes, no stack, no tokens. An exporter asks for
  // it when a record is over its transport's message limit.
  bool compact = false;
};

std::string format_event(Format f, const Event& e, const Fields& extra, const FormatOptions& o);

// Severity on each format's scale.
int cef_severity(Severity s) noexcept;   // 0-10: low 3, medium 5, high 8, critical 10
int ocsf_severity_id(Severity s) noexcept;  // 1-6: low 2, medium 3, high 4, critical 5
int ecs_severity(Severity s) noexcept;   // low 21, medium 47, high 73, critical 99
int syslog_severity(Severity s) noexcept;  // RFC 5424: low 5, medium 4, high 3, critical 2

// The individual formatters (format_event dispatches to them).
std::string format_cef(const Event& e, const Fields& extra, const FormatOptions& o);
std::string format_leef(const Event& e, const Fields& extra, const FormatOptions& o);
std::string format_json(const Event& e, const Fields& extra, const FormatOptions& o);
std::string format_ocsf(const Event& e, const Fields& extra, const FormatOptions& o);
std::string format_ecs(const Event& e, const Fields& extra, const FormatOptions& o);
std::string format_hec(const Event& e, const Fields& extra, const FormatOptions& o);
std::string format_slack(const Event& e, const Fields& extra, const FormatOptions& o);

// Escaping rules, exposed for tests and for the docs' examples.
void cef_escape_header(std::string* out, std::string_view s);
void cef_escape_value(std::string* out, std::string_view s);
void leef_escape_header(std::string* out, std::string_view s);
void leef_escape_value(std::string* out, std::string_view s);
void slack_escape(std::string* out, std::string_view s);

}  // namespace vigil::exports

#endif  // VIGIL_EXPORT_FORMAT_HPP_
