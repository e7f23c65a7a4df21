// JavaScript tokenizer target: tokens are non-empty, ordered, non-overlapping and in bounds.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/tokenize/html/js_tokenizer.hpp"

namespace js = vigil::tokenize::js;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view src(reinterpret_cast<const char*>(data), size);
  js::Tokenizer tz(src);
  js::Token t;
  std::uint32_t prev = 0;
  std::size_t count = 0;
  while (tz.next(&t)) {
    if (t.begin < prev || t.end <= t.begin || t.end > src.size()) std::abort();
    prev = t.end;
    if (++count > src.size()) std::abort();  // every token consumes at least one byte
  }
  return 0;
}
