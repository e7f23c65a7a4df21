// File opens: the path the program opens while serving a request. A blocked open fails with
// EACCES (-1, or NULL for fopen), as a permission error would.
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <dirent.h>
#include <sys/stat.h>

#include <initializer_list>
#include <type_traits>

#include "agent/hook_util.hpp"
#include "agent/real.hpp"

using vigil::agent::active;
using vigil::agent::Agent;
using vigil::agent::ErrnoSaver;
using vigil::agent::Guard;
namespace real = vigil::agent::real;

namespace {

bool blocks_path(const char* path, const char* function) {
  Agent* a = active();
  if (!a || !path || !a->config().check_paths || !a->has_requests_in_flight()) return false;
  Guard g;
  ErrnoSaver saver;
  return a->check_sink(vigil::Sink::of(vigil::SinkType::kPath, path), function).block;
}

// Calls `fn` with `args` unless a check of one of `paths` blocks it; a blocked call fails with
// EACCES and returns what the function returns on failure (-1, or NULL).
template <class Fn, class... Args>
auto checked(std::initializer_list<const char*> paths, const char* function, Fn fn, Args... args) {
  using Result = decltype(fn(args...));
  for (const char* path : paths) {
    if (blocks_path(path, function)) {
      errno = EACCES;
      if constexpr (std::is_pointer_v<Result>) return static_cast<Result>(nullptr);
      else return static_cast<Result>(-1);
    }
  }
  return fn(args...);
}

// open's mode argument exists only with O_CREAT or O_TMPFILE.
bool takes_mode(int flags) { return (flags & O_CREAT) || ((flags & O_TMPFILE) == O_TMPFILE); }

}  // namespace

// The mode argument of the open() family, read in the hook itself (a va_list cannot be handed
// on before va_start).
#define VIGIL_OPEN_MODE(flags)                         \
  mode_t mode = 0;                                     \
  if (takes_mode(flags)) {                             \
    va_list ap;                                        \
    va_start(ap, flags);                               \
    mode = static_cast<mode_t>(va_arg(ap, int));       \
    va_end(ap);                                        \
  }

extern "C" {

int open(const char* path, int flags, ...) {
  VIGIL_OPEN_MODE(flags)
  return checked({path}, "open", real::open_ptr(), path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  VIGIL_OPEN_MODE(flags)
  return checked({path}, "open64", real::open64_ptr(), path, flags, mode);
}

int openat(int dirfd, const char* path, int flags, ...) {
  VIGIL_OPEN_MODE(flags)
  return checked({path}, "openat", real::openat_ptr(), dirfd, path, flags, mode);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  VIGIL_OPEN_MODE(flags)
  return checked({path}, "openat64", real::openat64_ptr(), dirfd, path, flags, mode);
}

// _FORTIFY_SOURCE builds call these instead of open/openat (the 64 ones when also built with
// -D_FILE_OFFSET_BITS=64).
int __open_2(const char* path, int flags) {
  return checked({path}, "open", real::__open_2_ptr(), path, flags);
}

int __openat_2(int dirfd, const char* path, int flags) {
  return checked({path}, "openat", real::__openat_2_ptr(), dirfd, path, flags);
}

int __open64_2(const char* path, int flags) {
  return checked({path}, "open64", real::__open64_2_ptr(), path, flags);
}

int __openat64_2(int dirfd, const char* path, int flags) {
  return checked({path}, "openat64", real::__openat64_2_ptr(), dirfd, path, flags);
}

FILE* fopen(const char* path, const char* mode) {
  return checked({path}, "fopen", real::fopen_ptr(), path, mode);
}

FILE* fopen64(const char* path, const char* mode) {
  return checked({path}, "fopen64", real::fopen64_ptr(), path, mode);
}

int creat(const char* path, mode_t mode) {
  return checked({path}, "creat", real::creat_ptr(), path, mode);
}

int creat64(const char* path, mode_t mode) {
  return checked({path}, "creat64", real::creat64_ptr(), path, mode);
}

// Paths the program deletes, renames, links, creates as directories, truncates or lists: a
// traversal there deletes or exposes files outside the folder meant (an "remove my upload"
// route handed "../../config.php"). Each blocked call fails with EACCES as a permission error
// would (opendir: NULL).
int unlink(const char* path) { return checked({path}, "unlink", real::unlink_ptr(), path); }

// stdio's remove() unlinks through the C library's internal call, which the unlink hook does
// not see.
int remove(const char* path) { return checked({path}, "remove", real::remove_ptr(), path); }

int unlinkat(int dirfd, const char* path, int flags) {
  return checked({path}, "unlinkat", real::unlinkat_ptr(), dirfd, path, flags);
}

int rmdir(const char* path) { return checked({path}, "rmdir", real::rmdir_ptr(), path); }

int mkdir(const char* path, mode_t mode) {
  return checked({path}, "mkdir", real::mkdir_ptr(), path, mode);
}

int mkdirat(int dirfd, const char* path, mode_t mode) {
  return checked({path}, "mkdirat", real::mkdirat_ptr(), dirfd, path, mode);
}

int rename(const char* from, const char* to) {
  return checked({from, to}, "rename", real::rename_ptr(), from, to);
}

int renameat(int fromfd, const char* from, int tofd, const char* to) {
  return checked({from, to}, "renameat", real::renameat_ptr(), fromfd, from, tofd, to);
}

int renameat2(int fromfd, const char* from, int tofd, const char* to, unsigned int flags) {
  return checked({from, to}, "renameat2", real::renameat2_ptr(), fromfd, from, tofd, to, flags);
}

int link(const char* from, const char* to) {
  return checked({from, to}, "link", real::link_ptr(), from, to);
}

int symlink(const char* target, const char* path) {
  return checked({target, path}, "symlink", real::symlink_ptr(), target, path);
}

int truncate(const char* path, off_t length) {
  return checked({path}, "truncate", real::truncate_ptr(), path, length);
}

int truncate64(const char* path, off64_t length) {
  return checked({path}, "truncate64", real::truncate64_ptr(), path, length);
}

DIR* opendir(const char* path) { return checked({path}, "opendir", real::opendir_ptr(), path); }

}  // extern "C"
