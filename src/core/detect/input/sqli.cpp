// SQL injection attempts in request inputs (input analysis).
//
// The model: an application puts a value into a statement in one of a few places: inside a
// '…' or "…" string literal, or bare where a number or a name goes (possibly inside
// parentheses). The value is an injection attempt when, in one of those places, it stops being
// one literal AND what follows the break-out is SQL. So each candidate place is tried: the text
// after the value's first quote (the quote closes the application's literal), and the whole
// value in operand position. That text is tokenized with the permissive SQL lexer and read by a
// small recognizer of what can follow an operand in a WHERE clause: closing parentheses, boolean
// and comparison operators, function calls, subqueries, UNION SELECT, clauses (ORDER BY,
// HAVING, INTO OUTFILE, PROCEDURE ANALYSE), stacked statements, comments that cut the rest.
// The recognizer stops at the first token SQL cannot have there, which is what keeps prose out:
// an apostrophe inside a word ("O'Brien", "it's") is followed by letters, a closing quotation
// mark by words that do not form an expression, and a lone "or" or "--" is too little. What the
// recognizer read is weighed: a verdict needs structure (a boolean operator with a comparison,
// UNION SELECT, a stacked statement, a time-delay or error-based function, a subquery...), not
// one keyword.
//
// Cost: a value with no quote and no SQL-looking start is rejected by a scan of its first word;
// otherwise each place is lexed once, lazily, with three tokens of look-ahead, and nothing is
// allocated unless the value is convicted. A URL value (a Referer) is also read parameter by
// parameter. Linear in the value's size; parentheses are counted on a bounded stack.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/common/ascii.hpp"
#include "core/detect/input/input_detector.hpp"
#include "core/tokenize/sql/sql_tokenizer.hpp"

namespace vigil::detect::input {
namespace {

namespace sql = tokenize::sql;
using sql::TokenKind;

// ---------------------------------------------------------------------------------------------
// Words.

bool is_word_char(char c) { return common::is_alnum(c) || c == '_'; }

template <std::size_t N>
bool in_set(std::string_view word, const std::string_view (&set)[N]) {
  for (std::string_view w : set)
    if (common::iequals(word, w)) return true;
  return false;
}

// Words that can follow a complete operand in an expression or a query.
constexpr std::string_view kContinuationWords[] = {
    "or",     "and",   "xor",  "union",  "where",   "order",   "group",     "having",
    "limit",  "procedure",    "into",   "as",      "waitfor", "like",      "rlike",
    "regexp", "sounds",       "is",     "in",      "not",     "between",   "div",
    "mod",    "collate",      "intersect",         "except",  "offset",    "exec",
    "execute", "declare",     "select", "if",      "while",   "shutdown",  "begin",
    "drop",   "insert",       "update", "delete",  "glob",    "escape",    "then",
    "else",   "when",         "end",    "from"};

// Words that start a statement (the value as a whole statement, or after ';').
constexpr std::string_view kStatementWords[] = {
    "select", "insert", "update",  "delete", "drop",  "create",  "alter",  "truncate",
    "rename", "exec",   "execute", "declare", "set",  "waitfor", "shutdown", "begin",
    "call",   "if",     "while",   "load",   "grant", "revoke",  "handler", "kill",
    "show",   "lock",   "with"};

// Functions that only an attack calls from a request value: time delays, heavy computations
// used as delays, error-based extraction, file, network and command access. Generic names
// (exp, polygon, copy) are left out: a value may well hold them.
constexpr std::string_view kAttackFunctions[] = {
    "sleep",          "benchmark",        "pg_sleep",        "extractvalue",  "updatexml",
    "load_file",      "xp_cmdshell",      "xp_regread",      "xp_dirtree",    "make_set",
    "elt",            "randomblob",       "generate_series", "receive_message", "get_host_address",
    "get_host_name",  "sqlid_to_sqlhash", "xmltype",         "regexp_substring", "crypt_key",
    "json_keys",      "gtid_subset",      "name_const",      "iif",           "dbms_lock",
    "user_lock",      "utl_http",         "utl_inaddr",      "ctxsys",        "dbms_pipe",
    "dbms_utility",   "openrowset",       "opendatasource",  "lo_import",     "lo_export",
    "pg_read_file",   "pg_ls_dir",        "sys_eval",        "sys_exec"};

// Of those, the names programs in other languages also have (sleep(1); in C, BENCHMARK(f) in
// C++ tests): alone at the start of a value they are code, not SQL.
constexpr std::string_view kCommonAttackNames[] = {"sleep", "benchmark", "load_file", "elt",
                                                   "make_set", "iif"};

// Functions and variables that reveal the server: what a UNION or error-based probe selects.
constexpr std::string_view kFingerprintFunctions[] = {
    "version",      "database",     "user",       "current_user", "system_user",
    "session_user", "schema",       "@@version",  "@@datadir",    "@@hostname",
    "db_name",      "host_name",    "suser_name", "user_name",    "concat_ws",
    "group_concat", "table_name", "column_name",  "hex",
    "unhex",        "connection_id", "last_insert_id", "@@version_compile_os"};

// The last component of a dotted name ("dbms_pipe.receive_message" -> "receive_message"),
// and whether any component is in `set`.
template <std::size_t N>
bool dotted_in_set(std::string_view name, const std::string_view (&set)[N]) {
  std::size_t start = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (i > start && in_set(name.substr(start, i - start), set)) return true;
      start = i + 1;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// A cursor over the significant tokens of a text: whitespace and comments are skipped (a
// comment is white space to SQL; MySQL's /*! … */ markers are too, their body being code).
// Three tokens of look-ahead.

struct Tok {
  TokenKind kind = TokenKind::kError;
  std::uint8_t flags = 0;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  bool eof = true;
  bool spaced = false;  // white space (not a comment) came right before it
};

class Cursor {
 public:
  explicit Cursor(std::string_view text) noexcept : text_(text), lexer_(text, Dialect::kGeneric) {
    fill(0);
    fill(1);
    fill(2);
  }

  const Tok& peek(int k = 0) const noexcept { return buf_[k]; }
  Tok take() noexcept {
    Tok t = buf_[0];
    buf_[0] = buf_[1];
    buf_[1] = buf_[2];
    fill(2);
    ++taken_;
    return t;
  }
  std::string_view text(const Tok& t) const noexcept {
    return text_.substr(t.begin, t.end - t.begin);
  }
  bool word(const Tok& t, std::string_view w) const noexcept {
    return !t.eof && (t.kind == TokenKind::kKeyword || t.kind == TokenKind::kIdentifier) &&
           common::iequals(text(t), w);
  }
  bool punct(const Tok& t, char c) const noexcept {
    return !t.eof && t.kind == TokenKind::kPunctuation && t.end == t.begin + 1 &&
           text_[t.begin] == c;
  }
  bool op(const Tok& t, std::string_view o) const noexcept {
    return !t.eof && t.kind == TokenKind::kOperator && text(t) == o;
  }
  // A line comment, or a block comment left open, is the last thing in the text: it hides
  // whatever the application appends.
  bool ends_in_comment() const noexcept { return trailing_comment_; }
  // The body of the last line or open comment read.
  std::string_view comment() const noexcept { return comment_; }
  std::uint32_t taken() const noexcept { return taken_; }
  std::string_view source() const noexcept { return text_; }

 private:
  void fill(int k) noexcept {
    sql::Token t;
    bool spaced = false;
    while (lexer_.next(&t)) {
      if (t.kind == TokenKind::kWhitespace) {
        spaced = true;
        continue;
      }
      if (t.kind == TokenKind::kComment) {
        bool versioned = (t.flags & (sql::kVersionedOpen | sql::kVersionedClose)) != 0;
        bool block = !versioned && text_.substr(t.begin, 2) == "/*";
        trailing_comment_ = !versioned && (!block || t.unterminated());
        if (trailing_comment_) comment_ = text_.substr(t.inner_begin, t.inner_end - t.inner_begin);
        continue;
      }
      trailing_comment_ = false;
      buf_[k] = Tok{t.kind, t.flags, t.begin, t.end, false, spaced};
      return;
    }
    buf_[k] = Tok{};
    buf_[k].begin = buf_[k].end = static_cast<std::uint32_t>(text_.size());
  }

  std::string_view text_;
  sql::Lexer lexer_;
  Tok buf_[3];
  bool trailing_comment_ = false;
  std::string_view comment_;
  std::uint32_t taken_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The recognizer.

// Where the recognized text starts.
enum class Start : std::uint8_t {
  kAfterOperand,  // right after the application's literal: the value broke out of it
  kOperand,       // the value is the operand itself (numeric or name position)
  kStatement,     // the value is a statement of its own
};

// What the recognizer saw, in the order of the reason's phrases.
enum Sign : std::uint32_t {
  kUnionSelect = 1u << 0,
  kStacked = 1u << 1,
  kWaitfor = 1u << 2,
  kAttackCall = 1u << 3,
  kSubquery = 1u << 4,
  kIntoFile = 1u << 5,
  kProcedure = 1u << 6,
  kFingerprint = 1u << 7,
  kSystemVar = 1u << 8,
  kBoolean = 1u << 9,
  kComparison = 1u << 10,
  kCall = 1u << 11,
  kCase = 1u << 12,
  kOrderBy = 1u << 13,
  kClause = 1u << 14,
  kCloser = 1u << 15,
  kCommentEnd = 1u << 16,
  kBalanced = 1u << 17,
  kArithmetic = 1u << 18,
  kSelectFrom = 1u << 19,
  kAlias = 1u << 20,
  kLeadingStatement = 1u << 21,  // a value that starts with a statement (DROP TABLE …)
  kSelectSql = 1u << 22,  // a select list with more than names (literals, calls, commas, *)
  kLeadingSelect = 1u << 23,  // a value that starts with SELECT
  kTautology = 1u << 24,      // a comparison of constants (1=1, 'a'='a', x=x)
};

struct Findings {
  std::uint32_t signs = 0;
  std::uint8_t booleans = 0;
  std::uint8_t comparisons = 0;
  std::uint8_t calls = 0;
  std::uint8_t closers = 0;
  std::uint8_t semicolons = 0;
  bool boolean_comparison = false;  // a boolean operator whose operand holds a comparison
  bool plain_boolean = false;       // a boolean operator whose left operand holds no comparison:
                                    // it joins a condition to the application's ("1 AND …")
  bool identity = false;            // a constant or name compared with itself ("1=1", x=x)
  bool sql_only_call = false;       // a call to an attack function no other language has
  bool complete = false;            // read to the end without an error
  bool error = false;
  std::uint32_t error_at = 0;
  std::string_view stacked_word;    // DROP, SELECT, EXEC... (in the text)
  std::string_view attack_call;     // the function's name (in the text)
  std::string_view boolean_word;    // the first boolean operator (OR, AND, &&...)
  std::string_view clause_word;     // the first clause keyword (WHERE, ORDER...)
  std::string_view comment;         // the body of the comment that ends the text
};

constexpr std::size_t kMaxDepth = 32;
constexpr int kMaxUrlParams = 64;
constexpr std::uint32_t kMaxTokens = 4096;

enum class Frame : std::uint8_t { kTop, kParen, kCall, kCase };
enum class Clause : std::uint8_t { kExpr, kSelect, kFrom, kList };

struct Level {
  Frame frame = Frame::kTop;
  Clause clause = Clause::kExpr;
  bool subquery = false;  // a SELECT inside
  bool between = false;   // a BETWEEN waits for its AND
  bool boolean = false;   // a boolean operator was read at this level
  bool compared = false;  // a comparison was read at this level since its last boolean operator
  std::uint32_t pending = 0;  // a Sign noted once this level's select list shows SQL
};

enum class Expect : std::uint8_t { kOperand, kAfter, kStatement, kSkip };

class Recognizer {
 public:
  // `after_number`: the value starts with a number or another literal, not a word.
  Recognizer(std::string_view text, Start start, bool after_number) noexcept
      : cur_(text),
        expect_(start == Start::kOperand     ? Expect::kOperand
                : start == Start::kStatement ? Expect::kStatement
                                             : Expect::kAfter),
        leading_(start == Start::kStatement),
        after_number_(after_number) {
    levels_[0] = Level{};
  }

  // Reads the text as far as SQL goes and returns what it saw.
  Findings run() noexcept {
    while (!f_.error) {
      const Tok t = cur_.peek();
      if (t.eof) break;
      if (cur_.taken() >= kMaxTokens) break;
      switch (expect_) {
        case Expect::kOperand: operand(); break;
        case Expect::kAfter: after(); break;
        case Expect::kStatement: statement(); break;
        case Expect::kSkip: skip(); break;
      }
    }
    if (!f_.error) finish();
    return f_;
  }

 private:
  Level& top() noexcept { return levels_[depth_]; }

  void fail(const Tok& t) noexcept {
    f_.error = true;
    f_.error_at = t.begin;
  }
  bool push(Frame frame, Clause clause) noexcept {
    if (depth_ + 1 >= kMaxDepth) return false;
    Level l;
    l.frame = frame;
    l.clause = clause;
    levels_[++depth_] = l;
    return true;
  }
  void note(Sign s) noexcept { f_.signs |= s; }
  bool is_word(const Tok& t) const noexcept {
    return !t.eof && (t.kind == TokenKind::kKeyword || t.kind == TokenKind::kIdentifier);
  }
  void clause(const Tok& t) noexcept {
    note(kClause);
    if (f_.clause_word.empty()) f_.clause_word = cur_.text(t);
  }
  // The select list of the current level holds more than names: "UNION SELECT 1,2",
  // "SELECT version()", not the prose "union select leaders".
  void select_shows_sql() noexcept {
    Level& l = top();
    if (l.clause != Clause::kSelect) return;
    note(kSelectSql);
    if (l.pending) {
      f_.signs |= l.pending;
      l.pending = 0;
    }
  }
  // A one-token operand was read: a literal or a plain name. Right after a comparison with
  // another one, the comparison is decided by constants ("1=1", "'a'='a", "x=x"): a
  // tautology or a contradiction, which no application writes with a user's value.
  void simple(const Tok& t) noexcept {
    if (right_of_comparison_) {
      const Tok& l = compared_left_;
      bool left_literal = l.kind != TokenKind::kIdentifier && l.kind != TokenKind::kKeyword;
      bool right_literal = t.kind != TokenKind::kIdentifier && t.kind != TokenKind::kKeyword;
      bool same_text = common::iequals(cur_.text(l), cur_.text(t));
      bool same_name = !left_literal && !right_literal && same_text;
      if (left_literal == right_literal && same_text) f_.identity = true;
      if ((left_literal && right_literal) || same_name ||
          (l.kind == TokenKind::kKeyword && t.kind == TokenKind::kKeyword))
        note(kTautology);
      right_of_comparison_ = false;
    }
    last_simple_ = true;
    last_operand_ = t;
  }

  // After a boolean operator, a lone constant ("OR 1", "OR true") ended by the text, a
  // parenthesis or another boolean operator is a condition that is always true or false.
  void constant_condition(bool after_boolean) noexcept {
    if (!after_boolean) return;
    const Tok n = cur_.peek();
    if (n.eof || cur_.punct(n, ')') || cur_.punct(n, ';') || cur_.word(n, "and") ||
        cur_.word(n, "or") || cur_.op(n, "&&")) {
      f_.boolean_comparison = true;
      note(kTautology);
    }
  }

  // An operand: literal, name, call, parenthesized expression or subquery, CASE, unary operator.
  void operand() noexcept {
    Tok t = cur_.take();
    alias_taken_ = false;
    after_word_ = false;
    last_simple_ = false;
    const bool after_boolean = std::exchange(after_boolean_, false);
    // Only this operand's first token can be the right side of a pending comparison.
    right_of_comparison_ = std::exchange(compared_, false);
    switch (t.kind) {
      case TokenKind::kNumber:
        // MySQL reads 1a as a name; the generic lexer splits it.
        if (cur_.peek().kind == TokenKind::kIdentifier && cur_.peek().begin == t.end) {
          cur_.take();
          expect_ = Expect::kAfter;
          return;
        }
        select_shows_sql();
        constant_condition(after_boolean);
        simple(t);
        expect_ = Expect::kAfter;
        return;
      case TokenKind::kBlob:
        select_shows_sql();
        simple(t);
        expect_ = Expect::kAfter;
        return;
      case TokenKind::kQuotedIdentifier:
        expect_ = Expect::kAfter;
        return;
      case TokenKind::kString:
        if (t.flags & sql::kUnterminated) note(kBalanced);
        select_shows_sql();
        simple(t);
        expect_ = Expect::kAfter;
        return;
      case TokenKind::kParameter: {
        select_shows_sql();
        std::string_view p = cur_.text(t);
        if (p.size() > 2 && p[0] == '@' && p[1] == '@') {
          note(kSystemVar);
          if (in_set(p, kFingerprintFunctions)) note(kFingerprint);
        }
        expect_ = Expect::kAfter;
        return;
      }
      case TokenKind::kOperator: {
        std::string_view o = cur_.text(t);
        if (o == "-" || o == "+" || o == "~" || o == "!") {
          after_boolean_ = after_boolean;
          compared_ = right_of_comparison_;
          return;  // unary: still an operand
        }
        if (o == "*" && (top().clause == Clause::kSelect || top().frame == Frame::kCall)) {
          select_shows_sql();
          expect_ = Expect::kAfter;
          return;
        }
        fail(t);
        return;
      }
      case TokenKind::kPunctuation:
        if (cur_.punct(t, '(')) {
          select_shows_sql();
          if (!push(Frame::kParen, Clause::kExpr)) fail(t);
          return;
        }
        if (cur_.punct(t, ')') && top().frame == Frame::kCall && depth_ > 0) {
          // A call without arguments: version(), database().
          --depth_;
          ++f_.calls;
          expect_ = Expect::kAfter;
          return;
        }
        fail(t);
        return;
      case TokenKind::kKeyword:
      case TokenKind::kIdentifier:
        word_operand(t, after_boolean);
        return;
      default:
        fail(t);
        return;
    }
  }

  void word_operand(const Tok& t, bool after_boolean) noexcept {
    std::string_view w = cur_.text(t);
    const Tok next = cur_.peek();
    if (common::iequals(w, "select")) {
      if (!select_list(t, 0)) fail(t);
      return;
    }
    if (common::iequals(w, "dual") && top().clause == Clause::kFrom) {
      expect_ = Expect::kAfter;  // Oracle's one-row table
      return;
    }
    if (common::iequals(w, "null") || common::iequals(w, "true") || common::iequals(w, "false") ||
        common::iequals(w, "unknown") || common::iequals(w, "default")) {
      select_shows_sql();
      if (!common::iequals(w, "null")) constant_condition(after_boolean);
      simple(t);
      expect_ = Expect::kAfter;
      return;
    }
    if (common::iequals(w, "not") || common::iequals(w, "binary") ||
        common::iequals(w, "exists") || common::iequals(w, "interval") ||
        ((common::iequals(w, "distinct") || common::iequals(w, "all")) &&
         (top().frame == Frame::kCall || top().clause == Clause::kSelect)) ||
        ((common::iequals(w, "any") || common::iequals(w, "some") || common::iequals(w, "all")) &&
         cur_.punct(next, '('))) {
      after_boolean_ = after_boolean;
      return;  // a prefix: still an operand to come
    }
    if (common::iequals(w, "case")) {
      if (!push(Frame::kCase, Clause::kExpr)) {
        fail(t);
        return;
      }
      note(kCase);
      if (cur_.word(cur_.peek(), "when")) cur_.take();
      return;
    }
    if (common::iequals(w, "current_user") || common::iequals(w, "current_date") ||
        common::iequals(w, "current_time") || common::iequals(w, "current_timestamp")) {
      if (common::iequals(w, "current_user")) note(kFingerprint);
      if (cur_.punct(next, '(') && (!next.spaced || depth_ > 0)) {
        call(t, w);
        return;
      }
      expect_ = Expect::kAfter;
      return;
    }
    // A (possibly qualified) name, maybe called.
    std::uint32_t name_end = t.end;
    while (cur_.punct(cur_.peek(), '.')) {
      cur_.take();
      while (cur_.punct(cur_.peek(), '.')) cur_.take();  // master..sysobjects
      const Tok part = cur_.peek();
      if (is_word(part) || part.kind == TokenKind::kQuotedIdentifier) {
        name_end = cur_.take().end;
      } else if (cur_.op(part, "*")) {
        cur_.take();
        expect_ = Expect::kAfter;
        return;
      } else {
        fail(part);
        return;
      }
    }
    std::string_view name = cur_.source().substr(t.begin, name_end - t.begin);
    // A call has its parenthesis right after the name (MySQL's default); "word (aside)" is
    // prose.
    if (cur_.punct(cur_.peek(), '(') && (!cur_.peek().spaced || depth_ > 0)) {
      call(t, name);
      return;
    }
    if (t.kind == TokenKind::kKeyword && name_end == t.end) {
      fail(t);  // a reserved word where an operand belongs
      return;
    }
    if (common::iequals(name, "session_user") || common::iequals(name, "system_user") ||
        common::iequals(name, "current_user"))
      note(kFingerprint);
    simple(t);
    after_word_ = true;
    expect_ = Expect::kAfter;
  }

  void call(const Tok& t, std::string_view name) noexcept {
    select_shows_sql();
    cur_.take();  // (
    if (!push(Frame::kCall, Clause::kExpr)) {
      fail(t);
      return;
    }
    note(kCall);
    if (dotted_in_set(name, kAttackFunctions)) {
      note(kAttackCall);
      if (f_.attack_call.empty()) f_.attack_call = name;
      if (!in_set(name, kCommonAttackNames)) f_.sql_only_call = true;
    }
    std::size_t dot = name.rfind('.');
    if (in_set(dot == std::string_view::npos ? name : name.substr(dot + 1), kFingerprintFunctions))
      note(kFingerprint);
    expect_ = Expect::kOperand;
  }

  // After SELECT: [ALL | DISTINCT | TOP n] and the select list. `pending` is the Sign this
  // SELECT stands for once its list shows SQL.
  bool select_list(const Tok& t, std::uint32_t pending) noexcept {
    Level& l = top();
    if (depth_ > 0 && l.frame == Frame::kParen) {
      l.subquery = true;
      note(kSubquery);
    }
    l.clause = Clause::kSelect;
    l.pending = pending | next_select_;
    next_select_ = 0;
    // After a number ("-1 UNION SELECT table_name FROM …") prose is out of the question.
    if (l.pending == kUnionSelect && after_number_) {
      note(kUnionSelect);
      l.pending = 0;
    }
    while (cur_.word(cur_.peek(), "distinct") || cur_.word(cur_.peek(), "all") ||
           cur_.word(cur_.peek(), "distinctrow") || cur_.word(cur_.peek(), "sql_calc_found_rows"))
      cur_.take();
    if (cur_.word(cur_.peek(), "top")) {
      cur_.take();
      if (cur_.peek().kind != TokenKind::kNumber) return false;
      cur_.take();
    }
    expect_ = Expect::kOperand;
    return true;
  }

  // After a complete operand.
  void after() noexcept {
    const Tok t = cur_.peek();
    switch (t.kind) {
      case TokenKind::kOperator:
        binary_operator();
        return;
      case TokenKind::kPunctuation:
        if (cur_.punct(t, '(') && cur_.word(cur_.peek(1), "select")) {
          // A subquery right after the value: "1 (select …)", "1))(select …)".
          expect_ = Expect::kOperand;
          return;
        }
        punctuation();
        return;
      case TokenKind::kKeyword:
      case TokenKind::kIdentifier:
        word_after();
        return;
      case TokenKind::kString:
      case TokenKind::kQuotedIdentifier:
        // An alias ('a', "a", `a`) in a select list or after a derived table; MSSQL also
        // writes cast(a as nvarchar) ':' cast(b ...) in select lists.
        if (alias_ok_ || top().clause == Clause::kSelect || top().clause == Clause::kFrom) {
          Tok a = cur_.take();
          if (a.flags & sql::kUnterminated) note(kBalanced);
          alias_ok_ = false;
          note(kAlias);
          return;
        }
        fail(t);
        return;
      default:
        fail(t);
        return;
    }
  }

  void binary_operator() noexcept {
    Tok t = cur_.take();
    std::string_view o = cur_.text(t);
    alias_ok_ = false;
    static constexpr std::string_view kComparisonOps[] = {"=",  "<>", "!=", "<",  ">",
                                                        "<=", ">=", "<=>", "==", "!<", "!>"};
    static constexpr std::string_view kArithmeticOps[] = {"+",  "-",  "*",  "/",  "%",  "&",  "|",
                                                       "^",  "<<", ">>", ":=", "->", "->>", "::",
                                                       "||"};
    for (std::string_view c : kComparisonOps) {
      if (o == c) {
        comparison();
        expect_ = Expect::kOperand;
        return;
      }
    }
    if (o == "&&") {
      boolean(t);
      expect_ = Expect::kOperand;
      return;
    }
    for (std::string_view a : kArithmeticOps) {
      if (o == a) {
        note(kArithmetic);
        expect_ = Expect::kOperand;
        return;
      }
    }
    fail(t);
  }

  void comparison() noexcept {
    compared_ = last_simple_;
    compared_left_ = last_operand_;
    note(kComparison);
    top().compared = true;
    if (f_.comparisons < 255) ++f_.comparisons;
    for (std::size_t d = 0; d <= depth_; ++d)
      if (levels_[d].boolean) f_.boolean_comparison = true;
  }
  void boolean(const Tok& t) noexcept {
    after_boolean_ = true;
    note(kBoolean);
    if (f_.boolean_word.empty()) f_.boolean_word = cur_.text(t);
    if (f_.booleans < 255) ++f_.booleans;
    if (!top().compared) f_.plain_boolean = true;
    top().boolean = true;
    top().compared = false;
  }

  void punctuation() noexcept {
    Tok t = cur_.take();
    alias_ok_ = false;
    if (cur_.punct(t, ')')) {
      if (depth_ == 0) {
        // Closes a parenthesis of the application's own statement.
        if (f_.closers < 255) ++f_.closers;
        note(kCloser);
        return;
      }
      Level closed = levels_[depth_--];
      if (closed.frame == Frame::kCall && f_.calls < 255) ++f_.calls;
      // "(5 < 6) AND …": the group is a condition of the value's own, like a comparison.
      if (closed.compared || closed.boolean) top().compared = true;
      if (closed.frame == Frame::kCase) {
        fail(t);
        return;
      }
      alias_ok_ = closed.subquery;  // a derived table's alias may follow
      return;
    }
    if (cur_.punct(t, ',')) {
      select_shows_sql();
      expect_ = Expect::kOperand;
      return;
    }
    if (cur_.punct(t, ';')) {
      // A statement separator ends the statement, whatever parentheses it left open.
      depth_ = 0;
      top() = Level{};
      leading_ = false;
      if (f_.semicolons < 255) ++f_.semicolons;
      expect_ = Expect::kStatement;
      return;
    }
    fail(t);
  }

  void word_after() noexcept {
    const Tok t = cur_.peek();
    std::string_view w = cur_.text(t);
    Level& l = top();
    auto take_then = [&](Expect e) {
      cur_.take();
      expect_ = e;
      alias_ok_ = false;
    };
    if (common::iequals(w, "and") && l.between) {
      l.between = false;
      take_then(Expect::kOperand);
      return;
    }
    if (common::iequals(w, "and") || common::iequals(w, "or") || common::iequals(w, "xor")) {
      boolean(t);
      take_then(Expect::kOperand);
      return;
    }
    if (common::iequals(w, "not")) {
      const Tok n = cur_.peek(1);
      if (cur_.word(n, "like") || cur_.word(n, "in") || cur_.word(n, "between") ||
          cur_.word(n, "regexp") || cur_.word(n, "rlike") || cur_.word(n, "ilike") ||
          cur_.word(n, "glob")) {
        cur_.take();
        word_after();
        return;
      }
      fail(t);
      return;
    }
    if (common::iequals(w, "like") || common::iequals(w, "rlike") ||
        common::iequals(w, "regexp") || common::iequals(w, "ilike") ||
        common::iequals(w, "glob")) {
      comparison();
      take_then(Expect::kOperand);
      return;
    }
    if (common::iequals(w, "sounds")) {
      cur_.take();
      if (!cur_.word(cur_.peek(), "like")) {
        fail(cur_.peek());
        return;
      }
      comparison();
      take_then(Expect::kOperand);
      return;
    }
    if (common::iequals(w, "div") || common::iequals(w, "mod") ||
        common::iequals(w, "escape")) {
      note(kArithmetic);
      take_then(Expect::kOperand);
      return;
    }
    if (common::iequals(w, "between")) {
      comparison();
      l.between = true;
      take_then(Expect::kOperand);
      return;
    }
    if (common::iequals(w, "is")) {
      cur_.take();
      if (cur_.word(cur_.peek(), "not")) cur_.take();
      const Tok v = cur_.peek();
      if (cur_.word(v, "null") || cur_.word(v, "true") || cur_.word(v, "false") ||
          cur_.word(v, "unknown")) {
        cur_.take();
        comparison();
        expect_ = Expect::kAfter;
        return;
      }
      if (cur_.word(v, "distinct") && cur_.word(cur_.peek(1), "from")) {
        cur_.take();
        cur_.take();
        comparison();
        expect_ = Expect::kOperand;
        return;
      }
      fail(v);
      return;
    }
    if (common::iequals(w, "in")) {
      const Tok n = cur_.peek(1);
      if (cur_.punct(n, '(')) {
        cur_.take();
        cur_.take();
        comparison();
        if (!push(Frame::kParen, Clause::kList)) fail(n);
        expect_ = Expect::kOperand;
        return;
      }
      // MATCH (…) AGAINST ('…' IN BOOLEAN MODE | IN NATURAL LANGUAGE MODE)
      if (cur_.word(n, "boolean") || cur_.word(n, "natural")) {
        cur_.take();
        while (is_word(cur_.peek()) && !cur_.word(cur_.peek(), "mode")) cur_.take();
        if (!cur_.word(cur_.peek(), "mode")) {
          fail(cur_.peek());
          return;
        }
        cur_.take();
        expect_ = Expect::kAfter;
        return;
      }
      fail(t);
      return;
    }
    if (common::iequals(w, "collate")) {
      cur_.take();
      if (!is_word(cur_.peek())) {
        fail(cur_.peek());
        return;
      }
      cur_.take();
      return;
    }
    if (l.frame == Frame::kCase) {
      if (common::iequals(w, "when") || common::iequals(w, "then") ||
          common::iequals(w, "else")) {
        take_then(Expect::kOperand);
        return;
      }
      if (common::iequals(w, "end")) {
        cur_.take();
        --depth_;
        return;
      }
    }
    if (l.frame == Frame::kCall) {
      // cast(x AS type), convert(x USING cs), substring(x FROM 1 FOR 1),
      // group_concat(x SEPARATOR ',' ORDER BY y), trim(LEADING 'x' FROM y)
      if (common::iequals(w, "as")) {
        cur_.take();
        type_name();
        return;
      }
      if (common::iequals(w, "using")) {
        cur_.take();
        if (!is_word(cur_.peek())) {
          fail(cur_.peek());
          return;
        }
        cur_.take();
        return;
      }
      if (common::iequals(w, "from") || common::iequals(w, "for") ||
          common::iequals(w, "separator")) {
        take_then(Expect::kOperand);
        return;
      }
    }
    if (clause_word(t)) return;
    if (f_.error) return;
    if (common::iequals(w, "for") && (cur_.word(cur_.peek(1), "update") ||
                                      cur_.word(cur_.peek(1), "share"))) {
      // SELECT … FOR UPDATE
      cur_.take();
      cur_.take();
      clause(t);
      return;
    }
    if (cur_.punct(cur_.peek(1), '(') && !cur_.peek(1).spaced && depth_ == 0 && !after_word_) {
      // A call right after an operand: the '+' before it was lost to form decoding
      // ("'+if(benchmark(…))" read as "' if(benchmark(…))").
      note(kArithmetic);
      expect_ = Expect::kOperand;
      return;
    }
    // An alias: after a select-list item, a table, or a derived table.
    if ((alias_ok_ || l.clause == Clause::kSelect || l.clause == Clause::kFrom) &&
        t.kind == TokenKind::kIdentifier && !alias_taken_) {
      cur_.take();
      alias_ok_ = false;
      alias_taken_ = true;
      note(kAlias);
      return;
    }
    fail(t);
  }

  // A CAST target: one or two words and an optional (n[, m]) or (max).
  void type_name() noexcept {
    if (!is_word(cur_.peek())) {
      fail(cur_.peek());
      return;
    }
    cur_.take();
    if (is_word(cur_.peek()) && !cur_.punct(cur_.peek(1), '(')) cur_.take();  // unsigned integer
    if (cur_.punct(cur_.peek(), '(')) {
      cur_.take();
      for (int i = 0; i < 4 && !cur_.punct(cur_.peek(), ')') && !cur_.peek().eof; ++i) cur_.take();
      if (!cur_.punct(cur_.peek(), ')')) {
        fail(cur_.peek());
        return;
      }
      cur_.take();
    }
    expect_ = Expect::kAfter;
  }

  // Clauses and statements that can follow an operand. Returns true if `t` was one (consumed).
  bool clause_word(const Tok& t) noexcept {
    std::string_view w = cur_.text(t);
    Level& l = top();
    if (common::iequals(w, "union") || common::iequals(w, "intersect") ||
        common::iequals(w, "except") || common::iequals(w, "minus")) {
      cur_.take();
      if (cur_.word(cur_.peek(), "all") || cur_.word(cur_.peek(), "distinct")) cur_.take();
      if (cur_.word(cur_.peek(), "select")) {
        Tok s = cur_.take();
        l.clause = Clause::kSelect;
        alias_taken_ = false;
        if (!select_list(s, kUnionSelect)) fail(s);
        return true;
      }
      if (cur_.punct(cur_.peek(), '(')) {
        next_select_ = kUnionSelect;  // UNION (SELECT …)
        expect_ = Expect::kOperand;
        return true;
      }
      fail(cur_.peek());
      return true;
    }
    if (common::iequals(w, "from")) {
      cur_.take();
      if (l.clause == Clause::kSelect) note(kSelectFrom);
      l.clause = Clause::kFrom;
      alias_taken_ = false;
      expect_ = Expect::kOperand;
      return true;
    }
    if (common::iequals(w, "where") || common::iequals(w, "having") ||
        common::iequals(w, "on")) {
      cur_.take();
      clause(t);
      l.clause = Clause::kExpr;
      l.boolean = false;
      expect_ = Expect::kOperand;
      return true;
    }
    if (common::iequals(w, "group") || common::iequals(w, "order")) {
      if (!cur_.word(cur_.peek(1), "by")) return false;
      cur_.take();
      cur_.take();
      clause(t);
      l.clause = Clause::kList;
      if (cur_.peek().kind == TokenKind::kNumber) note(kOrderBy);
      expect_ = Expect::kOperand;
      return true;
    }
    if (common::iequals(w, "limit") || common::iequals(w, "offset")) {
      cur_.take();
      clause(t);
      l.clause = Clause::kList;
      expect_ = Expect::kOperand;
      return true;
    }
    if (common::iequals(w, "procedure")) {
      cur_.take();
      if (!cur_.word(cur_.peek(), "analyse") && !cur_.word(cur_.peek(), "analyze")) {
        fail(cur_.peek());
        return true;
      }
      note(kProcedure);
      expect_ = Expect::kOperand;
      return true;
    }
    if (common::iequals(w, "into")) {
      cur_.take();
      const Tok n = cur_.peek();
      if (cur_.word(n, "outfile") || cur_.word(n, "dumpfile")) {
        cur_.take();
        if (cur_.peek().kind != TokenKind::kString) {
          fail(cur_.peek());
          return true;
        }
        cur_.take();
        note(kIntoFile);
        return true;
      }
      if (n.kind == TokenKind::kParameter) {
        cur_.take();
        return true;
      }
      fail(n);
      return true;
    }
    if (common::iequals(w, "as")) {
      cur_.take();
      const Tok n = cur_.peek();
      if (is_word(n) || n.kind == TokenKind::kQuotedIdentifier || n.kind == TokenKind::kString) {
        Tok a = cur_.take();
        if (a.flags & sql::kUnterminated) note(kBalanced);
        note(kAlias);
        alias_ok_ = false;
        return true;
      }
      fail(n);
      return true;
    }
    if (l.clause == Clause::kFrom) {
      // Joins.
      static constexpr std::string_view kJoin[] = {"join",  "inner", "left",    "right",
                                                   "cross", "outer", "natural", "full",
                                                   "straight_join"};
      if (in_set(w, kJoin)) {
        while (is_word(cur_.peek()) && in_set(cur_.text(cur_.peek()), kJoin)) cur_.take();
        alias_taken_ = false;
        expect_ = Expect::kOperand;
        return true;
      }
    }
    if (common::iequals(w, "within") && cur_.word(cur_.peek(1), "group")) {
      // listagg(…) WITHIN GROUP (ORDER BY …)
      cur_.take();
      cur_.take();
      if (!cur_.punct(cur_.peek(), '(') || !cur_.word(cur_.peek(1), "order")) {
        fail(cur_.peek());
        return true;
      }
      cur_.take();
      if (!push(Frame::kParen, Clause::kList)) {
        fail(t);
        return true;
      }
      expect_ = Expect::kAfter;
      return true;
    }
    if (common::iequals(w, "waitfor")) {
      cur_.take();
      waitfor(t);
      return true;
    }
    if (depth_ == 0 && in_if_ && (common::iequals(w, "else") || common::iequals(w, "then"))) {
      cur_.take();  // IF … THEN statement ELSE statement (PL/SQL, SQL Server without THEN)
      expect_ = Expect::kStatement;
      return true;
    }
    if (depth_ == 0 && common::iequals(w, "end") && begin_depth_ > 0) {
      cur_.take();
      --begin_depth_;
      return true;
    }
    // SQL Server runs a batch of statements without separators: "…' waitfor delay…",
    // "…' exec master..xp_cmdshell…", "if (…) select … else drop …".
    if (depth_ == 0) {
      // A statement that only SQL starts this way; not right at the break-out quote, where
      // prose quotes a phrase ("click 'Delete from cart'").
      static constexpr std::string_view kBatch[] = {"exec",   "execute", "declare", "shutdown",
                                                    "drop",   "insert",  "update",  "delete",
                                                    "truncate"};
      // Statements that also read as prose, once a batch is under way.
      static constexpr std::string_view kInBatch[] = {"select", "if", "while", "begin", "set"};
      bool system = false;
      bool exec = common::iequals(w, "exec") || common::iequals(w, "execute");
      if ((in_set(w, kBatch) && t.begin > 0 && !after_word_ &&
           (!exec || (statement_head(w, &system) && system))) ||
          (in_set(w, kInBatch) && (in_if_ || (f_.signs & kStacked)))) {
        expect_ = Expect::kStatement;
        statement();
        return true;
      }
    }
    return false;
  }

  // WAITFOR DELAY 'hh:mm:ss' | WAITFOR TIME '…'
  void waitfor(const Tok& t) noexcept {
    if (!cur_.word(cur_.peek(), "delay") && !cur_.word(cur_.peek(), "time")) {
      fail(cur_.peek());
      return;
    }
    cur_.take();
    const Tok v = cur_.peek();
    if (v.kind != TokenKind::kString && v.kind != TokenKind::kParameter &&
        v.kind != TokenKind::kNumber) {
      fail(v);
      return;
    }
    cur_.take();
    note(kWaitfor);
    expect_ = Expect::kAfter;
  }

  // At the start of a statement (after ';', or a batch statement).
  void statement() noexcept {
    const Tok t = cur_.peek();
    if (cur_.punct(t, ';')) {
      cur_.take();
      leading_ = false;
      if (f_.semicolons < 255) ++f_.semicolons;
      return;
    }
    if (cur_.punct(t, '(')) {
      // ;(select …)
      expect_ = Expect::kOperand;
      return;
    }
    if (!is_word(t)) {
      fail(t);
      return;
    }
    std::string_view w = cur_.text(t);
    auto stacked = [&](const Tok& s) {
      note(leading_ ? kLeadingStatement : kStacked);
      if (f_.stacked_word.empty()) f_.stacked_word = cur_.text(s);
    };
    if (common::iequals(w, "select")) {
      Tok s = cur_.take();
      top().clause = Clause::kSelect;
      alias_taken_ = false;
      if (f_.stacked_word.empty()) f_.stacked_word = cur_.text(s);
      if (leading_) note(kLeadingSelect);
      if (!select_list(s, leading_ ? 0u : static_cast<std::uint32_t>(kStacked))) fail(s);
      return;
    }
    if (common::iequals(w, "waitfor")) {
      Tok s = cur_.take();
      waitfor(s);
      if (!f_.error) stacked(s);
      return;
    }
    if (common::iequals(w, "drop") || common::iequals(w, "create") ||
        common::iequals(w, "alter") || common::iequals(w, "truncate") ||
        common::iequals(w, "rename")) {
      static constexpr std::string_view kObjects[] = {
          "table",   "database", "schema", "function", "procedure", "view", "index",
          "user",    "trigger",  "or",     "temporary", "if",       "login", "event",
          "library", "definer",  "unique", "sequence"};
      const Tok o = cur_.peek(1);
      if (!is_word(o) || !in_set(cur_.text(o), kObjects)) {
        fail(t);
        return;
      }
      Tok s = cur_.take();
      cur_.take();
      if (!is_word(cur_.peek()) && cur_.peek().kind != TokenKind::kQuotedIdentifier) {
        fail(cur_.peek());
        return;
      }
      stacked(s);
      expect_ = Expect::kSkip;
      return;
    }
    if (common::iequals(w, "call") && is_word(cur_.peek(1))) {
      cur_.take();  // CALL f(…): the call is read as an expression, weighed as such
      expect_ = Expect::kOperand;
      return;
    }
    bool system = false;
    if (statement_head(w, &system)) {
      // "Execute every act of thy life…": a value that starts with EXEC must run a procedure.
      if (leading_ && !system && (common::iequals(w, "exec") || common::iequals(w, "execute"))) {
        fail(t);
        return;
      }
      Tok s = cur_.take();
      // EXEC master..xp_cmdshell: strong even as the value's first statement.
      if (system) leading_ = false;
      stacked(s);
      // CALL f(…) reads the call; the others are taken as written up to the next ';'.
      expect_ = common::iequals(w, "call") ? Expect::kOperand : Expect::kSkip;
      return;
    }
    if (common::iequals(w, "declare") || common::iequals(w, "set")) {
      const Tok o = cur_.peek(1);
      if (o.kind != TokenKind::kParameter &&
          !(common::iequals(w, "set") && is_word(o) && cur_.op(cur_.peek(2), "="))) {
        fail(t);
        return;
      }
      Tok s = cur_.take();
      // DECLARE @v is SQL Server's alone: strong even as the value's first statement.
      if (common::iequals(w, "declare")) leading_ = false;
      stacked(s);
      expect_ = Expect::kSkip;
      return;
    }
    if (common::iequals(w, "shutdown")) {
      const Tok o = cur_.peek(1);
      if (!(o.eof || cur_.punct(o, ';') || cur_.word(o, "with"))) {
        fail(t);
        return;
      }
      Tok s = cur_.take();
      stacked(s);
      expect_ = Expect::kSkip;
      return;
    }
    if (common::iequals(w, "begin")) {
      // A block: BEGIN … END (SQL Server, PL/SQL); its statements are not the value's first.
      cur_.take();
      if (begin_depth_ < 255) ++begin_depth_;
      leading_ = false;
      return;
    }
    if (common::iequals(w, "go") && !leading_) {
      cur_.take();  // SQL Server tools' batch separator
      return;
    }
    if (common::iequals(w, "end") && begin_depth_ > 0) {
      cur_.take();
      if (cur_.word(cur_.peek(), "if") || cur_.word(cur_.peek(), "loop")) {
        cur_.take();  // END IF, END LOOP close a statement, not the block
        return;
      }
      --begin_depth_;
      expect_ = Expect::kAfter;  // the block is done: "…; end and '%'='"
      return;
    }
    if (in_if_ && (common::iequals(w, "else") || common::iequals(w, "elsif"))) {
      cur_.take();
      if (common::iequals(w, "elsif")) expect_ = Expect::kOperand;
      return;
    }
    if ((common::iequals(w, "if") || common::iequals(w, "while")) &&
        (!leading_ || (cur_.punct(cur_.peek(1), '(') && !cur_.peek(1).spaced))) {
      Tok s = cur_.take();
      in_if_ = true;
      if (f_.stacked_word.empty()) f_.stacked_word = cur_.text(s);
      expect_ = Expect::kOperand;
      return;
    }
    // A procedure call as a statement: dbms_lock.sleep(5), iif(…).
    if (t.kind == TokenKind::kIdentifier &&
        (cur_.punct(cur_.peek(1), '(') || cur_.punct(cur_.peek(1), '.'))) {
      expect_ = Expect::kOperand;
      return;
    }
    fail(t);
  }

  // Whether the statement keyword `w` (the next token) starts a statement the way only SQL
  // does: INSERT INTO, DELETE FROM, UPDATE t SET, EXEC name, SHOW TABLES… `*system` is set
  // for the execution of a system procedure (EXEC master..xp_cmdshell, EXEC sp_…).
  bool statement_head(std::string_view w, bool* system) const noexcept {
    const Tok o = cur_.peek(1);
    const Tok o2 = cur_.peek(2);
    auto iw = [&](std::string_view x) { return common::iequals(w, x); };
    if (iw("insert") || iw("replace")) return cur_.word(o, "into");
    if (iw("delete")) return cur_.word(o, "from");
    if (iw("update")) return is_word(o) && cur_.word(o2, "set");
    if (iw("load")) return cur_.word(o, "data") || cur_.word(o, "xml");
    if (iw("grant") || iw("revoke"))
      return is_word(o) && (cur_.word(o2, "to") || cur_.word(o2, "on") ||
                            cur_.word(o2, "from") || cur_.punct(o2, ','));
    if (iw("handler"))
      return is_word(o) && (cur_.word(o2, "open") || cur_.word(o2, "read") ||
                            cur_.word(o2, "close"));
    if (iw("kill"))
      return o.kind == TokenKind::kNumber || cur_.word(o, "query") || cur_.word(o, "connection");
    if (iw("show")) {
      static constexpr std::string_view kShow[] = {"tables",  "databases",   "schemas", "grants",
                                                   "columns", "processlist", "variables"};
      return is_word(o) && in_set(cur_.text(o), kShow);
    }
    if (iw("lock")) return cur_.word(o, "tables") || cur_.word(o, "table");
    if (iw("desc") || iw("describe") || iw("explain"))
      return (is_word(o) || o.kind == TokenKind::kQuotedIdentifier) &&
             (o2.eof || cur_.punct(o2, ';') || cur_.punct(o2, '.'));
    if (common::istarts_with(w, "xp_") || common::istarts_with(w, "sp_")) {
      *system = true;  // SQL Server runs a procedure named first in a batch without EXEC
      return o.kind == TokenKind::kString || o.eof || cur_.punct(o, ';');
    }
    if (iw("call")) return is_word(o) && (cur_.punct(o2, '(') || cur_.punct(o2, '.'));
    if (iw("exec") || iw("execute")) {
      if (is_word(o)) {
        std::string_view name = cur_.text(o);
        *system = common::istarts_with(name, "xp_") || common::istarts_with(name, "sp_") ||
                  ((common::iequals(name, "master") || common::iequals(name, "dbo")) &&
                   cur_.punct(o2, '.'));
        return true;
      }
      // EXEC @sql, EXEC('…'), EXEC(@sql)
      *system = o.kind == TokenKind::kParameter ||
                (cur_.punct(o, '(') &&
                 (o2.kind == TokenKind::kParameter || o2.kind == TokenKind::kString));
      return *system || o.kind == TokenKind::kQuotedIdentifier;
    }
    return false;
  }

  // The rest of a statement whose start was recognized (DROP TABLE x …): read to ';'.
  void skip() noexcept {
    Tok t = cur_.take();
    if (cur_.punct(t, ';')) {
      leading_ = false;
      if (f_.semicolons < 255) ++f_.semicolons;
      expect_ = Expect::kStatement;
    }
  }

  void finish() noexcept {
    // The text may end where an operand is due ("… or ''=") or inside parentheses: the
    // application's own text follows and may complete it, unless a comment hides that text.
    bool ok = true;
    if (depth_ > 0 && cur_.ends_in_comment()) ok = false;
    f_.complete = ok;
    // "' UNION SELECT" and nothing more: the list is due.
    if (expect_ == Expect::kOperand && top().pending == kUnionSelect) note(kUnionSelect);
    if (cur_.ends_in_comment()) {
      note(kCommentEnd);
      f_.comment = cur_.comment();
    }
  }

  Cursor cur_;
  Expect expect_;
  Level levels_[kMaxDepth];
  std::size_t depth_ = 0;
  Findings f_;
  bool alias_ok_ = false;
  bool alias_taken_ = false;
  bool after_boolean_ = false;  // the previous token was a boolean operator
  bool after_word_ = false;     // the operand just read is a plain name
  bool last_simple_ = false;    // the operand just read is one token (last_operand_)
  Tok last_operand_;
  bool compared_ = false;       // a comparison waits for its right side (left: compared_left_)
  bool right_of_comparison_ = false;  // the operand being read is that right side
  Tok compared_left_;
  std::uint32_t next_select_ = 0;  // the Sign the next SELECT stands for (UNION (SELECT …))
  bool in_if_ = false;
  bool leading_ = false;  // the statement being read is the value's first
  bool after_number_ = false;
  std::uint8_t begin_depth_ = 0;
};


// ---------------------------------------------------------------------------------------------
// Places, the cheap gates, and the verdict.

enum class PlaceKind : std::uint8_t {
  kSingle,        // after the first ' (or a look-alike a database maps to ')
  kDouble,        // after the first "
  kOperand,       // the whole value where a number or a name goes
  kContinuation,  // the whole value right after the application's operand (" OR 1=1")
  kStatement,     // the whole value as a statement
};

struct Place {
  PlaceKind kind;
  std::size_t quote;  // where the break-out quote starts (0 for unquoted places)
  std::size_t tail;   // where the recognized text starts
};

struct Verdict {
  bool convicted = false;
  Place place{PlaceKind::kOperand, 0, 0};
  Findings findings;
  int score = 0;
};

bool is_quoted(PlaceKind k) { return k == PlaceKind::kSingle || k == PlaceKind::kDouble; }

// The first `q` at or after `from` not escaped by an odd run of backslashes.
std::size_t find_unescaped(std::string_view v, char q, std::size_t from) {
  for (std::size_t i = from; i < v.size() && i != std::string_view::npos; i = v.find(q, i + 1)) {
    std::size_t k = i;
    while (k > 0 && v[k - 1] == '\\') --k;
    if (((i - k) & 1u) == 0) return i;
  }
  return std::string_view::npos;
}

// Quotation marks that SQL Server's best-fit conversion (nvarchar to varchar) and some client
// libraries turn into ' or ": U+2018, U+2019, U+2032, U+02BC, U+FF07; U+201C, U+201D, U+FF02.
bool find_lookalike_quote(std::string_view v, std::size_t* at, std::size_t* len,
                          PlaceKind* kind) {
  for (std::size_t i = 0; i + 1 < v.size(); ++i) {
    unsigned char b = static_cast<unsigned char>(v[i]);
    if (b < 0xC0) continue;
    unsigned char b1 = static_cast<unsigned char>(v[i + 1]);
    unsigned char b2 = i + 2 < v.size() ? static_cast<unsigned char>(v[i + 2]) : 0;
    if (b == 0xCA && b1 == 0xBC) {
      *at = i, *len = 2, *kind = PlaceKind::kSingle;
      return true;
    }
    if (b == 0xE2 && b1 == 0x80 &&
        (b2 == 0x98 || b2 == 0x99 || b2 == 0xB2 || b2 == 0x9C || b2 == 0x9D)) {
      *at = i, *len = 3;
      *kind = b2 == 0x9C || b2 == 0x9D ? PlaceKind::kDouble : PlaceKind::kSingle;
      return true;
    }
    if (b == 0xEF && b1 == 0xBC && (b2 == 0x87 || b2 == 0x82)) {
      *at = i, *len = 3, *kind = b2 == 0x87 ? PlaceKind::kSingle : PlaceKind::kDouble;
      return true;
    }
  }
  return false;
}

// Can the text at `i` follow a complete operand? The first byte (after white space) must be
// an operator, a closing parenthesis, a separator or a comment, or the first word one that
// continues an expression. Letters glued to a quote (O'Brien), digits, quotes and other
// scripts cannot: this is where prose apostrophes are dropped, before any lexing.
bool continuation_start(std::string_view v, std::size_t i) {
  while (i < v.size() && common::is_space(v[i])) ++i;
  if (i >= v.size()) return false;
  char c = v[i];
  if (common::is_alpha(c)) {
    std::size_t j = i;
    while (j < v.size() && is_word_char(v[j])) ++j;
    return in_set(v.substr(i, j - i), kContinuationWords);
  }
  return std::string_view("=<>!|&^~+-*/%;,()#:").find(c) != std::string_view::npos;
}

// Which unquoted place the whole value may take, if any.
bool bare_start(std::string_view v, PlaceKind* kind) {
  std::size_t i = 0;
  while (i < v.size() && common::is_space(v[i])) ++i;
  if (i >= v.size()) return false;
  char c = v[i];
  char c1 = i + 1 < v.size() ? v[i + 1] : '\0';
  if (common::is_digit(c) || ((c == '-' || c == '+' || c == '.') && common::is_digit(c1))) {
    // A number: something SQL must follow it.
    std::size_t j = i + 1;
    while (j < v.size() && (is_word_char(v[j]) || v[j] == '.')) ++j;
    *kind = PlaceKind::kOperand;
    return continuation_start(v, j);
  }
  if (c == '(' || c == '@' || c == '\'' || c == '"' ||
      ((c == '-' || c == '+' || c == '~' || c == '!') && c1 == '(')) {
    *kind = PlaceKind::kOperand;
    return true;
  }
  if (common::is_alpha(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80) {
    std::size_t j = i;
    while (j < v.size() && (is_word_char(v[j]) || static_cast<unsigned char>(v[j]) >= 0x80)) ++j;
    std::string_view w = v.substr(i, j - i);
    bool call = j < v.size() && v[j] == '(';
    if (call && common::iequals(w, "if")) {
      *kind = PlaceKind::kStatement;  // IF(cond) statement, or the function IF(c, a, b)
      return true;
    }
    if (call && !in_set(w, kContinuationWords)) {
      *kind = PlaceKind::kOperand;  // a function: "sleep(5)"
      return true;
    }
    if (in_set(w, kStatementWords)) {
      *kind = PlaceKind::kStatement;
      return true;
    }
    if (in_set(w, kContinuationWords)) {
      *kind = PlaceKind::kContinuation;
      return true;
    }
    // A name where the application expects one, then SQL: "FOO))) AND …", "FOO,(SELECT …)",
    // "abc' …" is a quoted place. Arithmetic after a word is what percent-encoded or plain
    // text looks like ("Nepou%C5%BEil", "well-known"): not enough to read on.
    *kind = PlaceKind::kOperand;
    std::size_t k = j;
    while (k < v.size() && common::is_space(v[k])) ++k;
    if (k >= v.size()) return false;
    if (v[k] == ')' || v[k] == ',' || v[k] == ';' || v[k] == '=' || v[k] == '<' || v[k] == '>')
      return true;
    return k > j && common::is_alpha(v[k]) && continuation_start(v, k);
  }
  // An operator or a closing parenthesis right after the application's operand: "+if(…)",
  // ") or (1=1", "; drop table t", "/*!union*/". Not '%', '/', '*', '=', '<' or '>': LIKE
  // patterns, paths, percent-encoded text, markup and headings start that way.
  if (std::string_view(")|&;,+-").find(c) != std::string_view::npos ||
      (c == '/' && c1 == '*')) {
    *kind = PlaceKind::kContinuation;
    return true;
  }
  return false;
}

// A user name, a number, a probe marker: letters, digits and "_-.@%" only (or nothing).
bool one_word(std::string_view s) {
  for (char c : s)
    if (!is_word_char(c) && static_cast<unsigned char>(c) < 0x80 &&
        std::string_view("-.@%").find(c) == std::string_view::npos)
      return false;
  return true;
}

constexpr std::uint32_t kStrongSigns =
    kUnionSelect | kStacked | kWaitfor | kAttackCall | kIntoFile | kProcedure;

// What the findings weigh. Units: a strong sign alone (6) convicts; weaker signs add up.
int score(const Findings& f, const Place& p, std::string_view v) {
  const std::uint32_t s = f.signs;
  int w = 0;
  if (s & kStrongSigns) w += 6;
  if (s & kSubquery) w += 4;
  if (s & (kSystemVar | kFingerprint)) w += 4;
  // One boolean operator, or one comparison, is what prose and code have too ("x and y",
  // "a < b"); more of them count only together.
  if (f.booleans > 0) w += 2;
  if (f.comparisons > 0) w += 2;
  if (f.comparisons > 1 && f.booleans > 0) w += 2;
  if (f.boolean_comparison) w += 2;
  if (s & kTautology) w += 1;
  if (f.calls > 0) w += f.calls > 1 ? 3 : 2;
  if (s & kCase) w += 2;
  if (s & kOrderBy) w += 4;
  if (s & kClause) w += 2;
  if (s & kSelectFrom) w += 2;
  if (s & kCommentEnd) w += 2;
  if (s & kBalanced) w += 1;
  if (s & kCloser) w += 1;
  if (s & kArithmetic) w += 1;
  // A value that is a statement of its own ("DROP TABLE users;", "select version();") needs
  // an end the way SQL ends one: a ';' or a comment of one word, not a quotation's "-- Author".
  bool terminated = f.semicolons > 0 || ((s & kCommentEnd) && one_word(common::trim(f.comment)));
  if ((s & kLeadingStatement) && terminated) w += 6;
  if ((s & kLeadingSelect) && (s & kSelectSql)) w += 3;
  if ((s & kLeadingSelect) && terminated) w += 2;
  // Probes made of one word around the break-out: "admin'--", "x' #", "'; --" (a comment hides
  // the rest of the query), "A' AND 'B", "' XOR '", "X' = 'X' = '1" (the value's last quote
  // pairs with the application's closing one, the literals joined by an operator). Prose
  // quotes whole words and phrases ("LIKE", 7" #2 needle): there the break-out is glued to a
  // word or the comment holds words.
  if (is_quoted(p.kind) && one_word(v.substr(0, p.quote))) {
    if ((s & kCommentEnd) && (s & ~(kCommentEnd | kCloser | kBalanced)) == 0 &&
        f.booleans == 0 && f.comparisons == 0 && one_word(common::trim(f.comment)))
      w += 4;
    bool spaced = p.tail < v.size() && !common::is_alpha(v[p.tail]);
    std::size_t last = v.rfind(v[p.quote]);
    bool joined = f.booleans + f.comparisons > 0 || (s & kArithmetic);
    if ((s & kBalanced) && !(s & kCommentEnd) && spaced && joined && last > p.quote &&
        one_word(v.substr(last + 1)))
      w += 3;
  }
  return w;
}

Verdict judge(std::string_view v, const Place& p) {
  Start start = p.kind == PlaceKind::kOperand     ? Start::kOperand
                : p.kind == PlaceKind::kStatement ? Start::kStatement
                                                  : Start::kAfterOperand;
  // Does the value start the way prose does not: with a number or another literal rather than
  // a word ("-1 union select …", "1' union select …", "' union select …")?
  std::size_t first = 0;
  while (first < v.size() && common::is_space(v[first])) ++first;
  bool after_number = false;
  if (p.kind == PlaceKind::kOperand && first < v.size()) {
    char c = v[first];
    char c1 = first + 1 < v.size() ? v[first + 1] : '\0';
    after_number = common::is_digit(c) || c == '@' ||
                   ((c == '-' || c == '+' || c == '.') && common::is_digit(c1)) ||
                   ((c == '-' || c == '+') && c1 == '(');
  } else if (is_quoted(p.kind)) {
    after_number = true;
    for (std::size_t i = 0; i < p.quote && after_number; ++i)
      after_number = !common::is_alpha(v[i]) && static_cast<unsigned char>(v[i]) < 0x80;
  }
  Recognizer r(v.substr(p.tail), start, after_number);
  Verdict verdict;
  verdict.place = p;
  verdict.findings = r.run();
  const Findings& f = verdict.findings;
  verdict.score = score(f, p, v);
  bool strong = (f.signs & kStrongSigns) != 0;
  // Unquoted, a condition is an attempt when it joins the application's operand ("1 AND 2>1",
  // " OR 1=1", "x) OR (1=1") or compares a thing with itself ("1=1"). Comparisons of the
  // value's own joined by AND/OR ("5 < 6 and 7 > 3", "(a<b) or (c>d)") are arithmetic or prose
  // written as such: they need another sign (a comment, a call, a parenthesis closed, ...).
  constexpr std::uint32_t kConditionSigns = kBoolean | kComparison | kTautology | kArithmetic;
  if (!is_quoted(p.kind) && p.kind != PlaceKind::kStatement && !f.plain_boolean &&
      !f.identity && (f.signs & ~kConditionSigns) == 0)
    return verdict;
  // Without a break-out or a leading number, the value is read from its first word: prose
  // and code have conditions too ("x = 1 or y = 2", "and FOO=1", "(a<b) and (b<c)"). There
  // a verdict needs a strong sign, a subquery, or a boolean operator with a comparison of
  // constants ("hi or 1=1 --", " AND 1=0").
  if (!is_quoted(p.kind) && !after_number && p.kind != PlaceKind::kStatement) {
    bool constants = f.boolean_comparison && (f.signs & kTautology);
    // " OR x=y#": a condition whose comment hides the rest; " ORDER BY 5": a column probe.
    bool cut = f.boolean_comparison && (f.signs & kCommentEnd) && one_word(common::trim(f.comment));
    if (!strong && !(f.signs & (kSubquery | kOrderBy)) && !constants && !cut) return verdict;
    // "sleep(1);", "BENCHMARK(BM_Copy);": a call alone is also a line of code, unless the
    // function is SQL's alone (pg_sleep) or a comment cuts the query after it.
    bool other_strong = (f.signs & kStrongSigns & ~kAttackCall) != 0;
    if (p.kind == PlaceKind::kOperand && !other_strong && !f.sql_only_call && !constants &&
        !cut && !(f.signs & (kSubquery | kCommentEnd)))
      return verdict;
  }
  // A text SQL stops reading somewhere: what was read before must be decisive.
  bool tautology = f.boolean_comparison && (is_quoted(p.kind) || after_number);
  verdict.convicted = f.complete ? verdict.score >= 6
                                 : (strong || (((f.signs & kSubquery) || tautology) &&
                                                   verdict.score >= 8));
  return verdict;
}

std::string upper(std::string_view w) {
  std::string u(w);
  for (char& c : u)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return u;
}

// One sentence for an analyst: where the value broke out, what SQL it added, how it ends.
std::string reason(std::string_view v, const Verdict& verdict) {
  const Findings& f = verdict.findings;
  const Place& p = verdict.place;
  const std::uint32_t s = f.signs;
  std::string parts;
  int n = 0;
  auto add = [&](const std::string& part) {
    if (n >= 3) return;
    if (n > 0) parts += ", ";
    parts += part;
    ++n;
  };
  if (s & kUnionSelect) add("UNION SELECT");
  if (s & kStacked) add("a stacked " + upper(f.stacked_word) + " statement");
  if (s & kWaitfor) add("a WAITFOR DELAY");
  if (s & kAttackCall) add("a call to " + upper(f.attack_call) + "()");
  if (s & kIntoFile) add("INTO OUTFILE");
  if (s & kProcedure) add("PROCEDURE ANALYSE");
  if (s & kSubquery) add("a subquery");
  if (s & (kSystemVar | kFingerprint)) add("a server fingerprint (version, user or database)");
  if (f.boolean_comparison)
    add("an " + upper(f.boolean_word) + " condition with a comparison");
  else if (s & kBoolean)
    add("an " + upper(f.boolean_word) + " operator");
  else if (s & kComparison)
    add("a comparison");
  if (s & kOrderBy) add("ORDER BY a column number");
  else if (s & kClause) add("a " + upper(f.clause_word) + " clause");
  if ((s & kCall) && !(s & kAttackCall)) add("a function call");

  std::string r;
  switch (p.kind) {
    case PlaceKind::kSingle:
    case PlaceKind::kDouble:
      r = static_cast<unsigned char>(v[p.quote]) >= 0x80
              ? "closes a quoted string with a look-alike quotation mark that databases may "
                "convert to a quote"
          : p.kind == PlaceKind::kSingle ? "closes a single-quoted string"
                                         : "closes a double-quoted string";
      if (f.closers == 1) r += " and a parenthesis";
      if (f.closers > 1) r += " and " + std::to_string(f.closers) + " parentheses";
      if (n > 0) r += ", then adds ";
      break;
    case PlaceKind::kOperand:
      r = "where a number or a name goes, adds ";
      break;
    case PlaceKind::kContinuation:
      r = "continues the application's expression with ";
      break;
    case PlaceKind::kStatement:
      r = "is an SQL statement";
      if (!f.stacked_word.empty()) r += " (" + upper(f.stacked_word) + ")";
      if (n > 0) r += " with ";
      break;
  }
  if (n == 0 && !is_quoted(p.kind) && p.kind != PlaceKind::kStatement) add("SQL syntax");
  r += parts;
  if (s & kCommentEnd) r += "; a comment cuts off the rest of the query";
  else if ((s & kBalanced) && is_quoted(p.kind))
    r += "; its last quote pairs with the application's closing quote";
  else if (f.semicolons > 0) r += "; a semicolon ends the statement";
  return r;
}

// The first conviction among the places of `v`.
Verdict analyze(std::string_view v, std::uint32_t features) {
  Verdict best;
  auto consider = [&](PlaceKind kind, std::size_t quote, std::size_t tail) {
    if (best.convicted || quote == std::string_view::npos || !continuation_start(v, tail)) return;
    // `like this': the quote closes a GNU/TeX-style quotation opened by a backtick.
    if (v[quote] == '\'' && (features & kBacktick)) {
      std::size_t ticks = 0;
      for (std::size_t i = 0; i < quote; ++i) ticks += v[i] == '`';
      if (ticks & 1u) return;
    }
    Verdict verdict = judge(v, Place{kind, quote, tail});
    if (verdict.convicted) best = verdict;
  };
  for (char q : {'\'', '"'}) {
    if (!(features & (q == '\'' ? kSQuote : kDQuote))) continue;
    PlaceKind kind = q == '\'' ? PlaceKind::kSingle : PlaceKind::kDouble;
    std::size_t plain = v.find(q);
    consider(kind, plain, plain + 1);
    // Where backslashes escape quotes (MySQL), \' stays inside the literal: the break-out is
    // the first quote not escaped.
    std::size_t unescaped = find_unescaped(v, q, plain);
    if (unescaped != plain && unescaped != std::string_view::npos)
      consider(kind, unescaped, unescaped + 1);
  }
  if (features & kHigh) {
    std::size_t at = 0, len = 0;
    PlaceKind kind = PlaceKind::kSingle;
    if (find_lookalike_quote(v, &at, &len, &kind)) consider(kind, at, at + len);
  }
  if (!best.convicted) {
    PlaceKind kind;
    if (bare_start(v, &kind)) {
      Verdict verdict = judge(v, Place{kind, 0, 0});
      if (verdict.convicted) best = verdict;
    }
  }
  return best;
}

// "carrito'OR'a='a": a boolean operator glued between two quotes joins the application's
// literal to another one, with no space a tokenizer-based reading would need. Prose quotes
// words with spaces around them ("the 'or' operator"), so a word character must touch both
// outer sides. Returns the position of the first quote, or npos.
std::size_t glued_boolean(std::string_view v) {
  for (std::size_t q = common::find_any(v, "'\""); q != std::string_view::npos;
       q = common::find_any(v, "'\"", q + 1)) {
    if (q == 0 || !is_word_char(v[q - 1])) continue;
    std::size_t e = q + 1;
    while (e < v.size() && common::is_alpha(v[e])) ++e;
    std::string_view word = v.substr(q + 1, e - q - 1);
    if (!(common::iequals(word, "or") || common::iequals(word, "and") ||
          common::iequals(word, "xor")))
      continue;
    if (e + 1 < v.size() && v[e] == v[q] && is_word_char(v[e + 1])) return q;
  }
  return std::string_view::npos;
}

}  // namespace

bool detect_sqli(const Candidate& c, Hit* hit) {
  std::string_view v = c.value;
  Verdict best = analyze(v, c.features);
  if (!best.convicted && (c.features & kQuestion) && (c.features & kEquals)) {
    // A URL carries its own parameters (a Referer, a return address): each value of its query
    // is a value the linked page's application receives. The pieces are disjoint: linear.
    std::size_t q = v.find('?');
    std::size_t eq = q == std::string_view::npos ? q : v.find('=', q);
    for (int params = 0; eq != std::string_view::npos && params < kMaxUrlParams; ++params) {
      std::size_t amp = v.find('&', eq);
      std::size_t end = amp == std::string_view::npos ? v.size() : amp;
      std::string_view part = v.substr(eq + 1, end - eq - 1);
      best = analyze(part, features_of(part));
      if (best.convicted) {
        v = part;
        break;
      }
      eq = amp == std::string_view::npos ? amp : v.find('=', amp);
    }
  }
  if (!best.convicted) {
    std::size_t q = (c.features & (kSQuote | kDQuote)) ? glued_boolean(c.value) : std::string_view::npos;
    if (q == std::string_view::npos) return false;
    hit->reason = "closes a quoted string and joins another literal to it with a boolean "
                  "operator written between quotes";
    hit->evidence = evidence(c.value.substr(q));
    return true;
  }
  hit->reason = reason(v, best);
  hit->evidence = evidence(v.substr(best.place.quote));
  return true;
}

}  // namespace vigil::detect::input
