// Agents: each registers and then heartbeats (host, pid, version, mode, policy version,
// counters). An agent that has not been heard from for three heartbeat intervals (or the
// configured quiet time) is "quiet": the sensor is blind, or its application is down.
#ifndef VIGIL_SERVER_INGEST_AGENTS_HPP_
#define VIGIL_SERVER_INGEST_AGENTS_HPP_

#include <cstdint>
#include <string>

#include "server/common/json.hpp"
#include "server/common/status.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::ingest {

struct Heartbeat {
  std::string app, agent_id, host, version, mode, client_ip;
  std::int64_t pid = 0, policy_version = 0, interval_s = 10;
  Json counters = Json::object();  // name -> integer
};

// Validates a heartbeat body (agent_id required); fills *out.
Status parse_heartbeat(const Json& body, const std::string& app, Heartbeat* out);

class AgentRegistry {
 public:
  AgentRegistry(storage::Database* db, std::int64_t quiet_after_ms)
      : db_(db), quiet_after_ms_(quiet_after_ms) {}

  void heartbeat(const Heartbeat& h);
  // Agents (of one application, or all), each with "state": "ok" or "quiet".
  Json list(const std::string& app);
  // One entry per known application: agents and quiet agents, policy version, open incidents.
  Json apps();

 private:
  bool quiet(std::int64_t last_seen_ms, std::int64_t interval_s, std::int64_t now) const;
  storage::Database* db_;
  std::int64_t quiet_after_ms_;
};

}  // namespace vigil::server::ingest

#endif  // VIGIL_SERVER_INGEST_AGENTS_HPP_
