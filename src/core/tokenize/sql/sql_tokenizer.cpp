#include "core/tokenize/sql/sql_tokenizer.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/common/ascii.hpp"

namespace vigil::tokenize::sql {
namespace {

// Reserved words of SQL-92 and of the dialects, lower case, sorted. Only words that cannot be
// ordinary column names are here: a benign name such as "user", "name", "first" or "key" must
// read as an identifier. Function names are identifiers in every dialect.
// clang-format off
constexpr std::string_view kKeywords[] = {
    "add", "all", "alter", "analyze", "and", "any", "as", "asc", "attach", "begin", "between",
    "binary", "both", "by", "call", "cascade", "case", "cast", "check", "collate", "column",
    "commit", "constraint", "create", "cross", "current_date", "current_time", "current_timestamp",
    "current_user", "database", "deallocate", "declare", "default", "delete", "desc", "describe",
    "detach", "distinct", "distinctrow", "div", "do", "drop", "dual", "dumpfile", "else", "elseif",
    "end", "escape", "except", "exec", "execute", "exists", "explain", "false", "fetch", "for",
    "force", "foreign", "from", "full", "fulltext", "glob", "grant", "group", "handler", "having",
    "high_priority", "if", "ignore", "ilike", "in", "index", "infile", "inner", "insert",
    "intersect", "interval", "into", "is", "isnull", "join", "kill", "lateral", "leading", "left",
    "like", "limit", "load", "lock", "match", "mod", "natural", "not", "notnull", "null", "offset",
    "on", "or", "order", "outer", "outfile", "partition", "pragma", "prepare", "primary",
    "procedure", "raiserror", "recursive", "references", "regexp", "reindex", "release", "rename",
    "replace", "return", "returning", "revoke", "right", "rlike", "rollback", "savepoint",
    "select", "set", "show", "shutdown", "similar", "some", "sounds", "sql_calc_found_rows",
    "straight_join", "table", "then", "to", "top", "trailing", "transaction", "trigger", "true",
    "truncate", "union", "unique", "unknown", "unlock", "update", "use", "using", "vacuum",
    "values", "view", "waitfor", "when", "where", "while", "window", "with", "xor",
};
// clang-format on

constexpr bool keywords_sorted() {
  for (std::size_t i = 1; i < std::size(kKeywords); ++i)
    if (!(kKeywords[i - 1] < kKeywords[i])) return false;
  return true;
}
static_assert(keywords_sorted(), "kKeywords must be sorted and unique");

// Keyword lookup is on the hot path (every word of every statement): the keywords are grouped
// by first letter and length at compile time, so a word is compared with the few keywords of its
// bucket, usually failing on its second byte.
constexpr std::size_t kMaxKeyword = 20;
constexpr std::size_t kKeywordCount = std::size(kKeywords);

struct KeywordBuckets {
  std::uint8_t order[kKeywordCount];  // keyword indexes by (first letter, length)
  std::uint8_t start[26][kMaxKeyword + 1];
  std::uint8_t count[26][kMaxKeyword + 1];
};

constexpr KeywordBuckets build_keyword_buckets() {
  KeywordBuckets b{};
  std::size_t next = 0;
  for (std::size_t letter = 0; letter < 26; ++letter) {
    for (std::size_t len = 0; len <= kMaxKeyword; ++len) {
      b.start[letter][len] = static_cast<std::uint8_t>(next);
      for (std::size_t k = 0; k < kKeywordCount; ++k) {
        if (kKeywords[k].size() == len && kKeywords[k][0] == static_cast<char>('a' + letter)) {
          b.order[next++] = static_cast<std::uint8_t>(k);
          ++b.count[letter][len];
        }
      }
    }
  }
  return b;
}
constexpr KeywordBuckets kKeywordBuckets = build_keyword_buckets();

constexpr bool keywords_fit() {
  if (kKeywordCount > 255) return false;
  for (std::string_view k : kKeywords)
    if (k.size() < 2 || k.size() > kMaxKeyword || k[0] < 'a' || k[0] > 'z') return false;
  return true;
}
static_assert(keywords_fit(), "keywords must be 2-20 bytes, start with a letter, fit a byte index");

// Byte classes, looked up once per byte on the hot path.
constexpr std::uint8_t kSpaceClass = 1;
constexpr std::uint8_t kIdentStartClass = 2;
constexpr std::uint8_t kIdentClass = 4;

struct ClassTable {
  std::uint8_t c[256];
};
constexpr ClassTable build_classes() {
  ClassTable t{};
  for (int b = 0; b < 256; ++b) {
    char ch = static_cast<char>(b);
    std::uint8_t k = 0;
    if (common::is_space(ch)) k |= kSpaceClass;
    if (common::is_alpha(ch) || ch == '_' || b >= 0x80) k |= kIdentStartClass | kIdentClass;
    if (common::is_digit(ch) || ch == '$') k |= kIdentClass;
    t.c[b] = k;
  }
  return t;
}
constexpr ClassTable kClasses = build_classes();

constexpr bool is_ident_start(unsigned char c) { return (kClasses.c[c] & kIdentStartClass) != 0; }
constexpr bool is_ident_char(unsigned char c) { return (kClasses.c[c] & kIdentClass) != 0; }
constexpr bool is_space_byte(unsigned char c) { return (kClasses.c[c] & kSpaceClass) != 0; }
// MySQL's "--" comment needs a following space or control character.
constexpr bool is_space_or_control(unsigned char c) { return c <= 0x20 || c == 0x7f; }

enum class HexStyle : std::uint8_t { kNone, kNumber, kBlob };

}  // namespace

struct Lexer::Rules {
  bool dq_string;           // "…" is a string literal rather than a quoted identifier
  bool sq_backslash;        // backslash escapes in '…' and "…" strings
  bool brackets;            // […] is a quoted identifier
  bool bracket_doubling;    // ]] escapes ] inside […]
  bool backticks;           // `…` is a quoted identifier
  bool hash_comment;        // # starts a line comment
  bool dash_needs_space;    // -- starts a comment only before a space/control char or the end
  bool nested_comments;     // /* /* */ */ nests
  bool versioned;           // /*! … */ holds code
  bool dollar;              // $tag$…$tag$ strings and $1 parameters
  bool e_strings;           // E'…' with backslash escapes, U&'…', B'…'
  bool q_quotes;            // q'[…]' alternative quoting
  bool bit_literals;        // b'0101' and 0b0101
  bool digit_identifiers;   // 123abc is one identifier
  bool number_junk_error;   // 123abc is an error
  bool x_blobs;             // X'…'
  bool dollar_ident_start;  // $abc is an identifier
  bool cr_ends_comment;     // a -- comment also ends at CR
  HexStyle hex;             // 0x1F
  bool pg_operators;        // operators are runs of operator characters
  bool unknown_is_error;    // a byte that starts no token is kError (else kOperator)
  // Parameter syntax.
  bool q_param_digits;  // ?NNN
  bool colon_param;     // :name, :1
  bool at_param;        // @name
  bool at_at_param;     // @@name, @'name'
  bool dollar_param;    // $name
  bool hash_param;      // #name (SQLite)
  bool hash_ident;      // #name is an identifier (SQL Server temporary tables)
  // Multi-character operators, longest first within a common prefix; single-character
  // operators.
  std::string_view multi_ops[20];
  std::string_view single_ops;
};

namespace {

using Rules = Lexer::Rules;

constexpr Rules kSqliteRules = {
    .dq_string = false,
    .sq_backslash = false,
    .brackets = true,
    .bracket_doubling = false,
    .backticks = true,
    .hash_comment = false,
    .dash_needs_space = false,
    .nested_comments = false,
    .versioned = false,
    .dollar = false,
    .e_strings = false,
    .q_quotes = false,
    .bit_literals = false,
    .digit_identifiers = false,
    .number_junk_error = true,
    .x_blobs = true,
    .dollar_ident_start = false,
    .cr_ends_comment = false,
    .hex = HexStyle::kNumber,
    .pg_operators = false,
    .unknown_is_error = true,
    .q_param_digits = true,
    .colon_param = true,
    .at_param = true,
    .at_at_param = false,
    .dollar_param = true,
    .hash_param = true,
    .hash_ident = false,
    .multi_ops = {"->>", "->", "||", "<<", ">>", "<=", ">=", "==", "!=", "<>"},
    .single_ops = "=<>+-*/%&|~",
};

constexpr Rules kMysqlRules = {
    .dq_string = true,
    .sq_backslash = true,
    .brackets = false,
    .bracket_doubling = false,
    .backticks = true,
    .hash_comment = true,
    .dash_needs_space = true,
    .nested_comments = false,
    .versioned = true,
    .dollar = false,
    .e_strings = false,
    .q_quotes = false,
    .bit_literals = true,
    .digit_identifiers = true,
    .number_junk_error = false,
    .x_blobs = true,
    .dollar_ident_start = true,
    .cr_ends_comment = false,
    .hex = HexStyle::kBlob,
    .pg_operators = false,
    .unknown_is_error = true,
    .q_param_digits = false,
    .colon_param = false,
    .at_param = true,
    .at_at_param = true,
    .dollar_param = false,
    .hash_param = false,
    .hash_ident = false,
    .multi_ops = {"<=>", "->>", "->", ":=", "&&", "||", "<<", ">>", "<=", ">=", "!=", "<>"},
    .single_ops = "=<>+-*/%&|~^!",
};

constexpr Rules kPostgresRules = {
    .dq_string = false,
    .sq_backslash = false,
    .brackets = false,
    .bracket_doubling = false,
    .backticks = false,
    .hash_comment = false,
    .dash_needs_space = false,
    .nested_comments = true,
    .versioned = false,
    .dollar = true,
    .e_strings = true,
    .q_quotes = false,
    .bit_literals = true,
    .digit_identifiers = false,
    .number_junk_error = true,
    .x_blobs = true,
    .dollar_ident_start = false,
    .cr_ends_comment = true,
    .hex = HexStyle::kNumber,
    .pg_operators = true,
    .unknown_is_error = true,
    .q_param_digits = false,
    .colon_param = false,
    .at_param = false,
    .at_at_param = false,
    .dollar_param = false,
    .hash_param = false,
    .hash_ident = false,
    .multi_ops = {"::", ":=", "=>", ".."},
    .single_ops = "",
};

constexpr Rules kMssqlRules = {
    .dq_string = false,
    .sq_backslash = false,
    .brackets = true,
    .bracket_doubling = true,
    .backticks = false,
    .hash_comment = false,
    .dash_needs_space = false,
    .nested_comments = true,
    .versioned = false,
    .dollar = false,
    .e_strings = false,
    .q_quotes = false,
    .bit_literals = false,
    .digit_identifiers = false,
    .number_junk_error = false,
    .x_blobs = false,
    .dollar_ident_start = false,
    .cr_ends_comment = false,
    .hex = HexStyle::kBlob,
    .pg_operators = false,
    .unknown_is_error = true,
    .q_param_digits = false,
    .colon_param = false,
    .at_param = true,
    .at_at_param = true,
    .dollar_param = false,
    .hash_param = false,
    .hash_ident = true,
    .multi_ops = {"::", "<>", "!=", "!<", "!>", "<=", ">=", "+=", "-=", "*=", "/=", "%=", "&=",
                  "|=", "^=", "||"},
    .single_ops = "=<>+-*/%&|~^!",
};

constexpr Rules kOracleRules = {
    .dq_string = false,
    .sq_backslash = false,
    .brackets = false,
    .bracket_doubling = false,
    .backticks = false,
    .hash_comment = false,
    .dash_needs_space = false,
    .nested_comments = false,
    .versioned = false,
    .dollar = false,
    .e_strings = false,
    .q_quotes = true,
    .bit_literals = false,
    .digit_identifiers = false,
    .number_junk_error = false,
    .x_blobs = false,
    .dollar_ident_start = false,
    .cr_ends_comment = false,
    .hex = HexStyle::kNone,
    .pg_operators = false,
    .unknown_is_error = true,
    .q_param_digits = false,
    .colon_param = true,
    .at_param = false,
    .at_at_param = false,
    .dollar_param = false,
    .hash_param = false,
    .hash_ident = false,
    .multi_ops = {"||", "<>", "!=", "^=", "~=", "<=", ">=", "=>", ":=", "**", ".."},
    .single_ops = "=<>+-*/%&|~^!@",
};

// The permissive union: every quote that some dialect reads as a string is a string here, and
// every comment form is a comment, so an input that breaks out anywhere breaks out here.
constexpr Rules kGenericRules = {
    .dq_string = true,
    .sq_backslash = true,
    .brackets = true,
    .bracket_doubling = true,
    .backticks = true,
    .hash_comment = true,
    .dash_needs_space = false,
    .nested_comments = false,
    .versioned = true,
    .dollar = false,
    .e_strings = true,
    .q_quotes = false,
    .bit_literals = true,
    .digit_identifiers = false,
    .number_junk_error = false,
    .x_blobs = true,
    .dollar_ident_start = false,
    .cr_ends_comment = true,
    .hex = HexStyle::kBlob,
    .pg_operators = false,
    .unknown_is_error = false,
    .q_param_digits = true,
    .colon_param = true,
    .at_param = true,
    .at_at_param = true,
    .dollar_param = true,
    .hash_param = false,
    .hash_ident = false,
    .multi_ops = {"<=>", "->>", "->", ":=", "::", "&&", "||", "<<", ">>",
                  "<=", ">=", "==", "!=", "<>"},
    .single_ops = "=<>+-*/%&|~^!",
};

const Rules* rules_for(Dialect d) {
  switch (d) {
    case Dialect::kSqlite:
      return &kSqliteRules;
    case Dialect::kMysql:
      return &kMysqlRules;
    case Dialect::kPostgres:
      return &kPostgresRules;
    case Dialect::kMssql:
      return &kMssqlRules;
    case Dialect::kOracle:
      return &kOracleRules;
    case Dialect::kGeneric:
      break;
  }
  return &kGenericRules;
}

// PostgreSQL operator characters (scan.l: op_chars).
constexpr bool is_pg_op_char(char c) {
  return c != '\0' && std::string_view("~!@#^&|`?+-*/%<>=").find(c) != std::string_view::npos;
}
constexpr bool is_pg_special_op_char(char c) {
  return c != '\0' && std::string_view("~!@#%^&|`?").find(c) != std::string_view::npos;
}

}  // namespace

std::string_view token_kind_name(TokenKind kind) noexcept {
  switch (kind) {
    case TokenKind::kWhitespace:
      return "whitespace";
    case TokenKind::kComment:
      return "comment";
    case TokenKind::kKeyword:
      return "keyword";
    case TokenKind::kIdentifier:
      return "identifier";
    case TokenKind::kQuotedIdentifier:
      return "quoted identifier";
    case TokenKind::kString:
      return "string";
    case TokenKind::kNumber:
      return "number";
    case TokenKind::kBlob:
      return "blob";
    case TokenKind::kParameter:
      return "parameter";
    case TokenKind::kOperator:
      return "operator";
    case TokenKind::kPunctuation:
      return "punctuation";
    case TokenKind::kError:
      return "error";
  }
  return "error";
}

bool is_keyword(std::string_view word) noexcept {
  const std::size_t n = word.size();
  if (n < 2 || n > kMaxKeyword) return false;
  const char first = common::to_lower(word[0]);
  if (first < 'a' || first > 'z') return false;
  const std::size_t letter = static_cast<std::size_t>(first - 'a');
  const std::size_t start = kKeywordBuckets.start[letter][n];
  const std::size_t end = start + kKeywordBuckets.count[letter][n];
  for (std::size_t b = start; b < end; ++b) {
    std::string_view kw = kKeywords[kKeywordBuckets.order[b]];
    std::size_t k = 1;
    while (k < n && common::to_lower(word[k]) == kw[k]) ++k;
    if (k == n) return true;
  }
  return false;
}

Lexer::Lexer(std::string_view text, Dialect dialect) noexcept
    : text_(text.size() >= UINT32_MAX ? std::string_view() : text),
      rules_(rules_for(dialect)),
      dialect_(dialect) {}

void Lexer::lex_string(Token* t, std::uint32_t prefix, char quote, bool backslash,
                       bool doubled) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  std::uint32_t i = pos_ + prefix + 1;
  t->inner_begin = i;
  if (backslash) t->flags |= kBackslashEscapes;
  while (i < n) {
    char c = text_[i];
    if (backslash && c == '\\') {
      i += 2;
      continue;
    }
    if (c == quote) {
      if (doubled && i + 1 < n && text_[i + 1] == quote) {
        i += 2;
        continue;
      }
      t->inner_end = i;
      t->end = pos_ = i + 1;
      return;
    }
    ++i;
  }
  t->flags |= kUnterminated;
  t->inner_end = t->end = pos_ = n;
}

void Lexer::lex_block_comment(Token* t) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  t->kind = TokenKind::kComment;
  std::uint32_t i = pos_ + 2;
  t->inner_begin = i;
  std::uint32_t depth = 1;
  while (i < n) {
    if (text_[i] == '*' && i + 1 < n && text_[i + 1] == '/') {
      if (--depth == 0) {
        t->inner_end = i;
        t->end = pos_ = i + 2;
        return;
      }
      i += 2;
    } else if (rules_->nested_comments && text_[i] == '/' && i + 1 < n && text_[i + 1] == '*') {
      if (depth < UINT32_MAX) ++depth;
      i += 2;
    } else {
      ++i;
    }
  }
  t->flags |= kUnterminated;
  t->inner_end = t->end = pos_ = n;
}

void Lexer::lex_number(Token* t) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  const std::uint32_t start = pos_;
  std::uint32_t i = pos_;
  t->kind = TokenKind::kNumber;
  auto digit = [&](std::uint32_t k) { return k < n && common::is_digit(text_[k]); };
  auto ident = [&](std::uint32_t k) {
    return k < n && is_ident_char(static_cast<unsigned char>(text_[k]));
  };
  bool integer = true;
  const char radix = i + 2 < n && text_[i] == '0' ? common::to_lower(text_[i + 1]) : '\0';
  if (radix == 'x' && rules_->hex != HexStyle::kNone && common::is_xdigit(text_[i + 2])) {
    i += 2;
    std::uint32_t first = i;
    while (i < n && common::is_xdigit(text_[i])) ++i;
    t->kind = rules_->hex == HexStyle::kBlob ? TokenKind::kBlob : TokenKind::kNumber;
    // SQLite: a hex integer wider than 64 bits is an error ("hex literal too big").
    while (first < i && text_[first] == '0') ++first;
    if (dialect_ == Dialect::kSqlite && i - first > 16) t->kind = TokenKind::kError;
  } else if (radix == 'b' && rules_->bit_literals && (text_[i + 2] == '0' || text_[i + 2] == '1')) {
    i += 2;
    while (i < n && (text_[i] == '0' || text_[i] == '1')) ++i;
    // PostgreSQL 16 reads 0b101 as an integer, MySQL as a bit-value literal.
    t->kind = dialect_ == Dialect::kPostgres ? TokenKind::kNumber : TokenKind::kBlob;
  } else if (radix == 'o' && dialect_ == Dialect::kPostgres && text_[i + 2] >= '0' &&
             text_[i + 2] <= '7') {
    i += 2;
    while (i < n && text_[i] >= '0' && text_[i] <= '7') ++i;
  } else {
    auto digits = [&] {
      while (digit(i) || (dialect_ == Dialect::kPostgres && i < n && text_[i] == '_' &&
                          digit(i + 1) && i > start && common::is_digit(text_[i - 1])))
        ++i;
    };
    digits();
    if (i < n && text_[i] == '.' &&
        !(i + 1 < n && text_[i + 1] == '.' && dialect_ == Dialect::kPostgres)) {
      integer = false;
      ++i;
      digits();
    }
    if (i < n && (text_[i] == 'e' || text_[i] == 'E')) {
      std::uint32_t k = i + 1;
      if (k < n && (text_[k] == '+' || text_[k] == '-')) ++k;
      if (digit(k)) {
        integer = false;
        i = k;
        digits();
      }
    }
  }
  if (ident(i)) {
    if (rules_->digit_identifiers && (integer || t->kind == TokenKind::kBlob)) {
      // MySQL: "123abc" and "0x1g" are identifiers (names may start with digits).
      while (ident(i)) ++i;
      t->kind = TokenKind::kIdentifier;
    } else if (rules_->number_junk_error) {
      while (ident(i)) ++i;
      t->kind = TokenKind::kError;
    }
  }
  t->inner_begin = start;
  t->end = t->inner_end = pos_ = i;
}

// X'..', B'..', N'..', E'..', U&'..', _charset'..', q'[..]' — a literal whose prefix is a word.
// Called with pos_ at the word and word_end past it; returns false if the word is no prefix.
bool Lexer::lex_prefixed_literal(Token* t, std::uint32_t word_end) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  const std::uint32_t len = word_end - pos_;
  if (word_end >= n) return false;
  const char next = text_[word_end];
  const char c0 = common::to_lower(text_[pos_]);
  const bool sq_backslash = rules_->sq_backslash;
  if (next == '\'' && len == 1) {
    if (c0 == 'x' && rules_->x_blobs) {
      lex_string(t, 1, '\'', false, false);
      t->kind = TokenKind::kBlob;
      bool ok = !t->unterminated();
      for (std::uint32_t k = t->inner_begin; ok && k < t->inner_end; ++k)
        ok = common::is_xdigit(text_[k]);
      // SQLite and MySQL want an even number of hex digits; PostgreSQL any.
      if (ok && dialect_ != Dialect::kPostgres && ((t->inner_end - t->inner_begin) & 1u))
        ok = false;
      if (!ok && !t->unterminated()) t->kind = TokenKind::kError;
      return true;
    }
    if (c0 == 'b' && rules_->bit_literals) {
      lex_string(t, 1, '\'', false, false);
      t->kind = TokenKind::kBlob;
      bool ok = !t->unterminated();
      for (std::uint32_t k = t->inner_begin; ok && k < t->inner_end; ++k)
        ok = text_[k] == '0' || text_[k] == '1';
      if (!ok && !t->unterminated()) t->kind = TokenKind::kError;
      return true;
    }
    if (c0 == 'n' && dialect_ != Dialect::kSqlite) {
      lex_string(t, 1, '\'', sq_backslash, true);
      t->kind = TokenKind::kString;
      return true;
    }
    if (c0 == 'e' && rules_->e_strings) {
      lex_string(t, 1, '\'', true, true);
      t->kind = TokenKind::kString;
      return true;
    }
    if (c0 == 'q' && rules_->q_quotes) {
      // q'<delim>…<closing delim>'
      t->kind = TokenKind::kString;
      std::uint32_t d = word_end + 1;
      if (d >= n || common::is_space(text_[d])) {
        // q' needs a delimiter character: what follows is read as a plain (invalid) literal.
        lex_string(t, 1, '\'', false, true);
        t->kind = TokenKind::kError;
        return true;
      }
      char open = text_[d];
      char close = open == '['   ? ']'
                   : open == '{' ? '}'
                   : open == '(' ? ')'
                   : open == '<' ? '>'
                                 : open;
      t->inner_begin = d + 1;
      for (std::uint32_t k = d + 1; k + 1 < n; ++k) {
        if (text_[k] == close && text_[k + 1] == '\'') {
          t->inner_end = k;
          t->end = pos_ = k + 2;
          return true;
        }
      }
      t->flags |= kUnterminated;
      t->inner_end = t->end = pos_ = n;
      return true;
    }
  }
  if (rules_->q_quotes && len == 2 && next == '\'' && c0 == 'n' &&
      common::to_lower(text_[pos_ + 1]) == 'q') {
    // nq'[…]': re-lex from the q.
    std::uint32_t start = pos_;
    ++pos_;
    bool r = lex_prefixed_literal(t, word_end);
    t->begin = start;
    return r;
  }
  if (rules_->e_strings && dialect_ == Dialect::kPostgres && len == 1 && c0 == 'u' && next == '&' &&
      word_end + 1 < n && (text_[word_end + 1] == '\'' || text_[word_end + 1] == '"')) {
    char q = text_[word_end + 1];
    lex_string(t, 2, q, false, true);
    t->kind = q == '\'' ? TokenKind::kString : TokenKind::kQuotedIdentifier;
    return true;
  }
  if (dialect_ == Dialect::kMysql && text_[pos_] == '_' && len > 1 &&
      (next == '\'' || next == '"')) {
    // A character set introducer: _utf8mb4'…', _binary'…'.
    lex_string(t, len, next, true, true);
    t->kind = TokenKind::kString;
    return true;
  }
  return false;
}

bool Lexer::lex_word(Token* t) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  std::uint32_t i = pos_ + 1;
  while (i < n && is_ident_char(static_cast<unsigned char>(text_[i]))) ++i;
  if (rules_->hash_ident || dialect_ == Dialect::kOracle) {
    // SQL Server names may hold # and @, Oracle names #.
    while (i < n && (is_ident_char(static_cast<unsigned char>(text_[i])) || text_[i] == '#' ||
                     (rules_->hash_ident && text_[i] == '@')))
      ++i;
  }
  if (i < n && (text_[i] == '\'' || text_[i] == '"' || text_[i] == '&') &&
      lex_prefixed_literal(t, i))
    return true;
  t->kind = is_keyword(text_.substr(pos_, i - pos_)) ? TokenKind::kKeyword : TokenKind::kIdentifier;
  t->inner_begin = pos_;
  t->end = t->inner_end = pos_ = i;
  return true;
}

// $1, $tag$…$tag$ (PostgreSQL).
bool Lexer::lex_dollar(Token* t) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  std::uint32_t i = pos_ + 1;
  if (i < n && common::is_digit(text_[i])) {
    while (i < n && common::is_digit(text_[i])) ++i;
    t->kind = TokenKind::kParameter;
    t->inner_begin = pos_;
    t->end = t->inner_end = pos_ = i;
    return true;
  }
  if (i < n && is_ident_start(static_cast<unsigned char>(text_[i]))) {
    while (i < n && is_ident_char(static_cast<unsigned char>(text_[i])) && text_[i] != '$') ++i;
  }
  if (i >= n || text_[i] != '$') return false;
  // The delimiter is text_[pos_ .. i]; the tag holds no '$', so a failed comparison stops at
  // the next '$' at the latest and the search stays linear.
  std::string_view delim = text_.substr(pos_, i + 1 - pos_);
  t->kind = TokenKind::kString;
  t->inner_begin = i + 1;
  std::uint32_t k = i + 1;
  while (k < n) {
    if (text_[k] == '$' && text_.substr(k, delim.size()) == delim) {
      t->inner_end = k;
      t->end = pos_ = k + static_cast<std::uint32_t>(delim.size());
      return true;
    }
    ++k;
  }
  t->flags |= kUnterminated;
  t->inner_end = t->end = pos_ = n;
  return true;
}

bool Lexer::match_multi_op(Token* t, std::string_view rest) noexcept {
  for (std::string_view op : rules_->multi_ops) {
    if (op.empty()) break;
    if (op[0] != rest[0] || op.size() > rest.size()) continue;
    bool same = true;
    for (std::size_t k = 1; k < op.size() && same; ++k) same = op[k] == rest[k];
    if (!same) continue;
    t->kind = TokenKind::kOperator;
    t->end = t->inner_end = pos_ += static_cast<std::uint32_t>(op.size());
    return true;
  }
  return false;
}

void Lexer::lex_operator(Token* t) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  std::string_view rest = text_.substr(pos_);
  t->inner_begin = pos_;
  if (rules_->pg_operators) {
    if (match_multi_op(t, rest)) return;
    if (is_pg_op_char(rest[0])) {
      // scan.l: the longest run of operator characters, cut before a comment start; a
      // multi-character operator cannot end in + or - unless it contains one of ~!@#%^&|`?.
      std::uint32_t i = pos_;
      bool special = false;
      while (i < n && is_pg_op_char(text_[i])) {
        if (i > pos_ && ((text_[i] == '-' && i + 1 < n && text_[i + 1] == '-') ||
                         (text_[i] == '/' && i + 1 < n && text_[i + 1] == '*')))
          break;
        if (is_pg_special_op_char(text_[i])) special = true;
        ++i;
      }
      if (!special) {
        while (i - pos_ > 1 && (text_[i - 1] == '+' || text_[i - 1] == '-')) --i;
      }
      t->kind = TokenKind::kOperator;
      t->end = t->inner_end = pos_ = i;
      return;
    }
  } else {
    if (match_multi_op(t, rest)) return;
    if (rest[0] != '\0' && rules_->single_ops.find(rest[0]) != std::string_view::npos) {
      t->kind = TokenKind::kOperator;
      t->end = t->inner_end = ++pos_;
      return;
    }
  }
  // A byte no token starts with; a run of the same byte is one token (as SQLite reports one
  // "unrecognized token"), which also keeps pathological texts from one token per byte.
  t->kind = rules_->unknown_is_error ? TokenKind::kError : TokenKind::kOperator;
  std::uint32_t i = pos_ + 1;
  if (t->kind == TokenKind::kError)
    while (i < n && text_[i] == text_[pos_]) ++i;
  t->end = t->inner_end = pos_ = i;
}

bool Lexer::next(Token* t) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  if (pos_ >= n) return false;
  const std::uint32_t start = pos_;
  const unsigned char c = static_cast<unsigned char>(text_[start]);
  t->flags = 0;
  t->begin = t->inner_begin = start;
  // The two most frequent tokens are handled here, the rest out of line: white space and words.
  if (is_space_byte(c)) {
    std::uint32_t i = start + 1;
    while (i < n && is_space_byte(static_cast<unsigned char>(text_[i]))) ++i;
    t->kind = TokenKind::kWhitespace;
    t->end = t->inner_end = pos_ = i;
    return true;
  }
  if (is_ident_start(c)) return lex_word(t);
  return next_other(t);
}

bool Lexer::next_other(Token* t) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  const std::uint32_t start = pos_;
  const unsigned char c = static_cast<unsigned char>(text_[start]);
  const Rules& r = *rules_;
  if ((c == '$' && r.dollar_ident_start) || (c == '#' && r.hash_ident)) return lex_word(t);

  const char c1 = start + 1 < n ? text_[start + 1] : '\0';
  auto finish = [&](TokenKind kind, std::uint32_t end) {
    t->kind = kind;
    t->end = t->inner_end = pos_ = end;
    return true;
  };
  auto line_comment = [&](std::uint32_t skip) {
    std::uint32_t i = start + skip;
    while (i < n && text_[i] != '\n' && !(r.cr_ends_comment && text_[i] == '\r')) ++i;
    t->inner_begin = start + skip;
    return finish(TokenKind::kComment, i);
  };
  auto ident_run = [&](std::uint32_t from) {
    std::uint32_t i = from;
    while (i < n && is_ident_char(static_cast<unsigned char>(text_[i]))) ++i;
    return i;
  };
  auto quoted = [&](char quote, bool backslash, bool doubled, TokenKind kind) {
    lex_string(t, 0, quote, backslash, doubled);
    t->kind = kind;
    return true;
  };

  switch (c) {
    case '(':
    case ')':
    case ',':
    case ';':
    case ']':
    case '{':
    case '}':
      return finish(TokenKind::kPunctuation, start + 1);
    case '[':
      if (r.brackets) return quoted(']', false, r.bracket_doubling, TokenKind::kQuotedIdentifier);
      return finish(TokenKind::kPunctuation, start + 1);
    case '.':
      if (common::is_digit(c1)) {
        lex_number(t);
        return true;
      }
      if (c1 == '.' && r.pg_operators) return finish(TokenKind::kOperator, start + 2);
      return finish(TokenKind::kPunctuation, start + 1);
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
      lex_number(t);
      return true;
    case '\'':
      return quoted('\'', r.sq_backslash, true, TokenKind::kString);
    case '"':
      if (r.dq_string) return quoted('"', r.sq_backslash, true, TokenKind::kString);
      return quoted('"', false, true, TokenKind::kQuotedIdentifier);
    case '`':
      if (r.backticks) return quoted('`', false, true, TokenKind::kQuotedIdentifier);
      break;
    case '-':
      if (c1 == '-' && (!r.dash_needs_space || start + 2 >= n ||
                        is_space_or_control(static_cast<unsigned char>(text_[start + 2]))))
        return line_comment(2);
      break;
    case '#':
      if (r.hash_comment) return line_comment(1);
      if (r.hash_param && is_ident_char(static_cast<unsigned char>(c1)))
        return finish(TokenKind::kParameter, ident_run(start + 1));
      break;
    case '*':
      if (in_versioned_ && c1 == '/') {
        in_versioned_ = false;
        t->flags |= kVersionedClose;
        return finish(TokenKind::kComment, start + 2);
      }
      break;
    case '/':
      if (c1 != '*') break;
      if (r.versioned && !in_versioned_ && start + 2 < n &&
          (text_[start + 2] == '!' ||
           (start + 3 < n && (text_[start + 2] == 'M' || text_[start + 2] == 'm') &&
            text_[start + 3] == '!'))) {
        // MySQL/MariaDB executable comment: "/*!", "/*!50000", "/*M!100100"; its body is code.
        std::uint32_t i = start + (text_[start + 2] == '!' ? 3 : 4);
        std::uint32_t digits = 0;
        while (i < n && digits < 6 && common::is_digit(text_[i])) ++i, ++digits;
        in_versioned_ = true;
        t->flags |= kVersionedOpen;
        return finish(TokenKind::kComment, i);
      }
      lex_block_comment(t);
      return true;
    case '?':
      if (r.pg_operators) break;  // PostgreSQL: a JSON operator character
      {
        std::uint32_t i = start + 1;
        if (r.q_param_digits)
          while (i < n && common::is_digit(text_[i])) ++i;
        return finish(TokenKind::kParameter, i);
      }
    case ':':
      if (r.colon_param && is_ident_char(static_cast<unsigned char>(c1)))
        return finish(TokenKind::kParameter, ident_run(start + 1));
      // ":=" and "::" are operators where the dialect has them; a lone colon is an array-slice
      // or label separator, or a byte SQLite and MySQL reject.
      if (c1 == '=' || c1 == ':') break;
      return finish(dialect_ == Dialect::kSqlite || dialect_ == Dialect::kMysql
                        ? TokenKind::kError
                        : TokenKind::kPunctuation,
                    start + 1);
    case '$':
      if (r.dollar && lex_dollar(t)) return true;
      if (r.dollar_param && is_ident_char(static_cast<unsigned char>(c1)))
        return finish(TokenKind::kParameter, ident_run(start + 1));
      break;
    case '@': {
      if (!r.at_param && !r.at_at_param) break;
      std::uint32_t i = start + 1;
      if (r.at_at_param && c1 == '@') {
        ++i;
      } else if (r.at_at_param && (c1 == '\'' || c1 == '"' || c1 == '`')) {
        // @'user variable'
        lex_string(t, 1, c1, c1 != '`' && r.sq_backslash, true);
        t->kind = TokenKind::kParameter;
        return true;
      }
      std::uint32_t e = i;
      // @@session.sql_mode: dots separate scope and name.
      while (e < n && (is_ident_char(static_cast<unsigned char>(text_[e])) ||
                       (r.at_at_param && text_[e] == '.' && i == start + 2) ||
                       (r.hash_ident && (text_[e] == '@' || text_[e] == '#'))))
        ++e;
      if (e > i || (r.at_at_param && i == start + 2)) return finish(TokenKind::kParameter, e);
      if (r.single_ops.find('@') == std::string_view::npos) {
        std::uint32_t run = start + 1;
        while (run < n && text_[run] == '@') ++run;
        return finish(TokenKind::kError, run);
      }
      break;
    }
    default:
      break;
  }
  lex_operator(t);
  return true;
}

void tokenize(std::string_view text, Dialect dialect, std::vector<Token>* out) {
  // Tokens are written in place (no copy per token). The vector grows geometrically but first
  // uses the capacity a previous call left, and is cut to size at the end; growing it
  // value-initialises only the part added.
  Lexer lexer(text, dialect);
  std::size_t count = 0;
  out->resize(
      std::min<std::size_t>(std::max<std::size_t>(out->capacity(), 64), text.size() / 4 + 64));
  Token* data = out->data();
  std::size_t size = out->size();
  for (;;) {
    if (count == size) {
      out->resize(out->capacity() > size ? std::min(out->capacity(), 2 * size) : 2 * size);
      data = out->data();
      size = out->size();
    }
    if (!lexer.next(data + count)) break;
    ++count;
  }
  out->resize(count);
}

}  // namespace vigil::tokenize::sql
