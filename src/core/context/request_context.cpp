#include <array>
#include <charconv>
#include <string>
#include <vector>

#include "core/common/ascii.hpp"
#include "core/common/ip.hpp"
#include "core/context/input_builder.hpp"
#include "vigil/request.hpp"

namespace vigil {
namespace {

using common::iequals;

// Headers whose values are structured by the protocol and that applications do not pass to
// sinks; every other header (User-Agent, Referer, X-Forwarded-For, custom ones) is an input.
constexpr std::string_view kStructuralHeaders[] = {
    "accept",          "accept-encoding", "accept-language", "accept-charset",
    "cache-control",   "connection",      "content-length",  "content-type",
    "cookie",          "host",            "if-modified-since", "if-none-match",
    "keep-alive",      "pragma",          "te",              "transfer-encoding",
    "upgrade-insecure-requests", "priority", "dnt",
};

// Header names are compared lower-cased: one copy of the name into a small buffer, then plain
// comparisons (a case-insensitive compare per known name was most of the header loop's time).
constexpr std::size_t kNameBuffer = 32;
std::string_view lower_name(std::string_view name, char (&buf)[kNameBuffer]) {
  if (name.size() > kNameBuffer) return {};  // no known name is this long
  for (std::size_t i = 0; i < name.size(); ++i) buf[i] = common::to_lower(name[i]);
  return {buf, name.size()};
}

bool is_structural(std::string_view lower, std::string_view name) {
  if (common::istarts_with(name, "sec-")) return true;  // set by browsers, not by scripts
  for (std::string_view h : kStructuralHeaders)
    if (h == lower) return true;
  return false;
}

// RFC 9110 tchar: letters, digits and !#$%&'*+-.^_`|~.
constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 'a' + 'A'] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

// CR, LF or NUL: three vectorised searches beat one loop comparing every byte.
bool has_line_break_or_nul(std::string_view s) {
  return s.find('\n') != std::string_view::npos || s.find('\r') != std::string_view::npos ||
         s.find('\0') != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!kTokenChars[static_cast<unsigned char>(c)]) return false;
  return true;
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

}  // namespace

struct RequestContext::Impl {
  RequestLimits limits;
  context::InputBuilder builder;
  std::vector<Input> inputs;
  HttpRequest request;
  std::string_view raw_path, query;
  context::Ref path;
  std::string path_storage;
  std::string client_ip;
  std::vector<common::Cidr> proxies;
  std::vector<std::string> proxy_source;  // to reuse parsed CIDRs when the list is the same

  void parse_uri();
  void parse_headers();
  void parse_body();
  void resolve_client(const TrustedProxies* trusted);
};

void RequestContext::Impl::parse_uri() {
  std::string_view uri = request.uri;
  for (char c : uri) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F || c == ' ') {
      builder.flag(c == '\0' ? (kAnomalyBadUri | kAnomalyNulByte) : kAnomalyBadUri);
      break;
    }
  }
  // absolute-form: drop scheme and authority.
  if (std::size_t scheme = uri.find("://"); scheme != std::string_view::npos &&
                                            scheme < common::find_any(uri, "/?")) {
    std::size_t path_start = common::find_any(uri, "/?", scheme + 3);
    uri = path_start == std::string_view::npos ? std::string_view("/") : uri.substr(path_start);
  } else if (uri.empty() || (uri.front() != '/' && uri != "*")) {
    // An empty target is not a request HTTP allows (RFC 9112 section 3.2).
    builder.flag(kAnomalyBadUri);
  }
  uri = uri.substr(0, uri.find('#'));
  std::size_t q = uri.find('?');
  raw_path = uri.substr(0, q);
  query = q == std::string_view::npos ? std::string_view() : uri.substr(q + 1);

  path = builder.decoded(raw_path, false);
  // Each segment, decoded on its own (so "%2f" inside a segment stays inside it), is an input:
  // routes like /product/{id} hand segments to sinks.
  std::size_t index = 0, start = 0;
  while (start < raw_path.size()) {
    std::size_t slash = raw_path.find('/', start);
    std::string_view segment =
        raw_path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (!segment.empty()) {
      char name[24];
      const char* end = std::to_chars(name, name + sizeof name, index).ptr;
      context::Ref name_ref = builder.copy(std::string_view(name, end - name));
      if (!builder.add(Source::kPath, name_ref, builder.decoded(segment, false))) break;
      ++index;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (!query.empty()) context::parse_urlencoded(query, Source::kQuery, &builder);
}

void RequestContext::Impl::parse_headers() {
  std::size_t count = 0;
  std::size_t content_lengths = 0;
  bool chunked = false;
  for (const Header& h : request.headers) {
    if (++count > limits.max_headers) {
      builder.flag(kAnomalyLimitHit);
      builder.diagnose("limit.headers", "more than " + std::to_string(limits.max_headers) +
                                            " headers; the rest were not analysed");
      break;
    }
    if (!is_token(h.name)) builder.flag(kAnomalyBadHeader);
    if (has_line_break_or_nul(h.value)) builder.flag(kAnomalyBadHeader);
    char buf[kNameBuffer];
    const std::string_view name = lower_name(h.name, buf);
    if (name == "content-length") ++content_lengths;
    if (name == "transfer-encoding") chunked = true;
    if (name == "cookie") {
      context::parse_cookies(h.value, &builder);
    } else if (!is_structural(name, h.name)) {
      builder.add(Source::kHeader, h.name, h.value);
      // A Referer carries the query of the page before: its parameters are inputs of their
      // own (an application that logs or replays "where the user came from" uses them).
      if (name == "referer") {
        std::size_t q = h.value.find('?');
        if (q != std::string_view::npos) {
          std::string_view qs = h.value.substr(q + 1);
          qs = qs.substr(0, qs.find('#'));
          context::parse_urlencoded(qs, Source::kHeader, &builder, "referer?");
        }
      }
    }
  }
  // Request smuggling shapes: two lengths, or a length beside chunked framing.
  if (content_lengths > 1 || (content_lengths == 1 && chunked))
    builder.flag(kAnomalyDuplicateLength);
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
  std::string_view type;
  for (const Header& h : request.headers)
    if (iequals(h.name, "content-type")) type = h.value;
  if (media_is(type, "application/x-www-form-urlencoded")) {
    context::parse_urlencoded(body, Source::kBody, &builder);
  } else if (media_is(type, "application/json") || media_ends_with(type, "+json")) {
    context::parse_json_body(body, &builder);
  } else if (media_is(type, "multipart/form-data")) {
    context::parse_multipart_body(body, type, &builder);
  } else if (media_is(type, "text/xml") || media_is(type, "application/xml") ||
             media_ends_with(type, "+xml")) {
    context::parse_xml_body(body, &builder);
  } else {
    // An unknown or missing type: applications may still read it (raw body, or a guessed
    // format). Sniff JSON and forms; otherwise the whole body is one input.
    std::string_view t = common::trim(body);
    if (!t.empty() && (t.front() == '{' || t.front() == '[')) {
      context::parse_json_body(body, &builder);
    } else if (!t.empty() && t.front() == '<') {
      context::parse_xml_body(body, &builder);
    } else if (t.find('=') != std::string_view::npos && t.find(' ') == std::string_view::npos) {
      context::parse_urlencoded(body, Source::kBody, &builder);
    } else {
      builder.add(Source::kBody, std::string_view(), body);
    }
  }
}

void RequestContext::Impl::resolve_client(const TrustedProxies* trusted) {
  client_ip.assign(request.peer);
  common::IpAddress peer;
  if (!common::IpAddress::parse(request.peer, &peer)) return;
  client_ip = peer.to_string();
  if (trusted == nullptr || trusted->cidrs.empty()) return;
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
    client_ip = a.to_string();
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
  m.request = request;
  if (!is_token(request.method)) m.builder.flag(kAnomalyBadMethod);
  m.parse_uri();
  m.parse_headers();
  m.parse_body();
  m.resolve_client(proxies);
  m.builder.finish(&m.inputs);
  for (const Input& in : m.inputs) {
    if (in.value.find('\0') != std::string_view::npos) m.builder.flag(kAnomalyNulByte);
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
  for (const Header& h : impl_->request.headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

std::size_t RequestContext::memory_bytes() const noexcept {
  return sizeof(Impl) + impl_->builder.memory_bytes() + impl_->inputs.capacity() * sizeof(Input) +
         impl_->client_ip.capacity();
}

}  // namespace vigil
