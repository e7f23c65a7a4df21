// A faithful, zero-copy SQL lexer with per-dialect rules.
//
// The lexer splits a statement into tokens the way the database's own scanner does: it knows
// each dialect's string, identifier, comment, number, parameter and operator syntax (SQLite,
// MySQL/MariaDB, PostgreSQL, SQL Server, Oracle, and a permissive union for unknown dialects).
// It does not parse: it never rejects a statement, and text a database would refuse becomes a
// kError token or a token flagged kUnterminated. Tokens cover the input completely, in order,
// without gaps (whitespace and comments are tokens too), so every byte belongs to exactly one.
//
// Complexity: linear in the input on any bytes (NUL, invalid UTF-8, megabytes); no recursion,
// no allocation (the Lexer is a cursor; tokenize() only grows the caller's vector or buffer).
// Thread safety: a Lexer is a value owned by one thread; the free functions are reentrant.
#ifndef VIGIL_CORE_TOKENIZE_SQL_SQL_TOKENIZER_HPP_
#define VIGIL_CORE_TOKENIZE_SQL_SQL_TOKENIZER_HPP_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "vigil/engine.hpp"

namespace vigil::tokenize::sql {

enum class TokenKind : std::uint8_t {
  kWhitespace,  // a run of SP, TAB, LF, VT, FF, CR
  kComment,     // -- …, # … (MySQL), /* … */ (nested in PostgreSQL and SQL Server); also
                // the opener "/*!50000" and closer "*/" of a MySQL versioned comment,
                // whose content is code and is tokenized normally (see the flags)
  kKeyword,     // a reserved word of the internal keyword table (SELECT, UNION, OR, …)
  kIdentifier,  // an unquoted name (function names such as SLEEP are identifiers)
  kQuotedIdentifier,  // "…" (not MySQL), `…` (SQLite, MySQL), […] (SQLite, SQL Server)
  kString,  // '…', "…" (MySQL), E'…', N'…', U&'…', _charset'…', $tag$…$tag$, q'[…]'
  kNumber,  // 12, 1.5, .5e-3, 0x1F (SQLite, PostgreSQL, SQL Server)
  kBlob,    // X'…', B'…', 0x… and 0b… (MySQL: hex and bit literals)
  kParameter,    // ?, ?1, :name, @name, $name, $1, @var, @@var, @'var'
  kOperator,     // = <> != <=> || && := :: -> ->> …
  kPunctuation,  // ( ) , ; . [ ] { }
  kError,        // bytes the dialect's scanner rejects (a NUL, `\` in SQLite, 12abc in
                 // SQLite and PostgreSQL, a malformed X'..' literal)
};

// Token::flags bits.
inline constexpr std::uint8_t kUnterminated = 1;      // string, identifier or comment runs to
                                                      // the end of the input without its closer
inline constexpr std::uint8_t kVersionedOpen = 2;     // kComment: "/*!" or "/*!NNNNN" (MySQL)
inline constexpr std::uint8_t kVersionedClose = 4;    // kComment: "*/" closing one
inline constexpr std::uint8_t kBackslashEscapes = 8;  // kString: \x escapes are processed in it

// One token: a span of the text. [begin, end) is the whole token; [inner_begin, inner_end) is its
// content without the delimiters (for kString, kQuotedIdentifier, kBlob, kComment; equal to the
// whole span for other kinds). For an unterminated token inner_end == end.
struct Token {
  TokenKind kind = TokenKind::kError;
  std::uint8_t flags = 0;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::uint32_t inner_begin = 0;
  std::uint32_t inner_end = 0;

  bool unterminated() const noexcept { return (flags & kUnterminated) != 0; }
  std::string_view text(std::string_view source) const noexcept {
    return source.substr(begin, end - begin);
  }
};

// "keyword", "identifier", "quoted identifier", "string", … (stable names used in reasons).
std::string_view token_kind_name(TokenKind kind) noexcept;

// True if `word` (any case) is in the internal keyword table: reserved words of SQL-92 and of
// the supported dialects. Function names (SLEEP, CHAR, CONCAT, …) are not keywords.
bool is_keyword(std::string_view word) noexcept;

// A pull lexer over one statement text. The text must outlive the Lexer.
//
//   Lexer lexer(query, Dialect::kMysql);
//   Token t;
//   while (lexer.next(&t)) { ... t.text(query) ... }
class Lexer {
 public:
  // Texts of 4 GiB or more are lexed as empty. Inline: the SQL sink check makes one per call.
  Lexer(std::string_view text, Dialect dialect) noexcept
      : text_(text.size() < UINT32_MAX ? text : std::string_view()),
        rules_(kRulesOf[static_cast<std::size_t>(dialect) < kDialects
                            ? static_cast<std::size_t>(dialect)
                            : 0]),
        dialect_(dialect) {}

  // Writes the next token and returns true, or returns false at the end of the text.
  // Every call that returns true consumes at least one byte.
  bool next(Token* token) noexcept;

  // Writes up to `cap` next tokens to `out` and returns how many: fewer than `cap` only at the
  // end of the text. The same tokens as calls of next(), without a call per token.
  std::size_t next_batch(Token* out, std::size_t cap) noexcept;

  // Moves to the token that holds byte `pos` (at or after the current position) and writes it
  // to *token, or returns false when the text ends first. The same token next() would return
  // there; the tokens before it are passed over without being looked up in the keyword table.
  bool seek(std::uint32_t pos, Token* token) noexcept;

  // The dialect's lexical rules (defined in the .cpp).
  struct Rules;
  // Each dialect's rules, indexed by Dialect (defined in the .cpp; kGeneric is 0).
  static constexpr std::size_t kDialects = 6;
  static const Rules* const kRulesOf[kDialects];

 private:
  template <bool kSeek>
  std::size_t run(Token* out, std::size_t cap, std::uint32_t target) noexcept;
  bool next_other(Token* t) noexcept;
  void lex_string(Token* t, std::uint32_t prefix, char quote, bool backslash,
                  bool doubled) noexcept;
  void lex_block_comment(Token* t) noexcept;
  bool lex_word(Token* t) noexcept;
  void lex_number(Token* t) noexcept;
  void lex_operator(Token* t) noexcept;
  bool match_multi_op(Token* t, std::string_view rest) noexcept;
  bool lex_dollar(Token* t) noexcept;
  bool lex_prefixed_literal(Token* t, std::uint32_t word_end) noexcept;

  std::string_view text_;
  const Rules* rules_;
  Dialect dialect_;
  std::uint32_t pos_ = 0;
  bool in_versioned_ = false;  // inside a MySQL /*! … */ whose content is code
};

// Clears *out and appends every token of `text`. Texts of 4 GiB or more are not tokenized.
void tokenize(std::string_view text, Dialect dialect, std::vector<Token>* out);

// Token storage a caller keeps across calls (the SQL detector's is thread-local): it grows to
// the most tokens a statement had and is never shrunk, so a call writes tokens into memory that
// is already there instead of growing (and value-initialising) a vector every time.
struct TokenBuffer {
  std::vector<Token> slots;
};

// The tokens of `text`, written into *buffer: the view is valid until *buffer's next use.
// Texts of 4 GiB or more have no tokens. Allocates only when *buffer must grow.
std::span<const Token> tokenize(std::string_view text, Dialect dialect, TokenBuffer* buffer);

}  // namespace vigil::tokenize::sql

#endif  // VIGIL_CORE_TOKENIZE_SQL_SQL_TOKENIZER_HPP_
