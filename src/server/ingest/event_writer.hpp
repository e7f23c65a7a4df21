// Writes events into the database in the caller's transaction: drops duplicates (same
// application and event_id, already stored or twice in the batch), correlates the new ones into
// incidents, and inserts them with multi-row statements.
#ifndef VIGIL_SERVER_INGEST_EVENT_WRITER_HPP_
#define VIGIL_SERVER_INGEST_EVENT_WRITER_HPP_

#include <exception>
#include <vector>

#include "server/incidents/correlator.hpp"
#include "server/ingest/event_batch.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::ingest {

class EventWriter {
 public:
  explicit EventWriter(const incidents::Correlator* correlator) : correlator_(correlator) {}

  // Whether write() first looks up which events an earlier transaction stored (kCheck), or
  // assumes none was (kAssumeNew: one index lookup per event saved) and throws StoredDuplicate
  // when the insert meets one. Duplicates within `events` are found either way.
  enum class Stored { kCheck, kAssumeNew };
  // Thrown by write(kAssumeNew): the transaction must be rolled back (it correlated an event
  // that was stored already) and the events written again with kCheck.
  class StoredDuplicate : public std::exception {
   public:
    const char* what() const noexcept override { return "an event was stored already"; }
  };

  // REQUIRES: a write transaction. Sets `duplicate` or `incident_id` on every event. Runs again
  // from scratch when the transaction is retried (it keeps no state).
  void write(storage::Connection& c, const std::vector<EventRecord*>& events,
             Stored stored = Stored::kCheck) const;

 private:
  const incidents::Correlator* correlator_;
};

}  // namespace vigil::server::ingest

#endif  // VIGIL_SERVER_INGEST_EVENT_WRITER_HPP_
