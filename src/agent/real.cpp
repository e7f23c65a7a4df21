#include "agent/real.hpp"

#include <dlfcn.h>
#include <link.h>

#include <cstring>

namespace vigil::agent::real {
namespace {

struct Search {
  const char* name;
  void* self_base;
  void* found;
};

// Walks every loaded object; RTLD_NEXT cannot see libraries a program dlopen()ed with
// RTLD_LOCAL (Python's _sqlite3 loads libsqlite3 that way), yet their callers reach our hooks
// first because the preload is in the global scope.
int visit(struct dl_phdr_info* info, size_t, void* data) {
  auto* s = static_cast<Search*>(data);
  if (info->dlpi_name == nullptr || info->dlpi_name[0] == '\0') return 0;
  if (reinterpret_cast<void*>(info->dlpi_addr) == s->self_base) return 0;
  void* handle = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
  if (handle == nullptr) return 0;
  void* sym = dlsym(handle, s->name);
  dlclose(handle);
  if (sym == nullptr) return 0;
  Dl_info where{};
  if (dladdr(sym, &where) && where.dli_fbase == s->self_base) return 0;  // our own hook
  s->found = sym;
  return 1;
}

void* self_base() {
  static void* base = [] {
    Dl_info info{};
    dladdr(reinterpret_cast<void*>(&resolve), &info);
    return info.dli_fbase;
  }();
  return base;
}

}  // namespace

void* resolve(const char* name) noexcept {
  if (void* f = dlsym(RTLD_NEXT, name)) return f;
  Search s{name, self_base(), nullptr};
  dl_iterate_phdr(visit, &s);
  return s.found;
}

namespace {
template <typename Fn>
Fn lazy(std::atomic<Fn>& slot, const char* name, bool next = true) {
  Fn f = slot.load(std::memory_order_acquire);
  if (f == nullptr) {
    f = reinterpret_cast<Fn>(next ? resolve(name) : dlsym(RTLD_DEFAULT, name));
    slot.store(f, std::memory_order_release);
  }
  return f;
}
}  // namespace

open_fn open_ptr() noexcept {
  static std::atomic<open_fn> f{nullptr};
  return lazy(f, "open");
}
open_fn open64_ptr() noexcept {
  static std::atomic<open_fn> f{nullptr};
  return lazy(f, "open64");
}
openat_fn openat_ptr() noexcept {
  static std::atomic<openat_fn> f{nullptr};
  return lazy(f, "openat");
}
openat_fn openat64_ptr() noexcept {
  static std::atomic<openat_fn> f{nullptr};
  return lazy(f, "openat64");
}
syscall_fn syscall_ptr() noexcept {
  static std::atomic<syscall_fn> f{nullptr};
  return lazy(f, "syscall");
}
ssl_get_fd_fn ssl_get_fd_ptr() noexcept {
  static std::atomic<ssl_get_fd_fn> f{nullptr};
  return lazy(f, "SSL_get_fd", /*next=*/false);
}
pq_socket_fn pq_socket_ptr() noexcept {
  static std::atomic<pq_socket_fn> f{nullptr};
  return lazy(f, "PQsocket", /*next=*/false);
}
sqlite3_sql_fn sqlite3_sql_ptr() noexcept {
  static std::atomic<sqlite3_sql_fn> f{nullptr};
  return lazy(f, "sqlite3_sql");
}
sqlite3_stmt_busy_fn sqlite3_stmt_busy_ptr() noexcept {
  static std::atomic<sqlite3_stmt_busy_fn> f{nullptr};
  return lazy(f, "sqlite3_stmt_busy");
}
sqlite3_db_handle_fn sqlite3_db_handle_ptr() noexcept {
  static std::atomic<sqlite3_db_handle_fn> f{nullptr};
  return lazy(f, "sqlite3_db_handle");
}
sqlite3_finalize_fn sqlite3_finalize_ptr() noexcept {
  static std::atomic<sqlite3_finalize_fn> f{nullptr};
  return lazy(f, "sqlite3_finalize");
}

}  // namespace vigil::agent::real
