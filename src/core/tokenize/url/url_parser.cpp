#include "core/tokenize/url/url_parser.hpp"

#include <algorithm>

namespace vigil::tokenize::url {
namespace {

constexpr int kEof = -1;

constexpr bool is_alpha(int c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(int c) noexcept { return c >= '0' && c <= '9'; }

// Bytes that end a run the parser may skip in one step, per state.
struct Stops {
  bool v[256];
};
constexpr Stops make_stops(std::string_view chars, bool invert = false) {
  Stops s{};
  for (int i = 0; i < 256; ++i) s.v[i] = invert;
  for (char c : chars) s.v[static_cast<unsigned char>(c)] = !invert;
  return s;
}
constexpr Stops kPathStops = make_stops("?#");
constexpr Stops kQueryStops = make_stops("#");
constexpr Stops kAuthorityStops = make_stops("@/?#\\");
constexpr Stops kHostStops = make_stops(":/?#\\[]");
constexpr Stops kSlashRunStops = make_stops("/\\\t\n\r", true);
constexpr Stops kSchemeStops = make_stops(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.\t\n\r", true);

enum class State : std::uint8_t {
  kSchemeStart,
  kScheme,
  kNoScheme,
  kSpecialRelativeOrAuthority,
  kPathOrAuthority,
  kRelative,
  kRelativeSlash,
  kSpecialAuthoritySlashes,
  kSpecialAuthorityIgnoreSlashes,
  kAuthority,
  kHost,
  kPort,
  kFile,
  kFileSlash,
  kFileHost,
  kPathStart,
  kPath,
  kOpaquePath,
  kQuery,
  kFragment,
};

// The text between the stripped ends, read with tabs and newlines skipped.
class Cursor {
 public:
  Cursor(const Text& t, std::size_t begin, std::size_t end) : t_(t), begin_(begin), end_(end) {}
  std::size_t begin() const noexcept { return begin_; }
  std::size_t end() const noexcept { return end_; }
  // The first position at or after i that is not a tab or newline (or end()).
  std::size_t skip(std::size_t i) const noexcept {
    while (i < end_ && is_tab_or_newline(t_[i])) ++i;
    return i;
  }
  std::size_t next(std::size_t i) const noexcept { return i < end_ ? skip(i + 1) : end_; }
  int at(std::size_t i) const noexcept {
    return i < end_ ? static_cast<unsigned char>(t_[i]) : kEof;
  }
  // The k-th code unit after position i (k >= 1), tabs skipped.
  int peek(std::size_t i, int k) const noexcept {
    for (int n = 0; n < k; ++n) i = next(i);
    return at(i);
  }
  // Whether the text from i starts with a Windows drive letter ("c:", "c|" then end or / \ ? #).
  bool starts_with_drive_letter(std::size_t i) const noexcept {
    int c0 = at(i), c1 = peek(i, 1), c2 = peek(i, 2);
    if (!is_alpha(c0) || (c1 != ':' && c1 != '|')) return false;
    return c2 == kEof || c2 == '/' || c2 == '\\' || c2 == '?' || c2 == '#';
  }

 private:
  const Text& t_;
  std::size_t begin_, end_;
};

bool scheme_equals(const Url& a, const Url& b) noexcept {
  return a.scheme_len_ == b.scheme_len_ && a.scheme() == b.scheme();
}

void copy_authority(const Url& base, Url* out) noexcept {
  out->authority_from_base = true;
  out->host = base.host;
  out->port = base.port;
  out->has_userinfo_ = base.has_userinfo_;
}

Span make_span(std::size_t b, std::size_t e) noexcept {
  Span s;
  s.begin = static_cast<std::uint32_t>(b);
  s.end = static_cast<std::uint32_t>(e < b ? b : e);
  s.present = true;
  return s;
}

}  // namespace

std::string_view url_error_name(UrlError e) noexcept {
  switch (e) {
    case UrlError::kNone: return "none";
    case UrlError::kEmpty: return "empty URL";
    case UrlError::kNoBase: return "relative reference without a base URL";
    case UrlError::kHost: return "invalid host";
    case UrlError::kMissingHost: return "missing host";
    case UrlError::kPort: return "invalid port";
  }
  return "?";
}

bool is_special_scheme(std::string_view s) noexcept {
  return s == "http" || s == "https" || s == "ws" || s == "wss" || s == "ftp" || s == "file";
}

int default_port(std::string_view s) noexcept {
  if (s == "http" || s == "ws") return 80;
  if (s == "https" || s == "wss") return 443;
  if (s == "ftp") return 21;
  return -1;
}

int Url::effective_port() const noexcept { return port != -1 ? port : default_port(scheme()); }

bool has_tuple_origin(const Url& url) noexcept {
  if (!url.valid || !url.special || url.scheme_len_ > kMaxScheme) return false;
  return url.scheme() != "file";
}

bool same_origin(const Url& a, const Url& b) noexcept {
  if (!has_tuple_origin(a) || !has_tuple_origin(b)) return false;
  return scheme_equals(a, b) && a.host == b.host && a.effective_port() == b.effective_port();
}

bool parse_url(const Text& text, const Url* base, Url* out) noexcept {
  *out = Url();
  if (base != nullptr && !base->valid) base = nullptr;
  auto fail = [out](UrlError e) {
    out->valid = false;
    out->error = e;
    return false;
  };

  // Strip leading and trailing C0 control or space.
  std::size_t b = 0, e = text.size();
  while (b < e && static_cast<unsigned char>(text[b]) <= 0x20) ++b;
  while (e > b && static_cast<unsigned char>(text[e - 1]) <= 0x20) --e;
  Cursor cur(text, b, e);

  State state = State::kSchemeStart;
  std::size_t p = cur.skip(b);
  std::size_t mark = p;         // start of the current buffer
  std::size_t buffer_len = 0;   // code units in the file host buffer
  bool at_sign_seen = false;
  bool inside_brackets = false;
  bool path_started = false;
  std::uint32_t port_value = 0;
  bool port_overflow = false;

  // Whether the buffer that started at `mark` holds nothing but tabs and newlines before `at`.
  auto buffer_empty = [&](std::size_t at) { return cur.skip(mark) >= at; };
  // Skips a run of bytes that cannot change the state: the next stop at or after `from`.
  auto run_to = [&](std::size_t from, const Stops& stops) {
    return text.find_first(from, e, stops.v);
  };

  auto start_path = [&](std::size_t at) {
    if (!path_started) {
      out->path_span = make_span(at, at);
      path_started = true;
    }
  };
  auto end_path = [&](std::size_t at) {
    if (path_started) out->path_span.end = static_cast<std::uint32_t>(at);
  };
  auto set_host = [&](std::size_t hb, std::size_t he, bool special) -> bool {
    out->host_span = make_span(hb, he);
    HostError err = parse_host(text, hb, he, special, &out->host);
    if (err != HostError::kNone) {
      out->host_error = err;
      return false;
    }
    return true;
  };

  bool settled = false;
  for (;;) {
    int c = cur.at(p);
    bool again = false;
    if (!settled && (state == State::kPathStart || state == State::kPath ||
                     state == State::kOpaquePath || state == State::kQuery ||
                     state == State::kFragment)) {
      settled = true;
      out->origin_end = static_cast<std::uint32_t>(p);
    }
    switch (state) {
      case State::kSchemeStart:
        if (is_alpha(c)) {
          state = State::kScheme;
          mark = p;
        } else {
          state = State::kNoScheme;
          again = true;
        }
        break;

      case State::kScheme:
        if (is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.') {
          p = run_to(p + 1, kSchemeStops);
          continue;
        }
        if (c == ':') {
          out->scheme_span = make_span(mark, p);
          std::uint32_t n = 0;
          for (std::size_t i = mark; i < p; i = cur.next(i)) {
            if (n < kMaxScheme) {
              char ch = static_cast<char>(cur.at(i));
              out->scheme_[n] = (ch >= 'A' && ch <= 'Z') ? char(ch + 32) : ch;
            }
            ++n;
          }
          out->scheme_len_ = n;
          out->special = n <= kMaxScheme && is_special_scheme(out->scheme());
          if (out->special && out->scheme() == "file") {
            state = State::kFile;
          } else if (out->special && base != nullptr && scheme_equals(*base, *out)) {
            state = State::kSpecialRelativeOrAuthority;
          } else if (out->special) {
            state = State::kSpecialAuthoritySlashes;
          } else if (cur.peek(p, 1) == '/') {
            state = State::kPathOrAuthority;
            p = cur.next(p);
          } else {
            out->opaque_path = true;
            state = State::kOpaquePath;
            start_path(cur.next(p));
          }
          break;
        }
        // Not a scheme after all: start over without one.
        state = State::kNoScheme;
        p = cur.skip(b);
        out->scheme_len_ = 0;
        out->scheme_span = Span();
        continue;

      case State::kNoScheme:
        if (base == nullptr || (base->opaque_path && c != '#')) return fail(UrlError::kNoBase);
        if (base->opaque_path && c == '#') {
          out->scheme_from_base = true;
          std::copy(base->scheme_, base->scheme_ + kMaxScheme, out->scheme_);
          out->scheme_len_ = base->scheme_len_;
          out->special = base->special;
          out->opaque_path = true;
          copy_authority(*base, out);
          out->fragment_span = make_span(cur.next(p), e);
          state = State::kFragment;
        } else if (base->scheme() != "file") {
          state = State::kRelative;
          again = true;
        } else {
          state = State::kFile;
          again = true;
        }
        break;

      case State::kSpecialRelativeOrAuthority:
        if (c == '/' && cur.peek(p, 1) == '/') {
          state = State::kSpecialAuthorityIgnoreSlashes;
          p = cur.next(p);
        } else {
          state = State::kRelative;
          again = true;
        }
        break;

      case State::kPathOrAuthority:
        if (c == '/') {
          state = State::kAuthority;
          mark = cur.next(p);
          buffer_len = 0;
        } else {
          state = State::kPath;
          start_path(p);
          again = true;
        }
        break;

      case State::kRelative:
        out->scheme_from_base = true;
        std::copy(base->scheme_, base->scheme_ + kMaxScheme, out->scheme_);
        out->scheme_len_ = base->scheme_len_;
        out->special = base->special;
        if (c == '/' || (out->special && c == '\\')) {
          state = State::kRelativeSlash;
        } else {
          copy_authority(*base, out);
          if (c == '?') {
            out->query_span = make_span(cur.next(p), e);
            state = State::kQuery;
          } else if (c == '#') {
            out->fragment_span = make_span(cur.next(p), e);
            state = State::kFragment;
          } else if (c != kEof) {
            state = State::kPath;
            start_path(p);
            again = true;
          }
        }
        break;

      case State::kRelativeSlash:
        if (out->special && (c == '/' || c == '\\')) {
          state = State::kSpecialAuthorityIgnoreSlashes;
        } else if (c == '/') {
          state = State::kAuthority;
          mark = cur.next(p);
          buffer_len = 0;
        } else {
          copy_authority(*base, out);
          state = State::kPath;
          start_path(p);
          again = true;
        }
        break;

      case State::kSpecialAuthoritySlashes:
        state = State::kSpecialAuthorityIgnoreSlashes;
        if (c == '/' && cur.peek(p, 1) == '/') p = cur.next(p);
        else again = true;
        break;

      case State::kSpecialAuthorityIgnoreSlashes:
        if (c != '/' && c != '\\') {
          state = State::kAuthority;
          mark = p;
          again = true;
        } else {
          p = run_to(p + 1, kSlashRunStops);
          continue;
        }
        break;

      case State::kAuthority:
        if (c == '@') {
          at_sign_seen = true;
          out->userinfo_span = make_span(out->userinfo_span.present ? out->userinfo_span.begin
                                                                    : mark, p);
          if (!buffer_empty(p)) out->has_userinfo_ = true;
          mark = cur.next(p);
        } else if (c == kEof || c == '/' || c == '?' || c == '#' ||
                   (out->special && c == '\\')) {
          if (at_sign_seen && buffer_empty(p)) return fail(UrlError::kMissingHost);
          p = mark;
          state = State::kHost;
          again = true;
        } else {
          p = run_to(p + 1, kAuthorityStops);
          continue;
        }
        break;

      case State::kHost:
        if (c == ':' && !inside_brackets) {
          if (buffer_empty(p)) return fail(UrlError::kMissingHost);
          if (!set_host(mark, p, out->special)) return fail(UrlError::kHost);
          state = State::kPort;
          mark = cur.next(p);
        } else if (c == kEof || c == '/' || c == '?' || c == '#' ||
                   (out->special && c == '\\')) {
          if (out->special && buffer_empty(p)) return fail(UrlError::kMissingHost);
          if (!set_host(mark, p, out->special)) return fail(UrlError::kHost);
          state = State::kPathStart;
          again = true;
        } else {
          if (c == '[') inside_brackets = true;
          if (c == ']') inside_brackets = false;
          p = run_to(p + 1, kHostStops);
          continue;
        }
        break;

      case State::kPort:
        if (is_digit(c)) {
          port_value = port_value * 10 + static_cast<std::uint32_t>(c - '0');
          if (port_value > 65535) port_overflow = true;
          if (port_value > 1000000) port_value = 1000000;
        } else if (c == kEof || c == '/' || c == '?' || c == '#' ||
                   (out->special && c == '\\')) {
          if (p != mark) {
            out->port_span = make_span(mark, p);
            if (port_overflow) return fail(UrlError::kPort);
            int v = static_cast<int>(port_value);
            out->port = (v == default_port(out->scheme())) ? -1 : v;
          }
          state = State::kPathStart;
          again = true;
        } else {
          return fail(UrlError::kPort);
        }
        break;

      case State::kFile:
        out->scheme_len_ = 4;
        std::copy_n("file", 4, out->scheme_);
        out->special = true;
        out->host.kind = HostKind::kEmpty;
        if (c == '/' || c == '\\') {
          state = State::kFileSlash;
        } else if (base != nullptr && base->scheme() == "file") {
          copy_authority(*base, out);
          if (c == '?') {
            out->query_span = make_span(cur.next(p), e);
            state = State::kQuery;
          } else if (c == '#') {
            out->fragment_span = make_span(cur.next(p), e);
            state = State::kFragment;
          } else if (c != kEof) {
            state = State::kPath;
            start_path(p);
            again = true;
          }
        } else {
          state = State::kPath;
          start_path(p);
          again = true;
        }
        break;

      case State::kFileSlash:
        if (c == '/' || c == '\\') {
          state = State::kFileHost;
          mark = cur.next(p);
          buffer_len = 0;
        } else {
          if (base != nullptr && base->scheme() == "file") copy_authority(*base, out);
          state = State::kPath;
          start_path(p);
          again = true;
        }
        break;

      case State::kFileHost:
        if (c == kEof || c == '/' || c == '\\' || c == '?' || c == '#') {
          if (buffer_len == 2 && cur.starts_with_drive_letter(mark)) {
            // "file://c:/..." : the drive letter is the path, not a host.
            state = State::kPath;
            start_path(mark);
            p = mark;
            again = true;
            break;
          }
          if (buffer_len == 0) {
            out->host.kind = HostKind::kEmpty;
          } else {
            if (!set_host(mark, p, true)) return fail(UrlError::kHost);
            if (out->host.kind == HostKind::kDomain && out->host.name() == "localhost")
              out->host.kind = HostKind::kEmpty;
          }
          state = State::kPathStart;
          again = true;
        } else {
          ++buffer_len;
        }
        break;

      case State::kPathStart:
        if (out->special) {
          state = State::kPath;
          start_path(p);
          if (c != '/' && c != '\\') again = true;
        } else if (c == '?') {
          out->query_span = make_span(cur.next(p), e);
          state = State::kQuery;
        } else if (c == '#') {
          out->fragment_span = make_span(cur.next(p), e);
          state = State::kFragment;
        } else if (c != kEof) {
          state = State::kPath;
          start_path(p);
          if (c != '/') again = true;
        }
        break;

      case State::kPath:
      case State::kOpaquePath:
        if (c != kEof && c != '?' && c != '#') {
          p = run_to(p + 1, kPathStops);
          continue;
        }
        if (c == '?') {
          end_path(p);
          out->query_span = make_span(cur.next(p), e);
          state = State::kQuery;
        } else if (c == '#') {
          end_path(p);
          out->fragment_span = make_span(cur.next(p), e);
          state = State::kFragment;
        } else if (c == kEof) {
          end_path(p);
        }
        break;

      case State::kQuery:
        if (c != kEof && c != '#') {
          p = run_to(p + 1, kQueryStops);
          continue;
        }
        if (c == '#') {
          out->query_span.end = static_cast<std::uint32_t>(p);
          out->fragment_span = make_span(cur.next(p), e);
          state = State::kFragment;
        }
        break;

      case State::kFragment:
        if (c != kEof) {
          p = e;
          continue;
        }
        break;
    }
    if (again) continue;
    if (c == kEof) break;
    p = cur.next(p);
  }

  // A URL whose authority ended the text ("http://host") reaches here in kPath after
  // kPathStart; one that never reached a host state must have one unless inherited.
  if (!settled) out->origin_end = static_cast<std::uint32_t>(e);
  if (state == State::kSchemeStart) return fail(UrlError::kEmpty);
  if (out->special && out->scheme() != "file" && out->host.kind == HostKind::kNone)
    return fail(UrlError::kMissingHost);
  out->valid = true;
  return true;
}

}  // namespace vigil::tokenize::url
