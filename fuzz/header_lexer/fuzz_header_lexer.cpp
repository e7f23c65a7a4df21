// Header lexer target: lines must cover the block in order with consistent inner spans, and
// nothing may follow a body.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/tokenize/header/header_lexer.hpp"

namespace th = vigil::tokenize::header;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view block(reinterpret_cast<const char*>(data), size);
  th::Lexer lexer(block);
  th::Line line;
  std::uint32_t pos = 0;
  bool body = false;
  while (lexer.next(&line)) {
    if (body) std::abort();
    if (line.begin != pos || line.end < line.begin || line.next < line.end ||
        line.next > block.size() || line.next == line.begin)
      std::abort();
    for (std::uint32_t i = line.begin; i < line.end && line.kind != th::LineKind::kBody; ++i)
      if (block[i] == '\r' || block[i] == '\n') std::abort();
    std::uint32_t term = line.next - line.end;
    switch (line.end_kind) {
      case th::LineEnd::kCrlf:
        if (term != 2) std::abort();
        break;
      case th::LineEnd::kLf:
      case th::LineEnd::kCr:
        if (term != 1) std::abort();
        break;
      case th::LineEnd::kNone:
        if (term != 0 || line.next != block.size()) std::abort();
        break;
    }
    if (line.kind == th::LineKind::kField) {
      if (line.name_end <= line.begin || line.name_end >= line.end || block[line.name_end] != ':')
        std::abort();
      if (line.value_begin <= line.name_end || line.value_end > line.end ||
          line.value_begin > line.value_end)
        std::abort();
    }
    if (line.kind == th::LineKind::kEmpty && line.end != line.begin) std::abort();
    if (line.kind == th::LineKind::kBody) body = true;
    pos = line.next;
  }
  if (pos != block.size()) std::abort();
  return 0;
}
