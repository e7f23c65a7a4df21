// The listening side of vigild: cpp-httplib's server (HTTP/1.1, keep-alive, optional TLS with
// OpenSSL), a fixed pool of worker threads, and every request handed to the Router.
#ifndef VIGIL_SERVER_HTTP_SERVER_HPP_
#define VIGIL_SERVER_HTTP_SERVER_HPP_

#include <memory>
#include <string>

#include "server/http/router.hpp"

namespace httplib {
class Server;
}

namespace vigil::server::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 7700;                        // 0: any free port (see HttpServer::port())
  std::string tls_cert, tls_key;          // PEM files; both set: HTTPS only
  int threads = 64;                       // workers: one per connection being served
  std::size_t max_body_bytes = 16 << 20;  // larger bodies get 413 before they are read
  int keep_alive_max = 1000;              // requests per connection
  int keep_alive_timeout_s = 5;
  int read_timeout_s = 30;
  int write_timeout_s = 30;
  bool access_log = false;
};

// Parses "HOST:PORT", "[V6]:PORT" or ":PORT"; false when malformed.
bool parse_listen(std::string_view text, std::string* host, int* port);

class HttpServer {
 public:
  HttpServer(ServerOptions options, Router* router);
  ~HttpServer();

  // Binds the socket; false with *error when it cannot (address in use, bad certificate).
  bool bind(std::string* error);
  int port() const noexcept { return bound_port_; }
  bool tls() const noexcept { return !options_.tls_cert.empty(); }
  // Serves until stop(); returns when stopped.
  void serve();
  void stop();

 private:
  ServerOptions options_;
  Router* router_;
  std::unique_ptr<httplib::Server> server_;
  int bound_port_ = 0;
};

}  // namespace vigil::server::http

#endif  // VIGIL_SERVER_HTTP_SERVER_HPP_
