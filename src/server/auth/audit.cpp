#include "server/auth/audit.hpp"

#include "server/common/time.hpp"

namespace vigil::server::auth {

void record_audit(storage::Connection& c, const AuditEntry& e) {
  c.exec(
      "INSERT INTO audit (time_ms, actor, action, target, details, client_ip) "
      "VALUES (?, ?, ?, ?, ?, ?)",
      {now_ms(), e.actor, e.action, e.target, dump_json(e.details), e.client_ip});
}

Json list_audit(storage::Database& db, int limit, std::int64_t before_id,
                const std::string& target) {
  auto rows = db.read([&](storage::Connection& c) {
    return c.query(
        "SELECT id, time_ms, actor, action, target, details, client_ip FROM audit "
        "WHERE id < ? AND (? = '' OR target = ?) ORDER BY id DESC LIMIT ?",
        {before_id > 0 ? before_id : INT64_MAX, target, target, std::int64_t{limit}});
  });
  Json out = Json::array();
  for (const auto& r : rows) {
    std::string err;
    auto details = parse_json(r.text(5), &err);
    out.push_back({{"id", r.integer(0)},
                   {"time", format_rfc3339(r.integer(1))},
                   {"actor", r.text(2)},
                   {"action", r.text(3)},
                   {"target", r.text(4)},
                   {"details", details ? *details : Json::object()},
                   {"client_ip", r.text(6)}});
  }
  return out;
}

}  // namespace vigil::server::auth
