#include "cli/api_client.hpp"

#include <httplib.h>

#include <cstdlib>

namespace vigil::cli {

namespace {
std::string env(const char* name, const char* def = "") {
  const char* v = std::getenv(name);
  return v && *v ? v : def;
}
}  // namespace

void add_api_options(CLI::App* sub, ApiOptions* o) {
  o->server = env("VIGIL_SERVER_URL", "http://127.0.0.1:7700");
  o->token = env("VIGIL_TOKEN");
  o->user = env("VIGIL_USER", "admin");
  sub->add_option("--server", o->server, "vigild URL (VIGIL_SERVER_URL)");
  sub->add_option("--token", o->token, "Session or API token (VIGIL_TOKEN)");
  sub->add_option("--user", o->user, "Sign in as this user; password in VIGIL_PASSWORD");
  sub->add_option("--ca-file", o->ca_file, "Trust this CA for HTTPS");
}

nlohmann::json ApiResponse::json() const {
  auto j = nlohmann::json::parse(body, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

std::string ApiResponse::describe() const {
  if (status == 0) return "no answer from vigild: " + body;
  auto j = json();
  std::string why = j.is_object() && j.contains("error") && j["error"].is_string()
                        ? j["error"].get<std::string>()
                        : body.substr(0, 300);
  return "vigild answered " + std::to_string(status) + ": " + why;
}

std::string url_encode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

struct ApiClient::Impl {
  std::unique_ptr<httplib::Client> http;
  std::string token;

  ApiResponse call(const std::string& method, const std::string& path, const std::string& body) {
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    httplib::Result r = method == "GET"     ? http->Get(path, h)
                        : method == "PUT"   ? http->Put(path, h, body, "application/json")
                        : method == "PATCH" ? http->Patch(path, h, body, "application/json")
                        : method == "DELETE" ? http->Delete(path, h)
                                             : http->Post(path, h, body, "application/json");
    ApiResponse out;
    if (!r) {
      out.body = httplib::to_string(r.error());
      return out;
    }
    out.status = r->status;
    out.body = r->body;
    return out;
  }
};

ApiClient::ApiClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiClient::~ApiClient() = default;

std::unique_ptr<ApiClient> ApiClient::connect(const ApiOptions& o, std::string* error) {
  if (o.server.rfind("http://", 0) != 0 && o.server.rfind("https://", 0) != 0) {
    *error = "--server must be an http:// or https:// URL";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  std::string url = o.server;
  while (!url.empty() && url.back() == '/') url.pop_back();
  impl->http = std::make_unique<httplib::Client>(url);
  impl->http->set_connection_timeout(5, 0);
  impl->http->set_read_timeout(60, 0);
  if (!o.ca_file.empty()) impl->http->set_ca_cert_path(o.ca_file.c_str());
  impl->token = o.token;
  if (impl->token.empty()) {
    std::string password = env("VIGIL_PASSWORD");
    if (password.empty()) {
      *error = "no credentials: give --token (or VIGIL_TOKEN), or VIGIL_PASSWORD for --user " +
               o.user;
      return nullptr;
    }
    nlohmann::json body = {{"username", o.user}, {"password", password}};
    ApiResponse r = impl->call("POST", "/api/v1/session", body.dump());
    if (r.status != 200) {
      *error = "cannot sign in: " + r.describe();
      return nullptr;
    }
    impl->token = r.json().value("token", "");
  }
  return std::unique_ptr<ApiClient>(new ApiClient(std::move(impl)));
}

ApiResponse ApiClient::get(const std::string& path) { return impl_->call("GET", path, ""); }

ApiResponse ApiClient::send(const std::string& method, const std::string& path,
                            const std::string& body) {
  return impl_->call(method, path, body);
}

}  // namespace vigil::cli
