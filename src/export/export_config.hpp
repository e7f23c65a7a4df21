// One export's configuration: from an `--export URL` (SPEC syntax) or a config-file entry.
//
//   syslog+udp://HOST:PORT?format=cef|leef|json|...     (default cef)
//   syslog+tcp://HOST:PORT?...   syslog+tls://HOST:PORT?ca=/etc/ca.pem&...
//   http://... https://...?format=hec|ocsf|ecs|json|slack&token=SECRET   (default json)
//   file:///var/log/vigil/events.log?format=...&max_bytes=104857600&max_files=5
//
// Every option below may be given in the URL's query or as a key of a config-file entry
// (YAML/JSON map with `url:`); lists are comma-separated in URLs and YAML lists in files;
// `field.NAME=TEMPLATE` in URLs is `fields: {NAME: TEMPLATE}` in files. For http(s), query
// parameters that are not options stay in the URL the exporter posts to. docs/exports.md
// documents each option.
#ifndef VIGIL_EXPORT_EXPORT_CONFIG_HPP_
#define VIGIL_EXPORT_EXPORT_CONFIG_HPP_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "export/event.hpp"
#include "export/format.hpp"
#include "export/syslog.hpp"
#include "export/transport.hpp"

namespace YAML {
class Node;
}

namespace vigil::exports {

// An extra field's value: literal text and ${placeholders} (app, rule, outcome, severity,
// client_ip, event_id, method, path, cwe, host, input_source, input_name, sink_type; and
// ${env:NAME}, read once when the configuration loads).
class FieldTemplate {
 public:
  static bool compile(std::string_view text, FieldTemplate* out, std::string* error);
  std::string render(const Event& e, const std::string& host) const;

 private:
  enum class Part : std::uint8_t {
    kLiteral, kApp, kRule, kOutcome, kSeverity, kClientIp, kEventId, kMethod, kPath, kCwe,
    kHost, kInputSource, kInputName, kSinkType
  };
  std::vector<std::pair<Part, std::string>> parts_;
};

struct ExportConfig {
  enum class Kind { kSyslogUdp, kSyslogTcp, kSyslogTls, kHttp, kFile };
  Kind kind = Kind::kSyslogUdp;
  std::string name;      // metrics label; default: the URL without credentials and query
  std::string host;      // syslog
  int port = 0;
  std::string http_url;  // http(s): the URL posted to (options removed)
  std::string file_path;
  Format format = Format::kCef;

  // Syslog.
  SyslogOptions syslog;
  std::size_t max_message = 8192;  // bytes per syslog message (rsyslog's default)

  // TLS (syslog+tls, https).
  TlsOptions tls;

  // HTTP.
  std::string token;               // never logged or exported in names
  std::string auth = "auto";       // auto (hec: Splunk, else Bearer when a token), splunk,
                                   // bearer, none

  // File.
  FileOptions file;

  FormatOptions format_options;

  // Filters: an event passes when all hold.
  Outcome min_outcome = Outcome::kSuspicious;
  Severity min_severity = Severity::kLow;
  std::vector<std::string> apps;   // empty: every application
  std::vector<std::string> rules;  // exact names or "prefix*"; empty: every rule

  // Routing: exploited and blocked events go out one by one at once; probed and suspicious
  // ones as one summary per (app, rule, client, outcome) and interval, unless one_by_one.
  bool one_by_one = false;
  std::chrono::milliseconds summary_interval{60000};
  std::size_t summary_max_keys = 10000;

  std::vector<std::pair<std::string, FieldTemplate>> fields;

  // Delivery.
  std::size_t max_batch = 100;               // records per send
  std::size_t max_batch_bytes = 1 << 20;
  std::chrono::milliseconds flush_interval{0};  // how long a partial batch may wait: 0 = send at once
  std::size_t buffer_events = 10000;         // bounded in-memory buffer: beyond, dropped
  std::size_t buffer_bytes = 64u << 20;
  std::chrono::milliseconds retry_initial{500};
  std::chrono::milliseconds retry_max{30000};
  std::chrono::milliseconds timeout{5000};   // connect and each I/O
  std::chrono::milliseconds shutdown_timeout{5000};
};

// Parses a URL (and its query options) into *config (defaults first). False with *error.
bool parse_export_url(std::string_view url, ExportConfig* config, std::string* error);

// Applies one option (key, value) as found in a URL query; false with *error on an unknown
// key or a bad value.
bool apply_export_option(ExportConfig* config, std::string_view key, std::string_view value,
                         std::string* error);

// A config-file entry: a URL string, or a map with `url` and options (lists and a `fields`
// map allowed). Errors name the key.
bool parse_export_yaml(const YAML::Node& node, ExportConfig* config, std::string* error);

// A config file's `exports:` value: one entry (as above) or a list of them. Appends to
// *configs; errors name the entry ("exports[2]: ...").
bool parse_export_list_yaml(const YAML::Node& node, std::vector<ExportConfig>* configs,
                            std::string* error);

// Durations: "250ms", "5s", "2m", "1h", or a number of seconds.
bool parse_duration(std::string_view s, std::chrono::milliseconds* out) noexcept;

}  // namespace vigil::exports

#endif  // VIGIL_EXPORT_EXPORT_CONFIG_HPP_
