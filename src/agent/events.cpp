#include "agent/events.hpp"

#include <cxxabi.h>
#include <execinfo.h>
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <fstream>
#include <sstream>

#include "agent/agent.hpp"
#include "core/common/ascii.hpp"
#include "vigil/policy.hpp"

namespace vigil::agent {
namespace {

void append_escaped(std::string* out, std::string_view s) {
  out->push_back('"');
  static const char* const kHex = "0123456789abcdef";
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '\r') {
      out->append("\\r");
    } else if (c == '\t') {
      out->append("\\t");
    } else if (c < 0x20 || c == 0x7F) {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    } else if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else {
      // Keep well-formed UTF-8 sequences; replace anything else, so that the line is valid JSON
      // to every reader: vigild refuses a batch with a surrogate or an overlong form in it, and
      // an attacker's "%ED%A0%80" lost every event of its batch.
      const std::size_t len = common::utf8_length_at(s, i);
      if (len > 0) {
        out->append(s.substr(i, len));
        i += len - 1;
      } else {
        out->append("\xEF\xBF\xBD");
      }
    }
  }
  out->push_back('"');
}

void field(std::string* out, const char* name, std::string_view value, bool& first) {
  if (!first) out->push_back(',');
  first = false;
  out->push_back('"');
  out->append(name);
  out->append("\":");
  append_escaped(out, value);
}

void number(std::string* out, const char* name, std::uint64_t v, bool& first) {
  if (!first) out->push_back(',');
  first = false;
  out->push_back('"');
  out->append(name);
  out->append("\":");
  out->append(std::to_string(v));
}

// Symbolises return addresses with libdw (file:line where debug info exists) and dladdr.
class Symbolizer {
 public:
  ~Symbolizer() {
    if (dwfl_) dwfl_end(dwfl_);
  }
  // Stacks repeat (the same call sites attacked again and again): frames are cached.
  void frame_json(void* pc, std::string* out) {
    auto hit = cache_.find(pc);
    if (hit != cache_.end()) {
      out->append(hit->second);
      return;
    }
    std::string json;
    symbolize(pc, &json);
    out->append(json);
    if (cache_.size() >= 8192) cache_.clear();
    cache_.emplace(pc, std::move(json));
  }
  void symbolize(void* pc, std::string* out) {
    auto addr = reinterpret_cast<Dwarf_Addr>(pc) - 1;  // the call, not the return address
    std::string function, file, module;
    int line = 0;
    if (Dwfl* d = dwfl()) {
      if (Dwfl_Module* m = dwfl_addrmodule(d, addr)) {
        if (const char* name = dwfl_module_addrname(m, addr)) function = demangle(name);
        if (Dwfl_Line* l = dwfl_module_getsrc(m, addr)) {
          int col = 0;
          if (const char* f = dwfl_lineinfo(l, nullptr, &line, &col, nullptr, nullptr)) file = f;
        }
        const char* mname = dwfl_module_info(m, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
        if (mname) module = mname;
      }
    }
    if (function.empty() || module.empty()) {
      Dl_info info{};
      if (dladdr(pc, &info)) {
        if (function.empty() && info.dli_sname) function = demangle(info.dli_sname);
        if (module.empty() && info.dli_fname) module = info.dli_fname;
      }
    }
    bool first = true;
    out->push_back('{');
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(addr + 1));
    field(out, "address", buf, first);
    if (!function.empty()) field(out, "function", function, first);
    if (!file.empty()) {
      field(out, "file", file, first);
      number(out, "line", static_cast<std::uint64_t>(line), first);
    }
    if (!module.empty()) field(out, "module", module, first);
    out->push_back('}');
  }
  void refresh() {
    if (dwfl_) dwfl_end(dwfl_);
    dwfl_ = nullptr;
    cache_.clear();
  }

 private:
  static std::string demangle(const char* name) {
    int status = 0;
    char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    std::string out = (status == 0 && d) ? d : name;
    std::free(d);
    return out;
  }
  Dwfl* dwfl() {
    if (dwfl_) return dwfl_;
    static char* debuginfo_path = nullptr;
    static const Dwfl_Callbacks kCallbacks = {dwfl_linux_proc_find_elf, dwfl_standard_find_debuginfo,
                                              nullptr, &debuginfo_path};
    dwfl_ = dwfl_begin(&kCallbacks);
    if (!dwfl_) return nullptr;
    if (dwfl_linux_proc_report(dwfl_, getpid()) != 0 || dwfl_report_end(dwfl_, nullptr, nullptr) != 0) {
      dwfl_end(dwfl_);
      dwfl_ = nullptr;
    }
    return dwfl_;
  }
  Dwfl* dwfl_ = nullptr;
  std::unordered_map<void*, std::string> cache_;
};

// One per process: a fork()ed child must not use its parent's, which another thread may have
// been using at the time of the fork.
Symbolizer& symbolizer() {
  static Symbolizer* s = nullptr;
  static pid_t owner = 0;
  pid_t pid = getpid();
  if (s == nullptr || owner != pid) {
    s = new Symbolizer();  // the parent's copy (if any) is leaked in the child on purpose
    owner = pid;
  }
  return *s;
}

constexpr std::size_t kMaxEventValue = 4096;  // bytes of an operation or input kept in events
constexpr int kStackFrames = 24;

std::string truncated(std::string_view s, bool* was_cut) {
  *was_cut = s.size() > kMaxEventValue;
  return common::truncate_utf8(s, kMaxEventValue);
}

// Header and cookie inputs whose values are credentials are never written to events.
bool is_secret(Source source, std::string_view name) {
  if (source != Source::kHeader && source != Source::kCookie) return false;
  static constexpr std::string_view kSecret[] = {"authorization", "proxy-authorization", "cookie",
                                                 "x-api-key", "x-auth-token", "session", "sessionid",
                                                 "token", "csrftoken", "jwt", "password", "secret"};
  std::string lower = common::folded(name);
  for (std::string_view s : kSecret)
    if (lower.find(s) != std::string::npos) return true;
  return false;
}

std::unique_ptr<Event> base_event(const RequestInfo& r, std::string_view rule, std::string_view cwe,
                                  Mode mode, Outcome outcome, std::uint32_t input, Form form) {
  auto e = std::make_unique<Event>();
  e->event_id = new_event_id();
  e->time = now_rfc3339();
  e->app = std::string(r.app);
  e->outcome = std::string(outcome_name(outcome));
  e->rule = std::string(rule);
  e->severity = std::string(severity_of(outcome));
  e->cwe = std::string(cwe);
  e->mode = std::string(mode_name(mode));
  e->method = std::string(r.method);
  e->request_id = std::string(r.request_id);
  e->pid = getpid();
  if (r.ctx == nullptr) return e;
  e->path = std::string(r.ctx->path());
  e->client_ip = std::string(r.ctx->client_ip());
  e->user_agent = std::string(r.ctx->user_agent());
  auto inputs = r.ctx->inputs();
  if (input < inputs.size()) {
    const Input& in = inputs[input];
    e->has_input = true;
    e->input_source = std::string(source_name(in.source));
    e->input_name = std::string(in.name);
    e->input_value = is_secret(in.source, in.name) ? "[redacted]" : truncated(in.value, &e->input_truncated);
    e->input_form = std::string(form_name(form));
  }
  return e;
}

}  // namespace

std::string_view severity_of(Outcome o) {
  switch (o) {
    case Outcome::kExploited: return "critical";
    case Outcome::kBlocked: return "high";
    case Outcome::kProbed: return "medium";
    case Outcome::kSuspicious: return "low";
  }
  return "low";
}

namespace {
bool g_own_module_frames = false;
}  // namespace

void set_agent_is_library(bool library) { g_own_module_frames = library; }

std::unique_ptr<Event> event_from_finding(const RequestInfo& r, const Finding& f) {
  auto e = base_event(r, f.rule, f.cwe, f.mode, f.outcome,
                      f.input >= 0 ? static_cast<std::uint32_t>(f.input) : UINT32_MAX, f.form);
  e->reason = f.reason;
  e->evidence = common::truncate_utf8(f.evidence, 240);
  return e;
}

std::unique_ptr<Event> event_from_detection(const RequestInfo& r, const Sink& sink,
                                            std::string_view function, const Detection& d,
                                            Outcome outcome, std::string note) {
  std::vector<void*> frames(kStackFrames);
  int n = backtrace(frames.data(), kStackFrames);
  frames.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  // Drop the agent's own frames: all leading frames in the preload library when the agent is a
  // library of its own; else (the SDK, linked into the program) this function and its caller.
  std::size_t skip = std::min<std::size_t>(2, frames.size());
  if (g_own_module_frames) {
    Dl_info self{};
    if (dladdr(reinterpret_cast<void*>(&event_from_detection), &self) && self.dli_fbase != nullptr) {
      skip = 0;
      Dl_info f{};
      while (skip < frames.size() && dladdr(frames[skip], &f) && f.dli_fbase == self.dli_fbase) ++skip;
    }
  }
  frames.erase(frames.begin(), frames.begin() + skip);
  auto e = base_event(r, d.rule, d.cwe, d.mode, outcome, d.input, d.form);
  e->frames = std::move(frames);
  e->has_sink = true;
  e->sink_type = std::string(sink_type_name(sink.type));
  if (sink.type == SinkType::kSql) e->dialect = std::string(dialect_name(sink.dialect));
  if (sink.type == SinkType::kExec) {
    std::string joined;
    for (std::size_t i = 0; i < sink.argv.size(); ++i) {
      if (i) joined += ' ';
      joined += sink.argv[i];
    }
    e->sink_value = truncated(joined, &e->sink_truncated);
  } else {
    e->sink_value = truncated(sink.value, &e->sink_truncated);
  }
  e->sink_function = std::string(function);
  e->span_begin = d.begin;
  e->span_end = d.end;
  e->span_element = d.element;
  e->reason = d.reason;
  for (const TokenNote& t : d.tokens) e->tokens.push_back(TokenField{t.kind, t.text, t.begin, t.end});
  e->note = std::move(note);
  return e;
}

namespace {

// A fresh random salt per process: set at first use and again in a fork's child (pthread_atfork),
// so that a pre-fork server's workers do not repeat each other's request ids.
std::atomic<std::uint64_t> g_request_salt{0};
std::atomic<std::uint64_t> g_request_counter{0};
std::atomic<std::uint64_t> g_inherited_salt{0};  // the parent's (0: none)

std::uint64_t random_salt() {
  std::uint64_t s = 0;
  if (getrandom(&s, sizeof s, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof s))
    s = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
        (static_cast<std::uint64_t>(getpid()) << 40);
  return s | 1;  // never 0, which means "not set yet"
}

void reseed_in_child() {
  g_inherited_salt.store(g_request_salt.load(std::memory_order_relaxed), std::memory_order_relaxed);
  g_request_salt.store(random_salt(), std::memory_order_relaxed);
  g_request_counter.store(0, std::memory_order_relaxed);
}

std::uint64_t request_salt() noexcept {
  std::uint64_t salt = g_request_salt.load(std::memory_order_relaxed);
  if (salt == 0) {
    static const bool registered = [] { return pthread_atfork(nullptr, nullptr, &reseed_in_child) == 0; }();
    (void)registered;
    std::uint64_t expected = 0;
    g_request_salt.compare_exchange_strong(expected, random_salt(), std::memory_order_relaxed);
    salt = g_request_salt.load(std::memory_order_relaxed);
  }
  return salt;
}

}  // namespace

std::string new_request_id() {
  std::string id;
  new_request_id(&id);
  return id;
}

void new_request_id(std::string* out) {
  format_request_id(g_request_counter.fetch_add(1, std::memory_order_relaxed), out);
}

namespace {

void format_salted(std::uint64_t salt, std::uint64_t number, std::string* out) {
  // A bijection of (salt + number): distinct for every number, random-looking, and without the
  // getrandom system call per request that the event ids pay.
  std::uint64_t x = salt + number * 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  static const char* const kHex = "0123456789abcdef";
  out->assign(16, '0');
  for (int i = 15; i >= 0; --i, x >>= 4) (*out)[i] = kHex[x & 15];
}

}  // namespace

void format_request_id(std::uint64_t number, std::string* out) {
  format_salted(request_salt(), number, out);
}

void format_inherited_request_id(std::uint64_t number, std::string* out) {
  std::uint64_t salt = g_inherited_salt.load(std::memory_order_relaxed);
  format_salted(salt != 0 ? salt : request_salt(), number, out);
}

std::uint64_t request_id_salt() noexcept { return request_salt(); }

void set_inherited_request_id_salt(std::uint64_t salt) noexcept {
  g_inherited_salt.store(salt, std::memory_order_relaxed);
}

std::uint64_t inherited_request_id_salt() noexcept {
  return g_inherited_salt.load(std::memory_order_relaxed);
}

std::string new_event_id() {
  unsigned char b[16];
  if (getrandom(b, sizeof b, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof b)) {
    static std::atomic<std::uint64_t> counter{0};
    std::uint64_t t = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    std::uint64_t c = counter.fetch_add(1) ^ (static_cast<std::uint64_t>(getpid()) << 40);
    std::memcpy(b, &t, 8);
    std::memcpy(b + 8, &c, 8);
  }
  static const char* const kHex = "0123456789abcdef";
  std::string id(32, '0');
  for (int i = 0; i < 16; ++i) {
    id[2 * i] = kHex[b[i] >> 4];
    id[2 * i + 1] = kHex[b[i] & 15];
  }
  return id;
}

std::string now_rfc3339() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", t.tm_year + 1900, t.tm_mon + 1,
                t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000);
  return buf;
}

std::string to_json(const Event& e) {
  std::string out;
  out.reserve(1024 + e.sink_value.size() + e.input_value.size());
  bool first = true;
  out.push_back('{');
  field(&out, "event_id", e.event_id, first);
  field(&out, "time", e.time, first);
  field(&out, "app", e.app, first);
  field(&out, "outcome", e.outcome, first);
  field(&out, "rule", e.rule, first);
  field(&out, "severity", e.severity, first);
  if (!e.cwe.empty()) field(&out, "cwe", e.cwe, first);
  field(&out, "mode", e.mode, first);
  out.append(",\"request\":{");
  bool f2 = true;
  field(&out, "method", e.method, f2);
  field(&out, "path", e.path, f2);
  field(&out, "client_ip", e.client_ip, f2);
  field(&out, "user_agent", e.user_agent, f2);
  field(&out, "id", e.request_id, f2);
  out.push_back('}');
  if (e.has_input) {
    out.append(",\"input\":{");
    bool f3 = true;
    field(&out, "source", e.input_source, f3);
    field(&out, "name", e.input_name, f3);
    field(&out, "value", e.input_value, f3);
    if (e.input_truncated) out.append(",\"value_truncated\":true");
    if (!e.input_form.empty()) field(&out, "form", e.input_form, f3);
    out.push_back('}');
  }
  if (e.has_sink) {
    out.append(",\"sink\":{");
    bool f4 = true;
    field(&out, "type", e.sink_type, f4);
    if (!e.dialect.empty()) field(&out, "dialect", e.dialect, f4);
    field(&out, "value", e.sink_value, f4);
    if (e.sink_truncated) out.append(",\"value_truncated\":true");
    field(&out, "function", e.sink_function, f4);
    out.append(",\"span\":{");
    bool f5 = true;
    number(&out, "begin", e.span_begin, f5);
    number(&out, "end", e.span_end, f5);
    number(&out, "element", e.span_element, f5);
    out.append("}}");
  }
  out.append(",\"explanation\":{");
  bool f6 = true;
  field(&out, "reason", e.reason, f6);
  if (!e.evidence.empty()) field(&out, "evidence", e.evidence, f6);
  if (!e.tokens.empty()) {
    out.append(",\"tokens\":[");
    for (std::size_t i = 0; i < e.tokens.size(); ++i) {
      if (i) out.push_back(',');
      bool f7 = true;
      out.push_back('{');
      field(&out, "kind", e.tokens[i].kind, f7);
      field(&out, "text", e.tokens[i].text, f7);
      number(&out, "begin", e.tokens[i].begin, f7);
      number(&out, "end", e.tokens[i].end, f7);
      out.push_back('}');
    }
    out.push_back(']');
  }
  out.push_back('}');
  if (!e.note.empty()) field(&out, "note", e.note, first);
  if (!e.frames.empty()) {
    out.append(",\"stack\":[");
    for (std::size_t i = 0; i < e.frames.size(); ++i) {
      if (i) out.push_back(',');
      symbolizer().frame_json(e.frames[i], &out);
    }
    out.push_back(']');
  }
  out.append(",\"agent\":{");
  bool f8 = true;
  number(&out, "pid", static_cast<std::uint64_t>(e.pid), f8);
  field(&out, "version", "0.1.0", f8);
  out.append("}}");
  return out;
}

EventQueue::EventQueue(std::size_t capacity, std::string events_path, std::string status_path,
                       Counters* counters)
    : events_path_(std::move(events_path)), status_path_(std::move(status_path)), counters_(counters) {
  // A power of two keeps the ring arithmetic cheap.
  capacity_ = 64;
  while (capacity_ < capacity) capacity_ <<= 1;
  slots_ = std::make_unique<Slot[]>(capacity_);
  for (std::size_t i = 0; i < capacity_; ++i) {
    slots_[i].seq.store(i, std::memory_order_relaxed);
    slots_[i].event = nullptr;
  }
}

EventQueue::~EventQueue() { flush_for_exit(); }

// Vyukov's bounded MPMC queue (one consumer here): a slot's sequence number says whose turn it is.
void EventQueue::push(std::unique_ptr<Event> e) noexcept {
  std::size_t pos = tail_.load(std::memory_order_relaxed);
  for (;;) {
    Slot& slot = slots_[pos & (capacity_ - 1)];
    std::size_t seq = slot.seq.load(std::memory_order_acquire);
    auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
    if (diff == 0) {
      if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        slot.event = e.release();
        slot.seq.store(pos + 1, std::memory_order_release);
        break;
      }
    } else if (diff < 0) {
      counters_->drops.fetch_add(1, std::memory_order_relaxed);  // full: drop, never wait
      return;
    } else {
      pos = tail_.load(std::memory_order_relaxed);
    }
  }
  ensure_writer();
  wake_writer();
}

// The writer sleeps only after it announced it (sleeping_) and then saw the queue empty; a
// producer that published an event and then sees it asleep wakes it under the lock (it cannot
// miss the wait). A writer that is awake costs producers no lock and no system call.
void EventQueue::wake_writer() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!sleeping_.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> lock(mu_);
  cv_.notify_one();
}

void EventQueue::ensure_writer() noexcept {
  if (writer_started_.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (writer_started_.load(std::memory_order_relaxed)) return;
  try {
    stop_.store(false);
    // The writer takes no signal meant for the program (a sigwait() thread of its own, say).
    BlockSignals blocked;
    writer_ = std::thread([this] { run(); });
    writer_started_.store(true, std::memory_order_release);
  } catch (...) {
    counters_->fail_opens.fetch_add(1, std::memory_order_relaxed);
  }
}

void EventQueue::run() noexcept {
  t_depth = 1;  // everything this thread does is the agent's own I/O: never analysed
  std::vector<std::unique_ptr<Event>> batch;
  auto last_status = std::chrono::steady_clock::now() - std::chrono::seconds(2);
  while (true) {
    batch.clear();
    std::size_t pos = head_.load(std::memory_order_relaxed);
    while (batch.size() < 512) {
      Slot& slot = slots_[pos & (capacity_ - 1)];
      if (slot.seq.load(std::memory_order_acquire) != pos + 1) break;
      batch.emplace_back(slot.event);
      slot.event = nullptr;
      slot.seq.store(pos + capacity_, std::memory_order_release);
      head_.store(++pos, std::memory_order_relaxed);
    }
    if (!batch.empty()) {
      write_all(batch);
      written_.store(pos, std::memory_order_release);
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_status >= std::chrono::seconds(1)) {
      if (status_fn_) status_fn_(status_arg_);
      if (sink_) sink_->on_tick();
      last_status = now;
    }
    if (batch.empty()) {
      // Idle: asleep until an event, the stop, or the next status write (one wake-up a second).
      std::unique_lock<std::mutex> lock(mu_);
      if (stop_.load()) return;
      sleeping_.store(true, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      Slot& next = slots_[pos & (capacity_ - 1)];
      if (next.seq.load(std::memory_order_acquire) != pos + 1)
        cv_.wait_until(lock, last_status + std::chrono::seconds(1));
      sleeping_.store(false, std::memory_order_relaxed);
    }
  }
}

void EventQueue::write_all(std::vector<std::unique_ptr<Event>>& batch) noexcept {
  std::vector<std::string> texts;
  try {
    std::string out;
    for (auto& e : batch) {
      std::string json = to_json(*e);
      out += json;
      out.push_back('\n');
      if (sink_) texts.push_back(std::move(json));
    }
    if (sink_) sink_->on_events(texts);
    if (events_path_.empty()) {
      counters_->events.fetch_add(batch.size(), std::memory_order_relaxed);
      return;
    }
    if (fd_ < 0) fd_ = ::open(events_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0) {
      counters_->write_errors.fetch_add(batch.size(), std::memory_order_relaxed);
      return;
    }
    const char* p = out.data();
    std::size_t left = out.size();
    while (left > 0) {
      ssize_t w = ::write(fd_, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        counters_->write_errors.fetch_add(batch.size(), std::memory_order_relaxed);
        ::close(fd_);
        fd_ = -1;  // reopen next time (the file may have been rotated or fixed)
        return;
      }
      p += w;
      left -= static_cast<std::size_t>(w);
    }
    counters_->events.fetch_add(batch.size(), std::memory_order_relaxed);
  } catch (...) {
    counters_->write_errors.fetch_add(batch.size(), std::memory_order_relaxed);
  }
}

void EventQueue::write_now(std::unique_ptr<Event> e) noexcept {
  std::vector<std::unique_ptr<Event>> one;
  try {
    one.push_back(std::move(e));
  } catch (...) {
    counters_->drops.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  int saved = fd_;
  fd_ = -1;  // a descriptor of our own: the writer's (if any) is not ours to use
  write_all(one);
  if (fd_ >= 0) ::close(fd_);
  fd_ = saved;
}

bool EventQueue::flush(int timeout_ms) noexcept {
  std::size_t target = tail_.load(std::memory_order_acquire);
  if (written_.load(std::memory_order_acquire) >= target) return true;
  ensure_writer();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (written_.load(std::memory_order_acquire) < target) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    wake_writer();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void EventQueue::prepare_fork() noexcept { mu_.lock(); }
void EventQueue::parent_after_fork() noexcept { mu_.unlock(); }

void EventQueue::child_after_fork() noexcept {
  // The writer thread did not survive the fork; its std::thread object must not be joined or
  // destroyed as joinable. Events queued before the fork belong to the parent.
  new (&mu_) std::mutex();
  new (&cv_) std::condition_variable();
  sleeping_.store(false);
  if (writer_started_.load()) {
    new (&writer_) std::thread();
    writer_started_.store(false);
  }
  for (std::size_t i = 0; i < capacity_; ++i) {
    slots_[i].seq.store(i, std::memory_order_relaxed);
    slots_[i].event = nullptr;  // parent's copies: leaked in the child on purpose
  }
  head_.store(0);
  tail_.store(0);
  written_.store(0);
  fd_ = -1;
}

void EventQueue::flush_for_exit() noexcept {
  if (!writer_started_.load()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);  // the writer checks stop_ under it before sleeping
    stop_.store(true);
  }
  cv_.notify_all();
  if (writer_.joinable()) {
    if (writer_.get_id() == std::this_thread::get_id()) writer_.detach();
    else writer_.join();
  }
  writer_started_.store(false);
}

std::string block_body(std::string_view event_id, bool json) {
  std::string id(event_id);
  if (json) return "{\"error\":\"blocked\",\"by\":\"vigil\",\"event_id\":\"" + id + "\"}\n";
  return "<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body>"
         "<h1>Forbidden</h1><p>This request was blocked by Vigil.</p>"
         "<p>Event id: <code>" + id + "</code></p></body></html>\n";
}

namespace {

// The counters as JSON members, in one order for the heartbeat and the status file.
void append_counters(std::string* out, const Counters& c, bool& first) {
  auto get = [](const ShardedCounter& v) { return v.load(); };
  number(out, "connections", get(c.connections), first);
  number(out, "requests", get(c.requests), first);
  number(out, "sinks", get(c.sinks), first);
  number(out, "detections", get(c.detections), first);
  number(out, "blocked", get(c.blocked), first);
  number(out, "events", get(c.events), first);
  number(out, "drops", get(c.drops), first);
  number(out, "write_errors", get(c.write_errors), first);
  number(out, "fail_opens", get(c.fail_opens), first);
  number(out, "budget_overruns", get(c.budget_overruns), first);
  number(out, "not_http", get(c.not_http), first);
  number(out, "tls_unseen", get(c.tls_unseen), first);
}

}  // namespace

std::string counters_json(const Counters& c) {
  std::string out;
  bool first = true;
  out.push_back('{');
  append_counters(&out, c, first);
  out.push_back('}');
  return out;
}

std::string status_json(const Counters& c, std::string_view app, std::string_view mode,
                        std::string_view extra) {
  std::string out;
  bool first = true;
  out.push_back('{');
  number(&out, "pid", static_cast<std::uint64_t>(getpid()), first);
  field(&out, "app", app, first);
  field(&out, "mode", mode, first);
  field(&out, "version", "0.1.0", first);
  field(&out, "time", now_rfc3339(), first);
  append_counters(&out, c, first);
  if (!extra.empty()) {
    out.push_back(',');
    out.append(extra);
  }
  out.append("}\n");
  return out;
}

bool write_file_atomically(const std::string& path, std::string_view text) noexcept {
  try {
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    ssize_t w = ::write(fd, text.data(), text.size());
    ::close(fd);
    if (w != static_cast<ssize_t>(text.size())) return false;
    return std::rename(tmp.c_str(), path.c_str()) == 0;
  } catch (...) {
    return false;
  }
}

std::shared_ptr<const Policy> load_policy(Mode mode, const std::string& path) {
  std::string text;
  if (!path.empty()) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    text = ss.str();
  }
  std::string default_mode = "mode: " + std::string(mode_name(mode)) + "\n";
  // A document that sets no mode of its own inherits the given one.
  bool has_mode = text.find("mode:") != std::string::npos || text.find("\"mode\"") != std::string::npos;
  std::string doc = text.empty() ? default_mode : has_mode ? text : default_mode + text;
  std::vector<PolicyDiagnostic> diags;
  auto policy = Policy::compile(doc, &diags);
  for (const auto& d : diags)
    std::fprintf(stderr, "vigil: policy %s:%d:%d: %s [%s]\n", path.c_str(), d.line, d.column,
                 d.message.c_str(), d.code.c_str());
  return policy;
}

}  // namespace vigil::agent
