#include "server/web/dashboard.hpp"

#include <string>
#include <string_view>

#include "server/web/assets.hpp"

namespace vigil::server::web {
namespace {

// Nothing but our own files: no CDN, no inline script, no framing. `data:` images for the
// inline favicon.
constexpr const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// The client-side pages: each answers index.html, and the page's script draws it.
constexpr const char* kPages[] = {
    "/",        "/login",         "/overview", "/incidents", "/incidents/{id}",
    "/events",  "/events/{id}",   "/apps",     "/apps/{name}", "/users",
};

const Asset* find(std::string_view path) noexcept {
  for (const Asset& a : assets())
    if (path == a.path) return &a;
  return nullptr;
}

// An If-None-Match header names the asset's ETag (a list, or *).
bool not_modified(const http::Request& req, const Asset& a) {
  std::string inm = req.header("If-None-Match");
  if (inm.empty()) return false;
  return inm == "*" || inm.find(a.etag) != std::string::npos;
}

http::Reply serve(const http::Request& req, const Asset& a, bool immutable) {
  http::Reply r;
  r.with_header("ETag", a.etag);
  r.with_header("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.with_header("Content-Security-Policy", kCsp);
  r.with_header("Referrer-Policy", "no-referrer");
  r.with_header("X-Frame-Options", "DENY");
  if (not_modified(req, a)) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  r.content_type = a.content_type;
  r.body.assign(reinterpret_cast<const char*>(a.data), a.size);
  return r;
}

}  // namespace

void add_dashboard_routes(std::vector<http::Route>* routes) {
  for (const char* page : kPages)
    routes->push_back({"GET", page, http::Access::kPublic, 0, [](http::Request& req) {
                         const Asset* index = find("/index.html");
                         if (index == nullptr)
                           return http::Reply::error(404, "not_found", "no dashboard");
                         return serve(req, *index, false);
                       }});
  routes->push_back({"GET", "/assets/{file}", http::Access::kPublic, 0, [](http::Request& req) {
                       const Asset* a = find(req.path);
                       if (a == nullptr)
                         return http::Reply::error(404, "not_found",
                                                   "no such dashboard file: " + req.path);
                       return serve(req, *a, true);
                     }});
}

}  // namespace vigil::server::web
