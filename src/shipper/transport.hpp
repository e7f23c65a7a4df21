// How the shipper talks to vigild: one request at a time from the shipper's threads.
// HttpTransport is cpp-httplib's client (HTTP and HTTPS, keep-alive); tests substitute their own.
#ifndef VIGIL_SHIPPER_TRANSPORT_HPP_
#define VIGIL_SHIPPER_TRANSPORT_HPP_

#include <chrono>
#include <memory>
#include <string>

namespace vigil::shipper {

struct Response {
  int status = 0;         // 0: no answer (connection refused, timeout, TLS failure)
  std::string body;
  int retry_after_s = 0;  // from Retry-After, when given
  std::string error;      // why there was no answer
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Never throws.
  virtual Response post(const std::string& path, const std::string& body) noexcept = 0;
  virtual Response get(const std::string& path, std::chrono::seconds timeout) noexcept = 0;
  // Aborts requests in flight on other threads (they return with no answer). Never throws.
  virtual void cancel() noexcept {}
  // Nothing more to send for now: close the calling thread's kept-alive connection (vigild
  // serves one connection per worker thread; an idle agent should not hold one).
  virtual void idle() noexcept {}
};

struct HttpOptions {
  std::string url;   // "http://host:port" or "https://host:port"
  std::string key;   // agent key: Authorization: Bearer KEY
  std::string ca_file;  // HTTPS: trust this CA (self-signed servers); default: the system's
  bool verify_tls = true;
  std::chrono::seconds timeout{10};
};

// Null when the URL is malformed (*error says why).
std::unique_ptr<Transport> make_http_transport(const HttpOptions& options, std::string* error);

}  // namespace vigil::shipper

#endif  // VIGIL_SHIPPER_TRANSPORT_HPP_
