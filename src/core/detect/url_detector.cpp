// Server-side request forgery: did an input choose where an outbound request goes?
//
// The URL is parsed once with the WHATWG parser (tokenize/url). A URL that does not parse makes
// no request, so nothing is convicted. For each occurrence of an input that starts before the
// parser settled the origin (text after that point is path, query or fragment and cannot move
// the request), two situations are told apart:
//
//  * the input supplies the URL itself (it covers the scheme): it is convicted when it points
//    the request at an internal host (loopback, private, link-local, cloud metadata,
//    unspecified..., in any numeric, IPv6-embedded or IDNA spelling) or uses a scheme that
//    reaches non-HTTP services (file, gopher, dict, ldap, ftp, jar, ...);
//  * the application fixed the scheme and host around the input: the URL is parsed again with
//    the input replaced by a neutral placeholder (see url_intent.hpp) and the input is
//    convicted when the scheme, the port or the host differs from what the application fixed
//    (userinfo tricks "@", "#", "\", "?" that move the authority included), or when the host it
//    produced is internal and the application's was not.
// An input that only filled part of the application's scheme or host (url_spans.hpp: "ps" in its
// "https", "om" in its "example.com") is not judged: such short words are found there by chance.
#include <algorithm>
#include <string>

#include "core/detect/detector.hpp"
#include "core/detect/url_spans.hpp"
#include "core/tokenize/url/host.hpp"
#include "core/tokenize/url/url_intent.hpp"
#include "core/tokenize/url/url_parser.hpp"

namespace vigil::detect {
namespace {

namespace url = vigil::tokenize::url;

// Occurrences examined per input: enough for any real URL, bounded for pathological ones
// (each costs a few linear parses).
constexpr int kMaxOccurrencesPerInput = 16;

// Schemes whose clients reach non-HTTP services or local files. (data: and javascript: make no
// request at all.)
bool is_dangerous_scheme(std::string_view s) noexcept {
  static constexpr std::string_view kSchemes[] = {
      "file",  "gopher", "dict",   "ftp",  "ftps", "sftp",          "tftp",
      "ldap",  "ldaps",  "ldapi",  "jar",  "netdoc", "php",         "phar",
      "expect", "glob",  "zip",    "rar",  "ogg",  "compress.zlib", "compress.bzip2",
      "ssh2.shell", "ssh2.exec", "ssh2.sftp", "ssh2.scp", "ssh2.tunnel", "smb", "telnet",
  };
  for (std::string_view k : kSchemes)
    if (s == k) return true;
  return false;
}

// Schemes an HTTP client library fetches; an unknown scheme makes no request, so where its host
// points does not matter.
bool is_request_scheme(std::string_view s) noexcept {
  return s == "http" || s == "https" || s == "ws" || s == "wss" || is_dangerous_scheme(s);
}

std::string host_text(const url::Host& h) {
  char buf[300];
  std::size_t n = h.serialize(buf, sizeof(buf));
  if (n == 0) return h.kind == url::HostKind::kEmpty ? "(empty)" : "(none)";
  return std::string(buf, n);
}

std::string_view span_text(std::string_view text, const url::Span& s) {
  if (!s.present || s.begin > text.size()) return {};
  return text.substr(s.begin, std::min<std::size_t>(s.end, text.size()) - s.begin);
}

std::string describe_class(const url::HostInfo& info) {
  std::string s(url::host_class_name(info.cls));
  if (info.embedding != url::Embedding::kNone) {
    s += " (";
    s += url::embedding_name(info.embedding);
    s += ")";
  }
  return s;
}

// Notes the URL components the input created or crossed.
void note_components(std::string_view text, const url::Url& u, std::uint32_t b, std::uint32_t e,
                     Detection* d) {
  auto note = [&](std::string_view kind, const url::Span& s) {
    if (s.overlaps(b, e) || (s.present && kind == "host"))
      d->tokens.push_back(note_token(kind, span_text(text, s), s.begin, s.end));
  };
  if (!u.scheme_from_base) note("scheme", u.scheme_span);
  note("userinfo", u.userinfo_span);
  if (!u.authority_from_base) note("host", u.host_span);
  note("port", u.port_span);
}

struct Finding {
  std::string reason;
};

// Judges one occurrence; returns true with *f filled when the input changed the destination.
bool judge(std::string_view text, const url::Url& real, const url::HostInfo& real_info,
           std::uint32_t b, std::uint32_t e, Finding* f) {
  if (!is_request_scheme(real.scheme())) return false;  // no client fetches it
  const bool covers_scheme = real.scheme_span.present && b <= real.scheme_span.begin &&
                             e > real.scheme_span.begin;
  // Strings are built only for a conviction: judging allocates nothing otherwise.
  auto real_host = [&real] { return host_text(real.host); };
  if (covers_scheme) {
    if (is_dangerous_scheme(real.scheme())) {
      f->reason = "input set the URL scheme to " + std::string(real.scheme()) +
                  ":, which reaches local files or non-HTTP services";
      return true;
    }
    if (url::is_internal(real_info.cls) && real.host_span.overlaps(b, e)) {
      f->reason = "input points the request at " + real_host() + ", a " +
                  describe_class(real_info) + " host";
      std::string_view written = span_text(text, real.host_span);
      if (!written.empty() && written != real_host())
        f->reason += " (written " + std::string(written.substr(0, 80)) + ")";
      return true;
    }
    return false;
  }

  url::Intent intent;
  if (!url::build_intent(text, b, e, nullptr, &intent)) {
    // The application's text does not parse without the input: judge what the input wrote.
    if (url::is_internal(real_info.cls) && real.host_span.overlaps(b, e)) {
      f->reason = "input points the request at " + real_host() + ", a " +
                  describe_class(real_info) + " host";
      return true;
    }
    if (is_dangerous_scheme(real.scheme()) && real.scheme_span.overlaps(b, e)) {
      f->reason = "input set the URL scheme to " + std::string(real.scheme()) + ":";
      return true;
    }
    return false;
  }
  const url::Url& meant = intent.url;
  if (intent.placement != url::Placement::kScheme &&
      (meant.scheme_size() != real.scheme_size() || meant.scheme() != real.scheme())) {
    f->reason = "input changed the URL scheme from " + std::string(meant.scheme()) + ": to " +
                std::string(real.scheme()) + ":";
    return true;
  }
  if (!url::host_fits(intent, real)) {
    std::string meant_host = intent.glued_end && intent.fixed_valid
                                 ? host_text(intent.fixed_host)
                                 : host_text(meant.host);
    if (intent.placement == url::Placement::kHost && !intent.glued_end) {
      f->reason = "input moved the request from the application's host " +
                  std::string(intent.host_prefix()) + "*" + std::string(intent.host_suffix()) +
                  " to " + real_host();
    } else if (intent.glued_end && real.host.kind == url::HostKind::kDomain &&
               real.host.name_starts_with(meant_host) && real.host_span.overlaps(b, e)) {
      f->reason = "input extended the host " + meant_host + " to " + real_host();
    } else {
      f->reason = "input moved the request from host " + meant_host + " to " + real_host();
    }
    if (real.userinfo_span.present && real.userinfo_span.begin < b)
      f->reason += ", turning the application's text before it into userinfo";
    if (url::is_internal(real_info.cls)) f->reason += ", a " + describe_class(real_info) + " host";
    return true;
  }
  if (intent.placement != url::Placement::kPort &&
      meant.effective_port() != real.effective_port()) {
    f->reason = "input changed the port of " + real_host() + " from " +
                std::to_string(meant.effective_port()) + " to " +
                std::to_string(real.effective_port());
    return true;
  }
  // An input that only filled a label between the application's own host text ("http://10.0.0."
  // + input) stayed data; one that supplies the whole host chose where the request goes.
  const bool chose_host = intent.placement != url::Placement::kHost || intent.whole_host;
  if (chose_host && url::is_internal(real_info.cls) &&
      !url::intent_is_internal(text, b, e, nullptr, intent)) {
    f->reason = "input made the request's host " + real_host() + ", a " +
                describe_class(real_info) + " host";
    return true;
  }
  if (intent.placement == url::Placement::kScheme && is_dangerous_scheme(real.scheme()) &&
      !is_dangerous_scheme(meant.scheme())) {
    f->reason = "input set the URL scheme to " + std::string(real.scheme()) + ":";
    return true;
  }
  return false;
}

}  // namespace

void detect_url(const SinkCheck& check, std::vector<Detection>* out) {
  const std::string_view text = check.sink->value;
  url::Url real;
  if (!url::parse_url(text, nullptr, &real)) return;  // no request is made
  const url::HostInfo real_info = url::classify(real.host);

  const std::size_t first = out->size();
  // Each occurrence judged costs a few parses of the text: bound the total work.
  std::size_t budget = std::max<std::size_t>(std::size_t(64) << 10, 8 * text.size());
  int examined[64] = {};
  std::uint32_t examined_end[64] = {};  // end of the longest occurrence judged, per input
  for (const Occurrence& o : check.occurrences) {
    if (o.begin > real.origin_end) continue;  // path, query or fragment: cannot move it
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
    Finding f;
    if (!judge(text, real, real_info, o.begin, o.end, &f)) continue;
    Detection d;
    d.input = o.input;
    d.form = o.form;
    d.element = o.element;
    d.begin = o.begin;
    d.end = o.end;
    d.reason = std::move(f.reason);
    note_components(text, real, o.begin, o.end, &d);
    out->push_back(std::move(d));
  }
}

}  // namespace vigil::detect
