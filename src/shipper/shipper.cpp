#include "shipper/shipper.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace vigil::shipper {
namespace {

using Clock = std::chrono::steady_clock;

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// The integer after "name": in a JSON answer (vigild's own small objects).
long long json_int(const std::string& body, const char* name, long long def) {
  std::string needle = std::string("\"") + name + "\":";
  auto at = body.find(needle);
  if (at == std::string::npos) return def;
  return std::strtoll(body.c_str() + at + needle.size(), nullptr, 10);
}

// The integer value of the top-level key `name` of a JSON object text. The policy answer's
// keys come sorted ({"app","policy":{...},...,"version"}), and a policy document may have a
// "version" of its own: only the outer one counts.
long long top_level_int(const std::string& body, const char* name, long long def) {
  std::string key = std::string("\"") + name + "\"";
  int depth = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '"') {
      std::size_t end = i + 1;
      while (end < body.size() && body[end] != '"') end += body[end] == '\\' ? 2 : 1;
      if (depth == 1 && body.compare(i, key.size(), key) == 0 && end == i + key.size() - 1) {
        std::size_t at = end + 1;
        while (at < body.size() && (body[at] == ' ' || body[at] == ':')) ++at;
        return std::strtoll(body.c_str() + at, nullptr, 10);
      }
      i = end;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return def;
}

// The elements of a JSON array text, as texts (strings and nesting respected).
std::vector<std::string> split_array(const std::string& s) {
  std::vector<std::string> out;
  int depth = 0;
  bool in_string = false;
  std::size_t start = std::string::npos;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      if (depth == 1 && start == std::string::npos) start = i;
    } else if (c == '[' || c == '{') {
      if (depth == 1 && start == std::string::npos) start = i;
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
      if (depth == 0) {
        if (start != std::string::npos) out.push_back(s.substr(start, i - start));
        break;
      }
    } else if (c == ',' && depth == 1) {
      if (start != std::string::npos) out.push_back(s.substr(start, i - start));
      start = std::string::npos;
    } else if (depth == 1 && start == std::string::npos && c != ' ' && c != '\n' && c != '\t' &&
               c != '\r') {
      start = i;
    }
  }
  for (auto& e : out)
    while (!e.empty() && (e.back() == ' ' || e.back() == '\n' || e.back() == '\r')) e.pop_back();
  return out;
}

std::string join_array(const std::vector<std::string>& events, std::size_t from, std::size_t to) {
  std::string out = "[";
  for (std::size_t i = from; i < to; ++i) {
    if (i > from) out += ',';
    out += events[i];
  }
  return out + "]";
}

}  // namespace

std::unique_ptr<Shipper> Shipper::create(ShipperOptions options,
                                         std::unique_ptr<Transport> transport) {
  if (!transport) return nullptr;
  if (options.agent_id.empty()) {
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    options.agent_id = std::string(host) + ":" + std::to_string(::getpid());
  }
  return std::unique_ptr<Shipper>(new Shipper(std::move(options), std::move(transport)));
}

Shipper::Shipper(ShipperOptions options, std::unique_ptr<Transport> transport)
    : options_(std::move(options)),
      transport_(std::move(transport)),
      spool_(options_.spool_dir, options_.spool_max_bytes),
      policy_version_(options_.policy_version) {}

Shipper::~Shipper() { stop(std::chrono::milliseconds(0)); }

void Shipper::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (sender_.joinable()) return;
  stopping_ = false;
  sender_ = std::thread([this] { run_sender(); });
  if (options_.on_policy) poller_ = std::thread([this] { run_poller(); });
}

bool Shipper::enqueue(std::string event_json) noexcept {
  try {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= options_.memory_events) {
      ++dropped_full_;
      return false;
    }
    queue_.push_back(std::move(event_json));
    ++enqueued_;
    if (queue_.size() >= options_.max_batch_events) cv_.notify_all();
    return true;
  } catch (...) {
    ++dropped_full_;
    return false;
  }
}

bool Shipper::flush(std::chrono::milliseconds timeout) noexcept {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.notify_all();
  return cv_.wait_for(lock, timeout, [this] { return queue_.empty() && in_flight_ == 0; });
}

void Shipper::stop(std::chrono::milliseconds drain) noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !sender_.joinable()) return;
    stopping_ = true;
    drain_deadline_ = Clock::now() + drain;
  }
  cv_.notify_all();
  if (sender_.joinable()) sender_.join();
  transport_->cancel();  // the poller's long-poll
  if (poller_.joinable()) poller_.join();
}

ShipperStats Shipper::stats() const {
  ShipperStats s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.queued = queue_.size() + in_flight_;
    s.last_error = last_error_;
  }
  s.enqueued = enqueued_;
  s.sent = sent_;
  s.duplicates = duplicates_;
  s.dropped_full = dropped_full_;
  s.dropped_spool = dropped_spool_;
  s.rejected = rejected_;
  s.retries = retries_;
  s.spooled = spooled_;
  s.batches = batches_;
  s.heartbeats = heartbeats_;
  s.policy_updates = policy_updates_;
  s.spool_bytes = spool_.bytes();
  return s;
}

std::chrono::milliseconds Shipper::next_backoff(int retry_after_s) {
  // Exponential, with full jitter between the initial delay and the current bound: agents that
  // lost the server together do not come back together.
  auto bound = backoff_.count() == 0 ? options_.backoff_initial
                                     : std::min(options_.backoff_max, backoff_ * 2);
  backoff_ = bound;
  std::uniform_int_distribution<long long> pick(options_.backoff_initial.count(),
                                                std::max(options_.backoff_initial.count(),
                                                         bound.count()));
  auto delay = std::chrono::milliseconds(pick(rng_));
  return std::max(delay, std::chrono::milliseconds(static_cast<long long>(retry_after_s) * 1000));
}

bool Shipper::take_batch(std::string* batch, std::size_t* events) {
  if (queue_.empty()) return false;
  *batch = "[";
  *events = 0;
  while (!queue_.empty() && *events < options_.max_batch_events &&
         (*events == 0 || batch->size() + queue_.front().size() + 1 < options_.max_batch_bytes)) {
    if (*events) *batch += ',';
    *batch += queue_.front();
    queue_.pop_front();
    ++*events;
  }
  *batch += ']';
  in_flight_ += *events;
  return true;
}

bool Shipper::deliver(const std::string& batch, std::size_t events) {
  Response r = transport_->post("/api/v1/events", batch);
  ++batches_;
  if (r.status == 202) {
    sent_ += static_cast<std::uint64_t>(json_int(r.body, "accepted", 0));
    duplicates_ += static_cast<std::uint64_t>(json_int(r.body, "duplicates", 0));
    backoff_ = std::chrono::milliseconds(0);
    return true;
  }
  std::string why = r.status ? "vigild answered " + std::to_string(r.status) + ": " + r.body.substr(0, 200)
                             : "vigild unreachable: " + r.error;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = why;
  }
  if (r.status == 400) {  // malformed for good: retrying cannot help
    rejected_ += events;
    return true;
  }
  if (r.status == 413) {  // too large: halves, each delivered or parked on its own
    auto parts = split_array(batch);
    if (parts.size() <= 1) {
      rejected_ += events;
      return true;
    }
    std::size_t half = parts.size() / 2;
    for (auto [from, to] : {std::pair{std::size_t{0}, half}, std::pair{half, parts.size()}}) {
      std::string part = join_array(parts, from, to);
      if (!deliver(part, to - from)) {
        if (spool_.put(part, to - from)) {
          spooled_ += to - from;
        } else {
          dropped_spool_ += to - from;
        }
      }
    }
    return true;
  }
  ++retries_;
  return false;
}

void Shipper::heartbeat() {
  std::string body = "{\"agent_id\":" + json_string(options_.agent_id) +
                     ",\"app\":" + json_string(options_.app) +
                     ",\"pid\":" + std::to_string(::getpid()) +
                     ",\"version\":" + json_string(options_.version) +
                     ",\"mode\":" + json_string(options_.mode) +
                     ",\"interval_s\":" + std::to_string(options_.heartbeat_interval.count()) +
                     ",\"policy_version\":" + std::to_string(policy_version_.load());
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  body += ",\"host\":" + json_string(host);
  if (options_.counters_json) {
    std::string counters = options_.counters_json();
    if (!counters.empty() && counters.front() == '{') body += ",\"counters\":" + counters;
  }
  body += "}";
  Response r = transport_->post("/api/v1/agents/heartbeat", body);
  if (r.status == 200) ++heartbeats_;
}

void Shipper::run_sender() noexcept {
  if (options_.on_thread_start) options_.on_thread_start();
  try {
    heartbeat();  // registers
    auto next_heartbeat = Clock::now() + options_.heartbeat_interval;
    auto retry_at = Clock::now();
    for (;;) {
      bool stopping;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, options_.flush_interval, [this] {
          return stopping_ || queue_.size() >= options_.max_batch_events;
        });
        stopping = stopping_;
      }
      auto now = Clock::now();
      if (now >= next_heartbeat && !stopping) {
        heartbeat();
        next_heartbeat = now + options_.heartbeat_interval;
      }
      bool out_of_time = stopping && now >= drain_deadline_;
      // Sending is allowed unless we are backing off (a stop ends the back-off).
      bool can_send = !out_of_time && (stopping || now >= retry_at);
      bool failed = false;

      // The spool first: it holds the oldest events.
      if (can_send) {
        while (auto c = spool_.claim()) {
          if (deliver(c->batch, c->events)) {
            spool_.done(*c);
          } else {
            spool_.release(*c);
            failed = true;
            break;
          }
        }
      }
      // Then memory: sent while vigild answers, parked in the spool while it does not (so an
      // outage costs disk, not memory, and survives a restart of the process).
      for (;;) {
        std::string batch;
        std::size_t events = 0;
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (!take_batch(&batch, &events)) break;
        }
        bool sent = false;
        if (can_send && !failed) {
          sent = deliver(batch, events);
          failed = !sent;
        }
        bool keep_in_memory = false;
        if (!sent) {
          if (spool_.put(batch, events)) {
            spooled_ += events;
          } else if (!out_of_time) {
            keep_in_memory = true;  // no spool, or it is full: wait in memory, in order
          } else {
            dropped_spool_ += events;
          }
        }
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (keep_in_memory) {
            auto parts = split_array(batch);
            for (auto it = parts.rbegin(); it != parts.rend(); ++it) queue_.push_front(*it);
          }
          in_flight_ -= events;
        }
        cv_.notify_all();
        if (keep_in_memory) break;
      }
      if (failed) retry_at = Clock::now() + next_backoff(0);
      bool empty;
      {
        std::lock_guard<std::mutex> lock(mu_);
        empty = queue_.empty();
      }
      if (empty) transport_->idle();
      if (stopping) {
        std::unique_lock<std::mutex> lock(mu_);
        if (queue_.empty() || Clock::now() >= drain_deadline_) {
          dropped_spool_ += queue_.size();  // nowhere to go before the deadline
          queue_.clear();
          cv_.notify_all();
          return;
        }
        // Draining to a server that does not answer, without a spool: a short pause.
        if (failed) cv_.wait_for(lock, std::chrono::milliseconds(100));
      }
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = "sender stopped by an internal error";
  }
}

void Shipper::run_poller() noexcept {
  if (options_.on_thread_start) options_.on_thread_start();
  std::int64_t version = options_.policy_version;
  std::chrono::milliseconds backoff{0};
  std::mt19937_64 rng{std::random_device{}()};
  auto sleep = [&](std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return stopping_; });
  };
  try {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
      }
      std::string path = "/api/v1/agents/policy?version=" + std::to_string(version) +
                         "&wait=" + std::to_string(options_.policy_wait.count());
      Response r = transport_->get(path, options_.policy_wait);
      if (r.status == 200) {
        backoff = std::chrono::milliseconds(0);
        long long v = top_level_int(r.body, "version", -1);
        if (v >= 0 && v != version) {
          version = v;
          ++policy_updates_;
          options_.on_policy(version, r.body);
          policy_version_.store(version);  // heartbeats report the version applied
        }
        continue;
      }
      if (r.status == 304) {
        if (r.retry_after_s > 0 && !sleep(std::chrono::seconds(r.retry_after_s))) return;
        continue;
      }
      // Unreachable or refused: try again later, with jitter.
      backoff = std::min(options_.backoff_max,
                         backoff.count() ? backoff * 2 : std::chrono::milliseconds(1000));
      std::uniform_int_distribution<long long> pick(backoff.count() / 2, backoff.count());
      if (!sleep(std::chrono::milliseconds(pick(rng)))) return;
    }
  } catch (...) {
  }
}

}  // namespace vigil::shipper
