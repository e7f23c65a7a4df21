#include <algorithm>
#include <iterator>
#include <memory>
#include <span>

#include "core/common/ascii.hpp"
#include "core/detect/detector.hpp"
#include "core/detect/input/input_detector.hpp"
#include "core/detect/occurrence.hpp"
#include "core/engine/clean_memo.hpp"
#include "core/engine/counters.hpp"
#include "core/engine/prepared.hpp"
#include "vigil/engine.hpp"
#include "vigil/policy.hpp"
#include "vigil/request.hpp"

namespace vigil {
namespace {

// Whether a form of an input holds a CR or LF (its features were read as it was prepared):
// without one, no input split a header value.
bool any_line_break(const PreparedInputs::Impl& prepared) {
  for (const auto& e : prepared.entries)
    if (e.features & detect::input::kCrLf) return true;
  return false;
}

// Operations up to this size are case-folded on the stack; longer ones on the heap.
constexpr std::size_t kStackFold = 4096;
// Occurrences a sink call keeps on the stack; more go to a thread's reused vector.
constexpr std::size_t kInlineOccurrences = 64;
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

// The occurrences of one sink call: the usual few on the stack (no thread-local look-up, no
// allocation); beyond kInlineOccurrences, a vector per thread, reused by every call (nothing
// calls check_sink from inside it) and given back after a call that made it unusually large.
class Occurrences {
 public:
  Occurrences() {}
  Occurrences(const Occurrences&) = delete;
  Occurrences& operator=(const Occurrences&) = delete;
  ~Occurrences() {
    if (spill_ != nullptr) [[unlikely]]
      release();
  }

  void push(const detect::Occurrence& o) {
    if (size_ < kInlineOccurrences) [[likely]] {
      u_.inline_[size_++] = o;
      return;
    }
    spill(o);
  }
  std::span<detect::Occurrence> all() noexcept {
    if (spill_ != nullptr) [[unlikely]]
      return {spill_->data(), spill_->size()};
    return {u_.inline_, size_};
  }

 private:
  static std::vector<detect::Occurrence>& spilled() noexcept {
    thread_local std::vector<detect::Occurrence> v;
    return v;
  }
  __attribute__((noinline, cold)) void spill(const detect::Occurrence& o) {
    if (spill_ == nullptr) {
      std::vector<detect::Occurrence>& v = spilled();
      v.assign(u_.inline_, u_.inline_ + size_);
      spill_ = &v;  // after assign: a bad_alloc leaves the call on the inline occurrences
    }
    spill_->push_back(o);
  }
  __attribute__((noinline, cold)) void release() noexcept {
    spill_->clear();
    if (spill_->capacity() > kKeptOccurrences) std::vector<detect::Occurrence>().swap(*spill_);
  }

  union Inline {
    Inline() {}  // left uninitialised: only the first size_ are read
    detect::Occurrence inline_[kInlineOccurrences];
  } u_;
  std::size_t size_ = 0;
  std::vector<detect::Occurrence>* spill_ = nullptr;
};

// What search_text needs besides the text and the needles.
struct SearchOptions {
  bool fold_case;
  std::uint8_t sink_bit;
  std::size_t min_length;
  std::string_view single_bytes;
  std::size_t max_per_input;
};

// What search_text looks for in a sink of `type`: the forms its detector reads, in its case.
SearchOptions search_options(const detect::DetectorInfo& detector, SinkType type,
                             const EngineOptions& engine) noexcept {
  return SearchOptions{detector.case_insensitive, std::uint8_t(1u << static_cast<int>(type)),
                       engine.min_input_length, detector.single_bytes,
                       engine.max_occurrences_per_input};
}

// One form searched on its own (a single byte, or longer than a batch needle takes); out of
// line, rare. With `fold_case`, in a folded copy of the text.
__attribute__((noinline)) bool search_one(std::string_view text, std::uint32_t element,
                                          const SearchOptions& o,
                                          const PreparedInputs::Impl::Entry& entry,
                                          Occurrences* out) {
  FoldBuffer buffer;
  const std::string_view needle = o.fold_case ? entry.folded : entry.text;
  const std::string_view haystack = o.fold_case ? buffer.fold(text) : text;
  std::size_t found = detect::find_all(haystack, needle, o.max_per_input, [&](std::uint32_t pos) {
    out->push(detect::Occurrence{entry.input, entry.form, element, pos,
                                 pos + static_cast<std::uint32_t>(needle.size())});
  });
  return found <= o.max_per_input;
}

// A batch whose matches did not fit one find_batch call, or exceed the limit for some needle:
// searched again with a count per needle. Out of line, rare.
__attribute__((noinline)) bool search_batch_counted(
    std::string_view text, std::uint32_t element, const SearchOptions& o,
    const std::string_view* needles, const PreparedInputs::Impl::Entry* const* entries,
    std::size_t count, Occurrences* out) {
  std::size_t counts[detect::kMaxBatch];
  detect::find_all_batch(
      text, needles, count, o.max_per_input, counts,
      [&](std::uint32_t k, std::uint32_t pos) {
        const auto& e = *entries[k];
        out->push(detect::Occurrence{e.input, e.form, element, pos,
                                     pos + static_cast<std::uint32_t>(needles[k].size())});
      },
      o.fold_case);
  bool complete = true;
  for (std::size_t k = 0; k < count; ++k)
    if (counts[k] > o.max_per_input) complete = false;
  return complete;
}

// The occurrences of a batch of 1..kMaxBatch needles (entries[k]'s form is needles[k]) in one
// pass over the text. Returns false when an occurrence limit was hit.
inline __attribute__((always_inline)) bool search_batch(
    std::string_view text, std::uint32_t element, const SearchOptions& o,
    const std::string_view* needles, const PreparedInputs::Impl::Entry* const* entries,
    std::size_t count, Occurrences* out) {
  // Nearly always one call finds every match, within every needle's limit.
  detect::Match matches[detect::kMaxBatch * 32];
  std::size_t next = text.size();
  const std::size_t n = detect::find_batch(text, needles, count, 0, matches, std::size(matches),
                                           &next, o.fold_case);
  if (next < text.size() || n > o.max_per_input) [[unlikely]]
    return search_batch_counted(text, element, o, needles, entries, count, out);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t k = matches[i].needle, pos = matches[i].position;
    out->push(detect::Occurrence{entries[k]->input, entries[k]->form, element, pos,
                                 pos + static_cast<std::uint32_t>(needles[k].size())});
  }
  return true;
}

// Searches every applicable input form in one operation text; appends occurrences.
// Returns false when an occurrence limit was hit (or the text is too long to analyse). Forms of
// 2..32 bytes (nearly all) are searched in batches, one pass over the text per batch; the others
// one at a time. With `fold_case` the batches fold the text as they read it; a folded copy is
// made only for the other forms.
__attribute__((aligned(64))) bool search_text(std::string_view text, std::uint32_t element,
                                              const SearchOptions& o,
                                              const PreparedInputs::Impl& prepared,
                                              Occurrences* out) {
  // Operations beyond 4 GiB cannot be addressed by 32-bit offsets; they are not analysed.
  if (text.size() >= UINT32_MAX) [[unlikely]]
    return false;
  bool complete = true;
  // Filled as needles are batched: the union keeps the views from being zeroed on every call.
  union Batch {
    Batch() {}
    std::string_view needles[detect::kMaxBatch];
  } storage;
  std::string_view* batch = storage.needles;
  const PreparedInputs::Impl::Entry* batch_entries[detect::kMaxBatch];
  auto entry = prepared.entries.begin();
  const auto end = prepared.entries.end();
  for (;;) {
    std::size_t batched = 0;
    for (; entry != end && batched < detect::kMaxBatch; ++entry) {
      if (!(entry->sink_mask & o.sink_bit)) continue;
      const std::size_t size = entry->text.size();
      if (size >= 2 && size <= detect::kMaxBatchNeedle && size >= o.min_length) [[likely]] {
        batch[batched] = o.fold_case ? entry->folded : entry->text;
        batch_entries[batched++] = &*entry;
        continue;
      }
      // Too short (searched only when a single byte the sink cares about) or too long for a
      // batch.
      if (size < o.min_length &&
          !(size == 1 && o.single_bytes.find(entry->text[0]) != std::string_view::npos))
        continue;
      complete &= search_one(text, element, o, *entry, out);
    }
    if (batched > 0) complete &= search_batch(text, element, o, batch, batch_entries, batched, out);
    if (entry == end) return complete;
  }
}

// Sorted as SinkCheck::occurrences says; out of line: nearly every call has at most one.
__attribute__((noinline)) void sort_occurrences(std::span<detect::Occurrence> all) {
  std::sort(all.begin(), all.end(), [](const detect::Occurrence& a, const detect::Occurrence& b) {
    if (a.element != b.element) return a.element < b.element;
    if (a.begin != b.begin) return a.begin < b.begin;
    return a.end > b.end;
  });
}

// One detection per input: the first the detector made for it. The policy decides the mode;
// excluded inputs (declared false positives) are dropped. Out of line: nearly every sink call
// has no detection.
__attribute__((noinline)) void keep_detections(const Engine& engine,
                                               const detect::DetectorInfo& detector,
                                               const PreparedInputs& inputs,
                                               const RequestContext* request,
                                               std::vector<Detection>* found, Verdict* verdict) {
  std::shared_ptr<const Policy> policy = engine.policy();
  for (auto& d : *found) {
    bool dup = std::any_of(verdict->detections.begin(), verdict->detections.end(),
                           [&](const Detection& e) { return e.input == d.input; });
    if (dup) continue;
    if (d.rule.empty()) d.rule = std::string(detector.rule);
    if (d.cwe.empty()) d.cwe = std::string(detector.cwe);
    d.mode = policy->mode_for(d.rule);
    if (d.mode == Mode::kOff) continue;
    if (request != nullptr && d.input < inputs.inputs().size()) {
      const Input& in = inputs.inputs()[d.input];
      if (policy->excluded(d.rule, request->path(), in.source, in.name, request->client_ip()))
        continue;
    }
    verdict->detections.push_back(std::move(d));
  }
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

// Starts a cache line, as the functions it calls on every SQL sink check (search_text,
// detect::find_batch, detect::detect_sql, ...): the agent's code is read from memory on nearly
// every request, so each line of it that a call touches costs a miss.
__attribute__((aligned(64)))
Verdict Engine::check_sink(const Sink& sink, const PreparedInputs& inputs,
                           const RequestContext* request) const noexcept {
  Counters::add(counters_->sinks);
  Verdict verdict;
  const PreparedInputs::Impl* prepared = inputs.impl();
  if (prepared == nullptr || prepared->entries.empty()) return verdict;
  try {
    const detect::DetectorInfo* detector = detect::detector_for(sink.type);
    const SearchOptions options = search_options(*detector, sink.type, options_);
    Occurrences occurrences;
    bool complete;
    if (sink.type != SinkType::kExec) [[likely]] {
      complete = search_text(sink.value, 0, options, *prepared, &occurrences);
    } else {
      complete = true;
      for (std::uint32_t i = 0; i < sink.argv.size(); ++i)
        complete &= search_text(sink.argv[i], i, options, *prepared, &occurrences);
    }
    if (!complete) [[unlikely]] {
      Counters::add(counters_->fail_opens);
      verdict.failed_open = true;
      verdict.note = "occurrence limit reached; some occurrences were not analysed";
    }
    const std::span<detect::Occurrence> all = occurrences.all();
    std::vector<Detection> found;
    // The server may have rewritten what the application wrote, so that the input that acted
    // is not in it as written: WEBrick's absolute Location (detect_redirect also asks that
    // rule when the inputs that occur convict nothing), Puma's split header values.
    if (!all.empty()) {
      if (all.size() > 1) sort_occurrences(all);
      detector->fn(detect::SinkCheck{&sink, inputs.inputs(), all}, &found);
    } else if (sink.type == SinkType::kRedirect) [[unlikely]] {
      detect::detect_rewritten_redirect(sink, inputs.inputs(), &found);
    } else if (sink.type != SinkType::kHeader) [[likely]] {
      return verdict;
    }
    if (sink.type == SinkType::kHeader && found.empty() && any_line_break(*prepared)) [[unlikely]]
      detect::detect_split_header(sink, inputs.inputs(), &found);
    if (!found.empty()) [[unlikely]] {
      keep_detections(*this, *detector, inputs, request, &found, &verdict);
      Counters::add(counters_->detections, verdict.detections.size());
    }
  } catch (...) {
    verdict.detections.clear();
    verdict.failed_open = true;
    verdict.note = "internal error; the check failed open";
    Counters::add(counters_->fail_opens);
  }
  return verdict;
}

bool Engine::input_occurs_after(const Sink& sink, std::size_t from,
                                const PreparedInputs& inputs) const noexcept {
  const PreparedInputs::Impl* prepared = inputs.impl();
  if (prepared == nullptr || prepared->entries.empty() || from >= sink.value.size()) return false;
  try {
    const SearchOptions options =
        search_options(*detect::detector_for(sink.type), sink.type, options_);
    // An occurrence that ends after `from` begins at most the longest form before it.
    std::size_t longest = 0;
    for (const auto& e : prepared->entries)
      if (e.sink_mask & options.sink_bit) longest = std::max(longest, e.text.size());
    const std::size_t start = from > longest ? from - longest : 0;
    Occurrences occurrences;
    if (!search_text(sink.value.substr(start), 0, options, *prepared, &occurrences)) return true;
    for (const detect::Occurrence& o : occurrences.all())
      if (start + o.end > from) return true;
    return false;
  } catch (...) {
    return true;  // the caller then checks: failing toward a check, never toward a miss
  }
}

}  // namespace vigil
