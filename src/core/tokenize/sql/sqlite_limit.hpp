// What SQLite makes of a statement's trailing LIMIT clause.
//
// SQLite evaluates LIMIT and OFFSET once, before reading any row, and fails the statement with
// "datatype mismatch" unless each value is an integer (or a real or text that is exactly one).
// An input that turns the LIMIT value into an expression whose value is not an integer (NULL,
// 'text', 0.5) therefore cannot change what the statement returns: it fails the same way an
// application's quoted, non-numeric value would. To know that, the clause is parsed with
// SQLite's expression grammar and evaluated with its typing rules (numeric conversion of text,
// integer/real arithmetic, NULL propagation, CASE, scalar subqueries without FROM, and the pure
// built-in functions). Anything else — a column or table, an unknown or non-deterministic
// function, a subquery over tables, a parse error, text after the clause — is kUnknown.
//
// Complexity: linear in the clause's tokens; parse depth is capped (kUnknown beyond it) and the
// text values built while evaluating are capped in size. No allocation beyond a reused
// thread-local buffer. Thread-safe.
#ifndef VIGIL_CORE_TOKENIZE_SQL_SQLITE_LIMIT_HPP_
#define VIGIL_CORE_TOKENIZE_SQL_SQLITE_LIMIT_HPP_

#include <cstdint>
#include <span>
#include <string_view>

#include "core/tokenize/sql/sql_tokenizer.hpp"

namespace vigil::tokenize::sql {

enum class LimitVerdict : std::uint8_t {
  kUnknown,   // not a constant clause this evaluator can decide
  kRuns,      // every value is an integer: the statement runs with that limit
  kMismatch,  // a value is not an integer: SQLite fails the statement before reading a row
};

// `tokens` are the SQLite tokens of `text`; `limit` indexes its LIMIT keyword. The clause must
// run to the end of the text ("LIMIT a", "LIMIT a OFFSET b" or "LIMIT b, a", then only
// comments and white space).
LimitVerdict sqlite_limit_verdict(std::string_view text, std::span<const Token> tokens,
                                  std::uint32_t limit) noexcept;

}  // namespace vigil::tokenize::sql

#endif  // VIGIL_CORE_TOKENIZE_SQL_SQLITE_LIMIT_HPP_
