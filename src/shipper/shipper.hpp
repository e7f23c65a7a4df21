// The agent side of vigild: ships events in batches, registers and heartbeats, and follows the
// application's policy by long-poll. For the preload agent (`vigil run --server URL --key KEY`)
// and the SDK; it depends on nothing of theirs.
//
//   vigil::shipper::ShipperOptions o;
//   o.app = "shop"; o.spool_dir = "/var/lib/vigil/spool/shop";
//   auto s = vigil::shipper::Shipper::create(o, vigil::shipper::make_http_transport(http, &err));
//   s->start();
//   s->enqueue(event_json);          // from the agent's event writer thread: never blocks
//   ...
//   s->stop(std::chrono::seconds(2));
//
// Delivery. Events wait in a bounded memory queue (full: dropped and counted) and leave in
// batches (max_batch_events, max_batch_bytes, or flush_interval). A batch is retried until
// vigild acknowledges it (202), with exponential backoff and full jitter (and at least the
// server's Retry-After); while vigild is unreachable or busy, batches go to the on-disk spool
// (bounded; Spool) instead of memory, and the spool is delivered oldest first once vigild
// answers again, also after a restart of the process. A retried batch is the same events with
// the same event_ids: vigild stores each once (no duplicates). A batch vigild refuses as
// malformed (400) is dropped and counted; one too large (413) is split.
//
// Threads: one sender, one policy poller (when a policy callback is set). `on_thread_start`
// runs first on each: the preload agent marks them as its own so its hooks ignore their I/O.
// Thread-safe. Never throws from enqueue(), stats() or stop().
#ifndef VIGIL_SHIPPER_SHIPPER_HPP_
#define VIGIL_SHIPPER_SHIPPER_HPP_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "shipper/spool.hpp"
#include "shipper/transport.hpp"

namespace vigil::shipper {

struct ShipperOptions {
  std::string app;                // the agent key's application
  std::string agent_id;           // default: "HOST:PID"
  std::string version = "0.1.0";  // agent version, in heartbeats
  std::string mode;               // monitor / block, in heartbeats

  std::size_t max_batch_events = 500;
  std::size_t max_batch_bytes = 1 << 20;
  std::chrono::milliseconds flush_interval{500};
  std::size_t memory_events = 20000;      // queued in memory before drops

  std::string spool_dir;                  // "" = no spool: memory only
  std::uint64_t spool_max_bytes = 256ull << 20;

  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{30000};

  std::chrono::seconds heartbeat_interval{10};
  // Counters to report in heartbeats (called on the sender thread); may be empty.
  std::function<std::string()> counters_json;

  // Policy: called on the poller thread with each new version's answer from
  // GET /api/v1/agents/policy (JSON text: {"app","version","policy",...}). Empty: no poller.
  std::function<void(std::int64_t version, const std::string& json)> on_policy;
  std::int64_t policy_version = 0;        // the version the agent starts with
  std::chrono::seconds policy_wait{25};

  std::function<void()> on_thread_start;  // first thing on each shipper thread
};

struct ShipperStats {
  std::uint64_t enqueued = 0, sent = 0, duplicates = 0, dropped_full = 0, dropped_spool = 0,
                rejected = 0, retries = 0, spooled = 0, batches = 0, heartbeats = 0,
                policy_updates = 0;
  std::size_t queued = 0;
  std::uint64_t spool_bytes = 0;
  std::string last_error;
};

class Shipper {
 public:
  static std::unique_ptr<Shipper> create(ShipperOptions options,
                                         std::unique_ptr<Transport> transport);
  ~Shipper();  // stop(0): whatever is left goes to the spool

  void start();
  // Queues one event (its JSON object text). False when the memory queue is full (counted).
  bool enqueue(std::string event_json) noexcept;
  // Delivers what is queued (or spools it) and stops the threads, waiting at most `drain`.
  void stop(std::chrono::milliseconds drain) noexcept;
  // Waits (at most `timeout`) until everything enqueued so far is delivered; false otherwise.
  bool flush(std::chrono::milliseconds timeout) noexcept;

  ShipperStats stats() const;

 private:
  Shipper(ShipperOptions options, std::unique_ptr<Transport> transport);
  void run_sender() noexcept;
  void run_poller() noexcept;
  // Sends one batch: true when it left for good (delivered, or refused as malformed).
  bool deliver(const std::string& batch, std::size_t events);
  void heartbeat();
  std::chrono::milliseconds next_backoff(int retry_after_s);
  bool take_batch(std::string* batch, std::size_t* events);  // REQUIRES: mu_ held

  ShipperOptions options_;
  std::unique_ptr<Transport> transport_;
  Spool spool_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::size_t in_flight_ = 0;  // taken from the queue, not yet delivered or spooled
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_deadline_{};
  std::thread sender_, poller_;

  std::chrono::milliseconds backoff_{0};
  std::mt19937_64 rng_{std::random_device{}()};

  std::atomic<std::uint64_t> enqueued_{0}, sent_{0}, duplicates_{0}, dropped_full_{0},
      dropped_spool_{0}, rejected_{0}, retries_{0}, spooled_{0}, batches_{0}, heartbeats_{0},
      policy_updates_{0};
  std::atomic<std::int64_t> policy_version_;  // the last version handed to on_policy
  std::string last_error_;  // guarded by mu_
};

}  // namespace vigil::shipper

#endif  // VIGIL_SHIPPER_SHIPPER_HPP_
