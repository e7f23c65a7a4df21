// PreparedInputs::Impl: each input in every decoded form, ready for the occurrence search.
#ifndef VIGIL_CORE_ENGINE_PREPARED_HPP_
#define VIGIL_CORE_ENGINE_PREPARED_HPP_

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/engine.hpp"

namespace vigil {

struct PreparedInputs::Impl {
  struct Entry {
    std::uint32_t input;
    Form form;
    std::uint8_t sink_mask;   // bit i set: searched in sinks of SinkType i
    std::uint32_t features;   // detect::input::features_of(text), read in the same pass
    std::string_view text;    // the form's bytes
    std::string_view folded;  // ASCII-lower-cased text (== text when it has no upper case)
  };
  std::vector<Entry> entries;
  // Decoded texts. A deque never moves its elements, so views into them stay valid.
  std::deque<std::string> storage;
  std::size_t storage_used = 0;

  void build(std::span<const Input> inputs);
  // The entries of a value with upper case, a space at an edge, or a byte some decoder acts
  // on (`bytes` is its or_over_bytes(kBytes)): out of line, apart from the usual raw-only one.
  [[gnu::noinline]] void add_forms(std::uint32_t index, std::string_view value,
                                   std::uint64_t bytes);
  std::string* scratch();
};

}  // namespace vigil

#endif  // VIGIL_CORE_ENGINE_PREPARED_HPP_
