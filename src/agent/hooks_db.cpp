// Database client libraries: the SQL text handed to SQLite, libpq and libmysqlclient/MariaDB.
// A blocked statement fails as the library reports failures: SQLITE_AUTH ("not authorized"),
// a null PGresult (PGRES_FATAL_ERROR), 0 from PQsend*, non-zero from mysql_*.
#include <atomic>
#include <cstdint>
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
enum class SqlCheck { kNotChecked, kAllowed, kBlocked };
[[gnu::always_inline]] inline SqlCheck check_sql(vigil::Dialect dialect, std::string_view sql,
                                                 const char* function) {
  Agent* a = active();
  if (!a || sql.empty() || !a->has_requests_in_flight()) return SqlCheck::kNotChecked;
  return a->check_sink_guarded(vigil::Sink::sql(dialect, sql), function).block ? SqlCheck::kBlocked
                                                                              : SqlCheck::kAllowed;
}
[[gnu::always_inline]] inline bool blocks_sql(vigil::Dialect dialect, std::string_view sql,
                                              const char* function) {
  return check_sql(dialect, sql, function) == SqlCheck::kBlocked;
}

// Statements a program prepares once and runs again: Python's sqlite3 module keeps up to 128 per
// connection, keyed by their text, and so do JDBC statement caches. The text was checked against
// the request that prepared it, never against a later request that runs the same text again
// (in monitor mode, an injection repeated with the same text was reported once; after a switch
// to block mode, a statement cached before it ran unchecked). So the first step of each run of a
// statement is checked too, except the first run after its prepare (which the prepare's check
// saw) and, on a thread that reads its requests, a run for the request the thread checked it for
// last. Per thread, a small table of the statements checked; a statement that falls out of it
// (or whose memory a new one reuses) is only checked once more.
struct CheckedStatement {
  const sqlite3_stmt* stmt;
  std::uint64_t serial;  // the thread's request when it was checked (0: none read yet)
  bool fresh;            // prepared, not run yet
};
constexpr std::size_t kCheckedStatements = 32;
thread_local CheckedStatement t_checked[kCheckedStatements]
    __attribute__((tls_model("initial-exec")));

inline CheckedStatement& checked_slot(const sqlite3_stmt* stmt) {
  const auto p = reinterpret_cast<std::uintptr_t>(stmt);
  return t_checked[((p >> 4) ^ (p >> 10)) % kCheckedStatements];
}

// After a prepare the agent checked and allowed.
[[gnu::always_inline]] inline int remember_prepared(int rc, sqlite3_stmt** stmt, bool checked) {
  if (checked && rc == 0 && stmt != nullptr && *stmt != nullptr)
    checked_slot(*stmt) = {*stmt, Agent::thread_request_serial(), true};
  return rc;
}

// True when this step needs no check: the first run after the prepare's check, or a run on a
// thread that has read no other request since it checked the statement. A thread that reads no
// requests (a pool running handlers for an event loop) has no request of its own to tell runs
// apart by: each of its runs is checked (at its first step; sqlite3_stmt_busy tells the others).
[[gnu::always_inline]] inline bool checked_for_this_request(const sqlite3_stmt* stmt) {
  CheckedStatement& slot = checked_slot(stmt);
  if (slot.stmt != stmt) return false;
  if (slot.fresh) {
    slot.fresh = false;
    return true;
  }
  const std::uint64_t serial = Agent::thread_request_serial();
  return slot.serial == serial && serial != 0;
}

// The first step of a run not checked for this thread's request: the statement's text (as
// prepared; unknown for the legacy sqlite3_prepare) checked as a prepare's is. Later steps of the
// same run pass: the text does not change between them.
[[gnu::noinline]] bool step_blocked(Agent* a, sqlite3_stmt* stmt) {
  const auto busy = real::sqlite3_stmt_busy_ptr();
  const auto text_of = real::sqlite3_sql_ptr();
  if (busy == nullptr || text_of == nullptr || busy(stmt) != 0) return false;
  const std::string_view sql = vigil::agent::cstr(text_of(stmt));
  if (sql.empty()) return false;
  const bool block =
      a->check_sink_guarded(vigil::Sink::sql(vigil::Dialect::kSqlite, sql), "sqlite3_step").block;
  if (!block) checked_slot(stmt) = {stmt, Agent::thread_request_serial(), false};
  return block;
}

// A statement the agent refuses fails as one that the connection's authorizer denies: SQLITE_AUTH,
// with the connection's error code and message ("not authorized") set, which bindings read to
// raise their error. With the return code alone, Python's sqlite3 raised SystemError ("returned
// NULL without setting an exception"), which the program's `except sqlite3.Error` does not catch,
// and other bindings showed a stale message. So an authorizer that denies on this thread is set
// for one prepare of "SELECT 1", then taken away; not where the program set an authorizer of its
// own (one connection's cannot be read back), where the return code alone says so.
using Authorizer = int (*)(void*, int, const char*, const char*, const char*, const char*);
constexpr int kSqliteDeny = 1;
std::atomic<bool> g_program_authorizer{false};
thread_local bool t_refusing __attribute__((tls_model("initial-exec"))) = false;

int refuse_on_this_thread(void*, int, const char*, const char*, const char*, const char*) {
  return t_refusing ? kSqliteDeny : 0;  // another thread's statement on the same connection runs
}

[[gnu::cold, gnu::noinline]] int refused(sqlite3* db) {
  const auto set_authorizer = real::sqlite3_set_authorizer_ptr();
  const auto prepare = real::sqlite3_prepare_v2_ptr();
  if (db == nullptr || set_authorizer == nullptr || prepare == nullptr ||
      g_program_authorizer.load(std::memory_order_relaxed))
    return kSqliteAuth;
  vigil::agent::Guard g;
  vigil::agent::ErrnoSaver saver;
  t_refusing = true;
  set_authorizer(db, refuse_on_this_thread, nullptr);
  sqlite3_stmt* stmt = nullptr;
  prepare(db, "SELECT 1", -1, &stmt, nullptr);
  set_authorizer(db, nullptr, nullptr);
  t_refusing = false;
  if (stmt != nullptr)  // a library built without authorization: nothing was denied
    if (const auto finalize = real::sqlite3_finalize_ptr()) finalize(stmt);
  return kSqliteAuth;
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
  const SqlCheck check = check_sql(vigil::Dialect::kSqlite, sqlite_text(sql, n), "sqlite3_prepare");
  if (check == SqlCheck::kBlocked) {
    if (stmt) *stmt = nullptr;
    return refused(db);
  }
  return remember_prepared(in_library(real::sqlite3_prepare_ptr(), db, sql, n, stmt, tail), stmt,
                           check == SqlCheck::kAllowed);
}

int sqlite3_prepare_v2(sqlite3* db, const char* sql, int n, sqlite3_stmt** stmt, const char** tail) {
  const SqlCheck check =
      check_sql(vigil::Dialect::kSqlite, sqlite_text(sql, n), "sqlite3_prepare_v2");
  if (check == SqlCheck::kBlocked) {
    if (stmt) *stmt = nullptr;
    return refused(db);
  }
  return remember_prepared(in_library(real::sqlite3_prepare_v2_ptr(), db, sql, n, stmt, tail),
                           stmt, check == SqlCheck::kAllowed);
}

int sqlite3_prepare_v3(sqlite3* db, const char* sql, int n, unsigned int flags, sqlite3_stmt** stmt,
                       const char** tail) {
  const SqlCheck check =
      check_sql(vigil::Dialect::kSqlite, sqlite_text(sql, n), "sqlite3_prepare_v3");
  if (check == SqlCheck::kBlocked) {
    if (stmt) *stmt = nullptr;
    return refused(db);
  }
  return remember_prepared(
      in_library(real::sqlite3_prepare_v3_ptr(), db, sql, n, flags, stmt, tail), stmt,
      check == SqlCheck::kAllowed);
}

// Not run in the library's guard: a function the program registered (sqlite3_create_function)
// runs inside the step, and its own calls are checked as the program's.
int sqlite3_step(sqlite3_stmt* stmt) {
  if (Agent* a = active(); a != nullptr && stmt != nullptr && a->has_requests_in_flight() &&
                           !checked_for_this_request(stmt)) [[unlikely]] {
    if (step_blocked(a, stmt)) {
      const auto db_of = real::sqlite3_db_handle_ptr();
      return refused(db_of != nullptr ? db_of(stmt) : nullptr);
    }
  }
  return real::sqlite3_step_ptr()(stmt);
}

int sqlite3_set_authorizer(sqlite3* db, Authorizer cb, void* arg) {
  if (cb != nullptr) g_program_authorizer.store(true, std::memory_order_relaxed);
  return real::sqlite3_set_authorizer_ptr()(db, cb, arg);
}

int sqlite3_exec(sqlite3* db, const char* sql, int (*cb)(void*, int, char**, char**), void* arg, char** err) {
  // sqlite3_exec prepares through the library's internal entry point, not the hooked one.
  if (blocks_sql(vigil::Dialect::kSqlite, sqlite_text(sql, -1), "sqlite3_exec")) {
    if (err) *err = nullptr;
    return refused(db);
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
