#include "export/attack.hpp"

#include <cctype>
#include <string>

namespace vigil::exports {
namespace {

// ATT&CK v15 names.
constexpr Technique kT1190{"T1190", "Exploit Public-Facing Application", nullptr, nullptr,
                           "TA0001", "Initial Access"};
constexpr Technique kT1059{"T1059", "Command and Scripting Interpreter", nullptr, nullptr,
                           "TA0002", "Execution"};
constexpr Technique kT1059_004{"T1059", "Command and Scripting Interpreter", "T1059.004",
                               "Unix Shell", "TA0002", "Execution"};
constexpr Technique kT1059_007{"T1059", "Command and Scripting Interpreter", "T1059.007",
                               "JavaScript", "TA0002", "Execution"};
constexpr Technique kT1083{"T1083", "File and Directory Discovery", nullptr, nullptr, "TA0007",
                           "Discovery"};
constexpr Technique kT1005{"T1005", "Data from Local System", nullptr, nullptr, "TA0009",
                           "Collection"};
constexpr Technique kT1552_005{"T1552", "Unsecured Credentials", "T1552.005",
                               "Cloud Instance Metadata API", "TA0006", "Credential Access"};
constexpr Technique kT1105{"T1105", "Ingress Tool Transfer", nullptr, nullptr, "TA0011",
                           "Command and Control"};
constexpr Technique kT1189{"T1189", "Drive-by Compromise", nullptr, nullptr, "TA0001",
                           "Initial Access"};
constexpr Technique kT1566_002{"T1566", "Phishing", "T1566.002", "Spearphishing Link", "TA0001",
                               "Initial Access"};
constexpr Technique kT1595{"T1595", "Active Scanning", nullptr, nullptr, "TA0043",
                           "Reconnaissance"};
constexpr Technique kT1595_002{"T1595", "Active Scanning", "T1595.002", "Vulnerability Scanning",
                               "TA0043", "Reconnaissance"};

struct Entry {
  RuleInfo info;
  const Technique* techniques[4];
};

// Every rule of docs/policy.md and docs/events.md.
constexpr Entry kTable[] = {
    {{"sql-injection", "SQL injection", "CWE-89", "SQL Injection"}, {&kT1190}},
    {{"command-injection", "Command injection", "CWE-78", "OS Command Injection"},
     {&kT1190, &kT1059_004}},
    {{"argument-injection", "Argument injection", "CWE-88", "Argument Injection"},
     {&kT1190, &kT1059}},
    {{"code-injection", "Code injection", "CWE-94", "Code Injection"}, {&kT1190, &kT1059}},
    {{"path-traversal", "Path traversal", "CWE-22", "Path Traversal"},
     {&kT1190, &kT1083, &kT1005}},
    {{"ssrf", "Server-side request forgery", "CWE-918", "Server-Side Request Forgery (SSRF)"},
     {&kT1190}},
    {{"remote-file-inclusion", "Remote file inclusion", "CWE-98", "PHP Remote File Inclusion"},
     {&kT1190, &kT1105}},
    {{"xss", "Cross-site scripting", "CWE-79", "Cross-site Scripting"}, {&kT1189, &kT1059_007}},
    {{"xxe", "XML external entity", "CWE-611", "Improper Restriction of XML External Entity Reference"},
     {&kT1190, &kT1005}},
    {{"ssti", "Server-side template injection", "CWE-1336",
      "Improper Neutralization of Special Elements Used in a Template Engine"},
     {&kT1190, &kT1059}},
    {{"nosql-injection", "NoSQL injection", "CWE-943",
      "Improper Neutralization of Special Elements in Data Query Logic"},
     {&kT1190}},
    {{"log4shell", "Log4Shell (JNDI lookup)", "CWE-917", "Expression Language Injection"},
     {&kT1190, &kT1105}},
    {{"ldap-injection", "LDAP injection", "CWE-90", "LDAP Injection"}, {&kT1190}},
    {{"xpath-injection", "XPath injection", "CWE-643", "XPath Injection"}, {&kT1190}},
    {{"ssi-injection", "Server-side include injection", "CWE-97",
      "Improper Neutralization of Server-Side Includes (SSI) Within a Web Page"},
     {&kT1190, &kT1059}},
    {{"crlf-injection", "CRLF injection", "CWE-93", "CRLF Injection"}, {&kT1190}},
    {{"header-injection", "HTTP header injection", "CWE-113", "HTTP Response Splitting"},
     {&kT1190}},
    {{"open-redirect", "Open redirect", "CWE-601", "Open Redirect"}, {&kT1566_002}},
    {{"scanner", "Vulnerability scanner", nullptr, nullptr}, {&kT1595_002}},
    {{"protocol-anomaly", "Protocol anomaly", nullptr, nullptr}, {&kT1595}},
    {{"ip-denylist", "Denylisted client", nullptr, nullptr}, {}},
};

std::string_view family(std::string_view rule) noexcept {
  std::size_t cut = rule.find_first_of(".:");
  return cut == std::string_view::npos ? rule : rule.substr(0, cut);
}

const Entry* find(std::string_view rule) noexcept {
  std::string_view fam = family(rule);
  for (const auto& e : kTable)
    if (fam == e.info.rule) return &e;
  return nullptr;
}

bool contains_ci(std::string_view hay, std::string_view needle) noexcept {
  if (needle.size() > hay.size()) return false;
  // Needles are short constants: linear in the haystack for each.
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    std::size_t k = 0;
    while (k < needle.size() &&
           std::tolower(static_cast<unsigned char>(hay[i + k])) == needle[k])
      ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

}  // namespace

RuleInfo rule_info(std::string_view rule) noexcept {
  if (const Entry* e = find(rule)) return e->info;
  return RuleInfo{"", "", nullptr, nullptr};
}

std::vector<const Technique*> techniques_for(const Event& e) {
  std::vector<const Technique*> out;
  const Entry* entry = find(e.rule);
  if (entry) {
    for (const Technique* t : entry->techniques)
      if (t) out.push_back(t);
  } else if (e.rule != "ip-denylist") {
    out.push_back(&kT1190);  // a virtual patch: an attempt on the application
  }
  if (family(e.rule) == "ssrf" &&
      (mentions_cloud_metadata(e.sink.value) ||
       (!e.has_sink && mentions_cloud_metadata(e.input.value))))
    out.push_back(&kT1552_005);
  return out;
}

std::string_view cwe_for(const Event& e) noexcept {
  if (!e.cwe.empty()) return e.cwe;
  const Entry* entry = find(e.rule);
  return entry && entry->info.cwe ? entry->info.cwe : "";
}

bool mentions_cloud_metadata(std::string_view text) noexcept {
  static constexpr std::string_view kHosts[] = {
      "169.254.169.254",           // AWS, Azure, GCP, OpenStack, DigitalOcean, Oracle
      "metadata.google.internal",  // GCP
      "fd00:ec2::254",             // AWS over IPv6
      "100.100.100.200",           // Alibaba Cloud
      "169.254.170.2",             // AWS ECS task metadata
      "2852039166",                // 169.254.169.254 as one decimal number
      "0xa9fea9fe",                // ... and in hex
      "metadata.azure.com"};
  for (std::string_view h : kHosts)
    if (contains_ci(text, h)) return true;
  return false;
}

std::string headline(const Event& e) {
  RuleInfo info = rule_info(e.rule);
  std::string out = *info.title ? info.title : e.rule;
  out += ' ';
  out += outcome_name(e.outcome);
  if (!e.app.empty()) out += " in " + e.app;
  if (!e.request.method.empty() || !e.request.path.empty()) {
    out += ": ";
    out += e.request.method;
    if (!e.request.method.empty()) out += ' ';
    out += e.request.path;
  }
  if (e.has_input && !e.input.name.empty()) out += " (" + e.input.source + " " + e.input.name + ")";
  if (e.summary) out += " x" + std::to_string(e.count);
  return out;
}

}  // namespace vigil::exports
