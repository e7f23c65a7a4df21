// Exporters: one per configured export, each with its own worker thread, bounded buffer,
// filters, summaries, retries and metrics; an ExportSet holds vigild's exports.
//
//   std::vector<ExportConfig> configs(1);
//   parse_export_url("syslog+tcp://siem.example:6514?format=cef", &configs[0], &err);
//   auto set = ExportSet::create(std::move(configs), &err);
//   set->start();
//   set->submit_json(event_json);   // after the event is stored; never blocks
//   std::string text = set->prometheus();   // GET /metrics
//   set->stop();                    // flushes, each export within its shutdown_timeout
//
// Routing. An event that passes the export's filters (apps, rules, min_outcome,
// min_severity) and is exploited or blocked is queued for delivery at once. A probed or
// suspicious one is counted into a summary keyed by (app, rule, client, outcome); every
// summary_interval each key becomes one record with its count, first and last times (unless
// the export says one_by_one). Summaries are queued like events.
//
// Delivery. The worker sends what is queued in batches (max_batch, max_batch_bytes) as soon
// as it is free (or after flush_interval). A batch that fails is retried, the same records
// with the same event ids, after an exponential backoff with jitter (retry_initial doubling
// up to retry_max, or the receiver's Retry-After), for as long as it takes: nothing is given
// up while the buffer holds it. The buffer is bounded (buffer_events, buffer_bytes): an event
// that finds it full is dropped and counted (dropped{reason="buffer_full"}); the summaries'
// table is bounded too (summary_max_keys; beyond, per-client keys fold into one "*" key per app
// and rule, then drops are counted). Records a receiver refuses for what they are (HTTP 400,
// 422, or one record still too large) are counted as failed, not retried.
//
// Stop. stop() stops taking events, turns pending summaries into records, and keeps
// delivering until the buffer is empty or shutdown_timeout has passed; what is left is
// counted as dropped{reason="shutdown"}.
//
// Thread safety: submit(), stats() and stop() may be called from any thread. Nothing throws
// out of them or out of the worker.
#ifndef VIGIL_EXPORT_EXPORTER_HPP_
#define VIGIL_EXPORT_EXPORTER_HPP_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "export/event.hpp"
#include "export/export_config.hpp"
#include "export/transport.hpp"

namespace vigil::exports {

struct ExporterStats {
  std::uint64_t accepted = 0;        // events that passed the filters
  std::uint64_t filtered = 0;        // events the filters kept out
  std::uint64_t summarized = 0;      // events counted into summaries
  std::uint64_t summaries = 0;       // summary records queued
  std::uint64_t sent = 0;            // records the receiver took
  std::uint64_t failed = 0;          // records the receiver refused (not retried)
  std::uint64_t retried = 0;         // records sent again after a failed attempt
  std::uint64_t send_errors = 0;     // failed attempts (batches)
  std::uint64_t dropped_buffer_full = 0, dropped_summary_full = 0, dropped_shutdown = 0;
  std::uint64_t compacted = 0, truncated = 0;  // records shrunk to fit a syslog message
  std::size_t queue_depth = 0, queue_bytes = 0;
  std::size_t buffer_events = 0;     // capacity
  std::size_t summary_keys = 0;
  std::int64_t last_success_ms = 0, last_error_ms = 0;
  std::string last_error;
  std::uint64_t dropped() const { return dropped_buffer_full + dropped_summary_full + dropped_shutdown; }
};

class Exporter {
 public:
  // Builds the export's transport. Null with *error when it cannot (bad TLS files, ...).
  static std::unique_ptr<Exporter> create(ExportConfig config, std::string* error);
  // With a given transport (tests).
  Exporter(ExportConfig config, std::unique_ptr<Transport> transport);
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  void start();
  // Filters, then queues or summarises `event`. Never blocks on delivery; O(1) amortised.
  void submit(const std::shared_ptr<const Event>& event) noexcept;
  // request_stop() then join(): flushes within shutdown_timeout.
  void stop() noexcept;
  void request_stop() noexcept;
  void join() noexcept;

  ExporterStats stats() const;
  const ExportConfig& config() const noexcept { return config_; }
  const std::string& name() const noexcept { return config_.name; }

  // Turns the summaries counted so far into records now (tests; the worker does it every
  // summary_interval).
  void flush_summaries_now() noexcept;

 private:
  using Clock = std::chrono::steady_clock;
  struct Item {
    std::shared_ptr<const Event> event;
    std::size_t bytes = 0;
    Clock::time_point queued;
  };
  struct Summary {
    std::shared_ptr<Event> sample;  // first event of the key, becomes the record
  };

  bool passes(const Event& e) const noexcept;
  bool enqueue_locked(std::shared_ptr<const Event> e, Clock::time_point now);
  void summarise_locked(const Event& e);
  void flush_summaries_locked(Clock::time_point now);
  void run() noexcept;
  bool step(std::unique_lock<std::mutex>& lock);
  std::string record_for(const Event& e, bool* compacted, bool* truncated) const;
  std::chrono::milliseconds backoff_locked(int retry_after_ms);
  std::chrono::milliseconds call_timeout_locked(Clock::time_point now) const;
  void retry_later_locked(const SendResult& r);
  std::string new_id();

  const ExportConfig config_;
  std::unique_ptr<Transport> transport_;  // called by the worker thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::size_t queue_bytes_ = 0;
  std::unordered_map<std::string, Summary> summaries_;
  Clock::time_point summary_due_;
  bool stopping_ = false;
  Clock::time_point stop_deadline_;
  Clock::time_point retry_at_{};
  int failures_ = 0;            // consecutive failed attempts
  // While the transport has records it has not confirmed (Transport::unconfirmed()) and the
  // queue is empty: when to look after them again (settle, or finish once stopping).
  Clock::time_point settle_at_{};
  std::size_t batch_limit_;     // max_batch, halved after a 413
  ExporterStats stats_;
  std::mt19937_64 rng_;
  std::thread worker_;
};

class ExportSet {
 public:
  static std::unique_ptr<ExportSet> create(std::vector<ExportConfig> configs, std::string* error);
  // With ready exporters (tests).
  explicit ExportSet(std::vector<std::unique_ptr<Exporter>> exporters);
  ~ExportSet();

  void start();
  // Parses the event once and hands it to every export; a malformed event is counted
  // (vigil_export_invalid_events_total) and skipped. Never blocks on delivery.
  void submit_json(std::string_view event_json) noexcept;
  void submit(const std::shared_ptr<const Event>& event) noexcept;
  // Stops every export at once, each within its shutdown_timeout.
  void stop() noexcept;

  std::size_t size() const noexcept { return exporters_.size(); }
  Exporter& at(std::size_t i) { return *exporters_[i]; }
  std::uint64_t invalid_events() const noexcept { return invalid_.load(); }
  // The exports' metrics in Prometheus text format (export/metrics.hpp).
  std::string prometheus() const;

 private:
  std::vector<std::unique_ptr<Exporter>> exporters_;
  std::atomic<std::uint64_t> invalid_{0};
  bool started_ = false;
};

std::unique_ptr<Transport> make_transport(const ExportConfig& config, std::string* error);

}  // namespace vigil::exports

#endif  // VIGIL_EXPORT_EXPORTER_HPP_
