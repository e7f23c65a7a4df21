// File opens: the path the program opens while serving a request. A blocked open fails with
// EACCES (-1, or NULL for fopen), as a permission error would.
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
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

}  // extern "C"
