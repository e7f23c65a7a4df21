// File opens: the path the program opens while serving a request. A blocked open fails with
// EACCES (-1, or NULL for fopen), as a permission error would.
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <dirent.h>
#include <sys/stat.h>

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

// open's mode argument exists only with O_CREAT or O_TMPFILE.
bool takes_mode(int flags) { return (flags & O_CREAT) || ((flags & O_TMPFILE) == O_TMPFILE); }

}  // namespace

extern "C" {

int open(const char* path, int flags, ...) {
  mode_t mode = 0;
  if (takes_mode(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  if (blocks_path(path, "open")) {
    errno = EACCES;
    return -1;
  }
  return real::open_ptr()(path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  mode_t mode = 0;
  if (takes_mode(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  if (blocks_path(path, "open64")) {
    errno = EACCES;
    return -1;
  }
  return real::open64_ptr()(path, flags, mode);
}

int openat(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if (takes_mode(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  if (blocks_path(path, "openat")) {
    errno = EACCES;
    return -1;
  }
  return real::openat_ptr()(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if (takes_mode(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  if (blocks_path(path, "openat64")) {
    errno = EACCES;
    return -1;
  }
  return real::openat64_ptr()(dirfd, path, flags, mode);
}

// _FORTIFY_SOURCE builds call these instead of open/openat (the 64 ones when also built with
// -D_FILE_OFFSET_BITS=64).
int __open_2(const char* path, int flags) {
  if (blocks_path(path, "open")) {
    errno = EACCES;
    return -1;
  }
  return real::__open_2_ptr()(path, flags);
}

int __openat_2(int dirfd, const char* path, int flags) {
  if (blocks_path(path, "openat")) {
    errno = EACCES;
    return -1;
  }
  return real::__openat_2_ptr()(dirfd, path, flags);
}

int __open64_2(const char* path, int flags) {
  if (blocks_path(path, "open64")) {
    errno = EACCES;
    return -1;
  }
  return real::__open64_2_ptr()(path, flags);
}

int __openat64_2(int dirfd, const char* path, int flags) {
  if (blocks_path(path, "openat64")) {
    errno = EACCES;
    return -1;
  }
  return real::__openat64_2_ptr()(dirfd, path, flags);
}

FILE* fopen(const char* path, const char* mode) {
  if (blocks_path(path, "fopen")) {
    errno = EACCES;
    return nullptr;
  }
  return real::fopen_ptr()(path, mode);
}

FILE* fopen64(const char* path, const char* mode) {
  if (blocks_path(path, "fopen64")) {
    errno = EACCES;
    return nullptr;
  }
  return real::fopen64_ptr()(path, mode);
}

int creat(const char* path, mode_t mode) {
  if (blocks_path(path, "creat")) {
    errno = EACCES;
    return -1;
  }
  return real::creat_ptr()(path, mode);
}

int creat64(const char* path, mode_t mode) {
  if (blocks_path(path, "creat64")) {
    errno = EACCES;
    return -1;
  }
  return real::creat64_ptr()(path, mode);
}

// Paths the program deletes, renames, links, creates as directories, truncates or lists: a
// traversal there deletes or exposes files outside the folder meant (an "remove my upload"
// route handed "../../config.php"). Each blocked call fails with EACCES as a permission error
// would (opendir: NULL).
int unlink(const char* path) {
  if (blocks_path(path, "unlink")) {
    errno = EACCES;
    return -1;
  }
  return real::unlink_ptr()(path);
}

// stdio's remove() unlinks through the C library's internal call, which the unlink hook does
// not see.
int remove(const char* path) {
  if (blocks_path(path, "remove")) {
    errno = EACCES;
    return -1;
  }
  return real::remove_ptr()(path);
}

int unlinkat(int dirfd, const char* path, int flags) {
  if (blocks_path(path, "unlinkat")) {
    errno = EACCES;
    return -1;
  }
  return real::unlinkat_ptr()(dirfd, path, flags);
}

int rmdir(const char* path) {
  if (blocks_path(path, "rmdir")) {
    errno = EACCES;
    return -1;
  }
  return real::rmdir_ptr()(path);
}

int mkdir(const char* path, mode_t mode) {
  if (blocks_path(path, "mkdir")) {
    errno = EACCES;
    return -1;
  }
  return real::mkdir_ptr()(path, mode);
}

int mkdirat(int dirfd, const char* path, mode_t mode) {
  if (blocks_path(path, "mkdirat")) {
    errno = EACCES;
    return -1;
  }
  return real::mkdirat_ptr()(dirfd, path, mode);
}

int rename(const char* from, const char* to) {
  if (blocks_path(from, "rename") || blocks_path(to, "rename")) {
    errno = EACCES;
    return -1;
  }
  return real::rename_ptr()(from, to);
}

int renameat(int fromfd, const char* from, int tofd, const char* to) {
  if (blocks_path(from, "renameat") || blocks_path(to, "renameat")) {
    errno = EACCES;
    return -1;
  }
  return real::renameat_ptr()(fromfd, from, tofd, to);
}

int renameat2(int fromfd, const char* from, int tofd, const char* to, unsigned int flags) {
  if (blocks_path(from, "renameat2") || blocks_path(to, "renameat2")) {
    errno = EACCES;
    return -1;
  }
  return real::renameat2_ptr()(fromfd, from, tofd, to, flags);
}

int link(const char* from, const char* to) {
  if (blocks_path(from, "link") || blocks_path(to, "link")) {
    errno = EACCES;
    return -1;
  }
  return real::link_ptr()(from, to);
}

int symlink(const char* target, const char* path) {
  if (blocks_path(target, "symlink") || blocks_path(path, "symlink")) {
    errno = EACCES;
    return -1;
  }
  return real::symlink_ptr()(target, path);
}

int truncate(const char* path, off_t length) {
  if (blocks_path(path, "truncate")) {
    errno = EACCES;
    return -1;
  }
  return real::truncate_ptr()(path, length);
}

int truncate64(const char* path, off64_t length) {
  if (blocks_path(path, "truncate64")) {
    errno = EACCES;
    return -1;
  }
  return real::truncate64_ptr()(path, length);
}

DIR* opendir(const char* path) {
  if (blocks_path(path, "opendir")) {
    errno = EACCES;
    return nullptr;
  }
  return real::opendir_ptr()(path);
}

}  // extern "C"
