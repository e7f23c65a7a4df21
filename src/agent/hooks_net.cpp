// Connections: accept, the bytes read and written on accepted sockets, close (and the other
// ways to close a descriptor); outbound
// destinations: getaddrinfo and connect; OpenSSL's SSL_read/SSL_write for programs that
// terminate TLS themselves.
#include <linux/close_range.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdarg>
#include <cstring>
#include <string>

#include "agent/hook_util.hpp"
#include "agent/real.hpp"

using vigil::agent::active;
using vigil::agent::Agent;
using vigil::agent::ErrnoSaver;
using vigil::agent::Guard;
namespace real = vigil::agent::real;

namespace {

// Hands bytes the program received to the agent; returns what the program should see.
// `tls`: the SSL* of decrypted bytes (null for a socket's bytes).
ssize_t after_read(Agent* a, int fd, const void* buf, ssize_t r, SSL* tls = nullptr) {
  if (r <= 0 || !a->is_tracked(fd)) return r;
  Guard g;
  ErrnoSaver saver;
  ssize_t shown = a->on_read(fd, static_cast<const char*>(buf), r, tls);
  if (shown < 0) saver.set(errno);
  return shown;
}

// The bytes of an iovec array, up to `n`, in a buffer this thread keeps (a vectored read or
// write costs no allocation; a large one's memory is not kept). REQUIRES: a Guard, so that a
// signal handler's hooked calls cannot reuse the buffer while it is in use.
thread_local std::string t_gathered __attribute__((tls_model("initial-exec")));
constexpr std::size_t kKeptGather = 64 * 1024;

std::string_view gather(const struct iovec* iov, int cnt, std::size_t n) {
  std::string& out = t_gathered;
  if (out.capacity() > kKeptGather) std::string().swap(out);
  out.clear();
  for (int i = 0; i < cnt && out.size() < n; ++i)
    out.append(static_cast<const char*>(iov[i].iov_base), std::min(iov[i].iov_len, n - out.size()));
  return out;
}

std::size_t total(const struct iovec* iov, int cnt) {
  std::size_t n = 0;
  for (int i = 0; i < cnt; ++i) n += iov[i].iov_len;
  return n;
}

// Lets the agent see bytes about to be written; false means "absorb them".
bool before_write(Agent* a, int fd, std::string_view data, SSL* tls = nullptr) {
  Guard g;
  ErrnoSaver saver;
  return a->on_write(fd, data, tls);
}

// The accepted connection an SSL object reads and writes, or -1.
int tls_fd(Agent* a, SSL* ssl) {
  auto get_fd = real::ssl_get_fd_ptr();
  int fd = get_fd && ssl ? get_fd(ssl) : -1;
  return fd >= 0 && a->is_tracked(fd) ? fd : -1;
}

// The first accepted connection creates the agent (Agent::arm).
Agent* serving_agent() {
  if (Guard::nested()) return nullptr;
  return Agent::arm();
}

// A write on a socket the program connected (Agent::on_outbound_write): false when it must
// fail (a database statement in it was blocked).
[[gnu::cold, gnu::noinline]] bool outbound_write(Agent* a, int fd, std::string_view data,
                                                 const char* function) {
  if (a->on_outbound_write(fd, data, function)) return true;
  errno = ECONNRESET;
  return false;
}

// What the write hooks do before the real call, for the `data` of a write of `n` bytes: false
// when the call must not be made, with *result what the hook returns instead (n after a block:
// absorbed; -1 when a database statement in it was blocked).
[[gnu::always_inline]] inline bool let_bytes(Agent* a, int fd, std::string_view data, size_t n,
                                             const char* function, ssize_t* result) {
  if (a->is_tracked(fd)) {
    if (before_write(a, fd, data)) return true;
    *result = static_cast<ssize_t>(n);
    return false;
  }
  if (Agent::is_outbound(fd) && !outbound_write(a, fd, data, function)) [[unlikely]] {
    *result = -1;
    return false;
  }
  return true;
}

// let_bytes for write, send and sendto, whose bytes are one buffer.
[[gnu::always_inline]] inline bool let_write(int fd, const void* buf, size_t n, const char* function,
                                             ssize_t* result) {
  Agent* a = active();
  return a == nullptr ||
         let_bytes(a, fd, std::string_view(static_cast<const char*>(buf), n), n, function, result);
}

}  // namespace

extern "C" {

// A program that does not ask for the peer's address (addr == NULL) gets none; the agent asks
// for it in the same call, which spares a getpeername() per connection.
int accept(int fd, struct sockaddr* addr, socklen_t* len) {
  sockaddr_storage own{};
  socklen_t own_len = sizeof own;
  bool ours = addr == nullptr && !Guard::nested() && Agent::get() != nullptr;
  int r = ours ? real::accept_ptr()(fd, reinterpret_cast<sockaddr*>(&own), &own_len)
               : real::accept_ptr()(fd, addr, len);
  if (Agent* a = r >= 0 ? serving_agent() : nullptr) {
    Guard g;
    ErrnoSaver saver;
    if (ours) a->on_accept(r, reinterpret_cast<sockaddr*>(&own), own_len);
    else a->on_accept(r, addr, len ? *len : 0);
  }
  return r;
}

int accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags) {
  sockaddr_storage own{};
  socklen_t own_len = sizeof own;
  bool ours = addr == nullptr && !Guard::nested() && Agent::get() != nullptr;
  int r = ours ? real::accept4_ptr()(fd, reinterpret_cast<sockaddr*>(&own), &own_len, flags)
               : real::accept4_ptr()(fd, addr, len, flags);
  if (Agent* a = r >= 0 ? serving_agent() : nullptr) {
    Guard g;
    ErrnoSaver saver;
    if (ours) a->on_accept(r, reinterpret_cast<sockaddr*>(&own), own_len);
    else a->on_accept(r, addr, len ? *len : 0);
  }
  return r;
}

ssize_t read(int fd, void* buf, size_t n) {
  ssize_t r = real::read_ptr()(fd, buf, n);
  if (Agent* a = active()) return after_read(a, fd, buf, r);
  return r;
}

ssize_t recv(int fd, void* buf, size_t n, int flags) {
  ssize_t r = real::recv_ptr()(fd, buf, n, flags);
  // MSG_PEEK leaves the bytes in the socket: they are seen when really read.
  if (Agent* a = active(); a && !(flags & MSG_PEEK)) return after_read(a, fd, buf, r);
  return r;
}

ssize_t recvfrom(int fd, void* buf, size_t n, int flags, struct sockaddr* from, socklen_t* len) {
  ssize_t r = real::recvfrom_ptr()(fd, buf, n, flags, from, len);
  if (Agent* a = active(); a && !(flags & MSG_PEEK)) return after_read(a, fd, buf, r);
  return r;
}

ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  ssize_t r = real::recvmsg_ptr()(fd, msg, flags);
  Agent* a = active();
  if (!a || r <= 0 || (flags & MSG_PEEK) || !a->is_tracked(fd) || msg == nullptr) return r;
  Guard g;  // from here a signal handler's calls pass through: the gathered bytes stay ours
  std::string_view bytes = gather(msg->msg_iov, static_cast<int>(msg->msg_iovlen), static_cast<std::size_t>(r));
  return after_read(a, fd, bytes.data(), r);
}

ssize_t readv(int fd, const struct iovec* iov, int cnt) {
  ssize_t r = real::readv_ptr()(fd, iov, cnt);
  Agent* a = active();
  if (!a || r <= 0 || !a->is_tracked(fd)) return r;
  Guard g;
  std::string_view bytes = gather(iov, cnt, static_cast<std::size_t>(r));
  return after_read(a, fd, bytes.data(), r);
}

// _FORTIFY_SOURCE builds call these instead of read, recv and recvfrom (real::__read_chk fails
// the program, as it expects, when n exceeds buflen; it reads through the C library's internal
// read, which is not hooked: the bytes are seen once).
ssize_t __read_chk(int fd, void* buf, size_t n, size_t buflen) {
  ssize_t r = real::__read_chk_ptr()(fd, buf, n, buflen);
  if (Agent* a = active()) return after_read(a, fd, buf, r);
  return r;
}

ssize_t __recv_chk(int fd, void* buf, size_t n, size_t buflen, int flags) {
  ssize_t r = real::__recv_chk_ptr()(fd, buf, n, buflen, flags);
  if (Agent* a = active(); a && !(flags & MSG_PEEK)) return after_read(a, fd, buf, r);
  return r;
}

ssize_t __recvfrom_chk(int fd, void* buf, size_t n, size_t buflen, int flags,
                       struct sockaddr* from, socklen_t* len) {
  ssize_t r = real::__recvfrom_chk_ptr()(fd, buf, n, buflen, flags, from, len);
  if (Agent* a = active(); a && !(flags & MSG_PEEK)) return after_read(a, fd, buf, r);
  return r;
}

ssize_t write(int fd, const void* buf, size_t n) {
  ssize_t result;
  if (!let_write(fd, buf, n, "write", &result)) return result;
  return real::write_ptr()(fd, buf, n);
}

ssize_t send(int fd, const void* buf, size_t n, int flags) {
  ssize_t result;
  if (!let_write(fd, buf, n, "send", &result)) return result;
  return real::send_ptr()(fd, buf, n, flags);
}

ssize_t sendto(int fd, const void* buf, size_t n, int flags, const struct sockaddr* to,
               socklen_t len) {
  ssize_t result;
  if (!let_write(fd, buf, n, "sendto", &result)) return result;
  return real::sendto_ptr()(fd, buf, n, flags, to, len);
}

ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  if (Agent* a = active(); a && msg && (a->is_tracked(fd) || Agent::is_outbound(fd))) {
    Guard g;
    std::size_t n = total(msg->msg_iov, static_cast<int>(msg->msg_iovlen));
    std::string_view bytes = gather(msg->msg_iov, static_cast<int>(msg->msg_iovlen), n);
    if (ssize_t result; !let_bytes(a, fd, bytes, n, "sendmsg", &result)) return result;
  }
  return real::sendmsg_ptr()(fd, msg, flags);
}

ssize_t writev(int fd, const struct iovec* iov, int cnt) {
  if (Agent* a = active(); a && (a->is_tracked(fd) || Agent::is_outbound(fd))) {
    Guard g;
    std::size_t n = total(iov, cnt);
    std::string_view bytes = gather(iov, cnt, n);
    if (ssize_t result; !let_bytes(a, fd, bytes, n, "writev", &result)) return result;
  }
  return real::writev_ptr()(fd, iov, cnt);
}

namespace {

// Whether `fd` is something the agent follows: a connection, or an outbound socket (those are
// known before the agent exists).
bool followed(const Agent* a, int fd) { return (a && a->is_tracked(fd)) || Agent::is_outbound(fd); }

// A followed `fd` closes: the agent forgets it. Called before the program's close (once closed,
// its number may come back at once, from another thread's accept or pipe). A connection the
// agent did not hear close stays in its table, and a pipe or file that gets its number later is
// read as that connection: blocked, it would read nothing and write nowhere.
void forget_followed(Agent* a, int fd) {
  if (a && a->is_tracked(fd)) {
    Guard g;
    ErrnoSaver saver;
    a->on_close(fd);
  } else if (!Guard::nested()) {
    Guard g;
    Agent::on_outbound_close(fd);
  }
}

// Not in a child of vfork(): it runs on the memory of the process the agent belongs to, whose
// descriptors its closes do not close (Python's subprocess closes what the child inherited,
// with close_range, in such a child). own_process() is a getpid(): asked only when it matters.
void forget(int fd) {
  Agent* a = active();
  if (!followed(a, fd)) return;
  if (a && !a->own_process()) [[unlikely]] return;
  forget_followed(a, fd);
}

// close_range() and closefrom(): the descriptors in [first, last] (none past the agent's
// tables). Python's subprocess calls it in every child it starts, most of them vfork()ed: one
// getpid() then, and in a fork()ed child a look at two flags per descriptor.
void forget_range(unsigned long first, unsigned long last) {
  Agent* a = active();
  if (a && !a->own_process()) return;
  const unsigned long end = std::min<unsigned long>(last, Agent::tracked_fd_limit() - 1);
  for (unsigned long fd = first; fd <= end; ++fd) {
    const int d = static_cast<int>(fd);
    if (followed(a, d)) [[unlikely]] forget_followed(a, d);
  }
}

}  // namespace

int close(int fd) {
  forget(fd);
  return real::close_ptr()(fd);
}

int close_range(unsigned int first, unsigned int last, int flags) {
  if ((flags & CLOSE_RANGE_CLOEXEC) == 0) forget_range(first, last);
  return real::close_range_ptr()(first, last, flags);
}

void closefrom(int lowfd) {
  forget_range(static_cast<unsigned int>(std::max(lowfd, 0)), UINT_MAX);
  real::closefrom_ptr()(lowfd);
}

// dup2() and dup3() close `newfd` first when it is open. Forgotten after the call: until then
// the connection is still the program's (the call may fail), and after it `newfd` is taken, so
// no accept can be handed that number in between.
int dup2(int oldfd, int newfd) {
  int r = real::dup2_ptr()(oldfd, newfd);
  if (r >= 0 && oldfd != newfd) forget(newfd);
  return r;
}

int dup3(int oldfd, int newfd, int flags) {
  int r = real::dup3_ptr()(oldfd, newfd, flags);
  if (r >= 0) forget(newfd);
  return r;
}

// syscall(SYS_close, fd): how libuv (Node.js) closes every descriptor, so that no thread
// cancellation point is reached; the same for the range and dup calls. The arguments are
// passed on as the six registers a system call takes, whatever the call (as the C library's
// own syscall() does).
long syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (long& arg : a) arg = va_arg(ap, long);
  va_end(ap);
  switch (number) {
    case SYS_close:
      forget(static_cast<int>(a[0]));
      break;
    case SYS_close_range:
      if ((a[2] & CLOSE_RANGE_CLOEXEC) == 0)
        forget_range(static_cast<unsigned int>(a[0]), static_cast<unsigned int>(a[1]));
      break;
    default:
      break;
  }
  long r = real::syscall_ptr()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
#ifdef SYS_dup2  // (not on every architecture: dup3 is)
  if (number == SYS_dup2 && r >= 0 && a[0] != a[1]) [[unlikely]] forget(static_cast<int>(a[1]));
#endif
  if (number == SYS_dup3 && r >= 0) [[unlikely]] forget(static_cast<int>(a[1]));
  return r;
}

int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints,
                struct addrinfo** res) {
  int r = real::getaddrinfo_ptr()(node, service, hints, res);
  if (Agent* a = active(); a && r == 0 && res && a->has_requests_in_flight()) {
    Guard g;
    ErrnoSaver saver;
    a->note_lookup(node, *res);
  }
  return r;
}

int connect(int fd, const struct sockaddr* addr, socklen_t len) {
  if (Agent* a = active(); a && a->has_requests_in_flight()) {
    bool block;
    {
      Guard g;
      ErrnoSaver saver;
      block = a->check_connect(addr, len).block;
    }
    if (block) {
      errno = ECONNREFUSED;
      return -1;
    }
  }
  int r = real::connect_ptr()(fd, addr, len);
  // A connection of the program's own (not the agent's), perhaps to a database whose driver
  // speaks its protocol itself: its writes are followed (Agent::on_outbound_write).
  if ((r == 0 || errno == EINPROGRESS) && addr != nullptr && !Guard::nested() &&
      (addr->sa_family == AF_INET || addr->sa_family == AF_INET6 || addr->sa_family == AF_UNIX))
    Agent::note_connected(fd);
  return r;
}

// TLS: the decrypted bytes of a connection the program accepted. SSL_get_fd ties them to it.
int SSL_read(SSL* ssl, void* buf, int n) {
  int r = real::SSL_read_ptr()(ssl, buf, n);
  Agent* a = active();
  if (!a || r <= 0) return r;
  int fd = tls_fd(a, ssl);
  if (fd < 0) return r;
  ssize_t shown = after_read(a, fd, buf, r, ssl);
  return shown < 0 ? -1 : static_cast<int>(shown);
}

// Returns 1 with *got > 0 on success, 0 otherwise (a blocked request: the program reads an
// end of stream, as SSL_read's 0).
int SSL_read_ex(SSL* ssl, void* buf, size_t n, size_t* got) {
  int ok = real::SSL_read_ex_ptr()(ssl, buf, n, got);
  Agent* a = active();
  if (!a || ok != 1 || got == nullptr || *got == 0 || *got > SSIZE_MAX) return ok;
  int fd = tls_fd(a, ssl);
  if (fd < 0) return ok;
  ssize_t shown = after_read(a, fd, buf, static_cast<ssize_t>(*got), ssl);
  if (shown <= 0) {
    *got = 0;
    return 0;
  }
  *got = static_cast<size_t>(shown);
  return 1;
}

int SSL_write(SSL* ssl, const void* buf, int n) {
  if (Agent* a = active(); a && n > 0) {
    int fd = tls_fd(a, ssl);
    if (fd >= 0 &&
        !before_write(a, fd, std::string_view(static_cast<const char*>(buf), static_cast<std::size_t>(n)), ssl))
      return n;
  }
  return real::SSL_write_ptr()(ssl, buf, n);
}

int SSL_write_ex(SSL* ssl, const void* buf, size_t n, size_t* written) {
  if (Agent* a = active(); a && n > 0) {
    int fd = tls_fd(a, ssl);
    if (fd >= 0 && !before_write(a, fd, std::string_view(static_cast<const char*>(buf), n), ssl)) {
      if (written != nullptr) *written = n;  // absorbed after a block: reported as written
      return 1;
    }
  }
  return real::SSL_write_ex_ptr()(ssl, buf, n, written);
}

}  // extern "C"
