#include "core/engine/prepared.hpp"

#include <algorithm>
#include <array>

#include "core/common/ascii.hpp"
#include "core/decode/decode.hpp"

namespace vigil {
namespace {

constexpr std::uint8_t kAllSinks = 0xFF;
constexpr std::uint8_t sink_bit(SinkType t) { return std::uint8_t(1u << static_cast<int>(t)); }

// What a value holds that a decoder or a form acts on: one table lookup per byte decides which
// of the (mostly idle) decoders can change it, instead of one scan per decoder.
enum Trait : std::uint8_t {
  kPercentPlus = 1u << 0,  // % or + (URL decoding)
  kAmpersand = 1u << 1,    // & (HTML entities)
  kBackslash = 1u << 2,    // \ (JSON escapes)
  kApostrophe = 1u << 3,   // ' (quote doubling)
  kNul = 1u << 4,          // NUL (C-string truncation)
  kUpper = 1u << 5,        // A-Z (case folding)
};

constexpr std::array<std::uint8_t, 256> kTraits = [] {
  std::array<std::uint8_t, 256> t{};
  t['%'] = t['+'] = kPercentPlus;
  t['&'] = kAmpersand;
  t['\\'] = kBackslash;
  t['\''] = kApostrophe;
  t[0] = kNul;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kUpper;
  return t;
}();

std::uint8_t traits_of(std::string_view v) { return common::or_over_bytes(kTraits, v); }

bool has_upper(std::string_view s) { return (traits_of(s) & kUpper) != 0; }

bool edge_space(std::string_view v) {
  return !v.empty() && (common::is_space(v.front()) || common::is_space(v.back()));
}

}  // namespace

std::string* PreparedInputs::Impl::scratch() {
  if (storage_used == storage.size()) storage.emplace_back();
  std::string* s = &storage[storage_used++];
  s->clear();
  return s;
}

void PreparedInputs::Impl::build(std::span<const Input> inputs) {
  entries.clear();
  storage_used = 0;
  for (std::uint32_t index = 0; index < inputs.size(); ++index) {
    std::string_view value = inputs[index].value;
    const std::uint8_t traits = traits_of(value);
    std::size_t first_entry = entries.size();

    auto add = [&](Form form, std::string_view text, std::uint8_t mask, bool upper) {
      if (text.empty()) return;
      for (std::size_t k = first_entry; k < entries.size(); ++k) {
        if (entries[k].text == text) {
          entries[k].sink_mask |= mask;
          return;
        }
      }
      std::string_view fold = text;
      if (upper) {
        std::string* f = scratch();
        *f = common::folded(text);
        fold = *f;
      }
      entries.push_back(Entry{index, form, text, fold, mask});
    };
    // A decoder writes into a fresh scratch string; it stays allocated for the next request.
    auto decoded = [&](auto&& fn, std::string_view in) -> std::string_view {
      std::string* s = scratch();
      if (fn(in, s)) return *s;
      --storage_used;
      return {};
    };
    const bool upper = (traits & kUpper) != 0;

    add(Form::kRaw, value, kAllSinks, upper);
    if (traits & kPercentPlus) {
      std::string_view url1 = decoded(
          [](std::string_view in, std::string* o) { return decode::url_decode(in, true, o); },
          value);
      if (!url1.empty()) {
        add(Form::kUrlDecoded, url1, kAllSinks, has_upper(url1));
        std::string_view url2 = decoded(
            [](std::string_view in, std::string* o) { return decode::url_decode(in, true, o); },
            url1);
        if (!url2.empty()) add(Form::kUrlDecoded2, url2, kAllSinks, has_upper(url2));
      }
    }
    if (traits & kAmpersand) {
      std::string_view html = decoded(
          [](std::string_view in, std::string* o) { return decode::html_entity_decode(in, o); },
          value);
      if (!html.empty()) add(Form::kHtmlDecoded, html, kAllSinks, has_upper(html));
    }
    if (traits & kBackslash) {
      std::string_view json = decoded(
          [](std::string_view in, std::string* o) { return decode::json_unescape(in, o); },
          value);
      if (!json.empty()) add(Form::kJsonUnescaped, json, kAllSinks, has_upper(json));
    }
    if (edge_space(value)) add(Form::kTrimmed, common::trim(value), kAllSinks, upper);
    // An application that "escapes" by doubling quotes but keeps backslashes (a classic MySQL
    // mistake) puts this form in its SQL; a backslash before the doubled quote escapes one of
    // them and the input breaks out.
    if (traits & kApostrophe) {
      std::string* s = scratch();
      s->reserve(value.size() + 8);
      for (std::size_t at = 0;;) {
        const std::size_t quote = value.find('\'', at);
        if (quote == std::string_view::npos) {
          s->append(value.substr(at));
          break;
        }
        s->append(value.substr(at, quote + 1 - at));
        s->push_back('\'');
        at = quote + 1;
      }
      add(Form::kQuoteDoubled, *s, sink_bit(SinkType::kSql), upper);
    }
    // C string APIs stop at the first NUL: what reaches the database or the shell is the part
    // before it (the rest is how payloads slip past filters that see the whole value).
    if (traits & kNul) {
      if (std::size_t nul = value.find('\0'); nul != std::string_view::npos && nul > 0) {
        std::string_view head = value.substr(0, nul);
        add(Form::kNulTruncated, head,
            sink_bit(SinkType::kSql) | sink_bit(SinkType::kShell) | sink_bit(SinkType::kExec),
            has_upper(head));
      }
    }
  }
}

PreparedInputs::PreparedInputs(std::span<const Input> inputs)
    : inputs_(inputs), impl_(std::make_unique<Impl>()) {
  impl_->build(inputs);
}
PreparedInputs::PreparedInputs() = default;
PreparedInputs::PreparedInputs(PreparedInputs&&) noexcept = default;
PreparedInputs& PreparedInputs::operator=(PreparedInputs&&) noexcept = default;
PreparedInputs::~PreparedInputs() = default;

void PreparedInputs::reset(std::span<const Input> inputs) {
  inputs_ = inputs;
  if (!impl_) impl_ = std::make_unique<Impl>();
  impl_->build(inputs);
}

}  // namespace vigil
