// The Vigil C++ SDK: the agent linked into a C++ program instead of preloaded.
//
//   vigil::sdk::Agent agent({.app = "shop", .mode = vigil::Mode::kBlock,
//                            .events_path = "/var/log/shop/vigil.jsonl"});
//   ...
//   {  // for each request, on the thread that serves it
//     vigil::sdk::RequestScope scope(agent, request);   // input analysis runs here
//     if (scope.blocked()) return respond(403, scope.block_body());
//     std::string sql = "SELECT ... '" + name + "'";
//     if (agent.check_sql(vigil::Dialect::kSqlite, sql).block) return respond(403, ...);
//     ...
//   }
//
// Events, policy and modes are those of `vigil run` (docs/agent.md, docs/events.md). For
// cpp-httplib servers, vigil/httplib.hpp protects a whole server in two lines.
//
// Thread safety: Agent is thread-safe. A RequestScope belongs to the thread that created it;
// sink checks on that thread are attributed to it.
#ifndef VIGIL_SDK_HPP_
#define VIGIL_SDK_HPP_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "vigil/analysis.hpp"
#include "vigil/engine.hpp"
#include "vigil/request.hpp"

namespace vigil::sdk {

struct AgentOptions {
  std::string app = "app";
  Mode mode = Mode::kMonitor;    // default mode of every rule (a policy refines it); kOff: none
  std::string events_path;       // JSON Lines, appended; empty: events are counted, not written
  std::string policy_path;       // YAML/JSON policy document; empty: `mode` for every rule
  std::string status_path;       // counters file, rewritten every second; empty: none
  std::size_t queue_capacity = 8192;  // events waiting to be written; beyond, dropped and counted
  TrustedProxies trusted_proxies;

  // vigild (docs/server.md). With a URL and an agent key for `app`, events are also sent to
  // the server in batches (retried with backoff; spooled to disk while it is unreachable; no
  // duplicates), the agent registers and heartbeats its counters, and the application's policy
  // is long-polled on a background thread and applied atomically (a server policy replaces
  // `policy_path`; `mode` stays the default of the rules it does not set). Nothing waits on
  // the server on the caller's threads; a server that is down or slow only delays delivery.
  std::string server_url;        // "http://HOST:PORT" or "https://..."; empty: no server
  std::string server_key;        // agent key (POST /api/v1/keys, `vigil keys create`)
  // Undelivered events, the cached policy; "" = $TMPDIR/vigil-spool-UID/APP-HASH, "off" = none
  // (memory only). Agents of one application and server sharing it elect one of them to talk
  // to vigild (docs/agent.md).
  std::string spool_dir;
  std::uint64_t spool_max_mb = 256;  // bound of the spool
  std::string server_ca_file;    // PEM bundle to trust for https (a self-signed vigild)

  // The options `vigil run` would give the preload agent, from the same environment variables
  // (docs/agent.md): VIGIL_MODE (monitor|block|off; VIGIL_DISABLE=1 is off), VIGIL_APP,
  // VIGIL_EVENTS, VIGIL_POLICY, VIGIL_STATUS, VIGIL_QUEUE, VIGIL_SERVER, VIGIL_KEY (or
  // VIGIL_KEY_FILE), VIGIL_SPOOL, VIGIL_SPOOL_MAX, VIGIL_SERVER_CA. Unset variables keep the
  // defaults.
  static AgentOptions from_environment();
};

// What a sink check found.
struct SinkResult {
  bool attack = false;   // an input changed the operation
  bool block = false;    // do not perform the operation (the attack's rule is in block mode)
  std::string event_id;  // of the first detection
  std::string reason;    // its explanation, one sentence
};

struct AgentCounters {
  std::uint64_t requests = 0, sinks = 0, detections = 0, blocked = 0, events = 0, drops = 0,
                write_errors = 0, fail_opens = 0, budget_overruns = 0;
  // With a server: the version of the server policy in force (0: none).
  std::int64_t policy_version = 0;
};

// How much of an HTML response is checked for reflected XSS: its first 256 KiB (decoded when it
// is compressed), as the preload agent does (check_encoded_html, the cpp-httplib integration).
inline constexpr std::size_t kCheckedHtmlBytes = 256 * 1024;

class RequestScope;

class Agent {
 public:
  // Compiles the policy (diagnostics on stderr; a bad rule is skipped) and starts the events
  // writer lazily (at once with a server). A server configuration that cannot work (no key, a
  // malformed URL) is reported on stderr and the agent runs without it. Throws only
  // std::bad_alloc.
  explicit Agent(AgentOptions options);
  // Writes queued events (bounded wait), hands them to vigild (or its spool; at most about 2 s
  // more) and stops the threads. REQUIRES: no RequestScope of this agent is alive.
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Explicit sink checks against the calling thread's RequestScope of this agent (clean, and
  // not counted, when there is none). Each detection becomes an event: `blocked` when its rule
  // is in block mode (the caller must then not perform the operation; the scope becomes
  // blocked), `exploited` otherwise (the caller goes on), with the caller's stack. `block` is
  // also set when a late body (RequestScope::set_body_source) got the request blocked just now. Never throw;
  // an internal failure returns a clean result and counts a fail-open. Strings are borrowed for
  // the call only.
  SinkResult check_sql(Dialect dialect, std::string_view query, std::string_view function = "sql");
  SinkResult check_shell(std::string_view command, std::string_view function = "shell");
  SinkResult check_exec(std::span<const std::string_view> argv, std::string_view function = "exec");
  SinkResult check_path(std::string_view path, std::string_view base = {},
                        std::string_view function = "open");
  SinkResult check_url(std::string_view url, std::string_view function = "http.get");
  SinkResult check_html(std::string_view html, std::string_view function = "response.body");
  // An HTML body as it is sent, compressed with `content_encoding` (a Content-Encoding value:
  // gzip, x-gzip, deflate, br, zstd, or a list of them, undone right to left): its first 256 KiB
  // decoded are checked as check_html() checks. A body that cannot be decoded whole (an unknown
  // coding, a corrupt or truncated stream) is checked as far as it could be, and a fail-open is
  // counted.
  SinkResult check_encoded_html(std::string_view body, std::string_view content_encoding,
                                std::string_view function = "response.body");
  SinkResult check_header(std::string_view header_lines, std::string_view function = "response.header");
  SinkResult check_redirect(std::string_view target, std::string_view base,
                            std::string_view function = "response.redirect");
  // Any sink, as described by vigil::Sink.
  SinkResult check(const Sink& sink, std::string_view function);

  // Replaces the policy (atomically; requests in flight finish under the old one).
  void set_policy(std::shared_ptr<const Policy> policy);
  const Engine& engine() const;
  AgentCounters counters() const;
  // Waits until the events queued so far are written (by the background writer), at most a few
  // seconds. Thread-safe.
  void flush();
  // The link's counters (shipped, ship_drops, spooled, policy_version, ...) as JSON members
  // without braces; empty without a server.
  std::string server_counters() const;

  struct Impl;

 private:
  friend class RequestScope;
  std::unique_ptr<Impl> impl_;
};

// One request, from its arrival to its response, on the thread serving it.
class RequestScope {
 public:
  // The innermost scope alive on the calling thread, or null.
  static RequestScope* current() noexcept;

  // Parses the request and runs input analysis (findings become events). The request's bytes
  // are copied: `request` need not outlive the scope.
  RequestScope(Agent& agent, const HttpRequest& request);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

  const RequestVerdict& verdict() const;
  const RequestContext& context() const;
  // True when input analysis (or a later sink check in this scope) decided to block.
  bool blocked() const;
  // The event id to show in the 403 response.
  const std::string& block_event_id() const;
  // A short HTML (or JSON, when `json`) 403 body naming the event id.
  std::string block_body(bool json = false) const;

  // For servers that read the body after the scope must exist (cpp-httplib reads it after its
  // pre-routing handler): adds the body's inputs to the scope and runs input analysis on them
  // (their findings become events; a blocking one blocks the scope). Once per scope: later
  // calls, and calls on a scope built with a body, do nothing.
  void add_body(std::string_view body);
  // Where the body will be: before each sink check, and when asked by maybe_add_body(), a
  // non-empty `*body` not yet added is added. `body` must outlive the scope (or be reset).
  void set_body_source(const std::string* body);
  void maybe_add_body();

  struct State;

 private:
  friend class Agent;
  Agent& agent_;
  std::unique_ptr<State> state_;
  RequestScope* previous_;
};

}  // namespace vigil::sdk

#endif  // VIGIL_SDK_HPP_
