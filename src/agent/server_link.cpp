#include "agent/server_link.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/agent.hpp"
#include "shipper/shipper.hpp"
#include "shipper/spool.hpp"
#include "shipper/transport.hpp"

namespace vigil::agent {
namespace {

// A key or cached policy file is read whole; a policy is at most 4 MiB.
constexpr std::size_t kMaxFileBytes = 8u << 20;

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string trim(std::string s) {
  while (!s.empty() && std::strchr(" \t\r\n", s.back())) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && std::strchr(" \t\r\n", s[b])) ++b;
  return s.substr(b);
}

// FNV-1a: a stable short name for a server URL (not a security boundary).
std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// A directory only this user can use: created 0700 if missing; an existing one must be a real
// directory (not a symbolic link) owned by this user, writable by nobody else. Shared places
// such as /tmp are where another user could plant one first.
bool private_dir(const std::string& path, std::string* error) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = "cannot create " + path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() ||
      (st.st_mode & 022) != 0) {
    *error = path + " is not a private directory of this user";
    return false;
  }
  return true;
}

// mkdir -p, the last level 0700.
bool make_dirs(const std::string& path, std::string* error) {
  for (std::size_t at = 1; at < path.size(); ++at) {
    if (path[at] != '/') continue;
    std::string part = path.substr(0, at);
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) break;
  }
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = "cannot create " + path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *error = path + " is not a directory";
    return false;
  }
  return true;
}

// Written under a name of this process, then renamed: readers see the old or the new file.
bool replace_file(const std::string& path, std::string_view text) {
  std::string tmp = path + ".new-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  ::close(fd);
  if (left != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

// The end (one past) of the JSON string starting at s[i] == '"'.
std::size_t string_end(std::string_view s, std::size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '"') return i + 1;
  }
  return s.size();
}

// The end (one past) of the JSON value starting at s[i].
std::size_t value_end(std::string_view s, std::size_t i) {
  if (i >= s.size()) return s.size();
  if (s[i] == '"') return string_end(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (; i < s.size(); ++i) {
      char c = s[i];
      if (c == '"') {
        i = string_end(s, i) - 1;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return s.size();
  }
  while (i < s.size() && !std::strchr(",}] \t\r\n", s[i])) ++i;
  return i;
}

bool space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Every live link, for the exit handler (heap objects: never destroyed, usable during exit).
std::mutex& links_mu() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}
std::vector<ServerLink*>& links() {
  static std::vector<ServerLink*>* v = new std::vector<ServerLink*>();
  return *v;
}
std::atomic<bool> g_exit_handler{false};

}  // namespace

// At exit, before the static destructors registered ahead of this handler (the C++ runtime's,
// cpp-httplib's, OpenSSL's cleanup, the program's own): the owners' events are written, and
// the links deliver and stop their threads, which must not run while those objects go away.
void ServerLink::exit_handler() noexcept {
  std::lock_guard<std::mutex> lock(links_mu());
  for (ServerLink* link : links()) {
    if (link->exit_hook_) link->exit_hook_();
    link->stop(std::chrono::milliseconds(1500));
  }
}

// Registered once vigild has answered a request: by then the function-local statics of the
// HTTP client (the response-line regex) exist, and their destructors run after this handler.
void ServerLink::note_answer() noexcept {
  if (!g_exit_handler.exchange(true)) std::atexit(&ServerLink::exit_handler);
}

std::string_view json_top_level(std::string_view s, std::string_view key) {
  int depth = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      std::size_t end = string_end(s, i);
      if (depth == 1 && end - i == key.size() + 2 && s.substr(i + 1, key.size()) == key) {
        std::size_t at = end;
        while (at < s.size() && space(s[at])) ++at;
        if (at < s.size() && s[at] == ':') {
          ++at;
          while (at < s.size() && space(s[at])) ++at;
          return s.substr(at, value_end(s, at) - at);
        }
      }
      i = end - 1;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return {};
}

std::string with_default_mode(std::string_view document, Mode mode) {
  std::string doc(document);
  if (!json_top_level(doc, "mode").empty()) return doc;
  std::size_t open = doc.find('{');
  if (open == std::string::npos) return doc;
  std::size_t next = open + 1;
  while (next < doc.size() && space(doc[next])) ++next;
  bool empty = next < doc.size() && doc[next] == '}';
  doc.insert(open + 1, "\"mode\":\"" + std::string(mode_name(mode)) + "\"" + (empty ? "" : ","));
  return doc;
}

std::string default_spool_dir(std::string_view app, std::string_view url) {
  std::string base = env("TMPDIR");
  if (base.empty() || base[0] != '/') base = "/tmp";
  std::string name;
  for (char c : app) name.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_');
  char hash[24];
  std::snprintf(hash, sizeof hash, "%012llx",
                static_cast<unsigned long long>(fnv1a(url) & 0xFFFFFFFFFFFFull));
  return base + "/vigil-spool-" + std::to_string(::geteuid()) + "/" + name + "-" + hash;
}

bool server_options_from_environment(ServerOptions* o, std::string* error) {
  o->url = trim(env("VIGIL_SERVER"));
  if (o->url.empty()) return false;
  o->key = trim(env("VIGIL_KEY"));
  if (o->key.empty()) {
    if (std::string file = env("VIGIL_KEY_FILE"); !file.empty()) {
      std::string text;
      if (!shipper::read_file(file, &text, kMaxFileBytes)) {
        *error = "cannot read the agent key file " + file;
        return false;
      }
      o->key = trim(text.substr(0, text.find('\n')));
    }
  }
  if (o->key.empty()) {
    *error = "VIGIL_SERVER needs an agent key (VIGIL_KEY or VIGIL_KEY_FILE; vigil keys create)";
    return false;
  }
  if (std::string app = env("VIGIL_APP"); !app.empty()) o->app = app;
  Mode mode;
  if (parse_mode(env("VIGIL_MODE"), &mode)) o->mode = mode;
  std::string spool = env("VIGIL_SPOOL");
  if (spool == "off") o->spool_dir.clear();
  else o->spool_dir = spool.empty() ? default_spool_dir(o->app, o->url) : spool;
  if (std::string max = env("VIGIL_SPOOL_MAX"); !max.empty())
    o->spool_max_bytes = std::strtoull(max.c_str(), nullptr, 10) << 20;
  if (std::string hb = env("VIGIL_HEARTBEAT"); !hb.empty()) {
    long seconds = std::strtol(hb.c_str(), nullptr, 10);
    if (seconds >= 1 && seconds <= 3600) o->heartbeat_interval = std::chrono::seconds(seconds);
  }
  o->ca_file = env("VIGIL_SERVER_CA");
  o->verify_tls = env("VIGIL_SERVER_VERIFY") != "off";
  return true;
}

// The shipper's transport, with a way out at exit: close() fails every later call at once and
// aborts those in flight, so stopping never waits on a server that does not answer.
class ServerLink::ClosableTransport final : public shipper::Transport {
 public:
  explicit ClosableTransport(std::unique_ptr<shipper::Transport> inner) : inner_(std::move(inner)) {}

  shipper::Response post(const std::string& path, const std::string& body) noexcept override {
    InCall call(this);
    if (closed_.load()) return closed();
    return answered(inner_->post(path, body));
  }
  shipper::Response get(const std::string& path, std::chrono::seconds timeout) noexcept override {
    InCall call(this);
    if (closed_.load()) return closed();
    return answered(inner_->get(path, timeout));
  }
  void cancel() noexcept override { inner_->cancel(); }
  void idle() noexcept override { inner_->idle(); }

  // Aborts the calls in flight again and again (a call may be between its check and its
  // socket) until none is left or `bound` has passed.
  void close(std::chrono::milliseconds bound) noexcept {
    closed_.store(true);
    auto deadline = Clock::now() + bound;
    do {
      inner_->cancel();
      if (calls_.load() == 0) return;
      std::this_thread::sleep_for(5ms);
    } while (Clock::now() < deadline);
  }

 private:
  struct InCall {
    explicit InCall(ClosableTransport* transport) : t(transport) { t->calls_.fetch_add(1); }
    ~InCall() { t->calls_.fetch_sub(1); }
    ClosableTransport* t;
  };
  static shipper::Response answered(shipper::Response r) {
    if (r.status != 0) ServerLink::note_answer();
    return r;
  }
  static shipper::Response closed() {
    shipper::Response r;
    r.error = "the agent is stopping";
    return r;
  }
  std::unique_ptr<shipper::Transport> inner_;
  std::atomic<bool> closed_{false};
  std::atomic<int> calls_{0};
};

std::unique_ptr<ServerLink> ServerLink::create(ServerOptions options,
                                               std::shared_ptr<const Policy> local,
                                               ApplyPolicy apply, CountersJson counters,
                                               std::string* error) {
  shipper::HttpOptions http;
  http.url = options.url;
  http.key = options.key;
  // Validation only: each leader makes its own transport.
  if (!shipper::make_http_transport(http, error)) return nullptr;
  if (!options.spool_dir.empty()) {
    std::string why;
    std::string parent = options.spool_dir.substr(0, options.spool_dir.rfind('/'));
    bool ok = options.spool_dir == default_spool_dir(options.app, options.url)
                  ? private_dir(parent, &why) && private_dir(options.spool_dir, &why)
                  : make_dirs(options.spool_dir, &why);
    if (!ok) {
      std::fprintf(stderr, "vigil: spool disabled (%s): events wait in memory only\n", why.c_str());
      options.spool_dir.clear();
    }
  }
  return std::unique_ptr<ServerLink>(
      new ServerLink(std::move(options), std::move(local), std::move(apply), std::move(counters)));
}

ServerLink::ServerLink(ServerOptions options, std::shared_ptr<const Policy> local,
                       ApplyPolicy apply, CountersJson counters)
    : options_(std::move(options)),
      local_(std::move(local)),
      apply_(std::move(apply)),
      counters_(std::move(counters)),
      spool_(options_.spool_dir, options_.spool_max_bytes) {
  std::lock_guard<std::mutex> lock(links_mu());
  links().push_back(this);
}

ServerLink::~ServerLink() {
  {
    std::lock_guard<std::mutex> lock(links_mu());
    auto& v = links();
    v.erase(std::remove(v.begin(), v.end(), this), v.end());
  }
  stop(500ms);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void ServerLink::start() noexcept {
  refresh_cached_policy();
  std::lock_guard<std::mutex> lock(mu_);
  started_ = true;
  if (try_lead()) start_shipper();
}

bool ServerLink::try_lead() noexcept {
  if (forked_) return options_.spool_dir.empty() ? false : lock_leader();
  if (options_.spool_dir.empty()) return true;  // nobody to share with: ship for ourselves
  return lock_leader();
}

bool ServerLink::lock_leader() noexcept {
  if (lock_fd_ < 0) {
    lock_fd_ = ::open(path("leader.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0) return !forked_;  // no lock to be had: a process of its own ships
  }
  // An open-file-description lock: owned by this open of the file, so a second agent in the
  // same process (the SDK) does not share it, and closing the descriptor a fork()ed child
  // inherited leaves it with the parent.
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (::fcntl(lock_fd_, F_OFD_SETLK, &fl) == 0) return true;
  if (errno == EINVAL) return ::fcntl(lock_fd_, F_SETLK, &fl) == 0;  // kernel before 3.15
  return false;
}

bool ServerLink::start_shipper() noexcept {
  try {
    shipper::HttpOptions http;
    http.url = options_.url;
    http.key = options_.key;
    http.ca_file = options_.ca_file;
    http.verify_tls = options_.verify_tls;
    std::string error;
    auto inner = shipper::make_http_transport(http, &error);
    if (!inner) return false;
    auto transport = std::make_unique<ClosableTransport>(std::move(inner));
    ClosableTransport* raw = transport.get();

    shipper::ShipperOptions so;
    so.app = options_.app;
    so.mode = std::string(mode_name(options_.mode));
    so.spool_dir = options_.spool_dir;
    so.spool_max_bytes = options_.spool_max_bytes;
    so.memory_events = options_.memory_events;
    so.heartbeat_interval = options_.heartbeat_interval;
    so.policy_wait = options_.policy_wait;
    so.policy_version = policy_version_.load();
    so.counters_json = [this] {
      std::string c = counters_ ? counters_() : std::string("{}");
      std::string mine = counters_fragment();
      if (c.size() < 2 || c.back() != '}') return "{" + mine + "}";
      c.pop_back();
      return c + (c.size() > 1 ? "," : "") + mine + "}";
    };
    so.on_policy = [this](std::int64_t version, const std::string& answer) {
      on_server_policy(version, answer);
    };
    so.on_thread_start = [] { t_depth = 1; };  // the shipper's I/O is the agent's own
    auto s = shipper::Shipper::create(std::move(so), std::move(transport));
    if (!s) return false;
    {
      BlockSignals blocked;  // the shipper's threads take no signal meant for the program
      s->start();
    }
    shipper_ = std::move(s);
    transport_ = raw;
    leader_.store(true);
    return true;
  } catch (...) {
    return false;
  }
}

void ServerLink::on_events(std::vector<std::string>& events) noexcept {
  if (events.empty()) return;
  std::size_t n = events.size();
  try {
    std::lock_guard<std::mutex> lock(mu_);
    // The spool first, for every process: a batch on disk survives the process (a crash an
    // exploit caused, the OOM killer, SIGKILL), and the leader's sender delivers it within
    // half a second. Memory only when there is no spool or it refuses (full, disk error).
    if (spool_.enabled()) {
      std::string batch = "[";
      for (std::size_t i = 0; i < n; ++i) {
        if (i) batch.push_back(',');
        batch += events[i];
      }
      batch.push_back(']');
      if (spool_.put(batch, n)) {
        spooled_.fetch_add(n);
        return;
      }
    }
    if (!shipper_) {
      dropped_.fetch_add(n);
      return;
    }
    for (auto& e : events)
      if (!shipper_->enqueue(std::move(e))) dropped_.fetch_add(1);
  } catch (...) {
    dropped_.fetch_add(n);
  }
}

void ServerLink::on_tick() noexcept {
  ++ticks_;
  if (leader()) {
    warn_once_about_refusals();
    return;
  }
  refresh_cached_policy();
  if (ticks_ % 3 != 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ && !stopped_ && !shipper_ && try_lead()) start_shipper();
}

void ServerLink::child_after_fork() noexcept {
  // Only this thread exists. The parent's shipper (threads gone, locks perhaps held) is left
  // as it is, leaked; the lock descriptor's copy goes (the lock stays the parent's).
  new (&mu_) std::mutex();
  new (&policy_mu_) std::mutex();
  if (shipper_) {
    (void)shipper_.release();
    transport_ = nullptr;
  }
  leader_.store(false);
  forked_ = true;
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
}

void ServerLink::stop(std::chrono::milliseconds bound) noexcept {
  shipper::Shipper* s = nullptr;
  ClosableTransport* transport = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;  // for good: the writer's tick must not start another shipper
    if (!shipper_) return;
    s = shipper_.release();
    transport = transport_;
    transport_ = nullptr;
    leader_.store(false);
  }
  // The shipper's stop delivers the spool and the memory queue once more while vigild answers.
  // It runs on a helper thread: past two thirds of the bound, the transport is closed (later
  // calls fail at once, those in flight are aborted) so the sender parks what is left in the
  // spool; a connect() to a black hole cannot be aborted, so past the bound the shipper is
  // given up on (leaked) and the process goes on exiting.
  auto start = Clock::now();
  auto drain = bound * 2 / 3;
  auto done = std::make_shared<std::atomic<bool>>(false);
  try {
    BlockSignals blocked;
    std::thread([s, done, drain] {
      t_depth = 1;
      s->stop(drain);
      done->store(true);
    }).detach();
  } catch (...) {
    return;
  }
  auto wait_until = [&](Clock::time_point until) {
    while (!done->load() && Clock::now() < until) std::this_thread::sleep_for(2ms);
  };
  wait_until(start + drain);
  if (!done->load()) {
    transport->close(std::chrono::duration_cast<std::chrono::milliseconds>(bound - drain) / 2);
    wait_until(start + bound);
  }
  shipper::ShipperStats final_stats = s->stats();  // the counters outlive the shipper
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_stats_ = std::move(final_stats);
  }
  if (done->load()) delete s;
  // Another process of the application may lead now (a pre-fork worker recycled).
  std::lock_guard<std::mutex> lock(mu_);
  if (lock_fd_ >= 0) {
    struct flock fl {};
    fl.l_type = F_UNLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(lock_fd_, F_OFD_SETLK, &fl) != 0) ::fcntl(lock_fd_, F_SETLK, &fl);
  }
}

void ServerLink::on_server_policy(std::int64_t version, const std::string& answer) noexcept {
  if (!options_.spool_dir.empty()) replace_file(path("policy.json"), answer);
  apply_answer(version, answer);
}

void ServerLink::apply_answer(std::int64_t version, std::string_view answer) noexcept {
  try {
    std::lock_guard<std::mutex> lock(policy_mu_);
    std::string_view doc = json_top_level(answer, "policy");
    std::shared_ptr<const Policy> policy;
    if (doc.empty() || doc == "null") {
      policy = local_;  // the application has no server policy: the agent's own applies
    } else {
      std::vector<PolicyDiagnostic> diags;
      policy = Policy::compile(with_default_mode(doc, options_.mode), &diags);
      for (const auto& d : diags)
        if (d.severity == PolicyDiagnostic::Severity::kError)
          std::fprintf(stderr, "vigil: vigild policy version %lld: %s: %s [%s]\n",
                       static_cast<long long>(version), d.location.c_str(), d.message.c_str(),
                       d.code.c_str());
    }
    if (policy && apply_) apply_(std::move(policy));
    policy_version_.store(version);
    policy_updates_.fetch_add(1);
  } catch (...) {
    // Keep the policy in force.
  }
}

void ServerLink::refresh_cached_policy() noexcept {
  if (options_.spool_dir.empty()) return;
  try {
    std::string file = path("policy.json");
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return;
    if (st.st_ino == cache_stat_.st_ino && st.st_size == cache_stat_.st_size &&
        st.st_mtim.tv_sec == cache_stat_.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == cache_stat_.st_mtim.tv_nsec)
      return;
    cache_stat_ = st;
    std::string text;
    if (!shipper::read_file(file, &text, kMaxFileBytes)) return;
    std::string_view v = json_top_level(text, "version");
    if (v.empty()) return;
    std::int64_t version = std::strtoll(std::string(v).c_str(), nullptr, 10);
    if (version != policy_version_.load()) apply_answer(version, text);
  } catch (...) {
  }
}

void ServerLink::warn_once_about_refusals() noexcept {
  if (warned_) return;
  try {
    shipper::ShipperStats st;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!shipper_) return;
      st = shipper_->stats();
    }
    bool refused = st.rejected > 0 || st.last_error.rfind("vigild answered 401", 0) == 0 ||
                   st.last_error.rfind("vigild answered 403", 0) == 0;
    // Nothing delivered yet after several tries: a wrong URL, CA or key more often than an
    // outage; said once, the events wait in the spool either way.
    bool failing = st.sent == 0 && st.retries >= 3 && !st.last_error.empty();
    if (!refused && !failing) return;
    warned_ = true;
    std::fprintf(stderr, "vigil: %s %s (%s)\n",
                 refused ? "vigild refuses this agent's events" : "cannot deliver events to",
                 refused ? "" : options_.url.c_str(), st.last_error.c_str());
  } catch (...) {
  }
}

std::string ServerLink::counters_fragment() const {
  shipper::ShipperStats st;
  {
    std::lock_guard<std::mutex> lock(mu_);
    st = shipper_ ? shipper_->stats() : last_stats_;
  }
  std::uint64_t drops = st.dropped_full + st.dropped_spool + dropped_.load();
  std::string out;
  auto add = [&](const char* name, std::uint64_t v) {
    if (!out.empty()) out.push_back(',');
    out += "\"";
    out += name;
    out += "\":" + std::to_string(v);
  };
  add("shipped", st.sent);
  add("ship_duplicates", st.duplicates);
  add("ship_drops", drops);
  add("ship_rejected", st.rejected);
  add("ship_retries", st.retries);
  add("spooled", st.spooled + spooled_.load());  // written to the spool on their way
  add("spool_bytes", st.spool_bytes);
  add("ship_queued", st.queued);
  add("heartbeats", st.heartbeats);
  add("policy_version", static_cast<std::uint64_t>(std::max<std::int64_t>(0, policy_version_.load())));
  add("policy_updates", policy_updates_.load());
  add("leader", leader() ? 1 : 0);
  return out;
}

}  // namespace vigil::agent
