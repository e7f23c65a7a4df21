// The vigild API from the command line (vigil incidents, events, policy get|set, keys): where
// the server is and how to sign in, shared by those subcommands.
//
//   --server URL   (VIGIL_SERVER_URL, default http://127.0.0.1:7700)
//   --token TOKEN  (VIGIL_TOKEN: a session or API token), or
//   --user NAME    (VIGIL_USER, default admin) with the password in VIGIL_PASSWORD
//   --ca-file PEM  (HTTPS with a private CA)
#ifndef VIGIL_CLI_API_CLIENT_HPP_
#define VIGIL_CLI_API_CLIENT_HPP_

#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace vigil::cli {

struct ApiOptions {
  std::string server, token, user, ca_file;
};

// Adds --server, --token, --user, --ca-file to a subcommand.
void add_api_options(CLI::App* sub, ApiOptions* o);

struct ApiResponse {
  int status = 0;    // 0: no answer
  std::string body;  // or why there was no answer
  nlohmann::json json() const;  // null when the body is not JSON
  // "vigild answered 403: this route needs the admin role" (for the user).
  std::string describe() const;
};

class ApiClient {
 public:
  // Signs in with the password when no token is given. Null with *error when it cannot.
  static std::unique_ptr<ApiClient> connect(const ApiOptions& o, std::string* error);
  ~ApiClient();

  ApiResponse get(const std::string& path);
  ApiResponse send(const std::string& method, const std::string& path, const std::string& body);

 private:
  struct Impl;
  explicit ApiClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes a query parameter value.
std::string url_encode(const std::string& s);

}  // namespace vigil::cli

#endif  // VIGIL_CLI_API_CLIENT_HPP_
