// PreparedInputs::Impl: each input in every decoded form, ready for the occurrence search.
#ifndef VIGIL_CORE_ENGINE_PREPARED_HPP_
#define VIGIL_CORE_ENGINE_PREPARED_HPP_

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/engine.hpp"

namespace vigil {

// Whether input analysis takes an input's name as a candidate of its own: the sources whose names
// the client chooses and that reach code (keys, field names), when long enough to say anything.
constexpr bool name_is_analysed(Source source, std::size_t name_size) {
  constexpr auto bit = [](Source s) { return 1u << static_cast<unsigned>(s); };
  constexpr std::uint32_t kNamedByClient = bit(Source::kQuery) | bit(Source::kBody) |
                                           bit(Source::kJson) | bit(Source::kCookie) |
                                           bit(Source::kMultipart);
  return (kNamedByClient & bit(source)) != 0 && name_size >= 3;
}

// Whether input analysis reads an entry of this form. The forms made for the sinks only are not:
// a name's entries are the names themselves, which run_name analyses once each; the strings of a
// JSON value are in its raw and unescaped forms already (read apart, odd but benign values, a
// User-Agent ["\\n"], looked like probes); a token now and then decodes from base64 to printable
// noise, which occurs in no sink; and doubled quotes are how a program quotes, not what it got.
constexpr bool form_is_analysed(Form form) {
  return form != Form::kQuoteDoubled && form != Form::kName && form != Form::kJsonField &&
         form != Form::kBase64Decoded;
}

struct PreparedInputs::Impl {
  struct Entry {
    std::uint32_t input;
    Form form;
    std::uint8_t sink_mask;   // bit i set: searched in sinks of SinkType i
    std::uint32_t features;   // detect::input::features_of(text), read in the same pass
    std::string_view text;    // the form's bytes
    std::string_view folded;  // ASCII-lower-cased text (== text when it has no upper case)
    // detect::input::is_clean_word(text, features): no input detector fires on
    // this form. Read once here, for plain_words and for the analysis of the other requests.
    bool clean_word = false;
  };
  std::vector<Entry> entries;
  // True when every candidate of input analysis (each entry's text, each name that
  // name_is_analysed) is a plain word that no input detector fires on
  // (detect::input::plain_word_is_clean): the usual request ("?q=lamp", a User-Agent "wrk"), which
  // Engine::analyze_request then passes without a look at each candidate. Read while the inputs
  // are prepared, from the features already taken of each value.
  bool plain_words = false;
  // Decoded texts. A deque never moves its elements, so views into them stay valid.
  std::deque<std::string> storage;
  std::size_t storage_used = 0;

  void build(std::span<const Input> inputs);
  // The entries of a value with upper case, a space at an edge, or a byte some decoder acts
  // on (`bytes` is its or_over_bytes(kBytes)): out of line, apart from the usual raw-only one.
  [[gnu::noinline]] void add_forms(std::uint32_t index, std::string_view value,
                                   std::uint64_t bytes);
  // The entries (Form::kJsonField) of the strings and keys of a value that is a JSON document.
  [[gnu::noinline]] void add_json_fields(std::uint32_t index, std::string_view value);
  // The entries (Form::kName) of a name the client chose that holds a byte a word does not.
  [[gnu::noinline]] void add_name_forms(std::uint32_t index, std::string_view name);
  // Appends a form's entry, folded when it has upper case. `bytes`: or_over_bytes(kBytes, text).
  void push_entry(std::uint32_t index, Form form, std::uint8_t mask, std::string_view text,
                  std::uint64_t bytes);
  // Whether an entry from `first_entry` on has this text (an input's forms are kept distinct).
  bool has_form(std::size_t first_entry, std::string_view text) const;
  std::string* scratch();
  // Whether a name is a candidate that no input detector fires on (for plain_words).
  [[gnu::noinline]] static bool name_is_plain_word(std::string_view name);
};

}  // namespace vigil

#endif  // VIGIL_CORE_ENGINE_PREPARED_HPP_
