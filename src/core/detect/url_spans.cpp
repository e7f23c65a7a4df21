#include "core/detect/url_spans.hpp"

#include "core/common/ascii.hpp"

namespace vigil::detect {
namespace {

bool all_digits(std::string_view s) noexcept {
  for (char c : s)
    if (!common::is_digit(c)) return false;
  return !s.empty();
}

// Whether `label` (as written) may be a whole top-level domain: any two letters (country codes),
// the generic ones most hosts end in, and names that internal networks use. A label the list
// misses is read as unfinished, which only spares a word that finishes it.
bool may_be_top_level_domain(std::string_view label) noexcept {
  if (label.size() == 2 && common::is_alpha(label[0]) && common::is_alpha(label[1])) return true;
  static constexpr std::string_view kNames[] = {
      "com",  "net",   "org",   "edu",   "gov",    "mil",  "int",   "info",   "biz",
      "name", "pro",   "aero",  "coop",  "museum", "mobi", "asia",  "tel",    "travel",
      "jobs", "cat",   "post",  "arpa",  "dev",    "app",  "cloud", "online", "site",
      "tech", "store", "shop",  "blog",  "xyz",    "top",  "club",  "local",  "internal",
      "lan",  "corp",  "home",  "test",  "example", "invalid", "svc", "cluster"};
  for (std::string_view n : kNames)
    if (common::iequals(label, n)) return true;
  return all_digits(label);  // an IPv4 address's last number
}

// The host cases of inert_in_origin().
bool inert_inside_host(std::string_view text, const tokenize::url::Url& u, std::uint32_t b,
                       std::uint32_t e) noexcept {
  if (!u.host_span.present || u.authority_from_base) return false;
  if (b <= u.host_span.begin || e > u.host_span.end || e > text.size()) return false;
  const bool ends_host = e == u.host_span.end;
  if (ends_host) {
    if (text[u.host_span.begin] == '[') return false;  // an IPv6 address
    std::uint32_t label = b;
    while (label > u.host_span.begin && text[label - 1] != '.') --label;
    if (label == b) return false;
    const std::string_view written = text.substr(label, b - label);
    // A one-label host is a machine's name: whole only as "localhost" (or a number).
    const bool whole = label == u.host_span.begin
                           ? common::iequals(written, "localhost") || all_digits(written)
                           : may_be_top_level_domain(written);
    if (whole) return false;
  }
  for (std::uint32_t i = b; i < e; ++i) {
    const char c = text[i];
    bool ok = common::is_alnum(c) || c == '-';
    if (!ends_host)
      for (char s : std::string_view("_.~!$&'()*+,;=")) ok = ok || c == s;
    if (!ok) return false;
  }
  return true;
}

// The scheme case of inert_in_origin().
bool inert_inside_scheme(std::string_view text, const tokenize::url::Url& u, std::uint32_t b,
                         std::uint32_t e) noexcept {
  if (!u.scheme_span.present || u.scheme_from_base) return false;
  if (b < u.scheme_span.begin || e > u.scheme_span.end || b >= e || e > text.size()) return false;
  for (std::uint32_t i = b; i < e; ++i)
    if (!common::is_alnum(text[i])) return false;
  const std::string_view s = u.scheme();
  return s == "http" || s == "https" || s == "ws" || s == "wss";
}

}  // namespace

bool inert_in_origin(std::string_view text, const tokenize::url::Url& u, std::uint32_t b,
                     std::uint32_t e) noexcept {
  return inert_inside_scheme(text, u, b, e) || inert_inside_host(text, u, b, e);
}

}  // namespace vigil::detect
