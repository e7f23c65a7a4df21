// Python tokenizer: never crashes; tokens are in order, inside the input, and a string's content
// lies inside the token.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/tokenize/python/python_tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil::tokenize::python;
  std::string_view src(reinterpret_cast<const char*>(data), size);
  static std::vector<Token> toks;
  tokenize(src, &toks);
  std::uint32_t at = 0;
  for (const Token& t : toks) {
    if (t.begin < at || t.begin >= t.end || t.end > size) std::abort();
    if (t.content_begin < t.begin || t.content_end > t.end || t.content_begin > t.content_end)
      std::abort();
    at = t.end;
  }
  if (size > 0) {
    std::size_t k = token_at(toks, static_cast<std::uint32_t>(size / 2));
    if (k < toks.size() && (toks[k].begin > size / 2 || toks[k].end <= size / 2)) std::abort();
  }
  return 0;
}
