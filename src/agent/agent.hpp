// The runtime agent inside a host process (libvigil_preload.so): connection capture, request
// contexts, sink checks, blocking, and events. Hooks (hooks_*.cpp) call into the one Agent.
//
// Safety rules every part follows:
//  - A hook that finds itself nested inside agent code (Guard) passes straight through, so the
//    agent's own reads, writes and file opens are never analysed, and a signal handler that
//    interrupts agent code cannot re-enter it.
//  - Nothing throws out of a hook: every entry point catches everything and fails open (the
//    call proceeds as if the agent were absent) and counts it.
//  - Events leave the request thread through a bounded queue; when it is full they are dropped
//    and counted, never waited for.
//  - fork(): the child gets fresh connection state and a fresh event writer (pthread_atfork),
//    and never talks to vigild itself: its events go through the spool (server_link.hpp).
#ifndef VIGIL_AGENT_AGENT_HPP_
#define VIGIL_AGENT_AGENT_HPP_

#include <netdb.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/my_wire.hpp"
#include "agent/pg_wire.hpp"

#include "agent/server_link.hpp"
#include "vigil/analysis.hpp"
#include "vigil/engine.hpp"

namespace vigil::agent {

// Configuration, from the environment (see docs/agent.md).
struct Config {
  bool disabled = false;          // VIGIL_DISABLE=1: every hook passes through
  Mode mode = Mode::kMonitor;     // VIGIL_MODE=monitor|block
  std::string app = "app";        // VIGIL_APP
  std::string events_path;        // VIGIL_EVENTS: JSON Lines file (appended)
  std::string policy_path;        // VIGIL_POLICY: policy document (YAML/JSON)
  std::string status_path;        // VIGIL_STATUS: counters file (JSON), rewritten every second
  std::size_t queue_capacity = 8192;  // VIGIL_QUEUE: events waiting to be written
  bool check_paths = true;        // VIGIL_PATHS=off disables file-open checks
  std::size_t max_body = 1 << 20; // VIGIL_MAX_BODY: request body bytes analysed
  // VIGIL_SERVER, VIGIL_KEY, VIGIL_SPOOL...: events to vigild, policy from it (server_link.hpp).
  bool has_server = false;
  ServerOptions server;
  std::string server_error;       // VIGIL_SERVER set but unusable (reported once, at arming)
};

Config config_from_environment();

// A counter many threads add to: slots on cache lines of their own, a thread always adding to
// the same one (threads take slots in turn), so that threads on different cores seldom pass a
// line back and forth. Reads sum the slots (a moment's sum, not a snapshot: enough for
// counters). A slot per CPU (sched_getcpu) cost more than the addition itself.
class ShardedCounter {
 public:
  void fetch_add(std::uint64_t n, std::memory_order = std::memory_order_relaxed) noexcept {
    slots_[thread_slot()].value.fetch_add(n, std::memory_order_relaxed);
  }
  std::uint64_t load(std::memory_order = std::memory_order_relaxed) const noexcept {
    std::uint64_t sum = 0;
    for (const Slot& s : slots_) sum += s.value.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  static constexpr unsigned kSlots = 16;
  struct alignas(64) Slot {
    std::atomic<std::uint64_t> value{0};
  };
  static unsigned thread_slot() noexcept {
    static std::atomic<unsigned> next{0};
    static thread_local unsigned slot __attribute__((tls_model("initial-exec"))) = 0;  // 0: none
    if (slot == 0) slot = next.fetch_add(1, std::memory_order_relaxed) % kSlots + 1;
    return slot - 1;
  }
  Slot slots_[kSlots];
};

// A lock for critical sections of a few dozen instructions that are rarely contended (a
// connection's state, a slot of the fd table): taking and releasing it costs two atomic
// instructions, where a std::mutex cost about sixty instructions. A waiter spins briefly, then
// yields the CPU. Not recursive; state after fork() as for a mutex (reset it in the child).
class SpinLock {
 public:
  void lock() noexcept {
    if (held_.exchange(true, std::memory_order_acquire)) [[unlikely]] wait();
  }
  void unlock() noexcept { held_.store(false, std::memory_order_release); }
  bool try_lock() noexcept { return !held_.exchange(true, std::memory_order_acquire); }

 private:
  // The lock was held: spins, then yields, until it is taken. Out of line: the usual lock()
  // is one exchange wherever it is inlined.
  [[gnu::noinline]] void wait() noexcept {
    do {
      for (int spins = 0; held_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
        } else {
          sched_yield();
        }
      }
    } while (held_.exchange(true, std::memory_order_acquire));
  }

  std::atomic<bool> held_{false};
};

// Holds a SpinLock while it owns it: std::unique_lock without the checks it throws from (no
// mutex, a lock taken twice), which cannot fail on the agent's paths; the per-request
// functions that take a connection's lock stay shorter.
class SpinHold {
 public:
  SpinHold() noexcept = default;
  SpinHold(const SpinHold&) = delete;
  SpinHold& operator=(const SpinHold&) = delete;
  ~SpinHold() {
    if (owns_) mu_->unlock();
  }
  // Takes `mu`. REQUIRES: none held.
  void take(SpinLock& mu) noexcept {
    mu_ = &mu;
    mu.lock();
    owns_ = true;
  }
  // Takes the last lock back. REQUIRES: it was taken, and let go.
  void lock() noexcept {
    mu_->lock();
    owns_ = true;
  }
  // REQUIRES: held.
  void unlock() noexcept {
    mu_->unlock();
    owns_ = false;
  }

 private:
  SpinLock* mu_ = nullptr;
  bool owns_ = false;
};

// Agent counters, exported in the status file (the sensor-health row).
struct Counters {
  ShardedCounter connections, requests, sinks, detections, blocked, events, drops, write_errors,
      fail_opens, budget_overruns;
  // Connections the agent could not read, whose requests were not checked (blind spots for the
  // sensor-health view): bytes that are neither HTTP/1.1, HTTP/2 nor FastCGI (another protocol,
  // an upgrade to one, HTTP/2 whose HPACK could not be followed), and
  // TLS whose plaintext never came through the system's OpenSSL (a statically linked or another
  // TLS library, or OpenSSL calling itself).
  ShardedCounter not_http, tls_unseen;
};

// Per-thread nesting depth: > 0 while agent code runs on this thread.
extern thread_local constinit int t_depth __attribute__((tls_model("initial-exec")));

class Guard {
 public:
  Guard() noexcept { ++t_depth; }
  ~Guard() { --t_depth; }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  static bool nested() noexcept { return t_depth > 0; }
};

struct Connection;
struct InFlight;
class EventQueue;
struct Event;

// What a sink hook should do.
struct SinkDecision {
  bool block = false;
};

class Agent {
 public:
  // The agent of this process, or null when disabled, failed to start, or not needed yet (no
  // connection accepted so far). Cheap.
  static Agent* get() noexcept;
  // The agent, created on the first call (the first accepted connection); null when disabled.
  static Agent* arm() noexcept;
  // With a server configured, the process `vigil run` started arms at load time instead, on a
  // background thread (the host's start does not wait): its sensor registers with vigild and
  // heartbeats before any traffic. Starts the event writer too (status file, follower ticks).
  void start_writer() noexcept;
  // In a fork()ed child of a process that armed at startup and served nothing (a pre-fork
  // master): the status file the child writes, its own as if it had armed itself, and counters
  // of its own from zero (count_apart). Any other child counts into its parent's counters.
  void set_status_path(std::string path) noexcept { config_.status_path = std::move(path); }
  void count_apart() noexcept;

  const Config& config() const noexcept { return config_; }
  const Engine& engine() const noexcept { return engine_; }
  Counters& counters() noexcept { return counters_; }

  // --- connections (hooks_net.cpp) ---
  // Descriptors from 0 to this (excluded) can be tracked, as connections or as outbound sockets.
  static constexpr int tracked_fd_limit() noexcept { return kMaxFd; }
  void on_accept(int fd, const sockaddr* peer, socklen_t len) noexcept;
  bool is_tracked(int fd) const noexcept {
    return fd >= 0 && fd < kMaxFd && tracked_[fd].load(std::memory_order_relaxed) != 0;
  }
  // Bytes the program read from a tracked connection. Returns how many bytes the program
  // should be told it read (0 = end of stream: the request was blocked before it saw any).
  // `tls` is the OpenSSL session (SSL*) of bytes SSL_read decrypted, null for bytes read from
  // the socket; a TLS connection's raw bytes are recognised (a handshake record first) and left
  // alone. The session is kept: a block's 403 goes out through it, encrypted.
  ssize_t on_read(int fd, const char* data, ssize_t n, void* tls = nullptr) noexcept;
  // Bytes the program is about to write to a tracked connection (`tls`: as for on_read, for
  // SSL_write's plaintext). Returns true to let the write happen; false to absorb it (the
  // caller reports it as fully written).
  bool on_write(int fd, std::string_view data, void* tls = nullptr) noexcept;
  void on_close(int fd) noexcept;

  // --- sinks (hooks_exec/fs/db/net.cpp) ---
  SinkDecision check_sink(const Sink& sink, std::string_view function) noexcept;
  // check_sink for a hook outside agent code (the SQL hooks): takes the Guard and keeps errno
  // itself, so that a statement costs one call into the agent, not a wrapper's and this one's.
  SinkDecision check_sink_guarded(const Sink& sink, std::string_view function) noexcept;
  // Outbound destinations: a name the program resolved, then the address it connects to.
  // An internal address reached through a name (or address) that came from a request input
  // is SSRF; the check is on the address actually connected to, which defeats DNS tricks.
  void note_lookup(const char* node, const struct addrinfo* results) noexcept;
  SinkDecision check_connect(const sockaddr* addr, socklen_t len) noexcept;

  // Sockets the program connected: their writes may be a database protocol that a driver
  // speaks itself (PostgreSQL's: node-postgres, pg8000, JDBC; MySQL's: mysqlnd, mysql2,
  // PyMySQL), whose SQL is checked as the SQL handed to libpq or libmysqlclient is. Static, so
  // that a connection opened before the agent started (a pool opened at startup) is known too;
  // it is then followed from its first whole messages.
  static void note_connected(int fd) noexcept;
  // One such socket's stream: both protocols are tried until one reads its bytes.
  struct DbStream {
    explicit DbStream(bool from_start) : pg(from_start), my(from_start) {}
    PgWire pg;
    MyWire my;
    bool pg_alive = true, my_alive = true;
    std::size_t my_unread = 0;  // MyWire::unread() counted so far
    std::size_t pg_unknown = 0;  // PgWire::unknown_binds() counted so far
  };
  static bool is_outbound(int fd) noexcept {
    return fd >= 0 && fd < kMaxFd && outbound_[fd].load(std::memory_order_relaxed) != 0;
  }
  // Bytes about to be written on such a socket (`function`: the hooked call). False: fail the
  // write, with ECONNRESET (a statement was blocked; the connection is cut, and its later
  // writes fail too).
  bool on_outbound_write(int fd, std::string_view data, const char* function) noexcept;
  // close() of such a socket (the agent may not exist).
  static void on_outbound_close(int fd) noexcept;
  // A socket whose statements are checked at a client library's API (libpq's): not followed.
  static void not_followed(int fd) noexcept;

  // False in a child of vfork() (or a clone without fork handlers), which runs on the memory
  // of the process the agent belongs to.
  bool own_process() const noexcept { return pid_.load(std::memory_order_relaxed) == getpid(); }

  // The request this thread read last (0: none yet), unique in the process: what a hook
  // compares to tell whether the thread has started another request since it last checked.
  static std::uint64_t thread_request_serial() noexcept;

  bool has_requests_in_flight() const noexcept {
    return in_flight_count_.load(std::memory_order_relaxed) > 0;
  }

  // --- launchers (handoff.hpp) ---
  // The requests in flight, encoded for a launcher this thread is about to start: the one the
  // thread serves marked as its own. Empty when there is none, or on any failure.
  std::string handoff() noexcept;
  // In a launcher, before it execs: the requests its parent handed over become this process's
  // requests in flight, as a fork()ed child sees its parent's (checked, reported at once, never
  // answered here). Malformed bytes are a fail-open.
  void adopt(std::string_view handoff) noexcept;

  // The answers of the launchers this thread started that have answered: a blocked request
  // of this process gets its 403 as for a block of its own (handoff.hpp).
  void settle_launchers() noexcept;
  // What a child (a launcher, a fork()ed or vfork() child) reported for the request numbered
  // `serial`: counted, and with `answer` the request's 403 naming `event_id`, unless it was
  // answered already.
  void take_child_report(std::uint32_t detections, std::uint32_t blocked, bool answer,
                         std::uint64_t serial, const char (&event_id)[40]) noexcept;

  // --- lifecycle ---
  void after_fork_child() noexcept;
  void before_fork() noexcept;
  void after_fork_parent() noexcept;
  void write_status() noexcept;
  // At exit: waits (bounded) for queued events to be written.
  void flush_events(int timeout_ms) noexcept;
  // At exit: hands queued events to vigild or the spool (bounded). No-op without a server.
  void stop_server(int timeout_ms) noexcept;
  void set_status_writer(void (*fn)(void*), void* arg) noexcept;

  Agent(Config config);
  ~Agent();

 private:
  // A child of fork() that has not served a request of its own yet (typically about to exec a
  // command on behalf of the request its parent is serving): sink checks still see the
  // parent's requests in flight, events are written at once (the queue would die with exec),
  // and the parent's connections are never touched.
  bool in_forked_child() const noexcept { return forked_child_.load(std::memory_order_relaxed); }
  // The child serves requests itself (accept, or a request read): the parent's are dropped.
  void become_own_server() noexcept;
  void push_event(std::unique_ptr<Event> e) noexcept;

  friend struct Connection;
  std::shared_ptr<Connection> connection(int fd) const noexcept;
  // A request whose response is complete (or whose connection closed): out of the registry,
  // then kept as this thread's spare when nothing else refers to it. Out of line: one copy of
  // the registry's and the spare's code for every caller.
  [[gnu::noinline]] void retire(std::shared_ptr<InFlight>&& request) noexcept;
  // A request read off an HTTP/1 connection joins it: as the current request, or queued behind
  // it when the current response has not begun (pipelining). Returns a request that gave way.
  // REQUIRES: the connection's lock held; lets it go meanwhile when queued requests retire.
  std::shared_ptr<InFlight> admit(const std::shared_ptr<Connection>& conn,
                                  const std::shared_ptr<InFlight>& req, SpinHold* lock) noexcept;
  // A request whose head was read and whose body has not all come starts now, from a copy of its
  // head; complete_request() analyses what its body adds when it has come. REQUIRES: the lock
  // held; lets it go meanwhile.
  [[gnu::cold, gnu::noinline]] std::shared_ptr<InFlight> start_early(
      const std::shared_ptr<Connection>& conn, SpinHold* lock) noexcept;
  // Returns true when the whole request was blocked. REQUIRES: the lock held; lets it go
  // meanwhile.
  [[gnu::cold, gnu::noinline]] bool complete_request(const std::shared_ptr<Connection>& conn,
                                                     SpinHold* lock) noexcept;
  // What a request started at its head passes on to the whole request (start_request).
  struct Completion {
    std::uint32_t head_anomalies;  // what the head's analysis saw (not reported again)
    std::uint64_t serial;          // the started request's: the same request in events
    bool placed;                   // it took the started one's place (its response not ended)
  };
  // Keeps, of the whole request's verdict, what its body adds to its head's.
  [[gnu::cold, gnu::noinline]] void finish_verdict(const std::shared_ptr<InFlight>& req,
                                                   std::uint32_t head_anomalies,
                                                   RequestVerdict* verdict) noexcept;
  // A request read before the current one's response began (pipelining) joins the connection's
  // queue; returns the request that gave way when the queue was full, or none. REQUIRES: the
  // connection's lock held.
  [[gnu::cold, gnu::noinline]] std::shared_ptr<InFlight> queue_pipelined(
      Connection& conn, const std::shared_ptr<InFlight>& req) noexcept;
  // Retires the connection's queued requests (a later request showed their responses went by
  // unseen). REQUIRES: the lock held; lets it go meanwhile.
  [[gnu::cold, gnu::noinline]] void retire_pipelined(Connection& conn, SpinHold* lock) noexcept;
  // The current request's response ended: it retires, and the next queued one becomes current.
  // REQUIRES: the lock held; lets it go.
  void end_response(Connection& conn, SpinHold& lock) noexcept;
  void start_request(const std::shared_ptr<Connection>& conn,
                     const std::shared_ptr<InFlight>& req,
                     const Completion* completion = nullptr) noexcept;
  // The requests a sink call on this thread may belong to: `own` (the request this thread
  // serves, if any) and `others` (left empty when the call can only be own's). True when the
  // call can only be own's. May throw.
  // Inlined into check_sink (and check_connect): a call of its own on every sink call was two
  // more functions' prologues and epilogues.
  [[gnu::always_inline]] bool candidates(std::shared_ptr<InFlight>* own,
                  std::vector<std::shared_ptr<InFlight>>* others) const;
  // check_sink's body, inlined into check_sink and check_sink_guarded.
  [[gnu::always_inline]] SinkDecision check_sink_here(const Sink& sink,
                                                      std::string_view function) noexcept;
  // check_sink when the call may be another request's (event loops, threads serving requests
  // another thread read): own (if any) first, then the others. May throw.
  [[gnu::noinline]] void check_all(const std::shared_ptr<InFlight>& own,
                                   const std::vector<std::shared_ptr<InFlight>>& others,
                                   const Sink& sink, std::string_view function,
                                   SinkDecision* decision);
  // Inlined into its callers (check_sink on every sink call): the usual answer, no attack,
  // is a call to the engine and a test.
  // `clean` (check_all's): set when the verdict found nothing and did not fail open.
  [[gnu::always_inline]] bool check_request(const std::shared_ptr<InFlight>& req, bool own,
                                            const Sink& sink, std::string_view function,
                                            SinkDecision* decision,
                                            bool* clean = nullptr) noexcept;
  // The rare paths of the per-request ones, out of their way (code run once per request is
  // mostly fetched anew from memory: the fewer cache lines it spans, the cheaper).
  // check_request once the engine found an attack: reports it and blocks if a rule says so.
  [[gnu::cold, gnu::noinline]] bool report_sink(const std::shared_ptr<InFlight>& req, bool own,
                                                const Sink& sink, std::string_view function,
                                                const Verdict& v, SinkDecision* decision) noexcept;
  // start_request when the analysis found something or failed open.
  [[gnu::cold, gnu::noinline]] void report_request(const std::shared_ptr<Connection>& conn,
                                                   const std::shared_ptr<InFlight>& req,
                                                   const RequestVerdict& v) noexcept;
  // on_write when the response must be looked at (its header block, an HTML body): copies it,
  // checks it without the connection's lock, which it takes back. Returns on_write's answer.
  [[gnu::cold, gnu::noinline]] bool check_response(Connection& conn,
                                                   SpinHold& lock,
                                                   std::string_view completed_head,
                                                   bool check_head, bool check_html);
  // The connection of `fd` with its lock taken (in `lock`), or null. The lock keeps it alive:
  // whoever takes it out of the fd table takes its lock before letting it go.
  Connection* locked_connection(int fd, SpinHold* lock) const noexcept;
  // A sink of the response to `req` (its headers, redirect, body): checked against `req` only.
  // Returns true to block.
  bool check_request_sink(const std::shared_ptr<InFlight>& req, const Sink& sink,
                          std::string_view function) noexcept;
  std::string emit_finding(const InFlight& req, const Finding& f) noexcept;
  std::string emit_detection(const InFlight& req, const Sink& sink, std::string_view function,
                             const Detection& d, Outcome outcome, std::string note) noexcept;
  void send_block_response(Connection& conn, InFlight& req, const std::string& event_id) noexcept;
  // on_write after a 101 response: an upgrade to h2c (the connection is HTTP/2 from here on,
  // the upgrade request its stream 1) or to another protocol (the connection is no longer
  // read, counted in not_http). `rest` is what the write holds after the 101's header block.
  // Lets go of `lock`. Returns on_write's answer.
  [[gnu::cold, gnu::noinline]] bool switch_protocols(Connection* conn, SpinHold& lock,
                                                     std::string_view rest) noexcept;
  // on_read's first read of a connection: FastCGI or HTTP/2 (Connection::carried), and the
  // spare request memory. REQUIRES: the connection's lock held.
  [[gnu::cold, gnu::noinline]] void first_read(Connection& conn, std::string_view bytes) noexcept;
  // A read of a connection whose bytes carry HTTP/1.1 text (FastCGI records, HTTP/2 frames):
  // *bytes becomes that text. False when nothing more of the connection is to be read.
  [[gnu::cold, gnu::noinline]] bool unwrap(Connection& conn, std::string_view* bytes) noexcept;
  // An HTTP/2 connection's read: its streams' requests as HTTP/1.1 text in conn.h2->read.http.
  // False when the bytes are not HTTP/2 (read no more).
  [[gnu::cold, gnu::noinline]] bool read_h2(Connection& conn, std::string_view bytes) noexcept;
  // An HTTP/2 connection's write: each stream's response is checked as an HTTP/1.1 one, and
  // the requests whose responses it ends stop being in flight. Lets go of `lock` (and of
  // `conn`). Returns on_write's answer.
  struct H2Check;
  [[gnu::cold, gnu::noinline]] bool watch_h2_write(Connection* conn, SpinHold& lock,
                                                   std::string_view data) noexcept;
  // The checks of a response's header block (header injection, redirect). True to block.
  bool check_response_head(const std::shared_ptr<InFlight>& req, std::string_view head);

  Config config_;
  Engine engine_;
  // In memory that fork() shares instead of copying: a fork-per-connection server's children
  // serve its requests, and what they count is the server's (in copies, it was lost with each
  // child, and the server's status showed no request). Never freed (hooks may run during exit).
  bool counters_shared_ = false;  // before counters_: made together (make_counters)
  Counters& counters_;
  bool counted_apart_ = false;  // count_apart gave this process counters of its own
  std::unique_ptr<ServerLink> link_;  // with a server; before events_: outlives its writer
  std::unique_ptr<EventQueue> events_;

  // fd -> connection for the usual fd range (larger fds are not tracked, and counted). The
  // flag array answers "is this fd a captured connection?" without a lock on every read/write
  // of every file the program touches.
  static constexpr int kMaxFd = 1 << 16;
  std::unique_ptr<std::atomic<std::uint8_t>[]> tracked_;
  // Connected sockets by fd (note_connected): 0 not one; else an OutboundState.
  static std::atomic<std::uint8_t> outbound_[kMaxFd];
  // The database streams followed, by fd (DbStream).
  SpinLock wire_mu_;
  std::unordered_map<int, DbStream> wire_;
  // Connections in blocks of 256 fds, allocated when a connection first lands in one (a table
  // for every possible fd was 1 MiB of memory). A block is never freed while the agent lives.
  static constexpr int kBlockBits = 8;
  struct ConnBlock {
    std::shared_ptr<Connection> slots[1 << kBlockBits];  // guarded by fd_mu(fd)
  };
  std::unique_ptr<std::atomic<ConnBlock*>[]> blocks_;
  // The slot of `fd`, its block created if need be. May throw.
  std::shared_ptr<Connection>* new_slot(int fd) const;
  // The slot of `fd`; null when its block does not exist.
  std::shared_ptr<Connection>* existing_slot(int fd) const noexcept {
    ConnBlock* b = blocks_[fd >> kBlockBits].load(std::memory_order_acquire);
    return b ? &b->slots[fd & ((1 << kBlockBits) - 1)] : nullptr;
  }
  // Locks of the fd table, by fd: threads serving different connections take different locks
  // (one lock for all was taken on every read and write of every connection).
  struct alignas(64) FdShard {
    SpinLock mu;
  };
  static constexpr int kFdShards = 64;
  mutable std::array<FdShard, kFdShards> fd_shards_;
  SpinLock& fd_mu(int fd) const noexcept { return fd_shards_[fd & (kFdShards - 1)].mu; }

  // Requests in flight: added and removed once per request, read by sink checks. A short loop
  // over the requests in flight is the longest thing done under it.
  mutable SpinLock flight_mu_;
  std::vector<std::shared_ptr<InFlight>> in_flight_;
  std::atomic<std::size_t> in_flight_count_{0};
  std::atomic<bool> forked_child_{false};
  std::atomic<pid_t> pid_{0};  // the process this agent belongs to (updated after fork)

  // What children reported for their parent's requests (a spawner's child about to exec the
  // command: libuv's fork()ed one, the JVM's in FORK mode; a vfork() child, Python's), told
  // back through a page shared with every child (MAP_SHARED, made before any fork): the parent
  // counts what a fork()ed child counted (its counters die with it) and answers a blocked
  // request with the 403 at its next response write, as for a block of its own. `written`
  // counts the slots ever filled; each process reads on from where it last read
  // (`replies_seen_`), only when the count moved (one load per response write).
  struct ChildReplies;
  ChildReplies* child_replies_ = nullptr;
  std::atomic<std::uint32_t> replies_seen_{0};
  SpinLock replies_mu_;  // one thread of the process reads the page at a time
  pid_t inherited_from_ = 0;  // in a fork()ed child: the process that owns the requests it sees
  // In a fork()ed child or a launcher: what it reported for one of its parent's requests.
  void tell_parent(const InFlight& req, std::string_view event_id, std::uint32_t detections,
                   bool block) noexcept;
  // One reply on the page (no allocation: a vfork() child writes it on its parent's memory).
  void post_reply(pid_t owner, std::uint64_t serial, std::string_view event_id,
                  std::uint32_t detections, std::uint32_t blocked, bool answer) noexcept;
  [[gnu::noinline]] void settle_children() noexcept;
  bool children_replied() const noexcept;
};

// In a launcher (handoff.hpp), at its first exec: arms the agent and adopts the requests the
// parent handed over. Nothing when there were none (one relaxed load).
void adopt_handed_requests() noexcept;
// In a launcher: its exec was checked and allowed (its parent stops waiting for an answer).
void launcher_allowed() noexcept;
// In the parent: a launcher this thread started, whose answer (the reply area, mapped) the
// thread's next response write reads. At most four wait; older ones are given up.
struct LauncherReply;
void await_launcher(LauncherReply* reply) noexcept;

}  // namespace vigil::agent

#endif  // VIGIL_AGENT_AGENT_HPP_
