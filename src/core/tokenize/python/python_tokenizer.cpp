#include "core/tokenize/python/python_tokenizer.hpp"

#include <algorithm>

#include "core/common/ascii.hpp"

namespace vigil::tokenize::python {
namespace {

bool is_name_start(unsigned char c) {
  return common::is_alpha(static_cast<char>(c)) || c == '_' || c >= 0x80;
}
bool is_name_char(unsigned char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

// Length of a string prefix (r, b, u, f, rb, br, fr, rf in any case) at `i` that is directly
// followed by a quote, and its flags; 0 when there is none.
std::uint32_t string_prefix(std::string_view s, std::uint32_t i, std::uint8_t* flags) {
  std::uint8_t f = 0;
  std::uint32_t k = i;
  while (k < s.size() && k - i < 2) {
    char c = static_cast<char>(s[k] | 0x20);
    std::uint8_t bit = c == 'r'   ? kStringRaw
                       : c == 'b' ? kStringBytes
                       : c == 'f' ? kStringFormat
                       : c == 'u' ? std::uint8_t(0x80)
                                  : 0;
    if (bit == 0 || (f & bit)) break;
    f |= bit;
    ++k;
  }
  if (k == i || k >= s.size() || (s[k] != '\'' && s[k] != '"')) return 0;
  // u combines with nothing; b and f exclude each other.
  if ((f & 0x80) && k - i > 1) return 0;
  if ((f & kStringBytes) && (f & kStringFormat)) return 0;
  *flags = static_cast<std::uint8_t>(f & ~0x80);
  return k - i;
}

}  // namespace

void tokenize(std::string_view s, std::vector<Token>* out) {
  out->clear();
  const std::uint32_t n = static_cast<std::uint32_t>(s.size());
  std::uint32_t i = 0;
  int brackets = 0;
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == ' ' || c == '\t' || c == '\f' || c == '\r' || c == '\v' || c == '\0') {
      ++i;
      continue;
    }
    if (c == '\\' && i + 1 < n && (s[i + 1] == '\n' || s[i + 1] == '\r')) {
      i += 2;  // explicit line joining
      continue;
    }
    if (c == '\n') {
      if (brackets == 0) out->push_back(Token{TokenKind::kNewline, 0, 0, i, i + 1, i, i});
      ++i;
      continue;
    }
    if (c == '#') {
      std::uint32_t j = i;
      while (j < n && s[j] != '\n') ++j;
      out->push_back(Token{TokenKind::kComment, 0, 0, i, j, i, j});
      i = j;
      continue;
    }
    std::uint8_t flags = 0;
    std::uint32_t prefix = (c == '\'' || c == '"') ? 0 : string_prefix(s, i, &flags);
    if (c == '\'' || c == '"' || prefix > 0) {
      std::uint32_t q = i + prefix;
      char quote = s[q];
      bool triple = q + 2 < n && s[q + 1] == quote && s[q + 2] == quote;
      std::uint32_t open = triple ? 3 : 1;
      if (triple) flags |= kStringTriple;
      std::uint32_t j = q + open;
      std::uint32_t content_begin = j;
      std::uint32_t content_end = n, end = n;
      bool closed = false;
      while (j < n) {
        char d = s[j];
        if (d == '\\') {
          j += 2;  // in raw strings too, a backslash keeps the next quote from closing
          continue;
        }
        if (d == '\n' && !triple) {
          content_end = end = j;  // unterminated at the line break
          break;
        }
        if (d == quote) {
          if (!triple) {
            content_end = j;
            end = j + 1;
            closed = true;
            break;
          }
          if (j + 2 < n && s[j + 1] == quote && s[j + 2] == quote) {
            content_end = j;
            end = j + 3;
            closed = true;
            break;
          }
        }
        ++j;
      }
      if (!closed) {
        flags |= kStringUnterminated;
        if (content_end > n) content_end = n;
        if (end > n) end = n;
      }
      out->push_back(Token{TokenKind::kString, flags, quote, i, end, content_begin, content_end});
      i = end;
      continue;
    }
    if (is_name_start(c)) {
      std::uint32_t j = i + 1;
      while (j < n && is_name_char(static_cast<unsigned char>(s[j]))) ++j;
      out->push_back(Token{TokenKind::kName, 0, 0, i, j, i, j});
      i = j;
      continue;
    }
    if ((c >= '0' && c <= '9') || (c == '.' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9')) {
      std::uint32_t j = i + 1;
      while (j < n) {
        char d = s[j];
        if (common::is_alnum(d) || d == '.' || d == '_') {
          ++j;
        } else if ((d == '+' || d == '-') && (s[j - 1] == 'e' || s[j - 1] == 'E')) {
          ++j;
        } else {
          break;
        }
      }
      out->push_back(Token{TokenKind::kNumber, 0, 0, i, j, i, j});
      i = j;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') ++brackets;
    if ((c == ')' || c == ']' || c == '}') && brackets > 0) --brackets;
    out->push_back(Token{TokenKind::kOperator, 0, 0, i, i + 1, i, i + 1});
    ++i;
  }
}

std::size_t token_at(const std::vector<Token>& tokens, std::uint32_t offset) noexcept {
  auto it = std::upper_bound(tokens.begin(), tokens.end(), offset,
                             [](std::uint32_t off, const Token& t) { return off < t.begin; });
  if (it == tokens.begin()) return tokens.size();
  --it;
  return offset < it->end ? static_cast<std::size_t>(it - tokens.begin()) : tokens.size();
}

}  // namespace vigil::tokenize::python
