#include "core/tokenize/url/host.hpp"

#include <algorithm>
#include <cstring>

namespace vigil::tokenize::url {
namespace {

struct CodeRange {
  std::uint32_t lo;
  std::uint32_t hi;
};
struct BidiRange {
  std::uint32_t lo;
  std::uint32_t hi;
  std::uint8_t cls;
};
struct AsciiMapping {
  std::uint32_t cp;
  std::uint16_t offset;
  std::uint8_t len;
};

#include "core/tokenize/url/idna_tables.inc"

template <std::size_t N>
bool in_ranges(const CodeRange (&ranges)[N], std::uint32_t cp) noexcept {
  const CodeRange* it = std::upper_bound(
      ranges, ranges + N, cp, [](std::uint32_t v, const CodeRange& r) { return v < r.lo; });
  return it != ranges && cp <= (it - 1)->hi;
}

const AsciiMapping* find_ascii_mapping(std::uint32_t cp) noexcept {
  constexpr std::size_t n = sizeof(kAsciiMap) / sizeof(kAsciiMap[0]);
  const AsciiMapping* it = std::lower_bound(
      kAsciiMap, kAsciiMap + n, cp,
      [](const AsciiMapping& m, std::uint32_t v) { return m.cp < v; });
  return (it != kAsciiMap + n && it->cp == cp) ? it : nullptr;
}

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr int hex_value(char c) noexcept {
  return is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : c - 'A' + 10;
}

// Forbidden host code points (an opaque host may not contain them; '%' is allowed there).
constexpr bool is_forbidden_host(char c) noexcept {
  switch (c) {
    case '\0': case '\t': case '\n': case '\r': case ' ': case '#': case '/': case ':':
    case '<': case '>': case '?': case '@': case '[': case '\\': case ']': case '^': case '|':
      return true;
    default:
      return false;
  }
}

// Characters of a host with ASCII tab and newline removed: from one contiguous string (the
// common case, which compiles to a tight loop) or from a Text of several pieces.
class ViewChars {
 public:
  explicit ViewChars(std::string_view s) : s_(s) {}
  [[gnu::always_inline]] bool next(char* c) noexcept {
    while (i_ < s_.size() && is_tab_or_newline(s_[i_])) ++i_;
    if (i_ >= s_.size()) return false;
    *c = s_[i_++];
    return true;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

class TextChars {
 public:
  TextChars(const Text& t, std::size_t begin, std::size_t end) : t_(&t), i_(begin), end_(end) {}
  [[gnu::always_inline]] bool next(char* c) noexcept {
    while (i_ < end_ && is_tab_or_newline((*t_)[i_])) ++i_;
    if (i_ >= end_) return false;
    *c = (*t_)[i_++];
    return true;
  }

 private:
  const Text* t_;
  std::size_t i_, end_;
};

// Bytes of the percent-decoding of a character source.
template <class Chars>
class ByteReader {
 public:
  explicit ByteReader(Chars r) : r_(r) {}
  [[gnu::always_inline]] bool next(unsigned char* b) noexcept {
    if (n_ > 0) {
      *b = static_cast<unsigned char>(back_[--n_]);
      return true;
    }
    char c;
    if (!r_.next(&c)) return false;
    if (c == '%') return decode_percent(b);
    *b = static_cast<unsigned char>(c);
    return true;
  }
  void unread(unsigned char b) noexcept { push(static_cast<char>(b)); }

 private:
  bool decode_percent(unsigned char* b) noexcept {
    char h1, h2;
    bool got1 = r_.next(&h1);
    if (got1 && is_hex(h1)) {
      bool got2 = r_.next(&h2);
      if (got2 && is_hex(h2)) {
        *b = static_cast<unsigned char>(hex_value(h1) * 16 + hex_value(h2));
        return true;
      }
      if (got2) push(h2);
    }
    if (got1) push(h1);
    *b = '%';
    return true;
  }
  void push(char c) noexcept {
    if (n_ < sizeof(back_)) back_[n_++] = c;
  }
  Chars r_;
  char back_[4];
  std::size_t n_ = 0;
};

// Code points of the UTF-8 decoding of a byte source (U+FFFD for each invalid sequence).
template <class Bytes>
class CodePointReader {
 public:
  explicit CodePointReader(Bytes r) : r_(r) {}
  [[gnu::always_inline]] bool next(std::uint32_t* cp) noexcept {
    unsigned char b;
    if (!r_.next(&b)) return false;
    if (b < 0x80) {
      *cp = b;
      return true;
    }
    *cp = decode_multibyte(b);
    return true;
  }

 private:
  std::uint32_t decode_multibyte(unsigned char b) noexcept {
    int need;
    std::uint32_t v;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
      v = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      v = b & 0x0F;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      v = b & 0x07;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return 0xFFFD;
    }
    for (int k = 0; k < need; ++k) {
      unsigned char c;
      if (!r_.next(&c)) return 0xFFFD;
      if (c < lo || c > hi) {
        r_.unread(c);
        return 0xFFFD;
      }
      lo = 0x80;
      hi = 0xBF;
      v = (v << 6) | (c & 0x3F);
    }
    return v;
  }
  Bytes r_;
};

template <class Chars>
CodePointReader<ByteReader<Chars>> code_points(Chars chars) {
  return CodePointReader<ByteReader<Chars>>(ByteReader<Chars>(chars));
}

std::size_t encode_utf8(std::uint32_t cp, char out[4]) noexcept {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

// Decodes one UTF-8 code point from s at *i (already validated text); advances *i.
std::uint32_t decode_utf8_at(std::string_view s, std::size_t* i) noexcept {
  auto b = static_cast<unsigned char>(s[*i]);
  int n = b < 0x80 ? 0 : b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
  std::uint32_t v = n == 0 ? b : n == 1 ? (b & 0x1F) : n == 2 ? (b & 0x0F) : (b & 0x07);
  ++*i;
  for (int k = 0; k < n && *i < s.size(); ++k, ++*i)
    v = (v << 6) | (static_cast<unsigned char>(s[*i]) & 0x3F);
  return v;
}

// The simple lower-case mappings UTS #46 applies to the common cased scripts beyond ASCII.
std::uint32_t simple_lower(std::uint32_t cp) noexcept {
  if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) || (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) ||
      (cp >= 0x410 && cp <= 0x42F))
    return cp + 0x20;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
  if (cp >= 0x100 && cp <= 0x137 && (cp & 1) == 0 && cp != 0x130) return cp + 1;
  return cp;
}

enum class Ucp : std::uint8_t { kValid, kIgnore, kReject };

Ucp idna_status(std::uint32_t cp) noexcept {
  if (in_ranges(kIgnored, cp)) return Ucp::kIgnore;
  if (in_ranges(kDisallowed, cp)) return Ucp::kReject;
  return Ucp::kValid;
}

// Bidi classes as the bidi rule (RFC 5893) groups them; values as in kBidi.
enum Bidi : std::uint8_t { kL = 0, kRtl = 1, kAn = 2, kEn = 3, kWeak = 4, kNsm = 5 };

Bidi bidi_class(std::uint32_t cp) noexcept {
  constexpr std::size_t n = sizeof(kBidi) / sizeof(kBidi[0]);
  const BidiRange* it = std::upper_bound(
      kBidi, kBidi + n, cp, [](std::uint32_t v, const BidiRange& r) { return v < r.lo; });
  if (it == kBidi || cp > (it - 1)->hi) return kL;
  return static_cast<Bidi>((it - 1)->cls);
}

// Whether a punycode label body ("xn--" removed) decodes to valid code points (RFC 3492).
bool punycode_valid(std::string_view s) noexcept {
  if (s.empty()) return false;
  constexpr std::uint32_t kMax = 0x7FFFFFFF;
  std::size_t delim = s.rfind('-');
  std::size_t basic = delim == std::string_view::npos ? 0 : delim;
  std::size_t in = delim == std::string_view::npos ? 0 : delim + 1;
  std::uint32_t n = 128, i = 0, bias = 72, out = static_cast<std::uint32_t>(basic);
  for (std::size_t k = 0; k < basic; ++k)
    if (static_cast<unsigned char>(s[k]) >= 0x80) return false;
  while (in < s.size()) {
    std::uint32_t oldi = i, w = 1;
    for (std::uint32_t k = 36;; k += 36) {
      if (in >= s.size()) return false;
      char c = s[in++];
      std::uint32_t digit;
      if (c >= 'a' && c <= 'z') digit = c - 'a';
      else if (c >= 'A' && c <= 'Z') digit = c - 'A';
      else if (c >= '0' && c <= '9') digit = c - '0' + 26;
      else return false;
      if (digit > (kMax - i) / w) return false;
      i += digit * w;
      std::uint32_t t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
      if (digit < t) break;
      if (w > kMax / (36 - t)) return false;
      w *= 36 - t;
    }
    ++out;
    std::uint32_t delta = oldi == 0 ? (i - oldi) / 700 : (i - oldi) / 2;
    delta += delta / out;
    std::uint32_t k = 0;
    while (delta > ((36 - 1) * 26) / 2) {
      delta /= 36 - 1;
      k += 36;
    }
    bias = k + (36 * delta) / (delta + 38);
    if (i / out > kMax - n) return false;
    n += i / out;
    i %= out;
    if (n < 0x80 || n > 0x10FFFF || (n >= 0xD800 && n <= 0xDFFF)) return false;
    if (idna_status(n) != Ucp::kValid || find_ascii_mapping(n) != nullptr ||
        simple_lower(n) != n || n == 0x3002 || n == 0xFF0E || n == 0xFF61)
      return false;
    ++i;
  }
  return out > 0;
}

// Validates one label of a mapped domain: punycode labels must decode to valid code points; a
// label may not start with a combining mark; a label with right-to-left content follows the bidi
// rule as ada (the URL parser of Node.js and others) applies it: when it starts with a
// left-to-right letter, everything before its last character must be left-to-right, numbers or
// neutral; otherwise it may hold no left-to-right letter, may not mix European and Arabic-Indic
// digits, and must end with a right-to-left letter or a digit.
bool label_valid(std::string_view label) noexcept {
  if (label.empty()) return true;
  if (label.size() >= 4 && label.substr(0, 4) == "xn--") return punycode_valid(label.substr(4));
  std::uint32_t cps[64];
  std::size_t n = 0, i = 0;
  bool rtl = false;
  while (i < label.size()) {
    std::uint32_t cp = decode_utf8_at(label, &i);
    if (n == 0 && in_ranges(kCombining, cp)) return false;
    Bidi c = bidi_class(cp);
    if (c == kRtl || c == kAn) rtl = true;
    if (n < 64) cps[n] = cp;
    ++n;
  }
  if (!rtl) return true;
  if (n > 64) return true;  // beyond any real label; not checked
  std::size_t last = n;
  while (last > 0 && bidi_class(cps[last - 1]) == kNsm) --last;
  if (last == 0) return false;
  --last;
  if (bidi_class(cps[0]) == kL) {
    for (std::size_t k = 0; k < last; ++k) {
      Bidi c = bidi_class(cps[k]);
      if (c == kRtl || c == kAn) return false;
    }
    return true;
  }
  bool en = false, an = false;
  for (std::size_t k = 0; k <= last; ++k) {
    Bidi c = bidi_class(cps[k]);
    if (c == kL) return false;
    en = en || c == kEn;
    an = an || c == kAn;
    if (en && an) return false;
    if (k == last && c != kRtl && c != kAn && c != kEn) return false;
  }
  return true;
}

// Streaming IPv4 parser (WHATWG "IPv4 parser") fed the characters of a host one by one.
class Ipv4Builder {
 public:
  void feed(char c) noexcept {
    if (c == '.') {
      end_part();
      return;
    }
    if (failed_) return;
    if (empty_seen_) failed_ = true;  // an empty part before the last
    ++len_;
    switch (state_) {
      case State::kStart:
        if (c == '0') state_ = State::kZero;
        else if (is_digit(c)) { state_ = State::kDec; add(10, c - '0'); }
        else failed_ = true;
        break;
      case State::kZero:
        if (c == 'x' || c == 'X') state_ = State::kHex;
        else if (c >= '0' && c <= '7') { state_ = State::kOct; add(8, c - '0'); }
        else failed_ = true;
        break;
      case State::kDec:
        if (is_digit(c)) add(10, c - '0'); else failed_ = true;
        break;
      case State::kOct:
        if (c >= '0' && c <= '7') add(8, c - '0'); else failed_ = true;
        break;
      case State::kHex:
        if (is_hex(c)) add(16, hex_value(c)); else failed_ = true;
        break;
    }
  }
  void feed_non_ascii() noexcept { failed_ = true; }
  bool finish(std::uint32_t* out) noexcept {
    if (len_ > 0) end_part();
    else if (nparts_ == 0 || empty_seen_) return false;  // "" or "1.." or "."
    if (failed_ || nparts_ == 0 || nparts_ > 4) return false;
    for (int k = 0; k + 1 < nparts_; ++k)
      if (parts_[k] > 255) return false;
    std::uint64_t last = parts_[nparts_ - 1];
    if (last >= (std::uint64_t(1) << (8 * (5 - nparts_)))) return false;
    std::uint64_t v = last;
    for (int k = 0; k + 1 < nparts_; ++k) v += parts_[k] << (8 * (3 - k));
    *out = static_cast<std::uint32_t>(v);
    return true;
  }

 private:
  enum class State : std::uint8_t { kStart, kZero, kDec, kOct, kHex };
  void add(int radix, int digit) noexcept {
    value_ = value_ * radix + digit;
    if (value_ > (std::uint64_t(1) << 40)) value_ = std::uint64_t(1) << 40;  // saturate
  }
  void end_part() noexcept {
    if (len_ == 0) {
      empty_seen_ = true;
      return;
    }
    if (nparts_ < 5) parts_[nparts_] = value_;
    if (nparts_ < 5) ++nparts_;
    len_ = 0;
    value_ = 0;
    state_ = State::kStart;
  }
  std::uint64_t parts_[5] = {};
  int nparts_ = 0;
  std::size_t len_ = 0;
  std::uint64_t value_ = 0;
  State state_ = State::kStart;
  bool failed_ = false;
  bool empty_seen_ = false;
};

// Tracks the WHATWG "ends in a number" property of the last label while a host streams by.
class NumberTail {
 public:
  void feed(char c) noexcept {
    if (c == '.') {
      prev_ = current();
      had_dot_ = true;
      len_ = 0;
      digits_ = true;
      hex_ = true;
      return;
    }
    if (len_ == 0) hex_ = (c == '0');
    else if (len_ == 1) hex_ = hex_ && (c == 'x' || c == 'X');
    else hex_ = hex_ && is_hex(c);
    digits_ = digits_ && is_digit(c);
    ++len_;
  }
  void feed_non_ascii() noexcept { feed('\x01'); }
  bool ends_in_number() const noexcept {
    if (len_ == 0) return had_dot_ && prev_;
    return current();
  }

 private:
  bool current() const noexcept { return len_ > 0 && (digits_ || (hex_ && len_ >= 2)); }
  std::size_t len_ = 0;
  bool digits_ = true, hex_ = true, prev_ = false, had_dot_ = false;
};

bool is_metadata_name(std::string_view n) noexcept {
  static constexpr std::string_view kNames[] = {
      "metadata",
      "metadata.google.internal",
      "metadata.goog",
      "instance-data",
      "instance-data.ec2.internal",
      "rancher-metadata",
      "metadata.packet.net",
      "metadata.platformequinix.com",
      "metadata.tencentyun.com",
  };
  for (std::string_view k : kNames)
    if (n == k) return true;
  return false;
}

bool ends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

HostClass classify_v4(std::uint32_t a) noexcept {
  std::uint32_t o1 = a >> 24, o2 = (a >> 16) & 0xFF;
  if (a == 0xA9FEA9FE || a == 0x646464C8) return HostClass::kMetadata;  // AWS..., Alibaba
  if (o1 == 0) return HostClass::kUnspecified;
  if (o1 == 127) return HostClass::kLoopback;
  if (o1 == 10 || (o1 == 172 && (o2 & 0xF0) == 16) || (o1 == 192 && o2 == 168))
    return HostClass::kPrivate;
  if (o1 == 169 && o2 == 254) return HostClass::kLinkLocal;
  if (o1 == 100 && (o2 & 0xC0) == 64) return HostClass::kSharedAddress;
  if ((a >> 8) == 0xC00000) return HostClass::kIetfSpecial;  // 192.0.0.0/24
  if (o1 == 198 && (o2 & 0xFE) == 18) return HostClass::kBenchmarking;
  if (a == 0xFFFFFFFF) return HostClass::kBroadcast;
  if ((o1 & 0xF0) == 224) return HostClass::kMulticast;
  if ((o1 & 0xF0) == 240) return HostClass::kReserved;
  return HostClass::kPublic;
}

HostInfo classify_name(std::string_view n) noexcept {
  HostInfo info;
  if (!n.empty() && n.back() == '.') n.remove_suffix(1);
  info.by_name = true;
  if (n == "localhost" || ends_with(n, ".localhost")) info.cls = HostClass::kLoopback;
  else if (is_metadata_name(n)) info.cls = HostClass::kMetadata;
  else if (n == "internal" || ends_with(n, ".internal")) info.cls = HostClass::kInternalName;
  else info.by_name = false;
  return info;
}

}  // namespace

std::string_view Text::contiguous(std::size_t begin, std::size_t end) const noexcept {
  if (begin >= end) return {};
  if (end <= a_.size()) return a_.substr(begin, end - begin);
  std::size_t off = a_.size();
  if (begin >= off && end <= off + b_.size()) return b_.substr(begin - off, end - begin);
  off += b_.size();
  if (begin >= off && end <= off + c_.size()) return c_.substr(begin - off, end - begin);
  return {};
}

std::size_t Text::find_first(std::size_t from, std::size_t to,
                             const bool (&stop)[256]) const noexcept {
  std::size_t base = 0;
  for (std::string_view piece : {a_, b_, c_}) {
    std::size_t lo = from > base ? from - base : 0;
    std::size_t hi = to > base ? std::min(to - base, piece.size()) : 0;
    for (std::size_t i = lo; i < hi; ++i)
      if (stop[static_cast<unsigned char>(piece[i])]) return base + i;
    base += piece.size();
    if (base >= to) break;
  }
  return to;
}

std::string_view host_error_name(HostError e) noexcept {
  switch (e) {
    case HostError::kNone: return "none";
    case HostError::kEmpty: return "empty host";
    case HostError::kForbiddenCodePoint: return "forbidden code point in host";
    case HostError::kIdna: return "invalid internationalized domain name";
    case HostError::kIpv4: return "invalid IPv4 address";
    case HostError::kIpv6: return "invalid IPv6 address";
  }
  return "?";
}

std::string_view Host::tail() const noexcept {
  if (!name_truncated()) {
    std::size_t n = std::min<std::size_t>(name_len_, kTail);
    return {name_ + name_len_ - n, n};
  }
  return {};  // use name_ends_with() for truncated names
}

void Host::clear_name() noexcept {
  name_len_ = 0;
  full_len_ = 0;
  hash_ = 1469598103934665603ull;
}

void Host::append_name(char c) noexcept {
  if (name_len_ < kMaxName) name_[name_len_++] = c;
  tail_[full_len_ % kTail] = c;
  ++full_len_;
  hash_ = (hash_ ^ static_cast<unsigned char>(c)) * 1099511628211ull;
}

bool Host::name_ends_with(std::string_view suffix) const noexcept {
  if (suffix.size() > full_len_) return false;
  if (!name_truncated()) return ends_with(name(), suffix);
  if (suffix.size() > kTail) return false;
  for (std::size_t k = 0; k < suffix.size(); ++k) {
    std::size_t pos = full_len_ - suffix.size() + k;
    if (tail_[pos % kTail] != suffix[k]) return false;
  }
  return true;
}

bool Host::name_starts_with(std::string_view prefix) const noexcept {
  if (prefix.size() > full_len_) return false;
  if (prefix.size() > name_len_) return false;
  return std::memcmp(name_, prefix.data(), prefix.size()) == 0;
}

bool Host::operator==(const Host& o) const noexcept {
  if (kind != o.kind) return false;
  switch (kind) {
    case HostKind::kNone:
    case HostKind::kEmpty:
      return true;
    case HostKind::kIpv4:
      return ipv4 == o.ipv4;
    case HostKind::kIpv6:
      return std::memcmp(ipv6, o.ipv6, sizeof(ipv6)) == 0;
    case HostKind::kDomain:
    case HostKind::kOpaque:
      return full_len_ == o.full_len_ && hash_ == o.hash_ && name() == o.name();
  }
  return false;
}

std::size_t Host::serialize(char* out, std::size_t cap) const noexcept {
  char buf[64];
  std::size_t n = 0;
  auto put = [&](char c) {
    if (n < sizeof(buf)) buf[n++] = c;
  };
  std::string_view text;
  switch (kind) {
    case HostKind::kNone:
    case HostKind::kEmpty:
      break;
    case HostKind::kIpv4:
      for (int k = 3; k >= 0; --k) {
        unsigned v = (ipv4 >> (8 * k)) & 0xFF;
        if (v >= 100) put(char('0' + v / 100));
        if (v >= 10) put(char('0' + v / 10 % 10));
        put(char('0' + v % 10));
        if (k) put('.');
      }
      break;
    case HostKind::kIpv6: {
      // Compress the first longest run of two or more zero pieces.
      int best = -1, best_len = 1;
      for (int k = 0; k < 8;) {
        if (ipv6[k] != 0) {
          ++k;
          continue;
        }
        int j = k;
        while (j < 8 && ipv6[j] == 0) ++j;
        if (j - k > best_len) {
          best = k;
          best_len = j - k;
        }
        k = j;
      }
      put('[');
      static constexpr char kHex[] = "0123456789abcdef";
      for (int k = 0; k < 8;) {
        if (k == best) {
          put(':');
          if (k == 0) put(':');
          k += best_len;
          continue;
        }
        unsigned v = ipv6[k];
        bool started = false;
        for (int s = 12; s >= 0; s -= 4) {
          unsigned d = (v >> s) & 0xF;
          if (d || started || s == 0) {
            put(kHex[d]);
            started = true;
          }
        }
        if (k != 7) put(':');
        ++k;
      }
      put(']');
      break;
    }
    case HostKind::kDomain:
    case HostKind::kOpaque:
      text = name();
      break;
  }
  if (!text.empty()) {
    std::size_t m = std::min(text.size(), cap ? cap - 1 : 0);
    std::memcpy(out, text.data(), m);
    if (cap) out[m] = '\0';
    return m;
  }
  std::size_t m = std::min(n, cap ? cap - 1 : 0);
  std::memcpy(out, buf, m);
  if (cap) out[m] = '\0';
  return m;
}

bool parse_ipv4(std::string_view s, std::uint32_t* out) noexcept {
  Ipv4Builder b;
  for (char c : s) b.feed(c);
  return b.finish(out);
}

bool ends_in_number(std::string_view domain) noexcept {
  NumberTail t;
  for (char c : domain) t.feed(c);
  return t.ends_in_number();
}

bool parse_ipv6(std::string_view s, std::uint16_t out[8]) noexcept {
  std::uint16_t address[8] = {};
  int piece = 0, compress = -1;
  std::size_t p = 0;
  auto c = [&](std::size_t i) -> int {
    return i < s.size() ? static_cast<unsigned char>(s[i]) : -1;
  };
  if (c(p) == ':') {
    if (c(p + 1) != ':') return false;
    p += 2;
    ++piece;
    compress = piece;
  }
  while (c(p) != -1) {
    if (piece == 8) return false;
    if (c(p) == ':') {
      if (compress != -1) return false;
      ++p;
      ++piece;
      compress = piece;
      continue;
    }
    unsigned value = 0;
    int length = 0;
    while (length < 4 && c(p) != -1 && is_hex(static_cast<char>(c(p)))) {
      value = value * 16 + hex_value(static_cast<char>(c(p)));
      ++p;
      ++length;
    }
    if (c(p) == '.') {
      if (length == 0) return false;
      p -= length;
      if (piece > 6) return false;
      int seen = 0;
      while (c(p) != -1) {
        int v4 = -1;
        if (seen > 0) {
          if (c(p) == '.' && seen < 4) ++p;
          else return false;
        }
        if (c(p) == -1 || !is_digit(static_cast<char>(c(p)))) return false;
        while (c(p) != -1 && is_digit(static_cast<char>(c(p)))) {
          int number = c(p) - '0';
          if (v4 == -1) v4 = number;
          else if (v4 == 0) return false;
          else v4 = v4 * 10 + number;
          if (v4 > 255) return false;
          ++p;
        }
        address[piece] = static_cast<std::uint16_t>(address[piece] * 0x100 + v4);
        ++seen;
        if (seen == 2 || seen == 4) ++piece;
      }
      if (seen != 4) return false;
      break;
    } else if (c(p) == ':') {
      ++p;
      if (c(p) == -1) return false;
    } else if (c(p) != -1) {
      return false;
    }
    address[piece] = static_cast<std::uint16_t>(value);
    ++piece;
  }
  if (compress != -1) {
    int swaps = piece - compress;
    piece = 7;
    while (piece != 0 && swaps > 0) {
      std::swap(address[piece], address[compress + swaps - 1]);
      --piece;
      --swaps;
    }
  } else if (piece != 8) {
    return false;
  }
  std::memcpy(out, address, sizeof(address));
  return true;
}

// Appends to a Host's name with its counters in registers (the name bytes written through a
// char pointer would otherwise force them back to memory after every byte).
class NameBuilder {
 public:
  explicit NameBuilder(Host* h) : h_(h) {}
  ~NameBuilder() {
    h_->name_len_ = len_;
    h_->full_len_ = full_;
    h_->hash_ = hash_;
  }
  [[gnu::always_inline]] void append(char c) noexcept {
    if (len_ < Host::kMaxName) h_->name_[len_++] = c;
    h_->tail_[full_ % Host::kTail] = c;
    ++full_;
    hash_ = (hash_ ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }

 private:
  Host* h_;
  std::uint32_t len_ = 0;
  std::uint32_t full_ = 0;
  std::uint64_t hash_ = 1469598103934665603ull;
};

namespace {

struct ByteSet {
  bool v[256];
};
constexpr ByteSet make_forbidden_domain() {
  ByteSet set{};
  for (int c = 0; c <= 0x20; ++c) set.v[c] = true;  // C0 controls and space
  for (char c : std::string_view("#%/:<>?@[\\]^|\x7f")) set.v[static_cast<unsigned char>(c)] = true;
  return set;
}
// Forbidden domain code points (as bytes of the mapped name).
constexpr ByteSet kForbiddenDomain = make_forbidden_domain();

// Maps the code points of a domain (percent-decoded, UTF-8 decoded) as the host parser does and
// hands the resulting bytes to sink(byte). Returns kNone, or the error that stops the mapping.
template <class Chars, class Sink>
HostError map_domain(Chars chars, bool* ascii_only, Sink&& sink) noexcept {
  auto cps = code_points(chars);
  std::uint32_t cp;
  while (cps.next(&cp)) {
    if (cp < 0x80) {
      if (!sink(lower(static_cast<char>(cp)))) return HostError::kForbiddenCodePoint;
      continue;
    }
    *ascii_only = false;
    if (cp == 0x3002 || cp == 0xFF0E || cp == 0xFF61) {
      sink('.');
      continue;
    }
    Ucp status = idna_status(cp);
    if (status == Ucp::kIgnore) continue;
    if (status == Ucp::kReject) return HostError::kIdna;
    if (const AsciiMapping* m = find_ascii_mapping(cp)) {
      for (std::uint8_t k = 0; k < m->len; ++k)
        if (!sink(kAsciiPool[m->offset + k])) return HostError::kForbiddenCodePoint;
      continue;
    }
    char utf8[4];
    std::size_t len = encode_utf8(simple_lower(cp), utf8);
    for (std::size_t k = 0; k < len; ++k) sink(utf8[k]);
  }
  return HostError::kNone;
}

template <class Chars>
HostError parse_host_chars(Chars chars, bool special, Host* out) noexcept {
  out->clear_name();
  out->ipv4 = 0;
  std::memset(out->ipv6, 0, sizeof(out->ipv6));
  char first;
  Chars probe = chars;
  bool any = probe.next(&first);
  if (any && first == '[') {
    // The inside of the brackets, tabs removed; longer than any valid address is invalid.
    char buf[64];
    std::size_t n = 0;
    char c, lastc = 0;
    chars.next(&c);
    bool overflow = false;
    while (chars.next(&c)) {
      if (n < sizeof(buf)) buf[n++] = c;
      else overflow = true;
      lastc = c;
    }
    if (lastc != ']' || overflow || n == 0) return HostError::kIpv6;
    if (!parse_ipv6(std::string_view(buf, n - 1), out->ipv6)) return HostError::kIpv6;
    out->kind = HostKind::kIpv6;
    return HostError::kNone;
  }
  if (!special) {
    char c;
    bool empty = true;
    while (chars.next(&c)) {
      if (is_forbidden_host(c)) return HostError::kForbiddenCodePoint;
      out->append_name(c);
      empty = false;
    }
    out->kind = empty ? HostKind::kEmpty : HostKind::kOpaque;
    return HostError::kNone;
  }
  if (!any) return HostError::kEmpty;

  // Domain: percent-decode, UTF-8 decode, map, check, then maybe IPv4.
  NumberTail number;
  bool ascii_only = true;
  HostError err;
  {
    NameBuilder name(out);
    err = map_domain(chars, &ascii_only, [&](char c) {
      if (kForbiddenDomain.v[static_cast<unsigned char>(c)]) return false;
      name.append(c);
      number.feed(c);
      return true;
    });
  }
  if (err != HostError::kNone) return err;
  if (out->name_size() == 0) return HostError::kIdna;

  // Label checks (labels beyond the kept prefix of a very long name are not checked).
  std::string_view name = out->name();
  bool check_labels = !ascii_only || name.find("xn--") != std::string_view::npos;
  if (check_labels) {
    std::size_t start = 0;
    for (std::size_t i = 0; i <= name.size(); ++i) {
      if (i == name.size() || name[i] == '.') {
        if (i == name.size() && out->name_truncated()) break;
        if (!label_valid(name.substr(start, i - start))) return HostError::kIdna;
        start = i + 1;
      }
    }
  }
  if (number.ends_in_number()) {
    // Rare: parse the mapped name again as an address (a second pass over the source when the
    // name was too long to keep).
    Ipv4Builder v4;
    if (!out->name_truncated()) {
      for (char c : name) v4.feed(c);
    } else {
      bool unused = true;
      map_domain(chars, &unused, [&](char c) {
        if (static_cast<unsigned char>(c) < 0x80) v4.feed(c);
        else v4.feed_non_ascii();
        return true;
      });
    }
    if (!v4.finish(&out->ipv4)) return HostError::kIpv4;
    out->kind = HostKind::kIpv4;
    out->clear_name();
    return HostError::kNone;
  }
  out->kind = HostKind::kDomain;
  return HostError::kNone;
}

}  // namespace

HostError parse_host(const Text& text, std::size_t begin, std::size_t end, bool special,
                     Host* out) noexcept {
  std::string_view view = text.contiguous(begin, end);
  if (!view.empty() || begin >= end) return parse_host_chars(ViewChars(view), special, out);
  return parse_host_chars(TextChars(text, begin, end), special, out);
}

std::size_t map_domain_text(const Text& text, std::size_t begin, std::size_t end, char* out,
                            std::size_t cap) noexcept {
  std::size_t n = 0;
  bool ascii_only = true;
  auto put = [&](char c) {
    if (n < cap) out[n] = c;
    ++n;
    return true;
  };
  std::string_view view = text.contiguous(begin, end);
  if (!view.empty() || begin >= end) map_domain(ViewChars(view), &ascii_only, put);
  else map_domain(TextChars(text, begin, end), &ascii_only, put);
  return n;
}

HostInfo classify(const Host& host) noexcept {
  HostInfo info;
  switch (host.kind) {
    case HostKind::kNone:
    case HostKind::kEmpty:
      return info;
    case HostKind::kIpv4:
      info.v4 = host.ipv4;
      info.cls = classify_v4(host.ipv4);
      return info;
    case HostKind::kIpv6: {
      const std::uint16_t* p = host.ipv6;
      bool zero80 = p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 0 && p[4] == 0;
      auto low32 = [&]() { return (std::uint32_t(p[6]) << 16) | p[7]; };
      auto embed = [&](Embedding e, std::uint32_t v4) {
        info.embedding = e;
        info.v4 = v4;
        info.cls = classify_v4(v4);
      };
      if (zero80 && p[5] == 0 && p[6] == 0 && p[7] == 0) {
        info.cls = HostClass::kUnspecified;
      } else if (zero80 && p[5] == 0 && p[6] == 0 && p[7] == 1) {
        info.cls = HostClass::kLoopback;
      } else if (zero80 && p[5] == 0xFFFF) {
        embed(Embedding::kV4Mapped, low32());
      } else if (zero80 && p[5] == 0 && p[6] != 0) {
        embed(Embedding::kV4Compatible, low32());
      } else if (zero80 && p[5] == 0) {
        info.cls = HostClass::kReserved;  // ::/96 with a 16-bit tail: never routable
      } else if (p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 0 && p[4] == 0xFFFF &&
                 p[5] == 0) {
        embed(Embedding::kV4Translated, low32());
      } else if (p[0] == 0x64 && p[1] == 0xFF9B && ((p[2] == 0 && p[3] == 0 && p[4] == 0 &&
                                                     p[5] == 0) || p[2] == 1)) {
        embed(Embedding::kNat64, low32());
      } else if (p[0] == 0x2002) {
        embed(Embedding::k6to4, (std::uint32_t(p[1]) << 16) | p[2]);
      } else if (p[0] == 0xFD00 && p[1] == 0x0EC2 && p[2] == 0 && p[3] == 0 && p[4] == 0 &&
                 p[5] == 0 && p[6] == 0 && p[7] == 0x254) {
        info.cls = HostClass::kMetadata;
      } else if ((p[0] & 0xFE00) == 0xFC00 || (p[0] & 0xFFC0) == 0xFEC0) {
        info.cls = HostClass::kPrivate;
      } else if ((p[0] & 0xFFC0) == 0xFE80) {
        info.cls = HostClass::kLinkLocal;
      } else if ((p[0] & 0xFF00) == 0xFF00) {
        info.cls = HostClass::kMulticast;
      } else if (p[0] == 0x100 && p[1] == 0 && p[2] == 0 && p[3] == 0) {
        info.cls = HostClass::kReserved;
      }
      return info;
    }
    case HostKind::kDomain:
      if (host.name_truncated()) return info;
      return classify_name(host.name());
    case HostKind::kOpaque: {
      // A non-special scheme's host is not parsed as an address by URL parsers, but the
      // client that handles the scheme (gopher, dict, ldap...) does.
      if (host.name_truncated()) return info;
      char buf[Host::kMaxName];
      std::string_view n = host.name();
      std::size_t len = 0;
      for (char c : n) buf[len++] = lower(c);
      std::string_view folded(buf, len);
      std::uint32_t v4;
      if (ends_in_number(folded) && parse_ipv4(folded, &v4)) {
        info.v4 = v4;
        info.cls = classify_v4(v4);
        return info;
      }
      return classify_name(folded);
    }
  }
  return info;
}

std::string_view host_class_name(HostClass c) noexcept {
  switch (c) {
    case HostClass::kPublic: return "public";
    case HostClass::kLoopback: return "loopback";
    case HostClass::kPrivate: return "private-network";
    case HostClass::kLinkLocal: return "link-local";
    case HostClass::kMetadata: return "cloud-metadata";
    case HostClass::kUnspecified: return "unspecified";
    case HostClass::kSharedAddress: return "shared-address (CGNAT)";
    case HostClass::kIetfSpecial: return "IETF special-purpose";
    case HostClass::kBenchmarking: return "benchmarking";
    case HostClass::kMulticast: return "multicast";
    case HostClass::kBroadcast: return "broadcast";
    case HostClass::kReserved: return "reserved";
    case HostClass::kInternalName: return "internal-name";
  }
  return "?";
}

std::string_view embedding_name(Embedding e) noexcept {
  switch (e) {
    case Embedding::kNone: return "";
    case Embedding::kV4Mapped: return "IPv4-mapped";
    case Embedding::kV4Compatible: return "IPv4-compatible";
    case Embedding::kV4Translated: return "IPv4-translated";
    case Embedding::kNat64: return "NAT64";
    case Embedding::k6to4: return "6to4";
  }
  return "";
}

}  // namespace vigil::tokenize::url
