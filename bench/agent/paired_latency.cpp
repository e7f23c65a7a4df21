// Paired latency: one request at a time, alternately to two HTTP/1.1 servers on loopback (the
// shop without the agent and under it), each on its own keep-alive connection. Both servers then
// see the same moments of the machine (clock speed, other virtual machines on the host), a few
// hundred microseconds apart, and neither ever has a request waiting behind another: the
// difference of their latency distributions is the latency the agent adds to a request itself.
// Rounds of wrk taken in turn cannot decide that on a machine whose speed drifts by half
// between rounds.
//
//   paired_latency PORT_A PORT_B SECONDS REQUESTS_FILE
//
// REQUESTS_FILE: one request per line, "METHOD<TAB>TARGET<TAB>BODY" (BODY, form-urlencoded,
// may be empty). Sends them in turn (the same one to both servers in each pair; which server
// goes first alternates from one pass over the list to the next, ABBA), for SECONDS. Prints one line per pair: the latency of A's
// and of B's request in nanoseconds. A connection the server closes (Connection: close, or at
// its end) is opened again before the next request, outside the time measured. Exits 1 on a
// request that fails twice. Loopback only (127.0.0.1).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{5, 0};  // a server that stops answering ends the run, not hangs it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if ((line[i] | 0x20) != name[i]) return false;
  return true;
}

class Connection {
 public:
  explicit Connection(int port) : port_(port) {}
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ready() {
    if (fd_ < 0) fd_ = connect_loopback(port_);
    return fd_ >= 0;
  }
  // Sends `request` and reads its whole response; false on any failure (the connection is then
  // closed). *close: the server will not take another request on it.
  bool exchange(const std::string& request, bool* close) {
    *close = false;
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
      return fail();
    buf_.clear();
    std::size_t head_end = std::string::npos;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!more()) return fail();
    }
    std::size_t length = 0;
    bool chunked = false, has_length = false;
    std::string_view head(buf_.data(), head_end);
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;) {
      std::size_t next = head.find("\r\n", at + 2);
      std::string_view line = head.substr(at + 2, next == std::string_view::npos ? head.npos : next - at - 2);
      if (iequals_prefix(line, "content-length:")) {
        has_length = true;
        length = std::strtoull(std::string(line.substr(15)).c_str(), nullptr, 10);
      } else if (iequals_prefix(line, "transfer-encoding:") && line.find("chunked") != line.npos) {
        chunked = true;
      } else if (iequals_prefix(line, "connection:") && line.find("close") != line.npos) {
        *close = true;
      }
      at = next;
    }
    const std::size_t body = head_end + 4;
    if (has_length) {
      while (buf_.size() < body + length)
        if (!more()) return fail();
    } else if (chunked) {
      while (buf_.size() < body + 5 || buf_.compare(buf_.size() - 5, 5, "0\r\n\r\n") != 0)
        if (!more()) return fail();
    } else {
      while (more()) {
      }  // ends with the connection
      *close = true;
    }
    if (*close) fail();
    return true;
  }

 private:
  bool more() {
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) return more();
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }
  bool fail() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return false;
  }

  int port_;
  int fd_ = -1;
  std::string buf_;
};

// One timed request; a failed one is tried once more on a new connection (a keep-alive
// connection the server closed between requests). Returns nanoseconds, or -1.
long long timed(Connection& c, const std::string& request) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!c.ready()) return -1;
    bool close = false;
    auto t0 = Clock::now();
    bool ok = c.exchange(request, &close);
    auto t1 = Clock::now();
    if (ok) return std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s PORT_A PORT_B SECONDS REQUESTS_FILE\n", argv[0]);
    return 2;
  }
  Connection a(std::atoi(argv[1])), b(std::atoi(argv[2]));
  std::vector<std::string> requests;
  std::ifstream in(argv[4]);
  for (std::string line; std::getline(in, line);) {
    std::size_t t1 = line.find('\t'), t2 = t1 == line.npos ? line.npos : line.find('\t', t1 + 1);
    if (t2 == line.npos) continue;
    std::string body = line.substr(t2 + 1);
    std::string r = line.substr(0, t1) + ' ' + line.substr(t1 + 1, t2 - t1 - 1) +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!body.empty())
      r += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n";
    requests.push_back(r + "\r\n" + body);
  }
  if (requests.empty()) {
    std::fprintf(stderr, "paired_latency: no request in %s\n", argv[4]);
    return 2;
  }
  const auto end = Clock::now() + std::chrono::seconds(std::atoi(argv[3]));
  std::string out;
  for (std::size_t n = 0; Clock::now() < end; ++n) {
    const std::string& request = requests[n % requests.size()];
    long long la, lb;
    // ABBA over the rounds of the list: each request goes first to A as often as to B (the
    // second of a pair finds the caches the first left, which the two shops share).
    const std::size_t turn = n / requests.size();
    if (turn % 4 == 0 || turn % 4 == 3) {
      la = timed(a, request);
      lb = timed(b, request);
    } else {
      lb = timed(b, request);
      la = timed(a, request);
    }
    if (la < 0 || lb < 0) {
      std::fprintf(stderr, "paired_latency: a request to %s failed twice\n", la < 0 ? argv[1] : argv[2]);
      return 1;
    }
    out += std::to_string(la) + ' ' + std::to_string(lb) + ' ' + std::to_string(n % requests.size()) + '\n';
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
