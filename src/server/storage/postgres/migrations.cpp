// PostgreSQL migrations, one per schema version (storage/schema.cpp).
#include "server/storage/sql.hpp"

namespace vigil::server::storage {

const std::vector<Migration>& postgres_migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "users, tokens, keys, audit, agents, policies, events, incidents",
       render_schema(kSchemaV1, Dialect::kPostgres)},
      {2, "event indexes by outcome and by rule", render_schema(kSchemaV2, Dialect::kPostgres)},
      {3, "event counts per minute and per hour (GET /api/v1/stats)",
       render_schema(kSchemaV3, Dialect::kPostgres)},
      {4, "event index by client address; none by time alone",
       render_schema(kSchemaV4, Dialect::kPostgres)},
      {5, "incident indexes in list order, by status and by outcome",
       render_schema(kSchemaV5, Dialect::kPostgres)},
      {6, "no incident indexes that no query uses (by rank with closed, by attacker)",
       render_schema(kSchemaV6, Dialect::kPostgres)},
  };
  return kMigrations;
}

}  // namespace vigil::server::storage
