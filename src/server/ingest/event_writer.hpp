// Writes events into the database in the caller's transaction: drops duplicates (same
// application and event_id, already stored or twice in the batch), correlates the new ones into
// incidents, and inserts them with multi-row statements.
#ifndef VIGIL_SERVER_INGEST_EVENT_WRITER_HPP_
#define VIGIL_SERVER_INGEST_EVENT_WRITER_HPP_

#include <vector>

#include "server/incidents/correlator.hpp"
#include "server/ingest/event_batch.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::ingest {

class EventWriter {
 public:
  explicit EventWriter(const incidents::Correlator* correlator) : correlator_(correlator) {}

  // REQUIRES: a write transaction. Sets `duplicate` or `incident_id` on every event. Runs again
  // from scratch when the transaction is retried (it keeps no state).
  void write(storage::Connection& c, const std::vector<EventRecord*>& events) const;

 private:
  const incidents::Correlator* correlator_;
};

}  // namespace vigil::server::ingest

#endif  // VIGIL_SERVER_INGEST_EVENT_WRITER_HPP_
