#include "export/exporter.hpp"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>

#include "export/format.hpp"
#include "export/metrics.hpp"
#include "export/syslog.hpp"
#include "export/text.hpp"

namespace vigil::exports {
namespace {

// How often an idle exporter asks its transport about records it has not confirmed yet: a
// receiver that reset the connection has them written again within this (they are confirmed
// 2 s after they were written, so an idle exporter asks about eight times, then no more).
constexpr std::chrono::milliseconds kSettleInterval{250};

bool rule_matches(const std::vector<std::string>& patterns, std::string_view rule) {
  if (patterns.empty()) return true;
  for (const auto& p : patterns) {
    if (!p.empty() && p.back() == '*') {
      if (rule.substr(0, p.size() - 1) == std::string_view(p).substr(0, p.size() - 1)) return true;
    } else if (rule == p) {
      return true;
    } else if (rule.size() > p.size() && rule.substr(0, p.size()) == p &&
               (rule[p.size()] == '.' || rule[p.size()] == ':')) {
      return true;  // "sql-injection" also names "sql-injection.union"
    }
  }
  return false;
}

std::string authorization_for(const ExportConfig& c) {
  if (c.token.empty() || c.auth == "none") return {};
  if (c.auth == "splunk" || (c.auth == "auto" && c.format == Format::kHec))
    return "Splunk " + c.token;
  return "Bearer " + c.token;
}

}  // namespace

std::unique_ptr<Transport> make_transport(const ExportConfig& c, std::string* error) {
  switch (c.kind) {
    case ExportConfig::Kind::kSyslogUdp: return make_udp_transport(c.host, c.port);
    case ExportConfig::Kind::kSyslogTcp: return make_tcp_transport(c.host, c.port);
    case ExportConfig::Kind::kSyslogTls: return make_tls_transport(c.host, c.port, c.tls, error);
    case ExportConfig::Kind::kHttp: {
      HttpOptions o;
      o.url = c.http_url;
      o.body = c.format == Format::kHec     ? HttpOptions::Body::kConcatenated
               : c.format == Format::kSlack || c.max_batch == 1 ? HttpOptions::Body::kJsonSingle
                                                                : HttpOptions::Body::kJsonArray;
      o.authorization = authorization_for(c);
      o.tls = c.tls;
      return make_http_transport(o, error);
    }
    case ExportConfig::Kind::kFile: return make_file_transport(c.file);
  }
  *error = "unknown export kind";
  return nullptr;
}

std::unique_ptr<Exporter> Exporter::create(ExportConfig config, std::string* error) {
  std::string e;
  auto transport = make_transport(config, &e);
  if (!transport) {
    *error = "export " + config.name + ": " + e;
    return nullptr;
  }
  return std::make_unique<Exporter>(std::move(config), std::move(transport));
}

Exporter::Exporter(ExportConfig config, std::unique_ptr<Transport> transport)
    : config_(std::move(config)),
      transport_(std::move(transport)),
      summary_due_(Clock::now() + config_.summary_interval),
      batch_limit_(config_.max_batch),
      rng_(std::random_device{}()) {
  stats_.buffer_events = config_.buffer_events;
}

Exporter::~Exporter() { stop(); }

void Exporter::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (worker_.joinable() || stopping_) return;
  worker_ = std::thread([this] {
    // A receiver gone mid-write raises SIGPIPE in the writing thread, and OpenSSL writes to its
    // socket without MSG_NOSIGNAL: blocked here, the write fails with EPIPE and is retried,
    // instead of the signal ending a program that did not ignore it.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    run();
  });
}

bool Exporter::passes(const Event& e) const noexcept {
  if (e.outcome < config_.min_outcome || e.severity < config_.min_severity) return false;
  if (!config_.apps.empty() &&
      std::find(config_.apps.begin(), config_.apps.end(), e.app) == config_.apps.end())
    return false;
  return rule_matches(config_.rules, e.rule);
}

void Exporter::submit(const std::shared_ptr<const Event>& event) noexcept {
  if (!event) return;
  try {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ++stats_.dropped_shutdown;
      return;
    }
    if (!passes(*event)) {
      ++stats_.filtered;
      return;
    }
    ++stats_.accepted;
    if (event->outcome >= Outcome::kBlocked || config_.one_by_one || event->summary) {
      if (enqueue_locked(event, Clock::now())) cv_.notify_one();
    } else {
      summarise_locked(*event);
    }
  } catch (...) {
    // std::bad_alloc: the event is lost, and counted as such.
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.dropped_buffer_full;
  }
}

bool Exporter::enqueue_locked(std::shared_ptr<const Event> e, Clock::time_point now) {
  std::size_t bytes = e->approx_bytes();
  if (queue_.size() >= config_.buffer_events || queue_bytes_ + bytes > config_.buffer_bytes) {
    ++stats_.dropped_buffer_full;
    return false;
  }
  queue_.push_back(Item{std::move(e), bytes, now});
  queue_bytes_ += bytes;
  return true;
}

void Exporter::summarise_locked(const Event& e) {
  auto key_of = [&](std::string_view client) {
    std::string k;
    k.reserve(e.app.size() + e.rule.size() + client.size() + 16);
    k += e.app;
    k.push_back('\0');
    k += e.rule;
    k.push_back('\0');
    k += client;
    k.push_back('\0');
    k += outcome_name(e.outcome);
    return k;
  };
  std::string key = key_of(e.request.client_ip);
  auto it = summaries_.find(key);
  if (it == summaries_.end() && summaries_.size() >= config_.summary_max_keys) {
    key = key_of("*");  // too many clients: fold them
    it = summaries_.find(key);
    if (it == summaries_.end() && summaries_.size() >= config_.summary_max_keys + 1000) {
      ++stats_.dropped_summary_full;
      return;
    }
  }
  ++stats_.summarized;
  if (it != summaries_.end()) {
    Event& s = *it->second.sample;
    ++s.count;
    s.first_ms = std::min(s.first_ms, e.time_ms);
    s.last_ms = std::max(s.last_ms, e.time_ms);
    if (e.severity > s.severity) s.severity = e.severity;
    if (key.find(std::string("\0*\0", 3)) != std::string::npos) s.request.client_ip = "*";
    return;
  }
  auto s = std::make_shared<Event>(e);
  s->summary = true;
  s->count = 1;
  s->first_ms = s->last_ms = e.time_ms;
  if (key.find(std::string("\0*\0", 3)) != std::string::npos) s->request.client_ip = "*";
  summaries_.emplace(std::move(key), Summary{std::move(s)});
}

std::string Exporter::new_id() {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng_()),
                static_cast<unsigned long long>(rng_()));
  return buf;
}

void Exporter::flush_summaries_locked(Clock::time_point now) {
  for (auto& [key, s] : summaries_) {
    s.sample->event_id = new_id();  // one id per summary record: a re-send keeps it
    s.sample->time_ms = s.sample->last_ms;
    s.sample->time = format_rfc3339_ms(s.sample->last_ms);
    if (enqueue_locked(std::move(s.sample), now)) ++stats_.summaries;
  }
  summaries_.clear();
  if (!queue_.empty()) cv_.notify_one();
}

void Exporter::flush_summaries_now() noexcept {
  try {
    std::lock_guard<std::mutex> lock(mu_);
    flush_summaries_locked(Clock::now());
  } catch (...) {
  }
}

std::string Exporter::record_for(const Event& e, bool* compacted, bool* truncated) const {
  thread_local Fields extra;
  extra.clear();
  const std::string& host = config_.format_options.host.empty() ? local_hostname()
                                                                : config_.format_options.host;
  for (const auto& [k, t] : config_.fields) extra.emplace_back(k, t.render(e, host));
  std::string record = format_event(config_.format, e, extra, config_.format_options);
  const bool syslog = config_.kind == ExportConfig::Kind::kSyslogUdp ||
                      config_.kind == ExportConfig::Kind::kSyslogTcp ||
                      config_.kind == ExportConfig::Kind::kSyslogTls;
  if (!syslog) return record;
  const std::string msgid = e.summary ? "summary" : outcome_name(e.outcome);
  std::string msg = syslog_message(config_.syslog, syslog_severity(e.severity),
                                   e.summary ? e.last_ms : e.time_ms, msgid, record);
  if (msg.size() <= config_.max_message) return msg;
  FormatOptions small = config_.format_options;
  small.compact = true;
  record = format_event(config_.format, e, extra, small);
  *compacted = true;
  msg = syslog_message(config_.syslog, syslog_severity(e.severity),
                       e.summary ? e.last_ms : e.time_ms, msgid, record);
  if (msg.size() <= config_.max_message) return msg;
  *truncated = true;
  return std::string(utf8_prefix(msg, config_.max_message));
}

// A transport call's timeout: the configured one, within what is left of a shutdown.
std::chrono::milliseconds Exporter::call_timeout_locked(Clock::time_point now) const {
  if (!stopping_) return config_.timeout;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(stop_deadline_ - now);
  return std::max(std::chrono::milliseconds(1), std::min(config_.timeout, left));
}

// A call that may succeed later (send, or settle): counted, and the next waits its backoff.
void Exporter::retry_later_locked(const SendResult& r) {
  ++stats_.send_errors;
  stats_.last_error = r.error;
  stats_.last_error_ms = now_ms();
  retry_at_ = Clock::now() + backoff_locked(r.retry_after_ms);
}

std::chrono::milliseconds Exporter::backoff_locked(int retry_after_ms) {
  ++failures_;
  std::int64_t base = config_.retry_initial.count();
  for (int i = 1; i < failures_ && base < config_.retry_max.count(); ++i) base *= 2;
  base = std::min<std::int64_t>(base, config_.retry_max.count());
  // Half fixed, half random: spreads the retries of many exporters without ever retrying at
  // once.
  std::int64_t wait = base / 2 + static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(base / 2 + 1));
  return std::chrono::milliseconds(std::max<std::int64_t>(wait, retry_after_ms));
}

void Exporter::run() noexcept {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    try {
      if (!step(lock)) break;
    } catch (...) {
      // std::bad_alloc while formatting: back off and try again; the batch stays queued.
      if (!lock.owns_lock()) lock.lock();
      stats_.last_error = "out of memory";
      cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
  }
  stats_.dropped_shutdown += queue_.size();
  queue_.clear();
  queue_bytes_ = 0;
  lock.unlock();
  transport_->close();
}

// One turn of the worker: false when it is done.
bool Exporter::step(std::unique_lock<std::mutex>& lock) {
  auto now = Clock::now();
  if (now >= summary_due_ || (stopping_ && !summaries_.empty())) {
    flush_summaries_locked(now);
    summary_due_ = now + config_.summary_interval;
  }
  // Stopping waits for the queue and for what the transport has not confirmed (a stream
  // whose receiver resets it then is written again), up to the deadline.
  if (stopping_ && ((queue_.empty() && !transport_->unconfirmed()) || now >= stop_deadline_))
    return false;
  bool due = !queue_.empty() && now >= retry_at_ &&
             (stopping_ || queue_.size() >= batch_limit_ || queue_bytes_ >= config_.max_batch_bytes ||
              now - queue_.front().queued >= config_.flush_interval);
  if (!due && queue_.empty() && now >= settle_at_ && now >= retry_at_ &&
      transport_->unconfirmed()) {
    // Nothing to send: the transport looks after what it sent last (the next batch would,
    // but it may not come for hours); when stopping, it confirms what it can at once.
    const auto timeout = call_timeout_locked(now);
    const bool stopping = stopping_;
    lock.unlock();
    SendResult r = stopping ? transport_->finish(timeout) : transport_->settle(timeout);
    lock.lock();
    settle_at_ = Clock::now() + kSettleInterval;
    if (r.kind != SendResult::Kind::kOk) retry_later_locked(r);
    else failures_ = 0;
    return true;
  }
  if (!due) {
    auto wake = summary_due_;
    if (!queue_.empty())
      wake = std::min(wake, std::max(retry_at_, queue_.front().queued + config_.flush_interval));
    else if (transport_->unconfirmed())
      wake = std::min(wake, std::max(settle_at_, retry_at_));
    if (stopping_) wake = std::min(wake, stop_deadline_);
    cv_.wait_until(lock, wake);
    return true;
  }

  std::vector<std::shared_ptr<const Event>> batch;
  std::size_t bytes = 0;
  for (const Item& it : queue_) {
    if (batch.size() >= batch_limit_ || (!batch.empty() && bytes + it.bytes > config_.max_batch_bytes))
      break;
    batch.push_back(it.event);
    bytes += it.bytes;
  }
  const auto timeout = call_timeout_locked(now);
  const bool is_retry = failures_ > 0;
  lock.unlock();

  std::vector<std::string> records;
  records.reserve(batch.size());
  std::uint64_t compacted = 0, truncated = 0;
  for (const auto& e : batch) {
    bool c = false, t = false;
    records.push_back(record_for(*e, &c, &t));
    compacted += c;
    truncated += t;
  }
  SendResult r = transport_->send(records, timeout);

  lock.lock();
  stats_.compacted += compacted;
  stats_.truncated += truncated;
  if (is_retry) stats_.retried += batch.size();
  auto pop = [&](std::size_t n) {
    for (std::size_t i = 0; i < n && !queue_.empty(); ++i) {
      queue_bytes_ -= queue_.front().bytes;
      queue_.pop_front();
    }
  };
  switch (r.kind) {
    case SendResult::Kind::kOk:
      pop(batch.size());
      settle_at_ = stopping_ ? Clock::now() : Clock::now() + kSettleInterval;
      stats_.sent += batch.size();
      stats_.last_success_ms = now_ms();
      failures_ = 0;
      retry_at_ = {};
      batch_limit_ = std::min(config_.max_batch, batch_limit_ * 2);  // regrow after a 413
      break;
    case SendResult::Kind::kReject:
      pop(batch.size());
      stats_.failed += batch.size();
      stats_.last_error = r.error;
      stats_.last_error_ms = now_ms();
      failures_ = 0;
      retry_at_ = {};
      break;
    case SendResult::Kind::kTooLarge:
      stats_.last_error = r.error;
      stats_.last_error_ms = now_ms();
      if (batch.size() == 1) {
        pop(1);
        ++stats_.failed;
      } else {
        batch_limit_ = std::max<std::size_t>(1, batch.size() / 2);
      }
      break;
    case SendResult::Kind::kRetry:
      retry_later_locked(r);
      break;
  }
  return true;
}

void Exporter::request_stop() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  stopping_ = true;
  stop_deadline_ = Clock::now() + config_.shutdown_timeout;
  retry_at_ = std::min(retry_at_, Clock::now() + config_.retry_initial);
  settle_at_ = Clock::now();  // the transport confirms what it can at once (finish)
  cv_.notify_all();
}

void Exporter::join() noexcept {
  if (worker_.joinable()) worker_.join();
}

void Exporter::stop() noexcept {
  request_stop();
  join();
}

ExporterStats Exporter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  ExporterStats s = stats_;
  s.queue_depth = queue_.size();
  s.queue_bytes = queue_bytes_;
  s.summary_keys = summaries_.size();
  return s;
}

std::unique_ptr<ExportSet> ExportSet::create(std::vector<ExportConfig> configs, std::string* error) {
  std::vector<std::unique_ptr<Exporter>> exporters;
  for (auto& c : configs) {
    // Two exports with one name would share a metrics series: number them.
    for (const auto& e : exporters)
      if (e->name() == c.name) c.name += "#" + std::to_string(exporters.size() + 1);
    auto e = Exporter::create(std::move(c), error);
    if (!e) return nullptr;
    exporters.push_back(std::move(e));
  }
  return std::make_unique<ExportSet>(std::move(exporters));
}

ExportSet::ExportSet(std::vector<std::unique_ptr<Exporter>> exporters)
    : exporters_(std::move(exporters)) {}

ExportSet::~ExportSet() { stop(); }

void ExportSet::start() {
  for (auto& e : exporters_) e->start();
  started_ = true;
}

void ExportSet::submit_json(std::string_view json) noexcept {
  if (exporters_.empty()) return;
  try {
    auto e = std::make_shared<Event>();
    std::string error;
    if (!parse_event(json, EventLimits{}, now_ms(), e.get(), &error)) {
      ++invalid_;
      return;
    }
    submit(e);
  } catch (...) {
    ++invalid_;
  }
}

void ExportSet::submit(const std::shared_ptr<const Event>& event) noexcept {
  for (auto& e : exporters_) e->submit(event);
}

void ExportSet::stop() noexcept {
  for (auto& e : exporters_) e->request_stop();
  for (auto& e : exporters_) e->join();
}

std::string ExportSet::prometheus() const {
  std::vector<std::pair<std::string, ExporterStats>> all;
  for (const auto& e : exporters_) all.emplace_back(e->name(), e->stats());
  return render_export_metrics(all, invalid_.load());
}

}  // namespace vigil::exports
