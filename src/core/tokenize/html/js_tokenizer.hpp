// JavaScript tokenizer for <script> content and event-handler attribute values, zero-copy.
//
// Follows ECMAScript's lexical grammar (with Annex B's HTML-like comments) closely enough to
// find every token boundary: identifiers and reserved words, punctuators (longest match),
// numeric literals (decimal, hex/octal/binary, legacy octal, BigInt, separators), string
// literals with their escapes, template literals split at `${` / `}` with nesting tracked on a
// bounded stack, regular expression literals (a `/` is a regex or a division depending on the
// previous significant token, the usual heuristic), comments `//`, `/* */`, `<!--` anywhere and
// `-->` at the start of a line, and the line terminators LF, CR, U+2028, U+2029.
//
// White space and line terminators are skipped, not returned; a token records whether a line
// terminator preceded it. Errors do not stop the tokenizer: a token is flagged `error` when it
// is unterminated (string, template, regex, block comment), holds an invalid escape (`\x` or
// `\u` without hex digits), is a number run straight into an identifier, or is a character no
// token may start with (returned as a one-character kInvalid token).
//
// Bytes >= 0x80 other than the Unicode white space and line terminators count as identifier
// characters (invalid UTF-8 never stops the tokenizer).
// Complexity: linear in the source; no recursion; no allocation (tokenize() grows the vector).
// Thread safety: a Tokenizer is used by one thread.
#ifndef VIGIL_CORE_TOKENIZE_HTML_JS_TOKENIZER_HPP_
#define VIGIL_CORE_TOKENIZE_HTML_JS_TOKENIZER_HPP_

#include <cstdint>
#include <string_view>
#include <vector>

namespace vigil::tokenize::js {

enum class TokenKind : std::uint8_t {
  kIdentifier,      // foo, $x, \u0061bc, π
  kPrivateName,     // #field
  kKeyword,         // reserved words, and null / true / false
  kPunctuator,      // { } ( ) [ ] ; , < >>>= => ?. ...
  kNumber,          // 1, .5e3, 0x1F, 017, 10n, 1_000
  kString,          // '...' or "..."
  kTemplate,        // `...` without substitutions
  kTemplateHead,    // `...${
  kTemplateMiddle,  // }...${
  kTemplateTail,    // }...`
  kRegex,           // /body/flags
  kComment,         // // ..., /* ... */, <!-- ..., --> ... (at a line start), #! ... (hashbang)
  kInvalid,         // a character that starts no token (@, a stray backslash, ...)
};
std::string_view token_kind_name(TokenKind kind) noexcept;

struct Token {
  TokenKind kind = TokenKind::kInvalid;
  bool error = false;           // unterminated, invalid escape, or malformed
  bool newline_before = false;  // a line terminator came between the previous token and this
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

class Tokenizer {
 public:
  // REQUIRES: source.size() < 2^32.
  explicit Tokenizer(std::string_view source) noexcept : src_(source) {}

  // The next token; false at the end of the source.
  bool next(Token* out) noexcept;

  // Template substitutions nested deeper than this are not tracked (the token that opens one
  // is flagged as an error).
  static constexpr int kMaxTemplateDepth = 64;

 private:
  bool skip_space_and_newlines() noexcept;  // returns whether a line terminator was crossed
  std::uint32_t line_terminator_length(std::uint32_t p) const noexcept;
  std::uint32_t space_length(std::uint32_t p) const noexcept;
  void scan_string(Token* t) noexcept;
  void scan_template_part(Token* t, bool head) noexcept;
  void scan_number(Token* t) noexcept;
  void scan_identifier(Token* t) noexcept;
  void scan_regex(Token* t) noexcept;
  void scan_punctuator(Token* t) noexcept;
  bool scan_escape(std::uint32_t* p) const noexcept;  // at '\\'; false when invalid
  bool regex_allowed() const noexcept;
  void to_line_end(Token* t) noexcept;

  std::string_view src_;
  std::uint32_t pos_ = 0;
  bool at_line_start_ = true;  // only white space, comments and line terminators so far
  // The previous significant token (not a comment), for the regex/division decision.
  TokenKind prev_kind_ = TokenKind::kPunctuator;
  bool have_prev_ = false;
  std::uint32_t prev_begin_ = 0;
  std::uint32_t prev_end_ = 0;
  // Template nesting: brace depth at which each open substitution resumes its template.
  std::uint32_t brace_depth_ = 0;
  std::uint32_t template_stack_[kMaxTemplateDepth] = {};
  int template_top_ = 0;
  std::uint32_t untracked_ = 0;  // substitutions opened beyond kMaxTemplateDepth
};

// Tokenizes a whole source into *out (cleared first).
void tokenize(std::string_view source, std::vector<Token>* out);

// True when `word` is a reserved word (or null/true/false).
bool is_keyword(std::string_view word) noexcept;

}  // namespace vigil::tokenize::js

#endif  // VIGIL_CORE_TOKENIZE_HTML_JS_TOKENIZER_HPP_
