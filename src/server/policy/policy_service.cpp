#include "server/policy/policy_service.hpp"

#include <chrono>

#include "server/auth/audit.hpp"
#include "server/common/log.hpp"
#include "server/common/time.hpp"
#include "vigil/policy.hpp"

namespace vigil::server::policy {

using storage::Connection;

Json policy_json(const PolicyDoc& doc) {
  std::string error;
  auto parsed = doc.version ? parse_json(doc.document, &error) : std::nullopt;
  return {{"app", doc.app},
          {"version", doc.version},
          {"policy", parsed ? *parsed : Json()},
          {"updated_at", doc.updated_ms ? Json(format_rfc3339(doc.updated_ms)) : Json()},
          {"updated_by", doc.updated_by}};
}

PolicyService::PolicyService(storage::Database* db, PolicyOptions options)
    : db_(db), options_(options) {}

PolicyService::~PolicyService() { stop(); }

void PolicyService::start() {
  refresh();
  std::lock_guard<std::mutex> lock(mu_);
  if (watcher_.joinable()) return;
  stopping_ = false;
  watcher_ = std::thread([this] { run_watcher(); });
}

void PolicyService::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

void PolicyService::run_watcher() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms));
    if (stopping_) break;
    lock.unlock();
    try {
      refresh();
    } catch (const std::exception& e) {
      log_warning(std::string("policy watch: ") + e.what());
    }
    lock.lock();
  }
}

void PolicyService::refresh() {
  auto rows = db_->read([](Connection& c) { return c.query("SELECT app, version FROM policies"); });
  if (options_.between_poll_read_and_apply) options_.between_poll_read_and_apply();
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& r : rows) {
      // Versions only grow. A poll that read its rows before this process's put committed
      // must not take the cached version back (put() raised it meanwhile).
      auto& v = versions_[r.text(0)];
      if (r.integer(1) > v) {
        v = r.integer(1);
        changed = true;
      }
    }
  }
  if (changed) cv_.notify_all();
}

PolicyDoc PolicyService::get(const std::string& app) {
  auto rows = db_->read([&](Connection& c) {
    return c.query(
        "SELECT version, document, updated_ms, updated_by FROM policies WHERE app = ?", {app});
  });
  PolicyDoc d;
  d.app = app;
  if (!rows.empty()) {
    d.version = rows[0].integer(0);
    d.document = rows[0].text(1);
    d.updated_ms = rows[0].integer(2);
    d.updated_by = rows[0].text(3);
  }
  return d;
}

std::int64_t PolicyService::current_version(const std::string& app) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = versions_.find(app);
  return it == versions_.end() ? 0 : it->second;
}

bool PolicyService::validate(const Json& document, Json* diagnostics) {
  std::vector<vigil::PolicyDiagnostic> diags;
  vigil::Policy::compile(dump_json(document), &diags);
  bool errors = false;
  *diagnostics = Json::array();
  for (const auto& d : diags) {
    bool error = d.severity == vigil::PolicyDiagnostic::Severity::kError;
    errors = errors || error;
    diagnostics->push_back({{"severity", error ? "error" : "warning"},
                            {"code", d.code},
                            {"location", d.location},
                            {"message", d.message}});
  }
  return !errors;
}

Status PolicyService::put(const std::string& actor, const std::string& client_ip,
                          const std::string& app, const Json& document, const std::string& comment,
                          std::int64_t base_version, Json* out) {
  if (!document.is_object())
    return Status::error(400, "bad_policy", "the policy must be a JSON object (docs/policy.md)");
  Json diagnostics;
  if (!validate(document, &diagnostics)) {
    Status s = Status::error(400, "bad_policy", "the policy has errors: see diagnostics");
    *out = {{"diagnostics", diagnostics}};
    return s;
  }
  std::string text = dump_json(document);
  std::int64_t now = now_ms();
  std::int64_t version = 0;
  Status st = db_->write([&](Connection& c) -> Status {
    auto cur = c.query("SELECT version FROM policies WHERE app = ?", {app});
    std::int64_t current = cur.empty() ? 0 : cur[0].integer(0);
    if (base_version >= 0 && base_version != current)
      return Status::error(409, "conflict",
                           "the policy changed meanwhile (now version " +
                               std::to_string(current) + "); reload it and apply your change again");
    // The WHERE guards the optimistic lock against a concurrent writer on PostgreSQL.
    auto rows = c.query(
        "INSERT INTO policies (app, version, document, updated_ms, updated_by) "
        "VALUES (?, 1, ?, ?, ?) ON CONFLICT (app) DO UPDATE SET "
        "version = policies.version + 1, document = excluded.document, "
        "updated_ms = excluded.updated_ms, updated_by = excluded.updated_by "
        "WHERE policies.version = ? RETURNING version",
        {app, text, now, actor, current});
    if (rows.empty())
      return Status::error(409, "conflict", "the policy changed meanwhile; try again");
    version = rows[0].integer(0);
    c.exec(
        "INSERT INTO policy_history (app, version, document, time_ms, actor, comment) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        {app, version, text, now, actor, comment});
    auth::record_audit(c, {actor, "policy.update", "app:" + app,
                           {{"version", version}, {"comment", comment}}, client_ip});
    return {};
  });
  if (!st.ok()) return st;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& v = versions_[app];
    if (version > v) v = version;
  }
  cv_.notify_all();  // this vigild's waiters at once; the others at their next poll
  *out = {{"app", app}, {"version", version}, {"diagnostics", diagnostics}};
  return {};
}

Status PolicyService::amend(const std::string& actor, const std::string& client_ip,
                            const std::string& app, const std::function<Status(Json&)>& change,
                            const std::string& comment, Json* out) {
  for (int attempt = 0;; ++attempt) {
    PolicyDoc current = get(app);
    Json doc = Json::object();
    if (current.version) {
      std::string error;
      auto parsed = parse_json(current.document, &error);
      if (!parsed || !parsed->is_object())
        return Status::error(500, "internal", "the stored policy of " + app + " is not JSON");
      doc = std::move(*parsed);
    }
    Status st = change(doc);
    if (!st.ok()) return st;
    st = put(actor, client_ip, app, doc, comment, current.version, out);
    if (st.http() != 409 || attempt >= 3) return st;
  }
}

Json PolicyService::history(const std::string& app, int limit) {
  auto rows = db_->read([&](Connection& c) {
    return c.query(
        "SELECT version, time_ms, actor, comment, document FROM policy_history WHERE app = ? "
        "ORDER BY version DESC LIMIT ?",
        {app, std::int64_t{limit}});
  });
  Json out = Json::array();
  for (const auto& r : rows) {
    std::string error;
    auto doc = parse_json(r.text(4), &error);
    out.push_back({{"version", r.integer(0)},
                   {"time", format_rfc3339(r.integer(1))},
                   {"actor", r.text(2)},
                   {"comment", r.text(3)},
                   {"policy", doc ? *doc : Json()}});
  }
  return out;
}

PolicyService::Wait PolicyService::wait_for_change(const std::string& app, std::int64_t known,
                                                   int timeout_ms, PolicyDoc* out) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto changed = [&] {
      auto it = versions_.find(app);
      return (it == versions_.end() ? 0 : it->second) != known;
    };
    if (!changed()) {
      if (stopping_) return Wait::kStopping;
      if (timeout_ms <= 0) return Wait::kTimeout;
      if (waiters_ >= options_.max_waiters) return Wait::kBusy;
      ++waiters_;
      bool woke = cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                               [&] { return stopping_ || changed(); });
      --waiters_;
      if (!woke) return Wait::kTimeout;
      if (!changed()) return Wait::kStopping;
    }
  }
  *out = get(app);
  return Wait::kChanged;
}

}  // namespace vigil::server::policy
