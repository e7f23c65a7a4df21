#include "core/tokenize/url/url_intent.hpp"

namespace vigil::tokenize::url {
namespace {

bool parse_replaced(std::string_view text, std::size_t begin, std::size_t end,
                    std::string_view placeholder, const Url* base, Url* out) noexcept {
  Text t(text.substr(0, begin), placeholder, text.substr(end));
  return parse_url(t, base, out);
}

// Whether [pos, pos + len) lies in the span (for an empty placeholder: touches it).
bool in_span(const Span& s, std::size_t pos, std::size_t len) noexcept {
  if (!s.present) return false;
  if (len == 0) return pos >= s.begin && pos <= s.end;
  return pos >= s.begin && pos < s.end;
}

std::size_t map_part(const Text& t, std::size_t b, std::size_t e, char* out, bool* truncated) {
  if (b >= e) return 0;
  std::size_t n = map_domain_text(t, b, e, out, Host::kMaxName);
  if (n > Host::kMaxName) {
    *truncated = true;
    return Host::kMaxName;
  }
  return n;
}

}  // namespace

std::string_view placement_name(Placement p) noexcept {
  switch (p) {
    case Placement::kUnknown: return "unknown";
    case Placement::kScheme: return "scheme";
    case Placement::kUserinfo: return "userinfo";
    case Placement::kHost: return "host";
    case Placement::kPort: return "port";
    case Placement::kPath: return "path";
    case Placement::kQuery: return "query";
    case Placement::kFragment: return "fragment";
    case Placement::kOther: return "other";
  }
  return "?";
}

bool build_intent(std::string_view text, std::size_t begin, std::size_t end, const Url* base,
                  Intent* out) noexcept {
  static constexpr std::string_view kPlaceholders[] = {"x", "1", ""};
  out->placement = Placement::kUnknown;
  out->whole_host = out->glued_end = out->fixed_valid = out->affix_truncated = false;
  out->prefix_len = out->suffix_len = 0;
  bool valid = false;
  for (std::string_view p : kPlaceholders) {
    if (parse_replaced(text, begin, end, p, base, &out->url)) {
      out->placeholder = p;
      valid = true;
      break;
    }
  }
  if (!valid) return false;
  const Url& u = out->url;
  const std::size_t len = out->placeholder.size();
  if (in_span(u.host_span, begin, len) && !u.authority_from_base) {
    out->placement = Placement::kHost;
  } else if (in_span(u.scheme_span, begin, len) && !u.scheme_from_base) {
    out->placement = Placement::kScheme;
  } else if (in_span(u.userinfo_span, begin, len)) {
    out->placement = Placement::kUserinfo;
  } else if (in_span(u.port_span, begin, len)) {
    out->placement = Placement::kPort;
  } else if (in_span(u.path_span, begin, len)) {
    out->placement = Placement::kPath;
  } else if (in_span(u.query_span, begin, len)) {
    out->placement = Placement::kQuery;
  } else if (in_span(u.fragment_span, begin, len)) {
    out->placement = Placement::kFragment;
  } else {
    out->placement = Placement::kOther;
  }
  if (out->placement != Placement::kHost) return true;

  Text t(text.substr(0, begin), out->placeholder, text.substr(end));
  out->prefix_len = map_part(t, u.host_span.begin, begin, out->prefix, &out->affix_truncated);
  out->suffix_len = map_part(t, begin + len, u.host_span.end, out->suffix, &out->affix_truncated);
  out->whole_host = out->prefix_len == 0 && out->suffix_len == 0;
  out->glued_end = out->prefix_len > 0 && out->suffix_len == 0 &&
                   out->prefix[out->prefix_len - 1] != '.';
  if (out->glued_end) {
    Url fixed;
    out->fixed_valid = parse_replaced(text, begin, end, "", base, &fixed);
    if (out->fixed_valid) out->fixed_host = fixed.host;
  }
  return true;
}

bool host_fits(const Intent& intent, const Url& real) noexcept {
  switch (intent.placement) {
    case Placement::kUnknown:
      return false;
    case Placement::kHost:
      break;
    default:
      return real.host == intent.url.host;
  }
  if (intent.whole_host) return true;
  std::string_view prefix = intent.host_prefix(), suffix = intent.host_suffix();
  if (intent.glued_end) {
    if (intent.fixed_valid) return real.host == intent.fixed_host;
    return real.host.kind == HostKind::kDomain && real.host.name() == prefix;
  }
  if (real.host.kind == HostKind::kDomain || real.host.kind == HostKind::kOpaque) {
    if (real.host.name_size() < prefix.size() + suffix.size()) return false;
    if (!real.host.name_starts_with(prefix)) return false;
    if (intent.affix_truncated) return true;
    return real.host.name_ends_with(suffix);
  }
  char buf[64];
  std::size_t n = real.host.serialize(buf, sizeof(buf));
  std::string_view s(buf, n);
  return s.size() >= prefix.size() + suffix.size() && s.substr(0, prefix.size()) == prefix &&
         s.substr(s.size() - suffix.size()) == suffix;
}

bool intent_is_internal(std::string_view text, std::size_t begin, std::size_t end,
                        const Url* base, const Intent& intent) noexcept {
  if (intent.placement == Placement::kUnknown) return false;
  if (is_internal(classify(intent.url.host).cls)) return true;
  if (intent.placement != Placement::kHost || intent.whole_host) return false;
  if (intent.glued_end && intent.fixed_valid && is_internal(classify(intent.fixed_host).cls))
    return true;
  Url numeric;
  return parse_replaced(text, begin, end, "1", base, &numeric) &&
         is_internal(classify(numeric.host).cls);
}

}  // namespace vigil::tokenize::url
