// The audit log: who changed a policy, a user, a key, a token or an incident, when, from
// where, and what. Written in the same transaction as the change it records, so the log and
// the data cannot disagree.
#ifndef VIGIL_SERVER_AUTH_AUDIT_HPP_
#define VIGIL_SERVER_AUTH_AUDIT_HPP_

#include <cstdint>
#include <string>

#include "server/common/json.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::auth {

struct AuditEntry {
  std::string actor;      // user name, "agent-key:ID", or "vigild"
  std::string action;     // "user.create", "key.revoke", "policy.update", "incident.update", ...
  std::string target;     // "user:ann", "key:12", "app:shop", "incident:7"
  Json details = Json::object();
  std::string client_ip;
};

// REQUIRES: `c` is in a write transaction.
void record_audit(storage::Connection& c, const AuditEntry& entry);

// Newest first; `before_id` > 0 pages back; a non-empty `target` keeps only its entries.
Json list_audit(storage::Database& db, int limit, std::int64_t before_id,
                const std::string& target);

}  // namespace vigil::server::auth

#endif  // VIGIL_SERVER_AUTH_AUDIT_HPP_
