// CR/LF injection (HTTP response splitting, header injection, log forging): a line break
// followed by something a header block or a response would take as its own line.
//
// The value is decoded the way a sloppy chain of decoders would (every layer of %0d/%0a,
// %u000a, "\r\n" written as text escapes, 0x0d0x0a), then each line break is judged by what
// follows it: a header line ("Set-Cookie:"), a status line ("HTTP/1.1"), a blank line and a
// body, markup. A field that is nothing but line breaks is a probe. Payloads that hide the
// break from a filter that deletes CR/LF ("%0%0d%0ad" becomes "%0d" once the inner pair is
// removed) are read once more with the breaks removed. Real line breaks in a header value are
// injections on their own. Multi-line prose (a line break followed by words) stays clean.
//
// Linear: the value is decoded in fixed windows, without allocation on the clean path.
#include <algorithm>
#include <array>
#include <cstring>

#include "core/common/ascii.hpp"
#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {
namespace {

constexpr std::size_t kWindow = 4096;
constexpr std::size_t kStride = 2048;
constexpr int kMaxPasses = 6;

bool is_break(char c) { return c == '\r' || c == '\n'; }

// One decoding pass, in place. Returns true when something changed.
bool decode_pass(char* b, std::size_t* n) {
  std::size_t r = 0, w = 0, size = *n;
  bool changed = false;
  auto hex = [&](std::size_t i) { return i < size && common::is_xdigit(b[i]); };
  auto hex_byte = [&](std::size_t i) {
    return static_cast<char>(common::hex_value(b[i]) * 16 + common::hex_value(b[i + 1]));
  };
  while (r < size) {
    char ch = b[r];
    if (ch == '%' && hex(r + 1) && hex(r + 2)) {
      b[w++] = hex_byte(r + 1);
      r += 3;
      changed = true;
      continue;
    }
    if ((ch == '%' || ch == '\\') && r + 5 < size && (b[r + 1] == 'u' || b[r + 1] == 'U') &&
        b[r + 2] == '0' && b[r + 3] == '0' && hex(r + 4) && hex(r + 5)) {
      b[w++] = hex_byte(r + 4);  // %u000a, \u000d
      r += 6;
      changed = true;
      continue;
    }
    if (ch == '\\' && r + 1 < size) {
      char e = b[r + 1];
      if (e == 'r' || e == 'n') {  // "\r\n" written out
        b[w++] = e == 'r' ? '\r' : '\n';
        r += 2;
        changed = true;
        continue;
      }
      if ((e == 'x' || e == 'X') && hex(r + 2) && hex(r + 3)) {
        b[w++] = hex_byte(r + 2);
        r += 4;
        changed = true;
        continue;
      }
    }
    if (ch == '0' && r + 3 < size && (b[r + 1] == 'x' || b[r + 1] == 'X') && b[r + 2] == '0' &&
        (common::to_lower(b[r + 3]) == 'd' || common::to_lower(b[r + 3]) == 'a')) {
      b[w++] = common::to_lower(b[r + 3]) == 'd' ? '\r' : '\n';  // 0x0d0x0a
      r += 4;
      changed = true;
      continue;
    }
    b[w++] = ch;
    ++r;
  }
  *n = w;
  return changed;
}

// Decodes in place until nothing changes; returns true when anything did.
bool decode(char* b, std::size_t* n) {
  bool any = false;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    if (!decode_pass(b, n)) break;
    any = true;
  }
  return any;
}

bool is_token_char(char c) { return common::is_alnum(c) || c == '-' || c == '_'; }

// Header names an injected line uses; any other name counts when it has a hyphen
// ("X-Forwarded-Host") as header names do and words in prose rarely do before a colon.
constexpr std::string_view kHeaderNames[] = {
    "set-cookie", "cookie", "location", "refresh", "content-type", "contenttype",
    "content-length", "contentlength", "content-disposition", "content-encoding", "host",
    "link", "server", "connection", "transfer-encoding", "cache-control", "authorization",
    "referer", "user-agent", "origin", "expires", "pragma", "vary", "etag", "status"};

// Does `rest` begin a header line ("Set-Cookie: ...")? Stores the name in *name.
bool header_line(std::string_view rest, std::string_view* name) {
  std::size_t i = 0;
  bool hyphen = false;
  for (; i < rest.size() && i < 64 && is_token_char(rest[i]); ++i) hyphen = hyphen || rest[i] == '-';
  if (i < 2 || i >= rest.size() || rest[i] != ':') return false;
  std::string_view token = rest.substr(0, i);
  bool known = false;
  for (std::string_view h : kHeaderNames) known = known || common::iequals(token, h);
  if (!known && !(hyphen && common::is_alpha(token.front()) && token.back() != '-')) return false;
  *name = token;
  return true;
}

struct Finding {
  std::string what;  // what follows the break
  std::size_t at = 0;  // where the break is, in the decoded buffer
};

// Judges every line break of b[0, n). `field_start` tells where a field ('&', '=', '?' or the
// value's start) begins, for breaks that open a field.
bool judge_breaks(const char* b, std::size_t n, Finding* out) {
  std::string_view all(b, n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_break(b[i])) continue;
    std::size_t j = i;
    std::size_t lf = 0, cr = 0;
    while (j < n && is_break(b[j])) (b[j++] == '\n' ? lf : cr) += 1;
    bool blank = lf >= 2 || cr >= 2;
    bool opens = i == 0 || b[i - 1] == '=' || b[i - 1] == '&' || b[i - 1] == '?' ||
                 b[i - 1] == '/' || b[i - 1] == '"' || b[i - 1] == '>';
    std::string_view rest = all.substr(j);
    std::string_view name;
    if (header_line(rest, &name)) {
      out->what = "a new header line \"" + std::string(name) + ":\"";
    } else if (common::istarts_with(rest, "HTTP/")) {
      out->what = "a second HTTP status line (response splitting)";
    } else if ((blank || opens) && !rest.empty() && rest.front() == '<') {
      out->what = blank ? "an empty line and markup: the header block ends early and the "
                          "response body is the attacker's (response splitting)"
                        : "markup on a line of its own";
    } else {
      i = j - 1;
      continue;
    }
    out->at = i;
    return true;
  }
  return false;
}

// A field ('&', '=', '?' or the value's ends delimit) made only of line breaks (and blanks):
// a probe for header injection.
bool probe_field(const char* b, std::size_t n, Finding* out) {
  std::size_t start = 0;
  for (std::size_t i = 0; i <= n; ++i) {
    if (i < n && b[i] != '&' && b[i] != '=' && b[i] != '?') continue;
    bool breaks = false, other = false;
    for (std::size_t k = start; k < i && !other; ++k) {
      if (is_break(b[k])) breaks = true;
      else if (b[k] != ' ' && b[k] != '\t') other = true;
    }
    if (breaks && !other) {
      out->what = "nothing else: a field made only of line breaks, a probe for header injection";
      out->at = start;
      return true;
    }
    start = i + 1;
  }
  return false;
}

bool analyse(const char* b, std::size_t n, Finding* out) {
  return judge_breaks(b, n, out) || probe_field(b, n, out);
}

bool worth_a_look(std::string_view v, std::uint32_t features) {
  if (features & (kCrLf | kPercent | kBackslash)) return true;
  for (std::size_t i = v.find('0'); i != std::string_view::npos && i + 3 < v.size();
       i = v.find('0', i + 1)) {
    if ((v[i + 1] == 'x' || v[i + 1] == 'X') && v[i + 2] == '0') return true;
  }
  return false;
}

std::string written(std::string_view raw) {
  if (raw.find("%25") != std::string_view::npos || raw.find("%%") != std::string_view::npos)
    return " (written with several layers of percent-encoding)";
  if (raw.find('%') != std::string_view::npos) return " (written percent-encoded)";
  if (raw.find('\\') != std::string_view::npos) return " (written as text escapes)";
  if (raw.find("0x") != std::string_view::npos || raw.find("0X") != std::string_view::npos)
    return " (written as 0x hex escapes)";
  return "";
}

}  // namespace

bool detect_crlf(const Candidate& c, Hit* hit) {
  std::string_view v = c.value;
  if (!worth_a_look(v, c.features)) return false;
  // A real line break in a header value (in a form the header really has: a JSON-unescaped
  // reading of a header is a guess) splits the header wherever the value is written again.
  if ((c.features & kCrLf) && c.source == Source::kHeader && c.form != Form::kJsonUnescaped &&
      c.form != Form::kHtmlDecoded) {
    std::size_t at = common::find_any(v, "\r\n");
    hit->reason = "a CR/LF line break inside a header value, which splits the header line "
                  "wherever the value is logged or forwarded (header injection)";
    hit->evidence = evidence(v.substr(at));
    return true;
  }
  std::array<char, kWindow> buf;
  std::array<char, kWindow> stripped;
  for (std::size_t off = 0; off < v.size(); off += kStride) {
    std::size_t len = std::min(kWindow, v.size() - off);
    std::string_view raw = v.substr(off, len);
    std::memcpy(buf.data(), raw.data(), len);
    std::size_t n = len;
    decode(buf.data(), &n);
    Finding f;
    bool found = analyse(buf.data(), n, &f);
    bool hidden = false;
    if (!found && std::memchr(buf.data(), '\r', n) == nullptr &&
        std::memchr(buf.data(), '\n', n) == nullptr) {
      // Nothing to remove, so nothing hidden.
    } else if (!found) {
      // A filter that deletes CR/LF leaves "%0d" behind in "%0%0d%0ad".
      std::size_t m = 0;
      for (std::size_t k = 0; k < n; ++k)
        if (!is_break(buf[k])) stripped[m++] = buf[k];
      if (decode(stripped.data(), &m) && analyse(stripped.data(), m, &f)) {
        found = true;
        hidden = true;
      }
    }
    if (found) {
      hit->reason = "a CR/LF line break" + written(raw) + " followed by " + f.what;
      if (hidden)
        hit->reason += "; the break is nested inside another so that a filter deleting CR/LF "
                       "puts it together";
      hit->evidence = evidence(v.substr(off));
      return true;
    }
    if (off + len >= v.size()) break;
  }
  return false;
}

}  // namespace vigil::detect::input
