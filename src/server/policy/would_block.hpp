// "Would have blocked": replays the stored events of the last N days through a proposed
// policy, before it is switched on, and counts what it would block (by rule), what it would
// newly block, and what is blocked today but would not be any more.
//
// An event is blocked by a policy when its client is denylisted (and not allowlisted), or its
// rule is in block mode (weak-evidence rules only when named) and not excluded for its route,
// input and client, or a virtual patch in block mode matches the request rebuilt from the event
// (method, path, and the one input the event names). That rebuilt request is all the server
// knows: a patch on another input of the same request is not seen.
#ifndef VIGIL_SERVER_POLICY_WOULD_BLOCK_HPP_
#define VIGIL_SERVER_POLICY_WOULD_BLOCK_HPP_

#include <cstdint>
#include <string>

#include "server/common/json.hpp"
#include "server/storage/sql.hpp"
#include "vigil/policy.hpp"

namespace vigil::server::policy {

struct StoredEvent {
  std::string rule, client_ip, method, path, input_source, input_name, input_value;
  int outcome = 0;
};

// The rule (or patch id, or "ip-denylist") that would block `e`, or "" when none would.
std::string would_block(const vigil::Policy& policy, const StoredEvent& e,
                        vigil::PolicyClock::time_point now);

struct PreviewOptions {
  int days = 7;
  std::int64_t max_events = 1000000;
};

// Counts over the app's events of the last `days`:
// {days, events, would_block, newly_blocked, no_longer_blocked, by_rule: {rule: n},
//  attackers_blocked, truncated}
Json preview(storage::Database& db, const std::string& app, const vigil::Policy& policy,
             const PreviewOptions& options);

}  // namespace vigil::server::policy

#endif  // VIGIL_SERVER_POLICY_WOULD_BLOCK_HPP_
