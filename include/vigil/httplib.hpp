// Vigil for cpp-httplib servers: protect a whole server in two lines.
//
//   httplib::Server server;
//   vigil::sdk::Agent agent(vigil::sdk::AgentOptions::from_environment());   // 1
//   vigil::sdk::protect(server, agent);                                      // 2
//   server.Get("/search", ...);  // handlers may call agent.check_sql(...) etc.
//
// What it does, per request, on the server thread that serves it:
//  - before routing, a RequestScope is created from the request (input analysis runs); when
//    analysis blocks it, the handler never runs and the answer is a 403 naming the event.
//    httplib reads a body after this point: the body's inputs join the scope (and are analysed)
//    at the handler's first sink check, or after the handler when it checks none;
//  - the route's handler runs inside the scope: explicit sink checks (agent.check_sql(...)) are
//    attributed to this request, and a blocking check makes the request blocked;
//  - after routing, the response is checked before it is written: its header lines (CR/LF
//    injection), its Location (open redirect, against http://HOST/ of the request), and an HTML
//    body (reflected XSS); a blocked request, by a sink check or by these, is answered with a
//    403 (HTML, or JSON when the client asked for JSON only) in place of the response.
//
// Contracts and limits:
//  - Call protect() once, before listen(); it sets the server's pre- and post-routing handlers
//    (a program that needs its own must call protect() from them: see the two functions below).
//  - `agent` must outlive the server's listening.
//  - Bodies httplib compresses (Accept-Encoding: gzip or br; it does so before post-routing)
//    are decoded for the XSS check (Agent::check_encoded_html: the first 256 KiB).
//    Content-provider (streamed) bodies are not checked: check such HTML with
//    agent.check_html() before sending.
//  - Header-only; requires <httplib.h> (Debian: libcpp-httplib-dev, pkg-config cpp-httplib).
#ifndef VIGIL_HTTPLIB_HPP_
#define VIGIL_HTTPLIB_HPP_

#include <httplib.h>

#include <memory>
#include <string>
#include <vector>

#include "vigil/sdk.hpp"

namespace vigil::sdk {

namespace httplib_detail {

// The scope of the request the calling server thread is serving (pre- to post-routing).
inline thread_local std::unique_ptr<RequestScope> t_scope;

inline bool wants_json(const httplib::Request& req) {
  std::string accept = req.get_header_value("Accept");
  return accept.find("application/json") != std::string::npos &&
         accept.find("text/html") == std::string::npos;
}

// Replaces whatever the response holds with the 403 of a blocked request. `written_soon`: the
// response's headers are final (post-routing), so its length is set here too.
inline void answer_blocked(const httplib::Request& req, httplib::Response& res,
                           const RequestScope& scope, bool written_soon) {
  bool json = wants_json(req);
  res.status = 403;
  res.headers.clear();
  res.body = scope.block_body(json);
  res.headers.emplace("Content-Type", json ? "application/json" : "text/html; charset=utf-8");
  res.headers.emplace("X-Vigil-Event", scope.block_event_id());
  if (written_soon) {
    res.headers.emplace("Content-Length", std::to_string(res.body.size()));
    res.headers.emplace("Connection", "close");
  }
}

}  // namespace httplib_detail

// Before routing: creates the request's scope; true when the request is blocked (the response
// is then the 403 and the route must not run).
inline bool begin_request(Agent& agent, const httplib::Request& req, httplib::Response& res) {
  auto& slot = httplib_detail::t_scope;
  slot.reset();  // a previous request whose response was never written
  std::vector<Header> headers;
  headers.reserve(req.headers.size());
  for (const auto& [name, value] : req.headers) headers.push_back(Header{name, value});
  HttpRequest request{req.method, req.target.empty() ? req.path : req.target, headers, req.body,
                      req.remote_addr};
  slot = std::make_unique<RequestScope>(agent, request);
  // httplib reads the body after this handler: its inputs join the scope at the first sink
  // check, or after the route ran.
  slot->set_body_source(&req.body);
  if (!slot->blocked()) return false;
  httplib_detail::answer_blocked(req, res, *slot, false);
  return true;
}

// After routing, before the response is written: checks it and ends the request's scope.
inline void end_request(Agent& agent, const httplib::Request& req, httplib::Response& res) {
  std::unique_ptr<RequestScope> scope = std::move(httplib_detail::t_scope);
  if (!scope) return;
  if (res.status == 403 && res.has_header("X-Vigil-Event")) return;  // blocked before routing
  scope->maybe_add_body();
  bool block = scope->blocked();
  if (!block) {
    std::string lines = "HTTP/1.1 " + std::to_string(res.status) + "\r\n";
    for (const auto& [name, value] : res.headers) lines += name + ": " + value + "\r\n";
    block |= agent.check_header(lines, "httplib.response.headers").block;
    if (res.has_header("Location")) {
      std::string host = req.get_header_value("Host");
      std::string base = "http://" + (host.empty() ? std::string("localhost") : host) + "/";
      block |= agent.check_redirect(res.get_header_value("Location"), base,
                                    "httplib.response.location").block;
    }
    std::string type = res.get_header_value("Content-Type");
    if (!block && !res.body.empty() && type.rfind("text/html", 0) == 0) {
      // httplib compresses the body (when the client accepts it) before this handler runs.
      if (res.has_header("Content-Encoding"))
        block |= agent.check_encoded_html(res.body, res.get_header_value("Content-Encoding"),
                                          "httplib.response.body").block;
      else
        block |= agent.check_html(res.body, "httplib.response.body").block;
    }
  }
  if (block) httplib_detail::answer_blocked(req, res, *scope, true);
}

// Protects `server` with `agent` (both must outlive the server's listening).
inline void protect(httplib::Server& server, Agent& agent) {
  server.set_pre_routing_handler([&agent](const httplib::Request& req, httplib::Response& res) {
    return begin_request(agent, req, res) ? httplib::Server::HandlerResponse::Handled
                                          : httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_post_routing_handler(
      [&agent](const httplib::Request& req, httplib::Response& res) { end_request(agent, req, res); });
}

}  // namespace vigil::sdk

#endif  // VIGIL_HTTPLIB_HPP_
