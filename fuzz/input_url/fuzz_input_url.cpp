// The URL-shaped input detectors (SSRF, remote file inclusion, open redirect) and the URL
// units they share (detect/input/url_values). The first byte picks the form and where the
// value came from (a Referer header, which is walked as a page with parameters, or a
// parameter named for an address to fetch, a redirect target or nothing in particular); the
// rest is the value.
//
// Checks: the walk yields at most kMaxUnits units, each no longer than the unit cap and with
// no leading or trailing white space; the helpers that read a unit stay within it; every
// conviction explains itself and shows evidence; a clean verdict leaves the hit empty; the
// verdicts are deterministic.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/detect/input/input_detector.hpp"
#include "core/detect/input/url_values.hpp"

using namespace vigil::detect::input;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

struct WalkState {
  std::size_t units = 0;
};

bool visit(const urlv::UrlUnit& u, void* ctx) {
  auto* st = static_cast<WalkState*>(ctx);
  if (++st->units > urlv::kMaxUnits) fail("too many units");
  if (u.text.size() > 4096) fail("unit longer than the cap");
  if (!u.text.empty() && (static_cast<unsigned char>(u.text.front()) <= 0x20 ||
                          static_cast<unsigned char>(u.text.back()) <= 0x20))
    fail("unit not trimmed");
  urlv::Head h;
  urlv::read_head(u.text, &h);
  if (h.size > urlv::kHeadMax) fail("head too long");
  const std::string_view head = h.view();
  char buf[16];
  std::string_view scheme;
  urlv::url_start(u.text, buf, &scheme);
  if (scheme.size() > sizeof(buf)) fail("url_start scheme too long");
  std::size_t after = 0;
  char sbuf[16];
  const std::string_view s = urlv::scheme_of(head, sbuf, &after);
  if (!s.empty() && (after > head.size() || s.size() > sizeof(sbuf))) fail("scheme_of out of bounds");
  const std::size_t slashes = urlv::count_slashes(head, after);
  if (after + slashes > head.size()) fail("count_slashes out of bounds");
  const std::string_view authority = urlv::authority_at(head, after + slashes);
  if (authority.size() > head.size()) fail("authority out of bounds");
  urlv::host_like(authority);
  const std::string_view host = urlv::written_host(authority);
  if (host.size() > authority.size()) fail("written host out of bounds");
  return false;  // walk every unit
}

template <typename Fn>
void check(Fn fn, const Candidate& c) {
  Hit hit;
  const bool fired = fn(c, &hit);
  if (fired && (hit.reason.empty() || hit.evidence.empty())) fail("conviction without reason");
  if (!fired && (!hit.reason.empty() || !hit.evidence.empty())) fail("clean verdict with a hit");
  Hit again;
  if (fn(c, &again) != fired || again.reason != hit.reason) fail("verdict not deterministic");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr std::string_view kNames[] = {"Referer", "url", "next", "q"};
  const std::string_view name = kNames[data[0] & 3];
  const auto source = name == "Referer" ? vigil::Source::kHeader : vigil::Source::kQuery;
  const auto form = static_cast<vigil::Form>((data[0] >> 2) % 8);
  std::string_view value(reinterpret_cast<const char*>(data + 1), size - 1);
  Candidate c{value, features_of(value), form, 0, source, name};

  WalkState st;
  if (urlv::walk_units(c, &visit, &st)) fail("walk stopped");  // the visitor never stops the walk

  check(&detect_ssrf, c);
  check(&detect_rfi, c);
  check(&detect_open_redirect, c);
  return 0;
}
