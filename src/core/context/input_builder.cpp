#include "core/context/input_builder.hpp"

#include <array>
#include <cstdint>
#include <span>

#include "core/common/ascii.hpp"
#include "core/decode/decode.hpp"

namespace vigil::context {

void InputBuilder::reset(const RequestLimits& limits) {
  limits_ = limits;
  arena_.clear();
  used_ = 0;
  diagnostics_.clear();
  anomalies_ = 0;
  inputs_limit_reported_ = false;
}

bool InputBuilder::limit_reached() {
  if (!inputs_limit_reported_) {
    inputs_limit_reported_ = true;
    flag(kAnomalyLimitHit);
    diagnose("limit.inputs", "the request carries more than " +
                                 std::to_string(limits_.max_inputs) +
                                 " inputs; the rest were not analysed");
  }
  return false;
}

bool InputBuilder::append(const Entry& e) {
  entries_.push_back(e);
  ++used_;
  return true;
}

namespace {

// '%' and '+' (URL decoding); most values have neither and are views into the request.
enum UrlByte : std::uint8_t { kPercentByte = 1, kPlusByte = 2 };
constexpr std::array<std::uint8_t, 256> kUrlBytes = [] {
  std::array<std::uint8_t, 256> t{};
  t['%'] = kPercentByte;
  t['+'] = kPlusByte;
  return t;
}();

}  // namespace

Ref InputBuilder::decoded(std::string_view in, bool plus) {
  const std::uint8_t bytes = common::or_over_bytes(kUrlBytes, in);
  if (!(bytes & kPercentByte) && !(plus && (bytes & kPlusByte))) return Ref::of(in);
  // Malformed escapes are kept by decoders, as lenient application decoders keep them; they
  // are still worth a note for the suspicious-signal detectors.
  for (std::size_t i = in.find('%'); i != std::string_view::npos; i = in.find('%', i + 1)) {
    bool pair = i + 2 < in.size() && common::is_xdigit(in[i + 1]) && common::is_xdigit(in[i + 2]);
    bool iis = i + 5 < in.size() && (in[i + 1] == 'u' || in[i + 1] == 'U');
    if (!pair && !iis) {
      flag(kAnomalyBadPercent);
      break;
    }
  }
  thread_local std::string out;  // keeps its capacity from one input to the next
  if (!decode::url_decode(in, plus, &out)) return Ref::of(in);
  if (out.find('\0') != std::string::npos) flag(kAnomalyNulByte);
  return copy(out);
}

Ref InputBuilder::copy(std::string_view in) {
  Ref r{nullptr, arena_.size(), in.size()};
  arena_.append(in);
  return r;
}

Ref InputBuilder::concat(std::string_view prefix, Ref r) {
  const std::size_t begin = arena_.size();
  arena_.append(prefix);
  if (r.external != nullptr)
    arena_.append(r.external, r.size);
  else
    arena_.append(arena_, r.offset, r.size);  // from itself: append(str, pos, n) allows that
  return Ref{nullptr, begin, arena_.size() - begin};
}

void InputBuilder::diagnose(std::string code, std::string message) {
  // A hostile request could trigger the same diagnostic many times; one of each code is enough.
  for (const auto& d : diagnostics_)
    if (d.code == code) return;
  diagnostics_.push_back(RequestDiagnostic{std::move(code), std::move(message)});
}

void InputBuilder::finish(std::vector<Input>* inputs) {
  // resize() keeps the vector's capacity from one request to the next.
  inputs->resize(used_);
  const std::span<const Entry> entries(entries_.data(), used_);
  Input* out = inputs->data();
  if (arena_.empty()) {  // nothing decoded or built: every entry is a view into the request
    for (const Entry& e : entries)
      *out++ = Input{e.source, {e.name.external, e.name.size}, {e.value.external, e.value.size}};
    return;
  }
  for (const Entry& e : entries) *out++ = Input{e.source, view(e.name), view(e.value)};
}

std::string_view header_parameter(std::string_view header, std::string_view name) {
  std::size_t pos = header.find(';');
  while (pos != std::string_view::npos) {
    std::string_view rest = header.substr(pos + 1);
    std::size_t end = rest.find(';');
    std::string_view param = common::trim(rest.substr(0, end));
    std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && common::iequals(common::trim(param.substr(0, eq)), name)) {
      std::string_view value = common::trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"') {
        // A quoted value may itself contain ';': take up to the closing quote.
        std::string_view whole = header.substr(pos + 1 + (param.data() - rest.data()) + eq + 1);
        whole = common::trim(whole);
        std::size_t close = whole.find('"', 1);
        return close == std::string_view::npos ? whole.substr(1) : whole.substr(1, close - 1);
      }
      return value;
    }
    pos = end == std::string_view::npos ? end : pos + 1 + end;
  }
  return {};
}

namespace {

// One "name=value" pair (a pair without '=' is a name with an empty value); false when the
// input limit stopped it.
bool add_pair(std::string_view pair, Source source, InputBuilder* b, std::string_view prefix,
              bool may_decode) {
  const std::size_t eq = pair.find('=');
  const std::string_view name = pair.substr(0, eq);
  const std::string_view value =
      eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
  Ref n = may_decode ? b->decoded(name, true) : Ref::of(name);
  if (!prefix.empty()) n = b->concat(prefix, n);
  Ref v = may_decode ? b->decoded(value, true) : Ref::of(value);
  return b->add(source, n, v);
}

// parse_urlencoded() when a name or value may need decoding, or names get a prefix.
[[gnu::noinline]] void parse_urlencoded_general(std::string_view text, Source source,
                                                InputBuilder* b, std::string_view prefix,
                                                bool may_decode) {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t amp = text.find('&', start);
    std::string_view pair = text.substr(start, amp == std::string_view::npos ? amp : amp - start);
    if (!pair.empty() && !add_pair(pair, source, b, prefix, may_decode)) return;
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
}

}  // namespace

void parse_urlencoded(std::string_view text, Source source, InputBuilder* b,
                      std::string_view prefix, bool may_decode) {
  if (may_decode || !prefix.empty()) {
    parse_urlencoded_general(text, source, b, prefix, may_decode);
    if (text.find(';') != std::string_view::npos) [[unlikely]]
      add_semicolon_pairs(text, source, b, prefix, may_decode);
    return;
  }
  add_plain_pairs(text, source, b);
}

void add_semicolon_pairs(std::string_view text, Source source, InputBuilder* b,
                         std::string_view prefix, bool may_decode) {
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t amp = text.find('&', start);
    const std::string_view pair =
        text.substr(start, amp == std::string_view::npos ? amp : amp - start);
    if (pair.find(';') != std::string_view::npos) {
      std::size_t from = 0;
      while (from <= pair.size()) {
        // Rack's separator is /[&;] */: the spaces after one belong to it.
        while (from < pair.size() && pair[from] == ' ' && from > 0) ++from;
        const std::size_t semi = pair.find(';', from);
        const std::string_view piece =
            pair.substr(from, semi == std::string_view::npos ? semi : semi - from);
        if (!piece.empty() && !add_pair(piece, source, b, prefix, may_decode)) return;
        if (semi == std::string_view::npos) break;
        from = semi + 1;
      }
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
}

namespace {

// Python's http.cookies (Django) and Werkzeug (Flask) read a value that opens with a double
// quote as a quoted string: it runs to the next unescaped quote, past any ';', and its
// backslash escapes are undone (\ooo octal, \c the character). `b\047||\047ob` in quotes is
// b'||'ob to them; PHP, Node.js's cookie and Java end a value at ';' and keep the backslashes.
// `quoted` starts at the opening quote, `plain` is the value up to the ';'; adds that reading
// when it differs from the plain one (an escape, or a ';' inside the quotes).
[[gnu::cold, gnu::noinline]] bool add_quoted_cookie(std::string_view name, std::string_view quoted,
                                                    std::string_view plain, InputBuilder* b) {
  std::string value;
  bool escaped = false;
  for (std::size_t i = 1; i < quoted.size(); ++i) {
    const char c = quoted[i];
    if (c == '"') return (!escaped && i + 1 == plain.size()) ||
                         b->add(Source::kCookie, Ref::of(name), b->copy(value));
    if (c != '\\' || i + 1 >= quoted.size()) {
      value.push_back(c);
      continue;
    }
    escaped = true;
    const auto octal = [&](std::size_t k, char max) {
      return k < quoted.size() && quoted[k] >= '0' && quoted[k] <= max;
    };
    if (octal(i + 1, '3') && octal(i + 2, '7') && octal(i + 3, '7')) {
      value.push_back(static_cast<char>((quoted[i + 1] - '0') * 64 + (quoted[i + 2] - '0') * 8 +
                                        (quoted[i + 3] - '0')));
      i += 3;
    } else {
      value.push_back(quoted[++i]);
    }
  }
  return true;  // no closing quote: not a quoted string to them either
}

}  // namespace

void parse_cookies(std::string_view header, InputBuilder* b) {
  std::size_t start = 0;
  while (start < header.size()) {
    std::size_t semi = header.find(';', start);
    std::string_view pair = common::trim(
        header.substr(start, semi == std::string_view::npos ? semi : semi - start));
    if (!pair.empty()) {
      std::size_t eq = pair.find('=');
      std::string_view name = common::trim(pair.substr(0, eq));
      std::string_view value =
          eq == std::string_view::npos ? std::string_view() : common::trim(pair.substr(eq + 1));
      if (!value.empty() && value.front() == '"') [[unlikely]] {
        // The quoted string read to its end in the whole header, not only up to this ';'.
        const std::string_view from_quote = header.substr(value.data() - header.data());
        if (!add_quoted_cookie(name, from_quote, value, b)) return;
      }
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      // Frameworks percent-decode cookie values (without '+' as space).
      if (!b->add(Source::kCookie, Ref::of(name), b->decoded(value, false))) return;
    }
    if (semi == std::string_view::npos) break;
    start = semi + 1;
  }
}

}  // namespace vigil::context
