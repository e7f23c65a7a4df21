// A small Python tokenizer, enough to tell where string literals begin and end in code passed
// to `python -c`: string literals with every prefix (r b u f and their pairs, any case), single
// and triple quotes, backslash escapes (a raw string's backslash still keeps the quote that
// follows it), comments, names, numbers, operators and logical line breaks.
//
// Zero-copy (offsets into the source), linear time, no recursion, never fails: an unterminated
// string is a kString token flagged kStringUnterminated that ends at the line break (single
// quotes) or at the end of the input (triple quotes). Carriage returns inside a single-quoted
// string are kept as string content (the eval oracle's reading); a line feed ends it.
// Simplification: replacement fields of f-strings are part of the string token (the caller
// looks for braces itself); nested same-quote strings inside them (Python 3.12) are not followed.
//
// Thread safety: tokenize() is reentrant.
#ifndef VIGIL_CORE_TOKENIZE_PYTHON_PYTHON_TOKENIZER_HPP_
#define VIGIL_CORE_TOKENIZE_PYTHON_PYTHON_TOKENIZER_HPP_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace vigil::tokenize::python {

enum class TokenKind : std::uint8_t {
  kName,      // identifier or keyword
  kNumber,    // numeric literal
  kString,    // string or bytes literal, prefix and quotes included
  kOperator,  // one operator or delimiter character (multi-character operators are split)
  kComment,   // from # to the end of the line
  kNewline,   // a line feed outside brackets and strings
};

// kString flags.
enum : std::uint8_t {
  kStringRaw = 1u << 0,
  kStringBytes = 1u << 1,
  kStringFormat = 1u << 2,  // f-string: {...} are replacement fields
  kStringTriple = 1u << 3,
  kStringUnterminated = 1u << 4,
};

struct Token {
  TokenKind kind;
  std::uint8_t flags;
  char quote;           // kString: ' or "
  std::uint32_t begin;  // the whole token
  std::uint32_t end;
  std::uint32_t content_begin;  // kString: after the opening quote(s)
  std::uint32_t content_end;    // kString: before the closing quote(s) (== end if unterminated)
};

// Tokenizes `src` into *out (cleared; capacity reused). White space and line continuations
// produce no token. REQUIRES: src.size() < 4 GiB.
void tokenize(std::string_view src, std::vector<Token>* out);

// Index of the token whose [begin, end) contains `offset`, or tokens.size() when none does
// (the offset is in white space).
std::size_t token_at(const std::vector<Token>& tokens, std::uint32_t offset) noexcept;

}  // namespace vigil::tokenize::python

#endif  // VIGIL_CORE_TOKENIZE_PYTHON_PYTHON_TOKENIZER_HPP_
