// vigil-shop: a small, DELIBERATELY VULNERABLE web shop for Vigil's demo and tests.
//
// Every handler builds its operation by string concatenation: SQL (search, login, product),
// a shell command (ping), a file path (download), an outbound URL (fetch), HTML (hello), a
// redirect (go) and a response header (lang). Never expose it: it listens on 127.0.0.1 only, and
// its URL fetcher refuses every destination that is not a loopback address.
//
//   vigil-shop [--port PORT] [--data DIR]        (PORT also from VIGIL_SHOP_PORT; default 8080)
//
// Built twice: `vigil-shop` is the unmodified program (protected by `vigil run`), and
// `vigil-shop-sdk` (VIGIL_SHOP_SDK) links the C++ SDK instead: two lines protect the server
// (vigil/httplib.hpp) and each dangerous call asks the agent first. The SDK build reads
// VIGIL_MODE, VIGIL_APP and VIGIL_EVENTS like the preload agent.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include <httplib.h>

#ifdef VIGIL_SHOP_SDK
#include "vigil/httplib.hpp"
#include "vigil/sdk.hpp"
#endif

namespace {

std::string g_data;  // data directory: shop.db, files/

// --- The dangerous calls. In the SDK build each one asks Vigil first; a `false` means "do not
// --- perform it" (the integration then answers 403 for the request).
#ifdef VIGIL_SHOP_SDK
vigil::sdk::Agent* g_agent = nullptr;
bool allow_sql(const std::string& q) {
  return !g_agent->check_sql(vigil::Dialect::kSqlite, q, "sqlite3_prepare_v2").block;
}
bool allow_shell(const std::string& c, const char* fn) { return !g_agent->check_shell(c, fn).block; }
bool allow_path(const std::string& p) { return !g_agent->check_path(p, {}, "open").block; }
bool allow_url(const std::string& u) { return !g_agent->check_url(u, "fetch").block; }
#else
bool allow_sql(const std::string&) { return true; }
bool allow_shell(const std::string&, const char*) { return true; }
bool allow_path(const std::string&) { return true; }
bool allow_url(const std::string&) { return true; }
#endif

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// One SQLite connection per server thread.
sqlite3* db() {
  thread_local sqlite3* conn = nullptr;
  if (conn == nullptr) {
    std::string path = g_data + "/shop.db";
    if (sqlite3_open_v2(path.c_str(), &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      sqlite3_close(conn);
      conn = nullptr;
    }
  }
  return conn;
}

// Runs `sql` and returns its rows as a JSON array of arrays; false on error (message in *err).
bool query_json(const std::string& sql, std::string* out, std::string* err, int* rows = nullptr) {
  if (!allow_sql(sql)) {
    *err = "refused";
    return false;
  }
  sqlite3* conn = db();
  if (conn == nullptr) {
    *err = "database unavailable";
    return false;
  }
  sqlite3_stmt* stmt = nullptr;
  // Errors are shown verbatim, as careless applications do (and as scanners look for).
  auto error = [conn] {
    return "SQLite error " + std::to_string(sqlite3_errcode(conn)) + ": " + sqlite3_errmsg(conn);
  };
  if (sqlite3_prepare_v2(conn, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    *err = error();
    sqlite3_finalize(stmt);
    return false;
  }
  std::string json = "[";
  int n = 0;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (n++) json += ",";
    json += "[";
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      if (i) json += ",";
      if (sqlite3_column_type(stmt, i) == SQLITE_NULL) {
        json += "null";
      } else if (sqlite3_column_type(stmt, i) == SQLITE_INTEGER ||
                 sqlite3_column_type(stmt, i) == SQLITE_FLOAT) {
        json += reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      } else {
        const unsigned char* t = sqlite3_column_text(stmt, i);
        json += json_string(t ? reinterpret_cast<const char*>(t) : "");
      }
    }
    json += "]";
  }
  if (rc != SQLITE_DONE) {
    *err = error();
    sqlite3_finalize(stmt);
    return false;
  }
  sqlite3_finalize(stmt);
  *out = json + "]";
  if (rows) *rows = n;
  return true;
}

void init_data() {
  namespace fs = std::filesystem;
  fs::create_directories(g_data + "/files");
  std::ofstream(g_data + "/files/manual.txt") << "How to assemble the desk lamp: screw the shade on.\n";
  std::ofstream(g_data + "/files/terms.txt") << "Terms: be nice.\n";
  sqlite3* conn = nullptr;
  std::string path = g_data + "/shop.db";
  if (sqlite3_open(path.c_str(), &conn) != SQLITE_OK) {
    std::cerr << "vigil-shop: cannot open " << path << "\n";
    std::exit(1);
  }
  const char* schema =
      "DROP TABLE IF EXISTS products; DROP TABLE IF EXISTS users;"
      "CREATE TABLE products(id INTEGER PRIMARY KEY, name TEXT, price REAL, visible INTEGER);"
      "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, password TEXT);"
      "INSERT INTO products(name, price, visible) VALUES ('desk lamp', 29.9, 1), ('chair', 79.0, 1),"
      " ('lamp shade', 9.5, 1), ('secret prototype', 999.0, 0);"
      "INSERT INTO users(name, password) VALUES ('alice', 'wonderland'), ('bob', 'builder');";
  char* err = nullptr;
  if (sqlite3_exec(conn, schema, nullptr, nullptr, &err) != SQLITE_OK) {
    std::cerr << "vigil-shop: " << (err ? err : "schema failed") << "\n";
    std::exit(1);
  }
  sqlite3_close(conn);
}

std::string read_fd(int fd, std::size_t max = 1 << 20) {
  std::string out;
  char buf[8192];
  ssize_t n;
  while (out.size() < max && (n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

// GET http://HOST[:PORT]/PATH over plain HTTP/1.0. Only loopback destinations are allowed: the
// shop is vulnerable on purpose, but its fetcher must never reach anything off this machine.
int fetch_http(const std::string& url, std::string* body) {
  std::string rest = url.substr(7);
  std::size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host = authority, port = "80";
  if (!authority.empty() && authority[0] == '[') {
    std::size_t close = authority.find(']');
    host = authority.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < authority.size() && authority[close + 1] == ':')
      port = authority.substr(close + 2);
  } else if (std::size_t colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) {
    *body = "cannot resolve " + host + "\n";
    return 502;
  }
  int status = 502;
  *body = "cannot connect to " + host + "\n";
  for (addrinfo* r = res; r != nullptr; r = r->ai_next) {
    bool loopback =
        (r->ai_family == AF_INET &&
         (ntohl(reinterpret_cast<sockaddr_in*>(r->ai_addr)->sin_addr.s_addr) >> 24) == 127) ||
        (r->ai_family == AF_INET6 &&
         IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<sockaddr_in6*>(r->ai_addr)->sin6_addr));
    if (!loopback) {
      *body = "this demo fetches loopback addresses only\n";
      status = 400;
      continue;
    }
    int fd = ::socket(r->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, r->ai_addr, r->ai_addrlen) != 0) {
      *body = std::string("cannot connect: ") + std::strerror(errno) + "\n";
      ::close(fd);
      continue;
    }
    std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + authority + "\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
      ::close(fd);
      continue;
    }
    std::string response = read_fd(fd, 64 * 1024);
    ::close(fd);
    std::size_t end = response.find("\r\n\r\n");
    *body = end == std::string::npos ? response : response.substr(end + 4);
    status = 200;
    break;
  }
  freeaddrinfo(res);
  return status;
}

void text(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "text/plain; charset=utf-8");
}

void routes(httplib::Server& svr) {
  svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(
        "<!DOCTYPE html><html><head><title>Vigil demo shop</title></head><body>"
        "<h1>Vigil demo shop</h1><p>Deliberately vulnerable. Try: "
        "<a href=\"/search?q=lamp\">search</a>, <a href=\"/product?id=1\">product</a>, "
        "<a href=\"/hello?name=Ada\">hello</a>, <a href=\"/ping?host=127.0.0.1\">ping</a>, "
        "<a href=\"/download?file=manual.txt\">download</a>, <a href=\"/go?to=/\">go</a>.</p>"
        "<form method=\"post\" action=\"/login\"><input name=\"user\"><input name=\"pass\" "
        "type=\"password\"><button>log in</button></form></body></html>\n",
        "text/html; charset=utf-8");
  });

  // SQL injection: a LIKE pattern in a string literal.
  svr.Get("/search", [](const httplib::Request& req, httplib::Response& res) {
    std::string out, err;
    std::string sql = "SELECT name, price FROM products WHERE visible = 1 AND name LIKE '%" +
                      req.get_param_value("q") + "%' ORDER BY id";
    if (!query_json(sql, &out, &err)) return text(res, 500, "search failed: " + err + "\n");
    res.set_content(out + "\n", "application/json");
  });

  // SQL injection: a number, unquoted.
  svr.Get("/product", [](const httplib::Request& req, httplib::Response& res) {
    std::string out, err;
    int rows = 0;
    std::string sql = "SELECT name, price FROM products WHERE visible = 1 AND id = " +
                      req.get_param_value("id");
    if (!query_json(sql, &out, &err, &rows)) return text(res, 500, "lookup failed: " + err + "\n");
    if (rows == 0) return text(res, 404, "no such product\n");
    res.set_content(out + "\n", "application/json");
  });

  // SQL injection: authentication bypass (form body).
  svr.Post("/login", [](const httplib::Request& req, httplib::Response& res) {
    std::string out, err;
    int rows = 0;
    std::string sql = "SELECT name FROM users WHERE name = '" + req.get_param_value("user") +
                      "' AND password = '" + req.get_param_value("pass") + "'";
    if (!query_json(sql, &out, &err, &rows)) return text(res, 500, "login failed: " + err + "\n");
    if (rows == 0) return text(res, 401, "invalid credentials\n");
    text(res, 200, "welcome " + out + "\n");
  });

  // Command injection: popen (output shown) or system (mode=quiet: exit status only).
  svr.Get("/ping", [](const httplib::Request& req, httplib::Response& res) {
    std::string host = req.has_param("host") ? req.get_param_value("host") : "127.0.0.1";
    if (req.get_param_value("mode") == "quiet") {
      std::string cmd = "ping -c 1 -W 1 -q " + host + " >/dev/null 2>&1";
      if (!allow_shell(cmd, "system")) return text(res, 500, "ping refused\n");
      int rc = std::system(cmd.c_str());
      return text(res, 200, host + (rc == 0 ? " is up\n" : " did not answer\n"));
    }
    std::string cmd = "ping -c 1 -W 1 -q " + host + " 2>&1";
    if (!allow_shell(cmd, "popen")) return text(res, 500, "ping refused\n");
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return text(res, 500, std::string("ping failed: ") + std::strerror(errno) + "\n");
    std::string out, line;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) {
      line = buf;
      // Timings differ run to run: the answer keeps what ping found, not how fast.
      if (line.rfind("rtt ", 0) == 0) continue;
      if (std::size_t t = line.find(", time "); t != std::string::npos) line = line.substr(0, t) + "\n";
      out += line;
    }
    ::pclose(p);
    text(res, 200, out);
  });

  // Path traversal: a file name joined to the download folder.
  svr.Get("/download", [](const httplib::Request& req, httplib::Response& res) {
    std::string path = g_data + "/files/" + req.get_param_value("file");
    if (!allow_path(path)) return text(res, 500, "download refused\n");
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return text(res, 404, std::string("cannot open file: ") + std::strerror(errno) + "\n");
    std::string body = read_fd(fd);
    ::close(fd);
    res.set_content(body, "application/octet-stream");
  });

  // SSRF: fetches the URL it is given (http: on loopback only, or file:).
  svr.Get("/fetch", [](const httplib::Request& req, httplib::Response& res) {
    std::string url = req.get_param_value("url");
    if (url.empty()) return text(res, 400, "give a url\n");
    if (!allow_url(url)) return text(res, 500, "fetch refused\n");
    std::string body;
    if (url.rfind("file://", 0) == 0) {
      int fd = ::open(url.substr(7).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return text(res, 404, std::string("cannot open: ") + std::strerror(errno) + "\n");
      body = read_fd(fd);
      ::close(fd);
      return text(res, 200, body);
    }
    if (url.rfind("http://", 0) != 0) return text(res, 400, "http: and file: URLs only\n");
    int status = fetch_http(url, &body);
    text(res, status, body);
  });

  // Reflected XSS.
  svr.Get("/hello", [](const httplib::Request& req, httplib::Response& res) {
    std::string name = req.has_param("name") ? req.get_param_value("name") : "guest";
    res.set_content("<!DOCTYPE html><html><body><p>Hello, " + name + "!</p></body></html>\n",
                    "text/html; charset=utf-8");
  });

  // Open redirect.
  svr.Get("/go", [](const httplib::Request& req, httplib::Response& res) {
    std::string to = req.has_param("to") ? req.get_param_value("to") : "/";
    res.status = 302;
    res.headers.emplace("Location", to);  // by hand: no CR/LF check
  });

  // Header injection: the value goes into Set-Cookie unchecked (headers written by hand, as
  // older code does; httplib's set_header would refuse CR/LF).
  svr.Get("/lang", [](const httplib::Request& req, httplib::Response& res) {
    std::string lang = req.has_param("set") ? req.get_param_value("set") : "en";
    res.headers.emplace("Set-Cookie", "lang=" + lang + "; Path=/");
    text(res, 200, "language set\n");
  });

  // Reached only from this machine: what an SSRF is after.
  svr.Get("/internal/config", [](const httplib::Request& req, httplib::Response& res) {
    if (req.remote_addr != "127.0.0.1" && req.remote_addr != "::1") return text(res, 403, "local only\n");
    text(res, 200, "db_password=hunter2\napi_key=demo-internal-key\n");
  });
}

}  // namespace

int main(int argc, char** argv) {
  int port = 8080;
  if (const char* p = std::getenv("VIGIL_SHOP_PORT")) port = std::atoi(p);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else if (a == "--data" && i + 1 < argc) {
      g_data = argv[++i];
    } else if (a == "-h" || a == "--help") {
      std::cout << "usage: vigil-shop [--port PORT] [--data DIR]   (listens on 127.0.0.1 only)\n";
      return 0;
    } else {
      std::cerr << "vigil-shop: unknown argument " << a << "\n";
      return 2;
    }
  }
  if (g_data.empty()) {
    char tmpl[] = "/tmp/vigil-shop.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("vigil-shop: mkdtemp");
      return 1;
    }
    g_data = tmpl;
  }
  g_data = std::filesystem::absolute(g_data).string();
  init_data();

  // SIGINT/SIGTERM stop the server cleanly (the SDK build then flushes its events).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  httplib::Server svr;
  svr.set_tcp_nodelay(true);  // Nagle would cap keep-alive throughput on loopback
#ifdef VIGIL_SHOP_SDK
  vigil::sdk::AgentOptions options = vigil::sdk::AgentOptions::from_environment();
  if (options.app == "app") options.app = "shop-sdk";
  vigil::sdk::Agent agent(std::move(options));                    // line 1
  vigil::sdk::protect(svr, agent);                                // line 2
  g_agent = &agent;
#endif
  routes(svr);

  std::thread stopper([&svr, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    svr.stop();
  });
  if (!svr.bind_to_port("127.0.0.1", port)) {
    std::cerr << "vigil-shop: cannot listen on 127.0.0.1:" << port << "\n";
    std::_Exit(1);
  }
  std::cout << "vigil-shop: listening on http://127.0.0.1:" << port << "/ (data " << g_data << ")"
            << std::endl;
  svr.listen_after_bind();
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  return 0;
}
