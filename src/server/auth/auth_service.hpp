// Users, sessions, API tokens and agent keys.
//
// - Users have a role (admin, analyst, viewer) and an argon2id password hash.
// - A session (POST /api/v1/session) is a random bearer token; with `"cookie": true` it is also
//   set as an HttpOnly SameSite=Strict cookie, and the answer carries a CSRF token that the
//   page must send as X-CSRF-Token on every state change (http/router.cpp checks it).
// - API tokens are long-lived bearer tokens for automation, with a role at most their user's.
// - Agent keys authenticate agents of one application (ingest, heartbeat, policy poll).
// Every secret is random (32 bytes) and stored only as its SHA-256: a database leak gives no
// usable credential. Failed logins are counted per user name and per client address in the
// database (so every vigild of a cluster shares the limit); past the limit, 429.
//
// Thread-safe. Methods touch the database and may throw storage::StorageError (the router
// answers 503).
#ifndef VIGIL_SERVER_AUTH_AUTH_SERVICE_HPP_
#define VIGIL_SERVER_AUTH_AUTH_SERVICE_HPP_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "server/common/json.hpp"
#include "server/common/status.hpp"
#include "server/http/router.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::auth {

struct AuthOptions {
  std::int64_t session_ttl_ms = 12 * 3600 * 1000;
  std::int64_t login_window_ms = 15 * 60 * 1000;
  int login_max_failures_user = 10;  // per user name and window
  int login_max_failures_ip = 50;    // per client address and window
  int hash_concurrency = 2;          // argon2id runs at once (each ~20 MiB, tens of ms)
  std::int64_t key_cache_ms = 10000; // agent keys are re-read at most this often
};

struct Session {
  std::string token, csrf_token;  // csrf_token: cookie sessions only
  std::int64_t expires_ms = 0;
  std::string username;
  http::Role role = http::Role::kViewer;
};

class AuthService final : public http::Authenticator {
 public:
  AuthService(storage::Database* db, AuthOptions options);

  // On first start (no user at all) creates user `admin` with `password`, or with a random
  // one when `password` is empty; returns the password it set in that second case. Safe when
  // several vigild start at once.
  std::optional<std::string> bootstrap_admin(const std::string& password, Status* status);

  Status login(const std::string& username, const std::string& password,
               const std::string& client_ip, bool cookie, Session* out);
  Status logout(const http::Principal& p);

  // http::Authenticator
  bool authenticate(const httplib::Request& request, http::Principal* out) override;

  // Users (admin, except a user changing their own password).
  Json list_users();
  Status create_user(const http::Principal& actor, const std::string& client_ip,
                     const std::string& username, const std::string& password, http::Role role);
  struct UserChange {
    std::optional<std::string> password, current_password;
    std::optional<http::Role> role;
    std::optional<bool> disabled;
  };
  Status update_user(const http::Principal& actor, const std::string& client_ip,
                     const std::string& username, const UserChange& change);
  Status delete_user(const http::Principal& actor, const std::string& client_ip,
                     const std::string& username);

  // API tokens of the calling user (admins: everyone's with `all`).
  Status create_api_token(const http::Principal& actor, const std::string& client_ip,
                          const std::string& name, http::Role role, std::int64_t expires_ms,
                          Json* out);
  Json list_api_tokens(const http::Principal& actor, bool all);
  Status revoke_api_token(const http::Principal& actor, const std::string& client_ip,
                          std::int64_t id);

  // Agent keys (admin).
  Status create_agent_key(const http::Principal& actor, const std::string& client_ip,
                          const std::string& app, const std::string& name, Json* out);
  Json list_agent_keys(const std::string& app);
  Status revoke_agent_key(const http::Principal& actor, const std::string& client_ip,
                          std::int64_t id);

  // Drops expired sessions and stale login-failure counters.
  void housekeeping();

  // Password rules: 8 to 1024 bytes.
  static bool acceptable_password(const std::string& password, std::string* why);

 private:
  bool authenticate_token(const std::string& token, bool via_cookie, http::Principal* out);
  bool authenticate_key(const std::string& key, http::Principal* out);
  bool acquire_hash_slot();
  void release_hash_slot();
  int admins_left_without(storage::Connection& c, const std::string& username);

  storage::Database* db_;
  AuthOptions options_;
  std::string dummy_hash_;  // verified against for unknown users: same time as a real check

  std::mutex hash_mu_;
  std::condition_variable hash_cv_;
  int hashing_ = 0;

  struct CachedKey {
    std::int64_t id = 0;
    std::string app;
    bool revoked = false;
    std::int64_t fetched_ms = 0;
    std::int64_t last_used_written_ms = 0;
  };
  std::mutex keys_mu_;
  std::unordered_map<std::string, CachedKey> keys_;  // key hash -> key
};

}  // namespace vigil::server::auth

#endif  // VIGIL_SERVER_AUTH_AUTH_SERVICE_HPP_
