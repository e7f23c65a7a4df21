// vigild's HTTP layer: an explicit route table (method, path pattern, who may call it, body
// limit, handler) dispatched over cpp-httplib. Every request goes through one function that
// matches the route, authenticates, checks the role and the CSRF token, bounds the body, and
// calls the handler inside a catch-all: a handler's exception becomes a JSON 500 (or 503 for
// storage errors), never a crash or a half-written answer.
#ifndef VIGIL_SERVER_HTTP_ROUTER_HPP_
#define VIGIL_SERVER_HTTP_ROUTER_HPP_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/common/json.hpp"

namespace httplib {
struct Request;
}

namespace vigil::server::http {

// User roles, ordered: each can do what the ones below it can.
enum class Role : int { kViewer = 1, kAnalyst = 2, kAdmin = 3 };
const char* role_name(Role role) noexcept;
std::optional<Role> parse_role(std::string_view name) noexcept;

// Who may call a route.
enum class Access {
  kPublic,   // anyone (health, login)
  kAgent,    // an agent key
  kAnyUser,  // any signed-in user (session, cookie or API token)
  kViewer,
  kAnalyst,
  kAdmin,
};

struct Principal {
  enum class Kind { kNone, kUser, kAgent };
  Kind kind = Kind::kNone;
  // Users.
  std::int64_t user_id = 0;
  std::string username;
  Role role = Role::kViewer;  // effective role (an API token may carry less than its user)
  std::int64_t token_id = 0;
  std::string token_kind;  // "session" or "api"
  bool via_cookie = false;
  std::string csrf_hash;  // sessions signed in with a cookie
  std::int64_t expires_ms = 0;
  // Agents.
  std::int64_t key_id = 0;
  std::string app;

  // "user:NAME" or "key:ID" (audit log actor).
  std::string actor() const;
};

// The request a handler sees.
struct Request {
  const httplib::Request* raw = nullptr;
  std::string method;
  std::string path;
  std::vector<std::string> params;  // the {name} segments of the route pattern, in order
  // Query parameters, decoded (parse_query: a value may contain '=').
  std::vector<std::pair<std::string, std::string>> query_params;
  Principal principal;
  std::string client_ip;
  bool tls = false;

  const std::string& body() const;
  // Query parameter (first value), or nullopt.
  std::optional<std::string> query(const char* name) const;
  std::string header(const char* name) const;
  // Parses the body as a JSON object; on failure returns nullopt and fills *error_reply.
  std::optional<Json> json_object(struct Reply* error_reply) const;
};

struct Reply {
  int status = 200;
  std::string body;  // JSON text (or empty)
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;

  static Reply json(int status, const Json& value);
  static Reply raw_json(int status, std::string text);
  // {"error": message, "code": code, "field": field?}
  static Reply error(int status, std::string_view code, std::string_view message,
                     std::string_view field = {});
  static Reply bad_field(const FieldError& e, std::string_view prefix = {});
  Reply& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

using Handler = std::function<Reply(Request&)>;

struct Route {
  std::string method;   // "GET", "POST", "PUT", "PATCH", "DELETE"
  std::string pattern;  // "/api/v1/incidents/{id}": {name} matches one non-empty segment
  Access access = Access::kPublic;
  std::size_t max_body = 64 * 1024;
  Handler handler;
};

// Authenticates a request (Authorization: Bearer, or the session cookie). Returns false when
// no valid credential was presented (the router answers 401). Implemented by auth/.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual bool authenticate(const httplib::Request& request, Principal* out) = 0;
};

// Parses the query of a request target ("/p?a=1&b=x%3Dy" -> a=1, b=x=y): '&'-separated,
// split at the first '=', percent- and '+'-decoded.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view target);

// Matches `path` against a pattern; fills *params. Exposed for tests.
bool match_pattern(std::string_view pattern, std::string_view path,
                   std::vector<std::string>* params);

// Whether a principal may call a route with this access (the role check of dispatch()).
bool allowed(Access access, const Principal& p) noexcept;

class Router {
 public:
  Router(std::vector<Route> routes, Authenticator* auth) : routes_(std::move(routes)), auth_(auth) {}

  // The whole request path; never throws.
  Reply dispatch(const httplib::Request& request, bool tls) noexcept;

  const std::vector<Route>& routes() const noexcept { return routes_; }

 private:
  Reply dispatch_unsafe(const httplib::Request& request, bool tls);
  std::vector<Route> routes_;
  Authenticator* auth_;
};

}  // namespace vigil::server::http

#endif  // VIGIL_SERVER_HTTP_ROUTER_HPP_
