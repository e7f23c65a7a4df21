// Vigil policy: rule modes, exclusions, IP lists and virtual patches.
//
// A policy document (YAML or JSON; docs/policy.md, schema docs/policy.schema.json) compiles
// into an immutable Policy shared by every request; Engine::set_policy() swaps it atomically
// while requests are in flight. A bad entry is a diagnostic with its location and is skipped:
// the rest of the policy still applies.
//
//   std::vector<vigil::PolicyDiagnostic> diags;
//   auto policy = vigil::Policy::compile(text, &diags);   // never null
//   engine.set_policy(policy);
#ifndef VIGIL_POLICY_HPP_
#define VIGIL_POLICY_HPP_

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/analysis.hpp"

namespace vigil {

class RequestContext;

struct PolicyDiagnostic {
  enum class Severity : std::uint8_t { kError, kWarning };
  Severity severity = Severity::kError;
  std::string code;      // "policy.unknown_rule", "policy.bad_regex", "policy.bad_cidr", ...
  std::string location;  // "rules.sql-injectoin" or "virtual_patches[2].inputs[0].regex"
  int line = 0;          // 1-based position in the document; 0 when unknown
  int column = 0;
  std::string message;
};

// A time point for IP-list expiry (system clock, UTC).
using PolicyClock = std::chrono::system_clock;

class Policy {
 public:
  // Compiles a policy document. Never returns null: a document that cannot be parsed at all
  // gives the default policy and an error diagnostic. `diagnostics` may be null.
  static std::shared_ptr<const Policy> compile(std::string_view document,
                                               std::vector<PolicyDiagnostic>* diagnostics);
  // The built-in defaults: every rule in monitor mode, no lists, no patches, 1 ms budget.
  static std::shared_ptr<const Policy> defaults();

  ~Policy();
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  // The mode of a rule (rule_name() of a class, a sink rule such as "sql-injection", or a
  // virtual patch id). Rules the policy does not name get the default mode.
  Mode mode_for(std::string_view rule) const noexcept;
  Mode default_mode() const noexcept;
  // True (and *mode set) when the policy names the rule itself rather than relying on the
  // default mode. Weak-evidence rules (scanner, protocol-anomaly) block only when named.
  bool explicit_mode(std::string_view rule, Mode* mode) const noexcept;

  // Per-request analysis budget; beyond it analysis stops and the request proceeds.
  std::chrono::microseconds budget() const noexcept;

  // Is a finding of `rule` on input (source, name) of a request to `route` from `client`
  // excluded (a declared false positive)? `name` may be empty for request-level findings.
  bool excluded(std::string_view rule, std::string_view route, Source source,
                std::string_view name, std::string_view client) const noexcept;

  enum class IpDecision : std::uint8_t { kNone, kAllow, kDeny };
  // Allow-list entries win over deny-list entries; expired entries are ignored.
  IpDecision ip_decision(std::string_view client, PolicyClock::time_point now) const noexcept;
  // False when the policy has no IP allow or deny list: ip_decision() is kNone for every client
  // (a caller can skip reading the clock for it).
  bool has_ip_lists() const noexcept;

  // Appends a finding (rule = patch id, mode = patch action) for each virtual patch the
  // request matches.
  void match_virtual_patches(const RequestContext& request, std::vector<Finding>* out) const;

  std::size_t virtual_patch_count() const noexcept;
  // The document it was compiled from, re-serialised as JSON (for `vigil policy get`).
  const std::string& source_json() const noexcept;

  struct Impl;
  explicit Policy(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil

#endif  // VIGIL_POLICY_HPP_
