// A Vigil event (SPEC "Event", docs/events.md) as the exporters see it: the fields every
// format maps, each bounded in size, parsed once from the event's JSON and shared by every
// export. A summary (probes and suspicious signals of one app, rule and client over one
// interval) is an Event too, with `count` and the first and last times.
#ifndef VIGIL_EXPORT_EVENT_HPP_
#define VIGIL_EXPORT_EVENT_HPP_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::exports {

// Ordered: a filter "at least probed" keeps probed, blocked and exploited.
enum class Outcome : std::uint8_t { kSuspicious = 0, kProbed = 1, kBlocked = 2, kExploited = 3 };
enum class Severity : std::uint8_t { kLow = 0, kMedium = 1, kHigh = 2, kCritical = 3 };

const char* outcome_name(Outcome o) noexcept;    // "exploited", ...
const char* severity_name(Severity s) noexcept;  // "critical", ...
bool parse_outcome(std::string_view s, Outcome* o) noexcept;
bool parse_severity(std::string_view s, Severity* s_out) noexcept;
// The severity docs/events.md gives each outcome (exploited -> critical, ...).
Severity default_severity(Outcome o) noexcept;

// Size limits applied while parsing: a value longer than its limit is cut at a UTF-8 boundary
// and marked truncated. They bound every record any format builds from an Event.
struct EventLimits {
  std::size_t id = 64;            // event_id, request id
  std::size_t name = 256;         // app, rule, cwe, mode, method, input source/name, sink type...
  std::size_t path = 2048;        // request path
  std::size_t user_agent = 512;
  std::size_t input_value = 2048;
  std::size_t sink_value = 4096;
  std::size_t text = 1024;        // explanation reason and evidence, note
  std::size_t frames = 8;         // stack frames kept
  std::size_t tokens = 8;         // explanation tokens kept
};

struct Frame {
  std::string address, function, file, module;
  std::int64_t line = 0;
};

struct Token {
  std::string kind, text;
};

struct Event {
  std::string event_id;
  std::string time;             // as received (RFC 3339); format_rfc3339_ms(time_ms) if absent
  std::int64_t time_ms = 0;
  std::string app;
  Outcome outcome = Outcome::kSuspicious;
  std::string rule;
  Severity severity = Severity::kLow;
  std::string cwe;              // "CWE-89", or "" (then the rule table's CWE applies)
  std::string mode;

  struct Request {
    std::string method, path, client_ip, user_agent, id, user;
    // Optional: only when the event carries them (request.client_port, server_ip, server_port,
    // host); the agent does not send them today.
    int client_port = 0;
    std::string server_ip, host;
    int server_port = 0;
    bool path_truncated = false, user_agent_truncated = false;
  } request;

  bool has_input = false;
  struct Input {
    std::string source, name, value, form;
    bool value_truncated = false;
  } input;

  bool has_sink = false;
  struct Sink {
    std::string type, dialect, value, function;
    bool value_truncated = false;
  } sink;

  std::string reason, evidence, note;
  std::vector<Token> tokens;
  std::vector<Frame> stack;
  std::int64_t agent_pid = 0;
  std::string agent_version;

  // Summaries (built by an Exporter, never parsed): `count` events of this app, rule and
  // client between first_ms and last_ms. `event_id` is derived from the key and the
  // interval, so a re-sent summary carries the same id.
  bool summary = false;
  std::uint64_t count = 1;
  std::int64_t first_ms = 0, last_ms = 0;

  // Rough size in memory, for the exporters' byte bounds.
  std::size_t approx_bytes() const noexcept;
};

// Parses one event (a JSON object, UTF-8) into *event. Required: event_id (printable, at most
// 64 bytes), outcome (one of the four), rule. A missing or unknown severity is the outcome's;
// a missing or bad time is `now_ms`. Unknown fields are ignored. False with *error (a
// sentence naming the field) on anything else. Linear in the input; nesting depth bounded.
bool parse_event(std::string_view json, const EventLimits& limits, std::int64_t now_ms,
                 Event* event, std::string* error);

}  // namespace vigil::exports

#endif  // VIGIL_EXPORT_EVENT_HPP_
