// Users (admin), API tokens (each user their own), agent keys (admin), audit log (admin).
#include "server/api/api.hpp"
#include "server/auth/audit.hpp"
#include "server/auth/auth_service.hpp"
#include "server/common/time.hpp"

namespace vigil::server::api {

using http::Access;
using http::Reply;
using http::Request;

namespace {

bool get_role(const Json& body, const char* name, std::optional<http::Role>* out,
              FieldError* fe) {
  std::string text;
  if (!get_string(body, name, &text, fe, false, 32)) return false;
  if (text.empty()) return true;
  *out = http::parse_role(text);
  if (!*out) {
    fe->field = name;
    fe->message = "must be admin, analyst or viewer";
    return false;
  }
  return true;
}

}  // namespace

void add_user_routes(Services& s, std::vector<http::Route>* routes) {
  // Users.
  routes->push_back({"GET", "/api/v1/users", Access::kAdmin, 0, [&s](Request&) {
                       return Reply::json(200, s.auth->list_users());
                     }});
  routes->push_back({"POST", "/api/v1/users", Access::kAdmin, 16 * 1024, [&s](Request& req) {
                       Reply err;
                       auto body = req.json_object(&err);
                       if (!body) return err;
                       std::string username, password;
                       std::optional<http::Role> role;
                       FieldError fe;
                       if (!get_string(*body, "username", &username, &fe, true, 64) ||
                           !get_string(*body, "password", &password, &fe, true, 1024) ||
                           !get_role(*body, "role", &role, &fe))
                         return Reply::bad_field(fe);
                       Status st = s.auth->create_user(req.principal, req.client_ip, username,
                                                       password, role.value_or(http::Role::kViewer));
                       if (!st.ok()) return error_reply(st);
                       return Reply::json(201, {{"username", username},
                                                {"role", http::role_name(role.value_or(
                                                             http::Role::kViewer))}});
                     }});
  routes->push_back({"PATCH", "/api/v1/users/{name}", Access::kAnyUser, 16 * 1024,
                     [&s](Request& req) {
                       Reply err;
                       auto body = req.json_object(&err);
                       if (!body) return err;
                       auth::AuthService::UserChange change;
                       std::string password, current;
                       bool disabled = false;
                       FieldError fe;
                       if (!get_string(*body, "password", &password, &fe, false, 1024) ||
                           !get_string(*body, "current_password", &current, &fe, false, 1024) ||
                           !get_role(*body, "role", &change.role, &fe) ||
                           !get_bool(*body, "disabled", &disabled, &fe))
                         return Reply::bad_field(fe);
                       if (body->contains("password")) change.password = password;
                       if (body->contains("current_password")) change.current_password = current;
                       if (body->contains("disabled")) change.disabled = disabled;
                       Status st = s.auth->update_user(req.principal, req.client_ip,
                                                       req.params[0], change);
                       if (!st.ok()) return error_reply(st);
                       return Reply::json(200, {{"username", req.params[0]}, {"updated", true}});
                     }});
  routes->push_back({"DELETE", "/api/v1/users/{name}", Access::kAdmin, 0, [&s](Request& req) {
                       Status st = s.auth->delete_user(req.principal, req.client_ip,
                                                       req.params[0]);
                       if (!st.ok()) return error_reply(st);
                       return Reply::json(200, {{"username", req.params[0]}, {"deleted", true}});
                     }});

  // API tokens.
  routes->push_back({"GET", "/api/v1/tokens", Access::kAnyUser, 0, [&s](Request& req) {
                       return Reply::json(200, s.auth->list_api_tokens(
                                                   req.principal, req.query("all") == "1"));
                     }});
  routes->push_back({"POST", "/api/v1/tokens", Access::kAnyUser, 16 * 1024, [&s](Request& req) {
                       Reply err;
                       auto body = req.json_object(&err);
                       if (!body) return err;
                       std::string name, expires_in;
                       std::optional<http::Role> role;
                       FieldError fe;
                       if (!get_string(*body, "name", &name, &fe, true, 128) ||
                           !get_role(*body, "role", &role, &fe) ||
                           !get_string(*body, "expires_in", &expires_in, &fe, false, 16))
                         return Reply::bad_field(fe);
                       std::int64_t expires_ms = 0;
                       if (!expires_in.empty()) {
                         auto d = parse_duration_ms(expires_in);
                         if (!d || *d <= 0)
                           return Reply::error(400, "bad_field",
                                               "expires_in: a duration such as 30d or 12h",
                                               "expires_in");
                         expires_ms = now_ms() + *d;
                       }
                       Json out;
                       Status st = s.auth->create_api_token(req.principal, req.client_ip, name,
                                                            role.value_or(req.principal.role),
                                                            expires_ms, &out);
                       if (!st.ok()) return error_reply(st);
                       return Reply::json(201, out);
                     }});
  routes->push_back({"DELETE", "/api/v1/tokens/{id}", Access::kAnyUser, 0, [&s](Request& req) {
                       std::int64_t id;
                       if (!parse_id(req.params[0], &id))
                         return Reply::error(404, "not_found", "no such API token");
                       Status st = s.auth->revoke_api_token(req.principal, req.client_ip, id);
                       if (!st.ok()) return error_reply(st);
                       return Reply::json(200, {{"id", id}, {"revoked", true}});
                     }});

  // Agent keys.
  routes->push_back({"GET", "/api/v1/keys", Access::kAdmin, 0, [&s](Request& req) {
                       return Reply::json(200, s.auth->list_agent_keys(req.query("app").value_or("")));
                     }});
  routes->push_back({"POST", "/api/v1/keys", Access::kAdmin, 16 * 1024, [&s](Request& req) {
                       Reply err;
                       auto body = req.json_object(&err);
                       if (!body) return err;
                       std::string app, name;
                       FieldError fe;
                       if (!get_string(*body, "app", &app, &fe, true, 64) ||
                           !get_string(*body, "name", &name, &fe, false, 128))
                         return Reply::bad_field(fe);
                       Json out;
                       Status st = s.auth->create_agent_key(req.principal, req.client_ip, app,
                                                            name, &out);
                       if (!st.ok()) return error_reply(st);
                       return Reply::json(200, out);
                     }});
  routes->push_back({"DELETE", "/api/v1/keys/{id}", Access::kAdmin, 0, [&s](Request& req) {
                       std::int64_t id;
                       if (!parse_id(req.params[0], &id))
                         return Reply::error(404, "not_found", "no such agent key");
                       Status st = s.auth->revoke_agent_key(req.principal, req.client_ip, id);
                       if (!st.ok()) return error_reply(st);
                       return Reply::json(200, {{"id", id}, {"revoked", true}});
                     }});

  // Audit log.
  routes->push_back({"GET", "/api/v1/audit", Access::kAdmin, 0, [&s](Request& req) {
                       int limit;
                       if (!parse_limit(req, 100, 1000, &limit))
                         return Reply::error(400, "bad_field", "limit: a positive integer",
                                             "limit");
                       std::int64_t before = 0;
                       if (auto b = req.query("before"); b && !parse_id(*b, &before))
                         return Reply::error(400, "bad_field", "before: an audit entry id",
                                             "before");
                       std::string target = req.query("target").value_or("");
                       if (target.size() > 200)
                         return Reply::error(400, "bad_field", "target: too long", "target");
                       return Reply::json(200, auth::list_audit(*s.db, limit, before, target));
                     }});
}

}  // namespace vigil::server::api
