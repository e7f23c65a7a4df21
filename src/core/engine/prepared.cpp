#include "core/engine/prepared.hpp"

#include <algorithm>
#include <array>

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "core/common/ascii.hpp"
#include "core/decode/decode.hpp"
#include "core/detect/input/input_detector.hpp"

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

// The traits above the input detectors' features (bits 32..39): one pass over a form reads
// what its decoders need, whether it has upper case, and what analyze_request's prefilters test.
constexpr std::array<std::uint64_t, 256> kBytes = [] {
  constexpr std::array<std::uint32_t, 256> features = detect::input::feature_table();
  std::array<std::uint64_t, 256> t{};
  for (std::size_t b = 0; b < 256; ++b) t[b] = features[b] | std::uint64_t{kTraits[b]} << 32;
  return t;
}();
constexpr std::uint8_t traits_in(std::uint64_t bytes) {
  return static_cast<std::uint8_t>(bytes >> 32);
}

// Entry::clean_word of a form whose or_over_bytes(kBytes, ...) is `bytes`.
bool clean_word(std::string_view text, std::uint64_t bytes) {
  return detect::input::is_clean_word(text, static_cast<std::uint32_t>(bytes));
}

// Traits of a value that some form other than the raw one is derived from.
constexpr std::uint8_t kDerivedForms = kPercentPlus | kAmpersand | kBackslash | kApostrophe | kNul;

constexpr std::array<bool, 256> kSpace = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = common::is_space(static_cast<char>(c));
  return t;
}();

bool edge_space(std::string_view v) {
  return !v.empty() && (kSpace[static_cast<unsigned char>(v.front())] ||
                        kSpace[static_cast<unsigned char>(v.back())]);
}

// A value that may be a JSON document: what a program that parses it reads are its strings.
bool opens_json(std::string_view v) { return !v.empty() && (v.front() == '{' || v.front() == '['); }

// Values longer than this are not parsed for the forms inside them (JSON documents, base64).
constexpr std::size_t kMaxParsedValue = 64 * 1024;

// The strings and keys of a JSON document, copied (RapidJSON's views last only for the call).
// At most kMax of them: a value's forms stay few.
class JsonStrings : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, JsonStrings> {
 public:
  static constexpr std::size_t kMax = 32;
  explicit JsonStrings(std::vector<std::string>* out) : out_(out) {}
  bool String(const char* s, rapidjson::SizeType n, bool) { return keep(s, n); }
  bool Key(const char* s, rapidjson::SizeType n, bool) { return keep(s, n); }

 private:
  bool keep(const char* s, rapidjson::SizeType n) {
    if (n >= 2) out_->emplace_back(s, n);
    return out_->size() < kMax;  // false ends the parse: the strings so far are kept
  }
  std::vector<std::string>* out_;
};

}  // namespace

void PreparedInputs::Impl::push_entry(std::uint32_t index, Form form, std::uint8_t mask,
                                      std::string_view text, std::uint64_t bytes) {
  std::string_view fold = text;
  if (traits_in(bytes) & kUpper) {
    std::string* f = scratch();
    f->resize(text.size());
    common::fold_ascii(text.data(), text.size(), f->data());
    fold = *f;
  }
  entries.push_back(Entry{index, form, mask, static_cast<std::uint32_t>(bytes), text, fold,
                          clean_word(text, bytes)});
}

bool PreparedInputs::Impl::has_form(std::size_t first_entry, std::string_view text) const {
  for (std::size_t k = first_entry; k < entries.size(); ++k)
    if (entries[k].text == text) return true;
  return false;
}

std::string* PreparedInputs::Impl::scratch() {
  if (storage_used == storage.size()) storage.emplace_back();
  std::string* s = &storage[storage_used++];
  s->clear();
  return s;
}

void PreparedInputs::Impl::build(std::span<const Input> inputs) {
  storage_used = 0;
  // Entries in use; the ones past it are the last request's, overwritten in place: a client's
  // requests have the same shape, so the usual path never grows the vector (nor runs its code).
  std::size_t used = 0;
  bool words = true;
  for (std::uint32_t index = 0; index < inputs.size(); ++index) {
    const Input& in = inputs[index];
    // A name that input analysis takes as a candidate (few are) must be a clean word too; one
    // with a byte that is not a word's is searched in sinks as well (add_name_forms).
    if (name_is_analysed(in.source, in.name.size()) && !name_is_plain_word(in.name)) [[unlikely]] {
      words = false;
      if (detect::input::features_of(in.name) != 0) {
        entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(used), entries.end());
        add_name_forms(index, in.name);
        used = entries.size();
      }
    }
    std::string_view value = in.value;
    if (value.empty()) continue;  // no form of it can occur anywhere
    const std::uint64_t bytes = common::or_over_bytes(kBytes, value);
    // Most values hold no byte that a decoder changes, no upper case and no space at an edge:
    // the raw form, as it is, is all there is. The other ones go out of line.
    if ((traits_in(bytes) & (kDerivedForms | kUpper)) != 0 || edge_space(value) ||
        opens_json(value)) {
      entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(used), entries.end());
      add_forms(index, value, bytes);
      used = entries.size();
      words = false;
      continue;
    }
    // The raw form is the only one.
    const bool clean = clean_word(value, bytes);
    words = words && clean;
    const Entry raw{index,        Form::kRaw, kAllSinks, static_cast<std::uint32_t>(bytes),
                    value,        value,      clean};
    if (used < entries.size()) [[likely]]
      entries[used] = raw;
    else
      entries.push_back(raw);
    ++used;
  }
  entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(used), entries.end());
  plain_words = words;
}

bool PreparedInputs::Impl::name_is_plain_word(std::string_view name) {
  return detect::input::is_clean_word(name, detect::input::features_of(name));
}

void PreparedInputs::Impl::add_name_forms(std::uint32_t index, std::string_view name) {
  // Applications build SQL, commands and pages from the keys a client sent, not only from their
  // values: a column per JSON key ("UPDATE users SET " + key + " = ?"), a sort field from
  // "sort[price]", a form field's name in an error page. The name as a whole, and its first and
  // last segments: a JSON key path ("filter.price") or a bracketed key ("sort[price]") names
  // the key an application reads by its outer or inner part. A key that itself holds '.' or '['
  // is cut there too; the whole name still stands for it.
  const std::size_t first_entry = entries.size();
  auto add = [&](std::string_view text) {
    if (text.size() < 3) return;
    const std::uint64_t bytes = common::or_over_bytes(kBytes, text);
    // A plain word cannot change what an operation means by being in it.
    if (static_cast<std::uint32_t>(bytes) == 0) return;
    if (!has_form(first_entry, text)) push_entry(index, Form::kName, kAllSinks, text, bytes);
  };
  add(name);
  const std::size_t first_cut = name.find_first_of(".[");
  if (first_cut == std::string_view::npos) return;
  add(name.substr(0, first_cut));
  std::string_view last = name;
  if (last.back() == ']') {
    last.remove_suffix(1);
    last = last.substr(last.rfind('[') + 1);
  } else {
    last = last.substr(name.find_last_of(".]") + 1);
  }
  add(last);
}

void PreparedInputs::Impl::add_json_fields(std::uint32_t index, std::string_view value) {
  if (value.size() > kMaxParsedValue) return;
  std::vector<std::string> strings;
  JsonStrings handler(&strings);
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(value.data(), value.size());
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag |
                              rapidjson::kParseNanAndInfFlag;
  // A value that is not JSON after all (a "{name}" template, "[x]") gives what it gave before
  // its fault: nothing, mostly.
  reader.Parse<kFlags>(stream, handler);
  const std::size_t first_entry = entries.size();
  for (const std::string& text : strings) {
    if (text == value || has_form(first_entry, text)) continue;
    std::string* s = scratch();
    s->assign(text);
    push_entry(index, Form::kJsonField, kAllSinks, *s, common::or_over_bytes(kBytes, *s));
  }
}

void PreparedInputs::Impl::add_forms(std::uint32_t index, std::string_view value,
                                     std::uint64_t bytes) {
  const std::uint8_t traits = traits_in(bytes);
  const std::size_t first_entry = entries.size();

  // The raw form is the first of its input's entries: there is no equal one to merge with.
  if (traits & kUpper)
    push_entry(index, Form::kRaw, kAllSinks, value, bytes);
  else
    entries.push_back(
        Entry{index, Form::kRaw, kAllSinks, static_cast<std::uint32_t>(bytes), value, value,
              clean_word(value, bytes)});
  if (opens_json(value)) [[unlikely]]
    add_json_fields(index, value);
  if (!(traits & kDerivedForms) && !edge_space(value) && value.size() < 8) return;

  auto add = [&](Form form, std::string_view text, std::uint8_t mask) {
    if (text.empty()) return;
    for (std::size_t k = first_entry; k < entries.size(); ++k) {
      if (entries[k].text == text) {
        entries[k].sink_mask |= mask;
        return;
      }
    }
    push_entry(index, form, mask, text, common::or_over_bytes(kBytes, text));
  };
  // A decoder writes into a fresh scratch string; it stays allocated for the next request.
  auto decoded = [&](auto&& fn, std::string_view in) -> std::string_view {
    std::string* s = scratch();
    if (fn(in, s)) return *s;
    --storage_used;
    return {};
  };

  if (traits & kPercentPlus) {
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
  }
  if (traits & kAmpersand) {
    std::string_view html = decoded(
        [](std::string_view in, std::string* o) { return decode::html_entity_decode(in, o); },
        value);
    if (!html.empty()) add(Form::kHtmlDecoded, html, kAllSinks);
  }
  if (traits & kBackslash) {
    std::string_view json = decoded(
        [](std::string_view in, std::string* o) { return decode::json_unescape(in, o); },
        value);
    if (!json.empty()) add(Form::kJsonUnescaped, json, kAllSinks);
  }
  if (edge_space(value)) add(Form::kTrimmed, common::trim(value), kAllSinks);
  // Base64 has upper case, mostly, which brought the value here.
  if (value.size() >= 8 && value.size() <= kMaxParsedValue) {
    std::string_view text = decoded(
        [](std::string_view in, std::string* o) { return decode::base64_text(in, o); }, value);
    if (!text.empty()) {
      add(Form::kBase64Decoded, text, kAllSinks);
      if (opens_json(text)) add_json_fields(index, text);
    }
  }
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
    add(Form::kQuoteDoubled, *s, sink_bit(SinkType::kSql));
  }
  // C string APIs stop at the first NUL: what reaches the database or the shell is the part
  // before it (the rest is how payloads slip past filters that see the whole value).
  if (traits & kNul) {
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
