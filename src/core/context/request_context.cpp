#include <array>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "core/common/ascii.hpp"
#include "core/common/ip.hpp"
#include "core/common/known_name.hpp"
#include "core/context/input_builder.hpp"
#include "core/decode/decode.hpp"
#include "vigil/request.hpp"

namespace vigil {
namespace {

using common::iequals;

// What a header name means to the parser (header_kind: names match in any case).
enum class HeaderKind : std::uint8_t {
  kInput,       // any header not listed: User-Agent, Referer, X-Forwarded-For, custom ones
  kStructural,  // structured by the protocol; applications do not pass them to sinks
  kBrowser,     // Sec-*: structural too, but only the prefix is known
  kCookie,
  kContentLength,
  kTransferEncoding,
  kContentType,
  kReferer,
  kUserAgent,
};

// Case-insensitive `name == L` for a name of L's size (the caller switched on the size).
template <common::KnownName L>
bool is(std::string_view name) {
  return common::iequals_known<L>(name.data());
}

// Headers whose values are structured by the protocol and that applications do not pass to
// sinks; every other header is an input. One switch on the length, then at most three
// compares of whole words (lower-casing each name and comparing it with every entry of a list
// was most of the header loop's time).
HeaderKind header_kind(std::string_view name) {
  using K = HeaderKind;
  if (name.size() >= 4 && is<"sec-">(name)) return K::kBrowser;  // set by browsers
  switch (name.size()) {
    case 2: return is<"te">(name) ? K::kStructural : K::kInput;
    case 3: return is<"dnt">(name) ? K::kStructural : K::kInput;
    case 4: return is<"host">(name) ? K::kStructural : K::kInput;
    case 6:
      if (is<"cookie">(name)) return K::kCookie;
      return is<"accept">(name) || is<"pragma">(name) ? K::kStructural : K::kInput;
    case 7: return is<"referer">(name) ? K::kReferer : K::kInput;
    case 8: return is<"priority">(name) ? K::kStructural : K::kInput;
    case 10:
      if (is<"user-agent">(name)) return K::kUserAgent;
      return is<"connection">(name) || is<"keep-alive">(name) ? K::kStructural : K::kInput;
    case 12: return is<"content-type">(name) ? K::kContentType : K::kInput;
    case 13:
      return is<"cache-control">(name) || is<"if-none-match">(name) ? K::kStructural
                                                                    : K::kInput;
    case 14:
      if (is<"content-length">(name)) return K::kContentLength;
      return is<"accept-charset">(name) ? K::kStructural : K::kInput;
    case 15:
      return is<"accept-encoding">(name) || is<"accept-language">(name) ? K::kStructural
                                                                        : K::kInput;
    case 17:
      if (is<"transfer-encoding">(name)) return K::kTransferEncoding;
      return is<"if-modified-since">(name) ? K::kStructural : K::kInput;
    case 25: return is<"upgrade-insecure-requests">(name) ? K::kStructural : K::kInput;
    default: return K::kInput;
  }
}

// Bytes that are not an RFC 9110 tchar (letters, digits and !#$%&'*+-.^_`|~).
constexpr std::array<std::uint8_t, 256> kNotToken = [] {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = 1;
  for (int c = '0'; c <= '9'; ++c) t[c] = 0;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 'a' + 'A'] = 0;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = 0;
  return t;
}();

// A Content-Length value: decimal digits, within 64 bits.
bool is_length(std::string_view s) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s)
    if (!common::is_digit(c)) return false;
  return true;
}

bool is_token(std::string_view s) {
  return !s.empty() && common::or_over_bytes(kNotToken, s) == 0;
}

// CR, LF or NUL in a header value. A word at a time: a word with no byte below 0x0E holds
// none of them (a tab, also below, sends its word to the exact test); the last word overlaps
// the one before instead of a byte loop for the tail.
bool has_line_break_or_nul(std::string_view s) {
  auto exact = [](const char* p, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k)
      if (p[k] == '\n' || p[k] == '\r' || p[k] == '\0') return true;
    return false;
  };
  const char* p = s.data();
  const std::size_t n = s.size();
  if (n < 4) return exact(p, n);
  if (n < 8) {
    constexpr std::uint32_t kOnes = 0x01010101u, kHighs = 0x80808080u;
    auto maybe = [&](const char* q) {
      std::uint32_t w;
      std::memcpy(&w, q, 4);
      return ((w - kOnes * 0x0E) & ~w & kHighs) != 0 && exact(q, 4);
    };
    return maybe(p) || maybe(p + n - 4);
  }
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  auto maybe = [&](const char* q) {
    std::uint64_t w;
    std::memcpy(&w, q, 8);
    return ((w - kOnes * 0x0E) & ~w & kHighs) != 0 && exact(q, 8);
  };
  for (std::size_t i = 0; i + 8 <= n; i += 8)
    if (maybe(p + i)) return true;
  return n % 8 != 0 && maybe(p + n - 8);
}

// What a request target holds, OR-ed over its bytes in one pass: which of the slower steps
// (control-byte report, fragment cut, decoding) it needs at all.
enum UriByte : std::uint8_t {
  kUriControl = 1u << 0,  // C0 control, DEL or space: not allowed in a request target
  kUriPercent = 1u << 1,
  kUriPlus = 1u << 2,
  kUriHash = 1u << 3,
  kUriNul = 1u << 4,
  kUriSemicolon = 1u << 5,
};
constexpr std::array<std::uint8_t, 256> kUriBytes = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = kUriControl;
  t[0x7F] = t[' '] = kUriControl;
  t['%'] = kUriPercent;
  t['+'] = kUriPlus;
  t['#'] = kUriHash;
  t[';'] = kUriSemicolon;
  t[0] = kUriControl | kUriNul;
  return t;
}();

// Names of path segments ("0", "1", ...) for the first kSegmentNames segments: views into
// static storage instead of a copy into the arena per segment.
constexpr std::size_t kSegmentNames = 100;
constexpr std::array<char, 2 * kSegmentNames> kSegmentDigits = [] {
  std::array<char, 2 * kSegmentNames> t{};
  for (std::size_t i = 0; i < kSegmentNames; ++i) {
    t[2 * i] = static_cast<char>(i < 10 ? '0' + i : '0' + i / 10);
    t[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return t;
}();
std::string_view segment_name(std::size_t index) {
  return {kSegmentDigits.data() + 2 * index, index < 10 ? 1u : 2u};
}

// The media type without parameters, lower-cased comparisons.
bool media_is(std::string_view content_type, std::string_view type) {
  std::string_view media = common::trim(content_type.substr(0, content_type.find(';')));
  return iequals(media, type);
}
bool media_ends_with(std::string_view content_type, std::string_view suffix) {
  std::string_view media = common::trim(content_type.substr(0, content_type.find(';')));
  return media.size() >= suffix.size() && iequals(media.substr(media.size() - suffix.size()), suffix);
}

bool declares_json(std::string_view type) {
  return media_is(type, "application/json") || media_ends_with(type, "+json");
}
bool declares_xml(std::string_view type) {
  return media_is(type, "text/xml") || media_is(type, "application/xml") ||
         media_ends_with(type, "+xml");
}

// A target that is not the usual origin-form "/path?query" without control bytes or fragment,
// out of line: reports what is wrong with it and returns the part that holds path and query.
[[gnu::cold, gnu::noinline]] std::string_view unusual_target(std::string_view uri,
                                                             std::uint8_t bytes,
                                                             context::InputBuilder* builder) {
  if (bytes & kUriControl) {
    for (char c : uri) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F || c == ' ') {
        builder->flag(c == '\0' ? (kAnomalyBadUri | kAnomalyNulByte) : kAnomalyBadUri);
        break;
      }
    }
  }
  if (!uri.empty() && uri.front() == '/') {
    // origin-form, the usual one: no scheme to look for.
  } else if (std::size_t scheme = uri.find("://"); scheme != std::string_view::npos &&
                                                   scheme < common::find_any(uri, "/?")) {
    // absolute-form: drop scheme and authority.
    std::size_t path_start = common::find_any(uri, "/?", scheme + 3);
    uri = path_start == std::string_view::npos ? std::string_view("/") : uri.substr(path_start);
  } else if (uri != "*") {
    // An empty target is not a request HTTP allows (RFC 9112 section 3.2).
    builder->flag(kAnomalyBadUri);
  }
  if (bytes & kUriHash) uri = uri.substr(0, uri.find('#'));
  return uri;
}

// The name of path segment `index` past the first kSegmentNames, in the arena.
[[gnu::cold, gnu::noinline]] context::Ref numbered_segment(std::size_t index,
                                                           context::InputBuilder* builder) {
  char digits[24];
  const char* end = std::to_chars(digits, digits + sizeof digits, index).ptr;
  return builder->copy(std::string_view(digits, end - digits));
}

}  // namespace

struct RequestContext::Impl {
  RequestLimits limits;
  context::InputBuilder builder;
  std::vector<Input> inputs;
  HttpRequest request;
  std::string_view raw_path, query;
  context::Ref path;
  std::string_view client_ip;     // the peer's own text, or client_storage
  std::string client_storage;     // the client's address when its text differs from the peer's
  std::string_view user_agent;    // the first User-Agent header (when user_agent_seen)
  bool user_agent_seen = false;
  std::string_view content_type;  // the last Content-Type header
  // The first one: Node.js keeps the first of a repeated Content-Type and Python's http.server
  // returns it; frameworks that join or keep the last read another.
  std::string_view first_content_type;
  bool all_headers_seen = true;   // false when max_headers stopped the header loop
  // A UTF-16 or UTF-32 JSON or XML body, as UTF-8 (inputs read from it are views into it).
  std::string wide_body;
  // False when no byte of the target or of a header value is NUL: inputs that are views into
  // them hold none.
  bool may_hold_nul = false;
  // The last peer resolved, and what its text means: a connection's requests share one peer.
  std::string peer_text;
  bool peer_known = false, peer_valid = false, peer_canonical = false;
  common::IpAddress peer_address;
  std::string peer_normal;  // its canonical text when that differs from peer_text
  std::vector<common::Cidr> proxies;
  std::vector<std::string> proxy_source;  // to reuse parsed CIDRs when the list is the same

  void parse_uri();
  // parse_uri() for a target with a '%' or a '+' (after unusual_target()).
  [[gnu::noinline]] void parse_encoded_target(std::string_view uri, std::uint8_t bytes);
  void parse_headers();
  // A path segment's parameters (";name=value"), as servlet containers read them.
  [[gnu::cold, gnu::noinline]] bool add_path_parameters(context::Ref name,
                                                        std::string_view segment);
  [[gnu::noinline]] void add_referer(const Header& h);
  [[gnu::cold, gnu::noinline]] void header_limit_hit();
  [[gnu::noinline]] void parse_body();
  // Reads the body as `type` says (and as what it looks like, when that differs); `wide`: the
  // body as UTF-8 when it is a JSON or XML document in UTF-16 or UTF-32 (empty otherwise).
  void read_body(std::string_view body, std::string_view type, std::string_view wide);
  // The body as UTF-8 in wide_body when it is a UTF-16 or UTF-32 JSON or XML document.
  [[gnu::cold, gnu::noinline]] std::string_view transcode_wide(std::string_view body,
                                                               decode::WideEncoding encoding);
  // Reads such a body as the document it is; true when that is the type it declares (nothing
  // else to read).
  [[gnu::cold, gnu::noinline]] bool read_wide(std::string_view wide, std::string_view type);
  void resolve_client(const TrustedProxies* trusted);
  [[gnu::noinline]] void resolve_peer();
  [[gnu::noinline]] void resolve_proxies(const TrustedProxies& trusted);
  [[gnu::cold, gnu::noinline]] void flag_nul_inputs();
  void set_client(const common::IpAddress& a);
};

void RequestContext::Impl::set_client(const common::IpAddress& a) {
  char text[common::IpAddress::kMaxText];
  const std::string_view canonical(text, a.to_chars(text));
  if (canonical == request.peer) {
    client_ip = request.peer;
  } else {
    client_storage.assign(canonical);
    client_ip = client_storage;
  }
}

void RequestContext::Impl::parse_uri() {
  std::string_view uri = request.uri;
  const std::uint8_t bytes = common::or_over_bytes(kUriBytes, uri);
  may_hold_nul = (bytes & kUriNul) != 0;
  if ((bytes & (kUriControl | kUriHash)) != 0 || uri.empty() || uri.front() != '/') [[unlikely]]
    uri = unusual_target(uri, bytes, &builder);
  if ((bytes & (kUriPercent | kUriPlus | kUriSemicolon)) != 0) [[unlikely]] {
    parse_encoded_target(uri, bytes);
    return;
  }
  // Nothing decodes: path, segments and parameters are views into the target. One pass finds
  // the segments and the '?' that ends the path (the end of the target stands for one). Each
  // segment is an input: routes like /product/{id} hand segments to sinks.
  const char* p = uri.data();
  const std::size_t n = uri.size();
  std::size_t i = 0, start = 0, index = 0;
  bool room = true;
  for (;; ++i) {
    const char c = i < n ? p[i] : '?';
    if (c != '/' && c != '?') continue;
    if (i > start && room) {
      const context::Ref name = index < kSegmentNames ? context::Ref::of(segment_name(index))
                                                      : numbered_segment(index, &builder);
      const std::string_view segment(p + start, i - start);
      room = builder.add(Source::kPath, name, context::Ref::of(segment));
      ++index;
    }
    if (c == '?') break;
    start = i + 1;
  }
  raw_path = uri.substr(0, i);
  path = context::Ref::of(raw_path);
  query = i < n ? uri.substr(i + 1) : std::string_view();
  if (!query.empty()) context::add_plain_pairs(query, Source::kQuery, &builder);
}

void RequestContext::Impl::parse_encoded_target(std::string_view uri, std::uint8_t bytes) {
  std::size_t q = uri.find('?');
  raw_path = uri.substr(0, q);
  query = q == std::string_view::npos ? std::string_view() : uri.substr(q + 1);

  // Without a '%' no part of the path decodes: its inputs are views into the target.
  const bool percent = (bytes & kUriPercent) != 0;
  path = percent ? builder.decoded(raw_path, false) : context::Ref::of(raw_path);
  // Each segment, decoded on its own (so "%2f" inside a segment stays inside it), is an input.
  const char* p = raw_path.data();
  const std::size_t n = raw_path.size();
  std::size_t index = 0, start = 0;
  for (std::size_t i = 0; i <= n; ++i) {
    if (i < n && p[i] != '/') continue;
    if (i > start) {
      const std::string_view segment(p + start, i - start);
      const context::Ref name = index < kSegmentNames ? context::Ref::of(segment_name(index))
                                                      : numbered_segment(index, &builder);
      const context::Ref value =
          percent ? builder.decoded(segment, false) : context::Ref::of(segment);
      if (!builder.add(Source::kPath, name, value)) break;
      if (segment.find(';') != std::string_view::npos && !add_path_parameters(name, segment))
        break;
      ++index;
    }
    start = i + 1;
  }
  if (!query.empty())
    context::parse_urlencoded(query, Source::kQuery, &builder, {},
                              (bytes & (kUriPercent | kUriPlus)) != 0);
}

bool RequestContext::Impl::add_path_parameters(context::Ref name, std::string_view segment) {
  // Servlet containers (Jetty, Tomcat) take a segment's path parameters off before they decode
  // it: getPathInfo() of /product/1%20OR%201=1;x=2 is /product/1 OR 1=1, and Spring hands the
  // parameters to @MatrixVariable. The segment up to its first ';' is an input too, and each
  // parameter's value, by its name.
  const std::size_t semi = segment.find(';');
  const std::string_view head = segment.substr(0, semi);
  if (!head.empty() && !builder.add(Source::kPath, name, builder.decoded(head, false)))
    return false;
  for (std::size_t at = semi; at != std::string_view::npos;) {
    const std::size_t next = segment.find(';', at + 1);
    const std::string_view param =
        segment.substr(at + 1, next == std::string_view::npos ? next : next - at - 1);
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && eq + 1 < param.size() &&
        !builder.add(Source::kPath, builder.decoded(param.substr(0, eq), false),
                     builder.decoded(param.substr(eq + 1), false)))
      return false;
    at = next;
  }
  return true;
}

void RequestContext::Impl::parse_headers() {
  std::size_t content_lengths = 0;
  std::string_view first_length;
  bool lengths_differ = false;
  bool chunked = false;
  user_agent = {};
  user_agent_seen = false;
  content_type = first_content_type = {};
  all_headers_seen = request.headers.size() <= limits.max_headers;
  const std::span<const Header> headers =
      all_headers_seen ? request.headers : request.headers.first(limits.max_headers);
  for (const Header& h : headers) {
    const HeaderKind kind = header_kind(h.name);
    // A name matched in full is a token (letters and '-'); others are checked byte by byte.
    if ((kind == HeaderKind::kInput || kind == HeaderKind::kBrowser) && !is_token(h.name))
      [[unlikely]] builder.flag(kAnomalyBadHeader);
    if (has_line_break_or_nul(h.value)) [[unlikely]] {
      builder.flag(kAnomalyBadHeader);
      may_hold_nul = true;
    }
    switch (kind) {
      case HeaderKind::kStructural:
      case HeaderKind::kBrowser:
        break;
      case HeaderKind::kContentLength:
        if (content_lengths++ == 0) first_length = h.value;
        else if (h.value != first_length) [[unlikely]] lengths_differ = true;
        break;
      case HeaderKind::kTransferEncoding:
        chunked = true;
        break;
      case HeaderKind::kContentType:
        if (content_type.data() == nullptr) first_content_type = h.value;
        content_type = h.value;
        break;
      case HeaderKind::kCookie:
        context::parse_cookies(h.value, &builder);
        break;
      case HeaderKind::kUserAgent:
        if (!user_agent_seen) {
          user_agent = h.value;
          user_agent_seen = true;
        }
        builder.add(Source::kHeader, h.name, h.value);
        break;
      case HeaderKind::kReferer:
        add_referer(h);
        break;
      case HeaderKind::kInput:
        builder.add(Source::kHeader, h.name, h.value);
        break;
    }
  }
  if (!all_headers_seen) [[unlikely]] header_limit_hit();
  // Request smuggling shapes: two lengths, or a length beside chunked framing.
  if (content_lengths > 1 || (content_lengths == 1 && chunked)) [[unlikely]]
    builder.flag(kAnomalyDuplicateLength);
  // Of those, the ones whose body ends where the reader decides: lengths that differ or are
  // not numbers, or a length beside Transfer-Encoding.
  if (content_lengths > 0 && (lengths_differ || chunked || !is_length(first_length))) [[unlikely]]
    builder.flag(kAnomalyAmbiguousLength);
}

void RequestContext::Impl::add_referer(const Header& h) {
  builder.add(Source::kHeader, h.name, h.value);
  // A Referer carries the query of the page before: its parameters are inputs of their own
  // (an application that logs or replays "where the user came from" uses them).
  if (std::size_t q = h.value.find('?'); q != std::string_view::npos) {
    std::string_view qs = h.value.substr(q + 1);
    qs = qs.substr(0, qs.find('#'));
    context::parse_urlencoded(qs, Source::kHeader, &builder, "referer?");
  }
}

void RequestContext::Impl::header_limit_hit() {
  builder.flag(kAnomalyLimitHit);
  builder.diagnose("limit.headers", "more than " + std::to_string(limits.max_headers) +
                                        " headers; the rest were not analysed");
}

void RequestContext::Impl::parse_body() {
  std::string_view body = request.body;
  if (body.empty()) return;
  if (body.size() > limits.max_body_bytes) {
    builder.flag(kAnomalyLimitHit);
    builder.diagnose("limit.body", "the body is " + std::to_string(body.size()) +
                                       " bytes; only the first " +
                                       std::to_string(limits.max_body_bytes) + " were analysed");
    body = body.substr(0, limits.max_body_bytes);
  }
  // The last Content-Type, as the header loop saw it (all of them unless it hit its limit).
  std::string_view type = content_type, first = first_content_type;
  if (!all_headers_seen) {
    for (const Header& h : request.headers) {
      if (!iequals(h.name, "content-type")) continue;
      if (type.data() == nullptr) first = h.value;
      type = h.value;
    }
  }
  // JSON and XML readers that detect a document's encoding take it in UTF-16 or UTF-32 too
  // (json.loads of bytes, hence Flask's get_json and Django's json.loads(request.body); Jackson;
  // XML parsers): read as bytes, its values were NUL-interleaved junk, and an injection in them
  // ran unseen.
  std::string_view wide;
  if (const decode::WideEncoding encoding = decode::detect_wide(body);
      encoding != decode::WideEncoding::kNone) [[unlikely]]
    wide = transcode_wide(body, encoding);
  read_body(body, type, wide);
  // Content-Type fields that differ: the body is read by each, since which one a program goes
  // by depends on its server (a form declared first and JSON last was one unread input to the
  // agent, and a form to Node.js).
  if (first.data() != type.data() && !common::iequals(first, type)) [[unlikely]]
    read_body(body, first, wide);
}

bool RequestContext::Impl::read_wide(std::string_view wide, std::string_view type) {
  // Read as what it is, whatever type it declares; as the declared type too unless that is
  // what it is (its bytes as UTF-8 are no document: a false "malformed" finding).
  const bool is_json = common::trim(wide).front() != '<';
  const bool declared = is_json ? declares_json(type) : declares_xml(type);
  if (is_json) context::parse_json_body(wide, &builder, !declared);
  else context::parse_xml_body(wide, &builder, !declared);
  return declared;
}

std::string_view RequestContext::Impl::transcode_wide(std::string_view body,
                                                      decode::WideEncoding encoding) {
  constexpr std::size_t kKeptCapacity = 64 * 1024;  // a larger buffer is not kept for the next
  if (wide_body.capacity() > kKeptCapacity) std::string().swap(wide_body);
  decode::wide_to_utf8(body, encoding, &wide_body);
  // Only a document: a binary body whose second byte is NUL is no text in any encoding.
  const std::string_view t = common::trim(wide_body);
  if (t.empty() || (t.front() != '{' && t.front() != '[' && t.front() != '<')) return {};
  return wide_body;
}

void RequestContext::Impl::read_body(std::string_view body, std::string_view type,
                                     std::string_view wide) {
  if (!wide.empty() && read_wide(wide, type)) [[unlikely]] return;
  // Many programs read a body as what they expect it to be, whatever its Content-Type says
  // (json.loads of the raw body, PHP's json_decode of php://input, Express's json parser set to
  // any type): a JSON or XML document sent with another declared type is read as such too.
  // Otherwise its values reach the program unseen, as a form's junk names.
  const std::string_view t = common::trim(context::after_bom(common::trim(body)));
  const bool looks_json = !t.empty() && (t.front() == '{' || t.front() == '[');
  const bool looks_xml = !t.empty() && t.front() == '<';
  if (media_is(type, "application/x-www-form-urlencoded")) {
    context::parse_urlencoded(body, Source::kBody, &builder);
    if (looks_json) [[unlikely]] context::parse_json_body(body, &builder, true);
    if (looks_xml) [[unlikely]] context::parse_xml_body(body, &builder, true);
  } else if (declares_json(type)) {
    context::parse_json_body(body, &builder);
    if (looks_xml) [[unlikely]] context::parse_xml_body(body, &builder, true);
  } else if (media_is(type, "multipart/form-data")) {
    context::parse_multipart_body(body, type, &builder);
    if (looks_json) [[unlikely]] context::parse_json_body(body, &builder, true);
    if (looks_xml) [[unlikely]] context::parse_xml_body(body, &builder, true);
  } else if (declares_xml(type)) {
    context::parse_xml_body(body, &builder);
    if (looks_json) [[unlikely]] context::parse_json_body(body, &builder, true);
  } else {
    // An unknown or missing type: applications may still read it (raw body, or a guessed
    // format). Sniff JSON and forms; otherwise the whole body is one input.
    if (looks_json) {
      context::parse_json_body(body, &builder);
    } else if (looks_xml) {
      context::parse_xml_body(body, &builder);
    } else if (t.find('=') != std::string_view::npos && t.find(' ') == std::string_view::npos) {
      context::parse_urlencoded(body, Source::kBody, &builder);
    } else {
      builder.add(Source::kBody, std::string_view(), body);
    }
  }
}

void RequestContext::Impl::resolve_client(const TrustedProxies* trusted) {
  // A connection's requests share one peer: its meaning is worked out once.
  if (!peer_known || request.peer != peer_text) [[unlikely]]
    resolve_peer();
  client_ip = request.peer;
  if (!peer_valid) return;
  if (!peer_canonical) client_ip = peer_normal;
  if (trusted != nullptr && !trusted->cidrs.empty()) [[unlikely]]
    resolve_proxies(*trusted);
}

void RequestContext::Impl::resolve_peer() {
  // The usual peer (an IPv4 address as accept() gave it) is its own canonical text; any
  // other is parsed generally, and its normalised text kept when it differs.
  peer_text.assign(request.peer);
  peer_known = true;
  peer_canonical = common::IpAddress::parse_canonical_v4(peer_text, &peer_address);
  peer_valid = peer_canonical || common::IpAddress::parse(peer_text, &peer_address);
  if (peer_valid && !peer_canonical) {
    char text[common::IpAddress::kMaxText];
    peer_normal.assign(text, peer_address.to_chars(text));
    peer_canonical = peer_normal == peer_text;
  }
}

void RequestContext::Impl::resolve_proxies(const TrustedProxies& trusted_proxies) {
  const TrustedProxies* trusted = &trusted_proxies;
  const common::IpAddress& peer = peer_address;
  if (proxy_source != trusted->cidrs) {
    proxy_source = trusted->cidrs;
    proxies.clear();
    for (const auto& c : trusted->cidrs) {
      common::Cidr cidr;
      if (common::Cidr::parse(c, &cidr)) proxies.push_back(cidr);
    }
  }
  auto is_trusted = [&](const common::IpAddress& a) {
    for (const auto& c : proxies)
      if (c.contains(a)) return true;
    return false;
  };
  if (!is_trusted(peer)) return;
  // Collect the claimed chain, nearest hop last: Forwarded (RFC 7239) for=, else X-Forwarded-For.
  std::vector<std::string_view> chain;
  for (const Header& h : request.headers) {
    if (!iequals(h.name, "forwarded")) continue;
    std::size_t start = 0;
    while (start < h.value.size()) {
      std::size_t end = common::find_any(h.value, ",;", start);
      std::string_view pair = common::trim(h.value.substr(start, end == std::string_view::npos ? end : end - start));
      if (common::istarts_with(pair, "for=")) chain.push_back(pair.substr(4));
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
  }
  if (chain.empty()) {
    for (const Header& h : request.headers) {
      if (!iequals(h.name, "x-forwarded-for")) continue;
      std::size_t start = 0;
      while (start <= h.value.size()) {
        std::size_t comma = h.value.find(',', start);
        chain.push_back(common::trim(h.value.substr(start, comma == std::string_view::npos ? comma : comma - start)));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
    }
  }
  // Walk from the nearest hop outwards; the first address we do not trust is the client.
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    common::IpAddress a;
    if (!common::IpAddress::parse(*it, &a)) break;  // garbage: stop at what we could verify
    set_client(a);
    if (!is_trusted(a)) break;
  }
}

RequestContext::RequestContext(RequestLimits limits) : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
}
RequestContext::~RequestContext() = default;

void RequestContext::parse(const HttpRequest& request, const TrustedProxies* proxies) {
  Impl& m = *impl_;
  m.builder.reset(m.limits);
  m.may_hold_nul = false;
  m.request = request;
  if (!is_token(request.method)) m.builder.flag(kAnomalyBadMethod);
  m.parse_uri();
  m.parse_headers();
  if (!request.body.empty()) [[unlikely]]
    m.parse_body();
  m.resolve_client(proxies);
  if (request.anomalies != 0) [[unlikely]] m.builder.flag(request.anomalies);
  m.builder.finish(&m.inputs);
  if (m.may_hold_nul || m.builder.arena_used() || !request.body.empty()) [[unlikely]]
    m.flag_nul_inputs();
}

// A NUL in a decoded or built value, or in a value taken from bytes that may hold one.
void RequestContext::Impl::flag_nul_inputs() {
  for (const Input& in : inputs) {
    if (in.value.find('\0') != std::string_view::npos) builder.flag(kAnomalyNulByte);
  }
}

std::span<const Input> RequestContext::inputs() const noexcept { return impl_->inputs; }
std::string_view RequestContext::method() const noexcept { return impl_->request.method; }
std::string_view RequestContext::path() const noexcept { return impl_->builder.view(impl_->path); }
std::string_view RequestContext::raw_path() const noexcept { return impl_->raw_path; }
std::string_view RequestContext::query() const noexcept { return impl_->query; }
std::string_view RequestContext::client_ip() const noexcept { return impl_->client_ip; }
std::uint32_t RequestContext::anomalies() const noexcept { return impl_->builder.anomalies(); }
std::span<const RequestDiagnostic> RequestContext::diagnostics() const noexcept {
  return impl_->builder.diagnostics();
}

std::string_view RequestContext::header(std::string_view name) const noexcept {
  // user_agent() asks on every request analysed: the header loop noted it already.
  if (name == "user-agent" && impl_->all_headers_seen) return impl_->user_agent;
  for (const Header& h : impl_->request.headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

std::size_t RequestContext::memory_bytes() const noexcept {
  return sizeof(Impl) + impl_->builder.memory_bytes() + impl_->inputs.capacity() * sizeof(Input) +
         impl_->client_storage.capacity() + impl_->wide_body.capacity();
}

}  // namespace vigil
