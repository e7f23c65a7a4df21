// Reading stored events: newest first, filtered, in pages (keyset pagination on (time, seq):
// a page costs the same at the millionth event as at the first).
#ifndef VIGIL_SERVER_INGEST_EVENT_QUERY_HPP_
#define VIGIL_SERVER_INGEST_EVENT_QUERY_HPP_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/common/status.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::ingest {

struct EventFilter {
  std::string app;               // "" = every application
  std::vector<int> outcomes;     // empty = any
  std::string rule, client_ip, attacker;
  std::int64_t incident_id = 0;  // 0 = any
  std::int64_t since_ms = 0, until_ms = INT64_MAX;
  int limit = 100;
  // Continue after this (time, seq): the previous page's next_cursor.
  bool after = false;
  std::int64_t after_time_ms = 0, after_seq = 0;
  bool oldest_first = false;     // an incident's timeline reads forward
};

// Parses "TIME.SEQ" (an opaque cursor from a previous page).
bool parse_cursor(const std::string& text, EventFilter* filter);

struct EventPage {
  std::string json;         // a JSON array of events, as the agents sent them (+ incident_id)
  std::size_t count = 0;
  std::string next_cursor;  // "" when this was the last page
};

EventPage query_events(storage::Database& db, const EventFilter& filter);
// The stored event (JSON text), or nullopt.
std::optional<std::string> get_event(storage::Database& db, const std::string& app,
                                     const std::string& event_id);

}  // namespace vigil::server::ingest

#endif  // VIGIL_SERVER_INGEST_EVENT_QUERY_HPP_
