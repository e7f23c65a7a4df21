// SQL injection: does an input that occurs in a statement stay one piece of data?
//
// The statement is tokenized once with its dialect's lexer. For each occurrence the tokens it
// overlaps decide:
//   - inside one string literal: data, unless its escapes were interpreted (MySQL \' and
//     control escapes, any escape in a stored value, a PostgreSQL E'' escape that is not valid
//     text) or it holds one quote of the literal (it ended the literal, or opened one);
//   - exactly one literal (number with an optional sign, string, blob), adjacent strings MySQL
//     joins into one, digits of any script: data;
//   - exactly one identifier, or a list of (qualified) identifiers with ASC/DESC, where the
//     application placed a name (ORDER BY, a select list): data; an identifier or keyword
//     where it placed a value (after =, in an IN list, after LIMIT) is an expression: injection;
//   - a list of literals inside IN (…): data;
//   - only white space where a value belongs: injection (the statement no longer parses);
//   - anything else that crosses a token boundary, opens or closes a literal or comment, or adds
//     keywords, operators, separators or parentheses: injection — except where the database
//     rejects the statement before anything runs: MySQL's LIMIT takes only an integer or a name
//     as its first token, and SQLite fails a LIMIT whose value is not an integer (evaluated by
//     tokenize/sql/sqlite_limit).
// An input that is only names and keywords (where a value belongs, or across tokens) is the
// application's own words, found by chance, when it also lies as data inside a string literal of
// the same statement.
//
// Work per occurrence is independent of the statement's length (memos per literal and per
// LIMIT clause); the token vector is a reused thread-local buffer.
#include <algorithm>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/ascii.hpp"
#include "core/detect/detector.hpp"
#include "core/tokenize/sql/sql_tokenizer.hpp"
#include "core/tokenize/sql/sqlite_limit.hpp"

namespace vigil::detect {
namespace {

using tokenize::sql::Token;
using tokenize::sql::TokenKind;

constexpr std::uint32_t kNoIndex = UINT32_MAX;
// How far back a comma's list owner is looked for; a longer list is judged without it.
constexpr std::uint32_t kMaxListWalk = 512;
constexpr std::size_t kMaxNotes = 16;

// What an input did; kNoIndex when it stayed data.
enum class Change : std::uint8_t {
  kNone,
  kBrokeOut,        // closed the literal or comment it started in, and went on
  kCrossed,         // spans several tokens that are not one piece of data
  kUnterminated,    // left a literal open
  kNameAsValue,     // a name where a value belongs: reads a column or calls a function
  kKeywordAsValue,  // a keyword where a value or a name belongs
  kLiteralAsName,   // a string constant where a name belongs
  kEscapes,         // its backslash escapes were interpreted: the literal holds another value
  kInvalidEscape,   // its escape makes the literal invalid text: the statement fails
  kMissingValue,    // only white space where a value belongs
  kComment,         // opened or closed a comment
  kStraddle,        // holds one quote of a literal: ended or opened it (see resolve_straddle)
  kToken,           // is a single operator, punctuation, parameter or rejected byte
};

// What the application's grammar expects at a position, judged from the tokens before it.
enum class Slot : std::uint8_t {
  kUnknown,  // statement start, or nothing decisive
  kValue,    // a value: after a comparison or arithmetic operator, LIMIT, LIKE, in IN (…)
  kName,     // a name: after ORDER BY / GROUP BY / SELECT / FROM, after a '.'
  kExpr,     // an expression where column names are ordinary (WHERE, AND, function args)
};

bool is_trivia(const Token& t) {
  return t.kind == TokenKind::kWhitespace ||
         (t.kind == TokenKind::kComment &&
          (t.flags & (tokenize::sql::kVersionedOpen | tokenize::sql::kVersionedClose)) == 0);
}

bool is_quoted(TokenKind k) {
  return k == TokenKind::kString || k == TokenKind::kQuotedIdentifier || k == TokenKind::kBlob;
}

bool is_literal_keyword(std::string_view w) {
  return common::iequals(w, "null") || common::iequals(w, "true") || common::iequals(w, "false") ||
         common::iequals(w, "unknown") || common::iequals(w, "default");
}

// ---------------------------------------------------------------------------------------------
// Wording of reasons.

std::string quote_text(std::string_view s) {
  std::string out = common::truncate_utf8(s, 40);
  for (char& c : out)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return out;
}

std::string upper(std::string_view s) {
  std::string w = common::truncate_utf8(s, 40);
  for (char& c : w) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return w;
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (k > 0) out += k + 1 == items.size() ? " and " : ", ";
    out += items[k];
  }
  return out;
}

// Words of the keyword table that MySQL does not reserve (it reads them as names).
bool mysql_reserved(std::string_view word) {
  static constexpr std::string_view kNotReserved[] = {
      "attach",   "begin",     "commit",   "deallocate", "detach",    "do",      "end",
      "escape",   "exec",      "execute",  "glob",       "handler",   "ilike",   "isnull",
      "notnull",  "offset",    "pragma",   "prepare",    "raiserror", "reindex", "returning",
      "rollback", "savepoint", "shutdown", "similar",    "some",      "top",     "transaction",
      "truncate", "unknown",   "vacuum",   "view",       "waitfor"};
  for (std::string_view w : kNotReserved)
    if (common::iequals(word, w)) return false;
  return true;
}

class Judge {
 public:
  Judge(std::string_view text, Dialect dialect, std::span<const Token> tokens)
      : text_(text), dialect_(dialect), tokens_(tokens) {
    // INSERT/UPDATE/REPLACE store their literals: any change of a literal's value shows.
    std::uint32_t f = next_sig(kNoIndex, static_cast<std::uint32_t>(tokens_.size()));
    stores_ = f != kNoIndex && (is_kw(f, "insert") || is_kw(f, "update") || is_kw(f, "replace"));
  }

  // What the occurrence did to the statement (kNoIndex: it stayed data). `value` is the input's
  // value as received.
  Change change(const Occurrence& occ, std::string_view value) const;

  // An occurrence holding one quote of a literal is coincidental when the same input also lies
  // wholly inside that literal's content (a run of quotes, as in '''''' for the input ''), or
  // when the literal, unescaped, holds the input as sent (an application's escaping).
  Change resolve_straddle(const Occurrence& occ, std::span<const Occurrence> all,
                          std::string_view value) const {
    std::uint32_t b = occ.begin, e = occ.end;
    trim(&b, &e);
    const std::uint32_t i = token_at(b);
    if (straddle_token_ == i && straddle_input_ == occ.input) return straddle_result_;
    straddle_token_ = i;
    straddle_input_ = occ.input;
    straddle_result_ = resolve_straddle_once(i, occ, all, value);
    return straddle_result_;
  }

  // An occurrence made only of words (names and keywords, qualified names) that the
  // statement reads as code is coincidental when the same input also lies, as data, wholly
  // inside a string literal's content: the application quoted the input there, and its own
  // text holds the same words (a search for "left join" or "lower" in a statement that joins
  // or lower-cases). The words an attacker needs to change a statement come with a quote, an
  // operator or a number unless the application also pastes the input raw into the same
  // statement; that double use, with an injection of words alone, is what this lets pass.
  bool words_found_by_chance(const Occurrence& occ, std::span<const Occurrence> all,
                             std::string_view value) const;

  Change resolve_straddle_once(std::uint32_t i, const Occurrence& occ,
                               std::span<const Occurrence> all, std::string_view value) const {
    const Token& t = tokens_[i];
    if (decodes_to(t, value)) return Change::kNone;
    for (const Occurrence& o : all) {
      if (o.input != occ.input || o.element != occ.element) continue;
      std::uint32_t ob = o.begin, oe = o.end;
      trim(&ob, &oe);
      if (ob >= t.inner_begin && oe <= t.inner_end && ob < oe) return Change::kNone;
    }
    return Change::kBrokeOut;
  }

  // One sentence saying what the input at [begin, end) did, and the tokens involved.
  void explain(std::uint32_t begin, std::uint32_t end, Change change, Detection* d) const;
  std::string describe_tokens(std::uint32_t b, std::uint32_t e, std::uint32_t i,
                              std::uint32_t j) const;

  // The non-space span of [begin, end); empty when the input is only space.
  void trim(std::uint32_t* begin, std::uint32_t* end) const noexcept {
    while (*begin < *end && common::is_space(text_[*begin])) ++*begin;
    while (*end > *begin && common::is_space(text_[*end - 1])) --*end;
  }

  // Index of the token holding byte `pos` (pos < text size).
  std::uint32_t token_at(std::uint32_t pos) const noexcept {
    auto it = std::upper_bound(tokens_.begin(), tokens_.end(), pos,
                               [](std::uint32_t p, const Token& t) { return p < t.end; });
    return static_cast<std::uint32_t>(it - tokens_.begin());
  }

 private:
  std::string_view tok(std::uint32_t i) const { return tokens_[i].text(text_); }
  bool is_kw(std::uint32_t i, std::string_view w) const {
    return tokens_[i].kind == TokenKind::kKeyword && common::iequals(tok(i), w);
  }
  bool is_punct(std::uint32_t i, char c) const {
    return tokens_[i].kind == TokenKind::kPunctuation && text_[tokens_[i].begin] == c;
  }
  bool is_op(std::uint32_t i, std::string_view op) const {
    return tokens_[i].kind == TokenKind::kOperator && tok(i) == op;
  }
  std::uint32_t prev_sig(std::uint32_t i) const {
    while (i > 0) {
      --i;
      if (!is_trivia(tokens_[i])) return i;
    }
    return kNoIndex;
  }
  // The first significant token after i (i == kNoIndex: from the start).
  std::uint32_t next_sig(std::uint32_t i, std::uint32_t limit) const {
    for (i = i == kNoIndex ? 0 : i + 1; i < limit; ++i)
      if (!is_trivia(tokens_[i])) return i;
    return kNoIndex;
  }

  // "SET n = n + 1" (or ", n = n - 1"): the identifier at i is the value of an assignment to
  // the same column, in arithmetic on it. An application's counter update; an attacker who
  // supplies the name there changes nothing ("WHERE n = n", a tautology, is not this).
  bool self_update(std::uint32_t i) const {
    const std::uint32_t eq = prev_sig(i);
    if (eq == kNoIndex || !is_op(eq, "=")) return false;
    const std::uint32_t col = prev_sig(eq);
    if (col == kNoIndex || tokens_[col].kind != TokenKind::kIdentifier ||
        !common::iequals(tok(col), tok(i)))
      return false;
    const std::uint32_t before = prev_sig(col);
    if (before == kNoIndex || !(is_kw(before, "SET") || is_punct(before, ','))) return false;
    const std::uint32_t op = next_sig(i, static_cast<std::uint32_t>(tokens_.size()));
    if (op == kNoIndex || tokens_[op].kind != TokenKind::kOperator) return false;
    const std::string_view o = tok(op);
    return o == "+" || o == "-" || o == "*" || o == "/" || o == "||";
  }
  Slot slot_before(std::uint32_t i) const;
  Slot slot_after_keyword(std::uint32_t k) const;
  Slot list_owner(std::uint32_t comma) const;
  Change single_token_change(std::uint32_t i, const Occurrence& occ, std::uint32_t b,
                             std::uint32_t e, std::string_view value) const;
  Change escapes_change(std::uint32_t i, const Occurrence& occ, std::uint32_t b, std::uint32_t e,
                        std::string_view value) const;
  const std::uint8_t* escape_starts(std::uint32_t i) const;
  bool careful_literal(std::uint32_t i, const Occurrence& occ, std::string_view value,
                       std::string_view span) const;
  bool decodes_to(const Token& t, std::string_view needle) const;
  Change blank_change(std::uint32_t begin) const;
  bool name_slot(std::uint32_t i) const;
  std::uint32_t limit_keyword(std::uint32_t i) const;
  bool mysql_limit_rejects(std::uint32_t i, std::uint32_t j) const;
  bool sqlite_limit_fails(std::uint32_t i) const;
  bool is_data_sequence(std::uint32_t i, std::uint32_t j) const;
  bool is_signed_number(std::uint32_t i, std::uint32_t j) const;
  bool is_name_list(std::uint32_t i, std::uint32_t j) const;
  bool is_literal_list(std::uint32_t i, std::uint32_t j) const;
  bool is_string_sequence(std::uint32_t i, std::uint32_t j) const;
  bool in_value_list(std::uint32_t i) const;

  std::string_view text_;
  Dialect dialect_;
  std::span<const Token> tokens_;
  bool stores_ = false;

  // words_found_by_chance(): whether `input` lies as data inside a literal.
  struct QuotedMemo {
    std::uint32_t input = kNoIndex;
    bool quoted = false;
  };
  static constexpr std::size_t kQuotedMemo = 64;
  mutable QuotedMemo quoted_memo_[kQuotedMemo];
  // Per-call memos that keep the work per occurrence independent of a literal's length.
  struct CarefulMemo {
    std::uint32_t token = kNoIndex;
    std::uint32_t input = kNoIndex;
    Form form = Form::kRaw;
    bool careful = false;
  };
  static constexpr std::size_t kCarefulMemo = 8;
  mutable CarefulMemo careful_memo_[kCarefulMemo];
  mutable std::size_t careful_next_ = 0;
  mutable std::uint32_t escape_token_ = kNoIndex;
  mutable std::uint32_t straddle_token_ = kNoIndex;
  mutable std::uint32_t straddle_input_ = kNoIndex;
  mutable Change straddle_result_ = Change::kNone;
  mutable std::uint32_t limit_token_ = kNoIndex;
  mutable bool limit_mismatch_ = false;
};

Slot Judge::slot_after_keyword(std::uint32_t k) const {
  static constexpr std::string_view kValueKeywords[] = {
      "limit",    "offset", "like", "ilike",   "rlike",  "regexp", "glob",
      "then",     "else",   "when", "between", "is",     "escape", "top",
      "interval", "div",    "mod",  "xor",     "similar"};
  static constexpr std::string_view kNameKeywords[] = {"by",   "select", "distinct", "from",
                                                       "join", "into",   "update",   "table"};
  std::string_view w = tok(k);
  for (std::string_view v : kValueKeywords)
    if (common::iequals(w, v)) return Slot::kValue;
  for (std::string_view v : kNameKeywords)
    if (common::iequals(w, v)) return Slot::kName;
  return Slot::kExpr;
}

// The slot of a list element after `comma`: walks back to the list's owner (an unmatched '('
// and the word before it, or a clause keyword at depth 0).
Slot Judge::list_owner(std::uint32_t comma) const {
  std::uint32_t depth = 0;
  std::uint32_t steps = 0;
  for (std::uint32_t k = comma; k > 0 && steps < kMaxListWalk; ++steps) {
    --k;
    const Token& t = tokens_[k];
    if (t.kind == TokenKind::kPunctuation) {
      char c = text_[t.begin];
      if (c == ')') {
        ++depth;
      } else if (c == '(') {
        if (depth == 0) {
          std::uint32_t p = prev_sig(k);
          if (p != kNoIndex && (is_kw(p, "in") || is_kw(p, "values"))) return Slot::kValue;
          return Slot::kExpr;
        }
        --depth;
      } else if (c == ';') {
        return Slot::kUnknown;
      }
    } else if (t.kind == TokenKind::kKeyword && depth == 0) {
      if (is_kw(k, "limit")) return Slot::kValue;
      if (is_kw(k, "by") || is_kw(k, "select") || is_kw(k, "distinct") || is_kw(k, "from") ||
          is_kw(k, "set"))
        return Slot::kName;
      if (is_kw(k, "values")) return Slot::kValue;
      if (is_kw(k, "asc") || is_kw(k, "desc") || is_kw(k, "as")) continue;
      return Slot::kExpr;
    }
  }
  return Slot::kUnknown;
}

Slot Judge::slot_before(std::uint32_t i) const {
  std::uint32_t p = prev_sig(i);
  if (p == kNoIndex) return Slot::kUnknown;
  const Token& t = tokens_[p];
  switch (t.kind) {
    case TokenKind::kOperator:
      // After a cast comes a type name.
      return tok(p) == "::" ? Slot::kName : Slot::kValue;
    case TokenKind::kKeyword:
      return slot_after_keyword(p);
    case TokenKind::kPunctuation: {
      char c = text_[t.begin];
      if (c == '.') return Slot::kName;
      if (c == ',') return list_owner(p);
      if (c == '(') {
        std::uint32_t q = prev_sig(p);
        if (q != kNoIndex && (is_kw(q, "in") || is_kw(q, "values"))) return Slot::kValue;
        return Slot::kExpr;
      }
      return Slot::kUnknown;
    }
    default:
      return Slot::kExpr;
  }
}

bool Judge::in_value_list(std::uint32_t i) const {
  std::uint32_t p = prev_sig(i);
  if (p == kNoIndex || tokens_[p].kind != TokenKind::kPunctuation) return false;
  char c = text_[tokens_[p].begin];
  return (c == '(' || c == ',') && slot_before(i) == Slot::kValue;
}

// "-1", "+ 2.5": one number with a sign.
bool Judge::is_signed_number(std::uint32_t i, std::uint32_t j) const {
  std::uint32_t k = i;
  for (; k < j; ++k) {
    if (is_trivia(tokens_[k])) continue;
    if (!is_op(k, "-") && !is_op(k, "+")) return false;
  }
  return tokens_[j].kind == TokenKind::kNumber;
}

// name[.name]* [ASC|DESC] [, …]: what a user picks for ORDER BY or a column list.
bool Judge::is_name_list(std::uint32_t i, std::uint32_t j) const {
  // schema.table.column at most (PostgreSQL also takes a database in front).
  const std::uint32_t max_dots =
      dialect_ == Dialect::kPostgres || dialect_ == Dialect::kMssql || dialect_ == Dialect::kGeneric
          ? 3
          : 2;
  enum { kWantName, kAfterName, kAfterDot, kAfterDir } state = kWantName;
  std::uint32_t dots = 0;
  for (std::uint32_t k = i; k <= j; ++k) {
    const Token& t = tokens_[k];
    if (t.kind == TokenKind::kWhitespace) continue;
    bool name = t.kind == TokenKind::kIdentifier || t.kind == TokenKind::kQuotedIdentifier;
    switch (state) {
      case kWantName:
      case kAfterDot:
        if (!name) return false;
        state = kAfterName;
        break;
      case kAfterName:
        if (is_punct(k, '.')) {
          if (++dots > max_dots) return false;
          state = kAfterDot;
        } else if (is_punct(k, ',')) {
          dots = 0;
          state = kWantName;
        } else if (is_kw(k, "asc") || is_kw(k, "desc")) {
          state = kAfterDir;
        } else {
          return false;
        }
        break;
      case kAfterDir:
        if (!is_punct(k, ',')) return false;
        dots = 0;
        state = kWantName;
        break;
    }
  }
  return state == kAfterName || state == kAfterDir;
}

// literal [, literal]*: the elements of an IN (…) list.
bool Judge::is_literal_list(std::uint32_t i, std::uint32_t j) const {
  bool want_item = true;
  for (std::uint32_t k = i; k <= j; ++k) {
    const Token& t = tokens_[k];
    if (t.kind == TokenKind::kWhitespace) continue;
    if (want_item) {
      if (is_op(k, "-") || is_op(k, "+")) continue;
      if (t.kind == TokenKind::kNumber || t.kind == TokenKind::kBlob ||
          (t.kind == TokenKind::kString && !t.unterminated()) ||
          (t.kind == TokenKind::kKeyword && is_literal_keyword(tok(k)))) {
        want_item = false;
        continue;
      }
      return false;
    }
    if (!is_punct(k, ',')) return false;
    want_item = true;
  }
  return !want_item;
}

// A multi-token span [i, j] (both fully covered) that is still data where it stands.
bool Judge::is_data_sequence(std::uint32_t i, std::uint32_t j) const {
  const Slot slot = slot_before(i);
  if (is_signed_number(i, j)) return slot != Slot::kName;
  if (slot != Slot::kValue && is_name_list(i, j)) return true;
  if (in_value_list(i) && is_literal_list(i, j)) return true;
  if (is_string_sequence(i, j)) return true;
  return false;
}

// MySQL reads adjacent string literals as one ('a' 'b' is 'ab'); PostgreSQL does when a line
// break separates them.
bool Judge::is_string_sequence(std::uint32_t i, std::uint32_t j) const {
  if (dialect_ != Dialect::kMysql && dialect_ != Dialect::kPostgres) return false;
  for (std::uint32_t k = i; k <= j; ++k) {
    const Token& t = tokens_[k];
    if (t.kind == TokenKind::kString && !t.unterminated()) continue;
    if (t.kind != TokenKind::kWhitespace) return false;
    if (dialect_ == Dialect::kPostgres && tok(k).find('\n') == std::string_view::npos) return false;
  }
  return true;
}

bool is_unicode_digit(std::uint32_t cp) {
  // Zero code points of Unicode's decimal digit (Nd) blocks; each block holds ten digits.
  static constexpr std::uint32_t kZeros[] = {
      0x0030,  0x0660,  0x06F0,  0x07C0,  0x0966,  0x09E6,  0x0A66,  0x0AE6,  0x0B66,  0x0BE6,
      0x0C66,  0x0CE6,  0x0D66,  0x0DE6,  0x0E50,  0x0ED0,  0x0F20,  0x1040,  0x1090,  0x17E0,
      0x1810,  0x1946,  0x19D0,  0x1A80,  0x1A90,  0x1B50,  0x1BB0,  0x1C40,  0x1C50,  0xA620,
      0xA8D0,  0xA900,  0xA9D0,  0xA9F0,  0xAA50,  0xABF0,  0xFF10,  0x104A0, 0x10D30, 0x11066,
      0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0,
      0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8,
      0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E950, 0x1FBF0};
  for (std::uint32_t z : kZeros)
    if (cp >= z && cp < z + 10) return true;
  return false;
}

// True for a name made only of decimal digits of any script ("١٢٣", "１２３"): an application
// that checks "is it a number?" with Unicode rules inserts it unquoted, as a number.
bool is_digit_word(std::string_view s) {
  if (s.empty()) return false;
  std::size_t k = 0;
  while (k < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[k]);
    std::uint32_t cp;
    std::size_t len;
    if (c < 0x80)
      cp = c, len = 1;
    else if ((c & 0xE0) == 0xC0)
      cp = c & 0x1F, len = 2;
    else if ((c & 0xF0) == 0xE0)
      cp = c & 0x0F, len = 3;
    else if ((c & 0xF8) == 0xF0)
      cp = c & 0x07, len = 4;
    else
      return false;
    if (k + len > s.size()) return false;
    for (std::size_t m = 1; m < len; ++m) {
      unsigned char cc = static_cast<unsigned char>(s[k + m]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!is_unicode_digit(cp)) return false;
    k += len;
  }
  return true;
}

// What MySQL's string scanner does with `\c`. kQuote: the pair is an apostrophe that did not
// end the literal, or a control character (the classic signs of an input probing the quoting);
// kDropped: the backslash is removed or the pair stands for another printable byte; kKept: both
// bytes stay (\% and \_, for LIKE).
enum class Escape : std::uint8_t { kKept, kDropped, kQuote };

Escape mysql_escape(char c) {
  switch (c) {
    case '\'':
    case '0':
    case 'b':
    case 't':
    case 'r':
    case 'Z':
      return Escape::kQuote;
    case '%':
    case '_':
      return Escape::kKept;
    default:
      return Escape::kDropped;
  }
}

// Marks, for literal token i, where each escape pair (a backslash pair or a doubled quote)
// starts: 1 at the pair's first byte. Computed once per token: occurrences come in text order,
// so the one cached token is the one asked for again.
const std::uint8_t* Judge::escape_starts(std::uint32_t i) const {
  thread_local std::vector<std::uint8_t> starts;
  if (escape_token_ == i) return starts.data();
  const Token& t = tokens_[i];
  const char quote = text_[t.inner_begin - 1];
  const bool backslashes = (t.flags & tokenize::sql::kBackslashEscapes) != 0;
  starts.assign(t.inner_end - t.inner_begin + 1, 0);
  for (std::uint32_t k = t.inner_begin; k + 1 < t.inner_end;) {
    char c = text_[k];
    if ((backslashes && c == '\\') || (c == quote && text_[k + 1] == quote)) {
      starts[k - t.inner_begin] = 1;
      k += 2;
    } else {
      ++k;
    }
  }
  escape_token_ = i;
  return starts.data();
}

Change Judge::escapes_change(std::uint32_t i, const Occurrence& occ, std::uint32_t b,
                             std::uint32_t e, std::string_view value) const {
  const Token& t = tokens_[i];
  const std::uint32_t lo = std::max(b, t.inner_begin), hi = std::min(e, t.inner_end);
  if (lo >= hi) return Change::kNone;
  const bool pg = dialect_ == Dialect::kPostgres;
  const std::uint8_t* starts = escape_starts(i);
  bool real = false, dropped = false, invalid = false;
  // A pair that starts at the input's last byte counts too: in MySQL, an input ending in a
  // backslash escapes the application's closing quote (`'x\' AND b = '…`), and the literal then
  // swallows the application's own text.
  for (std::uint32_t k = lo; k < hi && k + 1 < t.inner_end; ++k) {
    if (!starts[k - t.inner_begin]) continue;
    const char n = text_[k + 1];
    if (text_[k] != '\\') {
      dropped = true;  // a doubled quote: two bytes sent, one stored
    } else if (pg) {
      // E'…': an octal or hex escape of a byte outside ASCII, or of NUL, is not valid text.
      if (n >= '0' && n <= '7') {
        unsigned v = 0;
        for (std::uint32_t m = k + 1;
             m < k + 4 && m < t.inner_end && text_[m] >= '0' && text_[m] <= '7'; ++m)
          v = v * 8 + unsigned(text_[m] - '0');
        if (v == 0 || v >= 0x80) invalid = true;
      } else if (n == 'x' && k + 2 < t.inner_end && common::is_xdigit(text_[k + 2])) {
        unsigned v = unsigned(common::hex_value(text_[k + 2]));
        if (k + 3 < t.inner_end && common::is_xdigit(text_[k + 3]))
          v = v * 16 + unsigned(common::hex_value(text_[k + 3]));
        if (v == 0 || v >= 0x80) invalid = true;
      }
    } else {
      Escape x = mysql_escape(n);
      if (x == Escape::kQuote)
        real = true;
      else if (x == Escape::kDropped)
        dropped = true;
    }
    ++k;  // past the pair's second byte
  }
  if (invalid) return Change::kInvalidEscape;
  if (!real && !(dropped && stores_)) return Change::kNone;
  // A careful application escapes the input, and the literal then decodes back to it.
  if (careful_literal(i, occ, value, text_.substr(b, e - b))) return Change::kNone;
  return Change::kEscapes;
}

// decodes_to() for the value as sent or for the occurrence's text, remembered per (literal,
// input, form): every occurrence of one input form in one literal gets the same answer, so a
// literal is decoded a bounded number of times however many occurrences it holds.
bool Judge::careful_literal(std::uint32_t i, const Occurrence& occ, std::string_view value,
                            std::string_view span) const {
  for (const CarefulMemo& m : careful_memo_)
    if (m.token == i && m.input == occ.input && m.form == occ.form) return m.careful;
  bool careful = decodes_to(tokens_[i], value) || decodes_to(tokens_[i], span);
  careful_memo_[careful_next_] = CarefulMemo{i, occ.input, occ.form, careful};
  careful_next_ = (careful_next_ + 1) % kCarefulMemo;
  return careful;
}

// True when the content of literal `t`, with its escapes applied, contains `needle` (ASCII case
// folded). Bounded: very long literals are not decoded and count as not containing it.
bool Judge::decodes_to(const Token& t, std::string_view needle) const {
  constexpr std::size_t kMaxWork = std::size_t(1) << 22;
  std::size_t len = t.inner_end - t.inner_begin;
  if (needle.empty() || len * needle.size() > kMaxWork) return false;
  thread_local std::string decoded;
  decoded.clear();
  const char quote = text_[t.inner_begin - 1];
  const bool backslashes = (t.flags & tokenize::sql::kBackslashEscapes) != 0;
  for (std::uint32_t k = t.inner_begin; k < t.inner_end; ++k) {
    char c = text_[k];
    if (backslashes && c == '\\' && k + 1 < t.inner_end) {
      char n = text_[++k];
      switch (n) {
        case '0':
          decoded.push_back('\0');
          break;
        case 'b':
          decoded.push_back('\b');
          break;
        case 'n':
          decoded.push_back('\n');
          break;
        case 'r':
          decoded.push_back('\r');
          break;
        case 't':
          decoded.push_back('\t');
          break;
        case 'Z':
          decoded.push_back('\x1a');
          break;
        case '%':
        case '_':
          decoded.push_back('\\');
          decoded.push_back(n);
          break;
        default:
          decoded.push_back(n);
          break;
      }
      continue;
    }
    if (c == quote && k + 1 < t.inner_end && text_[k + 1] == quote) ++k;
    decoded.push_back(c);
  }
  if (needle.size() > decoded.size()) return false;
  for (std::size_t p = 0; p + needle.size() <= decoded.size(); ++p) {
    std::size_t m = 0;
    while (m < needle.size() && common::to_lower(decoded[p + m]) == common::to_lower(needle[m]))
      ++m;
    if (m == needle.size()) return true;
  }
  return false;
}

// An input that is only white space: harmless unless it is all the application put where the
// grammar needs a value, which is then missing.
Change Judge::blank_change(std::uint32_t begin) const {
  const std::uint32_t i = token_at(begin);
  if (i >= tokens_.size() || tokens_[i].kind != TokenKind::kWhitespace) return Change::kNone;
  const std::uint32_t p = prev_sig(i);
  if (p == kNoIndex) return Change::kNone;
  const bool needs_value = slot_before(i) == Slot::kValue || is_kw(p, "by");
  if (!needs_value) return Change::kNone;
  const std::uint32_t n = next_sig(i, static_cast<std::uint32_t>(tokens_.size()));
  if (n == kNoIndex) return Change::kMissingValue;
  const Token& t = tokens_[n];
  if (t.kind == TokenKind::kPunctuation) {
    char c = text_[t.begin];
    return (c == ')' || c == ',' || c == ';') ? Change::kMissingValue : Change::kNone;
  }
  if (t.kind == TokenKind::kKeyword && !is_literal_keyword(tok(n)) && !is_kw(n, "not") &&
      !is_kw(n, "case") && !is_kw(n, "cast") && !is_kw(n, "exists") && !is_kw(n, "select") &&
      !is_kw(n, "interval") && !is_kw(n, "binary"))
    return Change::kMissingValue;
  return Change::kNone;
}

Change Judge::single_token_change(std::uint32_t i, const Occurrence& occ, std::uint32_t b,
                                  std::uint32_t e, std::string_view value) const {
  const Token& t = tokens_[i];
  const bool whole = b == t.begin && e == t.end;
  switch (t.kind) {
    case TokenKind::kWhitespace:
      return Change::kNone;
    case TokenKind::kString:
    case TokenKind::kQuotedIdentifier:
    case TokenKind::kBlob:
      if (!t.unterminated()) {
        if (whole && t.kind == TokenKind::kQuotedIdentifier) {
          // SQLite takes an unknown "name" for the string 'name' (the same value an
          // application's quoting gives), except in an IN list, where it compiles the name as a
          // column reference first. Other quoted names are names.
          if (dialect_ == Dialect::kSqlite && text_[t.begin] == '"')
            return in_value_list(i) ? Change::kNameAsValue : Change::kNone;
          return slot_before(i) == Slot::kValue ? Change::kNameAsValue : Change::kNone;
        }
        if (whole && t.kind == TokenKind::kString && dialect_ != Dialect::kSqlite && name_slot(i))
          return Change::kLiteralAsName;
        // Holding one of the literal's quotes but not the other: the input ended the literal
        // the application opened (whose own closing quote then opened another), or opened one
        // the application's quote closes — unless a run of quotes only makes it look so.
        if (!whole && (b < t.inner_begin || e > t.inner_end)) return Change::kStraddle;
        if (t.kind == TokenKind::kString) return escapes_change(i, occ, b, e, value);
        return Change::kNone;
      }
      if (b >= t.inner_begin) {
        // A literal another input left open runs over this one; it is this input's doing only
        // if it holds what could have eaten the closing quote.
        char q = text_[t.inner_begin - 1];
        std::string_view s = text_.substr(b, e - b);
        if (s.find(q) != std::string_view::npos ||
            ((t.flags & tokenize::sql::kBackslashEscapes) &&
             s.find('\\') != std::string_view::npos) ||
            e == text_.size())
          return Change::kUnterminated;
        return Change::kNone;
      }
      return Change::kUnterminated;
    case TokenKind::kComment:
      if (t.flags & (tokenize::sql::kVersionedOpen | tokenize::sql::kVersionedClose))
        return Change::kComment;
      // Inside a comment the statement already had: inert. Opening or closing one: not.
      return b >= t.inner_begin && e <= t.inner_end ? Change::kNone : Change::kComment;
    case TokenKind::kNumber:
      return Change::kNone;
    case TokenKind::kIdentifier:
      if (!whole || is_digit_word(tok(i))) return Change::kNone;
      if (slot_before(i) != Slot::kValue || self_update(i)) return Change::kNone;
      return Change::kNameAsValue;
    case TokenKind::kKeyword: {
      if (!whole || is_literal_keyword(tok(i))) return Change::kNone;
      Slot s = slot_before(i);
      if (s == Slot::kValue || name_slot(i)) return Change::kKeywordAsValue;
      return Change::kNone;
    }
    case TokenKind::kParameter:
      return whole ? Change::kToken : Change::kNone;
    case TokenKind::kOperator:
    case TokenKind::kPunctuation:
    case TokenKind::kError:
      return Change::kToken;
  }
  return Change::kToken;
}

// Directly after ORDER BY / GROUP BY, or after a comma of such a list.
bool Judge::name_slot(std::uint32_t i) const {
  std::uint32_t p = prev_sig(i);
  if (p == kNoIndex) return false;
  if (is_kw(p, "by")) return true;
  return is_punct(p, ',') && slot_before(i) == Slot::kName;
}

// The LIMIT or OFFSET keyword whose value starts at token i ("LIMIT x", "OFFSET x",
// "LIMIT n, x"), or kNoIndex.
std::uint32_t Judge::limit_keyword(std::uint32_t i) const {
  std::uint32_t p = prev_sig(i);
  if (p == kNoIndex) return kNoIndex;
  if (is_kw(p, "limit") || is_kw(p, "offset")) return p;
  if (!is_punct(p, ',')) return kNoIndex;
  std::uint32_t n = prev_sig(p);
  if (n == kNoIndex || tokens_[n].kind != TokenKind::kNumber) return kNoIndex;
  std::uint32_t k = prev_sig(n);
  return k != kNoIndex && is_kw(k, "limit") ? k : kNoIndex;
}

// MySQL's grammar takes only an integer literal, a placeholder or a (procedure variable) name
// after LIMIT and OFFSET (and after "LIMIT n,"): any other first token makes the statement fail
// to parse right there, so nothing after it can run.
bool Judge::mysql_limit_rejects(std::uint32_t i, std::uint32_t j) const {
  if (dialect_ != Dialect::kMysql || limit_keyword(i) == kNoIndex) return false;
  for (std::uint32_t k = i; k <= j; ++k) {
    const Token& t = tokens_[k];
    if (t.kind == TokenKind::kWhitespace || t.kind == TokenKind::kComment) continue;
    if (t.kind == TokenKind::kParameter && tok(k) == "?") return false;
    if (t.kind == TokenKind::kIdentifier || t.kind == TokenKind::kQuotedIdentifier) return false;
    if (t.kind == TokenKind::kKeyword && !mysql_reserved(tok(k))) return false;
    if (t.kind != TokenKind::kNumber) return true;
    for (char c : tok(k))
      if (!common::is_digit(c)) return true;
    return false;
  }
  return false;
}

// SQLite evaluates LIMIT/OFFSET before reading a row and fails the statement unless the value
// is an integer: an input that makes it something else changes nothing the statement returns.
bool Judge::sqlite_limit_fails(std::uint32_t i) const {
  if (dialect_ != Dialect::kSqlite || limit_keyword(i) == kNoIndex) return false;
  std::uint32_t k = i;
  while (k > 0) {
    --k;
    if (is_kw(k, "limit")) break;
    if (is_punct(k, ';')) return false;
  }
  if (!is_kw(k, "limit")) return false;
  if (limit_token_ != k) {  // the clause runs to the end: evaluate it once per call
    limit_token_ = k;
    limit_mismatch_ = tokenize::sql::sqlite_limit_verdict(text_, tokens_, k) ==
                      tokenize::sql::LimitVerdict::kMismatch;
  }
  return limit_mismatch_;
}

Change Judge::change(const Occurrence& occ, std::string_view value) const {
  const std::uint32_t begin = occ.begin;
  std::uint32_t b = occ.begin, e = occ.end;
  trim(&b, &e);
  if (b >= e) return blank_change(begin);
  const std::uint32_t i = token_at(b);
  const std::uint32_t j = token_at(e - 1);
  if (i >= tokens_.size() || j >= tokens_.size()) return Change::kToken;  // tokens cover all
  if (mysql_limit_rejects(i, j) || sqlite_limit_fails(i)) return Change::kNone;
  if (i == j) return single_token_change(i, occ, b, e, value);
  const Token& first = tokens_[i];
  const Token& last = tokens_[j];
  if (is_quoted(first.kind) && b > first.begin) return Change::kBrokeOut;
  if (first.kind == TokenKind::kComment && b > first.begin &&
      !(first.flags & tokenize::sql::kVersionedOpen))
    return Change::kBrokeOut;
  // A span that starts or ends inside a token merged with the application's text.
  if (b != first.begin || e != last.end) return Change::kCrossed;
  if (last.unterminated()) return Change::kCrossed;
  return is_data_sequence(i, j) ? Change::kNone : Change::kCrossed;
}

void Judge::explain(std::uint32_t begin, std::uint32_t end, Change change, Detection* d) const {
  std::uint32_t b = begin, e = end;
  trim(&b, &e);
  if (b >= e) {
    const std::uint32_t i = token_at(begin);
    d->reason =
        "input is only white space where the application placed a value: the statement "
        "is left without one and no longer parses";
    if (i < tokens_.size())
      d->tokens.push_back(note_token("whitespace", tok(i), tokens_[i].begin, tokens_[i].end));
    return;
  }
  const std::uint32_t i = token_at(b);
  const std::uint32_t j = token_at(e - 1);
  const std::uint32_t count = static_cast<std::uint32_t>(tokens_.size());
  for (std::uint32_t k = i; k <= j && k < count && d->tokens.size() < kMaxNotes; ++k) {
    const Token& t = tokens_[k];
    if (t.kind == TokenKind::kWhitespace) continue;
    d->tokens.push_back(note_token(tokenize::sql::token_kind_name(t.kind), tok(k), t.begin, t.end));
  }
  const Token& first = tokens_[i];
  switch (change) {
    case Change::kNameAsValue:
      d->reason = "input is the name " + quote_text(tok(i)) +
                  " where the application placed a value: it reads a column instead of a literal";
      return;
    case Change::kKeywordAsValue:
      d->reason = "input is the keyword " + upper(tok(i)) + " where the application placed a " +
                  (slot_before(i) == Slot::kValue ? "value" : "name");
      return;
    case Change::kLiteralAsName:
      d->reason =
          "input brought its own quotes: a string constant where the application placed "
          "a name";
      return;
    case Change::kEscapes: {
      // Name the first escape pair the input carries.
      std::string pair;
      const std::uint8_t* starts = escape_starts(i);
      for (std::uint32_t k = std::max(b, first.inner_begin); k + 1 < std::min(e, first.inner_end);
           ++k) {
        if (starts[k - first.inner_begin]) {
          pair = std::string(text_.substr(k, 2));
          break;
        }
      }
      d->reason =
          "input's escape " + pair + " was interpreted inside the string literal opened at byte " +
          std::to_string(first.begin) + ": the literal no longer holds the value that was sent";
      return;
    }
    case Change::kInvalidEscape:
      d->reason = "input's escape sequence makes the string literal opened at byte " +
                  std::to_string(first.begin) + " invalid text: the statement fails";
      return;
    case Change::kMissingValue:
    case Change::kNone:
      break;
    case Change::kUnterminated:
      if (i == j) {
        d->reason = b > first.begin ? "input ate the closing quote of the literal opened at byte " +
                                          std::to_string(first.begin) +
                                          ": it now runs to the end of the statement"
                                    : "input opened a literal that runs to the end of the "
                                      "statement";
        return;
      }
      break;
    case Change::kComment:
      if (i == j) {
        if (first.flags & tokenize::sql::kVersionedOpen)
          d->reason = "input opened an executable comment " + quote_text(tok(i));
        else if (first.flags & tokenize::sql::kVersionedClose)
          d->reason = "input closed an executable comment";
        else if (b <= first.begin)
          d->reason = "input opened a comment that hides the rest of the statement";
        else
          d->reason = "input closed the comment opened at byte " + std::to_string(first.begin);
        return;
      }
      break;
    case Change::kToken:
      if (i == j) {
        if (first.kind == TokenKind::kError)
          d->reason = "input is text the database rejects (" + quote_text(tok(i)) +
                      "): the statement fails";
        else
          d->reason = "input is the " + std::string(tokenize::sql::token_kind_name(first.kind)) +
                      " " + quote_text(tok(i)) + " where the application placed a value";
        return;
      }
      break;
    case Change::kBrokeOut:
    case Change::kStraddle:
      if (i == j) {
        std::string what =
            first.kind == TokenKind::kQuotedIdentifier ? "quoted identifier" : "string literal";
        d->reason = b > first.begin
                        ? "input supplied the closing quote of the " + what + " opened at byte " +
                              std::to_string(first.begin) +
                              ": the application's own quote after it starts a new literal"
                        : "input opened a " + what + " that the application's quote at byte " +
                              std::to_string(first.end - 1) + " closes";
        return;
      }
      break;
    case Change::kCrossed:
      break;
  }
  d->reason = describe_tokens(b, e, i, j);
}

// "input closed the string literal opened at byte 33 and added the keyword OR, the operator =
// and a comment that discards the rest of the statement".
std::string Judge::describe_tokens(std::uint32_t b, std::uint32_t e, std::uint32_t i,
                                   std::uint32_t j) const {
  (void)e;
  const std::uint32_t count = static_cast<std::uint32_t>(tokens_.size());
  std::string opening;
  std::string closing;
  const Token& first = tokens_[i];
  if (is_quoted(first.kind) && b > first.begin) {
    opening =
        std::string("input closed the ") +
        (first.kind == TokenKind::kQuotedIdentifier ? "quoted identifier" : "string literal") +
        " opened at byte " + std::to_string(first.begin);
  } else if (first.kind == TokenKind::kComment && b > first.begin &&
             !(first.flags & tokenize::sql::kVersionedOpen)) {
    opening = "input closed the comment opened at byte " + std::to_string(first.begin);
  }
  std::vector<std::string> keywords, operators, others;
  bool comment_to_end = false;
  auto add_unique = [](std::vector<std::string>* v, std::string item) {
    if (v->size() < 6 && std::find(v->begin(), v->end(), item) == v->end())
      v->push_back(std::move(item));
  };
  for (std::uint32_t k = opening.empty() ? i : i + 1; k <= j && k < count; ++k) {
    const Token& t = tokens_[k];
    std::string_view s = tok(k);
    switch (t.kind) {
      case TokenKind::kKeyword:
        add_unique(&keywords, upper(s));
        break;
      case TokenKind::kOperator:
        add_unique(&operators, quote_text(s));
        break;
      case TokenKind::kComment:
        if (t.flags & tokenize::sql::kVersionedOpen)
          add_unique(&others, "an executable comment " + quote_text(s));
        else if (t.flags & tokenize::sql::kVersionedClose)
          add_unique(&others, "the end of an executable comment");
        else if (t.unterminated() || next_sig(k, count) == kNoIndex)
          comment_to_end = true;
        else if (k == j && tokens_[k].end > e)
          comment_to_end = true;
        else
          add_unique(&others, "a comment");
        break;
      case TokenKind::kPunctuation:
        if (s == ";")
          add_unique(&others, "a statement separator ;");
        else if (s == "(" || s == ")")
          add_unique(&others, "parentheses");
        else if (s == ",")
          add_unique(&others, "a list separator ,");
        break;
      case TokenKind::kString:
        if (t.unterminated())
          closing = "left a string literal unterminated";
        else
          add_unique(&others, "a string literal");
        break;
      case TokenKind::kQuotedIdentifier:
        if (t.unterminated())
          closing = "left a quoted identifier unterminated";
        else
          add_unique(&others, "the quoted name " + quote_text(s));
        break;
      case TokenKind::kIdentifier: {
        std::uint32_t n = next_sig(k, count);
        if (n != kNoIndex && is_punct(n, '('))
          add_unique(&others, "a call of " + quote_text(s) + "()");
        else
          add_unique(&others, "the name " + quote_text(s));
        break;
      }
      case TokenKind::kParameter:
        add_unique(&others, "the variable " + quote_text(s));
        break;
      case TokenKind::kError:
        add_unique(&others, "text the database rejects (" + quote_text(s) + ")");
        break;
      default:
        break;
    }
  }
  std::vector<std::string> added;
  if (keywords.size() == 1)
    added.push_back("the keyword " + keywords[0]);
  else if (!keywords.empty())
    added.push_back("the keywords " + join_list(keywords));
  if (operators.size() == 1)
    added.push_back("the operator " + operators[0]);
  else if (!operators.empty())
    added.push_back("the operators " + join_list(operators));
  for (auto& o : others) added.push_back(std::move(o));
  if (comment_to_end) added.push_back("a comment that discards the rest of the statement");

  std::string reason;
  if (!opening.empty()) {
    reason = opening;
    if (!added.empty()) reason += " and added " + join_list(added);
  } else if (added.empty()) {
    reason = "input merged with the statement's own text into different tokens";
  } else {
    reason = "input added " + join_list(added);
  }
  if (!closing.empty()) reason += " and " + closing;
  return reason;
}

// True when every occurrence lies inside the content of one string literal and holds neither
// the literal's quote character nor, where escapes apply, a backslash (a search term in a LIKE
// pattern), inside one number (an id), or inside a word but not all of it: the common benign
// cases. Judge::change finds nothing for such an occurrence (one string token; escapes_change
// sees no escape pair, as escape_starts marks pairs only at a quote or backslash byte; a blank
// one is not in a whitespace token; single_token_change of a number, or of part of an
// identifier or keyword, is kNone), so these statements skip the judge, and the lexer stops at
// the last such token without classifying the words before it. Any other occurrence sends the
// statement down the full path.
bool settled_without_judge(const SinkCheck& check, std::string_view text) {
  tokenize::sql::Lexer lexer(text, check.sink->dialect);
  Token t;
  bool have = false;
  for (const Occurrence& occ : check.occurrences) {  // sorted by begin
    if (occ.end > text.size() || occ.begin >= occ.end || occ.input >= check.inputs.size())
      continue;  // detect_sql skips these too
    if (!have || t.end <= occ.begin) {
      if (!lexer.seek(occ.begin, &t)) return false;
      have = true;
    }
    if (t.kind == TokenKind::kNumber || t.kind == TokenKind::kIdentifier ||
        t.kind == TokenKind::kKeyword) {
      // Inside one number, or inside one word but not all of it (a path segment "product" in
      // the table name "products"): single_token_change of these is kNone.
      if (occ.begin < t.begin || occ.end > t.end) return false;
      if (t.kind != TokenKind::kNumber && occ.begin == t.begin && occ.end == t.end) return false;
      continue;
    }
    if (t.kind != TokenKind::kString || t.unterminated() || occ.begin < t.inner_begin ||
        occ.end > t.inner_end)
      return false;
    const char quote = text[t.inner_begin - 1];
    const bool backslash = (t.flags & tokenize::sql::kBackslashEscapes) != 0;
    for (std::uint32_t k = occ.begin; k < occ.end; ++k)
      if (text[k] == quote || (backslash && text[k] == '\\')) return false;
  }
  return true;
}

bool Judge::words_found_by_chance(const Occurrence& occ, std::span<const Occurrence> all,
                                  std::string_view value) const {
  std::uint32_t b = occ.begin, e = occ.end;
  trim(&b, &e);
  if (b >= e) return false;
  // (It may begin or end inside a word: "id WHERE" in "category_id WHERE".)
  const std::uint32_t i = token_at(b), j = token_at(e - 1);
  if (i >= tokens_.size() || j >= tokens_.size()) return false;
  for (std::uint32_t k = i; k <= j; ++k) {
    const TokenKind kind = tokens_[k].kind;
    if (kind != TokenKind::kIdentifier && kind != TokenKind::kKeyword &&
        kind != TokenKind::kWhitespace && !is_punct(k, '.'))
      return false;
  }
  // Whether the input lies quoted somewhere is asked once per input (a direct-mapped memo): a
  // statement with thousands of occurrences would otherwise be scanned again for each.
  QuotedMemo& memo = quoted_memo_[occ.input % kQuotedMemo];
  if (memo.input == occ.input) return memo.quoted;
  memo.input = occ.input;
  memo.quoted = false;
  for (const Occurrence& o : all) {
    if (o.input != occ.input || o.element != occ.element || o.end > text_.size()) continue;
    std::uint32_t ob = o.begin, oe = o.end;
    trim(&ob, &oe);
    if (ob >= oe) continue;
    const std::uint32_t t = token_at(ob);
    if (t >= tokens_.size() || tokens_[t].kind != TokenKind::kString ||
        tokens_[t].unterminated() || ob < tokens_[t].inner_begin || oe > tokens_[t].inner_end)
      continue;
    if (change(o, value) == Change::kNone) {
      memo.quoted = true;
      break;
    }
  }
  return memo.quoted;
}

// Tokenizes the statement and judges every occurrence: detect_sql's path when the shortcut does
// not settle it. Out of line, so that the shortcut's path stays short.
__attribute__((noinline)) void judge_statement(const SinkCheck& check, std::string_view text,
                                               std::vector<Detection>* out) {
  thread_local tokenize::sql::TokenBuffer buffer;
  const std::span<const Token> tokens = tokenize::sql::tokenize(text, check.sink->dialect, &buffer);
  if (tokens.empty()) return;
  Judge judge(text, check.sink->dialect, tokens);

  for (const Occurrence& occ : check.occurrences) {
    if (occ.end > text.size() || occ.begin >= occ.end || occ.input >= check.inputs.size()) continue;
    bool done = false;
    for (const Detection& d : *out)
      if (d.input == occ.input) done = true;
    if (done) continue;
    Change c = judge.change(occ, check.sent(occ));
    if (c == Change::kStraddle)
      c = judge.resolve_straddle(occ, check.occurrences, check.sent(occ));
    const bool words = c == Change::kCrossed || c == Change::kNameAsValue ||
                       c == Change::kKeywordAsValue;
    if (words && judge.words_found_by_chance(occ, check.occurrences, check.sent(occ)))
      c = Change::kNone;
    if (c == Change::kNone) continue;
    Detection d;
    d.input = occ.input;
    d.form = occ.form;
    d.begin = occ.begin;
    d.end = occ.end;
    judge.explain(occ.begin, occ.end, c, &d);
    out->push_back(std::move(d));
  }
}

}  // namespace

// Starts a cache line: see Engine::check_sink.
__attribute__((aligned(64))) void detect_sql(const SinkCheck& check, std::vector<Detection>* out) {
  const std::string_view text = check.sink->value;
  if (text.size() >= UINT32_MAX) return;
  if (settled_without_judge(check, text)) return;
  judge_statement(check, text, out);
}

}  // namespace vigil::detect
