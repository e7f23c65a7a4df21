#include "agent/agent.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <execinfo.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <climits>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/body_decoder.hpp"
#include "agent/chunked.hpp"
#include "agent/events.hpp"
#include "agent/fastcgi.hpp"
#include "agent/handoff.hpp"
#include "agent/http2.hpp"
#include "agent/hook_util.hpp"
#include "agent/interpose.hpp"
#include "agent/real.hpp"
#include "core/common/ascii.hpp"
#include "core/common/ip.hpp"
#include "core/common/known_name.hpp"
#include "core/common/scan.hpp"
#include "core/context/http1_parser.hpp"
#include "core/detect/input/input_detector.hpp"
#include "core/engine/prepared.hpp"
#include "core/tokenize/url/host.hpp"
#include "vigil/policy.hpp"
#include "vigil/request.hpp"

namespace vigil::agent {

namespace {

// Request-scoped binding for thread-per-request servers; validated against the registry
// before use (the request may have finished): the object and its serial must both match, as
// a finished request's memory is reused for later ones.
thread_local InFlight* t_current __attribute__((tls_model("initial-exec"))) = nullptr;
thread_local std::uint64_t t_current_serial __attribute__((tls_model("initial-exec"))) = 0;

// A serial per thread (0: not assigned yet): which thread read a request. A sink call on the
// thread that read the request it serves, when that thread has no other request in flight (a
// thread-per-request server), belongs to that request alone; other requests are consulted only
// for event loops and for threads that serve requests another thread read.
thread_local std::uint64_t t_thread __attribute__((tls_model("initial-exec"))) = 0;
thread_local std::uint64_t t_requests_read __attribute__((tls_model("initial-exec"))) = 0;
std::atomic<std::uint64_t> g_threads{0};

// The launchers (handoff.hpp) this thread started whose answer it has not read: their reply
// areas, mapped. A plain thread-local (no constructor): on_write tests `count` alone.
struct PendingLaunchers {
  LauncherReply* area[4];
  unsigned count;
};
thread_local PendingLaunchers t_launchers __attribute__((tls_model("initial-exec"))) = {};
// In a launcher: where its answer goes (null elsewhere).
std::atomic<LauncherReply*> g_reply{nullptr};

std::uint64_t this_thread() noexcept {
  if (t_thread == 0) t_thread = g_threads.fetch_add(1, std::memory_order_relaxed) + 1;
  return t_thread;
}

// A request serial unique in the process without a shared counter: thread serial and the
// thread's own count.
// `thread`: this_thread().
std::uint64_t next_request_serial(std::uint64_t thread) noexcept {
  return (thread << 32) | ++t_requests_read;
}

constexpr std::size_t kMaxResponseBody = kMaxCheckedHtml;  // HTML kept for reflected-XSS checks

std::string env(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

// True when `line` is a header line of the field `lower` (its name in lower case), in any case.
bool field_is(std::string_view line, std::string_view lower) noexcept {
  if (line.size() <= lower.size() || line[lower.size()] != ':') return false;
  for (std::size_t i = 0; i < lower.size(); ++i) {
    char c = line[i];
    // Only a letter matches its other case (c | 0x20): a CR must not pass for a '-'.
    if (c != lower[i] && !(lower[i] >= 'a' && (c | 0x20) == lower[i])) return false;
  }
  return true;
}

// Where the header line `name` (lower case) starts in a header block, or npos: a line after the
// status line whose field name is `name`, in any case.
std::size_t find_header_line(std::string_view head, std::string_view name) noexcept {
  for (std::size_t pos = head.find("\r\n"); pos != std::string_view::npos;
       pos = head.find("\r\n", pos)) {
    pos += 2;
    if (field_is(head.substr(pos), name)) return pos;
  }
  return std::string_view::npos;
}

// True when `value` (a Transfer-Encoding) names chunked, in any case.
bool names_chunked(std::string_view value) noexcept {
  constexpr std::string_view kChunked = "chunked";
  for (std::size_t i = 0; i + kChunked.size() <= value.size(); ++i)
    if (common::iequals(value.substr(i, kChunked.size()), kChunked)) return true;
  return false;
}

// The response's header block and HTML body, copied to be checked without the connection's
// lock: buffers each thread keeps, so a response costs no allocation.
thread_local std::string t_response_head __attribute__((tls_model("initial-exec")));
thread_local std::string t_response_html __attribute__((tls_model("initial-exec")));

// Where the first "\r\n\r\n" of `s` at or after `from` starts, or npos: one pass over the line
// feeds.
std::size_t find_blank_line(std::string_view s, std::size_t from) noexcept {
  const char* d = s.data();
  const std::size_t n = s.size();
  for (std::size_t p = from + 1; p + 2 < n; ++p) {
    const void* hit = std::memchr(d + p, '\n', n - 2 - p);
    if (hit == nullptr) break;
    p = static_cast<std::size_t>(static_cast<const char*>(hit) - d);
    if (d[p - 1] == '\r' && d[p + 1] == '\r' && d[p + 2] == '\n') return p - 1;
  }
  return std::string_view::npos;
}

// The status line and headers of the response the program writes; enough to find the header
// block, the content type, a redirect and where the body ends. A header block that arrives in
// one write is parsed where it is; one split over writes is gathered in `head` first.
struct ResponseTracker {
  static constexpr std::size_t kMaxHead = 64 * 1024;
  std::string head;       // the header block so far, while it spans writes
  bool head_done = false;
  bool html = false;
  bool location = false;  // a Location field: a redirect to check
  bool watch_html = true;  // an HTML body is kept for the XSS check (its request has inputs)
  bool to_head = false;    // the response to a HEAD request: no body, whatever its fields say
  bool no_body = false;    // status 204 or 304: no body either
  bool chunked = false;
  bool has_length = false;
  std::uint64_t remaining = 0;
  std::string body;       // kept HTML (bounded), decoded when it is compressed
  bool done = false;
  bool interim = false;   // a 1xx response (100 Continue) precedes the real one
  bool switched = false;  // a 101: the bytes after its header block are another protocol
  bool encoded = false;   // a Content-Encoding other than identity: `codings`
  bool decoding = false;  // `decoder` was started for this response
  bool decode_fault = false;  // an HTML body could not be (fully) decoded: a fail-open to count
  // The HTML checks so far (html_check_due): `body` bytes the last one saw, whether the
  // response was still being written then, how far `body` was searched for the request's
  // inputs since, and the checks an input in new bytes asked for before their doubling point.
  std::size_t html_checked = 0;
  bool html_checked_partial = false;
  std::size_t html_searched = 0;
  unsigned early_checks = 0;
  Codings codings;
  ChunkedReader framing;  // of a chunked body: where it ends
  // Created for a connection's first compressed HTML response, kept for its next ones; the
  // streams' memory is freed as soon as a body ends.
  std::unique_ptr<BodyDecoder> decoder;

  // Feeds written bytes; returns the part of them that is body. When the header block
  // completes in these bytes, `*completed_head` is it (valid until the next feed or reset).
  // Inlined into on_write: a response's second write (its body) runs only body_part.
  [[gnu::always_inline]] std::string_view feed(std::string_view data,
                                               std::string_view* completed_head) {
    if (!head_done) [[unlikely]] return feed_first(data, completed_head);
    return body_part(data);
  }

  // feed() before the header block is done. Mostly the whole block comes in one write: read
  // where it is, in one pass.
  [[gnu::noinline]] std::string_view feed_first(std::string_view data,
                                                std::string_view* completed_head) {
    std::size_t end = head.empty() ? scan_head(data.substr(0, kMaxHead)) : std::string_view::npos;
    if (end == std::string_view::npos) [[unlikely]] return feed_head(data, completed_head);
    head_done = true;
    *completed_head = std::string_view(data.data(), end);
    if (interim) [[unlikely]] return after_interim(data.substr(end), completed_head);
    if (no_body || to_head) [[unlikely]] return bodiless();
    return body_part(data.substr(end));
  }

  // A response without a body (to HEAD; 204, 304) ends with its header block, whatever its
  // Content-Length says: waiting for that many bytes took the next responses for its body.
  [[gnu::cold, gnu::noinline]] std::string_view bodiless() noexcept {
    done = true;
    return {};
  }

  // The part of `data` that is body, once the header block is done.
  [[gnu::always_inline]] std::string_view body_part(std::string_view data) {
    if (done) return {};
    if (has_length && !chunked) [[likely]] {  // Transfer-Encoding overrides Content-Length
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, data.size()));
      remaining -= take;
      if (remaining == 0) done = true;
      data = std::string_view(data.data(), take);
    } else if (chunked) {
      data = chunked_part(data);
    }
    if (html && watch_html && body.size() < kMaxResponseBody) [[unlikely]] keep_html(data);
    return data;
  }

  // The part of `data` up to the end of a chunked body, found by following its framing (a write
  // that ends with "0\r\n\r\n" may be inside a chunk's data). Malformed framing never ends the
  // response: the next request does.
  [[gnu::noinline]] std::string_view chunked_part(std::string_view data) noexcept {
    std::string_view rest = data, piece;
    for (;;) {
      switch (framing.next(&rest, &piece)) {
        case ChunkedReader::Step::kData:
        case ChunkedReader::Step::kLast:
          continue;
        case ChunkedReader::Step::kEnd:
          done = true;
          return data.substr(0, data.size() - rest.size());
        case ChunkedReader::Step::kMore:
        case ChunkedReader::Step::kBad:
          return data;
      }
    }
  }

  [[gnu::cold, gnu::noinline]] void keep_html(std::string_view data) {
    if (encoded || chunked) return keep_decoded(data);
    body.append(data.substr(0, kMaxResponseBody - body.size()));
  }

  // A compressed or chunked HTML body: decoded as it comes (chunked framing first), so that the
  // XSS check sees what a browser renders (a chunk's size line must not split the markup).
  // Output and work are bounded (BodyDecoder::Limits); what could be decoded before a fault is
  // kept and checked, and the fault is counted (decode_fault).
  [[gnu::cold, gnu::noinline]] void keep_decoded(std::string_view data) {
    if (!decoding) {
      decoding = true;
      if (!decoder) decoder.reset(new (std::nothrow) BodyDecoder());
      BodyDecoder::Limits limits;
      limits.max_output = kMaxResponseBody;
      if (!encoded) codings = Codings();  // chunked alone: only the framing is removed
      if (!decoder || decoder->start(codings, chunked, limits) != BodyDecoder::Status::kOk) {
        decode_fault = true;
        return;
      }
    }
    if (!decoder || decoder->status() != BodyDecoder::Status::kOk) return;
    BodyDecoder::Status st = decoder->feed(data, &body);
    if (done && st == BodyDecoder::Status::kOk) st = decoder->finish();
    if (st != BodyDecoder::Status::kOk && st != BodyDecoder::Status::kEnd &&
        st != BodyDecoder::Status::kFull)
      decode_fault = true;
  }

  // A Content-Encoding field (there may be several: they add up).
  [[gnu::cold, gnu::noinline]] void add_encoding(std::string_view value) noexcept {
    if (!encoded) codings = Codings();
    codings.add(value);
    encoded = codings.any();
  }

  // feed() when the header block is not whole in one write: gathered in `head` until it is.
  [[gnu::cold, gnu::noinline]] std::string_view feed_head(std::string_view data,
                                                          std::string_view* completed_head) {
    if (head.empty()) {  // the block starts here and does not end (scan_head said so)
      clear_fields();
      head.append(data.substr(0, kMaxHead));
      return {};
    }
    std::size_t before = head.size();
    head.append(data.substr(0, kMaxHead - std::min(head.size(), kMaxHead)));
    std::size_t end = find_blank_line(head, before >= 3 ? before - 3 : 0);
    if (end == std::string_view::npos) return {};
    head.resize(end + 4);
    std::size_t used = end + 4 - before;
    scan_head(head);
    head_done = true;
    *completed_head = head;
    if (interim) return after_interim(data.substr(used), completed_head);
    if (no_body || to_head) return bodiless();
    return body_part(data.substr(used));
  }

  // After a 1xx response's header block: the real response follows in the same stream.
  [[gnu::cold, gnu::noinline]] std::string_view after_interim(std::string_view rest,
                                                              std::string_view* completed_head) {
    if (completed_head->size() > 12 && completed_head->substr(9, 3) == "101") {
      switched = done = true;  // what follows is the new protocol's, handed back as it is
      *completed_head = {};
      return rest;
    }
    reset();
    *completed_head = {};
    return feed(rest, completed_head);
  }

  // Reads the fields of the header block at the start of `s`, line by line (a line ends with
  // CRLF); returns the block's length through its blank line, or npos when `s` does not hold
  // all of it (the fields read so far are then not to be trusted). The line feeds are found 16
  // bytes at a time where the CPU can. Only Content-Type, Content-Length, Content-Encoding,
  // Transfer-Encoding and Location matter: a line is looked at by its first letter, in this one
  // function (the field reading was a call per line, and a call per value for its leading
  // spaces). Values are read from the first non-space byte; what trails them never changes what
  // is read.
  [[gnu::noinline]] std::size_t scan_head(std::string_view s) {
    const char* d = s.data();
    const std::size_t n = s.size();
    interim = n > 12 && std::memcmp(d, "HTTP/", 5) == 0 && d[9] == '1';
    no_body = n > 12 && (std::memcmp(d + 8, " 204", 4) == 0 || std::memcmp(d + 8, " 304", 4) == 0);
    std::size_t line = std::string_view::npos;  // where the current line starts (npos: status)
    // Handles the line feed at `lf`: true when it ends the block.
    auto at_line_feed = [&](std::size_t lf) __attribute__((always_inline)) {
      if (lf == 0 || d[lf - 1] != '\r') return false;  // a bare LF does not end a line
      if (line != std::string_view::npos) {
        if (lf - 1 == line) return true;  // the blank line
        std::string_view f(d + line, lf - 1 - line);
        switch (d[line] | 0x20) {
          case 'c':
            if (common::istarts_with_known<"content-type:">(f)) {
              html = common::istarts_with_known<"text/html">(value_of(f, 13));
            } else if (common::istarts_with_known<"content-length:">(f)) {
              read_length(value_of(f, 15));
            } else if (common::istarts_with_known<"content-encoding:">(f)) [[unlikely]] {
              add_encoding(value_of(f, 17));
            }
            break;
          case 't':
            if (common::istarts_with_known<"transfer-encoding:">(f) && names_chunked(f.substr(18)))
              chunked = true;
            break;
          case 'l':
            if (common::istarts_with_known<"location:">(f)) location = true;
            break;
          default:
            break;
        }
      }
      line = lf + 1;
      return false;
    };
    // Inlined into the scan: a call per line feed was a fifth of the scan.
    auto at = [&](std::size_t lf) __attribute__((always_inline)) {
      return at_line_feed(lf) ? lf + 1 : std::string_view::npos;
    };
    return common::for_each_byte(d, 0, n, '\n', at);
  }

  // A field's value: `line` from `from` on, without its leading common::is_space() bytes
  // (a space, or \t to \r).
  [[gnu::always_inline]] static std::string_view value_of(std::string_view line,
                                                          std::size_t from) noexcept {
    std::size_t b = from;
    while (b < line.size() && (line[b] == ' ' || (line[b] >= '\t' && line[b] <= '\r'))) ++b;
    // Not substr: `from` may pass the end of a short line (b stays there), and the checked,
    // out-of-line substr was two calls per response.
    return b < line.size() ? std::string_view(line.data() + b, line.size() - b)
                           : std::string_view();
  }

  // A Content-Length value: its leading digits (bounded).
  [[gnu::always_inline]] void read_length(std::string_view value) noexcept {
    has_length = true;
    remaining = 0;
    for (char c : value) {
      if (!common::is_digit(c) || remaining > (UINT64_MAX - 9) / 10) break;
      remaining = remaining * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (remaining == 0) done = true;
  }

  void clear_fields() {
    html = location = chunked = has_length = done = interim = encoded = decoding = switched = false;
    no_body = false;
    remaining = 0;
    html_checked = html_searched = 0;
    html_checked_partial = false;
    early_checks = 0;
    framing.reset();
  }

  // Forgets the response, keeping the buffers' memory when it is small (a connection may stay
  // open, idle, for long).
  void reset() {
    if (head.capacity() > kKeptBuffer || body.capacity() > kKeptBuffer) [[unlikely]] release();
    head.clear();
    body.clear();
    head_done = false;
    clear_fields();
  }
  [[gnu::cold, gnu::noinline]] void release() {
    if (head.capacity() > kKeptBuffer) std::string().swap(head);
    if (body.capacity() > kKeptBuffer) std::string().swap(body);
  }
  static constexpr std::size_t kKeptBuffer = 4096;
};

// Checks of a page's HTML before its doubling point, asked for by an input in the new bytes.
constexpr unsigned kMaxEarlyHtmlChecks = 8;

// Whether the HTML written so far needs a check before this write goes out. Checking the whole
// page at every write cost time quadratic in its length for a program that writes it in small
// pieces. Checked instead: the first piece, each doubling, the end of the response, and in
// between a piece that holds one of the request's inputs (up to kMaxEarlyHtmlChecks times: a
// page that reflects the input in every piece waits for the doublings), so that markup an
// input wrote is still seen before it is sent. Linear in the page in all.
[[gnu::cold, gnu::noinline]] bool html_check_due(const Engine& engine, ResponseTracker& r,
                                                 const PreparedInputs& inputs) noexcept {
  const std::size_t size = r.body.size();
  // Nothing new (or past what is kept): only the end of a page checked while being written.
  if (size == r.html_checked) return r.done && r.html_checked_partial;
  if (r.done || r.html_checked == 0 || size >= 2 * r.html_checked) return true;
  if (r.early_checks >= kMaxEarlyHtmlChecks) return false;
  const std::size_t from = std::max(r.html_checked, r.html_searched);
  r.html_searched = size;
  if (!engine.input_occurs_after(Sink::of(SinkType::kHtml, r.body), from, inputs)) return false;
  ++r.early_checks;
  return true;
}

// Names the program resolved lately on this thread, with the addresses they gave.
struct Lookup {
  std::string name;
  std::vector<std::array<std::uint8_t, 16>> addresses;  // IPv4 as v4-mapped
};
thread_local std::vector<Lookup>* t_lookups = nullptr;
constexpr std::size_t kLookups = 8;

std::array<std::uint8_t, 16> address_key(const sockaddr* sa) {
  std::array<std::uint8_t, 16> key{};
  if (sa->sa_family == AF_INET) {
    key[10] = key[11] = 0xFF;
    std::memcpy(key.data() + 12, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    std::memcpy(key.data(), &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
  }
  return key;
}

// Classifies a socket address with the URL tokenizer's host classes.
tokenize::url::HostInfo classify_address(const sockaddr* sa) {
  tokenize::url::Host host;
  if (sa->sa_family == AF_INET) {
    host.kind = tokenize::url::HostKind::kIpv4;
    host.ipv4 = ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr);
  } else {
    host.kind = tokenize::url::HostKind::kIpv6;
    const auto* b = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr.s6_addr;
    for (int i = 0; i < 8; ++i) host.ipv6[i] = static_cast<std::uint16_t>((b[2 * i] << 8) | b[2 * i + 1]);
  }
  return tokenize::url::classify(host);
}

}  // namespace

// InFlight::signature_state values.
enum : std::uint8_t { kSignatureNone, kSignatureBuilding, kSignatureReady, kSignatureNever };

// A request being served.
struct InFlight {
  context::ParsedRequest raw;  // the request's bytes, which ctx borrows
  // The body decompressed, when it came with a Content-Encoding: ctx borrows it instead.
  std::string decoded_body;
  std::string peer;
  RequestContext ctx;
  PreparedInputs prepared;
  std::weak_ptr<Connection> conn;
  std::atomic<bool> blocked{false};
  bool inherited = false;  // the parent's request, seen from a fork()ed child
  std::uint64_t reader = 0;  // this_thread() of the thread that read it
  std::uint64_t serial = 0;  // next_request_serial(); also names the request in events
  // Some form of some input holds a CR or LF. Without one no input can inject a header line
  // (src/core/detect/header_detector.cpp): the response's header block is not searched.
  bool line_break_input = false;
  // Some form of some input is looked for in pages (SinkType::kHtml). Without one no page can
  // reflect an input: an HTML response is neither kept nor searched.
  bool html_input = false;
  bool head_method = false;  // a HEAD request: its response has no body
  std::uint32_t h2_stream = 0;  // the HTTP/2 stream that carried it (0: HTTP/1)
  // Its path, client and inputs in one string (signature_of), for an event loop's sink calls
  // (Agent::check_all): built the first time one needs it, by one thread (kSignature*).
  std::atomic<std::uint8_t> signature_state{0};
  std::string signature;
};

namespace {

// The request id in events (formatted only when a request is reported).
std::string request_id(const InFlight& req) {
  std::string id;
  if (req.inherited) [[unlikely]] format_inherited_request_id(req.serial, &id);
  else format_request_id(req.serial, &id);
  return id;
}

// Finished requests kept for the next ones this thread reads: their context, prepared inputs
// and header views keep their memory (and the context its client's address worked out), so a
// request costs no allocation for them. A thread that serves the requests it reads one at a
// time needs one; an event loop has a request in flight on each busy connection, and with one
// spare it built most of them anew (123 of 200 with eight connections to the Node.js shop),
// each freed again as its response ended: up to kSpares per thread (freed with it), the last
// kept taken first. A request that grew large is not kept.
constexpr unsigned kSpares = 8;
struct Spares {
  std::shared_ptr<InFlight> slot[kSpares];
  unsigned count = 0;
};
thread_local Spares t_spares __attribute__((tls_model("initial-exec")));
constexpr std::size_t kMaxSpareBytes = 64 * 1024;
constexpr std::size_t kMaxIdleRequestBytes = 8 * 1024;
// Requests a connection may have read ahead of the one being answered (HTTP/1.1 pipelining).
constexpr std::size_t kMaxPipelined = 16;

[[gnu::cold, gnu::noinline]] std::shared_ptr<InFlight> new_in_flight() {
  return std::make_shared<InFlight>();
}

std::shared_ptr<InFlight> take_spare() {
  Spares& spares = t_spares;
  if (spares.count != 0) [[likely]] return std::move(spares.slot[--spares.count]);
  return new_in_flight();
}

// The request memory (header block copy, header slots) of the last connection this thread
// closed, for the next connection it reads from: a server that closes connections after a few
// requests (cpp-httplib's default keep-alive count is 5) allocated it anew for each.
thread_local context::ParsedRequest t_spare_parsed __attribute__((tls_model("initial-exec")));

// Gives a connection's parser, before its first request, the memory of a closed one.
// REQUIRES: the connection's lock held.
[[gnu::noinline]] void adopt_spare_parsed(context::Http1Parser& parser) noexcept {
  if (t_spare_parsed.memory_bytes() > parser.request().memory_bytes() && !parser.headers_complete())
    t_spare_parsed.swap(parser.request());
}

// Keeps the memory of a closing connection's parser when it is between requests (nothing
// refers to it then) and small. REQUIRES: the connection's lock held.
void keep_spare_parsed(context::Http1Parser& parser) noexcept {
  context::ParsedRequest& r = parser.request();
  if (parser.headers_complete() || r.memory_bytes() > kMaxIdleRequestBytes) return;
  if (r.memory_bytes() > t_spare_parsed.memory_bytes()) t_spare_parsed.swap(r);
}

// Keeps `req` for reuse when nothing else refers to it (it left the registry and its
// connection). REQUIRES: `req` finished.
void keep_spare(std::shared_ptr<InFlight>&& req) noexcept {
  Spares& spares = t_spares;
  if (!req || req.use_count() != 1 || req->inherited || spares.count == kSpares) return;
  if (req->raw.memory_bytes() + req->ctx.memory_bytes() + req->decoded_body.capacity() >
      kMaxSpareBytes)
    return;
  // req->conn stays: the next request this thread reads mostly comes on the same connection
  // (keep-alive), and on_read then leaves the link as it is (no weak count down and up).
  req->blocked.store(false, std::memory_order_relaxed);
  req->h2_stream = 0;
  if (req->signature_state.load(std::memory_order_relaxed) != kSignatureNone) [[unlikely]] {
    req->signature_state.store(kSignatureNone, std::memory_order_relaxed);
    if (req->signature.capacity() > kMaxIdleRequestBytes) std::string().swap(req->signature);
    else req->signature.clear();
  }
  spares.slot[spares.count++] = std::move(req);
}

}  // namespace

// One accepted connection.
struct Connection {
  int fd = -1;
  std::string peer;
  SpinLock mu;  // held for parsing a read, never across the analysis of a request
  context::Http1Parser parser;
  bool not_http = false;
  bool tls = false;
  void* tls_session = nullptr;     // the SSL* the program reads this connection's plaintext with
  bool tls_records = false;        // raw TLS records past the first read (encrypted data)
  bool seen_bytes = false;
  bool absorbing = false;          // after a block: the program's writes go nowhere
  bool eof_to_program = false;     // after a block: the program reads end of stream
  std::shared_ptr<InFlight> current;
  // The request whose head was read and whose body has not all come: started already (see
  // on_read), completed when the parser completes it.
  std::shared_ptr<InFlight> early;
  // Requests the client sent before the current one's response began (HTTP/1.1 pipelining), in
  // order: each becomes current when the response before it ends.
  std::vector<std::shared_ptr<InFlight>> pipelined;
  ResponseTracker response;
  bool response_started = false;   // bytes of the current response already went out
  // A FastCGI connection (PHP-FPM behind nginx): its records are read as the HTTP they carry.
  struct FastCgi {
    FcgiRequestReader in;
    FcgiResponseWriter out;
    std::string in_http, out_http;  // the HTTP text of the last read and write
  };
  std::unique_ptr<FastCgi> fcgi;
  // An HTTP/2 connection: its streams are read as HTTP/1.1 requests. Several are in flight at
  // once, each until the program ends its response (`current` is not used).
  struct Http2 {
    explicit Http2(std::size_t max_body) : in(max_body) {}
    H2RequestReader in;
    H2ResponseReader out;
    H2RequestReader::Output read;       // of the last read
    std::size_t next_stream = 0;        // read.streams[next_stream]: the next request parsed
    std::vector<std::shared_ptr<InFlight>> open;
    std::vector<std::shared_ptr<InFlight>> cancelled;  // by the client, to retire
    std::vector<H2ResponseReader::Piece> written;      // of the last write
    // A response being written: read as an HTTP/1.1 one.
    struct Response {
      std::uint32_t stream = 0;
      ResponseTracker tracker;
      bool head_out = false;  // its head went out on the socket
    };
    std::vector<std::unique_ptr<Response>> responses;
    // What went out on the socket (the program's writes let through, not the one being
    // checked): between two frames, the program's SETTINGS.
    bool socket_at_boundary = true;
    bool socket_wrote = false;
    bool heads_lost_counted = false;
  };
  std::unique_ptr<Http2> h2;
  bool carried = false;  // fcgi or h2: the bytes read carry HTTP/1.1 text (Agent::unwrap)
  std::size_t max_body;  // a request's body kept

  explicit Connection(std::size_t body_limit)
      : parser(context::Http1Parser::Limits{64 * 1024, body_limit}), max_body(body_limit) {}
};

// Up to this many requests of one HTTP/2 connection are in flight at once; past it the oldest
// stops being (its response never ended, or the client reset it unseen).
constexpr std::size_t kMaxOpenStreams = 128;

// Takes `req`, the next request parsed off an HTTP/2 connection's text, in flight: names its
// stream. Returns the request it pushed out, if any, to retire. REQUIRES: the lock held.
[[gnu::cold, gnu::noinline]] std::shared_ptr<InFlight> admit_h2(
    Connection::Http2& h, const std::shared_ptr<InFlight>& req) {
  req->h2_stream = h.next_stream < h.read.streams.size() ? h.read.streams[h.next_stream++] : 0;
  std::shared_ptr<InFlight> out;
  if (h.open.size() >= kMaxOpenStreams) {
    out = std::move(h.open.front());
    h.open.erase(h.open.begin());
  }
  h.open.push_back(req);
  return out;
}

// Moves the requests of `streams` out of h.open onto *to.
void take_streams(Connection::Http2& h, const std::vector<std::uint32_t>& streams,
                  std::vector<std::shared_ptr<InFlight>>* to) {
  for (std::uint32_t id : streams) {
    for (std::size_t i = 0; i < h.open.size(); ++i) {
      if (h.open[i]->h2_stream != id) continue;
      to->push_back(std::move(h.open[i]));
      h.open.erase(h.open.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
}

// The response being written on `stream`, or null.
Connection::Http2::Response* h2_response(Connection::Http2& h, std::uint32_t stream) {
  for (auto& r : h.responses)
    if (r->stream == stream) return r.get();
  return nullptr;
}

bool h2_head_out(Connection::Http2& h, std::uint32_t stream) {
  const Connection::Http2::Response* r = h2_response(h, stream);
  return r != nullptr && r->head_out;
}

std::shared_ptr<InFlight> h2_request(const Connection::Http2& h, std::uint32_t stream) {
  for (const auto& r : h.open)
    if (r->h2_stream == stream) return r;
  return nullptr;
}

Config config_from_environment() {
  Config c;
  std::string disable = env("VIGIL_DISABLE");
  c.disabled = !disable.empty() && disable != "0" && disable != "false";
  std::string mode = env("VIGIL_MODE", "monitor");
  if (mode == "block") c.mode = Mode::kBlock;
  else if (mode == "off") c.disabled = true;
  c.app = env("VIGIL_APP", "app");
  c.events_path = env("VIGIL_EVENTS");
  c.policy_path = env("VIGIL_POLICY");
  c.status_path = env("VIGIL_STATUS");
  if (std::string q = env("VIGIL_QUEUE"); !q.empty()) c.queue_capacity = std::strtoul(q.c_str(), nullptr, 10);
  if (std::string b = env("VIGIL_MAX_BODY"); !b.empty()) c.max_body = std::strtoul(b.c_str(), nullptr, 10);
  c.check_paths = env("VIGIL_PATHS", "on") != "off";
  c.has_server = server_options_from_environment(&c.server, &c.server_error);
  c.server.app = c.app;
  c.server.mode = c.mode;
  return c;
}

struct Agent::ChildReplies {
  struct Slot {
    std::atomic<std::uint32_t> ready;  // 0 while being written (a slot is reused after kSlots)
    std::int32_t owner;                // the pid whose request it was
    std::uint64_t serial;
    char event_id[40];
    std::uint32_t detections;          // to count: reported in the child (one event each)
    std::uint32_t blocked;             // to count: blocked there
    std::uint32_t answer;              // 1: the request is to be answered with the 403
  };
  static constexpr std::uint32_t kSlots = 32;
  std::atomic<std::uint32_t> written;
  std::uint32_t reserved[15];
  Slot slot[kSlots];
};

namespace {

std::size_t counters_bytes() noexcept {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (sizeof(Counters) + page - 1) / page * page;
}

// Counters in a shared anonymous mapping (see Agent::counters_); in private memory when the
// mapping cannot be made, as before: a forked child's counts are then its own.
Counters& make_counters(bool* shared) {
  void* p = mmap(nullptr, counters_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                 -1, 0);
  *shared = p != MAP_FAILED;
  return p != MAP_FAILED ? *new (p) Counters() : *new Counters();
}

}  // namespace

void Agent::count_apart() noexcept {
  // A fresh mapping moved over the inherited one: every pointer to the counters (the event
  // writer holds one) stays valid, and the parent's are no longer touched. When that cannot be
  // done, this process keeps counting into its parent's.
  if (!counters_shared_) return;
  void* fresh = mmap(nullptr, counters_bytes(), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (fresh == MAP_FAILED) return;
  if (mremap(fresh, counters_bytes(), counters_bytes(), MREMAP_MAYMOVE | MREMAP_FIXED,
             static_cast<void*>(&counters_)) == MAP_FAILED) {
    munmap(fresh, counters_bytes());
    return;
  }
  new (&counters_) Counters();
  counted_apart_ = true;
}

Agent::Agent(Config config)
    : config_(std::move(config)),
      counters_(make_counters(&counters_shared_)),
      tracked_(new std::atomic<std::uint8_t>[kMaxFd]()),
      blocks_(new std::atomic<ConnBlock*>[kMaxFd >> kBlockBits]()) {
  pid_.store(getpid());
  request_id_salt();  // set before any fork: a child names its parent's requests as it does
  static_assert(sizeof(ChildReplies) <= 4096);
  if (void* page = mmap(nullptr, sizeof(ChildReplies), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
      page != MAP_FAILED)
    child_replies_ = static_cast<ChildReplies*>(page);  // zeroed by the kernel
  events_ = std::make_unique<EventQueue>(config_.queue_capacity, config_.events_path,
                                         config_.status_path, &counters_);
  engine_.set_policy(load_policy(config_.mode, config_.policy_path));
  if (!config_.server_error.empty())
    std::fprintf(stderr, "vigil: %s; events stay local\n", config_.server_error.c_str());
  if (config_.has_server) {
    std::string error;
    link_ = ServerLink::create(
        config_.server, engine_.policy(),
        [this](std::shared_ptr<const Policy> p) { engine_.set_policy(std::move(p)); },
        [this] { return counters_json(counters_); }, &error);
    if (!link_) {
      std::fprintf(stderr, "vigil: server %s: %s; events stay local\n", config_.server.url.c_str(),
                   error.c_str());
    } else {
      events_->set_sink(link_.get());
      link_->set_exit_hook([this] { events_->flush(1000); });
      link_->start();
    }
  }
}

Agent::~Agent() {
  for (int i = 0; i < (kMaxFd >> kBlockBits); ++i) delete blocks_[i].load();
}

std::shared_ptr<Connection> Agent::connection(int fd) const noexcept {
  if (!is_tracked(fd)) return nullptr;
  std::lock_guard<SpinLock> lock(fd_mu(fd));
  std::shared_ptr<Connection>* s = existing_slot(fd);
  return s ? *s : nullptr;
}

Connection* Agent::locked_connection(int fd, SpinHold* lock) const noexcept {
  if (!is_tracked(fd)) return nullptr;
  std::lock_guard<SpinLock> table(fd_mu(fd));
  std::shared_ptr<Connection>* s = existing_slot(fd);
  Connection* conn = s ? s->get() : nullptr;
  // Taken while the table's lock still holds the connection in its slot.
  if (conn) lock->take(conn->mu);
  return conn;
}

std::shared_ptr<Connection>* Agent::new_slot(int fd) const {
  std::atomic<ConnBlock*>& block = blocks_[fd >> kBlockBits];
  ConnBlock* b = block.load(std::memory_order_acquire);
  if (b == nullptr) {
    auto fresh = std::make_unique<ConnBlock>();
    if (block.compare_exchange_strong(b, fresh.get(), std::memory_order_acq_rel))
      b = fresh.release();
  }
  return &b->slots[fd & ((1 << kBlockBits) - 1)];
}

void Agent::on_accept(int fd, const sockaddr* peer, socklen_t len) noexcept {
  if (fd < 0) return;
  // Libraries loaded since the last connection that bypass LD_PRELOAD (PHP's extensions); a
  // slot that could not be pointed at its hook leaves that call unchecked.
  if (std::uint64_t failed = interpose_loaded_objects(); failed != 0) [[unlikely]]
    counters_.fail_opens.fetch_add(failed, std::memory_order_relaxed);
  if (in_forked_child()) become_own_server();
  if (fd >= kMaxFd) {
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  try {
    auto conn = std::make_shared<Connection>(config_.max_body);
    conn->fd = fd;
    sockaddr_storage ss{};
    socklen_t sl = sizeof ss;
    if (peer == nullptr || len == 0) {
      if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &sl) == 0) peer = reinterpret_cast<sockaddr*>(&ss);
    }
    char buf[INET6_ADDRSTRLEN] = "";
    if (peer && peer->sa_family == AF_INET) {
      // Formatted by hand: inet_ntop's snprintf was a third of accepting a connection. The
      // last address this thread formatted is kept: connections mostly come from few peers
      // (a reverse proxy, a load balancer).
      thread_local std::uint32_t t_last_v4 __attribute__((tls_model("initial-exec"))) = 0;
      thread_local std::string t_last_v4_text __attribute__((tls_model("initial-exec")));
      std::uint32_t v4;
      std::memcpy(&v4, &reinterpret_cast<const sockaddr_in*>(peer)->sin_addr, 4);
      if (v4 != t_last_v4 || t_last_v4_text.empty()) {
        common::IpAddress a;
        a.v4 = true;
        a.bytes[10] = a.bytes[11] = 0xFF;
        std::memcpy(a.bytes.data() + 12, &v4, 4);
        t_last_v4_text = a.to_string();
        t_last_v4 = v4;
      }
      conn->peer = t_last_v4_text;
    } else {
      if (peer && peer->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(peer)->sin6_addr, buf, sizeof buf);
      else if (peer && peer->sa_family == AF_UNIX)
        std::strcpy(buf, "unix");
      conn->peer = buf;
    }
    {
      std::lock_guard<SpinLock> lock(fd_mu(fd));
      new_slot(fd)->swap(conn);  // a connection left there goes below, outside the lock
    }
    // A connection left there (its fd closed where no hook saw it): a thread that found it
    // in the table may still hold its lock (locked_connection); let it finish first.
    if (conn) std::lock_guard<SpinLock> displaced(conn->mu);
    tracked_[fd].store(1, std::memory_order_relaxed);
    counters_.connections.fetch_add(1, std::memory_order_relaxed);
    events_->start();  // a server: the writer keeps the status file fresh from now on
  } catch (...) {
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
  }
}

void Agent::on_close(int fd) noexcept {
  if (!is_tracked(fd)) return;
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard<SpinLock> lock(fd_mu(fd));
    if (std::shared_ptr<Connection>* s = existing_slot(fd)) {
      conn = std::move(*s);
      s->reset();
    }
    tracked_[fd].store(0, std::memory_order_relaxed);
  }
  // A child fork()ed to run a command closes what it inherited before it execs (Python's
  // subprocess: close_range): the request it runs the command for stays in flight, so that the
  // command is still checked as that request's. Its connection is forgotten all the same.
  if (in_forked_child()) [[unlikely]] return;
  if (conn) {
    std::shared_ptr<InFlight> req;
    std::vector<std::shared_ptr<InFlight>> streams;
    {
      std::lock_guard<SpinLock> lock(conn->mu);
      req = std::move(conn->current);
      if (conn->h2) [[unlikely]] streams.swap(conn->h2->open);
      else if (!conn->pipelined.empty()) [[unlikely]] streams.swap(conn->pipelined);
      if (!conn->not_http) keep_spare_parsed(conn->parser);
      // Encrypted bytes came and went, and no plaintext of them: TLS the agent cannot see.
      if (conn->tls_records && conn->tls_session == nullptr) [[unlikely]]
        counters_.tls_unseen.fetch_add(1, std::memory_order_relaxed);
    }
    if (req) retire(std::move(req));
    for (auto& r : streams) retire(std::move(r));
  }
}

void Agent::retire(std::shared_ptr<InFlight>&& request) noexcept {
  {
    std::lock_guard<SpinLock> lock(flight_mu_);
    for (std::size_t i = 0; i < in_flight_.size(); ++i) {
      if (in_flight_[i] == request) {
        in_flight_[i] = std::move(in_flight_.back());
        in_flight_.pop_back();
        break;
      }
    }
    in_flight_count_.store(in_flight_.size(), std::memory_order_relaxed);
  }
  if (t_current == request.get()) t_current = nullptr;
  keep_spare(std::move(request));
}

std::shared_ptr<InFlight> Agent::queue_pipelined(Connection& conn,
                                                 const std::shared_ptr<InFlight>& req) noexcept {
  std::shared_ptr<InFlight> given_way;
  if (conn.pipelined.size() >= kMaxPipelined) [[unlikely]] {
    // Bounded: the oldest gives way (a response whose end was not seen, with requests queued
    // behind it).
    given_way = std::move(conn.current);
    conn.current = std::move(conn.pipelined.front());
    conn.pipelined.erase(conn.pipelined.begin());
    conn.response.reset();
    conn.pipelined.push_back(req);  // no allocation: one was just erased
    return given_way;
  }
  try {
    conn.pipelined.push_back(req);
  } catch (...) {  // memory: read as the next request, as before
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
    given_way = std::move(conn.current);
    conn.current = req;
    conn.response.reset();
  }
  return given_way;
}

void Agent::retire_pipelined(Connection& conn, SpinHold* lock) noexcept {
  std::vector<std::shared_ptr<InFlight>> gone;
  gone.swap(conn.pipelined);
  lock->unlock();
  for (auto& r : gone) retire(std::move(r));
  lock->lock();
}

void Agent::end_response(Connection& conn, SpinHold& lock) noexcept {
  std::shared_ptr<InFlight> finished = std::move(conn.current);
  InFlight* next = nullptr;
  if (!conn.pipelined.empty()) [[unlikely]] {
    conn.current = std::move(conn.pipelined.front());
    conn.pipelined.erase(conn.pipelined.begin());
    conn.response.reset();
    conn.response_started = false;
    next = conn.current.get();
  }
  const std::uint64_t serial = next ? next->serial : 0;
  lock.unlock();
  retire(std::move(finished));
  // The thread that wrote the response serves the next request (a thread per connection): its
  // sink calls are that request's.
  if (next) [[unlikely]] {
    t_current = next;
    t_current_serial = serial;
  }
}

// The body of a request that came compressed (Content-Encoding), as a program that decompresses
// it reads it: Express's and Koa's body parsers do by default, and a body the agent read
// compressed hid every value in it. At most `max_body` bytes of it (a bomb stops there); what
// came before a fault in the stream is kept. A coding not known here leaves the bytes as sent.
[[gnu::noinline]] std::string_view decoded_body(InFlight& req, std::size_t max_body) noexcept {
  const context::ParsedRequest& raw = req.raw;
  Codings codings;
  for (const Header& h : raw.headers)
    if (h.name.size() == 16 && common::iequals(h.name, "content-encoding")) codings.add(h.value);
  if (codings.count == 0 || codings.unknown) return raw.body;
  BodyDecoder decoder;
  BodyDecoder::Limits limits;
  limits.max_output = max_body;
  limits.max_input = raw.body.size() + 1;
  req.decoded_body.clear();
  if (decoder.start(codings, false, limits) != BodyDecoder::Status::kOk) return raw.body;
  decoder.feed(raw.body, &req.decoded_body);
  decoder.finish();
  if (decoder.produced() == 0) return raw.body;
  return req.decoded_body;
}

// The request's context and prepared inputs, from its bytes, and what the response checks need
// to know of them.
inline void prepare(InFlight& req, std::size_t max_body) {
  const context::ParsedRequest& raw = req.raw;
  const std::string_view body =
      raw.content_encoded ? decoded_body(req, max_body) : std::string_view(raw.body);
  req.ctx.parse(HttpRequest{raw.method, raw.target, raw.headers, body, req.peer, raw.anomalies});
  req.prepared.reset(req.ctx.inputs());
  req.line_break_input = false;
  req.html_input = false;
  req.head_method = raw.method.size() == 4 && std::memcmp(raw.method.data(), "HEAD", 4) == 0;
  if (const PreparedInputs::Impl* impl = req.prepared.impl()) {
    std::uint32_t features = 0;  // of every form's text, read as the inputs were prepared
    unsigned sinks = 0;
    for (const auto& entry : impl->entries) {
      features |= entry.features;
      sinks |= entry.sink_mask;
    }
    req.line_break_input = (features & detect::input::kCrLf) != 0;
    req.html_input = (sinks & (1u << static_cast<int>(SinkType::kHtml))) != 0;
  }
}

std::shared_ptr<InFlight> Agent::admit(const std::shared_ptr<Connection>& conn,
                                       const std::shared_ptr<InFlight>& req,
                                       SpinHold* lock) noexcept {
  std::shared_ptr<InFlight> previous;
  if (conn->carried && conn->h2) [[unlikely]] return admit_h2(*conn->h2, req);
  if (conn->carried) [[unlikely]] req->peer = conn->peer;  // FastCGI: each request's client
  if (conn->current && !conn->response_started && !conn->carried) [[unlikely]] {
    // Read before the current request's response began: pipelined. It stays in flight, and
    // its response is the one after the current one's; replacing the current request here let
    // the response before it end this one, whose sink calls then went unchecked.
    return queue_pipelined(*conn, req);
  }
  // The current request's response began (a response whose end was not seen: to HEAD, a body
  // sent with sendfile): this one is the next.
  previous = std::move(conn->current);
  conn->current = req;
  conn->response.reset();
  conn->response_started = false;
  if (!conn->pipelined.empty()) [[unlikely]] retire_pipelined(*conn, lock);
  return previous;
}

std::shared_ptr<InFlight> Agent::start_early(const std::shared_ptr<Connection>& conn,
                                             SpinHold* lock) noexcept {
  std::shared_ptr<InFlight> req;
  try {
    req = take_spare();
    req->raw.copy_head(conn->parser.request());
  } catch (...) {  // memory: the request is read when its body has come, as before
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  if (req->conn.owner_before(conn) || conn.owner_before(req->conn)) {
    req->peer = conn->peer;
    req->conn = conn;
  }
  conn->early = req;
  std::shared_ptr<InFlight> previous = admit(conn, req, lock);
  lock->unlock();
  if (previous) [[unlikely]] retire(std::move(previous));
  start_request(conn, req);
  lock->lock();
  return req;
}

bool Agent::complete_request(const std::shared_ptr<Connection>& conn, SpinHold* lock) noexcept {
  // The whole request is a new InFlight that takes the started one's place: the started one is
  // not parsed again in place, as another thread may be checking a sink call against it.
  std::shared_ptr<InFlight> early = std::move(conn->early);
  std::shared_ptr<InFlight> req;
  try {
    req = take_spare();
  } catch (...) {  // memory: the body goes unanalysed; the started request stays
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
    conn->parser.request() = context::ParsedRequest();
    return false;
  }
  req->raw.swap(conn->parser.request());
  if (conn->parser.request().memory_bytes() > kMaxIdleRequestBytes) [[unlikely]]
    conn->parser.request() = context::ParsedRequest();
  req->peer = early->peer;
  req->conn = conn;
  // In the started one's place, when it is still there (its response may have ended already: a
  // GET handler that does not wait for the body).
  bool placed = false;
  if (conn->current == early) {
    conn->current = req;
    placed = true;
  } else {
    for (auto& p : conn->pipelined) {
      if (p == early) {
        p = req;
        placed = true;
      }
    }
  }
  lock->unlock();
  const std::uint32_t head_anomalies = early->ctx.anomalies();
  const std::uint64_t serial = early->serial;
  if (placed) retire(std::move(early));
  early.reset();
  const Completion completion{head_anomalies, serial, placed};
  start_request(conn, req, &completion);
  lock->lock();
  return req->blocked.load();
}

void Agent::finish_verdict(const std::shared_ptr<InFlight>& req, std::uint32_t head_anomalies,
                           RequestVerdict* verdict) noexcept {
  RequestVerdict& v = *verdict;
  try {
    // The head's analysis reported what the head holds: only what the body adds is reported
    // now (findings on body inputs, and protocol anomalies the body brought).
    const std::span<const Input> inputs = req->ctx.inputs();
    const bool new_anomalies = (req->ctx.anomalies() & ~head_anomalies) != 0;
    std::erase_if(v.findings, [&](const Finding& f) {
      if (f.input >= 0 && static_cast<std::size_t>(f.input) < inputs.size())
        return inputs[static_cast<std::size_t>(f.input)].source != Source::kBody;
      return !(new_anomalies && f.rule == "protocol-anomaly");
    });
    v.block = false;
    v.blocking_finding = -1;
    for (std::size_t i = 0; i < v.findings.size() && !v.block; ++i) {
      if (v.findings[i].mode == Mode::kBlock) {
        v.block = true;
        v.blocking_finding = static_cast<std::int32_t>(i);
      }
    }
  } catch (...) {
    v.findings.clear();
    v.block = false;
    v.failed_open = true;
  }
}

ssize_t Agent::on_read(int fd, const char* data, ssize_t n, void* tls) noexcept {
  std::shared_ptr<Connection> conn = connection(fd);
  if (!conn || n <= 0) return n;
  try {
    SpinHold lock;
    lock.take(conn->mu);
    // The rare branches are marked so: their code goes out of the usual path's way (a request
    // read runs once per request, its code lines fetched anew each time).
    if (tls == nullptr) {
      if (conn->tls) [[unlikely]] {
        conn->tls_records = true;
        return n;
      }
      if (!conn->seen_bytes && static_cast<unsigned char>(data[0]) == 0x16) [[unlikely]] {
        // A TLS handshake: the plaintext comes through SSL_read, and its first bytes are the
        // ones that say what it is (HTTP/1.1, or HTTP/2 negotiated by ALPN).
        conn->tls = true;
        return n;
      }
    } else [[unlikely]] {
      conn->tls = true;
      conn->tls_session = tls;
    }
    if (conn->eof_to_program) [[unlikely]] return 0;
    if (conn->not_http) [[unlikely]] return n;
    std::string_view bytes(data, static_cast<std::size_t>(n));
    if (!conn->seen_bytes) [[unlikely]] first_read(*conn, bytes);
    if (conn->carried && !unwrap(*conn, &bytes)) [[unlikely]] return n;
    if (bytes.empty()) [[unlikely]] return n;
    auto status = conn->parser.feed(bytes);
    bool blocked_here = false;
    bool had_earlier_bytes = conn->parser.in_body();
    while (status == context::Http1Parser::Status::kRequest) {
      if (conn->early) [[unlikely]] {  // its body has come: the request started at its head
        if (complete_request(conn, &lock)) [[unlikely]] blocked_here = true;
        status = conn->parser.next();
        continue;
      }
      std::shared_ptr<InFlight> req = take_spare();
      // The spare's old request goes to the parser, which parses the next one into its memory.
      req->raw.swap(conn->parser.request());
      // What an idle connection keeps stays small (the spare may have held a large body).
      if (conn->parser.request().memory_bytes() > kMaxIdleRequestBytes) [[unlikely]]
        conn->parser.request() = context::ParsedRequest();
      // A spare that served this connection already has its link and its peer (a connection's
      // peer never changes; the spare's weak link keeps the connection's control block, so no
      // other connection can have its address): only another connection's are copied.
      if (req->conn.owner_before(conn) || conn.owner_before(req->conn)) [[unlikely]] {
        req->peer = conn->peer;
        req->conn = conn;
      }
      std::shared_ptr<InFlight> previous = admit(conn, req, &lock);
      lock.unlock();
      if (previous) [[unlikely]] retire(std::move(previous));  // its response did not end
      start_request(conn, req);
      lock.lock();
      if (req->blocked.load()) [[unlikely]] blocked_here = true;
      status = conn->parser.next();
    }
    // A request whose head has come and whose body has not: started now, with the inputs its
    // head holds. A server may run it before the body ends (a GET handler that does not read
    // one, a handler that streams the body): waiting for the body let such a request run
    // unchecked (a GET with a Content-Length and no body).
    if (status == context::Http1Parser::Status::kNeedMore && conn->parser.in_body() &&
        !conn->early && !conn->carried && !blocked_here) [[unlikely]] {
      std::shared_ptr<InFlight> req = start_early(conn, &lock);
      if (req && req->blocked.load()) [[unlikely]] blocked_here = true;
    }
    if (conn->carried && conn->h2 && !conn->h2->cancelled.empty()) [[unlikely]] {
      std::vector<std::shared_ptr<InFlight>> gone;
      gone.swap(conn->h2->cancelled);
      lock.unlock();
      for (auto& r : gone) retire(std::move(r));
      lock.lock();
    }
    if (status == context::Http1Parser::Status::kError) [[unlikely]] {
      conn->not_http = true;
      counters_.not_http.fetch_add(1, std::memory_order_relaxed);
    }
    if (blocked_here) [[unlikely]] {
      conn->eof_to_program = true;
      // The program never sees the blocked request when it arrived in this read; if part of it
      // was delivered earlier, the program sees the connection reset instead.
      if (had_earlier_bytes) {
        errno = ECONNRESET;
        return -1;
      }
      return 0;
    }
    return n;
  } catch (...) {
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
    return n;
  }
}

void Agent::first_read(Connection& conn, std::string_view bytes) noexcept {
  try {
    if (looks_like_fastcgi(bytes)) conn.fcgi = std::make_unique<Connection::FastCgi>();
    else if (looks_like_h2(bytes)) conn.h2 = std::make_unique<Connection::Http2>(conn.max_body);
  } catch (...) {  // memory: read as HTTP/1.1, which it is not: counted there
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
  }
  conn.carried = conn.fcgi || conn.h2;
  adopt_spare_parsed(conn.parser);
  conn.seen_bytes = true;
}

bool Agent::unwrap(Connection& conn, std::string_view* bytes) noexcept {
  if (conn.h2) {
    if (!read_h2(conn, *bytes)) {  // the requests before what broke are still read
      conn.not_http = true;
      counters_.not_http.fetch_add(1, std::memory_order_relaxed);
    }
    *bytes = conn.h2->read.http;
    return true;
  }
  // The request records, as the HTTP/1.1 text they carry; the client is the web server's.
  std::string& http = conn.fcgi->in_http;
  http.clear();
  try {
    if (!conn.fcgi->in.feed(*bytes, &http)) {
      conn.not_http = true;
      counters_.not_http.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  } catch (...) {
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
    conn.not_http = true;
    return false;
  }
  if (!conn.fcgi->in.remote_addr().empty()) conn.peer = conn.fcgi->in.remote_addr();
  *bytes = http;
  return true;
}

void Agent::start_request(const std::shared_ptr<Connection>& conn,
                          const std::shared_ptr<InFlight>& req,
                          const Completion* completion) noexcept {
  if (in_forked_child()) [[unlikely]] become_own_server();
  const std::uint64_t me = this_thread();
  req->reader = me;
  req->inherited = false;
  if (completion == nullptr) [[likely]] {
    counters_.requests.fetch_add(1, std::memory_order_relaxed);
    req->serial = next_request_serial(me);
  } else {
    req->serial = completion->serial;  // the request started at its head: the same request
  }
  prepare(*req, config_.max_body);
  // A request whose body came after its response ended is analysed for what the body adds,
  // and not kept in flight: nothing of the program is its any more.
  const bool in_flight = completion == nullptr || completion->placed;
  if (in_flight) [[likely]] {
    {
      std::lock_guard<SpinLock> lock(flight_mu_);
      in_flight_.push_back(req);
      in_flight_count_.store(in_flight_.size(), std::memory_order_relaxed);
    }
    t_current = req.get();
    t_current_serial = req->serial;
  }
  // Destinations count for the request that caused them (a thread that resolved names).
  if (t_lookups) [[unlikely]] t_lookups->clear();
  RequestVerdict v = engine_.analyze_request(req->ctx, req->prepared);
  if (completion != nullptr) [[unlikely]] finish_verdict(req, completion->head_anomalies, &v);
  if (v.budget_exceeded || v.failed_open || !v.findings.empty() || v.block) [[unlikely]]
    report_request(conn, req, v);
}

void Agent::report_request(const std::shared_ptr<Connection>& conn,
                           const std::shared_ptr<InFlight>& req, const RequestVerdict& v) noexcept {
  if (v.budget_exceeded) counters_.budget_overruns.fetch_add(1, std::memory_order_relaxed);
  if (v.failed_open) counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
  std::string block_event;
  for (std::size_t i = 0; i < v.findings.size(); ++i) {
    Finding f = v.findings[i];
    bool blocking = v.block && static_cast<std::int32_t>(i) == v.blocking_finding;
    if (blocking) f.outcome = Outcome::kBlocked;
    std::string id = emit_finding(*req, f);
    if (blocking) block_event = id;
  }
  if (v.block) {
    req->blocked.store(true);
    counters_.blocked.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<SpinLock> lock(conn->mu);
    send_block_response(*conn, *req, block_event);
  }
}

std::string Agent::emit_finding(const InFlight& req, const Finding& f) noexcept {
  try {
    std::string request = request_id(req);
    auto e = event_from_finding(RequestInfo{config_.app, req.raw.method, request, &req.ctx}, f);
    std::string id = e->event_id;
    counters_.detections.fetch_add(1, std::memory_order_relaxed);
    push_event(std::move(e));
    return id;
  } catch (...) {
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
    return {};
  }
}

std::string Agent::emit_detection(const InFlight& req, const Sink& sink, std::string_view function,
                                  const Detection& d, Outcome outcome, std::string note) noexcept {
  try {
    std::string request = request_id(req);
    auto e = event_from_detection(RequestInfo{config_.app, req.raw.method, request, &req.ctx}, sink,
                                  function, d, outcome, std::move(note));
    std::string id = e->event_id;
    counters_.detections.fetch_add(1, std::memory_order_relaxed);
    push_event(std::move(e));
    return id;
  } catch (...) {
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
    return {};
  }
}

void Agent::push_event(std::unique_ptr<Event> e) noexcept {
  if (in_forked_child()) events_->write_now(std::move(e));
  else events_->push(std::move(e));
}

// Writes the 403 on the connection (REQUIRES: conn.mu held) unless the response has started.
void Agent::send_block_response(Connection& conn, InFlight& req, const std::string& event_id) noexcept {
  if (conn.absorbing) return;
  if (!own_process()) [[unlikely]] {
    // A vfork() child (the program's spawner, before its exec) runs on this process's memory
    // but not its descriptors, which it may have closed already: the 403 is left to this
    // process, through the children's page (counted here already; nothing allocated in the
    // child, whose parent's other threads may be in malloc). Without the page, the program's
    // own answer goes out.
    post_reply(pid_.load(std::memory_order_relaxed), req.serial, event_id, 0, 0, true);
    return;
  }
  conn.absorbing = true;
  conn.eof_to_program = true;
  // A TLS connection's 403 must be a TLS record, written through the program's session, and
  // only by the thread that read the request (an SSL object is not for two threads at once; the
  // program's own thread is between its SSL_read and its next call on it).
  auto tls_write = conn.tls ? real::SSL_write_ptr() : nullptr;
  const bool tls_ok = tls_write != nullptr && conn.tls_session != nullptr &&
                      req.reader == this_thread();
  // On HTTP/2 the agent's frames go in only between the program's, and only from the thread
  // that read the request (the program's thread that would write is then in the agent).
  const bool too_late = conn.h2 ? req.reader != this_thread() || !conn.h2->socket_at_boundary
                                : conn.response_started;
  if (too_late || (conn.tls && !tls_ok)) {
    // Too late for a clean 403 (or no way to write one): end the response so the client does
    // not get the rest.
    ::shutdown(conn.fd, SHUT_RDWR);
    return;
  }
  std::string_view accept = req.ctx.header("accept");
  bool json = accept.find("application/json") != std::string_view::npos &&
              accept.find("text/html") == std::string_view::npos;
  std::string id = event_id.empty() ? request_id(req) : event_id;
  std::string body = block_body(id, json);
  const std::string type = json ? "application/json" : "text/html; charset=utf-8";
  std::string response =
      conn.h2     ? h2_block_frames(!conn.h2->socket_wrote, req.h2_stream,
                                    h2_head_out(*conn.h2, req.h2_stream), conn.h2->in.last_stream(),
                                    type, id, body)
      : conn.fcgi ? FcgiResponseWriter::response(  // the web server relays a CGI answer
                      conn.fcgi->in.request_id(),
                      "Status: 403 Forbidden\r\nContent-Type: " + type + "\r\nX-Vigil-Event: " + id +
                          "\r\n\r\n" + body)
                : "HTTP/1.1 403 Forbidden\r\nContent-Type: " + type + "\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\nConnection: close\r\nX-Vigil-Event: " + id +
                      "\r\n\r\n" + body;
  const char* p = response.data();
  std::size_t left = response.size();
  while (left > 0) {
    ssize_t w = tls_ok ? tls_write(static_cast<SSL*>(conn.tls_session), p,
                                   static_cast<int>(std::min<std::size_t>(left, INT_MAX)))
                       : real::send_ptr()(conn.fd, p, left, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR && !tls_ok) continue;
    if (w <= 0) break;
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  conn.response_started = true;
  ::shutdown(conn.fd, SHUT_WR);
}

namespace {

bool distinctive(const Verdict& v, const RequestContext& ctx) noexcept {
  auto inputs = ctx.inputs();
  for (const Detection& d : v.detections) {
    if (d.input >= inputs.size()) return true;  // not ours to second-guess
    std::string_view value = inputs[d.input].value;
    if (value.size() >= 8) return true;
    for (char c : value)
      if (!(common::is_alnum(c) || c == '_')) return true;
  }
  return false;
}

}  // namespace

// Checks `sink` against one request's inputs. Returns true when the request owns the call
// (`own`: the request this thread serves; another request owns it only through an input
// distinctive enough not to be a coincidence), after reporting and, if a rule says so, blocking.
inline bool Agent::check_request(const std::shared_ptr<InFlight>& req, bool own, const Sink& sink,
                                 std::string_view function, SinkDecision* decision,
                                 bool* clean) noexcept {
  Verdict v = engine_.check_sink(sink, req->prepared, &req->ctx);
  if (v.failed_open) [[unlikely]] counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
  if (!v.attack()) [[likely]] {
    if (clean != nullptr) *clean = !v.failed_open;
    return false;
  }
  return report_sink(req, own, sink, function, v, decision);
}

bool Agent::report_sink(const std::shared_ptr<InFlight>& req, bool own, const Sink& sink,
                        std::string_view function, const Verdict& v,
                        SinkDecision* decision) noexcept {
  // A background thread's constant SQL ("SET events = events + ?") shares words with whatever
  // path a request happens to have ("/api/v1/events").
  if (!own && !distinctive(v, req->ctx)) return false;
  bool block = false;
  for (const Detection& d : v.detections) block |= d.mode == Mode::kBlock;
  std::shared_ptr<Connection> conn = req->conn.lock();
  bool started = false;
  if (conn) {
    std::lock_guard<SpinLock> lock(conn->mu);
    started = conn->response_started;
  }
  std::string first_id;
  for (const Detection& d : v.detections) {
    Outcome outcome = d.mode == Mode::kBlock ? Outcome::kBlocked : Outcome::kExploited;
    std::string note;
    if (d.mode == Mode::kBlock && req->inherited)
      note = "stopped in a child process before it ran the command; the parent process answers the request";
    else if (d.mode == Mode::kBlock && started)
      note = "the response had already started; the operation was stopped and the connection closed";
    std::string id = emit_detection(*req, sink, function, d, outcome, note);
    if (first_id.empty()) first_id = id;
  }
  if (block) {
    decision->block = true;
    req->blocked.store(true);
    counters_.blocked.fetch_add(1, std::memory_order_relaxed);
    if (conn) {
      std::lock_guard<SpinLock> lock(conn->mu);
      send_block_response(*conn, *req, first_id);
    }
  }
  // A child's parent counts what the child reported, and answers a blocked request with the
  // 403 naming this event.
  if (req->inherited) [[unlikely]]
    tell_parent(*req, first_id, static_cast<std::uint32_t>(v.detections.size()), block);
  return true;
}

bool Agent::check_request_sink(const std::shared_ptr<InFlight>& req, const Sink& sink,
                               std::string_view function) noexcept {
  SinkDecision decision;
  try {
    counters_.sinks.fetch_add(1, std::memory_order_relaxed);
    check_request(req, /*own=*/true, sink, function, &decision);
  } catch (...) {
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
  }
  return decision.block;
}

inline bool Agent::candidates(std::shared_ptr<InFlight>* own,
                              std::vector<std::shared_ptr<InFlight>>* others) const {
  const std::uint64_t me = this_thread();
  std::lock_guard<SpinLock> lock(flight_mu_);
  bool mine_too = false;  // another request in flight that this thread read: an event loop
  for (const auto& r : in_flight_) {
    if (r.get() == t_current && r->serial == t_current_serial) *own = r;
    else if (r->reader == me) mine_too = true;
  }
  // A thread serving the one request it read: the call is that request's.
  if (*own && (*own)->reader == me && !mine_too) [[likely]] return true;
  others->reserve(in_flight_.size());
  for (const auto& r : in_flight_)
    if (r != *own) others->push_back(r);
  return false;
}

std::uint64_t Agent::thread_request_serial() noexcept { return t_current_serial; }

SinkDecision Agent::check_sink(const Sink& sink, std::string_view function) noexcept {
  return check_sink_here(sink, function);
}

SinkDecision Agent::check_sink_guarded(const Sink& sink, std::string_view function) noexcept {
  Guard g;
  ErrnoSaver saver;  // the program sees the real call's errno
  return check_sink_here(sink, function);
}

inline SinkDecision Agent::check_sink_here(const Sink& sink, std::string_view function) noexcept {
  SinkDecision decision;
  if (!has_requests_in_flight()) return decision;
  try {
    counters_.sinks.fetch_add(1, std::memory_order_relaxed);
    // The request this thread is serving first; then the others (event-loop servers, threads
    // that serve requests another thread read). One request owns the call.
    std::shared_ptr<InFlight> own;
    std::vector<std::shared_ptr<InFlight>> others;  // filled only for the rare case
    if (candidates(&own, &others)) [[likely]] {
      check_request(own, true, sink, function, &decision);
      return decision;
    }
    check_all(own, others, sink, function, &decision);
  } catch (...) {
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
  }
  return decision;
}

namespace {

// Writes `field` preceded by its length at `out`; returns where it ends.
char* put_field(char* out, std::string_view field) noexcept {
  const auto size = static_cast<std::uint32_t>(field.size());
  std::memcpy(out, &size, sizeof size);
  if (!field.empty()) std::memcpy(out + sizeof size, field.data(), field.size());
  return out + sizeof size + field.size();
}

// What the engine's verdict on a sink depends on besides the sink: the inputs (source, name,
// value) the detectors read, and the path and client the policy's exclusions read. Two requests
// with the same signature get the same verdict on any sink. Each field is preceded by its
// length, so that no two different requests have the same signature. Null while another
// thread builds it, or when it could not be built.
const std::string* signature_of(InFlight& r) noexcept {
  std::uint8_t state = r.signature_state.load(std::memory_order_acquire);
  if (state == kSignatureReady) [[likely]] return &r.signature;
  if (state != kSignatureNone ||
      !r.signature_state.compare_exchange_strong(state, kSignatureBuilding,
                                                 std::memory_order_acq_rel))
    return state == kSignatureReady ? &r.signature : nullptr;
  const std::string_view path = r.ctx.path(), client = r.ctx.client_ip();
  const std::span<const Input> inputs = r.ctx.inputs();
  constexpr std::size_t kLength = sizeof(std::uint32_t);
  std::size_t size = 2 * kLength + path.size() + client.size();
  for (const Input& in : inputs) size += 1 + 2 * kLength + in.name.size() + in.value.size();
  try {
    r.signature.resize(size);  // written once, in place (appends grew it field by field)
    char* out = put_field(put_field(r.signature.data(), path), client);
    for (const Input& in : inputs) {
      *out++ = static_cast<char>(in.source);
      out = put_field(put_field(out, in.name), in.value);
    }
  } catch (...) {
    r.signature_state.store(kSignatureNever, std::memory_order_release);
    return nullptr;
  }
  r.signature_state.store(kSignatureReady, std::memory_order_release);
  return &r.signature;
}

}  // namespace

void Agent::check_all(const std::shared_ptr<InFlight>& own,
                      const std::vector<std::shared_ptr<InFlight>>& others, const Sink& sink,
                      std::string_view function, SinkDecision* decision) {
  // An event loop's sink call is checked against every request the loop has in flight. Those
  // this call found clean are kept: a request with the same inputs, path and client would get
  // the same verdict, and is not checked again (identical requests in flight together: a
  // polling client's, a load test's; eight connections sending the same request cost eight
  // checks of each file the loop opened). Only clean verdicts are reused: an attack is
  // reported for the request it is found in, as before.
  constexpr std::size_t kKeptClean = 8;
  const std::string* clean[kKeptClean];
  std::size_t kept = 0;
  auto check_one = [&](const std::shared_ptr<InFlight>& req, bool is_own) {
    const std::string* signature = signature_of(*req);
    if (signature != nullptr) {
      for (std::size_t i = 0; i < kept; ++i)
        if (*clean[i] == *signature) return false;
    }
    bool found_clean = false;
    if (check_request(req, is_own, sink, function, decision, &found_clean)) return true;
    // (A request whose inputs could not be prepared is clean for want of them: not reused.)
    if (found_clean && signature != nullptr && req->prepared.impl() != nullptr &&
        kept < kKeptClean)
      clean[kept++] = signature;
    return false;
  };
  if (own && check_one(own, true)) return;
  for (const auto& req : others)
    if (check_one(req, false)) break;
}

namespace {

// Agent::outbound_ values.
enum OutboundState : std::uint8_t {
  kOutNone = 0,
  kOutFromStart = 1,  // connected while the agent ran: its first bytes will be seen
  kOutJoined = 2,     // connected before the agent started: joined at its next write
  kOutFollowed = 3,   // a database stream (PostgreSQL or MySQL), followed
  kOutOther = 4,      // not one: no longer looked at
  kOutBlocked = 5,    // a statement on it was blocked: its writes fail
};

}  // namespace

std::atomic<std::uint8_t> Agent::outbound_[Agent::kMaxFd] = {};

void Agent::note_connected(int fd) noexcept {
  if (fd < 0 || fd >= kMaxFd) return;
  outbound_[fd].store(get() != nullptr ? kOutFromStart : kOutJoined, std::memory_order_relaxed);
}

void Agent::on_outbound_close(int fd) noexcept {
  if (fd < 0 || fd >= kMaxFd) return;
  outbound_[fd].store(kOutNone, std::memory_order_relaxed);
  Agent* a = get();
  if (a == nullptr) return;
  std::lock_guard<SpinLock> lock(a->wire_mu_);
  a->wire_.erase(fd);
}

void Agent::not_followed(int fd) noexcept {
  if (fd < 0 || fd >= kMaxFd) return;
  if (outbound_[fd].load(std::memory_order_relaxed) != kOutNone)
    outbound_[fd].store(kOutOther, std::memory_order_relaxed);
}

namespace {

// A statement read from a database protocol.
struct WireStatement {
  Dialect dialect;
  const char* message;  // the protocol's name for it
  std::string sql;
  bool cut;
};

// Feeds one write to a stream's protocols (those still possible); false when none reads it.
// Statements found are appended to *found.
bool feed_stream(Agent::DbStream* s, std::string_view data, std::vector<WireStatement>* found,
                 std::size_t* unread) {
  thread_local std::vector<PgWire::Statement> t_pg;
  thread_local std::vector<MyWire::Statement> t_my;
  t_pg.clear();
  t_my.clear();
  if (s->pg_alive) s->pg_alive = s->pg.feed(data, &t_pg);
  if (s->my_alive) s->my_alive = s->my.feed(data, &t_my);
  // Once one protocol has read the stream's bytes, the other is dropped.
  if (s->pg_alive && s->pg.confirmed()) s->my_alive = false;
  else if (s->my_alive && s->my.confirmed()) s->pg_alive = false;
  if (s->pg_alive && s->pg.confirmed()) {
    for (auto& st : t_pg)
      found->push_back({Dialect::kPostgres,
                        st.type == 'Q'   ? "PostgreSQL Query"
                        : st.type == 'P' ? "PostgreSQL Parse"
                                         : "PostgreSQL Bind",
                        std::move(st.sql), st.cut});
    // A Bind of a statement whose text is unknown runs unchecked: counted as a fail-open.
    *unread = s->pg.unknown_binds() - s->pg_unknown;
    s->pg_unknown = s->pg.unknown_binds();
  } else if (s->my_alive && s->my.confirmed()) {
    for (auto& st : t_my)
      found->push_back({Dialect::kMysql, st.type == 'Q' ? "MySQL COM_QUERY" : "MySQL COM_STMT_PREPARE",
                        std::move(st.sql), st.cut});
    *unread = s->my.unread() - s->my_unread;
    s->my_unread = s->my.unread();
  }
  return s->pg_alive || s->my_alive;
}

}  // namespace

bool Agent::on_outbound_write(int fd, std::string_view data, const char* function) noexcept {
  if (fd < 0 || fd >= kMaxFd || data.empty()) return true;
  std::atomic<std::uint8_t>& state = outbound_[fd];
  const std::uint8_t now = state.load(std::memory_order_relaxed);
  if (now == kOutBlocked) return false;
  if (now == kOutNone || now == kOutOther) return true;
  Guard g;
  ErrnoSaver saver;
  // The statements of this write, in a buffer this thread keeps.
  thread_local std::vector<WireStatement> t_found;
  std::vector<WireStatement>& found = t_found;
  found.clear();
  std::size_t unread = 0;
  try {
    std::lock_guard<SpinLock> lock(wire_mu_);
    auto it = wire_.find(fd);
    if (it == wire_.end()) {
      it = wire_.emplace(fd, DbStream(now == kOutFromStart)).first;
    } else if (now != kOutFollowed) {  // an earlier connection's, its close unseen: a new stream
      it->second = DbStream(now == kOutFromStart);
    }
    if (!feed_stream(&it->second, data, &found, &unread)) {
      wire_.erase(it);
      state.store(kOutOther, std::memory_order_relaxed);
      return true;
    }
    state.store(kOutFollowed, std::memory_order_relaxed);
  } catch (...) {  // no memory for a stream: stop following it
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
    state.store(kOutOther, std::memory_order_relaxed);
    return true;
  }
  // Commands whose SQL could not be read are checked by input analysis only.
  if (unread != 0) counters_.fail_opens.fetch_add(unread, std::memory_order_relaxed);
  if (found.empty() || !has_requests_in_flight()) return true;
  for (const WireStatement& st : found) {
    // A statement longer than the kept part is checked on its start: what follows is not.
    if (st.cut) counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
    char label[64];
    std::snprintf(label, sizeof label, "%s (%s)", function, st.message);
    if (check_sink_guarded(Sink::sql(st.dialect, st.sql), label).block) {
      state.store(kOutBlocked, std::memory_order_relaxed);
      ::shutdown(fd, SHUT_RDWR);
      return false;
    }
  }
  return true;
}

void Agent::note_lookup(const char* node, const addrinfo* results) noexcept {
  if (node == nullptr || results == nullptr || !has_requests_in_flight()) return;
  try {
    if (t_lookups == nullptr) t_lookups = new std::vector<Lookup>();  // per thread, never freed
    Lookup l;
    l.name = node;
    for (const addrinfo* r = results; r != nullptr && l.addresses.size() < 16; r = r->ai_next)
      if (r->ai_addr && (r->ai_family == AF_INET || r->ai_family == AF_INET6))
        l.addresses.push_back(address_key(r->ai_addr));
    if (t_lookups->size() >= kLookups) t_lookups->erase(t_lookups->begin());
    t_lookups->push_back(std::move(l));
  } catch (...) {
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
  }
}

SinkDecision Agent::check_connect(const sockaddr* addr, socklen_t len) noexcept {
  SinkDecision decision;
  if (addr == nullptr || !has_requests_in_flight() ||
      (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
    return decision;
  // A dual-stack socket (the JVM's by default) reaches an IPv4 address by its IPv4-mapped IPv6
  // form: judged as the IPv4 address the input names.
  sockaddr_in mapped{};
  if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* six = reinterpret_cast<const sockaddr_in6*>(addr);
    if (IN6_IS_ADDR_V4MAPPED(&six->sin6_addr)) {
      mapped.sin_family = AF_INET;
      mapped.sin_port = six->sin6_port;
      std::memcpy(&mapped.sin_addr, six->sin6_addr.s6_addr + 12, 4);
      addr = reinterpret_cast<const sockaddr*>(&mapped);
    }
  }
  try {
    tokenize::url::HostInfo info = classify_address(addr);
    if (!tokenize::url::is_internal(info.cls)) return decision;
    counters_.sinks.fetch_add(1, std::memory_order_relaxed);
    char ip[INET6_ADDRSTRLEN] = "";
    int port = 0;
    if (addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, ip, sizeof ip);
      port = ntohs(reinterpret_cast<const sockaddr_in*>(addr)->sin_port);
    } else {
      inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, ip, sizeof ip);
      port = ntohs(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_port);
    }
    // The names that led here: the lookups on this thread that returned this address, and the
    // address itself as text.
    std::vector<std::string> names;
    auto key = address_key(addr);
    if (t_lookups)
      for (const Lookup& l : *t_lookups)
        for (const auto& a : l.addresses)
          if (a == key) names.push_back(l.name);
    std::size_t looked_up = names.size();
    names.emplace_back(ip);
    std::shared_ptr<InFlight> own;
    std::vector<std::shared_ptr<InFlight>> requests;
    candidates(&own, &requests);
    if (own) requests.insert(requests.begin(), std::move(own));
    for (auto& req : requests) {
      const PreparedInputs::Impl* impl = req->prepared.impl();
      if (impl == nullptr) continue;
      for (std::size_t k = 0; k < names.size(); ++k) {
        const std::string& name = names[k];
        std::string lname = common::folded(name);
        for (const auto& entry : impl->entries) {
          std::size_t at = entry.folded.find(lname);
          if (at == std::string_view::npos || name.size() < 3) continue;
          // The name must be the input's host, not a coincidence inside other text: it is
          // the whole input or a URL's authority (after "//" or "@"), and it ends the input
          // or is followed by a port, a path, a query or a fragment. An address the program
          // connects to without looking it up (its database, say) counts only in URL form.
          std::size_t after = at + lname.size();
          if (after < entry.folded.size() && std::string_view(":/?#]").find(entry.folded[after]) == std::string_view::npos)
            continue;
          bool authority = (at >= 2 && entry.folded.substr(at - 2, 2) == "//") ||
                           (at >= 1 && (entry.folded[at - 1] == '@' || entry.folded[at - 1] == '['));
          bool whole = at == 0 && after == entry.folded.size();
          if (!authority && !(whole && k < looked_up)) continue;
          Detection d;
          d.rule = "ssrf";
          d.cwe = "CWE-918";
          d.mode = engine_.policy()->mode_for("ssrf");
          if (d.mode == Mode::kOff) return decision;
          d.input = entry.input;
          d.form = entry.form;
          d.begin = static_cast<std::uint32_t>(at);
          d.end = static_cast<std::uint32_t>(after);
          d.reason = "input made the program connect to " + std::string(ip) + " (" +
                     std::string(tokenize::url::host_class_name(info.cls)) + ")" +
                     (name != ip ? ", the address the name " + name + " resolved to" : std::string());
          std::string op = "connect " + std::string(ip) + ":" + std::to_string(port) +
                           (name != ip ? " (" + name + ")" : std::string());
          Sink sink = Sink::of(SinkType::kUrl, op);
          bool block = d.mode == Mode::kBlock;
          std::string id = emit_detection(*req, sink, "connect", d,
                                          block ? Outcome::kBlocked : Outcome::kExploited, "");
          if (block) {
            decision.block = true;
            req->blocked.store(true);
            counters_.blocked.fetch_add(1, std::memory_order_relaxed);
            if (auto conn = req->conn.lock()) {
              std::lock_guard<SpinLock> lock(conn->mu);
              send_block_response(*conn, *req, id);
            }
          }
          return decision;
        }
      }
    }
  } catch (...) {
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
  }
  return decision;
}

bool Agent::on_write(int fd, std::string_view data, void* tls) noexcept {
  if (t_launchers.count != 0) [[unlikely]] settle_launchers();
  if (children_replied()) [[unlikely]] settle_children();
  // No reference taken: the connection lives while its lock is held (locked_connection).
  SpinHold lock;
  Connection* conn = locked_connection(fd, &lock);
  if (conn == nullptr) return true;
  if (conn->fcgi && !conn->absorbing && !conn->not_http) [[unlikely]] {
    // The response records, as the HTTP/1.1 text they carry (every write is read, to keep the
    // records' framing).
    std::string& http = conn->fcgi->out_http;
    http.clear();
    try {
      if (!conn->fcgi->out.feed(data, &http)) {
        // Records that are not FastCGI 1: the connection is no longer read, and counted so
        // (the sensor-health view shows it), as when the web server's records are not.
        conn->not_http = true;
        counters_.not_http.fetch_add(1, std::memory_order_relaxed);
        return true;
      }
    } catch (...) {
      counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
      conn->not_http = true;
      return true;
    }
    if (http.empty()) return true;
    data = http;
  }
  if (conn->h2 && !conn->absorbing && !conn->not_http && !(conn->tls && tls == nullptr))
      [[unlikely]]
    return watch_h2_write(conn, lock, data);
  // TLS records (the plaintext comes through SSL_write), writes after a block (absorbed), no
  // request or not HTTP (let through): one test on the usual path.
  if ((conn->tls && tls == nullptr) || conn->absorbing || !conn->current || conn->not_http)
      [[unlikely]]
    return !conn->absorbing;
  try {
    InFlight* current = conn->current.get();
    conn->response.watch_html = current->html_input;
    conn->response.to_head = current->head_method;
    std::string_view completed_head;
    std::string_view body = conn->response.feed(data, &completed_head);
    if (conn->response.switched) [[unlikely]] return switch_protocols(conn, lock, body);
    t_current = current;
    t_current_serial = current->serial;
    // Only what some check needs is looked at: the header block when an input holds a line
    // break (header injection) or the response redirects, the body when it is HTML. A JSON
    // answer, say, costs no copy and no second look.
    bool check_head = !completed_head.empty() &&
                      (current->line_break_input || conn->response.location);
    // A body that could not be decoded (whole) is checked on what was decoded, and counted
    // once, whether or not this write asks for a check.
    if (conn->response.decode_fault) [[unlikely]] {
      conn->response.decode_fault = false;
      counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
    }
    bool check_html = conn->response.html && current->html_input && !body.empty() &&
                      html_check_due(engine_, conn->response, current->prepared);
    if (check_head || check_html) [[unlikely]]
      return check_response(*conn, lock, completed_head, check_head, check_html);
    // A 1xx response alone (100 Continue, before the client sends the body) is not the start of
    // the response: a block after it still answers 403 (it got an empty reply).
    conn->response_started = conn->response.head_done || !conn->response.head.empty();
    if (conn->response.done) end_response(*conn, lock);
    return true;
  } catch (...) {
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
}

bool Agent::switch_protocols(Connection* conn, SpinHold& lock, std::string_view rest) noexcept {
  std::shared_ptr<InFlight> upgraded = std::move(conn->current);
  const std::string_view asked = upgraded ? upgraded->ctx.header("upgrade") : std::string_view();
  bool h2c = false;
  for (std::size_t at = 0; !h2c && at + 3 <= asked.size(); ++at)
    h2c = common::iequals(asked.substr(at, 3), "h2c") &&
          (at + 3 == asked.size() || asked[at + 3] == ',' || asked[at + 3] == ' ');
  if (!h2c || conn->fcgi || conn->h2) {
    // WebSocket and the like: nothing more of this connection is HTTP.
    conn->not_http = true;
    counters_.not_http.fetch_add(1, std::memory_order_relaxed);
    lock.unlock();
    if (upgraded) retire(std::move(upgraded));
    return true;
  }
  // HTTP/2 from here on (RFC 7540 section 3.2): the client's preface comes next, and the upgrade
  // request is stream 1, whose response the program writes as HTTP/2 frames.
  try {
    conn->h2 = std::make_unique<Connection::Http2>(conn->max_body);
    conn->carried = true;
    upgraded->h2_stream = 1;
    conn->h2->open.push_back(std::move(upgraded));
  } catch (...) {
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
    conn->not_http = true;
    lock.unlock();
    if (upgraded) retire(std::move(upgraded));
    return true;
  }
  // The 101 and any frames after it go out in this write: the frames are read as a write of
  // their own (the socket is at a frame boundary after the 101).
  return watch_h2_write(conn, lock, rest);
}

bool Agent::read_h2(Connection& conn, std::string_view bytes) noexcept {
  Connection::Http2& h = *conn.h2;
  H2RequestReader::Output& read = h.read;
  read.http.clear();
  read.streams.clear();
  read.reset.clear();
  read.unread = 0;
  h.next_stream = 0;
  bool alive = false;
  try {
    alive = h.in.feed(bytes, &read);
    take_streams(h, read.reset, &h.cancelled);
  } catch (...) {  // memory: nothing of this read is trusted
    read.http.clear();
    read.streams.clear();
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
  }
  // Requests the agent could not read whole: each is a request not protected, counted.
  if (read.unread > 0) counters_.fail_opens.fetch_add(read.unread, std::memory_order_relaxed);
  return alive;
}

// A check of a response to run without the connection's lock: its header block, or the HTML of
// its body so far (`done`: all of it).
struct Agent::H2Check {
  std::shared_ptr<InFlight> req;
  std::string head, html;
  bool done = false;
};

bool Agent::watch_h2_write(Connection* conn, SpinHold& lock, std::string_view data) noexcept {
  Connection::Http2& h = *conn->h2;
  std::vector<std::shared_ptr<InFlight>> ended;
  std::vector<H2Check> checks;
  try {
    h.out.feed(data, &h.written);
    if (h.out.heads_lost() && !h.heads_lost_counted) [[unlikely]] {
      h.heads_lost_counted = true;  // the responses from here on are not checked
      counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
    }
    for (const H2ResponseReader::Piece& p : h.written) {
      std::shared_ptr<InFlight> req = h2_request(h, p.stream);
      Connection::Http2::Response* r = h2_response(h, p.stream);
      if (p.kind == H2ResponseReader::Piece::kHead) {
        if (!req || r != nullptr) continue;  // no request read, or a second head
        h.responses.push_back(std::make_unique<Connection::Http2::Response>());
        r = h.responses.back().get();
        r->stream = p.stream;
        std::string_view completed;
        r->tracker.feed(p.bytes, &completed);
        if (!completed.empty() && (req->line_break_input || r->tracker.location))
          checks.push_back(H2Check{req, std::string(completed), {}, false});
        continue;
      }
      if (req && r) {
        std::string_view ignored;
        std::string_view body = p.kind == H2ResponseReader::Piece::kData
                                    ? r->tracker.feed(p.bytes, &ignored)
                                    : std::string_view();
        if (p.kind == H2ResponseReader::Piece::kEnd) r->tracker.done = true;
        if (r->tracker.html && (!body.empty() || r->tracker.done) &&
            html_check_due(engine_, r->tracker, req->prepared)) {
          r->tracker.html_checked = r->tracker.body.size();
          r->tracker.html_checked_partial = !r->tracker.done;
          checks.push_back(H2Check{req, {}, r->tracker.body, r->tracker.done});
        }
      }
      if (p.kind == H2ResponseReader::Piece::kEnd) {
        if (r != nullptr)
          h.responses.erase(std::find_if(h.responses.begin(), h.responses.end(),
                                         [&](const auto& x) { return x.get() == r; }));
        take_streams(h, {p.stream}, &ended);
      }
    }
  } catch (...) {
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
  }
  bool proceed = true;
  if (!checks.empty()) [[unlikely]] {
    // Kept alive while the lock is let go.
    std::shared_ptr<Connection> keep = checks.front().req->conn.lock();
    lock.unlock();
    bool block = false;
    for (const H2Check& c : checks) {
      if (block) break;
      if (!c.head.empty()) {
        block = check_response_head(c.req, c.head);
      } else {
        Sink page = Sink::of(SinkType::kHtml, c.html);
        page.partial = !c.done;
        block = check_request_sink(c.req, page, "http.response.body");
      }
    }
    if (!keep) {  // the connection is gone: nothing to write on, its ended requests still retire
      for (auto& r : ended) retire(std::move(r));
      return true;
    }
    lock.lock();
    proceed = !block && !conn->absorbing;
  }
  if (proceed) {  // the write goes out: what the socket saw
    h.socket_at_boundary = h.out.at_frame_boundary();
    h.socket_wrote = h.out.wrote_any();
    for (const H2ResponseReader::Piece& p : h.written)
      if (p.kind == H2ResponseReader::Piece::kHead)
        if (Connection::Http2::Response* r = h2_response(h, p.stream)) r->head_out = true;
  }
  lock.unlock();
  for (auto& r : ended) retire(std::move(r));
  return proceed;
}

bool Agent::check_response_head(const std::shared_ptr<InFlight>& req, std::string_view head) {
  bool block = false;
  // The header block the program wrote: CR/LF injection, and where a redirect goes.
  if (req->line_break_input)
    block |= check_request_sink(req, Sink::of(SinkType::kHeader, head), "http.response.headers");
  std::size_t loc = find_header_line(head, "location");
  if (loc != std::string::npos) {
    std::size_t start = loc + 9;  // "location:"
    std::size_t end = head.find("\r\n", start);
    std::string_view target = common::trim(head.substr(start, end - start));
    std::string_view host = req->ctx.header("host");
    std::string base = "http://" + std::string(host.empty() ? "localhost" : host) + "/";
    block |= check_request_sink(req, Sink::of(SinkType::kRedirect, target, base),
                                "http.response.location");
  }
  return block;
}

bool Agent::check_response(Connection& connection, SpinHold& lock,
                           std::string_view completed_head, bool check_head,
                           bool check_html) {
  // Kept alive while the lock is let go: the request's link to its connection.
  std::shared_ptr<InFlight> req = connection.current;
  const InFlight* checked = req.get();
  std::shared_ptr<Connection> conn = req->conn.lock();
  if (!conn) return true;
  // Copies to check without the connection's lock, in buffers this thread keeps.
  std::string& head = t_response_head;
  std::string& html = t_response_html;
  head.clear();
  html.clear();
  if (check_head) head.assign(completed_head);
  bool done = conn->response.done;
  if (check_html) {
    html.assign(conn->response.body);
    conn->response.html_checked = html.size();
    conn->response.html_checked_partial = !done;
  }
  lock.unlock();
  bool block = false;
  // The response belongs to the connection's request: only its inputs are looked for.
  if (check_head) block = check_response_head(req, head);
  if (!html.empty() && !block) {
    Sink page = Sink::of(SinkType::kHtml, html);
    page.partial = !done;  // more of the page may follow: what is open at its end is not judged
    block |= check_request_sink(req, page, "http.response.body");
  }
  if (html.capacity() > 64 * 1024) std::string().swap(html);  // not kept for every thread
  if (head.capacity() > 64 * 1024) std::string().swap(head);
  lock.lock();
  bool proceed = !block && !conn->absorbing;
  if (proceed) conn->response_started = true;
  req.reset();
  // Let go while `conn` holds the connection: it may be the last reference (closed meanwhile),
  // and the caller's lock must not outlive it.
  if (proceed && done && conn->current.get() == checked) end_response(*conn, lock);
  else lock.unlock();
  return proceed;
}

void Agent::write_status() noexcept {
  if (config_.status_path.empty()) return;
  try {
    write_file_atomically(config_.status_path,
                          status_json(counters_, config_.app, mode_name(config_.mode),
                                      link_ ? link_->counters_fragment() : std::string()));
  } catch (...) {
  }
}

void Agent::flush_events(int timeout_ms) noexcept { events_->flush(timeout_ms); }

void Agent::start_writer() noexcept { events_->start(); }

void Agent::stop_server(int timeout_ms) noexcept {
  if (link_) link_->stop(std::chrono::milliseconds(timeout_ms));
}

void Agent::set_status_writer(void (*fn)(void*), void* arg) noexcept { events_->set_status_writer(fn, arg); }

void Agent::before_fork() noexcept {
  events_->prepare_fork();
  for (FdShard& s : fd_shards_) s.mu.lock();
  flight_mu_.lock();
  wire_mu_.lock();  // the database streams' table is whole in the child
}

void Agent::after_fork_parent() noexcept {
  wire_mu_.unlock();
  flight_mu_.unlock();
  for (FdShard& s : fd_shards_) s.mu.unlock();
  events_->parent_after_fork();
}

void Agent::after_fork_child() noexcept {
  // Only this thread survives. Locks held by vanished threads are recreated; connections get
  // fresh state (a fork-per-connection server's child reads the request itself). The parent's
  // requests in flight stay visible to sink checks until the child serves requests of its own:
  // a fork-then-exec (libuv, Node.js child_process) runs a command on behalf of the request this
  // thread was serving. Their connections belong to the parent and are never touched here.
  // The requests seen from here belong to the process forked from (or, in a child of a child
  // that served nothing, to the one they came from first).
  if (!forked_child_.load(std::memory_order_relaxed)) inherited_from_ = pid_.load();
  pid_.store(getpid());
  counted_apart_ = false;  // this process's counters are its parent's (count_apart may follow)
  new (&flight_mu_) SpinLock();
  new (&replies_mu_) SpinLock();
  new (&wire_mu_) SpinLock();
  for (FdShard& s : fd_shards_) new (&s.mu) SpinLock();
  for (auto& r : in_flight_) {
    r->inherited = true;
    new (&r->conn) std::weak_ptr<Connection>();  // the parent's: leaked on purpose
  }
  forked_child_.store(!in_flight_.empty());
  for (int fd = 0; fd < kMaxFd; ++fd) {
    if (!tracked_[fd].load(std::memory_order_relaxed)) continue;
    std::shared_ptr<Connection>* s = existing_slot(fd);
    if (s == nullptr) continue;
    std::string peer = *s ? (*s)->peer : std::string();
    new (s) std::shared_ptr<Connection>();  // leaked: its mutex may be held
    auto conn = std::make_shared<Connection>(config_.max_body);
    conn->fd = fd;
    conn->peer = peer;
    *s = std::move(conn);
  }
  events_->child_after_fork();
  if (link_) link_->child_after_fork();
}

std::string Agent::handoff() noexcept {
  try {
    std::vector<std::shared_ptr<InFlight>> requests;
    {
      std::lock_guard<SpinLock> lock(flight_mu_);
      requests = in_flight_;
    }
    std::string out, http;
    begin_handoff(&out);
    // The requests keep their ids: the launcher names them with this process's salt (or, in
    // a fork child, with the salt its parent named them by).
    const std::uint64_t salt = request_id_salt(), parents = inherited_request_id_salt();
    bool any = false;
    // The thread's own request first: it fits before the bounds are reached.
    for (int pass = 0; pass < 2; ++pass) {
      for (const auto& r : requests) {
        bool own = r.get() == t_current && r->serial == t_current_serial;
        if (own != (pass == 0)) continue;
        const context::ParsedRequest& raw = r->raw;
        if (!http1_text(raw.method, raw.target, raw.headers, raw.body, &http)) continue;
        any |= append_handoff(&out, HandedRequest{r->serial, own, r->peer, http,
                                                  r->inherited && parents != 0 ? parents : salt});
      }
    }
    return any ? out : std::string();
  } catch (...) {
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
    return {};
  }
}

void Agent::adopt(std::string_view bytes) noexcept {
  try {
    std::vector<HandedRequest> handed;
    if (!decode_handoff(bytes, &handed)) {
      counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    for (HandedRequest& h : handed) {
      context::Http1Parser parser(context::Http1Parser::Limits{64 * 1024, config_.max_body});
      if (parser.feed(h.http) != context::Http1Parser::Status::kRequest) {
        counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      auto req = new_in_flight();
      swap(req->raw, parser.request());
      req->peer = std::move(h.peer);
      prepare(*req, config_.max_body);
      req->serial = h.serial;
      set_inherited_request_id_salt(h.id_salt);
      req->reader = this_thread();
      req->inherited = true;
      std::lock_guard<SpinLock> lock(flight_mu_);
      in_flight_.push_back(req);
      in_flight_count_.store(in_flight_.size(), std::memory_order_relaxed);
      if (h.own) {
        t_current = req.get();
        t_current_serial = req->serial;
      }
    }
    forked_child_.store(has_requests_in_flight());
  } catch (...) {
    counters_.fail_opens.fetch_add(1, std::memory_order_relaxed);
  }
}

namespace {

// An event id into a reply's fixed field (no allocation: a vfork() child writes them too).
void copy_event_id(char (&out)[40], std::string_view id) noexcept {
  std::size_t n = std::min(id.size(), sizeof out - 1);
  std::memcpy(out, id.data(), n);
  out[n] = '\0';
}

}  // namespace

void Agent::take_child_report(std::uint32_t detections, std::uint32_t blocked, bool answer,
                              std::uint64_t serial, const char (&event_id)[40]) noexcept {
  counters_.detections.fetch_add(detections, std::memory_order_relaxed);
  counters_.events.fetch_add(detections, std::memory_order_relaxed);
  counters_.blocked.fetch_add(blocked, std::memory_order_relaxed);
  if (!answer) return;
  char id[sizeof event_id];  // a copy: the child may write the shared page again meanwhile
  std::memcpy(id, event_id, sizeof id);
  id[sizeof id - 1] = '\0';
  std::shared_ptr<InFlight> req;
  {
    std::lock_guard<SpinLock> lock(flight_mu_);
    for (const auto& r : in_flight_)
      if (r->serial == serial && !r->inherited) req = r;
  }
  std::shared_ptr<Connection> conn = req ? req->conn.lock() : nullptr;
  if (conn) {  // (a request answered already is absorbing: no second 403)
    req->blocked.store(true);
    std::lock_guard<SpinLock> lock(conn->mu);
    send_block_response(*conn, *req, id);
  }
}

void Agent::settle_launchers() noexcept {
  PendingLaunchers& pending = t_launchers;
  unsigned kept = 0;
  for (unsigned i = 0; i < pending.count; ++i) {
    LauncherReply* reply = pending.area[i];
    std::uint32_t state = reply->state.load(std::memory_order_acquire);
    if (state == kReplyNone) {
      pending.area[kept++] = reply;  // still deciding (or never execs: given up when full)
      continue;
    }
    take_child_report(reply->detections.load(std::memory_order_relaxed),
                      reply->blocked.load(std::memory_order_relaxed), state == kReplyBlocked,
                      reply->serial, reply->event_id);
    munmap(reply, kReplyBytes);
  }
  pending.count = kept;
}

void await_launcher(LauncherReply* reply) noexcept {
  PendingLaunchers& pending = t_launchers;
  if (pending.count == std::size(pending.area)) {
    munmap(pending.area[0], kReplyBytes);
    std::memmove(pending.area, pending.area + 1, sizeof pending.area[0] * (pending.count - 1));
    --pending.count;
  }
  pending.area[pending.count++] = reply;
}

void launcher_allowed() noexcept {
  if (LauncherReply* reply = g_reply.load(std::memory_order_acquire)) [[unlikely]] {
    std::uint32_t none = kReplyNone;
    reply->state.compare_exchange_strong(none, kReplyAllowed, std::memory_order_release);
  }
}


inline bool Agent::children_replied() const noexcept {
  return child_replies_ != nullptr &&
         child_replies_->written.load(std::memory_order_relaxed) !=
             replies_seen_.load(std::memory_order_relaxed);
}

void Agent::tell_parent(const InFlight& req, std::string_view event_id, std::uint32_t detections,
                        bool block) noexcept {
  if (LauncherReply* reply = g_reply.load(std::memory_order_acquire)) {  // a launcher
    reply->detections.fetch_add(detections, std::memory_order_relaxed);
    if (!block) return;
    reply->blocked.fetch_add(1, std::memory_order_relaxed);
    std::uint32_t none = kReplyNone;
    reply->serial = req.serial;
    copy_event_id(reply->event_id, event_id);
    reply->state.compare_exchange_strong(none, kReplyBlocked, std::memory_order_release);
    return;
  }
  if (inherited_from_ != 0) {  // a fork()ed child
    // Counted here already, when the counters are the owner's too (see counters_).
    const bool counted = counters_shared_ && !counted_apart_;
    post_reply(inherited_from_, req.serial, event_id, counted ? 0 : detections,
               !counted && block ? 1 : 0, block);
  }
}

void Agent::post_reply(pid_t owner, std::uint64_t serial, std::string_view event_id,
                       std::uint32_t detections, std::uint32_t blocked, bool answer) noexcept {
  if (child_replies_ == nullptr) return;
  std::uint32_t index = child_replies_->written.load(std::memory_order_relaxed);
  ChildReplies::Slot& slot = child_replies_->slot[index % ChildReplies::kSlots];
  slot.ready.store(0, std::memory_order_relaxed);
  slot.owner = owner;
  slot.serial = serial;
  slot.detections = detections;
  slot.blocked = blocked;
  slot.answer = answer ? 1 : 0;
  copy_event_id(slot.event_id, event_id);
  slot.ready.store(1, std::memory_order_release);
  child_replies_->written.fetch_add(1, std::memory_order_release);
}

void Agent::settle_children() noexcept {
  if (!replies_mu_.try_lock()) return;  // another thread reads it now
  const std::uint32_t written = child_replies_->written.load(std::memory_order_acquire);
  std::uint32_t seen = replies_seen_.load(std::memory_order_relaxed);
  if (written - seen > ChildReplies::kSlots) seen = written - ChildReplies::kSlots;  // overwritten
  const pid_t me = getpid();
  for (; seen != written; ++seen) {
    ChildReplies::Slot& slot = child_replies_->slot[seen % ChildReplies::kSlots];
    if (slot.ready.load(std::memory_order_acquire) == 0) break;  // still being written
    if (slot.owner != me) continue;
    take_child_report(slot.detections, slot.blocked, slot.answer != 0, slot.serial,
                      slot.event_id);
  }
  replies_seen_.store(seen, std::memory_order_relaxed);
  replies_mu_.unlock();
}

void Agent::become_own_server() noexcept {
  std::lock_guard<SpinLock> lock(flight_mu_);
  if (!forked_child_.exchange(false)) return;
  std::vector<std::shared_ptr<InFlight>> own;
  for (auto& r : in_flight_) {
    if (r->inherited) new (&r) std::shared_ptr<InFlight>();  // the parent's: leaked on purpose
    else own.push_back(std::move(r));
  }
  in_flight_.swap(own);
  in_flight_count_.store(in_flight_.size(), std::memory_order_relaxed);
  t_current = nullptr;
}

namespace {

std::atomic<Agent*> g_agent{nullptr};
std::atomic<bool> g_arming{false};
std::atomic<bool> g_arming_at_load{false};  // the load-time thread runs (it may not arm yet)
Config* g_config = nullptr;  // read at load time; null when the agent is disabled

void status_trampoline(void* agent) { static_cast<Agent*>(agent)->write_status(); }

// Bounded: the background arming at load time takes milliseconds (a policy compiles, a thread
// or two start); it never waits on the network.
void wait_for_arming() noexcept {
  for (int i = 0; i < 4000 && g_arming.load(); ++i) usleep(500);
}

void atfork_prepare() {
  // A child must not inherit an agent half built by the load-time arming thread.
  wait_for_arming();
  if (Agent* a = g_agent.load()) {
    Guard g;
    a->before_fork();
  }
}
void atfork_parent() {
  if (Agent* a = g_agent.load()) {
    Guard g;
    a->after_fork_parent();
  }
}
void atfork_child() {
  if (Agent* a = g_agent.load()) {
    Guard g;
    // A process that armed at startup and served nothing is a pre-fork master: each worker
    // keeps a status file of its own (pid in the name), as when it armed at its first
    // connection. A fork-per-connection child still reports into its server's file.
    bool own_status = g_config != nullptr && g_config->status_path.empty() &&
                      !g_config->events_path.empty() && a->counters().connections.load() == 0;
    a->after_fork_child();
    if (own_status) {
      a->count_apart();
      try {
        a->set_status_path(g_config->events_path + ".status." + std::to_string(getpid()) + ".json");
      } catch (...) {
      }
    }
  }
  g_arming.store(false);  // a fork while another thread was arming: that thread is gone
  g_arming_at_load.store(false);
}

}  // namespace

Agent* Agent::get() noexcept { return g_agent.load(std::memory_order_acquire); }

// The agent is created when the program first accepts a connection: until then there is no
// request in flight and nothing to check, so the many short-lived processes a server starts
// (the shells of system and popen, the programs they run) never pay for compiling the policy.
// It is never destroyed (hooks may run during exit).
Agent* Agent::arm() noexcept {
  if (Agent* a = get()) return a;
  if (g_config == nullptr) return nullptr;
  bool expected = false;
  if (!g_arming.compare_exchange_strong(expected, true)) {
    // Another thread is creating it: wait a little, else let this call pass through.
    for (int i = 0; i < 2000 && get() == nullptr && g_arming.load(); ++i) usleep(500);
    return get();
  }
  Guard g;
  try {
    Config config = *g_config;
    if (config.status_path.empty() && !config.events_path.empty())
      config.status_path = config.events_path + ".status." + std::to_string(getpid()) + ".json";
    auto* agent = new Agent(std::move(config));
    agent->set_status_writer(&status_trampoline, agent);
    g_agent.store(agent, std::memory_order_release);
  } catch (...) {
    g_config = nullptr;  // fail open for good: every hook passes through
  }
  g_arming.store(false);
  return get();
}

namespace {

// The process `vigil run` started: the first process of the tree that loads the agent (it
// marks VIGIL_AGENT_ROOT with its pid, which its children inherit), or that process again
// after an exec. The shells and helpers it starts later have another pid: they keep arming at
// their first accepted connection, if ever, so they pay nothing.
bool root_process() noexcept {
  char pid[24];
  std::snprintf(pid, sizeof pid, "%ld", static_cast<long>(getpid()));
  const char* root = std::getenv("VIGIL_AGENT_ROOT");
  if (root == nullptr || *root == '\0') return ::setenv("VIGIL_AGENT_ROOT", pid, 1) == 0;
  return std::strcmp(root, pid) == 0;
}

// Registration before traffic: the agent is armed on a background thread (it takes no
// signal meant for the program), and the host goes on at once. A failure leaves the agent
// unarmed, as before: the first accepted connection tries again, or every hook passes through.
void arm_in_background() noexcept {
  try {
    BlockSignals blocked;
    g_arming_at_load.store(true);
    std::thread([] {
      Guard g;
      if (Agent* a = Agent::arm()) a->start_writer();
      g_arming_at_load.store(false);
    }).detach();
  } catch (...) {
    g_arming_at_load.store(false);
  }
}

}  // namespace

namespace {

// A launcher's handoff (handoff.hpp), read at load time: before the launcher's own code runs,
// which may close every descriptor it does not know. Taken at its first exec.
std::atomic<std::string*> g_handoff{nullptr};

void read_handoff() noexcept {
  const char* named = std::getenv(kHandoffVariable);
  if (named == nullptr) return;
  char* end = nullptr;
  long fd = std::strtol(named, &end, 10);
  ::unsetenv(kHandoffVariable);  // not for the program the launcher starts
  if (end == named || *end != '\0' || fd < 0 || fd > INT32_MAX) return;
  // Only the memfd a parent agent made is read and closed: a variable that came some other way
  // must not make the agent close a descriptor of the program's.
  char link[64], target[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%ld", fd);
  ssize_t length = ::readlink(link, target, sizeof target - 1);
  constexpr std::string_view kName = "/memfd:vigil-handoff";
  if (length < static_cast<ssize_t>(kName.size()) ||
      std::string_view(target, kName.size()) != kName)
    return;
  // The answer to the parent goes to the memfd's first bytes, mapped before the launcher's own
  // code closes the descriptor.
  void* area =
      ::mmap(nullptr, kReplyBytes, PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<int>(fd), 0);
  if (area != MAP_FAILED)
    g_reply.store(static_cast<LauncherReply*>(area), std::memory_order_release);
  try {
    auto bytes = std::make_unique<std::string>();
    char buffer[16 * 1024];
    for (off_t at = kReplyBytes; bytes->size() <= kMaxHandoffBytes;) {
      ssize_t n = ::pread(static_cast<int>(fd), buffer, sizeof buffer, at);
      if (n <= 0) break;
      bytes->append(buffer, static_cast<std::size_t>(n));
      at += n;
    }
    g_handoff.store(bytes.release());
  } catch (...) {
  }
  ::close(static_cast<int>(fd));
}

}  // namespace

void adopt_handed_requests() noexcept {
  if (g_handoff.load(std::memory_order_relaxed) == nullptr) [[likely]] return;
  if (Guard::nested()) return;
  std::unique_ptr<std::string> bytes(g_handoff.exchange(nullptr));
  if (!bytes) return;
  Guard g;
  ErrnoSaver saver;
  if (Agent* a = Agent::arm()) a->adopt(*bytes);
}

__attribute__((constructor)) static void vigil_agent_init() {
  Guard g;
  read_handoff();
  try {
    Config config = config_from_environment();
    if (config.disabled) return;
    set_agent_is_library(true);
    bool register_now = config.has_server && config.server_error.empty() && root_process();
    g_config = new Config(std::move(config));
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    if (register_now) arm_in_background();
  } catch (...) {
    // Fail open: no agent, every hook passes through.
  }
}

// At a normal exit (exit(), return from main), events still queued are written, within a bound:
// the program must not hang on its way out.
__attribute__((destructor)) static void vigil_agent_fini() {
  // A program that exits at once: the load-time arming finishes first (bounded), so that no
  // thread of ours builds an agent while static objects are destroyed.
  for (int i = 0; i < 4000 && g_arming_at_load.load(); ++i) usleep(500);
  Agent* a = Agent::get();
  if (a == nullptr) return;
  Guard g;
  a->flush_events(1000);
  a->stop_server(1500);
  // A process that served or reported nothing (a shell a hooked popen started, say) leaves no
  // status file behind.
  Counters& c = a->counters();
  if (c.connections.load() + c.requests.load() + c.detections.load() > 0) a->write_status();
}

}  // namespace vigil::agent
