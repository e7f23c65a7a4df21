// The bounded ingest queue between the HTTP threads and the database. An accepted batch waits
// here until a writer commits it (group commit: the batches of many requests share one
// transaction), and only then is the agent answered 202, so an acknowledged event survives a
// crash of vigild. When the queue holds its limit of events or bytes, submit() answers 429
// with Retry-After at once instead of growing memory.
//
// Thread-safe. Writers: one for SQLite (it has one writer anyway), several for PostgreSQL.
#ifndef VIGIL_SERVER_INGEST_INGEST_QUEUE_HPP_
#define VIGIL_SERVER_INGEST_INGEST_QUEUE_HPP_

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "server/common/status.hpp"
#include "server/ingest/event_batch.hpp"
#include "server/ingest/event_writer.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::ingest {

struct IngestOptions {
  std::size_t max_events = 100000;      // queued, not yet committed
  std::size_t max_bytes = 256 << 20;
  std::size_t tx_events = 5000;         // per write transaction
  int writers = 1;
  int ack_timeout_ms = 30000;           // an agent waits this long for its commit
  // Called on a writer thread for each newly stored event (not for duplicates), after its
  // commit: the SOC exports. Must not block.
  std::function<void(const EventRecord&)> on_stored;
};

struct IngestResult {
  Status status;
  std::size_t accepted = 0;    // newly stored
  std::size_t duplicates = 0;  // already stored (a retry): acknowledged, not stored again
};

class IngestQueue {
 public:
  IngestQueue(storage::Database* db, const EventWriter* writer, IngestOptions options);
  ~IngestQueue();  // stop()

  void start();
  // Queues `events` and waits for their commit. 429 (queue full), 503 (database failure or
  // timeout: the agent retries, and event ids make the retry harmless).
  IngestResult submit(std::vector<EventRecord> events);
  // Finishes what is queued, then stops the writers. Later submits get 503.
  void stop();

  // Upper bounds (seconds) of the write-transaction latency histogram (GET /metrics).
  static constexpr double kCommitBuckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,   0.25,   0.5,   1,    2.5,   10};
  static constexpr std::size_t kCommitBucketCount = std::size(kCommitBuckets);
  struct Stats {
    std::size_t pending_events = 0, pending_bytes = 0;
    std::uint64_t stored = 0, duplicates = 0, rejected_full = 0, transactions = 0, failures = 0;
    // Write transactions (committed or failed) by duration: commit_le[i] counts those that took
    // at most kCommitBuckets[i] (cumulative, as Prometheus wants); the sum in microseconds.
    std::array<std::uint64_t, kCommitBucketCount> commit_le{};
    std::uint64_t commit_us_sum = 0;
  };
  Stats stats() const;

 private:
  struct Pending {
    std::vector<EventRecord> events;
    std::size_t bytes = 0;
    std::promise<IngestResult> done;
  };
  void run_writer();

  storage::Database* db_;
  const EventWriter* writer_;
  IngestOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Pending>> queue_;
  std::size_t pending_events_ = 0, pending_bytes_ = 0;  // queued and being written
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::atomic<std::uint64_t> stored_{0}, duplicates_{0}, rejected_full_{0}, transactions_{0},
      failures_{0};
  std::array<std::atomic<std::uint64_t>, kCommitBucketCount> commit_le_{};
  std::atomic<std::uint64_t> commit_us_sum_{0};
};

}  // namespace vigil::server::ingest

#endif  // VIGIL_SERVER_INGEST_INGEST_QUEUE_HPP_
