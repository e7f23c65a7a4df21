// Policies per application: versioned documents (the JSON form of docs/policy.md), validated
// by the engine's own compiler (vigil::Policy::compile) before they are stored, kept with
// their history, and pushed to agents by long-poll.
//
// Push across processes: every vigild reads the table of current versions every
// `poll_ms` (a few rows), and a PUT through this vigild wakes its waiters at once; a waiting
// agent is answered within poll_ms of a change made through any vigild sharing the database.
#ifndef VIGIL_SERVER_POLICY_POLICY_SERVICE_HPP_
#define VIGIL_SERVER_POLICY_POLICY_SERVICE_HPP_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "server/common/json.hpp"
#include "server/common/status.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::policy {

struct PolicyOptions {
  int poll_ms = 1000;
  int max_waiters = 16;  // long-polls held at once (each holds an HTTP worker thread)
  // Tests only: runs on the watcher thread between reading the versions and applying them,
  // the window in which a put of this process may commit.
  std::function<void()> between_poll_read_and_apply;
};

struct PolicyDoc {
  std::string app;
  std::int64_t version = 0;  // 0: no policy set (the engine's defaults apply)
  std::string document;      // JSON text
  std::int64_t updated_ms = 0;
  std::string updated_by;
};

// The agent's answer to a policy poll: {"app", "version", "policy", "updated_at"}.
Json policy_json(const PolicyDoc& doc);

class PolicyService {
 public:
  PolicyService(storage::Database* db, PolicyOptions options);
  ~PolicyService();  // stop()

  void start();  // loads the versions, then watches the database
  void stop();   // wakes every waiter

  PolicyDoc get(const std::string& app);
  std::int64_t current_version(const std::string& app);

  // Validates `document` (a JSON object) with vigil::Policy::compile; errors -> 400 with
  // "diagnostics". With `base_version` >= 0, refuses (409) unless the current version is that
  // one (an editor's optimistic lock). On success *out = {app, version, diagnostics}.
  Status put(const std::string& actor, const std::string& client_ip, const std::string& app,
             const Json& document, const std::string& comment, std::int64_t base_version,
             Json* out);
  // Read, change, write (with the optimistic lock, retried on a race): the incident actions.
  Status amend(const std::string& actor, const std::string& client_ip, const std::string& app,
               const std::function<Status(Json&)>& change, const std::string& comment, Json* out);

  Json history(const std::string& app, int limit);

  enum class Wait { kChanged, kTimeout, kBusy, kStopping };
  // Waits until the app's version differs from `known` (at most timeout_ms); *out is the
  // current policy when it does.
  Wait wait_for_change(const std::string& app, std::int64_t known, int timeout_ms, PolicyDoc* out);

  // Validates without storing: the diagnostics, and whether there are errors.
  static bool validate(const Json& document, Json* diagnostics);

 private:
  void refresh();  // versions from the database; wakes waiters of changed apps
  void run_watcher();

  storage::Database* db_;
  PolicyOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::int64_t> versions_;
  int waiters_ = 0;
  bool stopping_ = false;
  std::thread watcher_;
};

}  // namespace vigil::server::policy

#endif  // VIGIL_SERVER_POLICY_POLICY_SERVICE_HPP_
