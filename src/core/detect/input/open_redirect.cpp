// Open redirect attempts: a value that, used as a redirect target or appended to the site's
// origin, would send the browser to another origin.
//
// Values hold links all the time (a homepage field, a shared article, a "next" field, and the
// Referer, which is always a URL), so a full URL to another host convicts only in a redirect
// parameter (next, returnTo, redirect_uri ...) that the value writes itself ("?next=http://...");
// the input's own name proves nothing (sites redirect to their own full URLs, and the request
// does not say which host is the site's). What convicts anywhere is the shape of
// a redirect payload, each read on the value's units (url_values.hpp) as the WHATWG parser reads
// them (tabs and newlines removed, leading controls skipped, backslashes as slashes):
//
//  - a scheme-relative reference to a host: "//evil.example", "/\evil.example", "\\evil",
//    "///evil", "/%09/evil" (once decoded), also when the host is malformed ("//evil%00.com");
//  - a javascript:, vbscript: or data:text/html URL (also behind slashes, tabs, "<>", or JS
//    escapes such as "\x6a\x61..."), which runs script in the site's origin;
//  - "http:evil.example" without slashes: resolved against a page of the other scheme, it is
//    the host evil.example ("https:evil.example" is a path on an https page, but not on http);
//  - a path that holds a URL ("/https://evil.example", "/http:/evil"), for redirectors that
//    strip the leading slash;
//  - "@evil.example": appended to "https://site.example", the site's name becomes userinfo;
//  - a slash look-alike before a host ("〱evil.example", "/ｰevil.example") that some
//    normalisers turn into '/';
//  - a full URL carrying a bypass: userinfo that looks like a host or is junk
//    ("https://site.example@evil.example", ":@", ";@"), an authority that other parsers split
//    differently ("http://evil:80#@site.example/", a backslash, percent-escapes in the host), a
//    numeric host written in hex, octal, as one number or inside IPv6, more than two slashes, an
//    empty first label, encoded dot segments ("/%2f%2e%2e") or a path that is another URL;
//  - percent-encoded letters that spell a URL ("%68%74%74%70%3a%2f%2f...").
#include <algorithm>
#include <cstdio>
#include <string>

#include "core/common/ascii.hpp"
#include "core/detect/input/input_detector.hpp"
#include "core/detect/input/url_values.hpp"

namespace vigil::detect::input {
namespace {

namespace url = vigil::tokenize::url;
using urlv::UnitKind;
using urlv::UrlUnit;

struct Ctx {
  const Candidate* c;
  Hit* hit;
};

bool convict(Ctx* x, const UrlUnit& u, const std::string& reason) {
  x->hit->reason = urlv::unit_place(*x->c, u) + " " + reason;
  x->hit->evidence = evidence(u.text);
  return true;
}

bool script_scheme(std::string_view s) noexcept {
  return s == "javascript" || s == "vbscript" || s == "livescript";
}

// Whether what follows "javascript:" reads as code rather than prose ("JavaScript: The Good
// Parts" is a title).
// "void(0)", "void 0;", "return false", "false": the do-nothing link targets pages write.
bool noop_script(std::string_view rest) noexcept {
  while (!rest.empty() && (rest.back() == ';' || rest.back() == ' ')) rest.remove_suffix(1);
  if (rest == "false" || rest == "return false" || rest == "undefined" || rest == "0") return true;
  if (!rest.starts_with("void")) return false;
  rest.remove_prefix(4);
  bool paren = !rest.empty() && rest[0] == '(';
  if (paren) {
    if (rest.back() != ')') return false;
    rest = rest.substr(1, rest.size() - 2);
  } else if (rest.empty() || rest[0] != ' ') {
    return false;
  }
  while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
  if (rest == "null") return true;
  for (char c : rest)
    if (!common::is_digit(c)) return false;
  return !rest.empty();
}

bool code_after(std::string_view rest) noexcept {
  if (rest.empty() || rest[0] == ' ' || noop_script(rest)) return false;
  for (char c : rest.substr(0, 200))
    if (c == '(' || c == '/' || c == '`' || c == '=' || c == ';' || c == '%' || c == '\\' ||
        c == '.')
      return true;
  return false;
}

bool html_data(std::string_view rest) noexcept {
  return common::istarts_with(rest, "text/html") || common::istarts_with(rest, "image/svg") ||
         common::istarts_with(rest, "application/xhtml");
}

// Decodes one UTF-8 code point at s[i] (0 when invalid); *len gets its length.
std::uint32_t code_point(std::string_view s, std::size_t i, std::size_t* len) noexcept {
  const unsigned char b0 = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]) & 0x3Fu; };
  if (b0 >= 0xE0 && b0 < 0xF0 && cont(1) && cont(2)) {
    *len = 3;
    return ((b0 & 0x0Fu) << 12) | (at(1) << 6) | at(2);
  }
  if (b0 >= 0xC0 && b0 < 0xE0 && cont(1)) {
    *len = 2;
    return ((b0 & 0x1Fu) << 6) | at(1);
  }
  *len = 1;
  return b0 < 0x80 ? b0 : 0;
}

// Characters that look like a slash and that some normalisers (NFKC, legacy browsers) fold into
// one: vertical kana repeat marks, prolonged sound marks, full-width and math slashes.
bool slash_lookalike(std::uint32_t cp) noexcept {
  switch (cp) {
    case 0x3031: case 0x3032: case 0x3035: case 0x30FC: case 0xFF70: case 0xFF0F: case 0x2215:
    case 0x2044: case 0x29F8: case 0xFF3C: case 0x2216: case 0xFE68: case 0x29F5: case 0x2F03:
      return true;
    default:
      return false;
  }
}

// Decodes JavaScript string escapes (\xHH, \uHHHH, \NNN) at the start of s into buf.
std::string_view js_unescape(std::string_view s, char* buf, std::size_t cap) noexcept {
  std::size_t w = 0;
  for (std::size_t r = 0; r < s.size() && w < cap;) {
    if (s[r] == '\\' && r + 1 < s.size()) {
      char k = s[r + 1];
      if ((k == 'x' || k == 'X') && r + 3 < s.size() && common::is_xdigit(s[r + 2]) &&
          common::is_xdigit(s[r + 3])) {
        buf[w++] = static_cast<char>(common::hex_value(s[r + 2]) * 16 + common::hex_value(s[r + 3]));
        r += 4;
        continue;
      }
      if (k == 'u' && r + 5 < s.size() && common::is_xdigit(s[r + 2]) &&
          common::is_xdigit(s[r + 3]) && common::is_xdigit(s[r + 4]) &&
          common::is_xdigit(s[r + 5])) {
        int v = 0;
        for (int d = 2; d < 6; ++d) v = v * 16 + common::hex_value(s[r + d]);
        buf[w++] = v < 0x80 ? static_cast<char>(v) : '?';
        r += 6;
        continue;
      }
      if (k >= '0' && k <= '7') {
        int v = 0, d = 0;
        while (d < 3 && r + 1 + d < s.size() && s[r + 1 + d] >= '0' && s[r + 1 + d] <= '7')
          v = v * 8 + (s[r + 1 + d++] - '0');
        buf[w++] = static_cast<char>(v & 0xFF);
        r += 1 + d;
        continue;
      }
    }
    buf[w++] = s[r++];
  }
  return {buf, w};
}

// Userinfo that is not a plain "user" or "user:password": one that looks like a host (the
// classic "https://site.example@evil.example"), is empty (":@", "@"), or holds junk.
bool odd_userinfo(std::string_view info) noexcept {
  if (info.empty() || info == ":") return true;
  bool alnum = false;
  for (char c : info) {
    if (c == '.' || c == '<' || c == '>' || c == '\\' || c == '"' || c == '@' || c == '&' ||
        c == '+' || c == '#' || c == '?' || c == '/' || c == ';' || c == ' ' ||
        static_cast<unsigned char>(c) < 0x20)
      return true;
    alnum = alnum || common::is_alnum(c);
  }
  return !alnum;
}

// The authority as naive parsers read it: up to the first '/', '?' or '#' (a backslash does
// not end it for them).
std::string_view naive_authority(std::string_view head, std::size_t from) noexcept {
  if (from >= head.size()) return {};
  std::string_view rest = head.substr(from);
  return rest.substr(0, common::find_any(rest, "/?#"));
}

// Suffixes that file names have and no top-level domain does (open_redirect_test.cpp checks
// them against the Public Suffix List; "zip", "mov", "md", "py", "sh" and "map" are domains).
constexpr std::string_view kFileSuffixes[] = {
    "7z",   "apk",  "asp",  "aspx", "bak",  "bin",  "bmp",  "bz2",   "cfg",  "cgi",  "conf",
    "crt",  "css",  "csv",  "dat",  "db",   "deb",  "dll",  "doc",   "docx", "eot",  "exe",
    "flac", "gif",  "gz",   "heic", "htm",  "html", "ico",  "img",   "ini",  "iso",  "jar",
    "jpeg", "jpg",  "js",   "json", "jsp",  "key",  "log",  "mjs",   "mkv",  "mp3",  "mp4",
    "odp",  "ods",  "odt",  "ogg",  "old",  "otf",  "pdf",  "pem",   "php",  "png",  "ppt",
    "pptx", "rar",  "rpm",  "rtf",  "sql",  "sqlite", "svg", "swp",  "tar",  "tgz",  "tif",
    "tiff", "tmp",  "toml", "tsv",  "ttf",  "txt",  "war",  "wav",   "webm", "webp", "woff",
    "woff2", "xhtml", "xls", "xlsx", "xml", "xz",   "yaml", "yml",
};

// Whether a host as the browser would read it (`host` percent-decoded, without its port) can
// take it anywhere: a name that is not UTF-8 fails the URL parser's domain-to-ASCII step (a
// file name with undecodable bytes), and one whose last label is a file suffix is no domain
// ("@notes.txt", "@2x.png": the files a path names).
bool reachable_name(std::string_view host) noexcept {
  host = host.substr(0, host.find(':'));
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (!common::is_utf8(host)) return false;
  const std::size_t dot = host.rfind('.');
  if (dot == std::string_view::npos) return true;
  const std::string_view last = host.substr(dot + 1);
  for (std::string_view suffix : kFileSuffixes)
    if (common::iequals(last, suffix)) return false;
  return true;
}

// A host name with a top-level label of letters ("evil.example", "google.com"), not a file
// name with a suffix of digits or a version.
bool domain_like(std::string_view s) noexcept {
  if (!urlv::host_like(s) || s.find('@') != std::string_view::npos) return false;
  const std::size_t dot = s.rfind('.');
  if (dot == std::string_view::npos || s.size() - dot < 3) return false;
  for (char c : s.substr(dot + 1))
    if (!common::is_alpha(c)) return false;
  return true;
}

// The bypass a full URL to another host carries, or nothing.
std::string full_url_trick(std::string_view text, std::string_view head, std::size_t after,
                           const url::Url& parsed, bool stripped) {
  const std::size_t slashes = urlv::count_slashes(head, after);
  const std::string_view authority = urlv::authority_at(head, after + slashes);
  const std::string_view written = urlv::written_host(authority);
  if (slashes > 2) return "has " + std::to_string(slashes) + " slashes after the scheme";
  for (std::size_t i = after; i < after + slashes; ++i)
    if (head[i] == '\\') return "uses a backslash for a slash after the scheme";
  if (stripped) return "hides tabs, newlines or control characters in the URL";
  // What naive splitters take for the authority: up to the first '/'.
  const std::string_view naive = head.substr(after + slashes).substr(
      0, head.substr(after + slashes).find('/'));
  if (naive.size() > authority.size() && naive.find('@', authority.size()) != std::string_view::npos)
    return "puts an '@' after a '" + std::string(1, naive[authority.size()]) +
           "', so other parsers read a different host";
  // "http://evil.example\.site.example/": browsers end the host at the backslash, parsers
  // that do not treat it as a slash read one host name that ends in the site's.
  if (!authority.empty() && naive.size() > authority.size() + 1 &&
      naive[authority.size()] == '\\')
    return "ends its host at a backslash (" + std::string(naive.substr(0, 60)) +
           "), which other parsers read as part of one host name";
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos && odd_userinfo(authority.substr(0, at)))
    return "puts " + std::string(authority.substr(0, std::min<std::size_t>(at, 60))) +
           "@ before the host, as userinfo that readers take for the host";
  if (written.find('%') != std::string_view::npos) return "percent-encodes the host";
  if (!written.empty() && written[0] == '.') return "starts the host with an empty label";
  if (parsed.valid) {
    const std::string serialized = urlv::host_text(parsed.host);
    if (parsed.host.kind == url::HostKind::kIpv4 && written != serialized)
      return "writes the address " + serialized + " as " + std::string(written.substr(0, 60));
    if (parsed.host.kind == url::HostKind::kIpv6 &&
        url::classify(parsed.host).embedding != url::Embedding::kNone)
      return "hides an IPv4 address in the IPv6 literal " + std::string(written.substr(0, 60));
    const std::string_view path = urlv::span_text(text, parsed.path_span);
    if (path.size() >= 2 && (path[1] == '/' || path[1] == '\\'))
      return "starts its path with an empty segment (" + std::string(path.substr(0, 20)) + ")";
    if (urlv::contains_nocase(path, "%2e%2e") || urlv::contains_nocase(path, "%2f..") ||
        urlv::contains_nocase(path, "..%2f") || urlv::contains_nocase(path, "%2f%2e"))
      return "ends in encoded dot segments that filters decode after checking";
    if (path.find("/../") != std::string_view::npos || path.ends_with("/.."))
      return "has dot segments (" + std::string(path.substr(0, 20)) + ") that climb back to its host";
    // "http://evil.example?.site.example/": a suffix check on the text sees the site's name.
    for (const url::Span* span : {&parsed.query_span, &parsed.fragment_span}) {
      const std::string_view after_host = urlv::span_text(text, *span);
      if (span->present && span->begin == parsed.path_span.end + 1 && path.size() <= 1 &&
          after_host.size() > 3 && (after_host[0] == '.' || after_host[0] == '@') &&
          domain_like(urlv::authority_at(after_host, 1)))
        return "continues its host name past a '" + std::string(1, text[span->begin - 1]) +
               "' (" + std::string(after_host.substr(0, 40)) +
               "), so a suffix check sees another domain";
    }
    char inner[16];
    std::size_t inner_after = 0;
    if (path.size() > 1) {
      std::string_view s = urlv::scheme_of(path.substr(1), inner, &inner_after);
      if ((s == "http" || s == "https") && urlv::count_slashes(path.substr(1), inner_after) > 0)
        return "has another URL as its path";
    }
    return {};
  }
  if (parsed.host_error == url::HostError::kIpv4)
    return "has the numeric host " + std::string(written.substr(0, 60)) +
           ", which is no address (parsers that wrap numbers go elsewhere)";
  // "evil:80%40site.example": a port that carries another host for decoders.
  const std::size_t colon = authority.rfind(':');
  if (parsed.error == url::UrlError::kPort && colon != std::string_view::npos &&
      common::find_any(authority.substr(colon), "%@.") != std::string_view::npos)
    return "has a port that is no number (" + std::string(authority.substr(0, 60)) + ")";
  return {};
}

// Whether a parameter the value writes belongs to a request target on the site itself
// ("/login?next=...", "?next=..."), not to a link to another site: share and archive links
// ("https://www.facebook.com/sharer/sharer.php?u=https://...") carry full URLs as parameters.
bool site_target(const UrlUnit& u) noexcept {
  return u.target.empty() || u.target[0] == '/' || u.target[0] == '?' || u.target[0] == '\\';
}

// Path segments of redirector endpoints ("/out?evil.example.com", "/redirect/evil.example.com").
bool redirector_segment(std::string_view seg) noexcept {
  static constexpr std::string_view kNames[] = {
      "redirect", "redir", "redirector", "out", "outbound", "go",   "goto",    "away",
      "exit",     "leave", "link",       "url", "r",        "jump", "external", "forward",
  };
  for (std::string_view k : kNames)
    if (common::iequals(seg, k)) return true;
  return false;
}

// A host name as redirect payloads write one: labels of letters, digits and '-', the last one a
// common top-level domain ("evil.example.com", "localdomain.pw"). File names ("report.pdf",
// "index.html") end otherwise.
bool host_with_tld(std::string_view s) noexcept {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.') return false;
  for (char c : s)
    if (!(common::is_alnum(c) || c == '-' || c == '.')) return false;
  const std::size_t dot = s.rfind('.');
  if (dot == std::string_view::npos) return false;
  static constexpr std::string_view kTlds[] = {
      "com", "net", "org", "info", "biz", "io",  "co",  "me",  "us",  "uk",  "de",     "fr",
      "ru",  "cn",  "jp",  "br",   "in",  "it",  "nl",  "pl",  "es",  "ca",  "au",     "eu",
      "xyz", "top", "pw",  "tk",   "ml",  "ga",  "cf",  "gq",  "cc",  "tv",  "ws",     "site",
      "online", "club", "app", "dev", "ly", "to", "su", "example", "test", "tld", "local",
  };
  const std::string_view tld = s.substr(dot + 1);
  for (std::string_view t : kTlds)
    if (common::iequals(tld, t)) return true;
  return false;
}

// "http://site.example &@evil.example# @site.example/", "//x@site.example @evil.example/": an
// authority with a space and an '@' before the path, which URL parsers and the browser split at
// different places. Returns the host after the last '@'.
std::string_view spaced_authority(std::string_view head, std::size_t from) noexcept {
  if (from >= head.size()) return {};
  const std::string_view rest = head.substr(from);
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return {};
  const std::string_view authority = rest.substr(0, slash);
  const std::size_t spaces = static_cast<std::size_t>(
      std::count(authority.begin(), authority.end(), ' '));
  if (spaces == 0 || spaces > 2 || head.find(' ', from + slash) != std::string_view::npos)
    return {};
  const std::size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string_view host = authority.substr(at + 1);
  host = host.substr(0, common::find_any(host, " #?"));
  return domain_like(host) ? host : std::string_view{};
}

bool judge_head(Ctx* x, const UrlUnit& u, std::string_view head, bool stripped);

bool judge(const UrlUnit& u, void* ctx) {
  Ctx* x = static_cast<Ctx*>(ctx);
  if (u.kind == UnitKind::kPage || u.text.size() < 3) return false;
  char start_buf[16];
  std::string_view start_scheme;
  switch (urlv::url_start(u.text, start_buf, &start_scheme)) {
    case urlv::Start::kScheme:
      if (!script_scheme(start_scheme) && start_scheme != "data" &&
          !url::is_special_scheme(start_scheme))
        return false;
      break;
    case urlv::Start::kSlash:  // also "\x6a..." JavaScript escapes
      break;
    case urlv::Start::kOther: {
      // "@evil", "%68%74...", "<>//evil", look-alikes, and the bare host of a redirect
      // parameter written in the value; none has a space.
      const char first = urlv::first_byte(u.text);
      if (first != '@' && first != '%' && first != '<' &&
          static_cast<unsigned char>(first) < 0x80 && u.kind != UnitKind::kParam)
        return false;
      if (first != '%' && urlv::has_space(u.text)) return false;
      break;
    }
  }
  urlv::Head h;
  urlv::read_head(u.text, &h);
  std::string_view head = h.view();
  // Markup a sanitizer strips before the value reaches the redirect.
  while (head.size() > 2 && head[0] == '<' && head[1] == '>') head.remove_prefix(2);
  if (judge_head(x, u, head, h.stripped)) return true;
  // JavaScript string escapes spelling the scheme.
  if (head.size() >= 8 && head[0] == '\\') {
    char buf[64];
    std::string_view js = js_unescape(head.substr(0, 160), buf, sizeof(buf));
    char scheme_buf[16];
    std::size_t after = 0;
    std::string_view s = urlv::scheme_of(js, scheme_buf, &after);
    if (script_scheme(s) && code_after(js.substr(after)))
      return convict(x, u, "spells a " + std::string(s) +
                               ": URL in JavaScript escapes; as a redirect target it runs "
                               "script in the site's origin");
  }
  return false;
}

bool judge_head(Ctx* x, const UrlUnit& u, std::string_view head, bool stripped) {
  char scheme_buf[16];
  std::size_t after = 0;
  const std::string_view scheme = urlv::scheme_of(head, scheme_buf, &after);
  if (!scheme.empty()) {
    const std::string_view rest = head.substr(after);
    if (script_scheme(scheme) && code_after(rest))
      return convict(x, u, "is a " + std::string(scheme) +
                               ": URL; as a redirect target it runs script in the site's origin");
    if (scheme == "data" && html_data(rest))
      return convict(x, u, "is a data: URL with a document; as a redirect target it opens "
                           "attacker content");
    if (!url::is_special_scheme(scheme) || scheme == "file") return false;
    const std::size_t slashes = urlv::count_slashes(head, after);
    if (urlv::has_space(u.text)) {
      const std::string_view host = slashes >= 2 ? spaced_authority(head, after + slashes)
                                                 : std::string_view{};
      if (host.empty()) return false;
      return convict(x, u, "is a URL whose authority holds a space and an '@' (" +
                               std::string(head.substr(after + slashes, 60)) +
                               "), which parsers split differently: some go to " +
                               std::string(host.substr(0, 60)));
    }
    if (slashes == 0) {
      // Read up to the first '/' as naive parsers do ("http:junk\\x@0xd83ad6ce").
      const std::string_view naive = naive_authority(head, after);
      if (!urlv::host_like(naive)) return false;
      return convict(x, u, "is " + std::string(scheme) + ": without slashes: on a page of " +
                               "another scheme the browser resolves it to the host " +
                               std::string(urlv::written_host(naive).substr(0, 60)));
    }
    url::Url parsed;
    url::parse_url(u.text, nullptr, &parsed);
    std::string trick = full_url_trick(u.text, head, after, parsed, stripped);
    const std::string host = parsed.valid
                                 ? urlv::host_text(parsed.host)
                                 : std::string(urlv::written_host(
                                                   urlv::authority_at(head, after + slashes))
                                                   .substr(0, 60));
    if (!trick.empty())
      return convict(x, u, "is a URL to " + host + " that " + trick +
                               ": a redirect filter bypass");
    // A full URL in a redirect parameter that the value writes itself ("?next=http://evil"):
    // the input is a query string aimed at a redirect. The input's own name proves nothing:
    // sites redirect to full URLs of their own, and "next" fields hold links.
    if (parsed.valid && u.kind == UnitKind::kParam && urlv::is_redirect_name(u.name) &&
        site_target(u))
      return convict(x, u, "is a full URL to " + host + " in " + std::string(u.name.substr(0, 40)) +
                               ", a parameter that names a redirect target");
    return false;
  }

  const std::size_t slashes = urlv::count_slashes(head, 0);
  if (slashes >= 2) {
    if (urlv::has_space(u.text)) {
      const std::string_view host = spaced_authority(head, slashes);
      if (host.empty()) return false;
      return convict(x, u, "is a scheme-relative URL whose authority holds a space and an '@' (" +
                               std::string(head.substr(slashes, 60)) +
                               "), which parsers split differently: some go to " +
                               std::string(host.substr(0, 60)));
    }
    // "\\\\server\\share\\file": a Windows file path, not a reference to a host.
    if (head[0] == '\\' && head[1] == '\\') {
      const std::size_t share = head.find('\\', slashes);
      if (share != std::string_view::npos && share + 1 < head.size()) return false;
    }
    const std::string_view rest = head.substr(slashes);
    char inner[16];
    std::size_t inner_after = 0;
    const std::string_view s = urlv::scheme_of(rest, inner, &inner_after);
    if (script_scheme(s) && code_after(rest.substr(inner_after)))
      return convict(x, u, "is a " + std::string(s) +
                               ": URL behind slashes that browsers and filters drop");
    if ((s == "http" || s == "https") && urlv::count_slashes(rest, inner_after) > 0)
      return convict(x, u, "is a URL behind extra slashes (" +
                               std::string(head.substr(0, 40)) +
                               "): scheme-relative, it leaves the site");
    const std::string_view authority = urlv::authority_at(head, slashes);
    const std::string_view naive = naive_authority(head, slashes);
    url::Url parsed;
    url::parse_url(u.text, &urlv::https_base(), &parsed);
    const bool parsed_host = parsed.valid && !parsed.authority_from_base &&
                             parsed.host.kind != url::HostKind::kEmpty;
    // A host as written, one the parser maps to a dotted name ("//evil。example"), or one it
    // finds behind userinfo ("//site@https:///evil").
    const bool mapped_name = parsed_host && (parsed.host.kind != url::HostKind::kDomain ||
                                             parsed.host.name().find('.') != std::string_view::npos);
    if (!urlv::host_like(authority) && !urlv::host_like(naive) && !mapped_name &&
        !(parsed_host && authority.find('@') != std::string_view::npos))
      return false;
    const std::string host = parsed_host ? urlv::host_text(parsed.host)
                             : urlv::host_like(authority)
                                 ? std::string(urlv::written_host(authority).substr(0, 60))
                                 : std::string(urlv::written_host(naive).substr(0, 60));
    return convict(x, u, "is a scheme-relative reference (" + std::string(head.substr(0, slashes)) +
                             ") that sends the browser to the host " + host);
  }
  if (slashes == 1) {
    if (urlv::has_space(u.text)) return false;
    const std::string_view rest = head.substr(1);
    char inner[16];
    std::size_t inner_after = 0;
    const std::string_view s = urlv::scheme_of(rest, inner, &inner_after);
    if (script_scheme(s) && code_after(rest.substr(inner_after)))
      return convict(x, u, "is a " + std::string(s) + ": URL behind a slash");
    if ((s == "http" || s == "https") && urlv::count_slashes(rest, inner_after) > 0 &&
        urlv::host_like(urlv::authority_at(rest, inner_after +
                                                     urlv::count_slashes(rest, inner_after))))
      return convict(x, u, "is a path that holds the URL " + std::string(rest.substr(0, 60)) +
                               ", for redirectors that strip the leading slash");
    // "/evil.example//..", "/evil.example/%2f%2e%2e": a host as the first segment, then an
    // empty segment or dot segments that normalisers collapse into "//evil.example".
    const std::string_view first = urlv::authority_at(rest, 0);
    const std::string_view tail = rest.substr(first.size());
    if (domain_like(first) &&
        (common::istarts_with(tail, "//") || common::istarts_with(tail, "/%2f") ||
         common::istarts_with(tail, "/..") || common::istarts_with(tail, "/%2e%2e")))
      return convict(x, u, "names the host " + std::string(first.substr(0, 60)) +
                               " and then " + std::string(tail.substr(0, 12)) +
                               ", which normalisers collapse into a scheme-relative URL");
  }
  // Slash look-alikes before a host, at the start or after one slash.
  for (std::size_t i = 0; i <= slashes && i < head.size(); ++i) {
    std::size_t len = 0;
    if (static_cast<unsigned char>(head[i]) < 0xC0) continue;
    std::uint32_t cp = code_point(head, i, &len);
    if (slash_lookalike(cp) && urlv::host_like(urlv::authority_at(head, i + len)) &&
        !urlv::has_space(u.text))
      return convict(x, u, "puts a slash look-alike (U+" + [&] {
        char b[8];
        std::snprintf(b, sizeof b, "%04X", cp);
        return std::string(b);
      }() + ") before the host " + std::string(urlv::authority_at(head, i + len).substr(0, 60)) +
                               ", which normalisers turn into '//'");
  }
  if (slashes == 0 && head.size() > 3 && head[0] == '@' && !urlv::has_space(u.text)) {
    const std::string_view authority = urlv::authority_at(head, 1);
    if (urlv::host_like(authority) && authority.find('@') == std::string_view::npos &&
        reachable_name(authority))
      return convict(x, u, "starts with @" + std::string(authority.substr(0, 60)) +
                               ": after the site's origin, the site's name becomes userinfo "
                               "and the browser goes to " + std::string(authority.substr(0, 60)));
  }
  // A redirector endpoint the value writes, given a host: as its whole query
  // ("/out?evil.example.com") or as the next path segment ("/redirect/evil.example.com").
  if (u.kind == UnitKind::kParam && u.name.empty() && site_target(u) && host_with_tld(head)) {
    std::string_view t = u.target;
    while (!t.empty() && t.back() == '/') t.remove_suffix(1);
    const std::size_t slash = t.find_last_of("/\\");
    if (slash != std::string_view::npos && redirector_segment(t.substr(slash + 1)))
      return convict(x, u, "asks the redirector " + std::string(t.substr(0, 40)) +
                               " for the host " + std::string(head.substr(0, 60)));
  }
  if (slashes == 1 && u.kind != UnitKind::kPage) {
    const std::string_view first = urlv::authority_at(head.substr(1), 0);
    const std::string_view next = urlv::authority_at(head, first.size() + 2);
    if (redirector_segment(first) && head.size() > first.size() + 1 &&
        (head[first.size() + 1] == '/' || head[first.size() + 1] == '\\') &&
        host_with_tld(next))
      return convict(x, u, "asks the redirector /" + std::string(first.substr(0, 20)) +
                               "/ for the host " + std::string(next.substr(0, 60)));
  }
  // A redirect parameter the value writes itself, set to a bare host ("?view=evil.example"),
  // for redirects that prepend a scheme.
  if (u.kind == UnitKind::kParam && urlv::is_redirect_name(u.name) && site_target(u) &&
      domain_like(head) &&
      head.find('/') == std::string_view::npos)
    return convict(x, u, "sets the redirect parameter " + std::string(u.name.substr(0, 40)) +
                             " to the host " + std::string(head.substr(0, 60)));
  // Percent-encoded letters spelling a URL: nobody encodes "http" but to hide it.
  if (slashes == 0 && head.size() >= 9 && head[0] == '%') {
    char buf[urlv::kHeadMax];
    const std::string_view d = urlv::percent_decode(head, false, buf, sizeof(buf));
    std::size_t inner_after = 0;
    char inner[16];
    const std::string_view s = urlv::scheme_of(d, inner, &inner_after);
    if ((url::is_special_scheme(s) || script_scheme(s)) &&
        (script_scheme(s) || urlv::count_slashes(d, inner_after) >= 2))
      return convict(x, u, "spells " + std::string(d.substr(0, 60)) +
                               " in percent-encoded letters, hiding the URL from filters");
  }
  return false;
}

}  // namespace

bool detect_open_redirect(const Candidate& c, Hit* hit) {
  Ctx ctx{&c, hit};
  return urlv::walk_units(c, &judge, &ctx);
}

}  // namespace vigil::detect::input
