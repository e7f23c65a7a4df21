// The functions the agent interposes, as the next library in the lookup order defines them.
// real::name(args...) calls the real function; resolution is lazy and lock-free (a racing
// first call resolves twice, harmlessly). When a symbol does not exist (a database library
// the program never loaded), real::name_ptr() is null and the hook is never reached anyway.
#ifndef VIGIL_AGENT_REAL_HPP_
#define VIGIL_AGENT_REAL_HPP_

#include <dirent.h>
#include <netdb.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <atomic>

// Opaque client-library types: the agent needs none of their headers.
struct sqlite3;
struct sqlite3_stmt;
struct pg_conn;
struct pg_result;
typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
typedef unsigned int Oid;
struct st_mysql;
struct st_mysql_stmt;
typedef struct st_mysql MYSQL;
typedef struct st_mysql_stmt MYSQL_STMT;
struct ssl_st;
typedef struct ssl_st SSL;

namespace vigil::agent::real {

void* resolve(const char* name) noexcept;

#define VIGIL_HOOK(ret, name, params, args)                                  \
  using name##_fn = ret(*) params;                                           \
  inline name##_fn name##_ptr() noexcept {                                   \
    static std::atomic<name##_fn> fn{nullptr};                               \
    name##_fn f = fn.load(std::memory_order_acquire);                        \
    if (f == nullptr) {                                                      \
      f = reinterpret_cast<name##_fn>(resolve(#name));                       \
      fn.store(f, std::memory_order_release);                                \
    }                                                                        \
    return f;                                                                \
  }
#include "agent/hooks.def"
#undef VIGIL_HOOK

// The variadic and non-listed functions the agent wraps or calls.
using open_fn = int (*)(const char*, int, ...);
using openat_fn = int (*)(int, const char*, int, ...);
open_fn open_ptr() noexcept;
open_fn open64_ptr() noexcept;
openat_fn openat_ptr() noexcept;
openat_fn openat64_ptr() noexcept;
using syscall_fn = long (*)(long, ...);
syscall_fn syscall_ptr() noexcept;
using ssl_get_fd_fn = int (*)(const SSL*);
ssl_get_fd_fn ssl_get_fd_ptr() noexcept;
using pq_socket_fn = int (*)(const PGconn*);
pq_socket_fn pq_socket_ptr() noexcept;
// From the library whose sqlite3_step the hook calls (resolved the same way).
using sqlite3_sql_fn = const char* (*)(sqlite3_stmt*);
sqlite3_sql_fn sqlite3_sql_ptr() noexcept;
using sqlite3_stmt_busy_fn = int (*)(sqlite3_stmt*);
sqlite3_stmt_busy_fn sqlite3_stmt_busy_ptr() noexcept;
using sqlite3_db_handle_fn = sqlite3* (*)(sqlite3_stmt*);
sqlite3_db_handle_fn sqlite3_db_handle_ptr() noexcept;
using sqlite3_finalize_fn = int (*)(sqlite3_stmt*);
sqlite3_finalize_fn sqlite3_finalize_ptr() noexcept;

}  // namespace vigil::agent::real

#endif  // VIGIL_AGENT_REAL_HPP_
