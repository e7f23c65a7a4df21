// What each Vigil rule means to a SOC: a title, its CWE, and the MITRE ATT&CK techniques it
// evidences. One table (attack.cpp), shared by every format and documented in docs/exports.md.
#ifndef VIGIL_EXPORT_ATTACK_HPP_
#define VIGIL_EXPORT_ATTACK_HPP_

#include <string_view>
#include <vector>

#include "export/event.hpp"

namespace vigil::exports {

struct Technique {
  const char* id;            // "T1059"
  const char* name;          // "Command and Scripting Interpreter"
  const char* sub_id;        // "T1059.004", or nullptr
  const char* sub_name;      // "Unix Shell", or nullptr
  const char* tactic_id;     // "TA0002"
  const char* tactic_name;   // "Execution"
  // The most specific id: sub_id when there is one.
  const char* uid() const noexcept { return sub_id ? sub_id : id; }
};

struct RuleInfo {
  const char* rule;          // "sql-injection"
  const char* title;         // "SQL injection"
  const char* cwe;           // "CWE-89", or nullptr
  const char* cwe_name;      // "SQL Injection", or nullptr
};

// The table entry of a rule or of its family ("sql-injection.union" -> "sql-injection"). An
// unknown rule (a virtual patch id) gets a generic entry titled after the rule.
RuleInfo rule_info(std::string_view rule) noexcept;

// The techniques an event evidences, most important first: the rule's, plus T1552.005 (Cloud
// Instance Metadata API) for an SSRF whose target is a cloud metadata service.
std::vector<const Technique*> techniques_for(const Event& e);

// The CWE to report: the event's own, else the rule's; "" when neither has one.
std::string_view cwe_for(const Event& e) noexcept;

// True when `text` names a cloud instance metadata endpoint (169.254.169.254,
// metadata.google.internal, fd00:ec2::254, 100.100.100.200, ...).
bool mentions_cloud_metadata(std::string_view text) noexcept;

// "SQL injection exploited in shop: GET /product (query id)" — one line for people.
std::string headline(const Event& e);

}  // namespace vigil::exports

#endif  // VIGIL_EXPORT_ATTACK_HPP_
