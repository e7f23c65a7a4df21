// Policies: GET/PUT /api/v1/apps/{app}/policy, its history, the "would have blocked" preview,
// and the agents' long-poll GET /api/v1/agents/policy.
#include "server/api/api.hpp"
#include "server/common/names.hpp"
#include "server/config.hpp"
#include "server/policy/policy_service.hpp"
#include "server/policy/would_block.hpp"
#include "vigil/policy.hpp"

namespace vigil::server::api {

using http::Access;
using http::Reply;
using http::Request;

namespace {

std::optional<Reply> check_app(const std::string& app) {
  if (!valid_app_name(app))
    return Reply::error(404, "not_found", "not an application name: " + truncate_utf8(app, 64));
  return std::nullopt;
}

// A PUT body is the policy document itself, or {"policy": DOC, "comment", "base_version"}.
struct PolicyBody {
  Json document;
  std::string comment;
  std::int64_t base_version = -1;
};

std::optional<Reply> read_policy_body(const Request& req, PolicyBody* out) {
  Reply err;
  auto body = req.json_object(&err);
  if (!body) return err;
  auto it = body->find("policy");
  if (it != body->end() && it->is_object()) {
    FieldError fe;
    if (!get_string(*body, "comment", &out->comment, &fe, false, 1024) ||
        !get_int(*body, "base_version", &out->base_version, &fe, false, 0, INT64_MAX))
      return Reply::bad_field(fe);
    if (!printable_utf8(out->comment, true))
      return Reply::error(400, "bad_field", "comment: printable text", "comment");
    out->document = std::move(*it);
  } else {
    out->document = std::move(*body);
  }
  if (auto h = req.header("If-Match"); !h.empty()) {
    std::string v = h;
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    if (!parse_id(v, &out->base_version) && v != "0")
      return Reply::error(400, "bad_field", "If-Match: a policy version", "If-Match");
    if (v == "0") out->base_version = 0;
  }
  return std::nullopt;
}

Reply status_with_details(const Status& st, const Json& details) {
  Json j = {{"error", st.message()}, {"code", st.code()}};
  if (details.is_object())
    for (auto& [k, v] : details.items()) j[k] = v;
  return Reply::json(st.http(), j);
}

}  // namespace

void add_policy_routes(Services& s, std::vector<http::Route>* routes) {
  routes->push_back({"GET", "/api/v1/apps/{app}/policy", Access::kViewer, 0, [&s](Request& req) {
                       if (auto e = check_app(req.params[0])) return *e;
                       auto doc = s.policy->get(req.params[0]);
                       return Reply::json(200, policy::policy_json(doc))
                           .with_header("ETag", "\"" + std::to_string(doc.version) + "\"");
                     }});
  routes->push_back({"PUT", "/api/v1/apps/{app}/policy", Access::kAnalyst, 4 << 20,
                     [&s](Request& req) {
                       if (auto e = check_app(req.params[0])) return *e;
                       PolicyBody body;
                       if (auto e = read_policy_body(req, &body)) return *e;
                       Json out;
                       Status st = s.policy->put(req.principal.actor(), req.client_ip,
                                                 req.params[0], body.document, body.comment,
                                                 body.base_version, &out);
                       if (!st.ok()) return status_with_details(st, out);
                       return Reply::json(200, out);
                     }});
  routes->push_back({"GET", "/api/v1/apps/{app}/policy/history", Access::kViewer, 0,
                     [&s](Request& req) {
                       if (auto e = check_app(req.params[0])) return *e;
                       int limit;
                       if (!parse_limit(req, 50, 500, &limit))
                         return Reply::error(400, "bad_field", "limit: 1 to 500", "limit");
                       return Reply::json(200, s.policy->history(req.params[0], limit));
                     }});
  routes->push_back(
      {"POST", "/api/v1/apps/{app}/policy/preview", Access::kAnalyst, 4 << 20, [&s](Request& req) {
         if (auto e = check_app(req.params[0])) return *e;
         Reply err;
         auto body = req.json_object(&err);
         if (!body) return err;
         policy::PreviewOptions o;
         std::int64_t days = 7;
         FieldError fe;
         if (!get_int(*body, "days", &days, &fe, false, 1, 90)) return Reply::bad_field(fe);
         o.days = static_cast<int>(days);
         Json document;
         if (auto it = body->find("policy"); it != body->end() && !it->is_null()) {
           if (!it->is_object())
             return Reply::error(400, "bad_field", "policy: a policy object", "policy");
           document = *it;
         } else {
           auto current = s.policy->get(req.params[0]);
           std::string error;
           auto parsed = current.version ? parse_json(current.document, &error) : std::nullopt;
           document = parsed ? *parsed : Json::object();
         }
         Json diagnostics;
         if (!policy::PolicyService::validate(document, &diagnostics))
           return status_with_details(
               Status::error(400, "bad_policy", "the policy has errors: see diagnostics"),
               {{"diagnostics", diagnostics}});
         auto compiled = vigil::Policy::compile(dump_json(document), nullptr);
         Json out = policy::preview(*s.db, req.params[0], *compiled, o);
         out["diagnostics"] = diagnostics;
         return Reply::json(200, out);
       }});
  routes->push_back(
      {"GET", "/api/v1/agents/policy", Access::kAgent, 0, [&s](Request& req) {
         const std::string& app = req.principal.app;
         if (auto a = req.query("app"); a && *a != app)
           return Reply::error(403, "forbidden", "this agent key is for application " + app,
                               "app");
         std::int64_t known = 0;
         if (auto v = req.query("version"); v && *v != "0" && !parse_id(*v, &known))
           return Reply::error(400, "bad_field", "version: the policy version the agent has",
                               "version");
         int wait_s = 25;
         if (auto w = req.query("wait")) {
           std::int64_t v = 0;
           if (*w != "0" && !parse_id(*w, &v))
             return Reply::error(400, "bad_field", "wait: seconds to wait for a change", "wait");
           wait_s = static_cast<int>(std::min<std::int64_t>(v, s.config->long_poll_max_s));
         }
         policy::PolicyDoc doc;
         switch (s.policy->wait_for_change(app, known, wait_s * 1000, &doc)) {
           case policy::PolicyService::Wait::kChanged:
             return Reply::json(200, policy::policy_json(doc));
           case policy::PolicyService::Wait::kBusy: {
             Reply r = Reply::raw_json(304, "");
             return r.with_header("Retry-After", "2");
           }
           case policy::PolicyService::Wait::kTimeout:
           case policy::PolicyService::Wait::kStopping:
             break;
         }
         return Reply::raw_json(304, "");
       }});
}

}  // namespace vigil::server::api
