// Database client libraries: the SQL text handed to SQLite, libpq and libmysqlclient/MariaDB.
// A blocked statement fails as the library reports failures: SQLITE_AUTH ("not authorized"),
// a null PGresult (PGRES_FATAL_ERROR), 0 from PQsend*, non-zero from mysql_*.
#include <string_view>

#include "agent/hook_util.hpp"
#include "agent/real.hpp"

using vigil::agent::active;
using vigil::agent::Agent;
namespace real = vigil::agent::real;

namespace {

constexpr int kSqliteAuth = 23;

// SQLite reads up to n bytes, or to the first NUL when n is negative; a NUL inside the n bytes
// also ends the statement.
std::string_view sqlite_text(const char* sql, long n) {
  if (!sql) return {};
  std::string_view all = n < 0 ? std::string_view(sql) : std::string_view(sql, static_cast<std::size_t>(n));
  return all.substr(0, all.find('\0'));
}

// Inlined into each hook: the gate, then one call into the agent (which takes the Guard and
// keeps errno), instead of a function of its own between the hook and the agent.
[[gnu::always_inline]] inline bool blocks_sql(vigil::Dialect dialect, std::string_view sql,
                                              const char* function) {
  Agent* a = active();
  if (!a || sql.empty() || !a->has_requests_in_flight()) return false;
  return a->check_sink_guarded(vigil::Sink::sql(dialect, sql), function).block;
}

// The library's own work runs with the hooks passed through: what it calls inside is not checked
// again (PQexec calls PQsendQuery, mysql_query calls mysql_real_query, and both write the
// statement on their socket, which the agent would otherwise read as a protocol stream).
template <class Fn, class... Args>
[[gnu::always_inline]] inline auto in_library(Fn fn, Args... args) {
  vigil::agent::Guard g;
  return fn(args...);
}

// A libpq connection's socket: its statements are checked at the API, its bytes not followed.
[[gnu::always_inline]] inline PGconn* pq_checked(PGconn* conn) {
  if (auto pq_socket = real::pq_socket_ptr(); pq_socket != nullptr && conn != nullptr)
    Agent::not_followed(pq_socket(conn));
  return conn;
}

}  // namespace

extern "C" {

int sqlite3_prepare(sqlite3* db, const char* sql, int n, sqlite3_stmt** stmt, const char** tail) {
  if (blocks_sql(vigil::Dialect::kSqlite, sqlite_text(sql, n), "sqlite3_prepare")) {
    if (stmt) *stmt = nullptr;
    return kSqliteAuth;
  }
  return in_library(real::sqlite3_prepare_ptr(), db, sql, n, stmt, tail);
}

int sqlite3_prepare_v2(sqlite3* db, const char* sql, int n, sqlite3_stmt** stmt, const char** tail) {
  if (blocks_sql(vigil::Dialect::kSqlite, sqlite_text(sql, n), "sqlite3_prepare_v2")) {
    if (stmt) *stmt = nullptr;
    return kSqliteAuth;
  }
  return in_library(real::sqlite3_prepare_v2_ptr(), db, sql, n, stmt, tail);
}

int sqlite3_prepare_v3(sqlite3* db, const char* sql, int n, unsigned int flags, sqlite3_stmt** stmt,
                       const char** tail) {
  if (blocks_sql(vigil::Dialect::kSqlite, sqlite_text(sql, n), "sqlite3_prepare_v3")) {
    if (stmt) *stmt = nullptr;
    return kSqliteAuth;
  }
  return in_library(real::sqlite3_prepare_v3_ptr(), db, sql, n, flags, stmt, tail);
}

int sqlite3_exec(sqlite3* db, const char* sql, int (*cb)(void*, int, char**, char**), void* arg, char** err) {
  // sqlite3_exec prepares through the library's internal entry point, not the hooked one.
  if (blocks_sql(vigil::Dialect::kSqlite, sqlite_text(sql, -1), "sqlite3_exec")) {
    if (err) *err = nullptr;
    return kSqliteAuth;
  }
  return in_library(real::sqlite3_exec_ptr(), db, sql, cb, arg, err);
}

PGresult* PQexec(PGconn* conn, const char* query) {
  if (blocks_sql(vigil::Dialect::kPostgres, vigil::agent::cstr(query), "PQexec")) return nullptr;
  return in_library(real::PQexec_ptr(), pq_checked(conn), query);
}

PGresult* PQexecParams(PGconn* conn, const char* command, int n, const Oid* types, const char* const* values,
                       const int* lengths, const int* formats, int result_format) {
  if (blocks_sql(vigil::Dialect::kPostgres, vigil::agent::cstr(command), "PQexecParams")) return nullptr;
  return in_library(real::PQexecParams_ptr(), pq_checked(conn), command, n, types, values, lengths,
                    formats, result_format);
}

PGresult* PQprepare(PGconn* conn, const char* name, const char* query, int n, const Oid* types) {
  if (blocks_sql(vigil::Dialect::kPostgres, vigil::agent::cstr(query), "PQprepare")) return nullptr;
  return in_library(real::PQprepare_ptr(), pq_checked(conn), name, query, n, types);
}

int PQsendQuery(PGconn* conn, const char* query) {
  if (blocks_sql(vigil::Dialect::kPostgres, vigil::agent::cstr(query), "PQsendQuery")) return 0;
  return in_library(real::PQsendQuery_ptr(), pq_checked(conn), query);
}

int PQsendQueryParams(PGconn* conn, const char* command, int n, const Oid* types, const char* const* values,
                      const int* lengths, const int* formats, int result_format) {
  if (blocks_sql(vigil::Dialect::kPostgres, vigil::agent::cstr(command), "PQsendQueryParams")) return 0;
  return in_library(real::PQsendQueryParams_ptr(), pq_checked(conn), command, n, types, values,
                    lengths, formats, result_format);
}

int PQsendPrepare(PGconn* conn, const char* name, const char* query, int n, const Oid* types) {
  if (blocks_sql(vigil::Dialect::kPostgres, vigil::agent::cstr(query), "PQsendPrepare")) return 0;
  return in_library(real::PQsendPrepare_ptr(), pq_checked(conn), name, query, n, types);
}

int mysql_query(MYSQL* mysql, const char* q) {
  if (blocks_sql(vigil::Dialect::kMysql, vigil::agent::cstr(q), "mysql_query")) return 1;
  return in_library(real::mysql_query_ptr(), mysql, q);
}

int mysql_real_query(MYSQL* mysql, const char* q, unsigned long n) {
  if (blocks_sql(vigil::Dialect::kMysql, q ? std::string_view(q, n) : std::string_view(), "mysql_real_query"))
    return 1;
  return in_library(real::mysql_real_query_ptr(), mysql, q, n);
}

int mysql_send_query(MYSQL* mysql, const char* q, unsigned long n) {
  if (blocks_sql(vigil::Dialect::kMysql, q ? std::string_view(q, n) : std::string_view(), "mysql_send_query"))
    return 1;
  return in_library(real::mysql_send_query_ptr(), mysql, q, n);
}

int mysql_stmt_prepare(MYSQL_STMT* stmt, const char* q, unsigned long n) {
  if (blocks_sql(vigil::Dialect::kMysql, q ? std::string_view(q, n) : std::string_view(), "mysql_stmt_prepare"))
    return 1;
  return in_library(real::mysql_stmt_prepare_ptr(), stmt, q, n);
}

}  // extern "C"
