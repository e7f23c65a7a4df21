// Correlation: which incident each new event belongs to, decided in the database so that any
// number of vigild processes sharing one PostgreSQL agree.
//
// Identity. An event's attacker is its user when the agent knows one, else its client
// address; its attack family is its rule's prefix (ingest::family_of).
//
// Locking. Every decision about an attacker is made while holding the row lock of
// attackers(app, attacker), taken by an upsert at the start of the ingest transaction
// (lock_attackers(), in sorted order, so two transactions never wait on each other in a
// cycle). Whatever vigild runs the transaction, the same attacker's events are correlated one
// transaction at a time, against the committed state of the previous one.
//
// Rules, for an event of family F at time t (window W, the configured quiet time):
//  1. incident_keys(app, attacker, F) names an incident still active at t (open or
//     acknowledged, and t within W of its events): the event joins it.
//  2. Else, a proof (exploited or blocked) joins the attacker's most recent active incident that
//     has no proof yet (it was probes only; it becomes an incident of family F), or opens a
//     new incident of family F.
//  3. Else (probed, suspicious), the event joins the attacker's most recent active incident of
//     any family (probes and scanner noise roll up into counts), or opens a new one of family F.
// The key (app, attacker, F) then names the chosen incident. Resolved and false-positive
// incidents take no more events: the attacker's next events open a new incident.
#ifndef VIGIL_SERVER_INCIDENTS_CORRELATOR_HPP_
#define VIGIL_SERVER_INCIDENTS_CORRELATOR_HPP_

#include <cstdint>
#include <vector>

#include "server/ingest/event_batch.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::incidents {

struct CorrelatorOptions {
  std::int64_t window_ms = 3600 * 1000;
};

class Correlator {
 public:
  explicit Correlator(CorrelatorOptions options) : options_(options) {}

  // Takes the row locks of the attackers of `events`. REQUIRES: a write transaction, before
  // anything that the correlation depends on is read (the duplicate check included).
  void lock_attackers(storage::Connection& c,
                      const std::vector<ingest::EventRecord*>& events) const;

  // Sets incident_id on every event and writes the incidents, their facets and keys, and the
  // attackers' counters. REQUIRES: lock_attackers() of these events in this transaction; the
  // events are new (not stored yet). Events are processed in time order.
  void correlate(storage::Connection& c, std::vector<ingest::EventRecord*>& events) const;

 private:
  CorrelatorOptions options_;
};

}  // namespace vigil::server::incidents

#endif  // VIGIL_SERVER_INCIDENTS_CORRELATOR_HPP_
