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

// Names of these sources are chosen by the client and reach code (keys, field names).
constexpr std::uint32_t source_bit(Source s) { return 1u << static_cast<unsigned>(s); }
constexpr std::uint32_t kNamedByClient = source_bit(Source::kQuery) | source_bit(Source::kBody) |
                                         source_bit(Source::kJson) | source_bit(Source::kCookie) |
                                         source_bit(Source::kMultipart);
bool name_is_input(Source s) { return (kNamedByClient & source_bit(s)) != 0; }

}  // namespace

RequestVerdict Engine::analyze_request(const RequestContext& request,
                                       const PreparedInputs& prepared) const noexcept {
  Counters::add(counters_->requests);
  RequestVerdict verdict;
  try {
    std::shared_ptr<const Policy> policy = policy_.load();
    // The budget runs from the first detector call: a request whose values the memo finds
    // clean (most of them) never reads the clock for it.
    Clock::time_point deadline{};
    std::string_view route = request.path();
    std::string_view client = request.client_ip();
    auto inputs = request.inputs();

    // Policy first: an allowed address is trusted, a denied one is stopped. Without IP lists
    // there is nothing to decide, and no clock to read for their expiry.
    const Policy::IpDecision ip = policy->has_ip_lists()
                                      ? policy->ip_decision(client, PolicyClock::now())
                                      : Policy::IpDecision::kNone;
    switch (ip) {
      case Policy::IpDecision::kAllow:
        return verdict;
      case Policy::IpDecision::kDeny: {
        Finding f;
        f.rule = "ip-denylist";
        f.outcome = Outcome::kBlocked;
        f.mode = Mode::kBlock;
        f.reason = "the client address " + std::string(client) + " is on the IP deny list";
        f.evidence = std::string(client);
        verdict.findings.push_back(std::move(f));
        break;
      }
      case Policy::IpDecision::kNone:
        break;
    }
    if (policy->virtual_patch_count() != 0)
      policy->match_virtual_patches(request, &verdict.findings);

    auto keep = [&](AttackClass cls, std::int32_t input, Mode* mode) {
      *mode = policy->mode_for(rule_name(cls));
      bool weak = cls == AttackClass::kScanner || cls == AttackClass::kProtocol;
      if (weak && *mode == Mode::kBlock && !policy->explicit_mode(rule_name(cls), mode))
        *mode = Mode::kMonitor;
      if (*mode == Mode::kOff) return false;
      Source source = input >= 0 ? inputs[input].source : Source::kOther;
      std::string_view name = input >= 0 ? inputs[input].name : std::string_view();
      return !policy->excluded(rule_name(cls), route, source, name, client);
    };

    // Input detectors over every decoded form of every input (and the names clients choose).
    const PreparedInputs::Impl* impl = prepared.impl();
    // Inputs convicted so far, one bit each: on the stack for any request within the default
    // input limit (a vector<bool> was the analysis' one allocation per request).
    constexpr std::size_t kStackWords = 16;
    const std::size_t words = (inputs.size() + 63) / 64;
    std::uint64_t stack_bits[kStackWords];
    std::vector<std::uint64_t> heap_bits;
    std::uint64_t* convicted = stack_bits;
    if (words > kStackWords) {
      heap_bits.assign(words, 0);
      convicted = heap_bits.data();
    } else {
      std::fill_n(stack_bits, words, 0);
    }
    auto is_convicted = [&](std::uint32_t i) { return (convicted[i / 64] >> (i % 64)) & 1; };
    unsigned calls = 0;
    bool over_budget = false;
    engine::CleanMemo::Key key;
    // The detectors over one candidate the memo does not know: out of line, so that the
    // usual path (a memo hit) does not pay for its frame.
    auto detect = [&](std::string_view value, std::uint32_t features, Form form,
                      std::uint32_t index, Source source, std::string_view name,
                      bool memo) __attribute__((noinline)) {
      const in::Candidate c{value, features, form, index, source, name};
      bool fired = false;
      for (const in::InputDetectorInfo& d : in::input_detectors()) {
        if ((d.prefilter && !(c.features & d.prefilter)) || value.size() < d.min_length) continue;
        if (calls++ == 0) {
          deadline = Clock::now() + policy->budget();
        } else if (calls % kClockStride == 0 && Clock::now() > deadline) {
          over_budget = true;
          return;
        }
        in::Hit hit;
        if (!d.fn(c, &hit)) continue;
        fired = true;
        Mode mode;
        if (!keep(d.cls, static_cast<std::int32_t>(index), &mode)) continue;
        verdict.findings.push_back(make_finding(d.cls, hit, static_cast<std::int32_t>(index), form, mode));
        convicted[index / 64] |= std::uint64_t{1} << (index % 64);
        return;
      }
      if (memo && !fired) memo_->insert(key);
    };
    auto run = [&](std::string_view value, std::uint32_t features, Form form,
                   std::uint32_t index, bool is_name) {
      if (is_convicted(index) || value.empty()) return;
      // A short plain word ("lamp", "42", a User-Agent "wrk") is provably clean: cheaper to see
      // than to look up.
      if (features == 0 && in::plain_word_is_clean(value)) return;
      const Source source = inputs[index].source;
      const std::string_view name = is_name ? std::string_view() : inputs[index].name;
      bool memo = false;
      if (memo_ != nullptr && memo_->lookup(&key, source, name, form, value, &memo)) return;
      detect(value, features, form, index, source, name, memo);
    };
    if (impl != nullptr) {
      for (const auto& entry : impl->entries) {
        if (over_budget) break;
        if (entry.form == Form::kQuoteDoubled || entry.input >= inputs.size()) continue;
        run(entry.text, entry.features, entry.form, entry.input, false);
      }
    }
    for (std::uint32_t i = 0; i < inputs.size() && !over_budget; ++i) {
      if (name_is_input(inputs[i].source) && inputs[i].name.size() >= 3)
        run(inputs[i].name, in::features_of(inputs[i].name), Form::kRaw, i, true);
    }

    // Request-level signals.
    in::RequestSignals signals{request.method(), request.path(), request.user_agent(),
                               request.anomalies()};
    Mode mode;
    // A client sends the same User-Agent with every request: a clean pair is remembered like a
    // clean input value.
    bool signals_memo = false;
    if (!(memo_ != nullptr &&
          memo_->lookup_signals(&key, signals.user_agent, signals.path, &signals_memo))) {
      in::Hit hit;
      if (in::detect_scanner(signals, &hit)) {
        if (keep(AttackClass::kScanner, -1, &mode)) {
          verdict.findings.push_back(
              make_finding(AttackClass::kScanner, hit, -1, Form::kRaw, mode));
        }
      } else if (signals_memo) {
        memo_->insert(key);
      }
    }
    if (signals.anomalies != 0) {  // a well-formed request has nothing to report here
      in::Hit hit;
      if (in::detect_protocol_anomaly(signals, &hit) && keep(AttackClass::kProtocol, -1, &mode))
        verdict.findings.push_back(make_finding(AttackClass::kProtocol, hit, -1, Form::kRaw, mode));
    }

    if (over_budget) {
      verdict.budget_exceeded = true;
      Counters::add(counters_->budget_overruns);
      Finding f;
      f.rule = "analysis-budget";
      f.outcome = Outcome::kSuspicious;
      f.mode = Mode::kMonitor;
      f.reason = "input analysis stopped at the " +
                 std::to_string(policy->budget().count()) +
                 " us budget; the request proceeded unchecked past that point (fail open)";
      verdict.findings.push_back(std::move(f));
    }
    for (std::size_t i = 0; i < verdict.findings.size(); ++i) {
      if (verdict.findings[i].mode == Mode::kBlock) {
        verdict.block = true;
        verdict.blocking_finding = static_cast<std::int32_t>(i);
        break;
      }
    }
    Counters::add(counters_->findings, verdict.findings.size());
  } catch (...) {
    verdict = RequestVerdict{};
    verdict.failed_open = true;
    Counters::add(counters_->fail_opens);
  }
  return verdict;
}

}  // namespace vigil
