#include "server/ingest/ingest_queue.hpp"

#include <pthread.h>

#include <chrono>

#include "server/common/log.hpp"

namespace vigil::server::ingest {

IngestQueue::IngestQueue(storage::Database* db, const EventWriter* writer, IngestOptions options)
    : db_(db), writer_(writer), options_(options) {}

IngestQueue::~IngestQueue() { stop(); }

void IngestQueue::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!threads_.empty()) return;
  stopping_ = false;
  for (int i = 0; i < std::max(1, options_.writers); ++i)
    threads_.emplace_back([this] {
      // Named, so that `top -H` (and the ingest benchmark) can tell the writers' CPU time.
      pthread_setname_np(pthread_self(), "vigild-writer");
      run_writer();
    });
}

void IngestQueue::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

IngestResult IngestQueue::submit(std::vector<EventRecord> events) {
  IngestResult result;
  if (events.empty()) return result;
  auto p = std::make_shared<Pending>();
  for (const auto& e : events) p->bytes += e.json.size() + 256;
  std::size_t n = events.size();
  p->events = std::move(events);
  auto future = p->done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || threads_.empty()) {
      result.status = Status::error(503, "stopping", "vigild is stopping; retry");
      result.status.retry_after_s = 2;
      return result;
    }
    // Bounded: a batch that does not fit waits at the agent, not here. (An empty queue takes
    // any single batch, so a batch bigger than the bound still gets through alone.)
    if (pending_events_ > 0 &&
        (pending_events_ + n > options_.max_events || pending_bytes_ + p->bytes > options_.max_bytes)) {
      ++rejected_full_;
      result.status = Status::error(429, "busy", "the ingest queue is full; retry later");
      result.status.retry_after_s = 1 + static_cast<int>(pending_events_ / 50000);
      return result;
    }
    pending_events_ += n;
    pending_bytes_ += p->bytes;
    queue_.push_back(p);
  }
  cv_.notify_one();
  if (future.wait_for(std::chrono::milliseconds(options_.ack_timeout_ms)) !=
      std::future_status::ready) {
    result.status = Status::error(503, "timeout",
                                  "the events are still being written; retry (duplicates are "
                                  "recognised by event_id)");
    result.status.retry_after_s = 2;
    return result;
  }
  return future.get();
}

void IngestQueue::run_writer() {
  // Agents resend only what was not acknowledged, so events stored before are rare: a
  // transaction assumes there are none (EventWriter::Stored::kAssumeNew), and one that meets
  // one is written again, looking first. Retries and spool replays come in runs, so the next
  // transactions look first too.
  constexpr int kLookAfterDuplicate = 32;
  int look_first = 0;
  for (;;) {
    std::vector<std::shared_ptr<Pending>> taken;
    std::size_t events = 0, bytes = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is written
      while (!queue_.empty() &&
             (events == 0 || events + queue_.front()->events.size() <= options_.tx_events)) {
        events += queue_.front()->events.size();
        bytes += queue_.front()->bytes;
        taken.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<EventRecord*> all;
    all.reserve(events);
    for (auto& p : taken)
      for (auto& e : p->events) all.push_back(&e);
    Status failure;
    const auto started = std::chrono::steady_clock::now();
    try {
      using Stored = EventWriter::Stored;
      Stored stored = look_first > 0 ? Stored::kCheck : Stored::kAssumeNew;
      if (look_first > 0) --look_first;
      try {
        db_->write([&](storage::Connection& c) { writer_->write(c, all, stored); });
      } catch (const EventWriter::StoredDuplicate&) {
        look_first = kLookAfterDuplicate;
        db_->write([&](storage::Connection& c) { writer_->write(c, all, Stored::kCheck); });
      }
      ++transactions_;
    } catch (const storage::StorageError& e) {
      log_error(std::string("ingest: ") + e.what());
      failure = Status::error(503, "storage_unavailable",
                              "the database is unavailable; retry");
      failure.retry_after_s = 2;
    } catch (const std::exception& e) {
      log_error(std::string("ingest: ") + e.what());
      failure = Status::error(500, "internal", "internal error while storing events");
    }
    if (!failure.ok()) ++failures_;
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    commit_us_sum_ += static_cast<std::uint64_t>(took * 1e6);
    for (std::size_t i = 0; i < kCommitBucketCount; ++i)
      if (took <= kCommitBuckets[i]) ++commit_le_[i];
    if (failure.ok() && options_.on_stored)
      for (const EventRecord* e : all)
        if (!e->duplicate) options_.on_stored(*e);
    for (auto& p : taken) {
      IngestResult r;
      r.status = failure;
      if (failure.ok())
        for (const auto& e : p->events) (e.duplicate ? r.duplicates : r.accepted) += 1;
      stored_ += r.accepted;
      duplicates_ += r.duplicates;
      p->done.set_value(std::move(r));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_events_ -= events;
      pending_bytes_ -= bytes;
    }
  }
}

IngestQueue::Stats IngestQueue::stats() const {
  Stats s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.pending_events = pending_events_;
    s.pending_bytes = pending_bytes_;
  }
  s.stored = stored_;
  s.duplicates = duplicates_;
  s.rejected_full = rejected_full_;
  s.transactions = transactions_;
  s.failures = failures_;
  for (std::size_t i = 0; i < kCommitBucketCount; ++i) s.commit_le[i] = commit_le_[i];
  s.commit_us_sum = commit_us_sum_;
  return s;
}

}  // namespace vigil::server::ingest
