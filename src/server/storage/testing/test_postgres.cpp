#include "server/storage/testing/test_postgres.hpp"

#include <glob.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <vector>

namespace vigil::server::testing {
namespace {

namespace fs = std::filesystem;

// The newest PostgreSQL server installed by Debian's postgresql package.
std::string find_bin_dir() {
  glob_t g{};
  std::string best;
  int best_version = -1;
  if (glob("/usr/lib/postgresql/*/bin/pg_ctl", 0, nullptr, &g) == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) {
      std::string path = g.gl_pathv[i];
      int version = std::atoi(path.c_str() + std::string("/usr/lib/postgresql/").size());
      if (version > best_version) {
        best_version = version;
        best = fs::path(path).parent_path().string();
      }
    }
  }
  globfree(&g);
  return best;
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

// PostgreSQL refuses to run as root: as root, its programs run as `nobody`.
struct RunAs {
  bool drop = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

RunAs run_as() {
  RunAs r;
  if (geteuid() != 0) return r;
  if (passwd* pw = getpwnam("nobody")) {
    r.drop = true;
    r.uid = pw->pw_uid;
    r.gid = pw->pw_gid;
  }
  return r;
}

std::string tail(const std::string& path) {
  std::ifstream f(path);
  std::string line, out;
  std::vector<std::string> lines;
  while (std::getline(f, line)) lines.push_back(line);
  for (std::size_t i = lines.size() > 8 ? lines.size() - 8 : 0; i < lines.size(); ++i)
    out += "\n  " + lines[i];
  return out;
}

bool run(const std::vector<std::string>& argv, const RunAs& as, const std::string& log,
         std::string* error) {
  pid_t pid = fork();
  if (pid < 0) {
    *error = "fork failed";
    return false;
  }
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    if (as.drop && (setgroups(0, nullptr) != 0 || setgid(as.gid) != 0 || setuid(as.uid) != 0))
      _exit(126);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  *error = fs::path(argv[0]).filename().string() + " failed (" + log + "):" + tail(log);
  return false;
}

struct State {
  int port = 0;
  std::string data_root;
};

bool read_state(const std::string& dir, State* s, std::string* error) {
  std::ifstream unavailable(dir + "/unavailable");
  if (unavailable) {
    std::getline(unavailable, *error, '\0');
    return false;
  }
  std::ifstream f(dir + "/state");
  if (!(f >> s->port >> s->data_root)) {
    *error = "no test PostgreSQL state in " + dir + " (start it with vigil_test_pg start DIR)";
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<TestPostgres> TestPostgres::start(const std::string& state_dir,
                                                  std::string* error) {
  std::error_code stale;
  fs::remove(state_dir + "/unavailable", stale);
  std::string bin = find_bin_dir();
  if (bin.empty()) {
    *error = "PostgreSQL server programs not found in /usr/lib/postgresql/*/bin "
             "(scripts/install-deps installs the postgresql package)";
    return nullptr;
  }
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  char tmpl[] = "/tmp/vigil-pg-XXXXXX";
  if (!mkdtemp(tmpl)) {
    *error = "cannot create a temporary directory";
    return nullptr;
  }
  std::string root = tmpl;
  RunAs as = run_as();
  if (geteuid() == 0 && !as.drop) {
    *error = "running as root and there is no user 'nobody' to run PostgreSQL as";
    fs::remove_all(root, ec);
    return nullptr;
  }
  if (as.drop && chown(root.c_str(), as.uid, as.gid) != 0) {
    *error = "cannot hand " + root + " to user nobody";
    fs::remove_all(root, ec);
    return nullptr;
  }
  std::string data = root + "/data";
  if (!run({bin + "/initdb", "-D", data, "-U", "vigil", "--auth=trust", "-E", "UTF8",
            "--no-locale", "-N"},
           as, root + "/initdb.log", error)) {
    fs::remove_all(root, ec);
    return nullptr;
  }
  for (int attempt = 0;; ++attempt) {
    int port = free_port();
    std::string opts = "-p " + std::to_string(port) + " -k " + root +
                       " -h 127.0.0.1 -c fsync=off -c synchronous_commit=off"
                       " -c full_page_writes=off -c max_connections=300";
    if (run({bin + "/pg_ctl", "-D", data, "-l", root + "/server.log", "-w", "-t", "60", "-o",
             opts, "start"},
            as, root + "/pg_ctl.log", error)) {
      std::ofstream(state_dir + "/state") << port << "\n" << root << "\n";
      std::unique_ptr<TestPostgres> pg(new TestPostgres());
      pg->state_dir_ = state_dir;
      pg->port_ = port;
      pg->owned_ = true;
      return pg;
    }
    if (attempt == 2) {  // the port was taken between probing and starting, three times?
      *error += tail(root + "/server.log");
      fs::remove_all(root, ec);
      return nullptr;
    }
  }
}

std::unique_ptr<TestPostgres> TestPostgres::attach(const std::string& state_dir,
                                                   std::string* error) {
  State s;
  if (!read_state(state_dir, &s, error)) return nullptr;
  std::unique_ptr<TestPostgres> pg(new TestPostgres());
  pg->state_dir_ = state_dir;
  pg->port_ = s.port;
  return pg;
}

void TestPostgres::mark_unavailable(const std::string& state_dir, const std::string& why) {
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  std::ofstream(state_dir + "/unavailable") << why;
}

bool TestPostgres::stop(const std::string& state_dir, std::string* error) {
  std::error_code ec;
  if (fs::remove(state_dir + "/unavailable", ec)) return true;  // none was started
  if (!fs::exists(state_dir + "/state", ec)) return true;          // already stopped
  State s;
  if (!read_state(state_dir, &s, error)) return false;
  std::string bin = find_bin_dir();
  bool ok = run({bin + "/pg_ctl", "-D", s.data_root + "/data", "-m", "immediate", "-w", "stop"},
                run_as(), s.data_root + "/pg_ctl.log", error);
  fs::remove_all(s.data_root, ec);
  fs::remove(state_dir + "/state", ec);
  return ok;
}

TestPostgres::~TestPostgres() {
  if (!owned_) return;
  std::string error;
  stop(state_dir_, &error);
}

std::string TestPostgres::uri(const std::string& database) const {
  return "postgresql://vigil@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string TestPostgres::create_database(std::string* error) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  std::string name = "t" + std::to_string(getpid()) + "_" + std::to_string(++counter) + "_" +
                     std::to_string(rd() % 100000);
  PGconn* c = PQconnectdb(uri("postgres").c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    *error = PQerrorMessage(c);
    PQfinish(c);
    return "";
  }
  PGresult* r = PQexec(c, ("CREATE DATABASE " + name).c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok) *error = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  return ok ? uri(name) : "";
}

TestPostgres* shared_test_postgres(std::string* why) {
  struct Shared {
    std::unique_ptr<TestPostgres> pg;
    std::string failure;
    std::string own_dir;  // state directory of a server this process started
    ~Shared() {
      pg.reset();  // stops it when owned
      std::error_code ec;
      if (!own_dir.empty()) fs::remove_all(own_dir, ec);
    }
  };
  static std::mutex mu;
  static Shared shared;
  std::lock_guard<std::mutex> lock(mu);
  if (shared.pg) return shared.pg.get();
  if (shared.failure.empty()) {
    if (const char* dir = std::getenv("VIGIL_TEST_PG_DIR"); dir && *dir) {
      shared.pg = TestPostgres::attach(dir, &shared.failure);
    } else {
      char tmpl[] = "/tmp/vigil-pg-state-XXXXXX";
      if (mkdtemp(tmpl)) {
        shared.own_dir = tmpl;
        shared.pg = TestPostgres::start(shared.own_dir, &shared.failure);
      } else {
        shared.failure = "cannot create a temporary directory";
      }
    }
  }
  if (!shared.pg) *why = shared.failure;
  return shared.pg.get();
}

}  // namespace vigil::server::testing
