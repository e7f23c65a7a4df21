#include "vigil/sdk.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

#include "agent/agent.hpp"
#include "agent/body_decoder.hpp"
#include "agent/events.hpp"
#include "agent/server_link.hpp"
#include "vigil/policy.hpp"

namespace vigil::sdk {

namespace {

thread_local RequestScope* t_scope = nullptr;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

struct Agent::Impl {
  AgentOptions options;
  Engine engine;
  agent::Counters counters;
  std::unique_ptr<agent::ServerLink> link;  // before events: outlives the writer
  std::unique_ptr<agent::EventQueue> events;

  static void write_status(void* self) {
    auto* impl = static_cast<Impl*>(self);
    agent::write_file_atomically(
        impl->options.status_path,
        agent::status_json(impl->counters, impl->options.app, mode_name(impl->options.mode),
                           impl->link ? impl->link->counters_fragment() : std::string()));
  }

  void push(std::unique_ptr<agent::Event> e) {
    counters.detections.fetch_add(1, std::memory_order_relaxed);
    events->push(std::move(e));
  }
};

struct RequestScope::State {
  // Owned copies of the request: the context borrows them.
  std::string method, uri, body, peer;
  std::vector<std::string> header_bytes;  // name, value, name, value, ...
  std::vector<Header> headers;
  RequestContext ctx;
  PreparedInputs prepared;
  RequestVerdict verdict;
  std::string id;  // groups this request's events
  const std::string* body_source = nullptr;
  bool body_added = false;
  bool blocked = false;
  std::string block_event_id;
};

AgentOptions AgentOptions::from_environment() {
  AgentOptions o;
  std::string mode = env("VIGIL_MODE");
  if (mode == "block") o.mode = Mode::kBlock;
  else if (mode == "off") o.mode = Mode::kOff;
  std::string disable = env("VIGIL_DISABLE");
  if (!disable.empty() && disable != "0" && disable != "false") o.mode = Mode::kOff;
  if (std::string app = env("VIGIL_APP"); !app.empty()) o.app = app;
  o.events_path = env("VIGIL_EVENTS");
  o.policy_path = env("VIGIL_POLICY");
  o.status_path = env("VIGIL_STATUS");
  if (std::string q = env("VIGIL_QUEUE"); !q.empty()) o.queue_capacity = std::strtoul(q.c_str(), nullptr, 10);
  agent::ServerOptions server;
  std::string error;
  if (agent::server_options_from_environment(&server, &error)) {
    o.server_url = server.url;
    o.server_key = server.key;
    o.spool_dir = env("VIGIL_SPOOL");
    o.spool_max_mb = server.spool_max_bytes >> 20;
    o.server_ca_file = server.ca_file;
  } else if (!error.empty()) {
    std::fprintf(stderr, "vigil: %s; events stay local\n", error.c_str());
  }
  return o;
}

Agent::Agent(AgentOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  const AgentOptions& o = impl_->options;
  impl_->engine.set_policy(agent::load_policy(o.mode, o.policy_path));
  impl_->events = std::make_unique<agent::EventQueue>(o.queue_capacity, o.events_path, o.status_path,
                                                      &impl_->counters);
  if (!o.server_url.empty() && o.mode != Mode::kOff) {
    agent::ServerOptions server;
    server.url = o.server_url;
    server.key = o.server_key;
    server.app = o.app;
    server.mode = o.mode;
    server.spool_dir = o.spool_dir == "off" ? std::string()
                       : o.spool_dir.empty() ? agent::default_spool_dir(o.app, o.server_url)
                                             : o.spool_dir;
    server.spool_max_bytes = o.spool_max_mb << 20;
    server.ca_file = o.server_ca_file;
    std::string error;
    Impl* impl = impl_.get();
    impl_->link = agent::ServerLink::create(
        std::move(server), impl_->engine.policy(),
        [impl](std::shared_ptr<const Policy> p) { impl->engine.set_policy(std::move(p)); },
        [impl] { return agent::counters_json(impl->counters); }, &error);
    if (!impl_->link) {
      std::fprintf(stderr, "vigil: server %s: %s; events stay local\n", o.server_url.c_str(),
                   error.c_str());
    } else {
      impl_->events->set_sink(impl_->link.get());
      impl_->link->set_exit_hook([impl] { impl->events->flush(1000); });
      impl_->link->start();
    }
  }
  if (!o.status_path.empty()) impl_->events->set_status_writer(&Impl::write_status, impl_.get());
  // The writer's tick keeps the status file fresh and lets a follower see policy changes.
  if (!o.status_path.empty() || impl_->link) impl_->events->start();
}

Agent::~Agent() {
  impl_->events->flush(2000);
  if (impl_->link) impl_->link->stop(std::chrono::milliseconds(2000));
  if (!impl_->options.status_path.empty()) Impl::write_status(impl_.get());
  impl_->events.reset();  // stops the writer
  impl_->link.reset();
}

void Agent::set_policy(std::shared_ptr<const Policy> policy) { impl_->engine.set_policy(std::move(policy)); }

const Engine& Agent::engine() const { return impl_->engine; }

AgentCounters Agent::counters() const {
  const agent::Counters& c = impl_->counters;
  auto get = [](const agent::ShardedCounter& v) { return v.load(); };
  AgentCounters out;
  out.requests = get(c.requests);
  out.sinks = get(c.sinks);
  out.detections = get(c.detections);
  out.blocked = get(c.blocked);
  out.events = get(c.events);
  out.drops = get(c.drops);
  out.write_errors = get(c.write_errors);
  out.fail_opens = get(c.fail_opens);
  out.budget_overruns = get(c.budget_overruns);
  if (impl_->link) out.policy_version = impl_->link->policy_version();
  return out;
}

void Agent::flush() { impl_->events->flush(5000); }

std::string Agent::server_counters() const {
  return impl_->link ? impl_->link->counters_fragment() : std::string();
}

SinkResult Agent::check(const Sink& sink, std::string_view function) {
  SinkResult result;
  RequestScope* scope = t_scope;
  while (scope != nullptr && &scope->agent_ != this) scope = scope->previous_;
  if (scope == nullptr) return result;
  try {
    RequestScope::State& st = *scope->state_;
    bool was_blocked = st.blocked;
    scope->maybe_add_body();
    if (st.blocked && !was_blocked) {  // the late body's inputs got the request blocked
      result.block = true;
      result.event_id = st.block_event_id;
    }
    impl_->counters.sinks.fetch_add(1, std::memory_order_relaxed);
    Verdict v = impl_->engine.check_sink(sink, st.prepared, &st.ctx);
    if (v.failed_open) impl_->counters.fail_opens.fetch_add(1, std::memory_order_relaxed);
    if (!v.attack()) return result;
    result.attack = true;
    result.event_id.clear();
    result.reason = v.detections.front().reason;
    agent::RequestInfo info{impl_->options.app, st.method, st.id, &st.ctx};
    for (const Detection& d : v.detections) {
      bool block = d.mode == Mode::kBlock;
      result.block |= block;
      auto e = agent::event_from_detection(info, sink, function, d,
                                           block ? Outcome::kBlocked : Outcome::kExploited, {});
      if (result.event_id.empty()) result.event_id = e->event_id;
      if (block && st.block_event_id.empty()) st.block_event_id = e->event_id;
      impl_->push(std::move(e));
    }
    if (result.block) {
      if (!st.blocked) impl_->counters.blocked.fetch_add(1, std::memory_order_relaxed);
      st.blocked = true;
    }
  } catch (...) {
    impl_->counters.fail_opens.fetch_add(1, std::memory_order_relaxed);
    return SinkResult{};
  }
  return result;
}

SinkResult Agent::check_sql(Dialect dialect, std::string_view query, std::string_view function) {
  return check(Sink::sql(dialect, query), function);
}
SinkResult Agent::check_shell(std::string_view command, std::string_view function) {
  return check(Sink::of(SinkType::kShell, command), function);
}
SinkResult Agent::check_exec(std::span<const std::string_view> argv, std::string_view function) {
  return check(Sink::exec(argv), function);
}
SinkResult Agent::check_path(std::string_view path, std::string_view base, std::string_view function) {
  return check(Sink::of(SinkType::kPath, path, base), function);
}
SinkResult Agent::check_url(std::string_view url, std::string_view function) {
  return check(Sink::of(SinkType::kUrl, url), function);
}
SinkResult Agent::check_html(std::string_view html, std::string_view function) {
  return check(Sink::of(SinkType::kHtml, html), function);
}
static_assert(kCheckedHtmlBytes == agent::kMaxCheckedHtml,
              "the SDK checks as much HTML as the preload agent");

SinkResult Agent::check_encoded_html(std::string_view body, std::string_view content_encoding,
                                     std::string_view function) {
  // As much of it as the preload agent keeps (the limits' default, agent::kMaxCheckedHtml).
  std::string html;
  auto st =
      agent::BodyDecoder::decode(content_encoding, body, &html, agent::BodyDecoder::Limits{});
  if (st != agent::BodyDecoder::Status::kEnd && st != agent::BodyDecoder::Status::kFull)
    impl_->counters.fail_opens.fetch_add(1, std::memory_order_relaxed);
  if (html.empty()) return SinkResult{};
  return check_html(html, function);
}
SinkResult Agent::check_header(std::string_view header_lines, std::string_view function) {
  return check(Sink::of(SinkType::kHeader, header_lines), function);
}
SinkResult Agent::check_redirect(std::string_view target, std::string_view base, std::string_view function) {
  return check(Sink::of(SinkType::kRedirect, target, base), function);
}

RequestScope* RequestScope::current() noexcept { return t_scope; }

namespace {

bool from_body(Source s) { return s == Source::kBody || s == Source::kJson || s == Source::kMultipart; }

}  // namespace

// Runs input analysis on the scope's request; with `body_only`, reports only the findings of
// body inputs (the rest were reported when the scope began).
static void analyse(Agent::Impl& impl, RequestScope::State& st, bool body_only) {
  st.verdict = impl.engine.analyze_request(st.ctx, st.prepared);
  if (st.verdict.budget_exceeded) impl.counters.budget_overruns.fetch_add(1, std::memory_order_relaxed);
  if (st.verdict.failed_open) impl.counters.fail_opens.fetch_add(1, std::memory_order_relaxed);
  agent::RequestInfo info{impl.options.app, st.method, st.id, &st.ctx};
  auto inputs = st.ctx.inputs();
  bool blocking_reported = false;
  for (std::size_t i = 0; i < st.verdict.findings.size(); ++i) {
    Finding f = st.verdict.findings[i];
    if (body_only && (f.input < 0 || static_cast<std::size_t>(f.input) >= inputs.size() ||
                      !from_body(inputs[static_cast<std::size_t>(f.input)].source)))
      continue;
    bool blocking = st.verdict.block && static_cast<std::int32_t>(i) == st.verdict.blocking_finding;
    if (blocking) f.outcome = Outcome::kBlocked;
    auto e = agent::event_from_finding(info, f);
    if (blocking) {
      st.block_event_id = e->event_id;
      blocking_reported = true;
    }
    impl.push(std::move(e));
  }
  if (st.verdict.block && (blocking_reported || !body_only) && !st.blocked) {
    st.blocked = true;
    impl.counters.blocked.fetch_add(1, std::memory_order_relaxed);
  }
}

RequestScope::RequestScope(Agent& agent, const HttpRequest& request)
    : agent_(agent), state_(std::make_unique<State>()), previous_(t_scope) {
  t_scope = this;
  Agent::Impl& impl = *agent.impl_;
  State& st = *state_;
  impl.counters.requests.fetch_add(1, std::memory_order_relaxed);
  try {
    st.method = std::string(request.method);
    st.uri = std::string(request.uri);
    st.body = std::string(request.body);
    st.peer = std::string(request.peer);
    st.header_bytes.reserve(request.headers.size() * 2);
    for (const Header& h : request.headers) {
      st.header_bytes.emplace_back(h.name);
      st.header_bytes.emplace_back(h.value);
    }
    // Views are taken once every string is in place (the vector no longer moves).
    st.headers.reserve(request.headers.size());
    for (std::size_t i = 0; i + 1 < st.header_bytes.size(); i += 2)
      st.headers.push_back(Header{st.header_bytes[i], st.header_bytes[i + 1]});
    st.id = agent::new_event_id().substr(0, 16);
    const TrustedProxies& proxies = impl.options.trusted_proxies;
    st.ctx.parse(HttpRequest{st.method, st.uri, st.headers, st.body, st.peer},
                 proxies.cidrs.empty() ? nullptr : &proxies);
    st.prepared.reset(st.ctx.inputs());
    st.body_added = !st.body.empty();
    analyse(impl, st, false);
  } catch (const std::bad_alloc&) {
    impl.counters.fail_opens.fetch_add(1, std::memory_order_relaxed);
  }
}

RequestScope::~RequestScope() {
  // Scopes nest and unwind in order on one thread; restore the enclosing one.
  if (t_scope == this) t_scope = previous_;
}

const RequestVerdict& RequestScope::verdict() const { return state_->verdict; }
const RequestContext& RequestScope::context() const { return state_->ctx; }
bool RequestScope::blocked() const { return state_->blocked; }
const std::string& RequestScope::block_event_id() const {
  return state_->block_event_id.empty() ? state_->id : state_->block_event_id;
}
std::string RequestScope::block_body(bool json) const { return agent::block_body(block_event_id(), json); }

void RequestScope::add_body(std::string_view body) {
  State& st = *state_;
  if (st.body_added || body.empty()) return;
  st.body_added = true;
  Agent::Impl& impl = *agent_.impl_;
  try {
    st.body = std::string(body);
    const TrustedProxies& proxies = impl.options.trusted_proxies;
    st.ctx.parse(HttpRequest{st.method, st.uri, st.headers, st.body, st.peer},
                 proxies.cidrs.empty() ? nullptr : &proxies);
    st.prepared.reset(st.ctx.inputs());
    analyse(impl, st, true);
  } catch (const std::bad_alloc&) {
    impl.counters.fail_opens.fetch_add(1, std::memory_order_relaxed);
  }
}

void RequestScope::set_body_source(const std::string* body) { state_->body_source = body; }

void RequestScope::maybe_add_body() {
  const std::string* source = state_->body_source;
  if (source != nullptr && !state_->body_added && !source->empty()) add_body(*source);
}

}  // namespace vigil::sdk
