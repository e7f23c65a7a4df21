// A zero-copy WHATWG URL parser.
//
// parse_url() runs the WHATWG URL Standard's basic URL parser (the one browsers, Node.js and
// most HTTP clients' "new URL()" share) on a text, optionally against a base URL, and records
// where each component is in the text instead of building strings: scheme, userinfo (up to the
// LAST '@' of the authority), host, port, path, query and fragment are spans. What cannot be a
// span is kept by value: the lower-cased scheme, the parsed host (see host.hpp: IPv4/IPv6
// addresses, percent-decoded and IDNA-mapped names) and the port number.
//
// Faithful in what decides where a request goes: leading and trailing C0-control-or-space
// stripping, removal of ASCII tab and newline anywhere, special and non-special schemes,
// backslash as slash for special schemes, any number of slashes after a special scheme,
// relative references (scheme-relative "//host", "/\host", "\\host", path-absolute,
// path-relative, "https:host" with the base's own scheme), file URLs, default ports, and every
// failure (a bad host, a port above 65535, credentials without a host, a relative reference
// without a usable base). Paths are not normalized ("/a/../b" stays a span): the origin does not
// depend on them.
//
// Complexity: linear in the text; no allocation, no recursion. Thread safety: reentrant.
#ifndef VIGIL_CORE_TOKENIZE_URL_URL_PARSER_HPP_
#define VIGIL_CORE_TOKENIZE_URL_URL_PARSER_HPP_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/tokenize/url/host.hpp"

namespace vigil::tokenize::url {

// A component's place in the parsed text, [begin, end). Tabs and newlines inside a span were
// ignored by the parser but are part of the span.
struct Span {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  bool present = false;  // the component exists in the text (it may be empty: "http://h/?")

  bool contains(std::size_t offset) const noexcept {
    return present && offset >= begin && offset < end;
  }
  bool overlaps(std::size_t b, std::size_t e) const noexcept {
    return present && b < end && begin < e;
  }
};

enum class UrlError : std::uint8_t {
  kNone,
  kEmpty,                   // nothing but spaces and control characters
  kNoBase,                  // a relative reference and no base (or a base with an opaque path)
  kHost,                    // see Url::host_error
  kMissingHost,             // "http://", "http://:80", "http://user@"
  kPort,                    // non-digits in the port, or a port above 65535
};

std::string_view url_error_name(UrlError e) noexcept;

// The lower-cased scheme name is kept up to this many bytes (longer schemes are never special
// and compare by their kept prefix and length).
inline constexpr std::size_t kMaxScheme = 32;

struct Url {
  bool valid = false;
  UrlError error = UrlError::kNone;
  HostError host_error = HostError::kNone;

  bool special = false;      // ftp, file, http, https, ws, wss
  bool opaque_path = false;  // "mailto:x", "javascript:..." (no authority, no hierarchical path)

  // Which parts came from the base URL rather than the text (relative references).
  bool scheme_from_base = false;
  bool authority_from_base = false;  // userinfo, host and port

  Span scheme_span;    // "https" (without the colon)
  Span userinfo_span;  // "user:pass" (without the last '@')
  Span host_span;      // the host as written ("[::1]", "0x7f.1", "%65xample.com")
  Span port_span;      // the digits after ':'
  Span path_span;
  Span query_span;     // after '?'
  Span fragment_span;  // after '#'

  Host host;
  int port = -1;  // -1: none, or the scheme's default port

  // Where the parser settled the origin: text at or after this offset (the path, query and
  // fragment, read once the scheme, host and port were known) cannot change scheme, host or
  // port. Text before it can (the delimiter that ended the authority is before it).
  std::uint32_t origin_end = 0;

  std::string_view scheme() const noexcept {
    return {scheme_, scheme_len_ < kMaxScheme ? scheme_len_ : kMaxScheme};
  }
  std::size_t scheme_size() const noexcept { return scheme_len_; }
  bool has_userinfo() const noexcept { return has_userinfo_; }
  // The port a connection would use: the explicit one, else the scheme's default, else -1.
  int effective_port() const noexcept;

  // Internal (filled by the parser).
  char scheme_[kMaxScheme] = {};
  std::uint32_t scheme_len_ = 0;
  bool has_userinfo_ = false;
};

// Parses `text` against `base` (may be null; must be a valid URL when not null). Returns
// out->valid. *out is always fully written.
bool parse_url(const Text& text, const Url* base, Url* out) noexcept;
inline bool parse_url(std::string_view text, const Url* base, Url* out) noexcept {
  return parse_url(Text(text), base, out);
}

bool is_special_scheme(std::string_view lower_scheme) noexcept;
// 80, 443, 21 for http(s)/ws(s)/ftp; -1 for the others.
int default_port(std::string_view lower_scheme) noexcept;

// Whether the URL's origin is a (scheme, host, port) tuple: http, https, ws, wss, ftp. Every
// other URL (file:, javascript:, data:, a custom scheme) has an opaque origin, unique to it.
bool has_tuple_origin(const Url& url) noexcept;
// Same origin by the HTML rule: two tuple origins with the same scheme, host and port.
// An opaque origin is same-origin with nothing here.
bool same_origin(const Url& a, const Url& b) noexcept;

}  // namespace vigil::tokenize::url

#endif  // VIGIL_CORE_TOKENIZE_URL_URL_PARSER_HPP_
