// Syslog transports over UDP, TCP and TLS (OpenSSL).
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "export/transport.hpp"

namespace vigil::exports {
namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Opens a socket of `type` connected to host:port, trying each address, within `timeout`.
int connect_socket(const std::string& host, int port, int type, std::chrono::milliseconds timeout,
                   std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = type;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    *error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return -1;
  }
  const auto deadline = Clock::now() + timeout;
  int fd = -1;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
      *error = errno_text("socket");
      continue;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int n = ::poll(&p, 1, remaining_ms(deadline));
      int soerr = 0;
      socklen_t len = sizeof soerr;
      if (n == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0) break;
      errno = n == 0 ? ETIMEDOUT : soerr;
    }
    *error = errno_text(("connect " + host + ":" + service).c_str());
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) return -1;
  // Blocking from here on, each I/O bounded by the timeout.
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (type == SOCK_STREAM) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

// True when the peer has closed (or reset) a stream socket that should carry no data to us:
// syslog receivers never write, so anything readable is an EOF, an error, or (TLS) a record
// the caller must look at.
bool peer_closed_or_readable(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR));
}

// Syslog over TCP and TLS has no acknowledgement: a write that completed only reached our
// kernel. A receiver that stops with records still unread in its socket loses them (it resets
// the connection: RST, where a receiver that read everything closes with FIN), and we learn that
// the connection is gone only at the next batch. So each stream transport keeps what it wrote on
// the current connection until the connection has been seen open kReadGrace later (a live
// receiver reads within milliseconds); when the connection is found reset, or a write fails,
// what is kept is written again first on the next connection. A receiver may then see a record
// twice (same event id, which a SIEM can drop), rather than never.
class Unconfirmed {
 public:
  static constexpr auto kReadGrace = std::chrono::seconds(2);
  static constexpr std::size_t kMaxBytes = 4 << 20;

  // `framed`: records as written (octet-counted frames).
  void add(std::string framed) {
    bytes_ += framed.size();
    items_.push_back({std::move(framed), Clock::now()});
    while (bytes_ > kMaxBytes && items_.size() > 1) pop();
  }
  // The connection is open now: what was written kReadGrace ago has been read.
  void connection_open() {
    const auto read_by = Clock::now() - kReadGrace;
    while (!items_.empty() && items_.front().at <= read_by) pop();
  }
  bool empty() const noexcept { return items_.empty(); }
  // All of it was read.
  void clear() noexcept {
    items_.clear();
    bytes_ = 0;
  }
  // The connection was found closed: what it may not have delivered, to write again.
  std::string take() {
    std::string out;
    for (auto& i : items_) out += i.framed;
    items_.clear();
    bytes_ = 0;
    return out;
  }

 private:
  struct Item {
    std::string framed;
    Clock::time_point at;
  };
  void pop() {
    bytes_ -= items_.front().framed.size();
    items_.pop_front();
  }
  std::deque<Item> items_;
  std::size_t bytes_ = 0;
};

// After peer_closed_or_readable(): true when the peer reset the connection (it closed with data
// of ours unread, or our data reached it after it closed) rather than closed it in order.
bool peer_reset(int fd) {
  char c;
  ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

void frame(std::string* out, const std::string& record) {
  out->append(std::to_string(record.size()));
  out->push_back(' ');
  out->append(record);
}

class UdpTransport : public Transport {
 public:
  UdpTransport(std::string host, int port) : host_(std::move(host)), port_(port) {}
  ~UdpTransport() override { close(); }

  SendResult send(const std::vector<std::string>& records,
                  std::chrono::milliseconds timeout) noexcept override {
    if (fd_ < 0) {
      std::string error;
      fd_ = connect_socket(host_, port_, SOCK_DGRAM, timeout, &error);
      if (fd_ < 0) return SendResult::retry(error);
    }
    for (const auto& r : records) {
      if (::send(fd_, r.data(), r.size(), MSG_NOSIGNAL) < 0) {
        // ECONNREFUSED reports an earlier datagram's ICMP error; resend this batch.
        std::string e = errno_text("send");
        close();
        return SendResult::retry(e);
      }
    }
    return SendResult::ok();
  }
  void close() noexcept override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  std::string host_;
  int port_;
  int fd_ = -1;
};

// Syslog over a stream (TCP, TLS): octet-counted frames, and what a reset connection may not
// have delivered written again on the next one (Unconfirmed). The protocols differ only in how
// a connection is opened, written and looked at.
class StreamTransport : public Transport {
 public:
  SendResult send(const std::vector<std::string>& records,
                  std::chrono::milliseconds timeout) noexcept override {
    // A receiver that went away since the last batch: reconnect instead of writing into a
    // connection whose peer is gone (the kernel would accept the first write and lose it), and
    // write again what the old connection may not have delivered.
    if (connected()) {
      bool reset = false;
      if (!still_open(&reset)) {
        lost(reset);
        close();
      } else {
        unconfirmed_.connection_open();
      }
    }
    if (records.empty() && resend_.empty()) return SendResult::ok();  // settle(): only a look
    if (!connected()) {
      SendResult r = open(timeout);
      if (r.kind != SendResult::Kind::kOk) return r;
    }
    std::string batch;
    for (const auto& r : records) frame(&batch, r);
    std::string buf = resend_ + batch;
    std::string error;
    if (!write_all(buf, &error)) {
      lost(true);
      close();
      return SendResult::retry(error);  // resend_ is kept: the next connection writes it first
    }
    if (!resend_.empty()) unconfirmed_.add(std::move(resend_));
    resend_.clear();
    if (!batch.empty()) unconfirmed_.add(std::move(batch));
    return SendResult::ok();
  }
  SendResult settle(std::chrono::milliseconds timeout) noexcept override {
    // An empty batch: the connection is looked at, and what it lost is written again.
    return connected() || !resend_.empty() ? send({}, timeout) : SendResult::ok();
  }
  // The receiver's close is the confirmation: it reads what we wrote before our end, then
  // closes (rsyslog, syslog-ng). A reset means it did not read it all: written again on a new
  // connection (the exporter calls again). A receiver that neither closes nor resets within
  // `timeout` is judged as settle() would: what the open connection held for 2 s was read.
  SendResult finish(std::chrono::milliseconds timeout) noexcept override {
    SendResult r = settle(timeout);
    if (r.kind != SendResult::Kind::kOk || !connected() || unconfirmed_.empty()) return r;
    const auto deadline = Clock::now() + timeout;
    end_session();
    ::shutdown(fd_, SHUT_WR);
    char buf[512];
    for (;;) {
      pollfd p{fd_, POLLIN | POLLRDHUP, 0};
      int n = ::poll(&p, 1, remaining_ms(deadline));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      ssize_t got = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (got > 0 || (got < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)))
        continue;  // what the receiver sent (a TLS close_notify): read until its end
      if (got == 0) {
        unconfirmed_.clear();
        close();
        return SendResult::ok();
      }
      std::string e = errno_text("the receiver's end of the connection");
      lost(true);
      close();
      return SendResult::retry(e);
    }
    unconfirmed_.connection_open();
    lost(true);
    close();
    return unconfirmed() ? SendResult::retry("the receiver did not close the connection") : SendResult::ok();
  }
  bool unconfirmed() const noexcept override { return !unconfirmed_.empty() || !resend_.empty(); }

 protected:
  StreamTransport(std::string host, int port) : host_(std::move(host)), port_(port) {}

  virtual bool connected() const noexcept = 0;
  // Connects within `timeout`.
  virtual SendResult open(std::chrono::milliseconds timeout) = 0;
  // False when the connection is closed, with *reset when the peer reset it rather than
  // closed it in order.
  virtual bool still_open(bool* reset) = 0;
  // Writes all of `buf`; false (with *error) when the connection failed.
  virtual bool write_all(const std::string& buf, std::string* error) = 0;
  // Before our side of the connection ends (nothing more will be written): what the protocol
  // says at its end (TLS: close_notify). The receiver's records are then read from the socket
  // as they come: the connection is not used for the protocol again.
  virtual void end_session() noexcept {}

  // Connects the socket within `timeout`.
  SendResult open_socket(std::chrono::milliseconds timeout) {
    std::string error;
    fd_ = connect_socket(host_, port_, SOCK_STREAM, timeout, &error);
    return fd_ < 0 ? SendResult::retry(error) : SendResult::ok();
  }
  void close_socket() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  const std::string host_;
  const int port_;
  int fd_ = -1;

 private:
  // The connection ended: what it may not have delivered is written again (reset), or was
  // read (closed in order).
  void lost(bool reset) noexcept {
    try {
      if (reset) resend_ += unconfirmed_.take();
      else unconfirmed_.clear();
    } catch (...) {
      // std::bad_alloc: those records may be missing; nothing else to do.
    }
  }

  Unconfirmed unconfirmed_;
  std::string resend_;  // written first on the next connection
};

class TcpTransport : public StreamTransport {
 public:
  TcpTransport(std::string host, int port) : StreamTransport(std::move(host), port) {}
  ~TcpTransport() override { close(); }

  void close() noexcept override { close_socket(); }

 private:
  bool connected() const noexcept override { return fd_ >= 0; }
  SendResult open(std::chrono::milliseconds timeout) override { return open_socket(timeout); }
  bool still_open(bool* reset) override {
    if (!peer_closed_or_readable(fd_)) return true;
    *reset = peer_reset(fd_);
    return false;
  }
  bool write_all(const std::string& buf, std::string* error) override {
    std::size_t off = 0;
    while (off < buf.size()) {
      ssize_t n = ::send(fd_, buf.data() + off, buf.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        *error = errno_text("send");
        return false;
      }
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
};

std::string ssl_error_text(const char* what) {
  std::string out = what;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += ": ";
    out += buf;
  }
  return out;
}

bool is_ip_literal(const std::string& host) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

class TlsTransport : public StreamTransport {
 public:
  TlsTransport(std::string host, int port, SSL_CTX* ctx, bool verify)
      : StreamTransport(std::move(host), port), ctx_(ctx), verify_(verify) {}
  ~TlsTransport() override {
    close();
    SSL_CTX_free(ctx_);
  }

  void close() noexcept override {
    if (ssl_) {
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    close_socket();
  }

 private:
  bool connected() const noexcept override { return ssl_ != nullptr; }

  SendResult open(std::chrono::milliseconds timeout) override {
    if (SendResult r = open_socket(timeout); r.kind != SendResult::Kind::kOk) return r;
    ssl_ = SSL_new(ctx_);
    if (!ssl_) {
      close();
      return SendResult::retry(ssl_error_text("SSL_new"));
    }
    SSL_set_fd(ssl_, fd_);
    if (!is_ip_literal(host_)) SSL_set_tlsext_host_name(ssl_, host_.c_str());
    if (verify_) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
      if (is_ip_literal(host_)) X509_VERIFY_PARAM_set1_ip_asc(param, host_.c_str());
      else SSL_set1_host(ssl_, host_.c_str());
    }
    ERR_clear_error();
    if (SSL_connect(ssl_) != 1) {
      std::string e = ssl_error_text(("TLS handshake with " + host_).c_str());
      long v = SSL_get_verify_result(ssl_);
      if (v != X509_V_OK) e += std::string(" (") + X509_verify_cert_error_string(v) + ")";
      close();
      return SendResult::retry(e);
    }
    return SendResult::ok();
  }

  bool write_all(const std::string& buf, std::string* error) override {
    std::size_t off = 0;
    while (off < buf.size()) {
      ERR_clear_error();
      int n = SSL_write(ssl_, buf.data() + off,
                        static_cast<int>(std::min<std::size_t>(buf.size() - off, 1 << 30)));
      if (n <= 0) {
        *error = ssl_error_text("TLS write");
        return false;
      }
      off += static_cast<std::size_t>(n);
    }
    return true;
  }

  void end_session() noexcept override {
    ERR_clear_error();
    SSL_shutdown(ssl_);
  }

  // Reads whatever the server sent (TLS 1.3 session tickets, a close_notify) to tell.
  bool still_open(bool* reset) override {
    if (!peer_closed_or_readable(fd_)) return true;
    if (peer_reset(fd_)) {
      *reset = true;
      return false;
    }
    int flags = ::fcntl(fd_, F_GETFL);
    ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
    bool open = true;
    char buf[512];
    for (int i = 0; i < 64; ++i) {
      ERR_clear_error();
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n > 0) continue;  // unexpected application data: ignore
      int err = SSL_get_error(ssl_, n);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) open = false;
      break;
    }
    ::fcntl(fd_, F_SETFL, flags);
    return open;
  }

  SSL_CTX* ctx_;
  bool verify_;
  SSL* ssl_ = nullptr;
};

}  // namespace

std::unique_ptr<Transport> make_udp_transport(const std::string& host, int port) {
  return std::make_unique<UdpTransport>(host, port);
}

std::unique_ptr<Transport> make_tcp_transport(const std::string& host, int port) {
  return std::make_unique<TcpTransport>(host, port);
}

std::unique_ptr<Transport> make_tls_transport(const std::string& host, int port,
                                              const TlsOptions& tls, std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    *error = ssl_error_text("SSL_CTX_new");
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
  auto fail = [&](const std::string& what) -> std::unique_ptr<Transport> {
    *error = ssl_error_text(what.c_str());
    SSL_CTX_free(ctx);
    return nullptr;
  };
  if (tls.verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (!tls.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx, tls.ca_file.c_str(), nullptr) != 1)
        return fail("cannot load CA file " + tls.ca_file);
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return fail("cannot load the system CA certificates");
    }
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!tls.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1)
      return fail("cannot load certificate " + tls.cert_file);
    if (SSL_CTX_use_PrivateKey_file(ctx, (tls.key_file.empty() ? tls.cert_file : tls.key_file).c_str(),
                                    SSL_FILETYPE_PEM) != 1)
      return fail("cannot load private key");
  }
  return std::make_unique<TlsTransport>(host, port, ctx, tls.verify);
}

}  // namespace vigil::exports
