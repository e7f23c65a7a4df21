// vigild's REST API (docs/server.md is its reference): the route table, built from one
// function per resource file. Handlers validate every input (size, type, charset), call the
// services, and answer JSON.
#ifndef VIGIL_SERVER_API_API_HPP_
#define VIGIL_SERVER_API_API_HPP_

#include <atomic>
#include <string>
#include <vector>

#include "server/common/status.hpp"
#include "server/http/router.hpp"

namespace vigil::exports {
class ExportSet;
}

namespace vigil::server {
struct Config;
namespace storage {
class Database;
}
namespace auth {
class AuthService;
}
namespace ingest {
class IngestQueue;
class AgentRegistry;
}
namespace incidents {
class IncidentService;
}
namespace policy {
class PolicyService;
}

namespace api {

// Everything the handlers use; owned by main().
struct Services {
  const Config* config = nullptr;
  storage::Database* db = nullptr;
  auth::AuthService* auth = nullptr;
  ingest::IngestQueue* ingest = nullptr;
  ingest::AgentRegistry* agents = nullptr;
  incidents::IncidentService* incidents = nullptr;
  policy::PolicyService* policy = nullptr;
  std::atomic<bool>* ready = nullptr;
  const vigil::exports::ExportSet* exports = nullptr;  // SOC exports, for GET /metrics (may be null)
  std::string version = "0.1.0";
};

std::vector<http::Route> build_routes(Services& s);

// The pieces, one per file.
void add_health_routes(Services& s, std::vector<http::Route>* routes);
void add_session_routes(Services& s, std::vector<http::Route>* routes);
void add_user_routes(Services& s, std::vector<http::Route>* routes);
void add_event_routes(Services& s, std::vector<http::Route>* routes);
void add_agent_routes(Services& s, std::vector<http::Route>* routes);
void add_incident_routes(Services& s, std::vector<http::Route>* routes);
void add_policy_routes(Services& s, std::vector<http::Route>* routes);
void add_stats_routes(Services& s, std::vector<http::Route>* routes);  // GET /api/v1/stats

// Helpers shared by the handlers.
http::Reply error_reply(const Status& status);
// A positive integer path or query parameter; false when malformed.
bool parse_id(const std::string& text, std::int64_t* out);
// ?limit=N bounded to [1, max], default `def`; false when malformed.
bool parse_limit(const http::Request& req, int def, int max, int* out);

}  // namespace api
}  // namespace vigil::server

#endif  // VIGIL_SERVER_API_API_HPP_
