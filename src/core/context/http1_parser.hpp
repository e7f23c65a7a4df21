// Incremental HTTP/1.1 request parser for bytes captured off a connection (the agent's view of
// a server's socket): keep-alive, pipelining, partial reads, Content-Length and chunked bodies,
// Expect: 100-continue. Each complete request is handed out whole (method, target, headers,
// de-chunked body), owning its bytes.
//
// Bounded: a header block larger than max_header_bytes is a protocol error (the connection is
// then ignored); body bytes beyond max_body_bytes are counted, not kept (the request says so).
// Linear in the bytes fed. Thread-compatible (one parser per connection).
//
// Cheap per request: bytes are parsed where the read left them when they hold a whole header
// block (only an incomplete remainder is copied and kept); the header block is copied once into
// the request, whose method, target and headers are views into that copy; a request's memory
// (header block, header slots, body) is reused by the next one parsed into it.
#ifndef VIGIL_CORE_CONTEXT_HTTP1_PARSER_HPP_
#define VIGIL_CORE_CONTEXT_HTTP1_PARSER_HPP_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vigil/request.hpp"

namespace vigil::context {

// A complete request as the parser delivers it. Move-only: the views point into the request's
// own copy of its header block, which lives on the heap, so they stay valid when the request
// is moved or swapped (and until it is parsed into again).
struct ParsedRequest {
  std::string_view method, target, version;  // views into the header block
  std::vector<Header> headers;               // in order; views into the header block
  std::string body;                          // de-chunked, at most max_body_bytes
  std::uint64_t body_length = 0;             // the whole body's length, kept or not
  bool body_truncated = false;
  bool expect_continue = false;
  // A Content-Encoding field other than "identity": the body is compressed, and a program (an
  // Express or Koa body parser, by default) may read it decompressed.
  bool content_encoded = false;
  // RequestAnomaly bits met while reading the request (HttpRequest::anomalies).
  std::uint32_t anomalies = 0;

  ParsedRequest() = default;
  ParsedRequest(ParsedRequest&&) noexcept = default;
  ParsedRequest& operator=(ParsedRequest&&) noexcept = default;
  ParsedRequest(const ParsedRequest&) = delete;
  ParsedRequest& operator=(const ParsedRequest&) = delete;

  // Exchanges two requests with their memory (cheaper than std::swap's three moves).
  void swap(ParsedRequest& other) noexcept;

  // Becomes a copy of `other`'s head (method, target, version, headers, anomalies), with no
  // body: a request whose body has not all come, read before it does (its views point into its
  // own copy).
  void copy_head(const ParsedRequest& other);
  friend void swap(ParsedRequest& a, ParsedRequest& b) noexcept { a.swap(b); }

  // Bytes of memory held (header block, header slots, body), for reuse decisions.
  std::size_t memory_bytes() const noexcept {
    return head_capacity_ + headers.capacity() * sizeof(Header) + body.capacity();
  }

 private:
  friend class Http1Parser;
  // Copies the header block into head_ (reusing its memory when it fits) and forgets the
  // previous request. Returns the copy.
  char* assign_head(std::string_view head);
  // New memory for a header block of `need` bytes (with its padding).
  [[gnu::cold, gnu::noinline]] void grow_head(std::size_t need);

  std::unique_ptr<char[]> head_;
  std::size_t head_capacity_ = 0;
  std::size_t head_size_ = 0;  // bytes of head_ the views may point into
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

  // The completed request (valid after kRequest until the next feed/next). The caller may
  // swap it with a ParsedRequest of its own (std::swap): the parser then parses the next
  // request into the memory of the one handed in.
  ParsedRequest& request() { return request_; }

  // True while a request has started but is not complete (headers seen, body pending).
  bool in_body() const noexcept {
    return state_ == State::kBody || (state_ >= State::kChunkSize && state_ <= State::kTrailers);
  }
  bool headers_complete() const noexcept { return state_ != State::kHead; }
  const std::string& error() const noexcept { return error_; }

 private:
  enum class State : std::uint8_t {
    kHead, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers,
    kSkipHead,  // the rest of a header block beyond the limit, to its blank line
    kError
  };

  // Where the framing of a request's body is read (Content-Length, Transfer-Encoding).
  struct Framing {
    bool chunked = false;
    bool have_length = false;
    std::uint64_t length = 0;
  };

  // The rare paths are functions of their own, out of the way of the usual one (a request
  // that arrives whole, without a body): code run once per request is mostly fetched anew
  // from memory, so the fewer cache lines it spans, the cheaper.
  [[gnu::cold, gnu::noinline]] Status fail(const char* why);
  // feed() when bytes of an earlier feed are waiting (partial reads, pipelining).
  [[gnu::noinline]] Status feed_buffered(std::string_view bytes);
  // Parses as many steps as `data` holds; `*consumed` is how many of its bytes were used.
  Status parse(std::string_view data, std::size_t* consumed);
  // One step of a body (Content-Length or chunked) in `rest`: adds what it used to *consumed;
  // returns kRequest when the request is complete, kNeedMore to go on with the next step, and
  // kError after fail(); sets *stop when `rest` holds no more of the step.
  [[gnu::noinline]] Status parse_body(std::string_view rest, std::size_t* consumed, bool* stop);
  // `line_feeds` (ascending, `count` of them) are where the block's lines end, or null: then
  // they are searched for.
  bool parse_head(std::string_view head, const std::uint32_t* line_feeds, std::size_t count);
  // Content-Length, Transfer-Encoding or Expect (whose name `name` may be); false when the
  // request must be refused (a bad or conflicting length).
  [[gnu::noinline]] bool framing_field(std::string_view name, std::string_view value,
                                       Framing* framing);
  void keep_body(std::string_view bytes);
  // Ends a request whose chunked framing is not, flagged (see the definition).
  [[gnu::cold, gnu::noinline]] Status framing_lost();
  // A header block beyond max_header_bytes, of a request whose first line was read: its whole
  // lines within the limit are kept (`rest`: the block so far), and the rest is skipped to the
  // blank line (skip_head). The request is then read from what was kept, flagged
  // kAnomalyLimitHit and kAnomalyAmbiguousLength (a length beyond the cut is unknown). A server
  // may take a header block beyond the agent's limit (WEBrick takes 70 KB), and refusing it
  // ended the agent's reading of the connection.
  [[gnu::cold, gnu::noinline]] void start_skipping(std::string_view rest);
  [[gnu::cold, gnu::noinline]] Status skip_head(std::string_view rest, std::size_t* consumed);
  // Reads the request from the kept lines of a header block that was cut.
  [[gnu::cold, gnu::noinline]] Status cut_head(std::string_view kept);

  Limits limits_;
  State state_ = State::kHead;
  std::string buffer_;      // unconsumed bytes of earlier feeds
  std::size_t scan_from_ = 0;  // where to resume looking for the end of the header block
  bool first_line_checked_ = false;  // the unfinished header block's first line was looked at
  std::uint64_t remaining_ = 0;  // body or chunk bytes still expected
  bool spoke_http_ = false;      // a request was read: the connection speaks HTTP/1
  std::string kept_head_;        // kSkipHead: the lines of the block within the limit
  std::uint8_t skip_lf_ = 0;     // kSkipHead: 1 after a line feed, 2 after LF CR
  ParsedRequest request_;
  std::string error_;
};

}  // namespace vigil::context

#endif  // VIGIL_CORE_CONTEXT_HTTP1_PARSER_HPP_
