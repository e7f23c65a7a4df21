// Agent events: built on the request thread (strings and raw stack addresses only), queued
// without waiting, serialised to JSON Lines and symbolised on the writer thread.
#ifndef VIGIL_AGENT_EVENTS_HPP_
#define VIGIL_AGENT_EVENTS_HPP_

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "vigil/analysis.hpp"
#include "vigil/engine.hpp"
#include "vigil/request.hpp"

namespace vigil::agent {

struct Counters;

// Blocks every signal on the calling thread for its lifetime: threads created meanwhile (the
// agent's own) inherit the mask, so a signal meant for the program never lands on them.
class BlockSignals {
 public:
  BlockSignals() noexcept {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  ~BlockSignals() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  BlockSignals(const BlockSignals&) = delete;
  BlockSignals& operator=(const BlockSignals&) = delete;

 private:
  sigset_t saved_;
};

struct TokenField {
  std::string kind, text;
  std::uint32_t begin = 0, end = 0;
};

// One detection, as the SPEC's event (docs/events.md).
struct Event {
  std::string event_id, time, app, outcome, rule, severity, cwe, mode;
  std::string method, path, client_ip, user_agent, request_id;
  bool has_input = false;
  std::string input_source, input_name, input_value, input_form;
  bool input_truncated = false;
  bool has_sink = false;
  std::string sink_type, sink_value, sink_function, dialect;
  bool sink_truncated = false;
  std::uint32_t span_begin = 0, span_end = 0, span_element = 0;
  std::string reason, evidence, note;
  std::vector<TokenField> tokens;
  std::vector<void*> frames;  // raw return addresses, symbolised by the writer
  int pid = 0;
};

// Builders shared by the preload agent and the SDK. `request_id` groups one request's events.
// Inputs of header/cookie credentials are redacted; long values are cut at 4 KiB and say so.
struct RequestInfo {
  std::string_view app, method, request_id;
  const class vigil::RequestContext* ctx;
};
std::unique_ptr<Event> event_from_finding(const RequestInfo& r, const vigil::Finding& f);
// Captures the native stack of the calling thread (symbolised later, on the writer thread).
std::unique_ptr<Event> event_from_detection(const RequestInfo& r, const vigil::Sink& sink,
                                            std::string_view function, const vigil::Detection& d,
                                            vigil::Outcome outcome, std::string note);
// Where event stacks start: with `library` (the preload agent), after every leading frame of
// the agent's own shared object; otherwise (the SDK, linked into the program) after the
// builder and its caller. Call once, before any event is built.
void set_agent_is_library(bool library);
// "critical" (exploited), "high" (blocked), "medium" (probed), "low" (suspicious).
std::string_view severity_of(vigil::Outcome o);

// A random 128-bit id as 32 hex digits (getrandom; never blocks).
std::string new_event_id();
// 16 hex digits naming one request: unique within the process (and across its forks), cheap.
std::string new_request_id();
// The same, written into `*out` (its memory reused: 16 digits do not fit a short string).
void new_request_id(std::string* out);
// The id of the request numbered `number` by the caller (numbers unique within the process, of
// a counter other than new_request_id's): the same 16 digits for the same number in one
// process, others in each fork child. Lets the agent name a request only when it reports one.
void format_request_id(std::uint64_t number, std::string* out);
// The same for a request this process did not read but inherited: a fork child's view of its
// parent's, or a launcher's of the requests handed to it (agent/handoff.hpp). Named as the
// process that read it names it, so that its events in both processes share one request id.
void format_inherited_request_id(std::uint64_t number, std::string* out);
// The salt of this process's request ids (set now if not yet: before any fork, so that a child
// knows its parent's), and, in a launcher, the salt of the process that handed it requests.
std::uint64_t request_id_salt() noexcept;
void set_inherited_request_id_salt(std::uint64_t salt) noexcept;
std::uint64_t inherited_request_id_salt() noexcept;  // 0: none
// Now, RFC 3339 with milliseconds, UTC.
std::string now_rfc3339();
// JSON text of one event (symbolising its frames).
std::string to_json(const Event& e);

// The body of the 403 answer to a blocked request, naming the event id: short HTML, or JSON.
std::string block_body(std::string_view event_id, bool json);

// The status file's JSON object (one line): the counters, for `vigil status`.
// `extra`: more members (`"name":value,...`, without braces), e.g. the ServerLink's counters.
std::string status_json(const Counters& c, std::string_view app, std::string_view mode,
                        std::string_view extra = {});
// Replaces `path` with `text` atomically (write, then rename). Returns false on failure.
bool write_file_atomically(const std::string& path, std::string_view text) noexcept;

// The policy a `mode` and an optional policy document give: the mode is the default of every
// rule and the document refines it. Diagnostics are printed to stderr, prefixed with `path`.
std::shared_ptr<const vigil::Policy> load_policy(vigil::Mode mode, const std::string& path);

// Where events go besides the events file: vigild, through the ServerLink. Called on the
// writer thread (and by write_now()), never on a request thread.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // A batch of events, as JSON texts (the sink may take them).
  virtual void on_events(std::vector<std::string>& events) noexcept = 0;
  // About once a second while the writer runs.
  virtual void on_tick() noexcept {}
};

// The counters as one JSON object of integers (vigild's heartbeat `counters`).
std::string counters_json(const Counters& c);

// Bounded multi-producer queue with one writer thread. push() never blocks: when the queue is
// full the event is dropped and counted. The writer appends to the events file and rewrites
// the status file once a second; a file it cannot write is counted, retried, never fatal.
class EventQueue {
 public:
  EventQueue(std::size_t capacity, std::string events_path, std::string status_path,
             Counters* counters);
  ~EventQueue();

  void push(std::unique_ptr<Event> e) noexcept;
  // Writes one event now, on the calling thread, bypassing the queue: for a fork()ed child
  // about to exec, whose queue and writer would vanish with it.
  void write_now(std::unique_ptr<Event> e) noexcept;
  // Waits (at most `timeout_ms`) until every event pushed before the call has been written.
  // Returns false on timeout.
  bool flush(int timeout_ms = 5000) noexcept;
  // Starts the writer thread if it is not running (it also refreshes the status file).
  void start() noexcept { ensure_writer(); }
  // Status writer callback (set by the owner); called on the writer thread about once a second.
  void set_status_writer(void (*fn)(void*), void* arg) {
    status_arg_ = arg;
    status_fn_ = fn;
  }
  // Also hands every event to `sink` (after the file). REQUIRES: before the first push; `sink`
  // outlives the queue's writer.
  void set_sink(EventSink* sink) { sink_ = sink; }
  // fork() support: the child has no writer thread and must not touch the parent's lock state.
  void prepare_fork() noexcept;
  void parent_after_fork() noexcept;
  void child_after_fork() noexcept;
  void flush_for_exit() noexcept;

 private:
  void ensure_writer() noexcept;
  void wake_writer() noexcept;
  void run() noexcept;
  void write_all(std::vector<std::unique_ptr<Event>>& batch) noexcept;

  struct Slot {
    std::atomic<std::size_t> seq;
    Event* event;
  };
  std::size_t capacity_;
  std::unique_ptr<Slot[]> slots_;
  std::atomic<std::size_t> head_{0}, tail_{0};

  std::string events_path_, status_path_;
  Counters* counters_;
  void (*status_fn_)(void*) = nullptr;
  void* status_arg_ = nullptr;
  EventSink* sink_ = nullptr;
  std::atomic<std::size_t> written_{0};  // queue positions consumed by the writer
  int fd_ = -1;
  std::mutex mu_;  // writer start/stop and wakeups only
  std::condition_variable cv_;
  std::atomic<bool> writer_started_{false};
  std::atomic<bool> sleeping_{false};  // the writer waits on cv_ (or is about to)
  std::atomic<bool> stop_{false};
  std::thread writer_;
};

}  // namespace vigil::agent

#endif  // VIGIL_AGENT_EVENTS_HPP_
