// Parsing of an agent's event batch (POST /api/v1/events): a JSON array of SPEC events
// (docs/events.md). Every event is validated; the first bad one rejects the whole batch with
// a 400 naming the field ("events[3].outcome: ..."), so an acknowledged batch is always stored
// whole. Indexed fields are extracted and the event is re-serialised compactly for storage.
//
// Uses RapidJSON (the ingest hot path: several times faster than nlohmann::json here).
// Thread-compatible; never throws except std::bad_alloc.
#ifndef VIGIL_SERVER_INGEST_EVENT_BATCH_HPP_
#define VIGIL_SERVER_INGEST_EVENT_BATCH_HPP_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.hpp"

namespace vigil::server::ingest {

// Outcomes as ranks: higher is worse (exploited > blocked > probed > suspicious).
enum Outcome : int { kSuspicious = 0, kProbed = 1, kBlocked = 2, kExploited = 3 };
const char* outcome_name(int rank) noexcept;
int outcome_rank(std::string_view name) noexcept;  // -1 when unknown

struct EventRecord {
  std::string event_id;
  std::string app;
  std::int64_t time_ms = 0;
  std::int64_t received_ms = 0;
  int outcome = kSuspicious;
  std::string rule, family, severity;
  std::string client_ip, user, method, path, user_agent;
  std::string input_source, input_name;
  std::string sink_type;
  std::string tool;      // attack tool recognised from the User-Agent ("sqlmap"), or ""
  std::string attacker;  // correlation identity: "user:NAME" when known, else "ip:ADDR"
  std::int64_t incident_id = 0;  // set by the correlator
  bool duplicate = false;        // set by the writer: already stored (same app and event_id)
  std::string json;      // the event, compact, with "app" and "time" filled in
};

struct BatchLimits {
  std::size_t max_events = 10000;
  std::size_t max_event_bytes = 256 * 1024;
};

// Parses `body` for application `app` (the agent key's). Events may omit "app" (it is set) but
// may not name another application. A missing "time" is the receive time; a time more than
// five minutes ahead is clamped to it. On success fills *events (in batch order).
Status parse_event_batch(std::string_view body, const std::string& app, std::int64_t received_ms,
                         const BatchLimits& limits, std::vector<EventRecord>* events);

// The longest prefix of `text` of at most `max` bytes that ends on a UTF-8 character boundary
// (what truncate_utf8 copies), as a view.
inline std::string_view utf8_prefix(std::string_view text, std::size_t max) noexcept {
  if (text.size() <= max) return text;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xc0) == 0x80) --n;
  return text.substr(0, n);
}

// The attack family of a rule: its prefix before the first '.' or ':' ("sql-injection.union"
// -> "sql-injection").
std::string family_of(std::string_view rule);

// The attack tool a User-Agent names ("sqlmap/1.7#stable" -> "sqlmap"), or "".
std::string detect_tool(std::string_view user_agent);

}  // namespace vigil::server::ingest

#endif  // VIGIL_SERVER_INGEST_EVENT_BATCH_HPP_
