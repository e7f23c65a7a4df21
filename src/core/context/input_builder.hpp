// Collects a request's inputs while the body parsers run. Values that need no decoding stay
// views into the request; decoded ones and built key paths go to one arena string. Because the
// arena may grow (and move) during parsing, entries keep offsets until finish() makes views.
#ifndef VIGIL_CORE_CONTEXT_INPUT_BUILDER_HPP_
#define VIGIL_CORE_CONTEXT_INPUT_BUILDER_HPP_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/request.hpp"

namespace vigil::context {

// A byte range either in the request (external) or in the arena.
struct Ref {
  const char* external = nullptr;
  std::size_t offset = 0;
  std::size_t size = 0;

  static Ref of(std::string_view v) { return Ref{v.data(), 0, v.size()}; }
};

class InputBuilder {
 public:
  void reset(const RequestLimits& limits);

  // Adds an input; returns false (once reporting the limit) when max_inputs is reached.
  bool add(Source source, Ref name, Ref value) {
    if (used_ >= limits_.max_inputs) [[unlikely]] return limit_reached();
    // Entries past used_ are the last request's, overwritten in place: a client's requests have
    // the same shape, so the vector rarely grows, and its growth code is not inlined at every
    // call (one per kind of input in every parser).
    if (used_ == entries_.size()) [[unlikely]] return append(Entry{source, name, value});
    entries_[used_++] = Entry{source, name, value};
    return true;
  }
  bool add(Source source, std::string_view name, std::string_view value) {
    return add(source, Ref::of(name), Ref::of(value));
  }

  // Percent-decodes `in` ('+' as space when `plus`) into the arena, or refers to it as is.
  Ref decoded(std::string_view in, bool plus);
  // Copies bytes into the arena.
  Ref copy(std::string_view in);
  // `prefix` followed by the bytes of `r`, in the arena.
  Ref concat(std::string_view prefix, Ref r);
  // Starts / extends / ends an arena string built piece by piece (key paths).
  std::size_t arena_size() const noexcept { return arena_.size(); }
  void append(std::string_view piece) { arena_.append(piece); }
  void truncate(std::size_t size) { arena_.resize(size); }
  Ref arena_range(std::size_t begin, std::size_t end) const { return Ref{nullptr, begin, end - begin}; }
  std::string_view view(Ref r) const {
    return r.external ? std::string_view(r.external, r.size)
                      : std::string_view(arena_).substr(r.offset, r.size);
  }

  void diagnose(std::string code, std::string message);
  void flag(std::uint32_t anomaly) { anomalies_ |= anomaly; }
  const RequestLimits& limits() const { return limits_; }

  // Turns the collected entries into Inputs (views valid until the next reset()).
  void finish(std::vector<Input>* inputs);
  // False when every input value is a view into bytes the caller has already examined (the
  // arena is empty): nothing was decoded, unescaped or built.
  bool arena_used() const noexcept { return !arena_.empty(); }

  std::uint32_t anomalies() const { return anomalies_; }
  std::vector<RequestDiagnostic>& diagnostics() { return diagnostics_; }
  // Inline: the agent asks for every request it keeps a context of.
  std::size_t memory_bytes() const {
    std::size_t n = arena_.capacity() + entries_.capacity() * sizeof(Entry);
    for (const auto& d : diagnostics_) n += sizeof d + d.code.capacity() + d.message.capacity();
    return n;
  }

 private:
  struct Entry {
    Source source;
    Ref name;
    Ref value;
  };
  bool limit_reached();
  [[gnu::noinline]] bool append(const Entry& e);

  RequestLimits limits_;
  std::string arena_;
  std::vector<Entry> entries_;
  std::size_t used_ = 0;  // entries_[0, used_) are this request's
  std::vector<RequestDiagnostic> diagnostics_;
  std::uint32_t anomalies_ = 0;
  bool inputs_limit_reported_ = false;
};

// Body and header parsers. Each adds inputs to the builder, reports what it could not parse,
// and runs in time linear in its input.
// `prefix` names inputs taken from inside another value ("referer?" + the parameter's name).
// `may_decode` false: the caller knows `text` holds no '%' and no '+', so every name and value
// is a view into it.
// A pair that holds ';' is also read split there, as Rack 2 (Debian's, under Sinatra and Rails
// before 7.1) and older Python and Go read queries: "q=zzz;q=x" is q=zzz and q=x to them, and
// only q="zzz;q=x" to a reader that splits on '&' alone.
void parse_urlencoded(std::string_view text, Source source, InputBuilder* b,
                      std::string_view prefix = {}, bool may_decode = true);
// The pairs of `text`'s '&'-pairs that hold ';', split there (parse_urlencoded's second reading).
void add_semicolon_pairs(std::string_view text, Source source, InputBuilder* b,
                         std::string_view prefix, bool may_decode);
// parse_urlencoded() for `text` that holds no '%' and no '+', without a prefix: every name and
// value is a view into it. Inline for the request target's query, the usual case. One byte
// loop finds the '&' and the first '=' of each pair: queries are short, and two memchr calls
// per pair cost more.
inline void add_plain_pairs(std::string_view text, Source source, InputBuilder* b) {
  const char* p = text.data();
  const std::size_t n = text.size();
  constexpr std::size_t kNone = std::string_view::npos;
  std::size_t start = 0, eq = kNone;
  for (std::size_t i = 0; i <= n; ++i) {
    if (i < n) {
      if (p[i] == '=' && eq == kNone) eq = i;
      if (p[i] != '&') continue;
    }
    if (i > start) {
      const std::string_view name(p + start, (eq == kNone ? i : eq) - start);
      const std::string_view value =
          eq == kNone ? std::string_view() : std::string_view(p + eq + 1, i - eq - 1);
      if (!b->add(source, name, value)) return;
    }
    start = i + 1;
    eq = kNone;
  }
  if (std::memchr(p, ';', n) != nullptr) [[unlikely]]
    add_semicolon_pairs(text, source, b, {}, false);
}
void parse_cookies(std::string_view header, InputBuilder* b);
// `sniffed`: the body declares another type and is read as this one because it looks so (a
// program may read it so); that it is not one is then no anomaly, and the declared type's
// reading already holds its bytes.
void parse_json_body(std::string_view body, InputBuilder* b, bool sniffed = false);
void parse_multipart_body(std::string_view body, std::string_view content_type, InputBuilder* b);
void parse_xml_body(std::string_view body, InputBuilder* b, bool sniffed = false);

// `body` without a leading UTF-8 byte order mark, which Python's json.loads (Flask's get_json)
// and XML parsers read past.
inline std::string_view after_bom(std::string_view body) {
  return body.starts_with("\xEF\xBB\xBF") ? body.substr(3) : body;
}

// The value of parameter `name` in a header like `multipart/form-data; boundary="x"`.
std::string_view header_parameter(std::string_view header, std::string_view name);

}  // namespace vigil::context

#endif  // VIGIL_CORE_CONTEXT_INPUT_BUILDER_HPP_
