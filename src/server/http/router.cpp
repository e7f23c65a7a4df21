#include "server/http/router.hpp"

#include <httplib.h>

#include <exception>

#include "server/common/crypto.hpp"
#include "server/common/log.hpp"
#include "server/common/names.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::http {

const char* role_name(Role role) noexcept {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kAnalyst: return "analyst";
    case Role::kViewer: return "viewer";
  }
  return "viewer";
}

std::optional<Role> parse_role(std::string_view name) noexcept {
  if (name == "admin") return Role::kAdmin;
  if (name == "analyst") return Role::kAnalyst;
  if (name == "viewer") return Role::kViewer;
  return std::nullopt;
}

std::string Principal::actor() const {
  if (kind == Kind::kUser) return username;
  if (kind == Kind::kAgent) return "agent-key:" + std::to_string(key_id);
  return "anonymous";
}

const std::string& Request::body() const { return raw->body; }

std::optional<std::string> Request::query(const char* name) const {
  for (const auto& [k, v] : query_params)
    if (k == name) return v;
  return std::nullopt;
}

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}
}  // namespace

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view target) {
  std::vector<std::pair<std::string, std::string>> out;
  auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  rest = rest.substr(0, rest.find('#'));
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view part = rest.substr(0, amp);
    if (!part.empty()) {
      auto eq = part.find('=');
      out.emplace_back(url_decode(part.substr(0, eq)),
                       eq == std::string_view::npos ? "" : url_decode(part.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

std::string Request::header(const char* name) const { return raw->get_header_value(name); }

std::optional<Json> Request::json_object(Reply* error_reply) const {
  if (raw->body.empty()) {
    *error_reply = Reply::error(400, "bad_request", "a JSON object body is required");
    return std::nullopt;
  }
  std::string error;
  auto value = parse_json(raw->body, &error);
  if (!value) {
    *error_reply = Reply::error(400, "bad_json", error);
    return std::nullopt;
  }
  if (!value->is_object()) {
    *error_reply = Reply::error(400, "bad_request", "the body must be a JSON object");
    return std::nullopt;
  }
  return value;
}

Reply Reply::json(int status, const Json& value) {
  Reply r;
  r.status = status;
  r.body = dump_json(value);
  return r;
}

Reply Reply::raw_json(int status, std::string text) {
  Reply r;
  r.status = status;
  r.body = std::move(text);
  return r;
}

Reply Reply::error(int status, std::string_view code, std::string_view message,
                   std::string_view field) {
  Json j = {{"error", std::string(message)}, {"code", std::string(code)}};
  if (!field.empty()) j["field"] = std::string(field);
  return json(status, j);
}

Reply Reply::bad_field(const FieldError& e, std::string_view prefix) {
  std::string field = std::string(prefix) + e.field;
  return error(400, "bad_field", field + ": " + e.message, field);
}

bool match_pattern(std::string_view pattern, std::string_view path,
                   std::vector<std::string>* params) {
  params->clear();
  std::size_t i = 0, j = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '{') {
      std::size_t close = pattern.find('}', i);
      if (close == std::string_view::npos) return false;
      std::size_t end = path.find('/', j);
      if (end == std::string_view::npos) end = path.size();
      if (end == j) return false;  // an empty segment
      params->emplace_back(path.substr(j, end - j));
      i = close + 1;
      j = end;
    } else {
      if (j >= path.size() || path[j] != pattern[i]) return false;
      ++i;
      ++j;
    }
  }
  return j == path.size();
}

bool allowed(Access access, const Principal& p) noexcept {
  using K = Principal::Kind;
  switch (access) {
    case Access::kPublic: return true;
    case Access::kAgent: return p.kind == K::kAgent;
    case Access::kAnyUser: return p.kind == K::kUser;
    case Access::kViewer: return p.kind == K::kUser && p.role >= Role::kViewer;
    case Access::kAnalyst: return p.kind == K::kUser && p.role >= Role::kAnalyst;
    case Access::kAdmin: return p.kind == K::kUser && p.role >= Role::kAdmin;
  }
  return false;
}

namespace {

bool unsafe_method(std::string_view m) {
  return m != "GET" && m != "HEAD" && m != "OPTIONS";
}

}  // namespace

Reply Router::dispatch(const httplib::Request& request, bool tls) noexcept {
  try {
    return dispatch_unsafe(request, tls);
  } catch (const storage::StorageError& e) {
    log_error(std::string("storage: ") + e.what());
    try {
      return Reply::error(503, "storage_unavailable",
                          "the database is unavailable or busy; try again")
          .with_header("Retry-After", "2");
    } catch (...) {
    }
  } catch (const std::exception& e) {
    log_error(std::string("internal error on ") + request.method + " " + request.path + ": " +
              e.what());
  } catch (...) {
    log_error("internal error on " + request.method + " " + request.path);
  }
  Reply r;
  r.status = 500;
  r.body = R"({"error":"internal error","code":"internal"})";
  return r;
}

Reply Router::dispatch_unsafe(const httplib::Request& request, bool tls) {
  std::string method = request.method == "HEAD" ? "GET" : request.method;
  // Everything below handles text: a path or query that is not UTF-8 stops here.
  if (!printable_utf8(request.path))
    return Reply::error(400, "bad_path", "the request path is not printable UTF-8 text");
  // httplib's own query parsing keeps only the last '='-separated piece of a value: ours.
  auto query = request.target.empty() ? std::vector<std::pair<std::string, std::string>>(
                                            request.params.begin(), request.params.end())
                                      : parse_query(request.target);
  if (query.size() > 64)
    return Reply::error(400, "bad_query", "too many query parameters");
  for (const auto& [name, value] : query)
    if (!printable_utf8(name) || !printable_utf8(value) || name.size() > 64 || value.size() > 4096)
      return Reply::error(400, "bad_query",
                          "query parameters must be printable UTF-8 text of bounded size");
  const Route* route = nullptr;
  std::vector<std::string> params;
  std::string allow;
  for (const auto& r : routes_) {
    if (!match_pattern(r.pattern, request.path, &params)) continue;
    if (r.method == method) {
      route = &r;
      break;
    }
    allow += allow.empty() ? r.method : ", " + r.method;
  }
  if (!route) {
    if (!allow.empty())
      return Reply::error(405, "method_not_allowed",
                          request.method + " is not allowed on " + request.path)
          .with_header("Allow", allow);
    return Reply::error(404, "not_found", "no such route: " + request.path);
  }
  // match_pattern() left the last tried route's segments: match the chosen one again.
  match_pattern(route->pattern, request.path, &params);

  Request req;
  req.raw = &request;
  req.method = method;
  req.path = request.path;
  req.params = std::move(params);
  req.query_params = std::move(query);
  req.client_ip = request.remote_addr;
  req.tls = tls;
  if (route->access != Access::kPublic) {
    if (!auth_ || !auth_->authenticate(request, &req.principal))
      return Reply::error(401, "unauthenticated",
                          "authentication required: Authorization: Bearer TOKEN")
          .with_header("WWW-Authenticate", "Bearer");
    if (!allowed(route->access, req.principal)) {
      const char* need = "";
      switch (route->access) {
        case Access::kAgent: need = "an agent key"; break;
        case Access::kAnyUser:
        case Access::kViewer: need = "a user session or API token"; break;
        case Access::kAnalyst: need = "the analyst or admin role"; break;
        case Access::kAdmin: need = "the admin role"; break;
        case Access::kPublic: break;
      }
      return Reply::error(403, "forbidden", std::string("this route needs ") + need);
    }
    // A browser sends the cookie by itself: a state change must also prove it comes from our
    // page, with the CSRF token only the page knows.
    if (req.principal.via_cookie && unsafe_method(method)) {
      std::string csrf = request.get_header_value("X-CSRF-Token");
      if (csrf.empty() || !equal_secret(sha256_hex(csrf), req.principal.csrf_hash))
        return Reply::error(403, "csrf", "missing or wrong X-CSRF-Token header");
    }
  }
  if (request.body.size() > route->max_body)
    return Reply::error(413, "too_large",
                        "request body larger than " + std::to_string(route->max_body) +
                            " bytes for this route");
  return route->handler(req);
}

}  // namespace vigil::server::http
