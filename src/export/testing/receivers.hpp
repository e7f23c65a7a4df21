// Test support: real receivers on 127.0.0.1 for the exports' tests (src/export/receivers_test.cpp,
// tests/export/): rsyslogd in the foreground with UDP, TCP and TLS inputs writing raw messages
// to files, an HTTPS server (cpp-httplib) standing in for Splunk HEC and webhooks, throwaway
// certificates made with openssl, and small helpers.
//
// The including target defines VIGIL_RSYSLOGD and VIGIL_OPENSSL (paths, empty when absent);
// have_tools() says whether both are installed. Header-only; not for production code.
#ifndef VIGIL_EXPORT_TESTING_RECEIVERS_HPP_
#define VIGIL_EXPORT_TESTING_RECEIVERS_HPP_

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace vigil::exports::testing {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

// Polls f() every 20 ms until it is true or `limit` has passed; f()'s last answer.
template <class F>
inline bool eventually(F f, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return f();
}

// Polls f() until its value has not changed for `quiet` (true), or `limit` has passed (false):
// for receivers that write on their own schedule, so a count is read only once it is final.
template <class F>
inline bool settled(F f, std::chrono::milliseconds quiet, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  auto last = f();
  auto since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(20ms);
    auto v = f();
    auto now = std::chrono::steady_clock::now();
    if (v != last) {
      last = v;
      since = now;
    } else if (now - since >= quiet) {
      return true;
    }
  }
  return false;
}

inline int free_port(int type) {
  int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline bool tcp_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

inline std::vector<std::string> read_lines(const fs::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vigil-export-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A throwaway CA and a server certificate for localhost / 127.0.0.1.
struct Certificates {
  fs::path ca, cert, key, other_ca;
  bool ok = false;
  explicit Certificates(const fs::path& dir) {
    std::string o = VIGIL_OPENSSL;
    if (o.empty() || !fs::exists(o)) return;
    std::string d = dir.string();
    std::string cmd =
        "cd '" + d + "' && ( printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf && " +
        o + " req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=Vigil Test CA' && " +
        o + " req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=localhost' && " +
        o + " x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf && " +
        o + " req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj '/CN=Someone Else' " +
        ") > openssl.log 2>&1";
    ok = std::system(cmd.c_str()) == 0;
    ca = dir / "ca.pem";
    cert = dir / "server.pem";
    key = dir / "server.key";
    other_ca = dir / "other.pem";
  }
};

// rsyslogd in the foreground: UDP, TCP and TLS inputs, each written raw to its own file.
class Rsyslog {
 public:
  Rsyslog(const fs::path& dir, const Certificates& certs) : dir_(dir) {
    udp_ = free_port(SOCK_DGRAM);
    tcp_ = free_port(SOCK_STREAM);
    tls_ = free_port(SOCK_STREAM);
    std::ofstream conf(dir / "rsyslog.conf");
    // Control characters stay as sent (LEEF's delimiter is a tab); messages up to 64 KiB.
    conf << "global(workDirectory=\"" << dir.string() << "\" maxMessageSize=\"64k\" "
         << "parser.escapeControlCharactersOnReceive=\"off\")\n"
         << "module(load=\"imudp\")\nmodule(load=\"imtcp\" maxSessions=\"100\")\n"
         << "template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n";
    for (const char* name : {"udp", "tcp", "tls"})
      conf << "ruleset(name=\"" << name << "\") { action(type=\"omfile\" file=\""
           << (dir / (std::string(name) + ".log")).string() << "\" template=\"raw\") }\n";
    conf << "input(type=\"imudp\" address=\"127.0.0.1\" port=\"" << udp_ << "\" ruleset=\"udp\")\n"
         << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << tcp_ << "\" ruleset=\"tcp\")\n"
         << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << tls_ << "\" ruleset=\"tls\" "
         << "streamDriver.name=\"ossl\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\" "
         << "streamDriver.CAFile=\"" << certs.ca.string() << "\" streamDriver.CertFile=\""
         << certs.cert.string() << "\" streamDriver.KeyFile=\"" << certs.key.string() << "\")\n";
  }
  ~Rsyslog() { stop(); }

  bool start() {
    std::string bin = VIGIL_RSYSLOGD;
    std::string conf = (dir_ / "rsyslog.conf").string(), pid = (dir_ / "rsyslogd.pid").string();
    std::string log = (dir_ / "rsyslogd.out").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(bin.c_str(), bin.c_str(), "-n", "-f", conf.c_str(), "-i", pid.c_str(), (char*)nullptr);
      ::_exit(127);
    }
    return eventually([&] { return tcp_open(tcp_) && tcp_open(tls_); }, 10s);
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status;
    if (!eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, 10s)) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

  std::vector<std::string> lines(const char* input) const {
    return read_lines(dir_ / (std::string(input) + ".log"));
  }
  std::string log() const {
    std::ifstream in(dir_ / "rsyslogd.out");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  int udp() const { return udp_; }
  int tcp() const { return tcp_; }
  int tls() const { return tls_; }

 private:
  fs::path dir_;
  int udp_ = 0, tcp_ = 0, tls_ = 0;
  pid_t pid_ = -1;
};

inline bool have_tools() {
  return std::string(VIGIL_RSYSLOGD).size() && fs::exists(VIGIL_RSYSLOGD) &&
         std::string(VIGIL_OPENSSL).size() && fs::exists(VIGIL_OPENSSL);
}

struct Received {
  std::string path, authorization, content_type, body;
};

class HttpsReceiver {
 public:
  HttpsReceiver(const Certificates& certs, int port = 0)
      : server_(certs.cert.c_str(), certs.key.c_str()) {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      if (status_ != 200) {
        res.status = status_;
        return;
      }
      got_.push_back({req.path, req.get_header_value("Authorization"),
                      req.get_header_value("Content-Type"), req.body});
      res.set_content(R"({"text":"Success","code":0})", "application/json");
    });
    port_ = port ? (server_.bind_to_port("127.0.0.1", port) ? port : -1)
                 : server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~HttpsReceiver() { stop(); }
  void stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  std::vector<Received> got() {
    std::lock_guard<std::mutex> lock(mu_);
    return got_;
  }
  void answer(int status) {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
  }

 private:
  httplib::SSLServer server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<Received> got_;
  int status_ = 200;
};

// Splits concatenated JSON objects (Splunk HEC's batch body).
inline std::vector<json> concatenated(const std::string& body) {
  std::vector<json> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

}  // namespace vigil::exports::testing

#endif  // VIGIL_EXPORT_TESTING_RECEIVERS_HPP_
