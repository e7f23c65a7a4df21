// An incident: the detections of one attacker against one application within a correlation
// window, grouped by attack family (incidents/correlator.hpp), ranked so that one exploited
// SQL injection outranks ten thousand scanner probes, and told in one sentence.
#ifndef VIGIL_SERVER_INCIDENTS_INCIDENT_HPP_
#define VIGIL_SERVER_INCIDENTS_INCIDENT_HPP_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/json.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::incidents {

// Lifecycle. Resolved and false-positive incidents are closed: new events of the same
// attacker open a new incident.
inline constexpr const char* kStatuses[] = {"open", "acknowledged", "resolved", "false_positive"};
bool valid_status(std::string_view s) noexcept;
bool closed_status(std::string_view s) noexcept;

struct Incident {
  std::int64_t id = 0;
  std::string app, attacker, client_ip, family, status = "open";
  int outcome = 0;                      // highest event outcome (ingest::Outcome rank)
  double score = 0, rank_key = 0;
  std::int64_t first_seen_ms = 0, last_seen_ms = 0;
  std::array<std::int64_t, 4> counts{};  // per outcome rank
  std::int64_t spread = 0;              // distinct routes and inputs touched
  std::string tool;
  // The most important event: the first of the highest outcome.
  std::string top_rule, top_route, top_input, top_sink, top_event;
  int top_outcome = -1;
  std::vector<std::string> rules, users;
  std::int64_t created_ms = 0, updated_ms = 0;

  std::int64_t events() const { return counts[0] + counts[1] + counts[2] + counts[3]; }
  bool closed() const { return closed_status(status); }
};

// The SELECT column list of an incident row, and its reader.
extern const char* const kIncidentColumns;
Incident incident_from_row(const storage::Row& row);

// Ranking. score (0-100): the outcome (exploited 75, blocked 50, probed 25, suspicious 5), plus
// volume (up to 10, logarithmic), spread over routes and inputs (up to 10), and several attack
// families (up to 5). rank_key orders the list: open incidents first, then score plus one point
// per six hours of recency, so a fresh probe outranks an exploit only after days.
double score_of(const Incident& i);
double rank_key_of(const Incident& i);

// "203.0.113.9 ran sqlmap against shop: SQL injection exploited on /product (id), 1,240 probes"
std::string summary_of(const Incident& i);
// "SQL injection", "path traversal", "XSS", ... (the rule itself when unknown).
std::string rule_label(std::string_view rule);

// The SPEC's incident object (and more: summary, attacker, tool, top event, ...).
Json incident_json(const Incident& i);

}  // namespace vigil::server::incidents

#endif  // VIGIL_SERVER_INCIDENTS_INCIDENT_HPP_
