// Incremental HTTP/1.1 request parser for bytes captured off a connection (the agent's view of
// a server's socket): keep-alive, pipelining, partial reads, Content-Length and chunked bodies,
// Expect: 100-continue. Each complete request is handed out whole (method, target, headers,
// de-chunked body), owning its bytes.
//
// Bounded: a header block larger than max_header_bytes is a protocol error (the connection is
// then ignored); body bytes beyond max_body_bytes are counted, not kept (the request says so).
// Linear in the bytes fed. Thread-compatible (one parser per connection).
#ifndef VIGIL_CORE_CONTEXT_HTTP1_PARSER_HPP_
#define VIGIL_CORE_CONTEXT_HTTP1_PARSER_HPP_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/request.hpp"

namespace vigil::context {

// A complete request as the parser delivers it.
struct ParsedRequest {
  std::string method, target, version;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;               // de-chunked, at most max_body_bytes
  std::uint64_t body_length = 0;  // the whole body's length, kept or not
  bool body_truncated = false;
  bool expect_continue = false;

  // Views for RequestContext::parse (valid while *this lives and is unchanged).
  std::vector<Header> header_views() const;
};

class Http1Parser {
 public:
  struct Limits {
    std::size_t max_header_bytes = 64 * 1024;
    std::size_t max_body_bytes = 1 << 20;
  };

  enum class Status : std::uint8_t {
    kNeedMore,  // nothing complete yet
    kRequest,   // a request is complete: take_request()
    kError,     // not HTTP/1.x (or beyond limits): stop feeding this connection
  };

  Http1Parser() : Http1Parser(Limits{}) {}
  explicit Http1Parser(Limits limits);

  // Feeds captured bytes. Returns kRequest as soon as one request is complete; the rest of the
  // bytes stay buffered: call next() to continue with them (pipelining).
  Status feed(std::string_view bytes);
  Status next() { return feed({}); }

  // The completed request (valid after kRequest until the next feed/next).
  ParsedRequest& request() { return request_; }

  // True while a request has started but is not complete (headers seen, body pending).
  bool in_body() const noexcept {
    return state_ == State::kBody || (state_ >= State::kChunkSize && state_ <= State::kTrailers);
  }
  bool headers_complete() const noexcept { return state_ != State::kHead; }
  const std::string& error() const noexcept { return error_; }

 private:
  enum class State : std::uint8_t { kHead, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers, kError };

  Status fail(std::string why);
  bool parse_head(std::string_view head);
  void keep_body(std::string_view bytes);

  Limits limits_;
  State state_ = State::kHead;
  std::string buffer_;      // unconsumed bytes
  std::size_t scan_from_ = 0;  // where to resume looking for the end of the header block
  std::uint64_t remaining_ = 0;  // body or chunk bytes still expected
  ParsedRequest request_;
  std::string error_;
};

}  // namespace vigil::context

#endif  // VIGIL_CORE_CONTEXT_HTTP1_PARSER_HPP_
