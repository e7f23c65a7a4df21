// URL parser and host parser target. The bytes are split at the first 0xFF into a URL and a
// base URL. Checks that every span lies inside the text and in component order, that parsing
// the text as three pieces (the detectors' placeholder form) gives the same result as parsing
// it whole, and that serialization and classification never fail.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "core/tokenize/url/host.hpp"
#include "core/tokenize/url/url_intent.hpp"
#include "core/tokenize/url/url_parser.hpp"

namespace {

using namespace vigil::tokenize::url;

void check_span(const Span& s, std::size_t size) {
  if (!s.present) return;
  if (s.begin > s.end || s.end > size) std::abort();
}

void check_url(const Url& u, std::size_t size) {
  if (!u.valid) return;
  check_span(u.scheme_span, size);
  check_span(u.userinfo_span, size);
  check_span(u.host_span, size);
  check_span(u.port_span, size);
  check_span(u.path_span, size);
  check_span(u.query_span, size);
  check_span(u.fragment_span, size);
  if (u.origin_end > size) std::abort();
  // Components appear in order.
  const Span* order[] = {&u.scheme_span, &u.userinfo_span, &u.host_span, &u.port_span,
                         &u.path_span,   &u.query_span,    &u.fragment_span};
  std::uint32_t last = 0;
  for (const Span* s : order) {
    if (!s->present) continue;
    if (s->begin < last) std::abort();
    last = s->end;
  }
  if (u.port < -1 || u.port > 65535) std::abort();
  char buf[400];
  std::size_t n = u.host.serialize(buf, sizeof(buf));
  if (n >= sizeof(buf)) std::abort();
  (void)classify(u.host);
}

bool same(const Url& a, const Url& b) {
  return a.valid == b.valid && (!a.valid || (a.host == b.host && a.port == b.port &&
                                             a.scheme() == b.scheme() &&
                                             a.origin_end == b.origin_end));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  std::size_t cut = all.find('\xFF');
  std::string_view text = all.substr(0, cut);
  std::string_view base_text = cut == std::string_view::npos ? std::string_view()
                                                             : all.substr(cut + 1);
  Url base;
  const Url* bp = nullptr;
  if (!base_text.empty() && parse_url(base_text, nullptr, &base)) {
    check_url(base, base_text.size());
    bp = &base;
  }
  Url u;
  parse_url(text, bp, &u);
  check_url(u, text.size());

  // The same text in three pieces parses the same.
  if (!text.empty()) {
    std::size_t a = data[0] % (text.size() + 1);
    std::size_t b = a + (size > 1 ? data[1] : 0) % (text.size() - a + 1);
    Url pieces;
    parse_url(Text(text.substr(0, a), text.substr(a, b - a), text.substr(b)), bp, &pieces);
    if (!same(u, pieces)) std::abort();
    check_url(pieces, text.size());

    // Intent of a span of the text.
    Intent intent;
    if (build_intent(text, a, b, bp, &intent) && u.valid) (void)host_fits(intent, u);
    char mapped[64];
    (void)map_domain_text(Text(text), a, b, mapped, sizeof(mapped));
  }
  std::uint32_t v4;
  (void)parse_ipv4(text, &v4);
  std::uint16_t v6[8];
  (void)parse_ipv6(text, v6);
  return 0;
}
