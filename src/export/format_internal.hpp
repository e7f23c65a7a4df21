// Helpers shared by the formatters. Internal to src/export.
#ifndef VIGIL_EXPORT_FORMAT_INTERNAL_HPP_
#define VIGIL_EXPORT_FORMAT_INTERNAL_HPP_

#include <string>
#include <string_view>

#include "export/attack.hpp"
#include "export/format.hpp"
#include "export/text.hpp"

namespace vigil::exports {
class JsonWriter;
}  // namespace vigil::exports

namespace vigil::exports::detail {

// A value cut for the record: to `normal` bytes, or 256 in compact mode.
inline std::string_view cap(const FormatOptions& o, std::string_view s, std::size_t normal) {
  return utf8_prefix(s, o.compact && normal > 256 ? 256 : normal);
}

inline bool is_ipv6(std::string_view ip) noexcept { return ip.find(':') != std::string_view::npos; }

inline const std::string& host_of(const FormatOptions& o) {
  return o.host.empty() ? local_hostname() : o.host;
}

// "T1190,T1059.004"
std::string technique_ids(const Event& e);

// "sql sqlite3_prepare_v2" / "sql/sqlite sqlite3_prepare_v2": the sink's kind and call.
std::string sink_call(const Event& e);

// The rule's family ("sql-injection.union" -> "sql-injection").
std::string_view rule_family(std::string_view rule) noexcept;

// The explanation sentence, or the headline when the event has none.
std::string description(const Event& e);

// The event's "input" and "sink" objects (when present), as the JSON-based formats (JSON, HEC,
// ECS, OCSF) carry them. `value_truncated` is true when the value is not whole: cut by the
// agent, by vigild's event limits, or by this record's size cap (compact syslog records), so a
// SOC never takes a shortened payload for the whole one.
void write_input_and_sink(JsonWriter& w, const Event& e, const FormatOptions& o);

}  // namespace vigil::exports::detail

#endif  // VIGIL_EXPORT_FORMAT_INTERNAL_HPP_
