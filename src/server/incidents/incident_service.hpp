// Reading and changing incidents: the ranked list, one incident with its events, facets and
// history, and the lifecycle (open, acknowledged, resolved, false_positive) with notes.
#ifndef VIGIL_SERVER_INCIDENTS_INCIDENT_SERVICE_HPP_
#define VIGIL_SERVER_INCIDENTS_INCIDENT_SERVICE_HPP_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/common/json.hpp"
#include "server/common/status.hpp"
#include "server/incidents/incident.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::incidents {

struct IncidentFilter {
  std::string app;
  std::vector<std::string> statuses;  // empty = any
  int min_outcome = 0;
  std::string rule, client_ip;
  std::int64_t since_ms = 0;          // last seen at or after
  int limit = 100, offset = 0;
};

class IncidentService {
 public:
  explicit IncidentService(storage::Database* db) : db_(db) {}

  // Most important first. *total is the number matching the filter.
  Json list(const IncidentFilter& filter, std::int64_t* total);
  std::optional<Incident> get(std::int64_t id);
  // The incident, its events (newest first, at most `events_limit`), top facets and history;
  // JSON text, or nullopt when there is no such incident.
  std::optional<std::string> detail(std::int64_t id, int events_limit);

  // PATCH: a new status and/or a note. Audited; each change is a history entry.
  Status update(const std::string& actor, const std::string& client_ip, std::int64_t id,
                const std::optional<std::string>& status, const std::optional<std::string>& note,
                Json* out);

 private:
  storage::Database* db_;
};

}  // namespace vigil::server::incidents

#endif  // VIGIL_SERVER_INCIDENTS_INCIDENT_SERVICE_HPP_
