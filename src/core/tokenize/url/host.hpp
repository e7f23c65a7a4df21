// WHATWG URL host parsing, serialization and classification.
//
// parse_host() follows the WHATWG URL Standard's host parser: "[...]" is an IPv6 address;
// a host of a non-special scheme is an opaque host; otherwise the host is percent-decoded,
// decoded as UTF-8, mapped by a minimal IDNA (see below), checked for forbidden domain code
// points, and parsed as an IPv4 address when it "ends in a number" (so 2130706433, 0x7f.1,
// 127.1 and 0177.0.0.1 are all 127.0.0.1).
//
// The IDNA is deliberately small. It is faithful for ASCII and for the characters attackers
// use to disguise addresses and names: full-width forms, ideographic and half-width full stops,
// circled, parenthesized and mathematical letters and digits, super- and subscripts, Roman
// numerals, letter-like symbols, ligatures, default-ignorable characters (removed). Code points
// that UTS #46 disallows or maps to something containing a space or a forbidden code point (the
// C1 controls, U+FFFD, private use, spacing accents, space variants, ZWJ/ZWNJ, U+FDFA...) make
// the host invalid, as they do in browsers. Right-to-left labels get an approximation of the
// bidi rule (no Latin letter, and no trailing punctuation in such a label). Punycode "xn--"
// labels are decoded only to be validated, and kept as written. Other non-ASCII code points
// are kept as they are (no NFC, no case folding beyond Latin-1, Greek and Cyrillic), so the
// serialized name of an internationalized host is its mapped Unicode form, not its A-label.
//
// Complexity: linear in the host's length; no allocation (the serialized name is kept in a
// fixed buffer inside Host; longer names keep a prefix, a suffix, their length and a hash).
// Thread safety: all functions are reentrant.
#ifndef VIGIL_CORE_TOKENIZE_URL_HOST_HPP_
#define VIGIL_CORE_TOKENIZE_URL_HOST_HPP_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vigil::tokenize::url {

// The text a URL is parsed from: up to three pieces read as one string. A detector parses
// "prefix + placeholder + suffix" this way without copying. Offsets are into the joined text.
class Text {
 public:
  Text() = default;
  explicit Text(std::string_view s) noexcept : a_(s) {}
  Text(std::string_view a, std::string_view b, std::string_view c) noexcept
      : a_(a), b_(b), c_(c) {}

  std::size_t size() const noexcept { return a_.size() + b_.size() + c_.size(); }
  // REQUIRES: i < size().
  char operator[](std::size_t i) const noexcept {
    if (i < a_.size()) return a_[i];
    i -= a_.size();
    if (i < b_.size()) return b_[i];
    return c_[i - b_.size()];
  }
  // The text of [begin, end) when it lies in one piece; empty otherwise.
  std::string_view contiguous(std::size_t begin, std::size_t end) const noexcept;
  // The first offset in [from, to) whose byte b has stop[b] set, or `to`. Scans the pieces
  // directly (the parser's fast path over runs that cannot change its state).
  std::size_t find_first(std::size_t from, std::size_t to, const bool (&stop)[256]) const noexcept;

 private:
  std::string_view a_, b_, c_;
};

// ASCII tab or newline: the URL parser removes them wherever they occur.
constexpr bool is_tab_or_newline(char c) noexcept { return c == '\t' || c == '\n' || c == '\r'; }

enum class HostKind : std::uint8_t {
  kNone,    // the URL has no host (opaque path, "mailto:x", a path-only relative reference)
  kEmpty,   // the empty host ("file:///etc/passwd", "foo://")
  kDomain,  // a domain of a special scheme, after percent-decoding and IDNA mapping
  kIpv4,
  kIpv6,
  kOpaque,  // the host of a non-special scheme, as written (percent-encoding kept)
};

enum class HostError : std::uint8_t {
  kNone,
  kEmpty,               // a special scheme's host is empty
  kForbiddenCodePoint,  // space, '<', '|', '%' (after decoding) ... in a host
  kIdna,                // a code point or label the IDNA rules reject
  kIpv4,                // "ends in a number" but is not a valid IPv4 address (1.2.3.256)
  kIpv6,                // malformed "[...]" (zone identifiers such as %25eth0 included)
};

std::string_view host_error_name(HostError e) noexcept;

// A parsed host. Trivially copyable; about 350 bytes.
class Host {
 public:
  static constexpr std::size_t kMaxName = 256;  // bytes of the serialized name kept in full
  static constexpr std::size_t kTail = 64;      // bytes kept from the end of a longer name

  HostKind kind = HostKind::kNone;
  std::uint32_t ipv4 = 0;       // kIpv4: the address, host order
  std::uint16_t ipv6[8] = {};   // kIpv6: the eight pieces

  // kDomain / kOpaque: the serialized name (lower-cased, mapped). When the name is longer than
  // kMaxName, name() holds its first kMaxName bytes and tail() its last kTail bytes.
  std::string_view name() const noexcept { return {name_, name_len_}; }
  std::string_view tail() const noexcept;
  std::size_t name_size() const noexcept { return full_len_; }
  bool name_truncated() const noexcept { return full_len_ > kMaxName; }

  // Whether the name ends with `suffix` (which must be at most kTail bytes when the name is
  // truncated; longer suffixes then compare false).
  bool name_ends_with(std::string_view suffix) const noexcept;
  bool name_starts_with(std::string_view prefix) const noexcept;

  // Same kind and same address or name (long names: same length, hash, prefix and tail).
  bool operator==(const Host& other) const noexcept;

  // Writes the host as a URL shows it ("127.0.0.1", "[::ffff:7f00:1]", "example.com") into
  // out (capacity cap, NUL-terminated when room); returns the length written.
  std::size_t serialize(char* out, std::size_t cap) const noexcept;

  // Builder interface, used by the parsers.
  void clear_name() noexcept;
  void append_name(char c) noexcept;

 private:
  friend class NameBuilder;
  char name_[kMaxName] = {};
  char tail_[kTail] = {};  // ring buffer over the last kTail bytes
  std::uint32_t name_len_ = 0;
  std::uint32_t full_len_ = 0;
  std::uint64_t hash_ = 0;
};

// Parses text[begin, end) (tabs and newlines skipped) as the host of a URL whose scheme is
// special (`special`) or not. Returns kNone and fills *out on success.
HostError parse_host(const Text& text, std::size_t begin, std::size_t end, bool special,
                     Host* out) noexcept;

// Percent-decodes and IDNA-maps text[begin, end) the way parse_host() maps a domain, without
// validating it or parsing numbers, into out (capacity cap). Returns the length needed (which
// may exceed cap; only cap bytes are written). Used to compare parts of hosts.
std::size_t map_domain_text(const Text& text, std::size_t begin, std::size_t end, char* out,
                            std::size_t cap) noexcept;

// Parses a string as an IPv4 address by the WHATWG rules (1 to 4 parts, each decimal, 0x-hex
// or 0-octal; the last part fills the remaining bytes). Returns false when it is not one.
bool parse_ipv4(std::string_view s, std::uint32_t* out) noexcept;
// The WHATWG "ends in a number" test for a domain.
bool ends_in_number(std::string_view domain) noexcept;
// Parses the inside of "[...]". Returns false when malformed.
bool parse_ipv6(std::string_view s, std::uint16_t out[8]) noexcept;

// What a host is, for server-side request forgery: where a request to it would go.
enum class HostClass : std::uint8_t {
  kPublic,        // nothing known: a public address, or a name only DNS could classify
  kLoopback,      // 127.0.0.0/8, ::1, localhost, *.localhost
  kPrivate,       // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10
  kLinkLocal,     // 169.254/16, fe80::/10
  kMetadata,      // cloud instance metadata: 169.254.169.254, fd00:ec2::254, 100.100.100.200,
                  // metadata.google.internal, metadata, instance-data, ...
  kUnspecified,   // 0.0.0.0/8, ::
  kSharedAddress, // 100.64.0.0/10 (carrier-grade NAT)
  kIetfSpecial,   // 192.0.0.0/24 (IETF protocol assignments)
  kBenchmarking,  // 198.18.0.0/15
  kMulticast,     // 224.0.0.0/4, ff00::/8
  kBroadcast,     // 255.255.255.255
  kReserved,      // 240.0.0.0/4, 100::/64 (discard)
  kInternalName,  // a name under .internal (other than the metadata names)
};

// How an IPv4 address was embedded in an IPv6 one.
enum class Embedding : std::uint8_t {
  kNone,
  kV4Mapped,      // ::ffff:a.b.c.d
  kV4Compatible,  // ::a.b.c.d (deprecated)
  kV4Translated,  // ::ffff:0:a.b.c.d (SIIT)
  kNat64,         // 64:ff9b::/96, 64:ff9b:1::/48
  k6to4,          // 2002:AABB:CCDD::/48
};

struct HostInfo {
  HostClass cls = HostClass::kPublic;
  Embedding embedding = Embedding::kNone;
  bool by_name = false;   // classified by a DNS name rather than an address
  std::uint32_t v4 = 0;   // the IPv4 address classified (kIpv4, or the embedded one)
};

HostInfo classify(const Host& host) noexcept;
// Whether a request there reaches a service not meant for the internet: loopback, private
// networks, link-local, cloud metadata, unspecified (0.0.0.0 reaches the local host),
// carrier-grade NAT, IETF special-purpose and .internal names. Multicast, broadcast, reserved
// and benchmarking addresses are classified but are not internal services one connects to.
constexpr bool is_internal(HostClass c) noexcept {
  switch (c) {
    case HostClass::kLoopback:
    case HostClass::kPrivate:
    case HostClass::kLinkLocal:
    case HostClass::kMetadata:
    case HostClass::kUnspecified:
    case HostClass::kSharedAddress:
    case HostClass::kIetfSpecial:
    case HostClass::kInternalName:
      return true;
    default:
      return false;
  }
}
// "loopback", "private", "link-local", "cloud metadata", ...
std::string_view host_class_name(HostClass c) noexcept;
std::string_view embedding_name(Embedding e) noexcept;

}  // namespace vigil::tokenize::url

#endif  // VIGIL_CORE_TOKENIZE_URL_HOST_HPP_
