// Server-side request forgery attempts: a value that is, or carries as a parameter, a URL that a
// server-side client would fetch from somewhere the internet should not reach.
//
// The value is read with the units of url_values.hpp (the whole value, the parameters it writes,
// a Referer's parameters) and each unit that has the shape of a URL is convicted when:
//
//  - its scheme reaches local files or non-HTTP services (file:, gopher:, dict:, ldap:, sftp:,
//    tftp:, jar:, netdoc:, smb:, telnet: ...), written as a URL ("gopher://", "jar:http://",
//    "file:/");
//  - its host is internal as the WHATWG parser reads it (tokenize/url: loopback, private,
//    link-local, cloud metadata, unspecified ..., in every decimal, octal, hex, short, IPv6-
//    embedded and IDNA spelling), or as other parsers read it: the host after the last '@' before
//    the first '/' ("http://allowed.example#@10.0.0.1/" for a naive splitter), or an overflowing
//    number that lenient resolvers wrap ("425.510.425.510", "0x41414141a9fea9fe");
//  - its host is a name that resolves inside: an unqualified name ("http://redis/", resolved
//    through the server's search domains), a wildcard-DNS name that embeds an internal address
//    ("127.0.0.1.nip.io", "10-0-0-1.sslip.io"), a loopback alias (ip6-localhost, localtest.me);
//  - it asks for a cloud metadata API (/latest/meta-data/, /computeMetadata/v1/ ...) or names a
//    metadata address in its path (through a proxy or a redirector);
//  - a parameter named for an address to fetch ("host", "webhook", "url") holds a host written
//    without a scheme that is the metadata service, or an internal host with a sign of intent:
//    an odd notation, credentials before it, a port of an unauthenticated internal service.
//    An internal host alone ("host=127.0.0.1" for a ping tool) is what such parameters take.
//
// ftp: URLs are fetched by many clients and are judged by their host, like http:. A Referer's
// own URL is the page the browser came from: only a forged one (a dangerous scheme, a metadata
// host, a numeric host no browser would serialize) counts.
#include <algorithm>
#include <cstring>
#include <string>

#include "core/common/ascii.hpp"
#include "core/detect/input/input_detector.hpp"
#include "core/detect/input/url_values.hpp"

namespace vigil::detect::input {
namespace {

namespace url = vigil::tokenize::url;
using urlv::UnitKind;
using urlv::UrlUnit;

// Schemes whose clients speak to non-HTTP services ("//host" follows them).
constexpr std::string_view kServiceSchemes[] = {
    "gopher", "dict", "ldap", "ldaps", "ldapi", "sftp", "tftp", "smb",
    "telnet", "ssh2.shell", "ssh2.exec", "ssh2.tunnel", "rmi", "jnlp", "mysql", "redis",
};

bool dangerous_name(std::string_view s) noexcept {
  if (s == "file" || s == "netdoc" || s == "jar") return true;
  for (std::string_view k : kServiceSchemes)
    if (s == k) return true;
  return false;
}

// Schemes whose clients reach local files or speak to non-HTTP services, and whether the URL
// shape after the colon is right for it.
bool dangerous_scheme(std::string_view s, std::string_view head, std::size_t after) noexcept {
  const std::size_t slashes = urlv::count_slashes(head, after);
  if (s == "file" || s == "netdoc") return slashes >= 1 && after + slashes < head.size();
  if (s == "jar") {
    char inner[16];
    std::size_t inner_after = 0;
    return !urlv::scheme_of(head.substr(after), inner, &inner_after).empty();
  }
  for (std::string_view k : kServiceSchemes)
    if (s == k) return slashes >= 2;
  return false;
}

bool fetched_scheme(std::string_view s) noexcept {
  return s == "http" || s == "https" || s == "ws" || s == "wss" || s == "ftp" || s == "ftps";
}

// Names that public DNS or /etc/hosts resolve to the loopback address.
bool loopback_alias(std::string_view n) noexcept {
  static constexpr std::string_view kExact[] = {
      "ip6-localhost", "ip6-loopback", "localhost.localdomain", "localhost6",
      "localhost6.localdomain6",
  };
  static constexpr std::string_view kDomains[] = {"localtest.me", "lvh.me", "vcap.me"};
  for (std::string_view k : kExact)
    if (n == k) return true;
  for (std::string_view k : kDomains) {
    if (n == k) return true;
    if (n.size() > k.size() && n.substr(n.size() - k.size()) == k &&
        n[n.size() - k.size() - 1] == '.')
      return true;
  }
  return false;
}

// Services whose names send a client wherever the name says: DNS-rebinding resolvers that
// answer with an address the name encodes ("7f000001.c0a80001.rbndr.us",
// "make-1.2.3.4-rebind-127.0.0.1-rr.1u.ms") and redirectors that answer with a redirect to a
// target encoded in the name ("<base32>.302.r3dir.me"). Returns the service's domain.
std::string_view rebinding_service(std::string_view n) noexcept {
  static constexpr std::string_view kServices[] = {"rbndr.us", "1u.ms", "r3dir.me"};
  for (std::string_view k : kServices) {
    if (n.size() > k.size() && n.substr(n.size() - k.size()) == k &&
        n[n.size() - k.size() - 1] == '.')
      return k;
  }
  return {};
}

url::HostInfo classify_v4(std::uint32_t v4) noexcept {
  url::Host h;
  h.kind = url::HostKind::kIpv4;
  h.ipv4 = v4;
  return url::classify(h);
}

// A decimal number 0..255 at s[i...] ending at a '.' or '-' (or the end); advances i.
bool octet(std::string_view s, std::size_t* i, std::uint32_t* out) noexcept {
  std::size_t b = *i;
  std::uint32_t v = 0;
  while (*i < s.size() && common::is_digit(s[*i]) && *i - b < 3) v = v * 10 + (s[(*i)++] - '0');
  if (*i == b || v > 255) return false;
  if (*i < s.size() && common::is_digit(s[*i])) return false;
  *out = v;
  return true;
}

// An internal IPv4 address written inside a longer DNS name, as wildcard-DNS services resolve
// them: "127.0.0.1.nip.io", "app.10-0-0-1.sslip.io". Returns the address.
bool embedded_internal_v4(std::string_view name, std::uint32_t* out) noexcept {
  for (std::size_t start = 0; start < name.size();) {
    for (char sep : {'.', '-'}) {
      std::size_t i = start;
      std::uint32_t v = 0, o = 0;
      int parts = 0;
      while (parts < 4 && octet(name, &i, &o)) {
        v = (v << 8) | o;
        ++parts;
        if (parts < 4) {
          if (i >= name.size() || name[i] != sep) break;
          ++i;
        }
      }
      // A full address followed by more name (else the host would itself be an address).
      if (parts == 4 && i < name.size() && name[i] == '.' &&
          url::is_internal(classify_v4(v).cls)) {
        *out = v;
        return true;
      }
    }
    std::size_t next = common::find_any(name, ".-", start);
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  return false;
}

// A host written as 1 to 4 numbers (decimal, 0x-hex, 0-octal) that the WHATWG parser rejects
// because a part overflows, read the way lenient resolvers do: each part cut to the bits it
// fills. Returns the address.
bool wrapped_v4(std::string_view host, std::uint32_t* out) noexcept {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > 80) return false;
  std::uint64_t parts[4];
  int n = 0;
  std::size_t i = 0;
  while (i <= host.size()) {
    std::size_t e = host.find('.', i);
    if (e == std::string_view::npos) e = host.size();
    std::string_view p = host.substr(i, e - i);
    if (p.empty() || n == 4) return false;
    std::uint64_t v = 0;
    int base = 10;
    std::size_t k = 0;
    if (p.size() > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
      base = 16;
      k = 2;
    } else if (p.size() > 1 && p[0] == '0') {
      base = 8;
      k = 1;
    }
    for (; k < p.size(); ++k) {
      int d = common::hex_value(p[k]);
      if (d < 0 || d >= base) return false;
      v = v * base + d;  // wraps modulo 2^64, as the resolvers being imitated do
    }
    parts[n++] = v;
    i = e + 1;
  }
  std::uint32_t a = 0;
  for (int k = 0; k + 1 < n; ++k) a |= static_cast<std::uint32_t>(parts[k] & 0xFF) << (24 - 8 * k);
  const int rest = 4 - (n - 1);
  const std::uint64_t mask = rest == 4 ? 0xFFFFFFFFull : ((1ull << (8 * rest)) - 1);
  a |= static_cast<std::uint32_t>(parts[n - 1] & mask);
  *out = a;
  return true;
}

std::string v4_text(std::uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xFF) + "." +
         std::to_string((a >> 8) & 0xFF) + "." + std::to_string(a & 0xFF);
}

// The host's class with its article, as the reasons read: "a loopback", "an unspecified".
std::string describe(const url::HostInfo& info) {
  std::string_view cls = url::host_class_name(info.cls);
  std::string s = !cls.empty() && std::strchr("aeiouAEIOU", cls.front()) != nullptr ? "an " : "a ";
  s += cls;
  if (info.embedding != url::Embedding::kNone) {
    s += " (";
    s += url::embedding_name(info.embedding);
    s += ")";
  }
  return s;
}

// Cloud metadata addresses and API paths, looked for in a URL before its query (through a
// proxy or a redirector they sit in the path). One pass: markers are tried only where a byte
// could start one.
bool metadata_marker(std::string_view text, std::string_view* marker) noexcept {
  text = text.substr(0, text.find('?'));
  static constexpr std::string_view kMarkers[] = {
      "169.254.169.254",        "169.254.170.2",       "100.100.100.200",
      "fd00:ec2::254",          "/latest/meta-data",   "/latest/user-data",
      "/latest/dynamic/instance-identity", "/latest/api/token", "/computemetadata/v1",
      "/metadata/v1",           "/metadata/instance",  "/metadata/identity/oauth2",
      "/openstack/latest/meta_data", "/hetzner/v1/metadata",
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = common::to_lower(text[i]);
    if (c != '/' && c != '1' && c != 'f') continue;
    for (std::string_view m : kMarkers) {
      if (m[0] == c && common::istarts_with(text.substr(i), m)) {
        *marker = m;
        return true;
      }
    }
  }
  return false;
}

// Whether a parameter's whole text reads as a host of its own: an IPv6 literal, or a name or
// number that host_like() accepts. Numbers and versions written in decimal ("42", "2.0.1",
// "3232235521") are hosts too; number_names_address() decides which of them name an address.
bool bare_host(std::string_view h) noexcept {
  if (h.empty()) return false;
  if (h[0] == '[') return h.back() == ']';
  return urlv::host_like(h);
}

// Whether a host written in one to three decimal or octal parts ("2130706433", "017700000001",
// "127.1", "192.168.1") names the internal address `info` on purpose rather than by accident:
// such text is first a count, an id, a zip code, a price or a version. What those land on is
// left out: 0.0.0.0/8 (every number below 2^24, so "0", "42" and "02345" are never an address:
// the corpus's benign lists hold "0"), a first part written as a decimal below 100 ("10.15.7",
// "10.5" read as 10.0.0.x are versions and decimals first) and the IETF block that a price reads
// as ("192.50" is 192.0.0.50). What remains is the loopback, private, link-local, metadata and
// shared-address space reached by a number of nine digits or more, by octal, or by a short form
// starting 100 or above; "127.0" and "127.0.1", which are also versions of a browser, convict
// in a parameter named for an address.
bool number_names_address(std::string_view written, const url::HostInfo& info) noexcept {
  switch (info.cls) {
    case url::HostClass::kLoopback:
    case url::HostClass::kPrivate:
    case url::HostClass::kLinkLocal:
    case url::HostClass::kMetadata:
    case url::HostClass::kSharedAddress:
      break;
    default:
      return false;
  }
  const std::size_t first = std::min(written.find('.'), written.size());
  const bool short_decimal = first <= 2 && (first == 1 || written[0] != '0');
  return first == written.size() || !short_decimal;
}

// Whether a written host is one to three parts of digits: a number, a short form or a version.
bool decimal_parts(std::string_view h) noexcept {
  int dots = 0;
  for (char ch : h) {
    if (ch == '.') ++dots;
    else if (!common::is_digit(ch)) return false;
  }
  return !h.empty() && dots < 3;
}

// Whether a value of letters, digits and '_' is one number that an IPv4 parser takes: decimal
// of at most 10 digits ("2130706433"), octal after a 0 ("017700000001") or 0x-hex
// ("0x7f000001"). The only such value a bare-host check can convict; card numbers, ids and
// words stop here, most at the first or the length test.
bool one_number(std::string_view v) noexcept {
  if (v.empty() || !common::is_digit(v[0])) return false;
  if (v[0] != '0') {
    if (v.size() > 10) return false;  // above 4294967295
    for (char ch : v)
      if (!common::is_digit(ch)) return false;
    return true;
  }
  const bool hex = v.size() > 2 && (v[1] == 'x' || v[1] == 'X');
  for (std::size_t k = hex ? 2 : 1; k < v.size(); ++k)
    if (hex ? !common::is_xdigit(v[k]) : (v[k] < '0' || v[k] > '7')) return false;
  return true;
}

bool ascii_only(std::string_view s) noexcept {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// Services on internal hosts that a request from the server drives without credentials, the
// usual targets of an SSRF to a host and port: their ports, and their names for a reason.
struct ServicePort {
  int port;
  std::string_view name;
};
constexpr ServicePort kInternalServicePorts[] = {
    {2375, "Docker API"},   {2376, "Docker API"},  {2379, "etcd"},
    {4243, "Docker API"},   {5984, "CouchDB"},     {6379, "Redis"},
    {8500, "Consul"},       {8983, "Solr"},        {9200, "Elasticsearch"},
    {10250, "kubelet"},     {10255, "kubelet"},    {11211, "memcached"},
};

// The service's name, or empty when the port is not one of theirs.
std::string_view internal_service_name(int port) noexcept {
  for (const ServicePort& s : kInternalServicePorts)
    if (s.port == port) return s.name;
  return {};
}

// The authority as naive splitters read it: up to the first '/' ('?', '#' and '\\' do not end
// it for them).
std::string_view naive_authority(std::string_view head, std::size_t from) noexcept {
  if (from >= head.size()) return {};
  const std::string_view rest = head.substr(from);
  return rest.substr(0, rest.find('/'));
}

// "localhost:6379", "10.0.0.5:8080/x": a host and a port, which url_start reads as a scheme.
bool host_and_port(std::string_view head, std::size_t after) noexcept {
  std::size_t i = after;
  while (i < head.size() && i - after < 6 && common::is_digit(head[i])) ++i;
  return i > after && (i == head.size() || head[i] == '/');
}

struct Ctx {
  const Candidate* c;
  Hit* hit;
};

bool convict(Ctx* x, const UrlUnit& u, std::string reason) {
  x->hit->reason = urlv::unit_place(*x->c, u) + " " + reason;
  x->hit->evidence = evidence(u.text);
  return true;
}

// Why a domain name (without its final dot) sends the server to an internal address it
// encodes: a wildcard-DNS name ("127.0.0.1.nip.io") or a name under a DNS-rebinding or redirect
// service; empty when it does neither. Part of a reason, after the name.
std::string encoded_address_name(std::string_view name) {
  std::uint32_t v4 = 0;
  if (embedded_internal_v4(name, &v4))
    return ", a wildcard-DNS name for " + v4_text(v4) + ", " + describe(classify_v4(v4)) +
           " address";
  const std::string_view service = rebinding_service(name);
  if (!service.empty())
    return ", a name under " + std::string(service) +
           ", a DNS-rebinding or redirect service that sends the server to an address the name "
           "encodes";
  return {};
}

// Judges the host of a parsed URL (and the other readings of its authority).
bool judge_host(Ctx* x, const UrlUnit& u, const url::Url& parsed, std::string_view authority,
                std::string_view naive_authority, std::string_view what, bool scheme_given) {
  const std::string written(urlv::written_host(authority).substr(0, 80));
  if (parsed.valid) {
    const url::HostInfo info = url::classify(parsed.host);
    const std::string host = urlv::host_text(parsed.host);
    const std::string shown = written == host ? host : host + " (written " + written + ")";
    if (url::is_internal(info.cls))
      return convict(x, u, std::string(what) + " " + shown + ", " + describe(info) + " host");
    if (parsed.host.kind == url::HostKind::kDomain) {
      std::string_view name = parsed.host.name();
      if (!name.empty() && name.back() == '.') name.remove_suffix(1);
      if (loopback_alias(name))
        return convict(x, u, std::string(what) + " " + shown + ", a name that resolves to the "
                                                              "loopback address");
      // "http://redis/": only with a scheme ("//server" is as often a file share).
      if (scheme_given && !name.empty() && name.find('.') == std::string_view::npos &&
          !parsed.host.name_truncated())
        return convict(x, u, std::string(what) + " " + shown +
                                 ", an unqualified name resolved inside the server's network");
      if (const std::string why = encoded_address_name(name); !why.empty())
        return convict(x, u, std::string(what) + " " + shown + why);
    }
  }
  // The host after the last '@' before the first '/', as naive splitters read it: they do not
  // stop at '?' or '#' ("http://allowed.example#@10.0.0.7/"). A query that sets parameters
  // ("?to=root@localhost") is a query to them too.
  std::string_view naive = naive_authority;
  if (naive.size() > authority.size() &&
      common::find_any(naive.substr(authority.size()), "=&") != std::string_view::npos)
    naive = authority;
  const std::size_t at = naive.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view alt = naive.substr(at + 1);
    url::Url other;
    if (url::parse_url(url::Text("http://", alt, "/"), nullptr, &other) &&
        !(parsed.valid && other.host == parsed.host)) {
      const url::HostInfo info = url::classify(other.host);
      if (url::is_internal(info.cls))
        return convict(x, u, std::string(what) + " whose authority " +
                                 std::string(naive.substr(0, 80)) +
                                 " other parsers read as host " + urlv::host_text(other.host) +
                                 ", " + describe(info) + " host");
    }
  }
  // A numeric host that overflows, as lenient resolvers wrap it.
  const std::string_view host_written = urlv::written_host(authority);
  std::uint32_t v4 = 0;
  if (!(parsed.valid && parsed.host.kind == url::HostKind::kIpv4) && wrapped_v4(host_written, &v4)) {
    const url::HostInfo info = classify_v4(v4);
    if (url::is_internal(info.cls))
      return convict(x, u, std::string(what) + " " + std::string(host_written.substr(0, 80)) +
                               ", an out-of-range number that lenient resolvers wrap to " +
                               v4_text(v4) + ", " + describe(info) + " address");
  }
  return false;
}

// A host written without a scheme in a parameter named for an address ("host=10.0.0.5",
// "server=localhost"). Network tools, admin pages and APIs take internal hosts that way every
// day, so an internal host alone is not an attempt: it needs a sign that the value was built to
// reach what it should not. The cloud metadata service (nothing else is asked for at that
// address); an internal address in a notation no one types to mean it (decimal, octal, hex,
// short, IPv6-mapped, look-alike digits: anything the parser does not serialize back as
// written); credentials before it (a split between what a filter and a client read); a port of
// a service that a smuggled HTTP request drives without authentication; a name whose DNS
// answer is an internal address it encodes.
bool judge_bare_host(Ctx* x, const UrlUnit& u, std::string_view authority) {
  url::Url parsed;
  if (!url::parse_url(url::Text("http://", u.text, ""), nullptr, &parsed)) return false;
  const url::HostInfo info = url::classify(parsed.host);
  const std::string_view written = urlv::written_host(authority);
  // Strings are built for a conviction only: a clean host allocates nothing.
  auto names = [&](const std::string& what) {
    return convict(x, u, "names the host " + urlv::host_text(parsed.host) + what +
                             ", in a parameter meant for an address to fetch");
  };
  if (info.cls == url::HostClass::kMetadata) return names(", " + describe(info) + " host");
  if (url::is_internal(info.cls)) {
    const bool domain = parsed.host.kind == url::HostKind::kDomain;
    // Numbers and versions: only the ones that name an address on purpose, whatever follows.
    if (!domain && decimal_parts(written) && !number_names_address(written, info)) return false;
    // An address stored as an integer (INET_ATON, ip2long) is how logs and admin pages pass an
    // "ip": one decimal number there is data, not a notation.
    if (!domain && written[0] != '0' && one_number(written) && common::iequals(u.name, "ip"))
      return false;
    // A hex number below 2^24 is an id or a colour first ("0x00ff"); 0.0.0.0 alone is a host.
    if (!domain && info.cls == url::HostClass::kUnspecified && parsed.host.ipv4 != 0 &&
        one_number(written))
      return false;
    const std::string_view shown = written.substr(0, 80);
    // IP literals: anything but the address as the parser writes it back. A name that differs
    // in letter case alone is the same name; one in other characters is not.
    if ((!domain && !common::iequals(written, urlv::host_text(parsed.host))) ||
        (domain && !ascii_only(written)))
      return names(", " + describe(info) + " host, written " + std::string(shown) +
                   ", a notation that hides the address");
    if (authority.find('@') != std::string_view::npos)
      return names(", " + describe(info) + " host, after credentials (" +
                   std::string(authority.substr(0, 80)) +
                   "), where filters and clients disagree on the host");
    if (const std::string_view service = internal_service_name(parsed.port); !service.empty())
      return names(", " + describe(info) + " host, with port " + std::to_string(parsed.port) +
                   " (" + std::string(service) +
                   "), a service that an HTTP request drives unauthenticated");
    return false;
  }
  if (parsed.host.kind == url::HostKind::kDomain) {
    std::string_view name = parsed.host.name();
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    if (const std::string why = encoded_address_name(name); !why.empty()) return names(why);
  }
  return false;
}

bool judge(const UrlUnit& u, void* ctx) {
  Ctx* x = static_cast<Ctx*>(ctx);
  if (u.text.size() < 4) return false;
  char start_buf[16];
  std::string_view start_scheme;
  switch (urlv::url_start(u.text, start_buf, &start_scheme)) {
    case urlv::Start::kScheme:
      // "localhost:6379" starts like a scheme; as a host and port it can only be a bare host.
      if (!fetched_scheme(start_scheme) && !dangerous_name(start_scheme) &&
          !urlv::is_fetch_name(u.name))
        return false;
      break;
    case urlv::Start::kSlash:
      break;
    case urlv::Start::kOther:
      // A bare host: a name or a number, in ASCII or not ("①②⑦.0.0.1"), or an IPv6 literal.
      if (urlv::has_space(u.text) || !urlv::is_fetch_name(u.name)) return false;
      if (const char b = urlv::first_byte(u.text);
          !common::is_alnum(b) && b != '[' && static_cast<unsigned char>(b) < 0x80)
        return false;
      break;
  }
  urlv::Head h;
  urlv::read_head(u.text, &h);
  const std::string_view head = h.view();
  char scheme_buf[16];
  std::size_t after = 0;
  std::string_view scheme = urlv::scheme_of(head, scheme_buf, &after);
  if (!scheme.empty() && !fetched_scheme(scheme) && !dangerous_name(scheme)) {
    if (!host_and_port(head, after)) return false;
    scheme = {};
  }

  if (!scheme.empty()) {
    if (dangerous_scheme(scheme, head, after)) {
      return convict(x, u, "is a " + std::string(scheme) +
                               ": URL, a scheme that reads local files or talks to non-HTTP "
                               "services from the server");
    }
    if (!fetched_scheme(scheme) || urlv::has_space(u.text)) return false;
    url::Url parsed;
    url::parse_url(u.text, nullptr, &parsed);
    const std::size_t slashes = urlv::count_slashes(head, after);
    const std::string_view authority = urlv::authority_at(head, after + slashes);
    if (u.kind == UnitKind::kPage) {
      // A browser sends the page's URL serialized: a metadata host or a number written any
      // other way than dotted decimal was not sent by one.
      if (!parsed.valid) return false;
      const url::HostInfo info = url::classify(parsed.host);
      const bool odd_number = parsed.host.kind == url::HostKind::kIpv4 &&
                              urlv::written_host(authority) != urlv::host_text(parsed.host);
      if (info.cls == url::HostClass::kMetadata ||
          (odd_number && url::is_internal(info.cls)))
        return convict(x, u, "is a URL to " + urlv::host_text(parsed.host) + ", " +
                                 describe(info) + " host no browser page comes from");
      return false;
    }
    if (judge_host(x, u, parsed, authority, naive_authority(head, after + slashes), "is a URL to",
                   true))
      return true;
    std::string_view marker;
    if (metadata_marker(u.text, &marker))
      return convict(x, u, "is a URL that asks for the cloud metadata service (" +
                               std::string(marker) + ")");
    return false;
  }
  if (u.kind == UnitKind::kPage || urlv::has_space(u.text)) return false;

  // Scheme-relative: "//10.0.0.1/" takes the scheme of whatever page or client resolves it.
  // ("\\\\server\\share" is a Windows file path, left to the path detectors.)
  if (head.size() >= 3 && head[0] == '/' && (head[1] == '/' || head[1] == '\\')) {
    const std::size_t slashes = urlv::count_slashes(head, 0);
    const std::string_view authority = urlv::authority_at(head, slashes);
    if (!urlv::host_like(authority)) return false;
    url::Url parsed;
    url::parse_url(u.text, &urlv::http_base(), &parsed);
    if (judge_host(x, u, parsed, authority, naive_authority(head, slashes),
                   "is a scheme-relative URL to", false))
      return true;
    std::string_view marker;
    if (metadata_marker(u.text, &marker))
      return convict(x, u, "is a URL that asks for the cloud metadata service (" +
                               std::string(marker) + ")");
    return false;
  }

  // A bare host in a parameter named for an address to fetch.
  if (urlv::is_fetch_name(u.name)) {
    const std::string_view authority = urlv::authority_at(head, 0);
    if (bare_host(urlv::written_host(authority))) return judge_bare_host(x, u, authority);
  }
  return false;
}

}  // namespace

bool detect_ssrf(const Candidate& c, Hit* hit) {
  // The registry calls this for every value (no prefilter): a value of letters, digits and '_'
  // alone ("2130706433", "0x7f000001") can be a host in a parameter named for one. Any other
  // value needs one of the bytes the prefilter had: ':', '/', '\\' or '.'. The tests are in the
  // order of their cost: the name is read only for a number an IPv4 parser would take.
  if (!(c.features & (kColon | kSlash | kBackslash | kDot))) {
    if (c.features != 0 || !one_number(c.value) || !urlv::is_fetch_name(c.name)) return false;
  } else if (!(c.features & (kColon | kSlash | kBackslash | kPercent)) &&
             (!urlv::is_fetch_name(c.name) || (c.features & kSpace))) {
    // Without ':', '/' or '\\' (or their escapes) the value holds no URL: only a bare host in a
    // parameter named for an address can still be one.
    return false;
  }
  Ctx ctx{&c, hit};
  return urlv::walk_units(c, &judge, &ctx);
}

}  // namespace vigil::detect::input
