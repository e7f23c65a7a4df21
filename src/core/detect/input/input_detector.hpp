// The contract between the request analyzer and the input-analysis detectors.
//
// Input analysis looks at one input value at a time (each decoded form of it), the way a WAF
// does, but with the project's language tokenizers: an input is an SQL injection attempt when,
// placed where an application would put it (string literal, number, identifier), it stops
// being one literal and forms SQL; likewise for shell, HTML, URLs and paths.
//
// The analyzer computes a character-feature mask of each form once, then calls only the
// detectors whose prefilter mask it intersects: the common benign input ("desk lamp", "42")
// touches no detector at all.
#ifndef VIGIL_CORE_DETECT_INPUT_INPUT_DETECTOR_HPP_
#define VIGIL_CORE_DETECT_INPUT_INPUT_DETECTOR_HPP_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "vigil/analysis.hpp"
#include "vigil/engine.hpp"

namespace vigil::detect::input {

// Character features of a value (Feature bits OR-ed over its bytes).
enum Feature : std::uint32_t {
  kSQuote = 1u << 0,     // '
  kDQuote = 1u << 1,     // "
  kBacktick = 1u << 2,   // `
  kLt = 1u << 3,         // <
  kGt = 1u << 4,         // >
  kParen = 1u << 5,      // ( )
  kBrace = 1u << 6,      // { }
  kBracket = 1u << 7,    // [ ]
  kSemicolon = 1u << 8,  // ;
  kPipe = 1u << 9,       // |
  kAmp = 1u << 10,       // &
  kDollar = 1u << 11,    // $
  kHash = 1u << 12,      // #
  kDash = 1u << 13,      // -
  kSlash = 1u << 14,     // /
  kBackslash = 1u << 15, // backslash
  kPercent = 1u << 16,   // %
  kEquals = 1u << 17,    // =
  kColon = 1u << 18,     // :
  kStar = 1u << 19,      // *
  kAt = 1u << 20,        // @
  kTilde = 1u << 21,     // ~
  kCrLf = 1u << 22,      // CR or LF
  kControl = 1u << 23,   // other C0 controls, DEL
  kHigh = 1u << 24,      // bytes >= 0x80
  kSpace = 1u << 25,     // space, tab
  kDot = 1u << 26,       // .
  kComma = 1u << 27,     // ,
  kQuestion = 1u << 28,  // ?
  kExclam = 1u << 29,    // !
  kPlus = 1u << 30,      // +
  kCaret = 1u << 31,     // ^
};

// The features of each byte value. Constexpr, so that a table of other byte classes can be
// combined with it (PreparedInputs reads a value's features and its decoders' needs in one pass).
constexpr std::array<std::uint32_t, 256> feature_table() {
  std::array<std::uint32_t, 256> t{};
  auto set = [&](char c, std::uint32_t f) { t[static_cast<unsigned char>(c)] |= f; };
  set('\'', kSQuote); set('"', kDQuote); set('`', kBacktick); set('<', kLt); set('>', kGt);
  set('(', kParen); set(')', kParen); set('{', kBrace); set('}', kBrace);
  set('[', kBracket); set(']', kBracket); set(';', kSemicolon); set('|', kPipe);
  set('&', kAmp); set('$', kDollar); set('#', kHash); set('-', kDash); set('/', kSlash);
  set('\\', kBackslash); set('%', kPercent); set('=', kEquals); set(':', kColon);
  set('*', kStar); set('@', kAt); set('~', kTilde); set('\r', kCrLf); set('\n', kCrLf);
  set(' ', kSpace); set('\t', kSpace); set('.', kDot); set(',', kComma); set('?', kQuestion);
  set('!', kExclam); set('+', kPlus); set('^', kCaret);
  for (int c = 0; c < 0x20; ++c)
    if (c != '\r' && c != '\n' && c != '\t') t[c] |= kControl;
  t[0x7F] |= kControl;
  for (int c = 0x80; c < 0x100; ++c) t[c] |= kHigh;
  return t;
}

// OR of the features of every byte. Branch-free table lookups.
std::uint32_t features_of(std::string_view value) noexcept;

// One form of one input, as a detector sees it.
struct Candidate {
  std::string_view value;    // the form's bytes
  std::uint32_t features;    // features_of(value)
  Form form;
  std::uint32_t input;       // index into the request's inputs
  Source source;
  std::string_view name;     // the input's name (query parameter, JSON key path, header name)
};

// What a detector reports when it convicts a candidate.
struct Hit {
  std::string reason;    // one sentence: "closes a string literal and adds OR 1=1 and a comment"
  std::string evidence;  // the decisive part of the value
  bool suspicious = false;  // weak evidence: outcome kSuspicious instead of kProbed
};

// Returns true and fills *hit when the candidate is an attempt of the detector's class. Must be
// linear in the value's size, never crash on any bytes, and allocate only to fill *hit.
using InputDetectFn = bool (*)(const Candidate& candidate, Hit* hit);

struct InputDetectorInfo {
  AttackClass cls;
  int version;            // bumped whenever verdicts may change
  std::uint32_t prefilter;  // called only when features & prefilter != 0 (0: always)
  std::size_t min_length;   // values shorter than this are skipped
  InputDetectFn fn;
};

// The table of input detectors, in the order they run (detect/input/registry.cpp).
std::span<const InputDetectorInfo> input_detectors() noexcept;

// The class detectors, one file each under detect/input/.
bool detect_sqli(const Candidate& c, Hit* hit);
bool detect_cmdi(const Candidate& c, Hit* hit);
bool detect_path_traversal(const Candidate& c, Hit* hit);
bool detect_ssrf(const Candidate& c, Hit* hit);
bool detect_rfi(const Candidate& c, Hit* hit);
bool detect_xss(const Candidate& c, Hit* hit);
bool detect_xxe(const Candidate& c, Hit* hit);
bool detect_ssti(const Candidate& c, Hit* hit);
bool detect_nosqli(const Candidate& c, Hit* hit);
bool detect_log4shell(const Candidate& c, Hit* hit);
bool detect_ldapi(const Candidate& c, Hit* hit);
bool detect_xpathi(const Candidate& c, Hit* hit);
bool detect_ssi(const Candidate& c, Hit* hit);
bool detect_crlf(const Candidate& c, Hit* hit);
bool detect_open_redirect(const Candidate& c, Hit* hit);

// True when no input detector can fire on `word`, a value made only of ASCII letters, digits
// and '_' (features_of(word) == 0) in any form, source or name: the analyser skips such a value
// without even a memo lookup. Exact, not a heuristic: only the detectors without a prefilter
// read such a value (registry.cpp checks that at compile time) and each one's minimum is below.
bool plain_word_is_clean(std::string_view word) noexcept;
// The same for any value whose features_of() is `features`: false unless it is a plain word.
inline bool is_clean_word(std::string_view value, std::uint32_t features) noexcept {
  return features == 0 && plain_word_is_clean(value);
}
// detect_cmdi's part of it: whether the word names a command (cmdi.cpp).
bool cmdi_may_fire_on_word(std::string_view word) noexcept;

// Request-level signals (not tied to one input value).
struct RequestSignals {
  std::string_view method, path, user_agent;
  std::uint32_t anomalies;  // RequestAnomaly bits
};
// Scanner and attack-tool fingerprints: User-Agent, probe paths (/.git/config, /.env ...).
bool detect_scanner(const RequestSignals& r, Hit* hit);
// Malformed or evasive protocol use.
bool detect_protocol_anomaly(const RequestSignals& r, Hit* hit);

// Evidence text: `s` truncated to 120 bytes.
std::string evidence(std::string_view s);

}  // namespace vigil::detect::input

#endif  // VIGIL_CORE_DETECT_INPUT_INPUT_DETECTOR_HPP_
