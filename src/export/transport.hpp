// Transports: where an exporter's records go. Each delivers a batch of finished records
// (syslog messages, HTTP bodies' records, file lines) and says whether the batch arrived, may
// be retried, or was refused for what it is.
//
// Contract for every transport: send() is called from one thread at a time (the exporter's
// worker), never throws, and returns within about `timeout` (connect, each write, each read).
// "Ok" means the receiver took every record as far as the protocol can tell: an HTTP 2xx, a
// file write(2), a TCP/TLS write that completed on a connection still open (and the syslog
// stream transports write records again on the next connection when the receiver reset the
// connection before it was seen open 2 s after them); UDP only knows the datagram left. After kRetry the exporter sends the same records again later: a receiver may
// then see a record twice (same event id), never a partial record.
#ifndef VIGIL_EXPORT_TRANSPORT_HPP_
#define VIGIL_EXPORT_TRANSPORT_HPP_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vigil::exports {

struct SendResult {
  enum class Kind {
    kOk,
    kRetry,     // unreachable, timed out, busy (429, 5xx), auth or route not there yet (401,
                // 403, 404): the same batch later
    kReject,    // the receiver refused the records themselves (400, 422): not retried
    kTooLarge,  // 413: retry with fewer records
  };
  Kind kind = Kind::kOk;
  std::string error;        // for the log and the metrics' last_error; never a secret
  int retry_after_ms = 0;   // the receiver's Retry-After, when it gave one
  static SendResult ok() { return {}; }
  static SendResult retry(std::string e, int after_ms = 0) {
    return {Kind::kRetry, std::move(e), after_ms};
  }
  static SendResult reject(std::string e) { return {Kind::kReject, std::move(e), 0}; }
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual SendResult send(const std::vector<std::string>& records,
                          std::chrono::milliseconds timeout) noexcept = 0;
  // Drops any connection (the next send reconnects). Idempotent.
  virtual void close() noexcept {}
  // Between batches, while unconfirmed(): looks after the records a batch wrote that the
  // protocol has not confirmed yet (the syslog stream transports: until their connection is
  // seen open 2 s after them). A connection found reset meanwhile is opened again and they are
  // written again then, rather than at the next batch, which may not come for hours. Returns as
  // send() would for that (kRetry: the receiver could not be reached).
  virtual SendResult settle(std::chrono::milliseconds timeout) noexcept { return SendResult::ok(); }
  // At shutdown, after the last batch, while unconfirmed(): confirms what it can as fast as
  // the protocol allows, and writes again what a reset lost (the syslog stream transports close
  // their side of the connection and wait for the receiver to close its own, which it does
  // once it has read everything before that). Returns as send() would.
  virtual SendResult finish(std::chrono::milliseconds timeout) noexcept { return settle(timeout); }
  // True while some records written are not confirmed yet: settle() is to be called again a
  // little later. Answers at once, without I/O. Transports that learn a batch's fate in send()
  // (HTTP, files, UDP) are never unconfirmed.
  virtual bool unconfirmed() const noexcept { return false; }
};

// --- syslog (RFC 5424 messages built by syslog_message(), export/syslog.hpp) ----------------

struct TlsOptions {
  std::string ca_file;    // PEM CA bundle; "" = the system's
  std::string cert_file;  // client certificate (mutual TLS), optional
  std::string key_file;
  bool verify = true;     // verify the server's certificate and name
};

// One datagram per record (RFC 5426).
std::unique_ptr<Transport> make_udp_transport(const std::string& host, int port);
// Octet-counting framing "LEN SP MSG" (RFC 6587 3.4.1); over TLS per RFC 5425. A connection
// found closed by the peer is reopened before the batch is written.
std::unique_ptr<Transport> make_tcp_transport(const std::string& host, int port);
std::unique_ptr<Transport> make_tls_transport(const std::string& host, int port,
                                              const TlsOptions& tls, std::string* error);

// --- HTTP(S) POST --------------------------------------------------------------------------

struct HttpOptions {
  std::string url;              // scheme://host[:port]/path[?query]
  enum class Body { kJsonArray, kJsonSingle, kConcatenated } body = Body::kJsonArray;
  std::string authorization;    // the Authorization header's value, or ""
  TlsOptions tls;
};
// kJsonArray: "[r1,r2,...]"; kJsonSingle: one record per POST (Slack, batch 1);
// kConcatenated: records separated by '\n' (Splunk HEC).
std::unique_ptr<Transport> make_http_transport(const HttpOptions& options, std::string* error);

// --- files ---------------------------------------------------------------------------------

struct FileOptions {
  std::string path;
  std::uint64_t max_bytes = 100ull << 20;  // rotate before a write would pass it
  int max_files = 5;                        // PATH.1 ... PATH.N kept
  bool fsync = false;
};
// One record per line, appended; rotation renames PATH -> PATH.1 -> ... and drops the oldest.
std::unique_ptr<Transport> make_file_transport(const FileOptions& options);

}  // namespace vigil::exports

#endif  // VIGIL_EXPORT_TRANSPORT_HPP_
