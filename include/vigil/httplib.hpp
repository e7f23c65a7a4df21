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
//  - Streamed HTML (set_content_provider, set_chunked_content_provider) is checked as it is
//    produced, before it is sent: the first write at once, later data held back until it
//    doubles what was checked (or the provider is done), so that the checks cost linear time
//    in all; a script block a write cut is judged once it is whole (Sink::partial). The first
//    256 KiB are checked; what follows is sent as it comes. A blocked stream is cut before
//    the offending bytes (the status line is already out: the client sees the connection
//    close); in monitor mode the first detection is reported and the rest passes. A range
//    request's part is sent unchecked (it is not the page).
//  - Header-only; requires <httplib.h> (Debian: libcpp-httplib-dev, pkg-config cpp-httplib).
#ifndef VIGIL_HTTPLIB_HPP_
#define VIGIL_HTTPLIB_HPP_

#include <httplib.h>

#include <algorithm>
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

// A streamed HTML response between the program's content provider and httplib's sink: it keeps
// the request's scope alive until the response is written (sink checks need it current).
struct StreamedHtml {
  Agent* agent = nullptr;
  std::unique_ptr<RequestScope> scope;
  httplib::ContentProvider inner;
  std::string html;             // the first kCheckedHtmlBytes produced
  std::string held;             // produced and not yet passed on
  std::size_t produced = 0;     // bytes the program's provider wrote
  std::size_t forwarded = 0;    // bytes passed to httplib (its offset)
  std::size_t checked = 0;      // bytes of `html` the last check covered
  std::size_t total = 0;        // a provider with a length: offset + length of the first call
  bool checked_partial = false;  // the last check saw the page still being written
  bool started = false, passthrough = false, stop_checking = false, blocked = false;

  // Checks `html` when it grew enough (or `final`); false when the stream must stop. Before the
  // end, as a page still being written (Sink::partial): a script block the provider's last
  // write cut is not judged until it is whole.
  bool check(bool final) {
    if (stop_checking) return true;
    const std::size_t end = html.size();
    if (end == checked && !(final && checked_partial)) return true;
    if (!final && checked != 0 && end < 2 * checked && end < kCheckedHtmlBytes)
      return true;  // geometric: linear time in all
    Sink page = Sink::of(SinkType::kHtml, html);
    page.partial = !final;
    SinkResult r = agent->check(page, "httplib.response.body");
    checked = end;
    checked_partial = !final;
    if (r.block) {
      blocked = true;
      return false;
    }
    if (r.attack) stop_checking = true;  // reported once; the rest passes
    return true;
  }
  // Passes on what no check still has to see (all of it with `all`).
  bool forward(httplib::DataSink& sink, bool all) {
    std::size_t safe = produced;
    if (!all && !stop_checking && checked < kCheckedHtmlBytes) safe = checked;
    if (safe <= forwarded) return true;
    std::size_t n = safe - forwarded;
    bool ok = sink.write(held.data(), n);
    held.erase(0, n);
    forwarded = safe;
    return ok;
  }
  bool pass(httplib::DataSink& sink, const char* d, std::size_t n) {
    produced += n;
    forwarded += n;
    return sink.write(d, n);
  }
  bool write(httplib::DataSink& sink, const char* d, std::size_t n) {
    if (blocked) return false;
    // Past the checks (reported, or the checked bytes all sent): straight through.
    if ((stop_checking || checked >= kCheckedHtmlBytes) && held.empty()) return pass(sink, d, n);
    try {
      if (html.size() < kCheckedHtmlBytes)
        html.append(d, std::min(n, kCheckedHtmlBytes - html.size()));
      held.append(d, n);
    } catch (...) {  // no memory to hold it: what is held, then this, unchecked (fail open)
      stop_checking = true;
      return forward(sink, true) && pass(sink, d, n);
    }
    produced += n;
    if (!check(false)) return false;
    return forward(sink, false);
  }
  // The provider produced everything: the last check, then the rest.
  bool finish(httplib::DataSink& sink) {
    if (blocked || !check(true)) return false;
    return forward(sink, true);
  }

  bool provide(std::size_t offset, std::size_t length, httplib::DataSink& sink) {
    if (!started) {
      started = true;
      passthrough = offset != 0;  // a range of the page, not the page
      total = offset + length;
    }
    if (passthrough) return inner(offset, length, sink);
    if (blocked) return false;
    httplib::DataSink proxy;
    proxy.write = [this, &sink](const char* d, std::size_t n) { return write(sink, d, n); };
    proxy.is_writable = [this, &sink] { return !blocked && sink.is_writable(); };
    proxy.done = [this, &sink] {
      if (finish(sink) && sink.done) sink.done();
    };
    // The program's provider goes on from what it produced; httplib's offset counts only what
    // was passed on.
    std::size_t left = total > produced ? total - produced : 0;
    if (!inner(produced, length == 0 ? 0 : left, proxy)) return false;
    if (blocked) return false;
    if (length != 0 && produced >= total) return finish(sink);
    return true;
  }
};

// Wraps a streamed HTML response's provider in a StreamedHtml that owns `scope`.
inline void check_streamed_html(Agent& agent, httplib::Response& res,
                                std::unique_ptr<RequestScope> scope) {
  auto state = std::make_shared<StreamedHtml>();
  state->agent = &agent;
  state->scope = std::move(scope);
  state->inner = std::move(res.content_provider_);
  res.content_provider_ = [state](std::size_t offset, std::size_t length,
                                  httplib::DataSink& sink) {
    return state->provide(offset, length, sink);
  };
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
    const bool html = res.get_header_value("Content-Type").rfind("text/html", 0) == 0;
    if (!block && html && res.content_provider_) {
      httplib_detail::check_streamed_html(agent, res, std::move(scope));
      return;
    }
    if (!block && html && !res.body.empty()) {
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
