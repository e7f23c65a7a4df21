#include <algorithm>
#include <memory>

#include "core/common/ascii.hpp"
#include "core/detect/detector.hpp"
#include "core/detect/occurrence.hpp"
#include "core/engine/clean_memo.hpp"
#include "core/engine/counters.hpp"
#include "core/engine/prepared.hpp"
#include "vigil/engine.hpp"
#include "vigil/policy.hpp"
#include "vigil/request.hpp"

namespace vigil {
namespace {

// Operations up to this size are case-folded on the stack; longer ones on the heap.
constexpr std::size_t kStackFold = 4096;
// Occurrences a thread keeps room for between sink calls.
constexpr std::size_t kKeptOccurrences = 1024;

class FoldBuffer {
 public:
  std::string_view fold(std::string_view text) {
    char* dst = stack_;
    if (text.size() > kStackFold) {
      heap_.reset(new char[text.size()]);
      dst = heap_.get();
    }
    common::fold_ascii(text.data(), text.size(), dst);
    return {dst, text.size()};
  }

 private:
  char stack_[kStackFold];
  std::unique_ptr<char[]> heap_;
};

// Searches every applicable input form in one operation text; appends occurrences.
// Returns false when an occurrence limit was hit. Forms of 2..32 bytes (nearly all) are searched
// in batches, one pass over the text per batch; the others one at a time. With `fold_case` the
// batches fold the text as they read it; a folded copy is made only for the other forms.
bool search_text(std::string_view text, std::uint32_t element, bool fold_case,
                 std::uint8_t sink_bit, const PreparedInputs::Impl& prepared,
                 std::size_t min_length, std::string_view single_bytes, std::size_t max_per_input,
                 std::vector<detect::Occurrence>* out) {
  bool complete = true;
  FoldBuffer buffer;
  std::string_view folded;  // the folded copy, once a form needs it
  // Filled as needles are batched: the union keeps the views from being zeroed on every call.
  union Batch {
    Batch() {}
    std::string_view needles[detect::kMaxBatch];
  } storage;
  std::string_view* batch = storage.needles;
  const PreparedInputs::Impl::Entry* batch_entries[detect::kMaxBatch];
  std::size_t batched = 0;
  auto flush = [&] {
    std::size_t counts[detect::kMaxBatch];
    detect::find_all_batch(text, batch, batched, max_per_input, counts,
                           [&](std::uint32_t k, std::uint32_t pos) {
                             const auto& e = *batch_entries[k];
                             out->push_back(detect::Occurrence{
                                 e.input, e.form, element, pos,
                                 pos + static_cast<std::uint32_t>(batch[k].size())});
                           },
                           fold_case);
    for (std::size_t k = 0; k < batched; ++k)
      if (counts[k] > max_per_input) complete = false;
    batched = 0;
  };
  for (const auto& entry : prepared.entries) {
    if (!(entry.sink_mask & sink_bit)) continue;
    if (entry.text.size() < min_length &&
        !(entry.text.size() == 1 && single_bytes.find(entry.text[0]) != std::string_view::npos))
      continue;
    std::string_view needle = fold_case ? entry.folded : entry.text;
    if (needle.size() >= 2 && needle.size() <= detect::kMaxBatchNeedle) {
      batch[batched] = needle;
      batch_entries[batched] = &entry;
      if (++batched == detect::kMaxBatch) flush();
      continue;
    }
    if (fold_case && folded.data() == nullptr) folded = buffer.fold(text);
    const std::string_view haystack = fold_case ? folded : text;
    std::size_t found = detect::find_all(haystack, needle, max_per_input, [&](std::uint32_t pos) {
      out->push_back(detect::Occurrence{entry.input, entry.form, element, pos,
                                        pos + static_cast<std::uint32_t>(needle.size())});
    });
    if (found > max_per_input) complete = false;
  }
  if (batched > 0) flush();
  return complete;
}

}  // namespace

Engine::Engine(EngineOptions options) noexcept
    : options_(options), policy_(Policy::defaults()), counters_(std::make_unique<Counters>()) {
  // The first analysis in a process pays for page faults and cold caches on every detector's
  // code and tables (about half a millisecond): paid here, once, rather than by the first
  // request, which would otherwise run into the time budget and be let through unchecked.
  try {
    const Header headers[] = {{"User-Agent", "Mozilla/5.0 (warm-up) ${x}"},
                              {"Referer", "http://127.0.0.1/a?b=../c%0d%0a"},
                              {"Cookie", "s=<a href=javascript:x>"},
                              {"Content-Type", "application/json"}};
    HttpRequest warm{"POST",
                     "/w?q=x%27+OR+1%3D1+--+%3Bid+%7C+cat&u=http%3A%2F%2F127.0.0.1%2F&p=..%2F..%2Fetc",
                     headers, "{\"k\":{\"$ne\":\"*)(uid=*\"},\"t\":\"{{7*7}}<!--#exec-->\"}",
                     "192.0.2.1"};
    RequestContext context;
    context.parse(warm);
    PreparedInputs prepared;
    prepared.reset(context.inputs());
    (void)analyze_request(context, prepared);
  } catch (...) {
  }
  counters_ = std::make_unique<Counters>();
  // After the warm-up, so that its values are not remembered.
  if (options_.remember_clean_inputs) {
    try {
      memo_ = std::make_unique<engine::CleanMemo>();
    } catch (...) {
    }
  }
}
Engine::~Engine() = default;

void Engine::set_policy(std::shared_ptr<const Policy> policy) noexcept {
  policy_.store(policy ? std::move(policy) : Policy::defaults());
}

std::shared_ptr<const Policy> Engine::policy() const noexcept { return policy_.load(); }

EngineStats Engine::stats() const noexcept {
  EngineStats s;
  s.requests = counters_->requests.load(std::memory_order_relaxed);
  s.sinks = counters_->sinks.load(std::memory_order_relaxed);
  s.findings = counters_->findings.load(std::memory_order_relaxed);
  s.detections = counters_->detections.load(std::memory_order_relaxed);
  s.budget_overruns = counters_->budget_overruns.load(std::memory_order_relaxed);
  s.fail_opens = counters_->fail_opens.load(std::memory_order_relaxed);
  return s;
}

Verdict Engine::check_sink(const Sink& sink, std::span<const Input> inputs) const noexcept {
  try {
    PreparedInputs prepared(inputs);
    return check_sink(sink, prepared);
  } catch (...) {
    Verdict v;
    v.failed_open = true;
    Counters::add(counters_->fail_opens);
    return v;
  }
}

Verdict Engine::check_sink(const Sink& sink, const PreparedInputs& inputs,
                           const RequestContext* request) const noexcept {
  Counters::add(counters_->sinks);
  Verdict verdict;
  const PreparedInputs::Impl* prepared = inputs.impl();
  if (prepared == nullptr || prepared->entries.empty()) return verdict;
  try {
    const detect::DetectorInfo* detector = detect::detector_for(sink.type);
    const std::uint8_t bit = std::uint8_t(1u << static_cast<int>(sink.type));
    // One vector per thread, reused by every call (nothing calls check_sink from inside it); an
    // unusually large one is given back after its call.
    thread_local std::vector<detect::Occurrence> occurrences;
    occurrences.clear();
    struct Release {
      ~Release() {
        if (occurrences.capacity() > kKeptOccurrences)
          std::vector<detect::Occurrence>().swap(occurrences);
      }
    } release;
    bool complete = true;
    auto search = [&](std::string_view text, std::uint32_t element) {
      // Operations beyond 4 GiB cannot be addressed by 32-bit offsets; they are not analysed.
      if (text.size() >= UINT32_MAX) {
        complete = false;
        return;
      }
      complete &= search_text(text, element, detector->case_insensitive, bit, *prepared,
                              options_.min_input_length, detector->single_bytes,
                              options_.max_occurrences_per_input, &occurrences);
    };
    if (sink.type == SinkType::kExec) {
      for (std::uint32_t i = 0; i < sink.argv.size(); ++i) search(sink.argv[i], i);
    } else {
      search(sink.value, 0);
    }
    if (!complete) {
      Counters::add(counters_->fail_opens);
      verdict.failed_open = true;
      verdict.note = "occurrence limit reached; some occurrences were not analysed";
    }
    if (occurrences.empty()) return verdict;

    std::sort(occurrences.begin(), occurrences.end(),
              [](const detect::Occurrence& a, const detect::Occurrence& b) {
                if (a.element != b.element) return a.element < b.element;
                if (a.begin != b.begin) return a.begin < b.begin;
                return a.end > b.end;
              });
    detect::SinkCheck check{&sink, inputs.inputs(), occurrences};
    std::vector<Detection> found;
    detector->fn(check, &found);
    if (found.empty()) return verdict;

    // One detection per input: the first the detector made for it. The policy decides the
    // mode; excluded inputs (declared false positives) are dropped.
    std::shared_ptr<const Policy> policy = policy_.load();
    for (auto& d : found) {
      bool dup = std::any_of(verdict.detections.begin(), verdict.detections.end(),
                             [&](const Detection& e) { return e.input == d.input; });
      if (dup) continue;
      if (d.rule.empty()) d.rule = std::string(detector->rule);
      if (d.cwe.empty()) d.cwe = std::string(detector->cwe);
      d.mode = policy->mode_for(d.rule);
      if (d.mode == Mode::kOff) continue;
      if (request != nullptr && d.input < inputs.inputs().size()) {
        const Input& in = inputs.inputs()[d.input];
        if (policy->excluded(d.rule, request->path(), in.source, in.name, request->client_ip()))
          continue;
      }
      verdict.detections.push_back(std::move(d));
    }
    Counters::add(counters_->detections, verdict.detections.size());
  } catch (...) {
    verdict.detections.clear();
    verdict.failed_open = true;
    verdict.note = "internal error; the check failed open";
    Counters::add(counters_->fail_opens);
  }
  return verdict;
}

}  // namespace vigil
