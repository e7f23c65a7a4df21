#include "core/engine/prepared.hpp"

#include <algorithm>

#include "core/common/ascii.hpp"
#include "core/decode/decode.hpp"

namespace vigil {
namespace {

constexpr std::uint8_t kAllSinks = 0xFF;
constexpr std::uint8_t sink_bit(SinkType t) { return std::uint8_t(1u << static_cast<int>(t)); }

bool has_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
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
    std::size_t first_entry = entries.size();

    auto add = [&](Form form, std::string_view text, std::uint8_t mask) {
      if (text.empty()) return;
      for (std::size_t k = first_entry; k < entries.size(); ++k) {
        if (entries[k].text == text) {
          entries[k].sink_mask |= mask;
          return;
        }
      }
      std::string_view fold = text;
      if (has_upper(text)) {
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

    add(Form::kRaw, value, kAllSinks);
    std::string_view url1 = decoded(
        [](std::string_view in, std::string* o) { return decode::url_decode(in, true, o); },
        value);
    if (!url1.empty()) {
      add(Form::kUrlDecoded, url1, kAllSinks);
      std::string_view url2 = decoded(
          [](std::string_view in, std::string* o) { return decode::url_decode(in, true, o); },
          url1);
      if (!url2.empty()) add(Form::kUrlDecoded2, url2, kAllSinks);
    }
    std::string_view html = decoded(
        [](std::string_view in, std::string* o) { return decode::html_entity_decode(in, o); },
        value);
    if (!html.empty()) add(Form::kHtmlDecoded, html, kAllSinks);
    std::string_view json = decoded(
        [](std::string_view in, std::string* o) { return decode::json_unescape(in, o); }, value);
    if (!json.empty()) add(Form::kJsonUnescaped, json, kAllSinks);
    std::string_view trimmed = common::trim(value);
    if (trimmed.size() != value.size()) add(Form::kTrimmed, trimmed, kAllSinks);
    // An application that "escapes" by doubling quotes but keeps backslashes (a classic MySQL
    // mistake) puts this form in its SQL; a backslash before the doubled quote escapes one of
    // them and the input breaks out.
    if (value.find('\'') != std::string_view::npos) {
      std::string* s = scratch();
      s->reserve(value.size() + 8);
      for (char c : value) {
        s->push_back(c);
        if (c == '\'') s->push_back('\'');
      }
      add(Form::kQuoteDoubled, *s, sink_bit(SinkType::kSql));
    }
    // C string APIs stop at the first NUL: what reaches the database or the shell is the part
    // before it (the rest is how payloads slip past filters that see the whole value).
    if (std::size_t nul = value.find('\0'); nul != std::string_view::npos && nul > 0) {
      add(Form::kNulTruncated, value.substr(0, nul),
          sink_bit(SinkType::kSql) | sink_bit(SinkType::kShell) | sink_bit(SinkType::kExec));
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
