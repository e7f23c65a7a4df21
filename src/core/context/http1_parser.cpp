#include "core/context/http1_parser.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/common/ascii.hpp"
#include "core/common/scan.hpp"

namespace vigil::context {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;
// Memory a request keeps for the next one parsed into it; a larger header block or body gets
// memory of its own, freed with the next request (a connection may stay open, idle, for long).
constexpr std::size_t kKeptHead = 8 * 1024;
constexpr std::size_t kKeptBody = 16 * 1024;
constexpr std::size_t kKeptBuffer = 64 * 1024;
// Bytes after a header block's copy that may be read (never used): lets a line be searched 16
// bytes at a time without a bounds check.
constexpr std::size_t kHeadPadding = 16;

constexpr std::array<bool, 256> kTchar = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = common::is_alnum(static_cast<char>(c));
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

bool is_tchar(char c) { return kTchar[static_cast<unsigned char>(c)]; }

// Parses a non-negative decimal (Content-Length) or hex (chunk size) number; false on garbage
// or overflow.
bool parse_number(std::string_view s, int base, std::uint64_t* out) {
  s = common::trim(s);
  if (s.empty() || s.size() > 16) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    int d = base == 16 ? common::hex_value(c) : (common::is_digit(c) ? c - '0' : -1);
    if (d < 0) return false;
    v = v * base + d;
  }
  *out = v;
  return true;
}

// True when `value` (a Transfer-Encoding) names chunked, in any case.
bool names_chunked(std::string_view value) {
  constexpr std::string_view kChunked = "chunked";
  for (std::size_t i = 0; i + kChunked.size() <= value.size(); ++i)
    if (common::iequals(value.substr(i, kChunked.size()), kChunked)) return true;
  return false;
}

// Where a header block's lines end: the offsets of its line feeds, as found while looking for
// its end, so that its lines are not searched for again.
struct LineFeeds {
  static constexpr std::size_t kMax = 64;
  std::uint32_t at[kMax];
  std::size_t count = 0;
  bool complete = true;  // every line feed of the block is here (else: search them)
};

// Where the header block of `rest` ends: the first "\r\n\r\n" or "\n\n" starting at or after
// `from`, whichever comes first, with its length in *sep; npos when there is none yet. One pass
// over the line feeds (16 bytes at a time where the CPU can): each ends the block when an empty
// line follows it, else it ends a line (noted in *lines).
std::size_t find_head_end(std::string_view rest, std::size_t from, std::size_t* sep,
                          LineFeeds* lines) {
  const char* d = rest.data();
  const std::size_t n = rest.size();
  lines->count = 0;
  lines->complete = from == 0;
  // The block's end when the line feed at `p` is followed by an empty line, else npos.
  auto at_line_feed = [&](std::size_t p) {
    char after = p + 1 < n ? d[p + 1] : '\0';  // mostly a field name's first letter
    if (after == '\n') {
      *sep = 2;
      return p;
    }
    if (after == '\r' && p > from && d[p - 1] == '\r' && p + 2 < n && d[p + 2] == '\n') {
      *sep = 4;
      return p - 1;
    }
    if (lines->count < LineFeeds::kMax) lines->at[lines->count++] = static_cast<std::uint32_t>(p);
    else lines->complete = false;
    return kNpos;
  };
  return common::for_each_byte(d, from, n, '\n', at_line_feed);
}

// The first ':' of a line in a padded header block copy (kHeadPadding readable bytes after it).
std::size_t find_colon(std::string_view line) {
#if defined(__SSE2__)
  auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(line.data())), _mm_set1_epi8(':'))));
  if (line.size() < 16) mask &= (1u << line.size()) - 1;
  if (mask != 0) return static_cast<std::size_t>(__builtin_ctz(mask));
  if (line.size() <= 16) return kNpos;
#endif
  return line.find(':');
}

// A byte a request may start with: printable ASCII but a space, or a byte of UTF-8 (a server
// may take a method of any bytes). TLS, HTTP/2 frames and database protocols start otherwise.
bool starts_text(char c) {
  const auto b = static_cast<unsigned char>(c);
  return b > 0x20 && b != 0x7F;
}

// True when the request line `line` (10 bytes or more) ends with " HTTP/1.x", x not a space:
// the usual case, read as one 8-byte word.
bool ends_with_version(std::string_view line) {
  constexpr char kWord[8] = {' ', 'H', 'T', 'T', 'P', '/', '1', '.'};
  std::uint64_t word, wanted;
  std::memcpy(&word, line.data() + line.size() - 9, 8);
  std::memcpy(&wanted, kWord, 8);
  return word == wanted && line.back() != ' ';
}

// The space before the version of a request line that does not end the usual way (see
// ends_with_version): the last one; npos when the version that follows is not HTTP/1.x.
[[gnu::cold, gnu::noinline]] std::size_t unusual_version_space(std::string_view line) {
  std::size_t sp = line.rfind(' ');
  if (sp == kNpos || line.substr(sp + 1, 7) != "HTTP/1.") return kNpos;
  return sp;
}

// An obsolete folded line [b, e) of a header block: part of the previous value, joined by
// one space. Joined in place: the previous value ends before this line, which gives up at
// least its line feed and leading space, so the text only moves back.
[[gnu::cold, gnu::noinline]] void fold_line(Header* previous, const char* b, const char* e) {
  std::string_view more = common::trim(std::string_view(b, static_cast<std::size_t>(e - b)));
  std::size_t joined = previous->value.size() + 1 + more.size();
  char* at = const_cast<char*>(previous->value.data()) + previous->value.size();
  *at = ' ';
  std::memmove(at + 1, more.data(), more.size());
  previous->value = std::string_view(previous->value.data(), joined);
}

// True when `line` (without its line feed) has a request line's shape: a version HTTP/1.x after
// its last space.
[[gnu::cold, gnu::noinline]] bool request_line_shape(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return (line.size() >= 10 && ends_with_version(line)) || unusual_version_space(line) != kNpos;
}

// A request line read as RFC 9112 (section 3) lets a recipient read one: words separated by any
// run of white space (SP, HTAB, VT, FF, a bare CR), white space before and after ignored; the
// method is the first word, the version the last (HTTP/ in any case), the target what lies
// between. Servers do (Python's http.server takes a trailing space, it and WEBrick tabs, WEBrick
// a method of any bytes), and a request they serve but the agent could not read used to end
// the agent's reading of the connection. False without three words and a version.
[[gnu::cold, gnu::noinline]] bool lenient_request_line(std::string_view line,
                                                       std::string_view* method,
                                                       std::string_view* target,
                                                       std::string_view* version) {
  line = common::trim(line);
  std::size_t m = 0;  // the method's end
  while (m < line.size() && !common::is_space(line[m])) ++m;
  std::size_t v = line.size();  // the version's start
  while (v > m && !common::is_space(line[v - 1])) --v;
  if (m == 0 || v <= m || line.size() - v < 6 || !common::iequals(line.substr(v, 5), "http/"))
    return false;
  const std::string_view between = common::trim(line.substr(m, v - m));
  if (between.empty()) return false;
  *method = line.substr(0, m);
  *target = between;
  *version = line.substr(v);
  return true;
}

constexpr const char* kNotHttp = "not an HTTP/1.x request";
constexpr const char* kHeadTooLarge = "header block larger than the limit";

}  // namespace

void ParsedRequest::grow_head(std::size_t need) {
  std::size_t capacity = std::max<std::size_t>(need, 256);
  head_.reset(new char[capacity]);
  head_capacity_ = capacity;
}

char* ParsedRequest::assign_head(std::string_view head) {
  std::size_t need = head.size() + kHeadPadding;
  if (need > head_capacity_ || (head_capacity_ > kKeptHead && need <= kKeptHead)) [[unlikely]]
    grow_head(need);
  if (!head.empty()) std::memcpy(head_.get(), head.data(), head.size());
  head_size_ = head.size();
  std::memset(head_.get() + head.size(), 0, kHeadPadding);
  method = target = version = {};
  headers.clear();
  if (body.capacity() > kKeptBody) [[unlikely]] std::string().swap(body);
  body.clear();
  body_length = 0;
  body_truncated = false;
  expect_continue = false;
  content_encoded = false;
  anomalies = 0;
  return head_.get();
}

void ParsedRequest::copy_head(const ParsedRequest& other) {
  const char* from = other.head_.get();
  char* to = assign_head(std::string_view(from, from != nullptr ? other.head_size_ : 0));
  auto rebase = [&](std::string_view v) {
    return v.data() == nullptr ? v : std::string_view(to + (v.data() - from), v.size());
  };
  method = rebase(other.method);
  target = rebase(other.target);
  version = rebase(other.version);
  headers.reserve(other.headers.size());
  for (const Header& h : other.headers) headers.push_back(Header{rebase(h.name), rebase(h.value)});
  content_encoded = other.content_encoded;
  anomalies = other.anomalies;
}

void ParsedRequest::swap(ParsedRequest& other) noexcept {
  std::swap(method, other.method);
  std::swap(target, other.target);
  std::swap(version, other.version);
  headers.swap(other.headers);
  // Mostly two empty bodies in equal buffers (requests without one): nothing to exchange, and
  // std::string::swap is a library call.
  if (!body.empty() || !other.body.empty() || body.capacity() != other.body.capacity())
    [[unlikely]]
    body.swap(other.body);
  std::swap(body_length, other.body_length);
  std::swap(body_truncated, other.body_truncated);
  std::swap(expect_continue, other.expect_continue);
  std::swap(content_encoded, other.content_encoded);
  std::swap(anomalies, other.anomalies);
  head_.swap(other.head_);
  std::swap(head_capacity_, other.head_capacity_);
  std::swap(head_size_, other.head_size_);
}

Http1Parser::Http1Parser(Limits limits) : limits_(limits) {}

Http1Parser::Status Http1Parser::fail(const char* why) {
  state_ = State::kError;
  error_ = why;
  buffer_.clear();
  return Status::kError;
}

void Http1Parser::keep_body(std::string_view bytes) {
  request_.body_length += bytes.size();
  std::size_t room = limits_.max_body_bytes > request_.body.size()
                         ? limits_.max_body_bytes - request_.body.size() : 0;
  if (bytes.size() > room) request_.body_truncated = true;
  request_.body.append(bytes.substr(0, room));
}

bool Http1Parser::framing_field(std::string_view name, std::string_view value, Framing* framing) {
  if (name.size() == 14 && common::iequals(name, "content-length")) {
    // Lengths that conflict or are not numbers: the shape of request smuggling. The request is
    // still read (its analysis reports it, and blocks it in block mode), its body by the first
    // valid length, as lenient servers (Python's http.server, WEBrick) read it: refusing it
    // here left the rest of the connection unread while such a server went on serving it.
    std::uint64_t n;
    if (!parse_number(value, 10, &n) || framing->have_length) return true;
    framing->have_length = true;
    framing->length = n;
  } else if (name.size() == 17 && common::iequals(name, "transfer-encoding")) {
    if (names_chunked(value)) framing->chunked = true;
  } else if (name.size() == 6 && common::iequals(name, "expect") &&
             common::iequals(value, "100-continue")) {
    request_.expect_continue = true;
  } else if (name.size() == 16 && common::iequals(name, "content-encoding") && !value.empty() &&
             !common::iequals(value, "identity")) {
    request_.content_encoded = true;
  }
  return true;
}

bool Http1Parser::parse_head(std::string_view block, const std::uint32_t* line_feeds,
                             std::size_t count) {
  // The views point into the request's own copy: the bytes parsed here may be the read's.
  std::string_view head(request_.assign_head(block), block.size());
  std::size_t next_feed = 0;
  auto line_end = [&](std::size_t from) {
    if (line_feeds == nullptr) [[unlikely]] return head.find('\n', from);
    return next_feed < count ? static_cast<std::size_t>(line_feeds[next_feed++]) : kNpos;
  };
  // Request line: METHOD SP target SP HTTP/1.x
  std::size_t eol = line_end(0);
  std::string_view line(head.data(), std::min(eol, head.size()));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // The method: tokens up to the first space.
  std::size_t sp1 = 0;
  while (sp1 < line.size() && is_tchar(line[sp1])) ++sp1;
  // The last space: mostly the one before "HTTP/1.x", found without a search.
  std::size_t sp2 = line.size() >= 10 && ends_with_version(line) ? line.size() - 9
                                                                 : unusual_version_space(line);
  if (sp1 != 0 && sp1 < line.size() && line[sp1] == ' ' && sp2 != kNpos && sp2 != sp1 &&
      line[sp1 + 1] != ' ' && line[sp2 - 1] != ' ') [[likely]] {
    // In range by construction (sp1 < sp2 < line.size()): no checked, out-of-line substr.
    const char* l = line.data();
    request_.method = std::string_view(l, sp1);
    request_.target = std::string_view(l + sp1 + 1, sp2 - sp1 - 1);
    request_.version = std::string_view(l + sp2 + 1, line.size() - sp2 - 1);
  } else if (!lenient_request_line(line, &request_.method, &request_.target,
                                   &request_.version)) {
    return false;
  }

  Framing framing;
  const char* const base = head.data();
  std::size_t pos = eol == kNpos ? head.size() : eol + 1;
  while (pos < head.size()) {
    std::size_t end = line_end(pos);
    if (end == kNpos) end = head.size();
    const char* b = base + pos;  // the line is [b, e)
    const char* e = base + end;
    pos = end + 1;
    if (e > b && e[-1] == '\r') --e;
    if (b == e) continue;
    if ((*b == ' ' || *b == '\t') && !request_.headers.empty()) [[unlikely]] {
      fold_line(&request_.headers.back(), b, e);
      continue;
    }
    std::size_t colon = find_colon(std::string_view(b, static_cast<std::size_t>(e - b)));
    if (colon == kNpos) continue;  // kept lenient: the app decides
    std::string_view name(b, colon);
    const char* v = b + colon + 1;  // the value, without the spaces around it
    const char* ve = e;
    while (v < ve && common::is_space(*v)) ++v;
    while (ve > v && common::is_space(ve[-1])) --ve;
    std::string_view value(v, static_cast<std::size_t>(ve - v));
    // Only four fields matter here: their lengths and first letters rule out the others.
    char first = static_cast<char>(*b | 0x20);
    if ((((colon == 14 || colon == 16) && first == 'c') || (colon == 17 && first == 't') ||
         (colon == 6 && first == 'e')) &&
        !framing_field(name, value, &framing))
      return false;
    request_.headers.push_back(Header{name, value});
  }
  if (framing.chunked) {
    state_ = State::kChunkSize;
  } else if (framing.have_length && framing.length > 0) {
    state_ = State::kBody;
    remaining_ = framing.length;
  } else {
    state_ = State::kHead;  // no body: complete
  }
  return true;
}

Http1Parser::Status Http1Parser::feed(std::string_view bytes) {
  if (state_ == State::kError) return Status::kError;
  if (!buffer_.empty()) [[unlikely]] return feed_buffered(bytes);
  if (bytes.empty()) return Status::kNeedMore;  // next() after the last buffered request
  // Parsed where the caller's bytes are; only what is left over is kept.
  std::size_t consumed = 0;
  Status status = parse(bytes, &consumed);
  if (status != Status::kError && consumed < bytes.size()) [[unlikely]]
    buffer_.assign(bytes.substr(consumed));
  return status;
}

Http1Parser::Status Http1Parser::feed_buffered(std::string_view bytes) {
  std::size_t consumed = 0;
  buffer_.append(bytes);
  Status status = parse(buffer_, &consumed);
  if (status == Status::kError) return status;
  buffer_.erase(0, consumed);
  if (buffer_.empty() && buffer_.capacity() > kKeptBuffer) std::string().swap(buffer_);
  return status;
}

Http1Parser::Status Http1Parser::parse(std::string_view data, std::size_t* consumed_out) {
  std::size_t consumed = 0;
  Status status = Status::kNeedMore;
  while (status == Status::kNeedMore) {
    std::string_view rest(data.data() + consumed, data.size() - consumed);
    if (state_ == State::kSkipHead) [[unlikely]] {
      status = skip_head(rest, &consumed);
      if (status == Status::kNeedMore) break;
      continue;
    }
    if (state_ != State::kHead) [[unlikely]] {
      bool stop = false;
      status = parse_body(rest, &consumed, &stop);
      if (status == Status::kError) return status;
      if (stop) break;
      continue;
    }
    // Tolerate CRLFs between pipelined requests (RFC 9112 2.2).
    std::size_t skip = 0;
    while (skip < rest.size() && (rest[skip] == '\r' || rest[skip] == '\n')) ++skip;
    consumed += skip;
    rest.remove_prefix(skip);
    scan_from_ = scan_from_ > skip ? scan_from_ - skip : 0;
    // Decide early that a connection does not speak HTTP/1 (TLS, a database's or another binary
    // protocol): a request starts with a printable byte. The rest of its first line is judged
    // when the line is whole (request_line_shape, lenient_request_line), as servers take odd
    // ones (a long method, tabs): a stricter early look (a space within 33 bytes) refused
    // requests that WEBrick serves.
    if (!spoke_http_ && !rest.empty() && !starts_text(rest.front())) return fail(kNotHttp);
    std::size_t sep = 0;
    LineFeeds lines;
    std::size_t end = find_head_end(rest, scan_from_, &sep, &lines);
    if (end == kNpos) {
      // A whole first line that is no request line (another text protocol: SMTP, Redis's inline
      // commands) is not HTTP/1, without waiting for a blank line that may never come. The
      // first scan to meet a line feed meets the first line's end (the scans resume where the
      // last one stopped).
      if (!first_line_checked_ && lines.count > 0) [[unlikely]] {
        std::string_view first = rest.substr(0, lines.at[0]), m, t, v;
        if (!request_line_shape(first) && !lenient_request_line(first, &m, &t, &v))
          return fail(kNotHttp);
        first_line_checked_ = true;
      }
      if (rest.size() > limits_.max_header_bytes) [[unlikely]] {
        if (!first_line_checked_) return fail(kHeadTooLarge);  // not even a request line
        start_skipping(rest);
        consumed += rest.size();
        continue;
      }
      scan_from_ = rest.size() > 3 ? rest.size() - 3 : 0;
      break;
    }
    scan_from_ = 0;
    first_line_checked_ = false;
    if (end > limits_.max_header_bytes) [[unlikely]] {
      std::size_t cut = rest.substr(0, limits_.max_header_bytes).rfind('\n');
      status = cut_head(rest.substr(0, cut == kNpos ? 0 : cut + 1));
      if (status == Status::kError) return status;
      consumed += end + sep;
      continue;
    }
    if (!parse_head(rest.substr(0, end), lines.complete ? lines.at : nullptr, lines.count))
      return fail(kNotHttp);
    spoke_http_ = true;
    consumed += end + sep;
    if (state_ == State::kHead) status = Status::kRequest;
  }
  *consumed_out = consumed;
  return status;
}

// The search for a header block's blank line, one byte on: 1 after a line feed, 2 after a line
// feed and a CR, 0 otherwise (a line feed then ends the block when the state is not 0).
std::uint8_t after_byte(std::uint8_t state, char c) {
  if (c == '\n') return 1;
  return c == '\r' && state != 0 ? 2 : 0;
}

void Http1Parser::start_skipping(std::string_view rest) {
  const std::size_t cut = rest.substr(0, limits_.max_header_bytes).rfind('\n');
  kept_head_.assign(rest.substr(0, cut == kNpos ? 0 : cut + 1));
  skip_lf_ = 0;
  // Where the bytes so far leave the search for the blank line (their last ones may start it).
  for (char c : rest.substr(rest.size() > 3 ? rest.size() - 3 : 0))
    skip_lf_ = after_byte(skip_lf_, c);
  scan_from_ = 0;
  first_line_checked_ = false;
  state_ = State::kSkipHead;
}

Http1Parser::Status Http1Parser::skip_head(std::string_view rest, std::size_t* consumed) {
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '\n' && skip_lf_ != 0) {  // the blank line
      *consumed += i + 1;
      std::string kept;
      kept.swap(kept_head_);
      state_ = State::kHead;
      return cut_head(kept);
    }
    skip_lf_ = after_byte(skip_lf_, rest[i]);
  }
  *consumed += rest.size();
  return Status::kNeedMore;
}

Http1Parser::Status Http1Parser::cut_head(std::string_view kept) {
  if (kept.empty() || !parse_head(kept, nullptr, 0)) return fail(kNotHttp);
  request_.anomalies |= kAnomalyLimitHit | kAnomalyAmbiguousLength;
  spoke_http_ = true;
  return state_ == State::kHead ? Status::kRequest : Status::kNeedMore;
}

// Chunked framing that is not (a line that is no chunk size, no CRLF after a chunk's data, a
// size or trailer line beyond its bound): where the body ends depends on who reads it. A server
// that does not decode chunked bodies (Python's http.server) reads the bytes as its next
// request; one that reads sizes leniently (WEBrick takes "1x" for 1) goes on with the body. The
// request ends here, flagged kAnomalyAmbiguousLength (blocked in block mode), and the bytes are
// read as the next request: giving the connection up here left the server's next request
// unchecked.
Http1Parser::Status Http1Parser::framing_lost() {
  request_.anomalies |= kAnomalyAmbiguousLength;
  state_ = State::kHead;
  return Status::kRequest;
}

Http1Parser::Status Http1Parser::parse_body(std::string_view rest, std::size_t* consumed,
                                            bool* stop) {
  if (state_ == State::kBody || state_ == State::kChunkData) {
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
    keep_body(rest.substr(0, take));
    *consumed += take;
    remaining_ -= take;
    if (remaining_ > 0) {
      *stop = true;
      return Status::kNeedMore;
    }
    if (state_ == State::kChunkData) {
      state_ = State::kChunkDataEnd;
      return Status::kNeedMore;
    }
    state_ = State::kHead;
    return Status::kRequest;
  }
  if (state_ != State::kChunkSize && state_ != State::kChunkDataEnd && state_ != State::kTrailers)
    return Status::kError;
  // A step that is one line (chunk size, the CRLF after a chunk's data, a trailer field).
  std::size_t eol = rest.find('\n');
  if (eol == kNpos) {
    // Not all there yet; each kind of line has its own bound on how long it may grow.
    if ((state_ == State::kChunkSize && rest.size() > 1024) ||
        (state_ == State::kChunkDataEnd && rest.size() > 2) ||
        (state_ == State::kTrailers && rest.size() > limits_.max_header_bytes))
      return framing_lost();
    *stop = true;
    return Status::kNeedMore;
  }
  if (state_ == State::kChunkSize) {
    std::string_view line = rest.substr(0, eol);
    line = line.substr(0, line.find(';'));  // chunk extensions
    if (!parse_number(line, 16, &remaining_)) return framing_lost();
    *consumed += eol + 1;
    state_ = remaining_ == 0 ? State::kTrailers : State::kChunkData;
    return Status::kNeedMore;
  }
  if (state_ == State::kChunkDataEnd) {
    *consumed += eol + 1;
    state_ = State::kChunkSize;
    return Status::kNeedMore;
  }
  // A trailer field; they end with an empty line.
  std::string_view line = rest.substr(0, eol);
  *consumed += eol + 1;
  if (line.empty() || line == "\r") {
    state_ = State::kHead;
    return Status::kRequest;
  }
  return Status::kNeedMore;
}

}  // namespace vigil::context
