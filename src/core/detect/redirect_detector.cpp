// Open redirect: did an input send the browser to another origin?
//
// The redirect target is resolved with the WHATWG parser (tokenize/url) against the page it is
// served from (Sink::base). A target that does not parse is not followed; one that stays on the
// page's origin is harmless ("https:evil.example" is a path on the same origin). Otherwise an
// occurrence of an input is convicted when it made the difference:
//
//  * an input that starts the target (it is the whole "next" URL, or its beginning) is convicted
//    when it covers the part that changed the origin: the scheme (including javascript: and
//    data: with their opaque origins), the host (also when it created the authority with "//",
//    "/\" or "\\"), or the port;
//  * an input placed inside the application's text is compared with what the application meant
//    (the target with the input replaced by a placeholder, see url_intent.hpp): a different
//    origin than that is the input's doing, except where the application let the input fill a
//    label of its own host and the host kept the application's fixed parts.
// An input that only filled part of the application's scheme or host (url_spans.hpp: "ps" in its
// "https", "om" in its "example.com") is not judged: such short words are found there by chance.
#include <algorithm>
#include <span>
#include <string>

#include "core/common/ascii.hpp"
#include "core/detect/detector.hpp"
#include "core/detect/input/url_values.hpp"
#include "core/detect/url_spans.hpp"
#include "core/tokenize/url/host.hpp"
#include "core/tokenize/url/url_intent.hpp"
#include "core/tokenize/url/url_parser.hpp"

namespace vigil::detect {
namespace {

namespace url = vigil::tokenize::url;

constexpr int kMaxOccurrencesPerInput = 16;

std::string origin_text(const url::Url& u) {
  if (!url::has_tuple_origin(u)) return std::string(u.scheme()) + ": URL";
  char buf[300];
  std::size_t n = u.host.serialize(buf, sizeof(buf));
  std::string s(u.scheme());
  s += "://";
  s.append(buf, n);
  if (u.port != -1) s += ":" + std::to_string(u.port);
  return s;
}

bool same_scheme(const url::Url& a, const url::Url& b) {
  return a.scheme_size() == b.scheme_size() && a.scheme() == b.scheme();
}

// Whether [b, e) covers a component of `real` that differs from the page's origin.
bool covers_change(const url::Url& real, const url::Url* base, std::uint32_t b, std::uint32_t e) {
  const bool opaque = !url::has_tuple_origin(real);
  const bool diff_scheme = base == nullptr || !same_scheme(real, *base);
  const bool diff_host = base == nullptr || !(real.host == base->host);
  const bool diff_port = base == nullptr || real.effective_port() != base->effective_port();
  if ((opaque || diff_scheme) && !real.scheme_from_base && real.scheme_span.overlaps(b, e))
    return true;
  if (diff_host && !real.authority_from_base &&
      (real.host_span.overlaps(b, e) || real.userinfo_span.overlaps(b, e)))
    return true;
  if (diff_port && real.port_span.overlaps(b, e)) return true;
  return false;
}

// Whether the input at [b, e) changed the target's origin from what the application meant.
bool changed_origin(std::string_view text, const url::Url& real, const url::Url* base,
                    std::size_t start, std::uint32_t b, std::uint32_t e) {
  if (b <= start) return covers_change(real, base, b, e);
  url::Intent intent;
  if (!url::build_intent(text, b, e, base, &intent)) return covers_change(real, base, b, e);
  const url::Url& meant = intent.url;
  if (intent.placement == url::Placement::kHost) {
    if (intent.whole_host) return true;  // the input chooses the host of the redirect
    if (intent.glued_end && !intent.fixed_valid) return covers_change(real, base, b, e);
    return !(same_scheme(meant, real) && meant.effective_port() == real.effective_port() &&
             url::host_fits(intent, real));
  }
  const bool meant_tuple = url::has_tuple_origin(meant);
  const bool real_tuple = url::has_tuple_origin(real);
  if (meant_tuple && real_tuple) return !url::same_origin(meant, real);
  if (!meant_tuple && !real_tuple) return !same_scheme(meant, real);
  return true;
}

// True when `text`, whose URL starts at `start` (past the C0 controls and spaces the parser
// strips), stays on the origin of the page `base` by its first bytes alone, as the parser would
// find: after the tabs and line breaks it strips anywhere, a "/" or "\\" not followed by another
// starts a path, and the page's scheme, host and port are kept when the page is http(s). With a
// base that does not parse, such a target does not parse either: not followed. Either way there
// is nothing to convict, and the two parses, most of a redirect's check, are not needed (an
// application's redirects are mostly to its own paths).
bool stays_by_its_start(std::string_view text, std::size_t start, std::string_view base) noexcept {
  if (!common::istarts_with(base, "http://") && !common::istarts_with(base, "https://"))
    return false;
  std::size_t i = start;
  if (i == text.size() || (text[i] != '/' && text[i] != '\\')) return false;
  for (++i; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\t' || c == '\n' || c == '\r') continue;
    return c != '/' && c != '\\';
  }
  return true;  // "/" alone
}

// A redirect's target resolved against its page.
struct Resolved {
  std::size_t start = 0;  // where the URL starts, past the C0 controls and spaces it strips
  bool has_base = false;
  url::Url base;
  url::Url real;
  const url::Url* base_ptr() const noexcept { return has_base ? &base : nullptr; }
};

// Resolves the sink's target; false when nothing can be convicted: it stays on the page's
// origin by its first bytes, does not parse (not followed), or keeps the page's origin.
bool resolve(const Sink& sink, Resolved* r) {
  const std::string_view text = sink.value;
  while (r->start < text.size() && static_cast<unsigned char>(text[r->start]) <= 0x20) ++r->start;
  if (stays_by_its_start(text, r->start, sink.base)) return false;
  r->has_base = !sink.base.empty() && url::parse_url(sink.base, nullptr, &r->base);
  if (!url::parse_url(text, r->base_ptr(), &r->real)) return false;
  return !(r->has_base && url::same_origin(r->real, r->base));
}

// A component's text, or nothing when the span is absent or not in `text`.
std::string_view span_text(std::string_view text, const url::Span& s) {
  if (!s.present || s.begin > s.end || s.end > text.size()) return {};
  return text.substr(s.begin, s.end - s.begin);
}

// The path a request for the URL asks for: a special URL's empty path is "/".
std::string_view request_path(std::string_view text, const url::Url& u) {
  std::string_view p = span_text(text, u.path_span);
  return p.empty() && u.special ? std::string_view("/") : p;
}

// Whether an input could name an authority of its own once parsed: it starts (as the parser
// reads it) with a scheme, or with two slashes of either kind. Most inputs are words and
// numbers: they are not parsed.
bool may_name_authority(std::string_view v) {
  char buf[16];
  std::string_view scheme;
  switch (input::urlv::url_start(v, buf, &scheme)) {
    case input::urlv::Start::kScheme:
      return true;
    case input::urlv::Start::kSlash: {
      input::urlv::Head head;
      input::urlv::read_head(v, &head);
      return input::urlv::count_slashes(head.view(), 0) >= 2;
    }
    case input::urlv::Start::kOther:
      break;
  }
  return false;
}

// The rewritten-target rule (detect_rewritten_redirect) on a target that leaves its page's
// origin, resolved once for it and the occurrences' judgement alike.
void convict_rewrite(const Sink& sink, const Resolved& r, std::span<const Input> inputs,
                     std::vector<Detection>* out) {
  const std::string_view text = sink.value;
  const url::Url& real = r.real;
  if (!url::has_tuple_origin(real)) return;
  const std::string_view real_path = request_path(text, real);
  const std::string_view real_query = span_text(text, real.query_span);
  for (std::uint32_t i = 0; i < inputs.size(); ++i) {
    const std::string_view v = inputs[i].value;
    if (!may_name_authority(v)) continue;
    url::Url named;
    if (!url::parse_url(v, r.base_ptr(), &named) || named.authority_from_base ||
        !url::has_tuple_origin(named) || !(named.host == real.host))
      continue;
    if (r.has_base && named.host == r.base.host) continue;  // the site's own host, spelled anew
    if (request_path(v, named) != real_path ||
        named.query_span.present != real.query_span.present ||
        span_text(v, named.query_span) != real_query)
      continue;
    Detection d;
    d.input = i;
    d.form = Form::kRaw;
    d.begin = real.host_span.begin;
    d.end = real.host_span.end;
    d.reason = "input names the host the redirect sends to, " + origin_text(real) +
               ", with its path and query: the server rewrote the input into the target";
    if (r.has_base) d.reason += " (the site's origin is " + origin_text(r.base) + ")";
    d.tokens.push_back(note_token("host", span_text(text, real.host_span), real.host_span.begin,
                                  real.host_span.end));
    out->push_back(std::move(d));
    return;  // one input is the redirect's author; the verdict needs no more
  }
}

}  // namespace

void detect_redirect(const SinkCheck& check, std::vector<Detection>* out) {
  Resolved r;
  if (!resolve(*check.sink, &r)) return;
  const std::string_view text = check.sink->value;
  const std::size_t start = r.start;
  const bool has_base = r.has_base;
  const url::Url& base = r.base;
  const url::Url* base_ptr = r.base_ptr();
  const url::Url& real = r.real;

  const std::size_t first = out->size();
  // Each occurrence judged costs a few parses of the text: bound the total work.
  std::size_t budget = std::max<std::size_t>(std::size_t(64) << 10, 8 * text.size());
  int examined[64] = {};
  std::uint32_t examined_end[64] = {};  // end of the longest occurrence judged, per input
  for (const Occurrence& o : check.occurrences) {
    if (o.begin > real.origin_end) continue;  // path, query or fragment of a settled origin
    bool done = false;
    for (std::size_t k = first; k < out->size(); ++k) done = done || (*out)[k].input == o.input;
    if (done) continue;
    // A shorter form of an input inside an occurrence already judged (the url-decoded form
    // within the raw one) is a fragment of the input, not the input: skip it.
    const std::uint32_t slot = o.input % 64;
    if (examined[slot] > 0 && o.end <= examined_end[slot] && o.begin < examined_end[slot])
      continue;
    if (++examined[slot] > kMaxOccurrencesPerInput) continue;
    examined_end[slot] = std::max(examined_end[slot], o.end);
    if (inert_in_origin(text, real, o.begin, o.end)) continue;
    const std::size_t cost = 4 * text.size() + 64;
    if (cost > budget) break;
    budget -= cost;
    if (!changed_origin(text, real, base_ptr, start, o.begin, o.end)) continue;

    Detection d;
    d.input = o.input;
    d.form = o.form;
    d.element = o.element;
    d.begin = o.begin;
    d.end = o.end;
    if (!url::has_tuple_origin(real)) {
      d.reason = "input made the redirect target a " + std::string(real.scheme()) +
                 ": URL, whose opaque origin is not the site's";
    } else {
      d.reason = "input sends the redirect to " + origin_text(real);
      if (has_base) d.reason += " instead of the site's origin " + origin_text(base);
    }
    auto note = [&](std::string_view kind, const url::Span& s) {
      if (s.present && s.begin <= text.size()) {
        std::size_t end = std::min<std::size_t>(s.end, text.size());
        d.tokens.push_back(note_token(kind, text.substr(s.begin, end - s.begin), s.begin, s.end));
      }
    };
    if (!real.scheme_from_base) note("scheme", real.scheme_span);
    if (!real.authority_from_base) {
      note("userinfo", real.userinfo_span);
      note("host", real.host_span);
      note("port", real.port_span);
    }
    out->push_back(std::move(d));
  }
  // The inputs that occur did not move the redirect; one the server rewrote may have.
  if (out->size() == first) convict_rewrite(*check.sink, r, check.inputs, out);
}

void detect_rewritten_redirect(const Sink& sink, std::span<const Input> inputs,
                               std::vector<Detection>* out) {
  Resolved r;
  if (!inputs.empty() && resolve(sink, &r)) convict_rewrite(sink, r, inputs, out);
}

}  // namespace vigil::detect
