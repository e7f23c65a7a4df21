// Finding URLs in request input values, for the SSRF, remote file inclusion and open-redirect
// input detectors (ssrf.cpp, rfi.cpp, open_redirect.cpp).
//
// A value carries a URL in the two ways these attacks use: it is one (the whole value:
// "http://10.0.0.1/", "//evil.example"), or it writes a request target one of whose parameters is
// one ("/index.php?page=http://evil.example/x.txt?", "?next=//evil.example"). Prose that mentions
// a URL ("docs are at http://localhost/ once installed") is neither: parameters are looked for
// only in the value's first space-free run, and a whole value with a space in it is not a URL.
//
// The Referer and Origin headers are URLs by definition: the page the browser came from. Their
// own host tells nothing (a page on an intranet host is normal), so they are "page" units, and
// each of their query parameters, percent-decoded, is read as a value of its own: a search box
// that held "/x.php?inc=http://evil/s.txt" shows up there. Only their raw form is walked (the
// engine's decoded forms of a whole URL mix the levels of encoding of its parameters).
//
// Complexity: linear in the value (each byte is read a bounded number of times; at most
// kMaxUnits units, each decoded into a fixed buffer of kDecodeCap bytes). No allocation.
// Thread safety: reentrant.
#ifndef VIGIL_CORE_DETECT_INPUT_URL_VALUES_HPP_
#define VIGIL_CORE_DETECT_INPUT_URL_VALUES_HPP_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/detect/input/input_detector.hpp"
#include "core/tokenize/url/host.hpp"
#include "core/tokenize/url/url_parser.hpp"

namespace vigil::detect::input::urlv {

namespace url = vigil::tokenize::url;

inline constexpr std::size_t kMaxUnits = 48;
inline constexpr std::size_t kDecodeCap = 2048;
inline constexpr std::size_t kHeadMax = 256;

enum class UnitKind : std::uint8_t {
  kPage,   // the URL of a Referer or Origin header: where the browser was
  kValue,  // the whole value, or one decoded query parameter of a Referer
  kParam,  // a parameter written inside a value: "...?name=text&..." (raw or decoded once)
};

struct UrlUnit {
  std::string_view text;    // leading and trailing white space removed
  std::string_view name;    // the input's name, or the parameter's name
  std::string_view target;  // kParam: the text before the parameter's name, without the
                            // separator ("/index.php" for "/index.php?page=...")
  UnitKind kind = UnitKind::kValue;
  bool decoded = false;     // the walker percent-decoded this text
};

// Calls visit(unit, ctx) for each unit of the candidate, in order, until it returns true;
// returns whether one did.
using UnitVisitor = bool (*)(const UrlUnit& unit, void* ctx);
bool walk_units(const Candidate& c, UnitVisitor visit, void* ctx) noexcept;

// Whether the candidate is a Referer or Origin header.
bool is_page_header(const Candidate& c) noexcept;

// The beginning of a text as the URL parser reads it: leading C0 controls and spaces skipped,
// ASCII tab and newline removed wherever they are, at most kHeadMax bytes.
struct Head {
  char bytes[kHeadMax];
  std::size_t size = 0;
  bool stripped = false;  // a tab, newline or leading control character was dropped
  std::string_view view() const noexcept { return {bytes, size}; }
};
void read_head(std::string_view text, Head* head) noexcept;

// A cheap first test of a unit: how it starts after leading C0 controls and spaces. kScheme:
// with a scheme and its colon ("http:", "java\tscript:"; *scheme gets it lower-cased, tabs and
// newlines removed, in buf); kSlash: with '/' or '\\'. Units that start otherwise are no URLs;
// the detectors look at other first bytes ('@', '%', look-alikes) on their own.
enum class Start : std::uint8_t { kOther, kScheme, kSlash };
Start url_start(std::string_view text, char (&buf)[16], std::string_view* scheme) noexcept;
// The first byte after leading C0 controls and spaces (0 when none).
char first_byte(std::string_view text) noexcept;

// The scheme a head starts with, lower-cased into out (schemes longer than 15 bytes are not
// reported), and the offset just after its colon. Empty when the head starts with no scheme.
std::string_view scheme_of(std::string_view head, char (&out)[16], std::size_t* after) noexcept;

// The number of '/' and '\\' at head[from...].
std::size_t count_slashes(std::string_view head, std::size_t from) noexcept;

// Percent-decodes `in` (and '+' to a space when `plus`) into buf (capacity cap; longer results
// are cut). Invalid escapes are kept as written.
std::string_view percent_decode(std::string_view in, bool plus, char* buf,
                                std::size_t cap) noexcept;

bool has_space(std::string_view s) noexcept;
bool contains_nocase(std::string_view hay, std::string_view needle) noexcept;

// The authority text of a URL whose "//" ends at `from`: up to the first '/', '\\', '?', '#'.
std::string_view authority_at(std::string_view head, std::size_t from) noexcept;
// Whether an authority reads as a host someone could be sent to: letters, digits and dots (or
// an IP literal, percent-escapes, a port) with a dot, a bracket or a number; no white space.
bool host_like(std::string_view authority) noexcept;

// The host as a URL shows it ("127.0.0.1", "[::1]", "evil.example").
std::string host_text(const url::Host& host);
// Where a unit is, for a reason: "the value", "the parameter page written in the value",
// "parameter q of the Referer URL", "the Referer header".
std::string unit_place(const Candidate& c, const UrlUnit& u);
// The host of an authority as written: after the last '@', without a port.
std::string_view written_host(std::string_view authority) noexcept;

// The text of a span of a parsed text.
std::string_view span_text(std::string_view text, const url::Span& span) noexcept;

// A parse base for scheme-relative references: "http://vigil.invalid/" (the host cannot be the
// one the reference names).
const url::Url& http_base() noexcept;
const url::Url& https_base() noexcept;

// Parameter names that hold a redirect target ("next", "returnTo", "redirect_uri", ...),
// compared without case, '_' and '-'.
bool is_redirect_name(std::string_view name) noexcept;
// Parameter names that hold a link to show or share rather than something to load ("url",
// "link", "href", "ref", "share", "image" ...).
bool is_link_name(std::string_view name) noexcept;
// Parameter names that hold an address to fetch ("url", "uri", "host", "endpoint", "webhook",
// "proxy", "feed" ...).
bool is_fetch_name(std::string_view name) noexcept;

}  // namespace vigil::detect::input::urlv

#endif  // VIGIL_CORE_DETECT_INPUT_URL_VALUES_HPP_
