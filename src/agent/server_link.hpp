// The agent's link to vigild (`vigil run --server URL --key KEY`, or the SDK's AgentOptions):
// events leave through the shipper (src/shipper: batches, retries with backoff and jitter, the
// on-disk spool, no duplicates), the agent registers and heartbeats, and the application's
// policy is long-polled and applied atomically with Engine::set_policy.
//
// Events are written to the spool directory first (by the agent's event writer thread, a
// batch per file), so that they survive the process: a crash an exploit caused, the OOM
// killer, SIGKILL. Memory is the fallback when there is no spool or it refuses a batch.
//
// One process per spool directory talks to vigild: the *leader*, which holds an open-file-
// description lock on SPOOL/leader.lock. It runs the shipper's two threads (sender with
// heartbeats, policy poller), delivers the spool (its own events and the others'), and writes
// every policy it receives to SPOOL/policy.json. Every other process of the same application
// and server is a *follower* and starts no thread of its own: on the writer thread's once-a-
// second tick it applies SPOOL/policy.json when it changed and tries to take the lock (so a
// follower takes over within seconds when the leader exits). That covers the shapes servers
// come in without duplicate pollers or registrations:
//   - a fork()ed child (fork-per-connection server, fork-then-exec spawner) is a follower from
//     the first instruction after fork: the leader's threads did not survive, its objects are
//     left alone (their locks may be held), the lock stays with the parent;
//   - pre-fork workers that each arm their own agent elect one leader among themselves;
//   - an exec'd helper never arms (the agent starts at the first accepted connection), and one
//     that does is a follower.
// The last policy received survives restarts in SPOOL/policy.json: an agent that starts while
// vigild is unreachable applies it at once (and asks vigild for anything newer).
//
// Nothing here waits on the network on a host thread: events are written to files on the
// writer thread, and stop() at exit is bounded even against a server that accepts connections
// and never answers. At exit the links stop from an atexit handler, registered once vigild
// first answered, so that no thread of theirs runs while static objects are destroyed.
// Thread-safe unless noted.
#ifndef VIGIL_AGENT_SERVER_LINK_HPP_
#define VIGIL_AGENT_SERVER_LINK_HPP_

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "agent/events.hpp"
#include "shipper/shipper.hpp"
#include "shipper/spool.hpp"
#include "vigil/engine.hpp"
#include "vigil/policy.hpp"

namespace vigil::agent {

struct ServerOptions {
  std::string url;               // VIGIL_SERVER: http://HOST:PORT or https://HOST:PORT
  std::string key;               // VIGIL_KEY, or the first line of the file VIGIL_KEY_FILE
  std::string app = "app";       // the key's application
  Mode mode = Mode::kMonitor;    // default of every rule a server policy does not set; heartbeats
  // VIGIL_SPOOL: undelivered events, the leader lock and the cached policy. Default
  // $TMPDIR/vigil-spool-UID/APP-HASH (HASH: of the server URL); "off": memory only, and every
  // process ships for itself (a fork()ed child's events are then dropped and counted).
  std::string spool_dir;
  std::uint64_t spool_max_bytes = 256ull << 20;  // VIGIL_SPOOL_MAX, in MiB
  std::string ca_file;           // VIGIL_SERVER_CA: PEM bundle to trust for https (self-signed)
  bool verify_tls = true;        // VIGIL_SERVER_VERIFY=off: no certificate check (tests only)
  std::size_t memory_events = 4096;  // events waiting in memory for the sender; beyond: dropped
  std::chrono::seconds heartbeat_interval{10};  // VIGIL_HEARTBEAT (seconds)
  std::chrono::seconds policy_wait{25};  // long-poll duration
};

// The server options from the environment (the variables above). False when VIGIL_SERVER is
// unset or empty; false with *error set when it is set but the configuration is unusable.
bool server_options_from_environment(ServerOptions* options, std::string* error);

// The default spool directory for an application and server URL.
std::string default_spool_dir(std::string_view app, std::string_view url);

// `document` (a JSON object) with `"mode": MODE` added when it sets no mode of its own: a
// server policy refines the agent's mode the way a local policy file does.
std::string with_default_mode(std::string_view document, Mode mode);
// The raw text of a top-level key's value in a JSON object text; empty when absent.
std::string_view json_top_level(std::string_view object, std::string_view key);

class ServerLink final : public EventSink {
 public:
  // Receives each policy to apply (never null): a server policy compiled with the agent's
  // mode as its default, or `local` again when the application has no server policy. Called
  // on the poller thread (leader) or the event writer thread (follower).
  using ApplyPolicy = std::function<void(std::shared_ptr<const Policy>)>;
  // The agent's counters as a JSON object of integers, for heartbeats.
  using CountersJson = std::function<std::string()>;

  // Null with *error when the URL or key is unusable. Starts nothing.
  static std::unique_ptr<ServerLink> create(ServerOptions options,
                                            std::shared_ptr<const Policy> local,
                                            ApplyPolicy apply, CountersJson counters,
                                            std::string* error);
  ~ServerLink() override;

  // Applies the cached policy, then becomes the leader (starting the shipper's threads) or a
  // follower. REQUIRES: called once.
  void start() noexcept;

  // EventSink: called on the event writer thread (and, in a fork()ed child about to exec, on
  // the thread writing an event at once).
  void on_events(std::vector<std::string>& events) noexcept override;
  void on_tick() noexcept override;

  // In the child, right after fork(): becomes a follower; the parent's shipper is abandoned
  // (its threads do not exist here) and the lock stays the parent's.
  void child_after_fork() noexcept;

  // At exit: hands what is queued to vigild, or to the spool, waiting at most about `bound`
  // in total. Whatever cannot be delivered in time is spooled for the next leader.
  void stop(std::chrono::milliseconds bound) noexcept;

  // Runs at exit, before the link stops (the owner writes its queued events). REQUIRES: set
  // before start().
  void set_exit_hook(std::function<void()> hook) { exit_hook_ = std::move(hook); }

  // Counters of the link, as JSON members without braces (`"shipped":3,...`), for the status
  // file and heartbeats.
  std::string counters_fragment() const;
  bool leader() const noexcept { return leader_.load(std::memory_order_relaxed); }
  std::int64_t policy_version() const noexcept { return policy_version_.load(); }

 private:
  class ClosableTransport;
  static void exit_handler() noexcept;
  static void note_answer() noexcept;
  ServerLink(ServerOptions options, std::shared_ptr<const Policy> local, ApplyPolicy apply,
             CountersJson counters);

  bool try_lead() noexcept;                 // REQUIRES: mu_ held
  bool lock_leader() noexcept;              // REQUIRES: mu_ held
  bool start_shipper() noexcept;            // REQUIRES: mu_ held
  void on_server_policy(std::int64_t version, const std::string& answer) noexcept;
  void apply_answer(std::int64_t version, std::string_view answer) noexcept;
  void refresh_cached_policy() noexcept;    // follower: SPOOL/policy.json changed?
  void warn_once_about_refusals() noexcept;
  std::string path(const char* name) const { return options_.spool_dir + "/" + name; }

  ServerOptions options_;
  std::shared_ptr<const Policy> local_;
  ApplyPolicy apply_;
  CountersJson counters_;
  std::function<void()> exit_hook_;

  mutable std::mutex mu_;  // role, shipper, follower spool
  std::unique_ptr<shipper::Shipper> shipper_;
  ClosableTransport* transport_ = nullptr;  // owned by shipper_
  shipper::Spool spool_;                    // followers' writes
  shipper::ShipperStats last_stats_;        // of the shipper stop() ended
  int lock_fd_ = -1;
  std::atomic<bool> leader_{false};
  bool started_ = false;
  bool forked_ = false;  // a fork()ed child: never ships for itself without a spool
  bool stopped_ = false;  // stop() was called: never leads again

  std::mutex policy_mu_;  // serialises applying policies
  std::atomic<std::int64_t> policy_version_{0};
  struct stat cache_stat_{};  // of SPOOL/policy.json when last read (followers)
  int ticks_ = 0;
  bool warned_ = false;

  std::atomic<std::uint64_t> policy_updates_{0};
  // Events written to the spool here; dropped_: nowhere to go (spool full or off, and no
  // room in the sender's memory queue).
  std::atomic<std::uint64_t> spooled_{0}, dropped_{0};
};

}  // namespace vigil::agent

#endif  // VIGIL_AGENT_SERVER_LINK_HPP_
