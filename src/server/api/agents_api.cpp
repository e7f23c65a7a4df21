// Agents: register/heartbeat (agent key); the agent list and the application overview (users).
#include "server/api/api.hpp"
#include "server/common/names.hpp"
#include "server/common/time.hpp"
#include "server/ingest/agents.hpp"
#include "server/policy/policy_service.hpp"

namespace vigil::server::api {

using http::Access;
using http::Reply;
using http::Request;

void add_agent_routes(Services& s, std::vector<http::Route>* routes) {
  auto heartbeat = [&s](Request& req) {
    Reply err;
    auto body = req.json_object(&err);
    if (!body) return err;
    ingest::Heartbeat h;
    Status st = ingest::parse_heartbeat(*body, req.principal.app, &h);
    if (!st.ok()) return error_reply(st);
    h.client_ip = req.client_ip;
    s.agents->heartbeat(h);
    Json out = {{"ok", true}, {"app", h.app}, {"server_time", format_rfc3339(now_ms())}};
    if (s.policy) out["policy_version"] = s.policy->current_version(h.app);
    return Reply::json(200, out);
  };
  routes->push_back({"POST", "/api/v1/agents/register", Access::kAgent, 64 * 1024, heartbeat});
  routes->push_back({"POST", "/api/v1/agents/heartbeat", Access::kAgent, 64 * 1024, heartbeat});
  routes->push_back({"GET", "/api/v1/agents", Access::kViewer, 0, [&s](Request& req) {
                       std::string app = req.query("app").value_or("");
                       if (!app.empty() && !valid_app_name(app))
                         return Reply::error(400, "bad_field", "app: not an application name",
                                             "app");
                       return Reply::json(200, s.agents->list(app));
                     }});
  routes->push_back({"GET", "/api/v1/apps", Access::kViewer, 0,
                     [&s](Request&) { return Reply::json(200, s.agents->apps()); }});
}

}  // namespace vigil::server::api
