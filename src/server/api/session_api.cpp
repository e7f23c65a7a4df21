// POST/GET/DELETE /api/v1/session: sign in (bearer token, or cookie + CSRF token), who am I,
// sign out.
#include "server/api/api.hpp"
#include "server/auth/auth_service.hpp"
#include "server/common/time.hpp"

namespace vigil::server::api {

using http::Access;
using http::Reply;
using http::Request;

void add_session_routes(Services& s, std::vector<http::Route>* routes) {
  routes->push_back({"POST", "/api/v1/session", Access::kPublic, 16 * 1024, [&s](Request& req) {
                       Reply err;
                       auto body = req.json_object(&err);
                       if (!body) return err;
                       std::string username, password;
                       bool cookie = false;
                       FieldError fe;
                       if (!get_string(*body, "username", &username, &fe, true, 256) ||
                           !get_string(*body, "password", &password, &fe, true, 4096) ||
                           !get_bool(*body, "cookie", &cookie, &fe))
                         return Reply::bad_field(fe);
                       auth::Session session;
                       Status st = s.auth->login(username, password, req.client_ip, cookie,
                                                 &session);
                       if (!st.ok()) return error_reply(st);
                       Json out = {{"token", session.token},
                                   {"expires_at", format_rfc3339(session.expires_ms)},
                                   {"username", session.username},
                                   {"role", http::role_name(session.role)}};
                       Reply reply;
                       if (cookie) {
                         out["csrf_token"] = session.csrf_token;
                         std::int64_t max_age =
                             (session.expires_ms - now_ms()) / 1000;
                         std::string c = "vigil_session=" + session.token +
                                         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                         std::to_string(max_age);
                         if (req.tls) c += "; Secure";
                         reply = Reply::json(200, out);
                         reply.with_header("Set-Cookie", c);
                         return reply;
                       }
                       return Reply::json(200, out);
                     }});
  routes->push_back({"GET", "/api/v1/session", Access::kAnyUser, 0, [](Request& req) {
                       const auto& p = req.principal;
                       return Reply::json(
                           200, {{"username", p.username},
                                 {"role", http::role_name(p.role)},
                                 {"kind", p.token_kind},
                                 {"cookie", p.via_cookie},
                                 {"expires_at", p.expires_ms ? Json(format_rfc3339(p.expires_ms))
                                                             : Json()}});
                     }});
  routes->push_back({"DELETE", "/api/v1/session", Access::kAnyUser, 0, [&s](Request& req) {
                       Status st = s.auth->logout(req.principal);
                       if (!st.ok()) return error_reply(st);
                       Reply reply = Reply::json(200, {{"signed_out", true}});
                       if (req.principal.via_cookie)
                         reply.with_header("Set-Cookie",
                                           "vigil_session=; Path=/; HttpOnly; SameSite=Strict; "
                                           "Max-Age=0");
                       return reply;
                     }});
}

}  // namespace vigil::server::api
