// vigil-e2e-stress: a host program that is hard on the agent, for the fault tests
// (tests/e2e/faults_test.py). It serves itself one HTTP request over loopback (so that the
// agent has a request in flight whose input is an SQL injection) and then, while that request
// is in flight:
//   flood THREADS PER_THREAD   every thread prepares the injected query PER_THREAD times
//                              (each one a detection); prints detections/s and RSS growth
//   forkexec N                 N times: fork+execv /bin/true, posix_spawn, system("true"),
//                              popen("true"), fork without exec (the child exits)
//   signals N                  a thread sends N SIGUSR1 to the process while others read,
//                              write, open files and prepare queries; the handler writes
//                              and opens (hooked calls from a signal handler)
// Exits 0 when everything finished; prints one summary line. Loopback only.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

constexpr const char* kInput = "x' OR 1=1--";
constexpr const char* kRequest =
    "GET /search?q=x%27%20OR%201%3D1-- HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: stress\r\n\r\n";

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

// Accepts one connection from ourselves and reads its request: the agent now has it in flight.
// Returns the server side of the connection (kept open until the end), -1 on failure.
int request_in_flight(int* client_out) {
  int lsock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (lsock < 0 || bind(lsock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(lsock, 1) != 0 || getsockname(lsock, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return -1;
  int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  if (send(client, kRequest, std::strlen(kRequest), MSG_NOSIGNAL) < 0) return -1;
  int conn = accept4(lsock, nullptr, nullptr, SOCK_CLOEXEC);
  close(lsock);
  if (conn < 0) return -1;
  char buf[1024];
  ssize_t n = read(conn, buf, sizeof buf);
  if (n <= 0) return -1;
  *client_out = client;
  return conn;
}

std::string injected_query() {
  return std::string("SELECT name FROM products WHERE name = '") + kInput + "' AND visible = 1";
}

int prepare_many(sqlite3* db, const std::string& sql, long n) {
  int ok = 0;
  for (long i = 0; i < n; ++i) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) ++ok;
    sqlite3_finalize(st);
  }
  return ok;
}

int flood(int threads, long per_thread) {
  long rss_before = rss_kib();
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  std::atomic<long> prepared{0};
  std::string sql = injected_query();
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      sqlite3* db = nullptr;
      sqlite3_open(":memory:", &db);
      sqlite3_exec(db, "CREATE TABLE products(name TEXT, visible INTEGER)", nullptr, nullptr, nullptr);
      prepared += prepare_many(db, sql, per_thread);
      sqlite3_close(db);
    });
  }
  for (auto& t : ts) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  long rss_after = rss_kib();
  std::printf("flood: %ld queries in %.2fs (%.0f/s), rss %ld KiB -> %ld KiB (+%ld KiB)\n",
              static_cast<long>(threads) * per_thread, secs, threads * per_thread / secs, rss_before,
              rss_after, rss_after - rss_before);
  return prepared.load() == threads * per_thread ? 0 : 1;
}

int forkexec(int n) {
  int failures = 0;
  char true_path[] = "/bin/true";
  char* argv[] = {true_path, nullptr};
  for (int i = 0; i < n; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      execv(true_path, argv);
      _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
    if (posix_spawn(&pid, true_path, nullptr, nullptr, argv, environ) != 0 || waitpid(pid, &status, 0) != pid ||
        WEXITSTATUS(status) != 0)
      ++failures;
    if (std::system("true") != 0) ++failures;
    if (FILE* p = popen("true", "r")) {
      if (pclose(p) != 0) ++failures;
    } else {
      ++failures;
    }
    pid = fork();  // a child that does not exec: it uses the agent's state, then exits
    if (pid == 0) {
      int fd = open("/dev/null", O_RDONLY);
      if (fd >= 0) close(fd);
      _exit(0);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || WEXITSTATUS(status) != 0) ++failures;
  }
  std::printf("forkexec: %d rounds of fork+exec, posix_spawn, system, popen, fork: %d failures\n", n, failures);
  return failures == 0 ? 0 : 1;
}

std::atomic<long> g_handled{0};
int g_null_fd = -1;

void on_signal(int) {
  int saved = errno;
  // Hooked calls from a signal handler that may interrupt agent code.
  char c = 'x';
  if (write(g_null_fd, &c, 1) < 0) {
  }
  int fd = open("/dev/null", O_RDONLY);
  if (fd >= 0) close(fd);
  g_handled.fetch_add(1, std::memory_order_relaxed);
  errno = saved;
}

int signals(long n) {
  g_null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  std::string sql = injected_query();
  for (int t = 0; t < 3; ++t) {
    workers.emplace_back([&] {
      sqlite3* db = nullptr;
      sqlite3_open(":memory:", &db);
      sqlite3_exec(db, "CREATE TABLE products(name TEXT, visible INTEGER)", nullptr, nullptr, nullptr);
      while (!stop.load()) {
        prepare_many(db, sql, 10);
        int fd = open("/dev/null", O_RDONLY);
        char buf[16];
        if (fd >= 0) {
          if (read(fd, buf, sizeof buf) < 0) {
          }
          close(fd);
        }
      }
      sqlite3_close(db);
    });
  }
  pid_t self = getpid();
  for (long i = 0; i < n; ++i) {
    kill(self, SIGUSR1);
    if (i % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  for (auto& t : workers) t.join();
  std::printf("signals: %ld sent, %ld handled\n", n, g_handled.load());
  return g_handled.load() > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: vigil-e2e-stress flood THREADS PER_THREAD | forkexec N | signals N\n");
    return 2;
  }
  int client = -1;
  int conn = request_in_flight(&client);
  if (conn < 0) {
    std::perror("vigil-e2e-stress: loopback request");
    return 1;
  }
  std::string mode = argv[1];
  int rc = 2;
  if (mode == "flood" && argc >= 4) rc = flood(std::atoi(argv[2]), std::atol(argv[3]));
  else if (mode == "forkexec") rc = forkexec(std::atoi(argv[2]));
  else if (mode == "signals") rc = signals(std::atol(argv[2]));
  const char* response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  if (send(conn, response, std::strlen(response), MSG_NOSIGNAL) < 0) {
  }
  close(conn);
  close(client);
  return rc;
}
