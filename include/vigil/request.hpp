// Vigil request model: an HTTP request turned into the inputs an application will see.
//
//   vigil::Header headers[] = {{"Content-Type", "application/json"}};
//   vigil::HttpRequest req{"POST", "/api/users?id=7", headers, R"({"name":"x"})", "192.0.2.1"};
//   vigil::RequestContext ctx;            // reusable: parse() resets it
//   ctx.parse(req);
//   for (const vigil::Input& in : ctx.inputs()) ...   // query id=7, json name=x, ...
//
// Decoding is done exactly as applications do it (percent, '+', UTF-8, %uXXXX); each Input's
// value is what the application receives. Every limit (count, depth, size) is configurable and
// reported in diagnostics() when hit: nothing is dropped silently.
//
// A RequestContext borrows the HttpRequest's bytes: they must outlive the context's use (until
// the next parse() or destruction). Thread-compatible: one thread at a time. Never throws
// except std::bad_alloc.
#ifndef VIGIL_REQUEST_HPP_
#define VIGIL_REQUEST_HPP_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/engine.hpp"

namespace vigil {

struct Header {
  std::string_view name;
  std::string_view value;
};

// A request as received: request line parts, headers in order, the (de-chunked) body, and the
// address of the TCP peer.
struct HttpRequest {
  std::string_view method;
  std::string_view uri;  // request-target as sent: origin-form "/p?q", or absolute-form
  std::span<const Header> headers;
  std::string_view body;
  std::string_view peer;  // textual IPv4/IPv6 address of the connection's peer
  // RequestAnomaly bits the reader of the connection met and the fields do not show (a chunked
  // body that was not chunked); RequestContext::anomalies() includes them.
  std::uint32_t anomalies = 0;
};

struct RequestLimits {
  std::size_t max_inputs = 1024;         // inputs recorded per request
  std::size_t max_headers = 256;         // header lines examined
  std::size_t max_body_bytes = 8 << 20;  // body bytes parsed into inputs
  std::size_t max_json_depth = 64;       // JSON nesting beyond this is reported (values below
                                         // it are still inputs, by a cut key path)
  std::size_t max_multipart_parts = 256;
  std::size_t max_key_path_bytes = 512;  // longer JSON/XML key paths are cut (and reported)
};

// Addresses whose X-Forwarded-For / Forwarded claims are believed (e.g. the load balancer).
// Empty by default: the client is the TCP peer.
struct TrustedProxies {
  std::vector<std::string> cidrs;  // "10.0.0.0/8", "::1/128", "192.0.2.7"
};

// Something the parser met that a person should know: a limit hit, a malformed body.
struct RequestDiagnostic {
  std::string code;     // "limit.json_depth", "malformed.json", "malformed.multipart", ...
  std::string message;  // one sentence
};

// Protocol anomalies, the raw material of `suspicious` signals.
enum RequestAnomaly : std::uint32_t {
  kAnomalyNone = 0,
  kAnomalyBadMethod = 1u << 0,         // not an RFC 9110 token
  kAnomalyBadUri = 1u << 1,            // control bytes, or not origin/absolute/asterisk form
  kAnomalyBadPercent = 1u << 2,        // '%' not followed by two hex digits
  kAnomalyNulByte = 1u << 3,           // NUL in URI, header or decoded input
  kAnomalyBadHeader = 1u << 4,         // invalid header name or CR/LF in a value
  kAnomalyDuplicateLength = 1u << 5,   // several Content-Length / CL with Transfer-Encoding
  kAnomalyBodyMismatch = 1u << 6,      // body not parseable as its Content-Type says
  kAnomalyXmlDoctype = 1u << 7,        // an XML body declares a DOCTYPE
  kAnomalyOverlongUtf8 = 1u << 8,      // overlong or invalid UTF-8 after decoding (%c0%ae)
  kAnomalyLimitHit = 1u << 9,          // a RequestLimits bound was reached
  // Where the body ends depends on who reads it: Content-Length values that differ or are not
  // a number, or a Content-Length beside Transfer-Encoding (request smuggling, CWE-444).
  kAnomalyAmbiguousLength = 1u << 10,
};

class RequestContext {
 public:
  explicit RequestContext(RequestLimits limits = {});
  ~RequestContext();
  RequestContext(const RequestContext&) = delete;
  RequestContext& operator=(const RequestContext&) = delete;

  // Parses `request` into inputs, replacing whatever the context held. `proxies` may be null.
  void parse(const HttpRequest& request, const TrustedProxies* proxies = nullptr);

  // Inputs in request order: path segments, query, headers, cookies, body.
  std::span<const Input> inputs() const noexcept;

  std::string_view method() const noexcept;
  std::string_view path() const noexcept;       // decoded path, without the query
  std::string_view raw_path() const noexcept;   // path as sent
  std::string_view query() const noexcept;      // raw query string (without '?')
  std::string_view client_ip() const noexcept;  // after trusted-proxy resolution
  std::string_view header(std::string_view name) const noexcept;  // first match, any case
  std::string_view user_agent() const noexcept { return header("user-agent"); }
  std::string_view content_type() const noexcept { return header("content-type"); }

  std::uint32_t anomalies() const noexcept;
  std::span<const RequestDiagnostic> diagnostics() const noexcept;

  // Bytes of memory this context holds (for the "memory per request context" report).
  std::size_t memory_bytes() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil

#endif  // VIGIL_REQUEST_HPP_
