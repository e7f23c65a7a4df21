#include "core/detect/input/url_values.hpp"

#include <algorithm>

#include "core/common/ascii.hpp"

namespace vigil::detect::input::urlv {
namespace {

// Units longer than this are judged on their beginning: the scheme and the host a URL goes to
// are at its start, and the cap keeps 48 units of a 1 MB value linear in practice.
constexpr std::size_t kUnitCap = 4096;

bool is_param_name_char(char c) noexcept {
  return common::is_alnum(c) || c == '_' || c == '-' || c == '.' || c == '[' || c == ']' ||
         c == '"' || c == '\'' || c == '$';
}

std::string_view trim_unit(std::string_view s) noexcept {
  std::size_t b = 0, e = s.size();
  while (b < e && static_cast<unsigned char>(s[b]) <= 0x20) ++b;
  while (e > b && static_cast<unsigned char>(s[e - 1]) <= 0x20) --e;
  s = s.substr(b, e - b);
  return s.size() > kUnitCap ? s.substr(0, kUnitCap) : s;
}

class Walk {
 public:
  Walk(UnitVisitor visit, void* ctx) noexcept : visit_(visit), ctx_(ctx) {}

  // Every unit leaves the walk trimmed and within the unit cap.
  bool emit(UrlUnit u) noexcept {
    if (units_ >= kMaxUnits || stop_) return stop_;
    u.text = trim_unit(u.text);
    if (u.text.empty()) return false;
    ++units_;
    stop_ = visit_(u, ctx_);
    return stop_;
  }
  bool full() const noexcept { return units_ >= kMaxUnits || stop_; }

  // Parameters whose name runs into a URL without '=' ("?absoluteurlhttp://evil/x.txt"), as
  // include scanners write them for applications that read the raw query string.
  void glued(std::string_view run) noexcept {
    static constexpr std::string_view kSchemes[] = {"https", "http", "ftp"};
    std::size_t from = 0;
    while (!full()) {
      const std::size_t sep = run.find("://", from);
      if (sep == std::string_view::npos) return;
      from = sep + 3;
      for (std::string_view scheme : kSchemes) {
        if (sep < scheme.size() + 1 ||
            !common::iequals(run.substr(sep - scheme.size(), scheme.size()), scheme))
          continue;
        const std::size_t start = sep - scheme.size();
        if (!is_param_name_char(run[start - 1]) || run[start - 1] == '=') break;
        std::size_t nb = start;
        while (nb > 0 && is_param_name_char(run[nb - 1])) --nb;
        if (nb == 0 || (run[nb - 1] != '?' && run[nb - 1] != '&')) break;
        std::size_t end = run.find('&', start);
        if (end == std::string_view::npos) end = run.size();
        std::string_view target = run.substr(0, nb - 1);
        emit({run.substr(start, end - start), run.substr(nb, start - nb), target,
              UnitKind::kParam, false});
        break;
      }
    }
  }

  // The value itself, then the parameters written in its first space-free run.
  bool value(std::string_view text, std::string_view name, bool decoded) noexcept {
    text = trim_unit(text);
    if (text.empty()) return false;
    if (emit({text, name, {}, UnitKind::kValue, decoded})) return true;
    // Most values write no parameters: look for the bytes that start one before finding where
    // the first space-free run ends.
    const std::size_t first_eq = text.find('=');
    const std::size_t first_q = text.find('?');
    const std::size_t first_sep = text.find("://");
    if (first_eq == std::string_view::npos && first_q == std::string_view::npos &&
        first_sep == std::string_view::npos)
      return false;
    std::size_t run_end = 0;
    while (run_end < text.size() && !common::is_space(text[run_end])) ++run_end;
    const std::string_view run = text.substr(0, run_end);
    std::size_t from = 0, amp = 0;
    while (!full()) {
      const std::size_t eq = run.find('=', from);
      if (eq == std::string_view::npos) break;
      from = eq + 1;
      std::size_t nb = eq;
      while (nb > 0 && is_param_name_char(run[nb - 1])) --nb;
      if (amp < eq + 1) {
        amp = run.find('&', eq + 1);
        if (amp == std::string_view::npos) amp = run.size();
      }
      std::string_view val = run.substr(eq + 1, amp - eq - 1);
      if (val.empty()) continue;
      std::string_view target = run.substr(0, nb);
      while (!target.empty() &&
             (target.back() == '?' || target.back() == '&' || target.back() == ';'))
        target.remove_suffix(1);
      const std::string_view pname = run.substr(nb, eq - nb);
      if (emit({trim_unit(val), pname, target, UnitKind::kParam, false})) return true;
      if (common::find_any(val, "%+") != std::string_view::npos) {
        std::string_view d = trim_unit(percent_decode(val, true, param_buf_, kDecodeCap));
        if (!d.empty() && d != val && emit({d, pname, target, UnitKind::kParam, true}))
          return true;
      }
    }
    glued(run);
    // A query that is one bare piece ("/out?/\\evil.example"): some redirectors read it whole.
    const std::size_t q = run.find('?');
    if (q != std::string_view::npos && q + 1 < run.size() && !full()) {
      const std::string_view piece = trim_unit(run.substr(q + 1));
      if (!piece.empty() && common::find_any(piece, "=&") == std::string_view::npos)
        emit({piece, {}, run.substr(0, q), UnitKind::kParam, false});
    }
    return stop_;
  }

  // A Referer or Origin: the page itself, then each query parameter as a value of its own.
  bool page(std::string_view text, std::string_view name) noexcept {
    text = trim_unit(text);
    if (text.empty()) return false;
    if (emit({text, name, {}, UnitKind::kPage, false})) return true;
    const std::size_t q = text.find('?');
    if (q == std::string_view::npos) return false;
    std::string_view query = text.substr(q + 1);
    query = query.substr(0, query.find('#'));
    std::size_t start = 0;
    while (start <= query.size() && !full()) {
      std::size_t amp = query.find('&', start);
      if (amp == std::string_view::npos) amp = query.size();
      const std::string_view piece = query.substr(start, amp - start);
      start = amp + 1;
      const std::size_t eq = piece.find('=');
      if (eq == std::string_view::npos || eq + 1 >= piece.size()) continue;
      const std::string_view pname = piece.substr(0, eq);
      const std::string_view val = piece.substr(eq + 1);
      std::string_view d = percent_decode(val, true, page_buf_, kDecodeCap);
      if (value(d, pname, d != val)) return true;
      // Encoded twice (the engine decodes other inputs twice too).
      if (d.find('%') != std::string_view::npos) {
        std::string_view d2 = percent_decode(d, false, page_buf2_, kDecodeCap);
        if (d2 != d && value(d2, pname, true)) return true;
      }
    }
    return false;
  }

 private:
  UnitVisitor visit_;
  void* ctx_;
  std::size_t units_ = 0;
  bool stop_ = false;
  char page_buf_[kDecodeCap];   // a Referer parameter, decoded
  char page_buf2_[kDecodeCap];  // the same, decoded twice
  char param_buf_[kDecodeCap];  // a parameter inside a value, decoded
};

// Names compared without case, '_' and '-': "return_to", "returnTo" and "RETURN-TO" are one.
std::size_t normalize_name(std::string_view name, char (&out)[32]) noexcept {
  std::size_t n = 0;
  for (char c : name) {
    if (c == '_' || c == '-') continue;
    if (n == sizeof(out)) return 0;
    out[n++] = common::to_lower(c);
  }
  return n;
}

template <std::size_t N>
bool name_in(std::string_view name, const std::string_view (&list)[N]) noexcept {
  char buf[32];
  std::size_t n = normalize_name(name, buf);
  if (n == 0) return false;
  const std::string_view norm(buf, n);
  for (std::string_view k : list)
    if (k == norm) return true;
  return false;
}

}  // namespace

bool is_page_header(const Candidate& c) noexcept {
  return c.source == Source::kHeader &&
         (common::iequals(c.name, "referer") || common::iequals(c.name, "origin"));
}

bool walk_units(const Candidate& c, UnitVisitor visit, void* ctx) noexcept {
  Walk walk(visit, ctx);
  if (is_page_header(c)) {
    // Only the raw form: the parameters are decoded one by one, as the page's application did.
    if (c.form != Form::kRaw) return false;
    return walk.page(c.value, c.name);
  }
  return walk.value(c.value, c.name, false);
}

void read_head(std::string_view text, Head* head) noexcept {
  head->size = 0;
  head->stripped = false;
  std::size_t i = 0;
  while (i < text.size() && static_cast<unsigned char>(text[i]) <= 0x20) {
    if (text[i] != ' ') head->stripped = true;
    ++i;
  }
  for (; i < text.size() && head->size < kHeadMax; ++i) {
    char c = text[i];
    if (url::is_tab_or_newline(c)) {
      head->stripped = true;
      continue;
    }
    head->bytes[head->size++] = c;
  }
}

char first_byte(std::string_view text) noexcept {
  for (char c : text)
    if (static_cast<unsigned char>(c) > 0x20) return c;
  return 0;
}

Start url_start(std::string_view text, char (&buf)[16], std::string_view* scheme) noexcept {
  std::size_t i = 0;
  while (i < text.size() && static_cast<unsigned char>(text[i]) <= 0x20) ++i;
  if (i == text.size()) return Start::kOther;
  if (text[i] == '/' || text[i] == '\\') return Start::kSlash;
  if (!common::is_alpha(text[i])) return Start::kOther;
  std::size_t n = 0;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == ':') {
      *scheme = {buf, n};
      return Start::kScheme;
    }
    if (url::is_tab_or_newline(c)) continue;
    if (n == sizeof(buf) || !(common::is_alnum(c) || c == '+' || c == '-' || c == '.'))
      return Start::kOther;
    buf[n++] = common::to_lower(c);
  }
  return Start::kOther;
}

std::string_view scheme_of(std::string_view head, char (&out)[16], std::size_t* after) noexcept {
  if (head.empty() || !common::is_alpha(head[0])) return {};
  std::size_t i = 0;
  while (i < head.size() && i < sizeof(out)) {
    char c = head[i];
    if (c == ':') {
      *after = i + 1;
      return {out, i};
    }
    if (!(common::is_alnum(c) || c == '+' || c == '-' || c == '.')) return {};
    out[i] = common::to_lower(c);
    ++i;
  }
  return {};
}

std::size_t count_slashes(std::string_view head, std::size_t from) noexcept {
  std::size_t n = 0;
  while (from + n < head.size() && (head[from + n] == '/' || head[from + n] == '\\')) ++n;
  return n;
}

std::string_view percent_decode(std::string_view in, bool plus, char* buf,
                                std::size_t cap) noexcept {
  std::size_t w = 0;
  for (std::size_t r = 0; r < in.size() && w < cap; ++r) {
    char c = in[r];
    if (c == '%' && r + 2 < in.size() && common::is_xdigit(in[r + 1]) &&
        common::is_xdigit(in[r + 2])) {
      buf[w++] =
          static_cast<char>(common::hex_value(in[r + 1]) * 16 + common::hex_value(in[r + 2]));
      r += 2;
    } else if (c == '+' && plus) {
      buf[w++] = ' ';
    } else {
      buf[w++] = c;
    }
  }
  return {buf, w};
}

bool has_space(std::string_view s) noexcept { return s.find(' ') != std::string_view::npos; }

bool contains_nocase(std::string_view hay, std::string_view needle) noexcept {
  if (needle.empty()) return true;
  if (hay.size() < needle.size()) return false;
  const char first = common::to_lower(needle[0]);
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (common::to_lower(hay[i]) != first) continue;
    if (common::iequals(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string_view authority_at(std::string_view head, std::size_t from) noexcept {
  if (from >= head.size()) return {};
  std::size_t e = from;
  while (e < head.size() && head[e] != '/' && head[e] != '\\' && head[e] != '?' && head[e] != '#')
    ++e;
  return head.substr(from, e - from);
}

bool host_like(std::string_view authority) noexcept {
  std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority = authority.substr(at + 1);
  if (authority.empty()) return false;
  if (authority[0] == '[') return authority.find(']') != std::string_view::npos;
  std::size_t end = 0;
  bool alnum = false, dotted = false, digits = true, hex = authority.size() > 2 &&
                                                         authority[0] == '0' &&
                                                         (authority[1] == 'x' || authority[1] == 'X');
  for (; end < authority.size(); ++end) {
    unsigned char c = static_cast<unsigned char>(authority[end]);
    if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == '"' || c == '{' || c == '}' ||
        c == '|' || c == '^' || c == '`' || c == '\'' || c == '(' || c == ')' || c == '\\')
      return false;
    if (c == ':') break;  // a port
    if (common::is_alnum(static_cast<char>(c)) || c >= 0x80) alnum = true;
    if (!common::is_digit(static_cast<char>(c))) digits = false;
    if (end >= 2 && !common::is_xdigit(static_cast<char>(c))) hex = false;
    if (c == '.' && end > 0 && end + 1 < authority.size()) dotted = true;
  }
  if (!alnum || end == 0) return false;
  return dotted || digits || hex || common::iequals(authority.substr(0, end), "localhost");
}

std::string unit_place(const Candidate& c, const UrlUnit& u) {
  switch (u.kind) {
    case UnitKind::kPage:
      return "the " + std::string(c.name) + " header";
    case UnitKind::kValue:
      if (is_page_header(c))
        return "parameter " + std::string(u.name) + " of the " + std::string(c.name) + " URL";
      return "the value";
    case UnitKind::kParam:
      return u.name.empty() ? std::string("a parameter written in the value")
                            : "the parameter " + std::string(u.name) + " written in the value";
  }
  return "the value";
}

std::string_view written_host(std::string_view authority) noexcept {
  std::size_t at = authority.rfind('@');
  std::string_view h = at == std::string_view::npos ? authority : authority.substr(at + 1);
  if (!h.empty() && h[0] == '[') {
    std::size_t close = h.find(']');
    return close == std::string_view::npos ? h : h.substr(0, close + 1);
  }
  return h.substr(0, h.find(':'));
}

std::string host_text(const url::Host& host) {
  char buf[300];
  std::size_t n = host.serialize(buf, sizeof(buf));
  if (n == 0) return host.kind == url::HostKind::kEmpty ? "(empty)" : "(none)";
  return std::string(buf, n);
}

std::string_view span_text(std::string_view text, const url::Span& s) noexcept {
  if (!s.present || s.begin > text.size()) return {};
  return text.substr(s.begin, std::min<std::size_t>(s.end, text.size()) - s.begin);
}

const url::Url& http_base() noexcept {
  static const url::Url base = [] {
    url::Url u;
    url::parse_url("http://vigil.invalid/", nullptr, &u);
    return u;
  }();
  return base;
}

const url::Url& https_base() noexcept {
  static const url::Url base = [] {
    url::Url u;
    url::parse_url("https://vigil.invalid/", nullptr, &u);
    return u;
  }();
  return base;
}

bool is_redirect_name(std::string_view name) noexcept {
  static constexpr std::string_view kNames[] = {
      "next",        "nexturl",     "nextpage",    "redirect",    "redirecturl", "redirecturi",
      "redirectto",  "redir",       "redirurl",    "rurl",        "return",      "returnto",
      "returnurl",   "returnuri",   "continue",    "continueurl", "dest",        "desturl",
      "destination", "goto",        "gotourl",     "go",          "r",           "u",
      "to",          "out",         "forward",     "forwardurl",  "fwd",         "target",
      "targeturl",   "callback",    "callbackurl", "back",        "backurl",     "successurl",
      "failureurl",  "errorurl",    "cancelurl",   "loginurl",    "logouturl",   "location",
      "jump",        "jumpto",      "exit",        "exiturl",     "checkouturl", "service",
      "view",        "landing",     "landingurl",  "afterlogin",  "postlogin",   "oncomplete",
  };
  return name_in(name, kNames);
}

bool is_link_name(std::string_view name) noexcept {
  static constexpr std::string_view kNames[] = {
      "url",     "uri",      "u",         "link",     "href",     "ref",      "referer",
      "referrer", "share",   "shareurl",  "source",   "website",  "homepage", "web",
      "blog",    "feed",     "rss",       "image",    "img",      "imageurl", "icon",
      "avatar",  "photo",    "picture",   "video",    "thumbnail", "logo",    "canonical",
      "permalink", "origin", "redirect",  "redirecturl", "next",  "return",   "returnurl",
      "goto",    "continue", "dest",      "destination", "q",     "query",    "search",
  };
  return name_in(name, kNames);
}

bool is_fetch_name(std::string_view name) noexcept {
  static constexpr std::string_view kNames[] = {
      "url",      "uri",         "host",      "hostname",  "domain",      "server",
      "endpoint", "webhook",     "webhookurl", "callback", "callbackurl", "proxy",
      "feed",     "feedurl",     "rss",       "fetch",     "load",        "remote",
      "api",      "apiurl",      "imageurl",  "imgurl",    "avatarurl",   "iconurl",
      "target",   "dest",        "ip",        "site",      "link",
  };
  return name_in(name, kNames);
}

}  // namespace vigil::detect::input::urlv
