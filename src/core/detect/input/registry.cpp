#include <array>

#include "core/common/ascii.hpp"
#include "core/detect/input/input_detector.hpp"

namespace vigil {
namespace {

struct ClassInfo {
  std::string_view rule;
  std::string_view cwe;
};

constexpr std::array<ClassInfo, kAttackClassCount> kClasses = {{
    {"sql-injection", "CWE-89"},
    {"command-injection", "CWE-78"},
    {"path-traversal", "CWE-22"},
    {"ssrf", "CWE-918"},
    {"remote-file-inclusion", "CWE-98"},
    {"xss", "CWE-79"},
    {"xxe", "CWE-611"},
    {"ssti", "CWE-1336"},
    {"nosql-injection", "CWE-943"},
    {"log4shell", "CWE-917"},
    {"ldap-injection", "CWE-90"},
    {"xpath-injection", "CWE-643"},
    {"ssi-injection", "CWE-97"},
    {"crlf-injection", "CWE-93"},
    {"open-redirect", "CWE-601"},
    {"scanner", "CWE-200"},
    {"protocol-anomaly", "CWE-444"},
}};

}  // namespace

std::string_view rule_name(AttackClass c) noexcept {
  std::size_t i = static_cast<std::size_t>(c);
  return i < kClasses.size() ? kClasses[i].rule : "unknown";
}
std::string_view class_cwe(AttackClass c) noexcept {
  std::size_t i = static_cast<std::size_t>(c);
  return i < kClasses.size() ? kClasses[i].cwe : "";
}
bool parse_rule_name(std::string_view rule, AttackClass* out) noexcept {
  for (std::size_t i = 0; i < kClasses.size(); ++i) {
    if (kClasses[i].rule == rule) {
      *out = static_cast<AttackClass>(i);
      return true;
    }
  }
  return false;
}

std::string_view outcome_name(Outcome o) noexcept {
  switch (o) {
    case Outcome::kExploited: return "exploited";
    case Outcome::kBlocked: return "blocked";
    case Outcome::kProbed: return "probed";
    case Outcome::kSuspicious: return "suspicious";
  }
  return "unknown";
}
std::string_view mode_name(Mode m) noexcept {
  switch (m) {
    case Mode::kOff: return "off";
    case Mode::kMonitor: return "monitor";
    case Mode::kBlock: return "block";
  }
  return "unknown";
}
bool parse_mode(std::string_view name, Mode* out) noexcept {
  if (name == "off") *out = Mode::kOff;
  else if (name == "monitor") *out = Mode::kMonitor;
  else if (name == "block") *out = Mode::kBlock;
  else return false;
  return true;
}

namespace detect::input {
namespace {

constexpr std::array<std::uint32_t, 256> kFeatureTable = feature_table();

constexpr std::uint32_t kQuotes = kSQuote | kDQuote | kBacktick;

// The order is the order of precedence when several classes fire on one input: the more
// specific evidence first (a JNDI lookup is also "a URL with a dollar sign").
constexpr std::array<InputDetectorInfo, 15> kInputDetectors = {{
    {AttackClass::kLog4shell, 1, kDollar, 6, &detect_log4shell},
    {AttackClass::kXxe, 1, kLt | kAmp | kPercent, 5, &detect_xxe},
    {AttackClass::kSsi, 1, kLt, 6, &detect_ssi},
    {AttackClass::kSqli, 2, kQuotes | kParen | kSemicolon | kHash | kDash | kSlash | kEquals |
                                kSpace | kStar | kPipe | kAmp | kLt | kGt | kBackslash,
     2, &detect_sqli},
    {AttackClass::kXss, 3, kLt | kGt | kColon | kQuotes | kParen | kEquals | kAmp | kBackslash,
     3, &detect_xss},
    // No prefilter: a whole-value command ("whoami") has no metacharacter; the detector's first
    // byte test rejects most values.
    // Length 1: a lone "|" is a probe.
    {AttackClass::kCmdi, 3, 0, 1, &detect_cmdi},
    {AttackClass::kSsti, 1, kBrace | kDollar | kLt | kHash, 4, &detect_ssti},
    {AttackClass::kNosqli, 1, kDollar | kBracket | kBrace | kQuotes | kAmp | kPipe | kSemicolon, 3,
     &detect_nosqli},
    {AttackClass::kLdapi, 1, kStar | kParen | kPipe | kAmp | kBackslash, 2, &detect_ldapi},
    {AttackClass::kXpathi, 1, kQuotes | kParen | kSlash, 4, &detect_xpathi},
    // Before path traversal: an encoded CR/LF often rides in a path-like value.
    {AttackClass::kCrlf, 1, 0, 2, &detect_crlf},
    {AttackClass::kPathTraversal, 1, 0, 3,
     &detect_path_traversal},
    {AttackClass::kRfi, 2, kColon | kSlash, 8, &detect_rfi},
    // No prefilter: one number ("2130706433", "0x7f000001") is a host in a parameter named for
    // an address; the detector's first test keeps the prefilter's bytes for any other value.
    {AttackClass::kSsrf, 3, 0, 4, &detect_ssrf},
    // kQuestion: "?next=evil.example" writes a redirect parameter with no slash.
    {AttackClass::kOpenRedirect, 2,
     kSlash | kBackslash | kColon | kAt | kPercent | kHigh | kQuestion, 3, &detect_open_redirect},
}};

// plain_word_is_clean() reasons about the detectors without a prefilter only: any other one
// needs a feature that a plain word does not have.
constexpr bool only_known_detectors_without_prefilter() {
  for (const InputDetectorInfo& d : kInputDetectors) {
    if (d.prefilter == 0 && d.cls != AttackClass::kCmdi && d.cls != AttackClass::kCrlf &&
        d.cls != AttackClass::kPathTraversal && d.cls != AttackClass::kSsrf)
      return false;
  }
  return true;
}
static_assert(only_known_detectors_without_prefilter(),
              "a detector without a prefilter: plain_word_is_clean() must know its minimum");

}  // namespace

bool plain_word_is_clean(std::string_view word) noexcept {
  // detect_path_traversal: a plain word is a path only as base64 (8 bytes or more) or with a
  // "0x" hex escape. detect_crlf: a plain word is worth a look only with "0x0" in it.
  // detect_ssrf: a plain word is a host only as a number, which under 8 digits is below 2^24
  // (0.0.0.0/8, never convicted in decimal or octal), or in "0x" hex.
  if (word.size() >= 8) return false;
  for (std::size_t i = 0; i + 1 < word.size(); ++i)
    if (word[i] == '0' && (word[i + 1] == 'x' || word[i + 1] == 'X')) return false;
  // detect_cmdi: a plain word is a command line only when it names a command.
  return !cmdi_may_fire_on_word(word);
}

std::uint32_t features_of(std::string_view value) noexcept {
  return common::or_over_bytes(kFeatureTable, value);
}

std::span<const InputDetectorInfo> input_detectors() noexcept { return kInputDetectors; }

std::string evidence(std::string_view s) { return common::truncate_utf8(s, 120); }

}  // namespace detect::input
}  // namespace vigil
