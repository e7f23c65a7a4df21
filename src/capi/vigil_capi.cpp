// extern "C" wrappers over the C++ engine. Every entry point catches everything: no C++
// exception may cross into a C caller.
#include <new>
#include <string>
#include <vector>

#include "vigil/engine.hpp"
#include "vigil/vigil.h"

struct vigil_engine {
  vigil::Engine engine;
};

struct vigil_verdict {
  vigil::Verdict verdict;
  std::string explanation;
};

namespace {

std::string_view view(const char* p, std::size_t n) {
  return p == nullptr ? std::string_view() : std::string_view(p, n);
}

}  // namespace

extern "C" {

const char* vigil_version(void) { return "0.1.0"; }

vigil_status vigil_engine_create(vigil_engine** out) {
  if (out == nullptr) return VIGIL_ERR_INVALID_ARGUMENT;
  *out = new (std::nothrow) vigil_engine();
  return *out ? VIGIL_OK : VIGIL_ERR_NO_MEMORY;
}

void vigil_engine_destroy(vigil_engine* engine) { delete engine; }

vigil_status vigil_sink_check(const vigil_engine* engine, const vigil_sink* sink,
                              const vigil_input* inputs, size_t n, vigil_verdict** out) {
  if (engine == nullptr || sink == nullptr || out == nullptr || (inputs == nullptr && n > 0) ||
      static_cast<unsigned>(sink->type) > VIGIL_SINK_REDIRECT ||
      (sink->type == VIGIL_SINK_EXEC && sink->argc > 0 &&
       (sink->argv == nullptr || sink->argv_lens == nullptr)))
    return VIGIL_ERR_INVALID_ARGUMENT;
  *out = nullptr;
  try {
    std::vector<vigil::Input> in(n);
    for (size_t i = 0; i < n; ++i) {
      unsigned source = static_cast<unsigned>(inputs[i].source);
      in[i].source = source <= VIGIL_SOURCE_OTHER ? static_cast<vigil::Source>(source)
                                                  : vigil::Source::kOther;
      in[i].name = view(inputs[i].name, inputs[i].name_len);
      in[i].value = view(inputs[i].value, inputs[i].value_len);
    }
    std::vector<std::string_view> argv;
    vigil::Sink s;
    s.type = static_cast<vigil::SinkType>(sink->type);
    s.dialect = vigil::parse_dialect(sink->dialect ? sink->dialect : "");
    s.value = view(sink->value, sink->value_len);
    s.base = view(sink->base, sink->base_len);
    if (sink->type == VIGIL_SINK_EXEC) {
      for (size_t i = 0; i < sink->argc; ++i) argv.push_back(view(sink->argv[i], sink->argv_lens[i]));
      s.argv = argv;
    }
    auto* v = new vigil_verdict();
    v->verdict = engine->engine.check_sink(s, in);
    v->explanation = vigil::describe(s, in, v->verdict);
    *out = v;
    return VIGIL_OK;
  } catch (const std::bad_alloc&) {
    return VIGIL_ERR_NO_MEMORY;
  } catch (...) {
    return VIGIL_ERR_INTERNAL;
  }
}

int vigil_verdict_is_attack(const vigil_verdict* v) { return v && v->verdict.attack() ? 1 : 0; }

int vigil_verdict_failed_open(const vigil_verdict* v) {
  return v && v->verdict.failed_open ? 1 : 0;
}

size_t vigil_verdict_count(const vigil_verdict* v) { return v ? v->verdict.detections.size() : 0; }

static const vigil::Detection* detection(const vigil_verdict* v, size_t i) {
  return (v && i < v->verdict.detections.size()) ? &v->verdict.detections[i] : nullptr;
}

const char* vigil_verdict_rule(const vigil_verdict* v, size_t i) {
  const auto* d = detection(v, i);
  return d ? d->rule.c_str() : nullptr;
}
const char* vigil_verdict_cwe(const vigil_verdict* v, size_t i) {
  const auto* d = detection(v, i);
  return d ? d->cwe.c_str() : nullptr;
}
const char* vigil_verdict_reason(const vigil_verdict* v, size_t i) {
  const auto* d = detection(v, i);
  return d ? d->reason.c_str() : nullptr;
}

vigil_status vigil_verdict_span(const vigil_verdict* v, size_t i, size_t* input, size_t* element,
                                size_t* begin, size_t* end) {
  const auto* d = detection(v, i);
  if (d == nullptr) return VIGIL_ERR_INVALID_ARGUMENT;
  if (input) *input = d->input;
  if (element) *element = d->element;
  if (begin) *begin = d->begin;
  if (end) *end = d->end;
  return VIGIL_OK;
}

const char* vigil_verdict_explanation(const vigil_verdict* v) {
  return v ? v->explanation.c_str() : nullptr;
}

void vigil_verdict_destroy(vigil_verdict* v) { delete v; }

}  // extern "C"
