#include "server/http/server.hpp"

#include <httplib.h>

#include <chrono>
#include <cstdlib>

#include "server/common/log.hpp"

namespace vigil::server::http {

bool parse_listen(std::string_view text, std::string* host, int* port) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = text.substr(0, colon), p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (p.empty() || p.size() > 5) return false;
  int v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > 65535) return false;
  *host = h.empty() ? "0.0.0.0" : std::string(h);
  *port = v;
  return true;
}

HttpServer::HttpServer(ServerOptions options, Router* router)
    : options_(std::move(options)), router_(router) {}

HttpServer::~HttpServer() = default;

bool HttpServer::bind(std::string* error) {
  if (!options_.tls_cert.empty() || !options_.tls_key.empty()) {
    if (options_.tls_cert.empty() || options_.tls_key.empty()) {
      *error = "TLS needs both --tls-cert and --tls-key";
      return false;
    }
    auto ssl = std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(),
                                                    options_.tls_key.c_str());
    if (!ssl->is_valid()) {
      *error = "cannot load the TLS certificate " + options_.tls_cert + " or key " +
               options_.tls_key;
      return false;
    }
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  auto& s = *server_;
  int threads = options_.threads < 4 ? 4 : options_.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_keep_alive_max_count(options_.keep_alive_max);
  s.set_keep_alive_timeout(options_.keep_alive_timeout_s);
  s.set_read_timeout(options_.read_timeout_s, 0);
  s.set_write_timeout(options_.write_timeout_s, 0);
  s.set_payload_max_length(options_.max_body_bytes);
  s.set_tcp_nodelay(true);

  bool tls = !options_.tls_cert.empty();
  auto handle = [this, tls](const httplib::Request& req, httplib::Response& res) {
    auto start = std::chrono::steady_clock::now();
    Reply reply = router_->dispatch(req, tls);
    res.status = reply.status;
    for (auto& [name, value] : reply.headers) res.set_header(name, value);
    // API answers are never cached; the dashboard's files say how they may be.
    if (!res.has_header("Cache-Control")) res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    if (!reply.body.empty() || reply.status != 304)
      res.set_content(std::move(reply.body), reply.content_type.c_str());
    if (options_.access_log) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
      log_info(req.remote_addr + " " + req.method + " " + req.path + " " +
               std::to_string(reply.status) + " " + std::to_string(us / 1000) + "." +
               std::to_string(us % 1000 / 100) + "ms");
    }
  };
  for (const char* pattern : {".*"}) {
    s.Get(pattern, handle);
    s.Post(pattern, handle);
    s.Put(pattern, handle);
    s.Patch(pattern, handle);
    s.Delete(pattern, handle);
    s.Options(pattern, handle);
  }
  // Errors httplib answers itself (413 before reading, 400 on a malformed request line): a
  // JSON body like every other error.
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    bool form = req.get_header_value("Content-Type").find("x-www-form-urlencoded") !=
                std::string::npos;
    const char* msg = res.status == 413 && form
                          ? "request body too large for a form-encoded body (8 KiB); send "
                            "Content-Type: application/json"
                      : res.status == 413 ? "request body too large"
                      : res.status == 414 ? "request URI too long"
                      : res.status == 400 ? "malformed HTTP request"
                                          : "error";
    res.set_content(std::string(R"({"error":")") + msg + R"(","code":"http_)" +
                        std::to_string(res.status) + "\"}",
                    "application/json");
  });
  s.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content(R"({"error":"internal error","code":"internal"})", "application/json");
      });

  // cpp-httplib's default sets SO_REUSEPORT too, which lets a second vigild bind the same port
  // silently and the kernel split connections between two databases: only SO_REUSEADDR.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof(yes));
  });
  if (options_.port == 0) {
    bound_port_ = s.bind_to_any_port(options_.host);
    if (bound_port_ <= 0) {
      *error = "cannot listen on " + options_.host + " (any port)";
      return false;
    }
  } else {
    if (!s.bind_to_port(options_.host, options_.port)) {
      *error = "cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
               " (address in use, or not an address of this machine)";
      return false;
    }
    bound_port_ = options_.port;
  }
  return true;
}

void HttpServer::serve() {
  if (server_) server_->listen_after_bind();
}

void HttpServer::stop() {
  if (server_) server_->stop();
}

}  // namespace vigil::server::http
