// Shell tokenizer: never crashes; in both dialects the parts partition the input in order, every
// token lies inside it, every part names an existing token, and nesting depth stays bounded.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/tokenize/shell/shell_tokenizer.hpp"

namespace {

void check(std::string_view src, vigil::tokenize::shell::Dialect dialect) {
  using namespace vigil::tokenize::shell;
  static Tokens t;  // reused, as detectors do
  tokenize(src, dialect, &t);
  std::uint32_t at = 0;
  for (const Part& p : t.parts) {
    if (p.begin != at || p.end <= p.begin) std::abort();
    if (p.token != kNoToken && p.token >= t.tokens.size()) std::abort();
    if (p.depth > kMaxDepth) std::abort();
    at = p.end;
  }
  if (at != src.size()) std::abort();
  for (const Token& tok : t.tokens) {
    if (tok.begin > tok.end || tok.end > src.size()) std::abort();
    if (tok.parent != kNoToken && tok.parent >= t.tokens.size()) std::abort();
    if (tok.first_part > t.parts.size()) std::abort();
  }
  if (!src.empty()) {
    std::size_t k = part_at(t, static_cast<std::uint32_t>(src.size() / 2));
    const Part& p = t.parts[k];
    if (p.begin > src.size() / 2 || p.end <= src.size() / 2) std::abort();
  }
  if (t.eof_quote != Quote::kNone && !t.unterminated && t.eof_quote != Quote::kComment)
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view src(reinterpret_cast<const char*>(data), size);
  check(src, vigil::tokenize::shell::Dialect::kBash);
  check(src, vigil::tokenize::shell::Dialect::kPosix);
  return 0;
}
