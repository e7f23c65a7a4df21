// Input analysis: looking at a request's inputs alone, as a WAF does, to see attempts early,
// including against code that is not vulnerable. Sink analysis (engine.hpp) proves exploits;
// this finds probes and the weaker signals worth context (scanners, protocol anomalies).
#ifndef VIGIL_ANALYSIS_HPP_
#define VIGIL_ANALYSIS_HPP_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/engine.hpp"

namespace vigil {

// Attack classes of input analysis; each has one rule name (rule_name()).
enum class AttackClass : std::uint8_t {
  kSqli,
  kCmdi,
  kPathTraversal,
  kSsrf,
  kRfi,
  kXss,
  kXxe,
  kSsti,
  kNosqli,
  kLog4shell,
  kLdapi,
  kXpathi,
  kSsi,
  kCrlf,
  kOpenRedirect,
  kScanner,   // attack tools and probes for well-known files (suspicious)
  kProtocol,  // malformed or evasive HTTP (suspicious)
};
inline constexpr std::size_t kAttackClassCount = 17;

// "sql-injection", "command-injection", "path-traversal", "ssrf", "remote-file-inclusion",
// "xss", "xxe", "ssti", "nosql-injection", "log4shell", "ldap-injection", "xpath-injection",
// "ssi-injection", "crlf-injection", "open-redirect", "scanner", "protocol-anomaly".
std::string_view rule_name(AttackClass c) noexcept;
std::string_view class_cwe(AttackClass c) noexcept;
bool parse_rule_name(std::string_view rule, AttackClass* out) noexcept;

// One finding of input analysis (or of a policy rule: a virtual patch or an IP list).
struct Finding {
  std::string rule;         // rule_name() of the class, or the virtual patch's id, "ip-denylist"
  std::string cwe;
  Outcome outcome = Outcome::kProbed;
  Mode mode = Mode::kMonitor;  // as the policy set it for this rule (never kOff: those are dropped)
  std::int32_t input = -1;  // index into the request's inputs; -1 for request-level findings
  Form form = Form::kRaw;   // the input form the detector examined
  std::string reason;       // one sentence for a person
  std::string evidence;     // the part of the input that gave it away (truncated)
};

struct RequestVerdict {
  std::vector<Finding> findings;
  // True when a finding's rule (or a virtual patch, or the IP denylist) is in block mode.
  bool block = false;
  std::int32_t blocking_finding = -1;  // index into findings
  // Analysis stopped at the time budget; the request proceeds (fail open).
  bool budget_exceeded = false;
  bool failed_open = false;

  bool attack() const noexcept { return !findings.empty(); }
};

}  // namespace vigil

#endif  // VIGIL_ANALYSIS_HPP_
