// What an application meant a URL to be, when part of it came from an input.
//
// The application's own text is the URL with the input's span [begin, end) replaced by a neutral
// placeholder ("x"; "1" where only a number parses, as in a port; nothing when neither does).
// Parsing that tells which component the input was placed in (the host, a subdomain label, the
// path...) and what the application fixed around it. host_fits() then says whether the URL as
// actually parsed keeps what the application fixed:
//   * input outside the host (path, query, fragment, userinfo, port): the same host;
//   * input is the whole host ("http://" + input + "/x"): any host (classification decides);
//   * input is a label or part of one, between fixed text ("https://" + input + ".cdn.net"):
//     a host that still begins and ends with the fixed text;
//   * input appended to a complete host ("https://api.example.com" + input, where the
//     application expects a path): the host of the application's text alone.
//
// Complexity: each function parses the URL a bounded number of times (linear each); no
// allocation. Thread safety: reentrant.
#ifndef VIGIL_CORE_TOKENIZE_URL_URL_INTENT_HPP_
#define VIGIL_CORE_TOKENIZE_URL_URL_INTENT_HPP_

#include <cstddef>
#include <string_view>

#include "core/tokenize/url/host.hpp"
#include "core/tokenize/url/url_parser.hpp"

namespace vigil::tokenize::url {

enum class Placement : std::uint8_t {
  kUnknown,   // the application's text does not parse even with a placeholder
  kScheme,
  kUserinfo,
  kHost,
  kPort,
  kPath,
  kQuery,
  kFragment,
  kOther,     // between components (a delimiter) or in a part the URL does not have
};

std::string_view placement_name(Placement p) noexcept;

struct Intent {
  Placement placement = Placement::kUnknown;
  std::string_view placeholder;
  Url url;  // the parse of the application's text with the placeholder (valid unless kUnknown)

  // kHost only.
  bool whole_host = false;  // the placeholder is the entire host
  bool glued_end = false;   // the input was appended to a complete host label
  bool fixed_valid = false; // glued_end: the application's text alone parsed
  Host fixed_host;          // glued_end: its host
  // The host text the application fixed before and after the input, mapped as hosts are.
  char prefix[Host::kMaxName] = {};
  char suffix[Host::kMaxName] = {};
  std::size_t prefix_len = 0;
  std::size_t suffix_len = 0;
  bool affix_truncated = false;

  std::string_view host_prefix() const noexcept { return {prefix, prefix_len}; }
  std::string_view host_suffix() const noexcept { return {suffix, suffix_len}; }
};

// Builds the intent of `text` whose [begin, end) came from an input, resolved against `base`
// (may be null). Returns out->placement != kUnknown.
bool build_intent(std::string_view text, std::size_t begin, std::size_t end, const Url* base,
                  Intent* out) noexcept;

// Whether the host of `real` (the parse of the whole text) is one the application allowed.
bool host_fits(const Intent& intent, const Url& real) noexcept;

// Whether the application's own text already points at an internal host where the input sits
// in the host: tried with a numeric placeholder, so that "http://10.0.0." + input counts as the
// application's choice of a private network.
bool intent_is_internal(std::string_view text, std::size_t begin, std::size_t end,
                        const Url* base, const Intent& intent) noexcept;

}  // namespace vigil::tokenize::url

#endif  // VIGIL_CORE_TOKENIZE_URL_URL_INTENT_HPP_
