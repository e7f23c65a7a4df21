#include "server/auth/auth_service.hpp"

#include <httplib.h>

#include <algorithm>
#include <chrono>

#include "server/auth/audit.hpp"
#include "server/common/crypto.hpp"
#include "server/common/log.hpp"
#include "server/common/names.hpp"
#include "server/common/time.hpp"

namespace vigil::server::auth {
namespace {

using storage::Connection;
using storage::Row;

constexpr const char* kSessionPrefix = "vs_";
constexpr const char* kApiTokenPrefix = "vt_";
constexpr const char* kAgentKeyPrefix = "vk_";
constexpr const char* kCsrfPrefix = "vc_";
constexpr std::int64_t kLastUsedEveryMs = 60'000;

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The session cookie's value from a Cookie header ("a=b; vigil_session=TOKEN; c=d").
std::string cookie_token(const std::string& header) {
  std::string_view h = header;
  while (!h.empty()) {
    std::size_t end = h.find(';');
    std::string_view part = h.substr(0, end);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (starts_with(part, "vigil_session=")) return std::string(part.substr(14));
    if (end == std::string_view::npos) break;
    h.remove_prefix(end + 1);
  }
  return {};
}

Json user_json(const Row& r) {
  return {{"username", r.text(0)},
          {"role", r.text(1)},
          {"disabled", r.integer(2) != 0},
          {"created_at", format_rfc3339(r.integer(3))},
          {"updated_at", format_rfc3339(r.integer(4))}};
}

}  // namespace

AuthService::AuthService(storage::Database* db, AuthOptions options)
    : db_(db), options_(options), dummy_hash_(hash_password("vigil-dummy-password")) {}

bool AuthService::acceptable_password(const std::string& password, std::string* why) {
  if (password.size() < 8) {
    *why = "must be at least 8 characters";
    return false;
  }
  if (password.size() > 1024) {
    *why = "must be at most 1024 bytes";
    return false;
  }
  return true;
}

std::optional<std::string> AuthService::bootstrap_admin(const std::string& password,
                                                        Status* status) {
  bool any = db_->read([](Connection& c) {
    return !c.query("SELECT id FROM users LIMIT 1").empty();
  });
  if (any) return std::nullopt;
  std::string why;
  std::string chosen = password;
  bool generated = chosen.empty();
  if (generated) chosen = random_token("").substr(0, 20);
  if (!acceptable_password(chosen, &why)) {
    *status = Status::error(400, "bad_password", "VIGIL_ADMIN_PASSWORD " + why);
    return std::nullopt;
  }
  std::string hash = hash_password(chosen);
  bool created = db_->write([&](Connection& c) {
    // Another vigild may have created it meanwhile: the unique name makes this a no-op then.
    if (!c.query("SELECT id FROM users LIMIT 1").empty()) return false;
    std::int64_t now = now_ms();
    auto rows = c.query(
        "INSERT INTO users (username, password_hash, role, created_ms, updated_ms) "
        "VALUES ('admin', ?, 'admin', ?, ?) ON CONFLICT (username) DO NOTHING RETURNING id",
        {hash, now, now});
    if (rows.empty()) return false;
    record_audit(c, {"vigild", "user.create", "user:admin",
                     {{"role", "admin"}, {"reason", "first start"}}, ""});
    return true;
  });
  if (created && generated) return chosen;
  return std::nullopt;
}

bool AuthService::acquire_hash_slot() {
  std::unique_lock<std::mutex> lock(hash_mu_);
  if (!hash_cv_.wait_for(lock, std::chrono::seconds(10),
                         [this] { return hashing_ < options_.hash_concurrency; }))
    return false;
  ++hashing_;
  return true;
}

void AuthService::release_hash_slot() {
  std::lock_guard<std::mutex> lock(hash_mu_);
  --hashing_;
  hash_cv_.notify_one();
}

Status AuthService::login(const std::string& username, const std::string& password,
                          const std::string& client_ip, bool cookie, Session* out) {
  static const Status kWrong =
      Status::error(401, "bad_credentials", "wrong user name or password");
  if (username.empty() || username.size() > 64 || password.size() > 1024) return kWrong;
  std::int64_t now = now_ms();
  std::int64_t cutoff = now - options_.login_window_ms;
  std::string user_key = "u:" + username, ip_key = "ip:" + client_ip;

  // Over the limit: refuse before spending a password hash on it.
  auto counters = db_->read([&](Connection& c) {
    return c.query("SELECT k, window_start_ms, count FROM login_failures WHERE k IN (?, ?)",
                   {user_key, ip_key});
  });
  for (const auto& r : counters) {
    if (r.integer(1) < cutoff) continue;
    int limit = r.text(0) == user_key ? options_.login_max_failures_user
                                      : options_.login_max_failures_ip;
    if (r.integer(2) >= limit) {
      Status s = Status::error(429, "rate_limited",
                               "too many failed sign-ins; try again later");
      s.retry_after_s = static_cast<int>(
          std::max<std::int64_t>(1, (r.integer(1) + options_.login_window_ms - now) / 1000));
      return s;
    }
  }

  auto users = db_->read([&](Connection& c) {
    return c.query("SELECT id, password_hash, role, disabled FROM users WHERE username = ?",
                   {username});
  });
  if (!acquire_hash_slot()) {
    Status s = Status::error(503, "busy", "too many sign-ins at once; try again");
    s.retry_after_s = 1;
    return s;
  }
  bool ok;
  if (users.empty()) {
    verify_password(password, dummy_hash_);
    ok = false;
  } else {
    ok = verify_password(password, users[0].text(1)) && users[0].integer(3) == 0;
  }
  release_hash_slot();

  if (!ok) {
    db_->write([&](Connection& c) {
      for (const auto& k : {user_key, ip_key})
        c.exec(
            "INSERT INTO login_failures (k, window_start_ms, count) VALUES (?, ?, 1) "
            "ON CONFLICT (k) DO UPDATE SET "
            "count = CASE WHEN login_failures.window_start_ms < ? THEN 1 "
            "ELSE login_failures.count + 1 END, "
            "window_start_ms = CASE WHEN login_failures.window_start_ms < ? THEN ? "
            "ELSE login_failures.window_start_ms END",
            {k, now, cutoff, cutoff, now});
    });
    log_info("failed sign-in for '" + username + "' from " + client_ip);
    return kWrong;
  }

  Session s;
  s.token = random_token(kSessionPrefix);
  if (cookie) s.csrf_token = random_token(kCsrfPrefix);
  s.expires_ms = now + options_.session_ttl_ms;
  s.username = username;
  s.role = http::parse_role(users[0].text(2)).value_or(http::Role::kViewer);
  db_->write([&](Connection& c) {
    c.exec("DELETE FROM login_failures WHERE k = ?", {user_key});
    c.exec(
        "INSERT INTO tokens (token_hash, user_id, kind, name, role, csrf_hash, created_ms, "
        "expires_ms, last_used_ms) VALUES (?, ?, 'session', ?, ?, ?, ?, ?, ?)",
        {sha256_hex(s.token), users[0].integer(0), std::string(cookie ? "cookie" : "bearer"),
         users[0].text(2), cookie ? sha256_hex(s.csrf_token) : std::string(), now,
         s.expires_ms, now});
  });
  *out = std::move(s);
  return {};
}

Status AuthService::logout(const http::Principal& p) {
  if (p.token_kind != "session")
    return Status::error(400, "not_a_session",
                         "this credential is an API token: revoke it with DELETE "
                         "/api/v1/tokens/ID");
  db_->write([&](Connection& c) {
    c.exec("UPDATE tokens SET revoked = 1 WHERE id = ?", {p.token_id});
  });
  return {};
}

bool AuthService::authenticate(const httplib::Request& request, http::Principal* out) {
  std::string auth = request.get_header_value("Authorization");
  if (!auth.empty()) {
    if (auth.size() < 8 || auth.size() > 512 ||
        !(starts_with(auth, "Bearer ") || starts_with(auth, "bearer ")))
      return false;
    std::string token = auth.substr(7);
    while (!token.empty() && token.back() == ' ') token.pop_back();
    if (starts_with(token, kAgentKeyPrefix)) return authenticate_key(token, out);
    return authenticate_token(token, false, out);
  }
  std::string token = cookie_token(request.get_header_value("Cookie"));
  if (token.empty() || token.size() > 512 || !starts_with(token, kSessionPrefix)) return false;
  return authenticate_token(token, true, out);
}

bool AuthService::authenticate_token(const std::string& token, bool via_cookie,
                                     http::Principal* out) {
  if (!starts_with(token, kSessionPrefix) && !starts_with(token, kApiTokenPrefix)) return false;
  std::string hash = sha256_hex(token);
  auto rows = db_->read([&](Connection& c) {
    return c.query(
        "SELECT t.id, t.kind, t.role, t.csrf_hash, t.expires_ms, t.last_used_ms, t.revoked, "
        "u.id, u.username, u.role, u.disabled, t.name FROM tokens t "
        "JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
        {hash});
  });
  if (rows.empty()) return false;
  const Row& r = rows[0];
  std::int64_t now = now_ms();
  std::int64_t expires = r.integer(4);
  if (r.integer(6) != 0 || r.integer(10) != 0 || (expires != 0 && expires <= now)) return false;
  // A cookie carries a cookie session only; a bearer session cannot become a cookie.
  bool cookie_session = r.text(1) == "session" && r.text(11) == "cookie";
  if (via_cookie != cookie_session) return false;
  auto token_role = http::parse_role(r.text(2));
  auto user_role = http::parse_role(r.text(9));
  if (!token_role || !user_role) return false;
  out->kind = http::Principal::Kind::kUser;
  out->token_id = r.integer(0);
  out->token_kind = r.text(1);
  out->csrf_hash = r.text(3);
  out->expires_ms = expires;
  out->user_id = r.integer(7);
  out->username = r.text(8);
  out->role = std::min(*token_role, *user_role);
  out->via_cookie = via_cookie;
  if (now - r.integer(5) > kLastUsedEveryMs) {
    db_->write([&](Connection& c) {
      c.exec("UPDATE tokens SET last_used_ms = ? WHERE id = ?", {now, out->token_id});
    });
  }
  return true;
}

bool AuthService::authenticate_key(const std::string& key, http::Principal* out) {
  std::string hash = sha256_hex(key);
  std::int64_t now = now_ms();
  CachedKey entry;
  bool cached = false;
  {
    std::lock_guard<std::mutex> lock(keys_mu_);
    auto it = keys_.find(hash);
    if (it != keys_.end() && now - it->second.fetched_ms < options_.key_cache_ms) {
      entry = it->second;
      cached = true;
    }
  }
  if (!cached) {
    auto rows = db_->read([&](Connection& c) {
      return c.query("SELECT id, app, revoked, last_used_ms FROM agent_keys WHERE key_hash = ?",
                     {hash});
    });
    if (rows.empty()) return false;  // unknown keys are not cached: no cache flooding
    entry.id = rows[0].integer(0);
    entry.app = rows[0].text(1);
    entry.revoked = rows[0].integer(2) != 0;
    entry.fetched_ms = now;
    entry.last_used_written_ms = rows[0].integer(3);
  }
  if (entry.revoked) return false;
  bool write_last_used = now - entry.last_used_written_ms > kLastUsedEveryMs;
  if (write_last_used) entry.last_used_written_ms = now;
  {
    std::lock_guard<std::mutex> lock(keys_mu_);
    if (keys_.size() > 10000) keys_.clear();
    keys_[hash] = entry;
  }
  if (write_last_used) {
    db_->write([&](Connection& c) {
      c.exec("UPDATE agent_keys SET last_used_ms = ? WHERE id = ?", {now, entry.id});
    });
  }
  out->kind = http::Principal::Kind::kAgent;
  out->key_id = entry.id;
  out->app = entry.app;
  return true;
}

Json AuthService::list_users() {
  auto rows = db_->read([](Connection& c) {
    return c.query(
        "SELECT username, role, disabled, created_ms, updated_ms FROM users ORDER BY username");
  });
  Json out = Json::array();
  for (const auto& r : rows) out.push_back(user_json(r));
  return out;
}

Status AuthService::create_user(const http::Principal& actor, const std::string& client_ip,
                                const std::string& username, const std::string& password,
                                http::Role role) {
  if (!valid_username(username))
    return Status::error(400, "bad_field", "username: 1-64 characters of A-Z a-z 0-9 . _ @ -",
                         "username");
  std::string why;
  if (!acceptable_password(password, &why))
    return Status::error(400, "bad_field", "password: " + why, "password");
  std::string hash = hash_password(password);
  bool created = db_->write([&](Connection& c) {
    std::int64_t now = now_ms();
    auto rows = c.query(
        "INSERT INTO users (username, password_hash, role, created_ms, updated_ms) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING RETURNING id",
        {username, hash, std::string(http::role_name(role)), now, now});
    if (rows.empty()) return false;
    record_audit(c, {actor.actor(), "user.create", "user:" + username,
                     {{"role", http::role_name(role)}}, client_ip});
    return true;
  });
  if (!created) return Status::error(409, "exists", "user " + username + " already exists");
  return {};
}

int AuthService::admins_left_without(Connection& c, const std::string& username) {
  return static_cast<int>(
      c.query("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND username <> ?",
              {username})
          .at(0)
          .integer(0));
}

Status AuthService::update_user(const http::Principal& actor, const std::string& client_ip,
                                const std::string& username, const UserChange& change) {
  bool self = actor.username == username;
  bool admin = actor.role == http::Role::kAdmin;
  if (!admin && (!self || change.role || change.disabled))
    return Status::error(403, "forbidden",
                         "only an admin changes other users, roles and accounts; you may "
                         "change your own password");
  std::string new_hash;
  if (change.password) {
    std::string why;
    if (!acceptable_password(*change.password, &why))
      return Status::error(400, "bad_field", "password: " + why, "password");
    if (!admin) {
      // Changing one's own password needs the current one: a stolen session alone is not
      // enough to take the account over.
      auto rows = db_->read([&](Connection& c) {
        return c.query("SELECT password_hash FROM users WHERE username = ?", {username});
      });
      if (rows.empty() || !change.current_password ||
          !verify_password(*change.current_password, rows[0].text(0)))
        return Status::error(403, "bad_credentials", "current_password is wrong or missing",
                             "current_password");
    }
    new_hash = hash_password(*change.password);
  }
  return db_->write([&](Connection& c) -> Status {
    auto rows = c.query("SELECT id, role, disabled FROM users WHERE username = ?", {username});
    if (rows.empty()) return Status::error(404, "not_found", "no user " + username);
    std::int64_t id = rows[0].integer(0);
    bool demoting = (change.role && *change.role != http::Role::kAdmin) ||
                    (change.disabled && *change.disabled);
    if (demoting && rows[0].text(1) == "admin" && admins_left_without(c, username) == 0)
      return Status::error(409, "last_admin", "cannot demote or disable the last admin");
    Json details = Json::object();
    std::int64_t now = now_ms();
    if (change.role) {
      c.exec("UPDATE users SET role = ?, updated_ms = ? WHERE id = ?",
             {std::string(http::role_name(*change.role)), now, id});
      details["role"] = http::role_name(*change.role);
    }
    if (change.disabled) {
      c.exec("UPDATE users SET disabled = ?, updated_ms = ? WHERE id = ?",
             {std::int64_t{*change.disabled ? 1 : 0}, now, id});
      details["disabled"] = *change.disabled;
    }
    if (!new_hash.empty()) {
      c.exec("UPDATE users SET password_hash = ?, updated_ms = ? WHERE id = ?",
             {new_hash, now, id});
      details["password"] = "changed";
    }
    // A new password or a disabled account ends every session of the user (but the caller's,
    // when it is the user changing their own password).
    if (!new_hash.empty() || (change.disabled && *change.disabled))
      c.exec("UPDATE tokens SET revoked = 1 WHERE user_id = ? AND kind = 'session' AND id <> ?",
             {id, self ? actor.token_id : std::int64_t{0}});
    record_audit(c, {actor.actor(), "user.update", "user:" + username, details, client_ip});
    return {};
  });
}

Status AuthService::delete_user(const http::Principal& actor, const std::string& client_ip,
                                const std::string& username) {
  if (actor.username == username)
    return Status::error(409, "self", "you cannot delete your own account");
  return db_->write([&](Connection& c) -> Status {
    auto rows = c.query("SELECT id, role FROM users WHERE username = ?", {username});
    if (rows.empty()) return Status::error(404, "not_found", "no user " + username);
    if (rows[0].text(1) == "admin" && admins_left_without(c, username) == 0)
      return Status::error(409, "last_admin", "cannot delete the last admin");
    c.exec("DELETE FROM tokens WHERE user_id = ?", {rows[0].integer(0)});
    c.exec("DELETE FROM users WHERE id = ?", {rows[0].integer(0)});
    record_audit(c, {actor.actor(), "user.delete", "user:" + username, Json::object(),
                     client_ip});
    return {};
  });
}

Status AuthService::create_api_token(const http::Principal& actor, const std::string& client_ip,
                                     const std::string& name, http::Role role,
                                     std::int64_t expires_ms, Json* out) {
  if (name.empty() || name.size() > 128 || !printable_utf8(name))
    return Status::error(400, "bad_field", "name: 1-128 printable characters", "name");
  if (role > actor.role)
    return Status::error(403, "forbidden", "a token cannot have more rights than its user",
                         "role");
  std::string token = random_token(kApiTokenPrefix);
  std::int64_t id = db_->write([&](Connection& c) {
    auto rows = c.query(
        "INSERT INTO tokens (token_hash, user_id, kind, name, role, created_ms, expires_ms) "
        "VALUES (?, ?, 'api', ?, ?, ?, ?) RETURNING id",
        {sha256_hex(token), actor.user_id, name, std::string(http::role_name(role)), now_ms(),
         expires_ms});
    std::int64_t new_id = rows.at(0).integer(0);
    record_audit(c, {actor.actor(), "token.create", "token:" + std::to_string(new_id),
                     {{"name", name}, {"role", http::role_name(role)}}, client_ip});
    return new_id;
  });
  *out = {{"id", id},
          {"token", token},
          {"name", name},
          {"role", http::role_name(role)},
          {"expires_at", expires_ms ? Json(format_rfc3339(expires_ms)) : Json(nullptr)}};
  return {};
}

Json AuthService::list_api_tokens(const http::Principal& actor, bool all) {
  bool everyone = all && actor.role == http::Role::kAdmin;
  auto rows = db_->read([&](Connection& c) {
    return c.query(
        "SELECT t.id, t.name, t.role, t.created_ms, t.expires_ms, t.last_used_ms, u.username "
        "FROM tokens t JOIN users u ON u.id = t.user_id "
        "WHERE t.kind = 'api' AND t.revoked = 0 AND (? = 1 OR t.user_id = ?) ORDER BY t.id",
        {std::int64_t{everyone ? 1 : 0}, actor.user_id});
  });
  Json out = Json::array();
  for (const auto& r : rows) {
    out.push_back({{"id", r.integer(0)},
                   {"name", r.text(1)},
                   {"role", r.text(2)},
                   {"created_at", format_rfc3339(r.integer(3))},
                   {"expires_at", r.integer(4) ? Json(format_rfc3339(r.integer(4))) : Json()},
                   {"last_used_at", r.integer(5) ? Json(format_rfc3339(r.integer(5))) : Json()},
                   {"username", r.text(6)}});
  }
  return out;
}

Status AuthService::revoke_api_token(const http::Principal& actor, const std::string& client_ip,
                                     std::int64_t id) {
  return db_->write([&](Connection& c) -> Status {
    auto rows = c.query("SELECT user_id FROM tokens WHERE id = ? AND kind = 'api' AND revoked = 0",
                        {id});
    if (rows.empty() ||
        (rows[0].integer(0) != actor.user_id && actor.role != http::Role::kAdmin))
      return Status::error(404, "not_found", "no such API token");
    c.exec("UPDATE tokens SET revoked = 1 WHERE id = ?", {id});
    record_audit(c, {actor.actor(), "token.revoke", "token:" + std::to_string(id),
                     Json::object(), client_ip});
    return {};
  });
}

Status AuthService::create_agent_key(const http::Principal& actor, const std::string& client_ip,
                                     const std::string& app, const std::string& name, Json* out) {
  if (!valid_app_name(app))
    return Status::error(400, "bad_field",
                         "app: 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or "
                         "digit",
                         "app");
  if (name.size() > 128 || !printable_utf8(name))
    return Status::error(400, "bad_field", "name: at most 128 printable characters", "name");
  std::string key = random_token(kAgentKeyPrefix);
  std::string prefix = key.substr(0, 10);
  std::int64_t id = db_->write([&](Connection& c) {
    auto rows = c.query(
        "INSERT INTO agent_keys (key_hash, app, name, prefix, created_ms, created_by) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        {sha256_hex(key), app, name, prefix, now_ms(), actor.actor()});
    std::int64_t new_id = rows.at(0).integer(0);
    record_audit(c, {actor.actor(), "key.create", "key:" + std::to_string(new_id),
                     {{"app", app}, {"name", name}, {"prefix", prefix}}, client_ip});
    return new_id;
  });
  *out = {{"id", id}, {"key", key}, {"app", app}, {"name", name}, {"prefix", prefix}};
  return {};
}

Json AuthService::list_agent_keys(const std::string& app) {
  auto rows = db_->read([&](Connection& c) {
    return c.query(
        "SELECT id, app, name, prefix, created_ms, created_by, last_used_ms FROM agent_keys "
        "WHERE revoked = 0 AND (? = '' OR app = ?) ORDER BY id",
        {app, app});
  });
  Json out = Json::array();
  for (const auto& r : rows)
    out.push_back({{"id", r.integer(0)},
                   {"app", r.text(1)},
                   {"name", r.text(2)},
                   {"prefix", r.text(3)},
                   {"created_at", format_rfc3339(r.integer(4))},
                   {"created_by", r.text(5)},
                   {"last_used_at", r.integer(6) ? Json(format_rfc3339(r.integer(6))) : Json()}});
  return out;
}

Status AuthService::revoke_agent_key(const http::Principal& actor, const std::string& client_ip,
                                     std::int64_t id) {
  Status s = db_->write([&](Connection& c) -> Status {
    auto rows = c.query("SELECT app FROM agent_keys WHERE id = ? AND revoked = 0", {id});
    if (rows.empty()) return Status::error(404, "not_found", "no such agent key");
    c.exec("UPDATE agent_keys SET revoked = 1 WHERE id = ?", {id});
    record_audit(c, {actor.actor(), "key.revoke", "key:" + std::to_string(id),
                     {{"app", rows[0].text(0)}}, client_ip});
    return {};
  });
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(keys_mu_);
    keys_.clear();  // this process forgets at once; others within key_cache_ms
  }
  return s;
}

void AuthService::housekeeping() {
  std::int64_t now = now_ms();
  db_->write([&](Connection& c) {
    c.exec("DELETE FROM tokens WHERE kind = 'session' AND (expires_ms < ? OR revoked = 1)",
           {now});
    c.exec("DELETE FROM login_failures WHERE window_start_ms < ?",
           {now - options_.login_window_ms});
  });
}

}  // namespace vigil::server::auth
