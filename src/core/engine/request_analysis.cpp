// Engine::analyze_request: input analysis of one request under one policy snapshot.
#include <algorithm>
#include <chrono>

#include "core/detect/input/input_detector.hpp"
#include "core/engine/clean_memo.hpp"
#include "core/engine/counters.hpp"
#include "core/engine/prepared.hpp"
#include "vigil/analysis.hpp"
#include "vigil/policy.hpp"
#include "vigil/request.hpp"

namespace vigil {
namespace {

using Clock = std::chrono::steady_clock;
namespace in = detect::input;

// The clock is read every this many detector calls: an amortised deadline.
constexpr unsigned kClockStride = 16;

Finding make_finding(AttackClass cls, const in::Hit& hit, std::int32_t input, Form form, Mode mode) {
  Finding f;
  f.rule = std::string(rule_name(cls));
  f.cwe = std::string(class_cwe(cls));
  f.outcome = hit.suspicious ? Outcome::kSuspicious : Outcome::kProbed;
  f.mode = mode;
  f.input = input;
  f.form = form;
  f.reason = hit.reason;
  f.evidence = hit.evidence;
  return f;
}

// The policy's say on a finding of `cls` about input `input` (-1: the request): its mode, and
// false when the mode is off or an exclusion covers it.
// `strong`: a protocol anomaly that is an attack whatever else the request holds (an ambiguous
// body length), which the policy's mode governs as it does any other rule.
bool keep(const Policy& policy, AttackClass cls, std::span<const Input> inputs, std::int32_t input,
          std::string_view route, std::string_view client, Mode* mode, bool strong = false) {
  *mode = policy.mode_for(rule_name(cls));
  bool weak = !strong && (cls == AttackClass::kScanner || cls == AttackClass::kProtocol);
  if (weak && *mode == Mode::kBlock && !policy.explicit_mode(rule_name(cls), mode))
    *mode = Mode::kMonitor;
  if (*mode == Mode::kOff) return false;
  Source source = input >= 0 ? inputs[input].source : Source::kOther;
  std::string_view name = input >= 0 ? inputs[input].name : std::string_view();
  return !policy.excluded(rule_name(cls), route, source, name, client);
}

// The steps a usual request does not take are functions of their own, out of line and apart
// from the usual path: a request's analysis then runs through few code lines (it runs once per
// request, between the application's code, so every line it touches is an I-cache miss).

// IP lists and virtual patches (most policies have neither). True when the address is on the
// allow list: the request is trusted and not analysed.
[[gnu::cold, gnu::noinline]] bool screen(const Policy& policy, const RequestContext& request,
                                         std::string_view client, RequestVerdict* verdict) {
  // Without IP lists there is nothing to decide, and no clock to read for their expiry.
  const Policy::IpDecision ip = policy.has_ip_lists()
                                    ? policy.ip_decision(client, PolicyClock::now())
                                    : Policy::IpDecision::kNone;
  switch (ip) {
    case Policy::IpDecision::kAllow:
      return true;
    case Policy::IpDecision::kDeny: {
      Finding f;
      f.rule = "ip-denylist";
      f.outcome = Outcome::kBlocked;
      f.mode = Mode::kBlock;
      f.reason = "the client address " + std::string(client) + " is on the IP deny list";
      f.evidence = std::string(client);
      verdict->findings.push_back(std::move(f));
      break;
    }
    case Policy::IpDecision::kNone:
      break;
  }
  if (policy.virtual_patch_count() != 0)
    policy.match_virtual_patches(request, &verdict->findings);
  return false;
}

// The scanner check of a (User-Agent, path) pair the memo does not know.
// The client's address is read only here, for the policy's exclusions.
[[gnu::noinline]] void check_scanner(const Policy& policy, const in::RequestSignals& signals,
                                     std::span<const Input> inputs, const RequestContext& request,
                                     engine::CleanMemo* memo, const engine::CleanMemo::Key& key,
                                     bool signals_memo, RequestVerdict* verdict) {
  in::Hit hit;
  Mode mode;
  if (in::detect_scanner(signals, &hit)) {
    if (keep(policy, AttackClass::kScanner, inputs, -1, signals.path, request.client_ip(), &mode))
      verdict->findings.push_back(make_finding(AttackClass::kScanner, hit, -1, Form::kRaw, mode));
  } else if (signals_memo) {
    memo->insert(key);
  }
}

// A request with protocol anomalies.
[[gnu::cold, gnu::noinline]] void check_protocol(const Policy& policy,
                                                 const in::RequestSignals& signals,
                                                 std::span<const Input> inputs,
                                                 std::string_view client,
                                                 RequestVerdict* verdict) {
  in::Hit hit;
  Mode mode;
  // A body length that depends on who reads it is request smuggling, not a client's sloppiness:
  // blocked in block mode. The agent cannot know where the next request on the connection
  // starts, and a server may read one there that the agent does not.
  const bool smuggling = (signals.anomalies & kAnomalyAmbiguousLength) != 0;
  if (in::detect_protocol_anomaly(signals, &hit) &&
      keep(policy, AttackClass::kProtocol, inputs, -1, signals.path, client, &mode, smuggling)) {
    Finding f = make_finding(AttackClass::kProtocol, hit, -1, Form::kRaw, mode);
    if (smuggling) f.outcome = Outcome::kProbed;
    verdict->findings.push_back(std::move(f));
  }
}

[[gnu::cold, gnu::noinline]] void add_budget_finding(const Policy& policy,
                                                     RequestVerdict* verdict) {
  verdict->budget_exceeded = true;
  Finding f;
  f.rule = "analysis-budget";
  f.outcome = Outcome::kSuspicious;
  f.mode = Mode::kMonitor;
  f.reason = "input analysis stopped at the " + std::to_string(policy.budget().count()) +
             " us budget; the request proceeded unchecked past that point (fail open)";
  verdict->findings.push_back(std::move(f));
}

// The first finding in block mode blocks the request.
[[gnu::noinline]] void settle(RequestVerdict* verdict) {
  for (std::size_t i = 0; i < verdict->findings.size(); ++i) {
    if (verdict->findings[i].mode == Mode::kBlock) {
      verdict->block = true;
      verdict->blocking_finding = static_cast<std::int32_t>(i);
      break;
    }
  }
}

// What the input detectors' pass over one request shares. The steps below get it by one
// pointer: a lambda capturing a dozen locals by reference had its closure built on every
// request (four code lines of stores) for a detector call that a memo hit never makes.
struct Pass {
  const Policy& policy;
  std::span<const Input> inputs;
  std::string_view route, client;
  engine::CleanMemo* memo;
  RequestVerdict* verdict;
  std::uint64_t* convicted;  // one bit per input convicted so far
  unsigned calls = 0;
  bool over_budget = false;
  // The budget runs from the first detector call: a request whose values the memo finds
  // clean (most of them) never reads the clock for it.
  Clock::time_point deadline{};
  engine::CleanMemo::Key key;
};

// The detectors over one candidate the memo does not know: out of line, so that the usual
// path (a memo hit) does not pay for its frame.
[[gnu::noinline]] void detect(Pass& p, std::string_view value, std::uint32_t features, Form form,
                              std::uint32_t index, Source source, std::string_view name,
                              bool memo) {
  const in::Candidate c{value, features, form, index, source, name};
  bool fired = false;
  for (const in::InputDetectorInfo& d : in::input_detectors()) {
    if ((d.prefilter && !(c.features & d.prefilter)) || value.size() < d.min_length) continue;
    if (p.calls++ == 0) {
      p.deadline = Clock::now() + p.policy.budget();
    } else if (p.calls % kClockStride == 0 && Clock::now() > p.deadline) {
      p.over_budget = true;
      return;
    }
    in::Hit hit;
    if (!d.fn(c, &hit)) continue;
    fired = true;
    Mode mode;
    if (!keep(p.policy, d.cls, p.inputs, static_cast<std::int32_t>(index), p.route, p.client,
              &mode))
      continue;
    p.verdict->findings.push_back(
        make_finding(d.cls, hit, static_cast<std::int32_t>(index), form, mode));
    p.convicted[index / 64] |= std::uint64_t{1} << (index % 64);
    return;
  }
  if (memo && !fired) p.memo->insert(p.key);
}

// One candidate (a form of an input's value, or a name the client chose).
// `clean`: in::is_clean_word(value, features), as the inputs' entries have it.
[[gnu::always_inline]] inline void run(Pass& p, std::string_view value, std::uint32_t features,
                                       bool clean, Form form, std::uint32_t index) {
  if (((p.convicted[index / 64] >> (index % 64)) & 1) || value.empty()) return;
  // A short plain word ("lamp", "42", a User-Agent "wrk") is provably clean: cheaper to see
  // than to look up.
  if (clean) return;
  const Source source = p.inputs[index].source;
  const std::string_view name = form == Form::kName ? std::string_view() : p.inputs[index].name;
  bool memo = false;
  if (p.memo != nullptr && p.memo->lookup(&p.key, source, name, form, value, &memo)) return;
  detect(p, value, features, form, index, source, name, memo);
}

// A name the client chose, as a candidate: out of line (the value loop has the inline copy).
[[gnu::noinline]] void run_name(Pass& p, std::string_view name, std::uint32_t index) {
  const std::uint32_t features = in::features_of(name);
  run(p, name, features, in::is_clean_word(name, features), Form::kName, index);
}

// The input detectors over every candidate of a request; true when the budget ran out. Inline:
// a request with any value that is not a plain word (a browser's User-Agent) runs it, and a
// call of its own cost those more than the usual request, all plain words, gains from it.
[[gnu::always_inline]] inline bool analyze_inputs(const Policy& policy, std::span<const Input> inputs,
                                      const PreparedInputs::Impl* impl, std::string_view route,
                                      std::string_view client, engine::CleanMemo* memo,
                                      RequestVerdict* verdict) {
  // Inputs convicted so far, one bit each: on the stack for any request within the default
  // input limit (a vector<bool> was the analysis' one allocation per request).
  constexpr std::size_t kStackWords = 16;
  const std::size_t words = (inputs.size() + 63) / 64;
  std::uint64_t stack_bits[kStackWords];
  std::vector<std::uint64_t> heap_bits;
  std::uint64_t* convicted = stack_bits;
  if (words > kStackWords) [[unlikely]] {
    heap_bits.assign(words, 0);
    convicted = heap_bits.data();
  } else {
    std::fill_n(stack_bits, words, 0);
  }
  Pass pass{policy, inputs, route, client, memo, verdict, convicted, 0, false, {}, {}};
  if (impl != nullptr) {
    for (const auto& entry : impl->entries) {
      if (pass.over_budget) break;
      if (!form_is_analysed(entry.form) || entry.input >= inputs.size()) continue;
      run(pass, entry.text, entry.features, entry.clean_word, entry.form, entry.input);
    }
  }
  for (std::uint32_t i = 0; i < inputs.size() && !pass.over_budget; ++i) {
    if (name_is_analysed(inputs[i].source, inputs[i].name.size()))
      run_name(pass, inputs[i].name, i);
  }
  return pass.over_budget;
}

}  // namespace

RequestVerdict Engine::analyze_request(const RequestContext& request,
                                       const PreparedInputs& prepared) const noexcept {
  Counters::add(counters_->requests);
  RequestVerdict verdict;
  try {
    std::shared_ptr<const Policy> policy = policy_.load();
    std::string_view route = request.path();
    auto inputs = request.inputs();
    // The client's address (request.client_ip()) is read only on the paths that need it: the
    // usual request takes none of them.

    // Policy first: an allowed address is trusted, a denied one is stopped.
    if (policy->has_ip_lists() || policy->virtual_patch_count() != 0) [[unlikely]] {
      if (screen(*policy, request, request.client_ip(), &verdict)) return verdict;
    }

    // Input detectors over every decoded form of every input (and the names clients choose),
    // unless each of those is a plain word that none of them fires on.
    const PreparedInputs::Impl* impl = prepared.impl();
    const bool plain_words = impl != nullptr && impl->plain_words &&
                             prepared.inputs().data() == inputs.data() &&
                             prepared.inputs().size() == inputs.size();
    const bool over_budget =
        !plain_words &&
        analyze_inputs(*policy, inputs, impl, route, request.client_ip(), memo_.get(), &verdict);
    engine::CleanMemo::Key key;

    // Request-level signals.
    const in::RequestSignals signals{request.method(), route, request.user_agent(),
                                     request.anomalies()};
    // A client sends the same User-Agent with every request: a clean pair is remembered like a
    // clean input value.
    bool signals_memo = false;
    if (!(memo_ != nullptr &&
          memo_->lookup_signals(&key, signals.user_agent, signals.path, &signals_memo)))
      check_scanner(*policy, signals, inputs, request, memo_.get(), key, signals_memo, &verdict);
    // A well-formed request has nothing to report here.
    if (signals.anomalies != 0) [[unlikely]]
      check_protocol(*policy, signals, inputs, request.client_ip(), &verdict);

    if (over_budget) [[unlikely]] {
      add_budget_finding(*policy, &verdict);
      Counters::add(counters_->budget_overruns);
    }
    if (!verdict.findings.empty()) [[unlikely]] {
      settle(&verdict);
      Counters::add(counters_->findings, verdict.findings.size());
    }
  } catch (...) {
    verdict = RequestVerdict{};
    verdict.failed_open = true;
    Counters::add(counters_->fail_opens);
  }
  return verdict;
}

}  // namespace vigil
