#include "core/tokenize/sql/sqlite_limit.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "core/common/ascii.hpp"

namespace vigil::tokenize::sql {
namespace {

// Recursion frames (about ten per nesting level of parentheses, CASE or calls).
constexpr int kMaxDepth = 160;
constexpr std::size_t kMaxArena = std::size_t(1) << 16;

enum class Type : std::uint8_t { kNull, kInt, kReal, kText, kBlob };

// A value with SQLite's storage classes. Text and blob bytes live in the evaluator's arena.
struct Value {
  Type type = Type::kNull;
  std::int64_t i = 0;
  double r = 0;
  std::uint32_t off = 0;
  std::uint32_t len = 0;
  bool content = true;  // text/blob bytes known

  static Value null() { return Value{}; }
  static Value integer(std::int64_t v) {
    Value x;
    x.type = Type::kInt;
    x.i = v;
    return x;
  }
  static Value real(double v) {
    if (std::isnan(v)) return null();  // SQLite turns NaN into NULL
    Value x;
    x.type = Type::kReal;
    x.r = v;
    return x;
  }
  bool numeric() const { return type == Type::kInt || type == Type::kReal; }
  double as_double() const { return type == Type::kInt ? static_cast<double>(i) : r; }
};

bool is_trivia(const Token& t) {
  return t.kind == TokenKind::kWhitespace || t.kind == TokenKind::kComment;
}

// SQLite's text-to-number conversion for arithmetic: the longest numeric prefix after leading
// space, 0 when there is none. `whole` is set when nothing but space follows the number.
Value numeric_prefix(std::string_view s, bool* whole) {
  std::size_t k = 0, n = s.size();
  while (k < n && common::is_space(s[k])) ++k;
  std::size_t start = k;
  bool negative = false;
  if (k < n && (s[k] == '+' || s[k] == '-')) negative = s[k++] == '-';
  std::size_t digits_begin = k;
  while (k < n && common::is_digit(s[k])) ++k;
  std::size_t int_digits = k - digits_begin;
  bool is_real = false;
  std::size_t frac_digits = 0;
  if (k < n && s[k] == '.') {
    std::size_t f = k + 1;
    while (f < n && common::is_digit(s[f])) ++f;
    frac_digits = f - k - 1;
    if (int_digits + frac_digits > 0) {
      is_real = true;
      k = f;
    }
  }
  if (int_digits + frac_digits == 0) {
    if (whole) *whole = false;
    return Value::integer(0);
  }
  if (k < n && (s[k] == 'e' || s[k] == 'E')) {
    std::size_t e = k + 1;
    if (e < n && (s[e] == '+' || s[e] == '-')) ++e;
    if (e < n && common::is_digit(s[e])) {
      while (e < n && common::is_digit(s[e])) ++e;
      is_real = true;
      k = e;
    }
  }
  std::size_t end = k;
  while (k < n && common::is_space(s[k])) ++k;
  if (whole) *whole = k == n;
  std::string_view number = s.substr(digits_begin, end - digits_begin);
  if (!is_real) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
    (void)p;
    if (ec == std::errc() && v <= static_cast<std::uint64_t>(INT64_MAX))
      return Value::integer(negative ? -static_cast<std::int64_t>(v)
                                     : static_cast<std::int64_t>(v));
    if (ec == std::errc() && negative && v == static_cast<std::uint64_t>(INT64_MAX) + 1)
      return Value::integer(INT64_MIN);
  }
  double d = 0;
  auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), d);
  (void)p;
  if (ec == std::errc::result_out_of_range)
    d = std::numeric_limits<double>::infinity();
  else if (ec != std::errc())
    d = 0;
  (void)start;
  return Value::real(negative ? -d : d);
}

// SQLite's "%!.15g": 15 significant digits, always with a decimal point.
std::size_t format_real(double v, char* buf, std::size_t cap) {
  if (std::isinf(v)) {
    const char* s = v > 0 ? "Inf" : "-Inf";
    std::size_t n = std::strlen(s);
    std::memcpy(buf, s, n);
    return n;
  }
  auto [p, ec] = std::to_chars(buf, buf + cap - 4, v, std::chars_format::general, 15);
  if (ec != std::errc()) return 0;
  std::size_t n = static_cast<std::size_t>(p - buf);
  std::string_view s(buf, n);
  std::size_t e = s.find('e');
  if (s.find('.') == std::string_view::npos) {
    std::size_t at = e == std::string_view::npos ? n : e;
    std::memmove(buf + at + 2, buf + at, n - at);
    buf[at] = '.';
    buf[at + 1] = '0';
    n += 2;
  }
  return n;
}

bool like_match(std::string_view pat, std::string_view s) {
  // Iterative wildcard match with one backtrack point: O(|pat| * |s|) at worst.
  std::size_t p = 0, k = 0, star_p = std::string_view::npos, star_k = 0;
  auto next_char = [](std::string_view t, std::size_t at) {
    std::size_t m = at + 1;
    while (m < t.size() && (static_cast<unsigned char>(t[m]) & 0xC0) == 0x80) ++m;
    return m;
  };
  while (k < s.size()) {
    if (p < pat.size() && pat[p] == '%') {
      star_p = ++p;
      star_k = k;
    } else if (p < pat.size() && pat[p] == '_') {
      ++p;
      k = next_char(s, k);
    } else if (p < pat.size() && common::to_lower(pat[p]) == common::to_lower(s[k])) {
      ++p;
      ++k;
    } else if (star_p != std::string_view::npos) {
      p = star_p;
      k = star_k = next_char(s, star_k);
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '%') ++p;
  return p == pat.size();
}

class Eval {
 public:
  Eval(std::string_view text, std::span<const Token> tokens, std::uint32_t pos, std::string* arena)
      : text_(text), tokens_(tokens), pos_(pos), arena_(arena) {
    arena_->clear();
    arena_->reserve(kMaxArena);  // never reallocates below the cap: views stay valid
    skip();
  }

  bool expr(Value* v) { return level(1, v); }

  bool at_end() const { return pos_ >= tokens_.size(); }
  bool accept_kw(std::string_view w) {
    if (!is_kw(w)) return false;
    advance();
    return true;
  }
  bool accept_punct(char c) {
    if (!is_punct(c)) return false;
    advance();
    return true;
  }

  // OP_MustBeInt: is `v` acceptable as a LIMIT/OFFSET value?
  // Returns 1 (integer), 0 (datatype mismatch) or -1 (cannot tell).
  int must_be_int(const Value& v) const {
    switch (v.type) {
      case Type::kInt:
        return 1;
      case Type::kReal:
        return v.r == std::floor(v.r) && v.r >= -9.2233720368547758e18 &&
                       v.r < 9.2233720368547758e18
                   ? 1
                   : 0;
      case Type::kText: {
        if (!v.content) return -1;
        bool whole = false;
        Value n = numeric_prefix(str(v), &whole);
        if (!whole) return 0;
        return must_be_int(n);
      }
      case Type::kNull:
      case Type::kBlob:
        return 0;
    }
    return -1;
  }

 private:
  const Token& cur() const { return tokens_[pos_]; }
  std::string_view cur_text() const { return cur().text(text_); }
  bool is_kw(std::string_view w) const {
    return !at_end() && cur().kind == TokenKind::kKeyword && common::iequals(cur_text(), w);
  }
  bool is_punct(char c) const {
    return !at_end() && cur().kind == TokenKind::kPunctuation && text_[cur().begin] == c;
  }
  bool is_op(std::string_view op) const {
    return !at_end() && cur().kind == TokenKind::kOperator && cur_text() == op;
  }
  void skip() {
    while (pos_ < tokens_.size() && is_trivia(tokens_[pos_])) ++pos_;
  }
  void advance() {
    ++pos_;
    skip();
  }

  std::string_view str(const Value& v) const {
    return std::string_view(*arena_).substr(v.off, v.len);
  }
  bool make_bytes(Type type, std::string_view a, std::string_view b, Value* out) {
    if (arena_->size() + a.size() + b.size() > kMaxArena) return false;
    Value v;
    v.type = type;
    v.off = static_cast<std::uint32_t>(arena_->size());
    arena_->append(a.data(), a.size());  // `a` and `b` may point into the arena: no realloc
    arena_->append(b.data(), b.size());
    v.len = static_cast<std::uint32_t>(a.size() + b.size());
    *out = v;
    return true;
  }
  bool make_text(std::string_view s, Value* out) { return make_bytes(Type::kText, s, {}, out); }

  // The text form of a value (numbers rendered the way SQLite renders them).
  bool as_text(const Value& v, Value* out) {
    char buf[64];
    switch (v.type) {
      case Type::kText:
        *out = v;
        return v.content;
      case Type::kBlob:
        if (!v.content) return false;
        *out = v;
        out->type = Type::kText;
        return true;
      case Type::kInt: {
        auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v.i);
        (void)ec;
        return make_text(std::string_view(buf, static_cast<std::size_t>(p - buf)), out);
      }
      case Type::kReal: {
        std::size_t n = format_real(v.r, buf, sizeof buf);
        if (n == 0) return false;
        return make_text(std::string_view(buf, n), out);
      }
      case Type::kNull:
        *out = Value::null();
        return true;
    }
    return false;
  }
  // The numeric form for arithmetic.
  bool as_number(const Value& v, Value* out) const {
    if (v.numeric() || v.type == Type::kNull) {
      *out = v;
      return true;
    }
    if (!v.content) return false;
    *out = numeric_prefix(str(v), nullptr);
    return true;
  }
  // Truth value: 1, 0, or -1 for NULL; false when unknown.
  bool truth(const Value& v, int* out) const {
    if (v.type == Type::kNull) {
      *out = -1;
      return true;
    }
    Value n;
    if (!as_number(v, &n)) return false;
    *out = n.as_double() != 0 ? 1 : 0;
    return true;
  }
  // Three-way comparison without affinity: numbers < text < blob.
  bool compare(const Value& a, const Value& b, int* out) const {
    auto rank = [](const Value& v) { return v.numeric() ? 0 : v.type == Type::kText ? 1 : 2; };
    int ra = rank(a), rb = rank(b);
    if (ra != rb) {
      *out = ra < rb ? -1 : 1;
      return true;
    }
    if (ra == 0) {
      if (a.type == Type::kInt && b.type == Type::kInt)
        *out = a.i < b.i ? -1 : a.i > b.i;
      else
        *out = a.as_double() < b.as_double() ? -1 : a.as_double() > b.as_double();
      return true;
    }
    if (!a.content || !b.content) return false;
    int c = str(a).compare(str(b));
    *out = c < 0 ? -1 : c > 0;
    return true;
  }

  bool level(int lvl, Value* v);
  bool unary(Value* v);
  bool primary(Value* v);
  bool function(std::string_view name, Value* v);
  bool case_expr(Value* v);
  bool cast_expr(Value* v);
  bool arith(std::string_view op, const Value& a, const Value& b, Value* out);
  bool comparison(std::string_view op, const Value& a, const Value& b, Value* out);
  bool in_list(const Value& a, bool negate, Value* out);
  bool predicate(Value* v);

  std::string_view text_;
  std::span<const Token> tokens_;
  std::size_t pos_;
  std::string* arena_;
  int depth_ = 0;
};

// Binary operator levels, loosest first (SQLite's lang_expr precedence):
//   1 OR  2 AND  3 NOT  4 = == != <> IS IN LIKE GLOB MATCH REGEXP BETWEEN  5 < <= > >=
//   6 & | << >>  7 + -  8 * / %  9 || -> ->>  then unary ~ + - and COLLATE.
bool Eval::level(int lvl, Value* v) {
  struct DepthGuard {
    int* d;
    ~DepthGuard() { --*d; }
  } guard{&depth_};
  if (++depth_ > kMaxDepth) return false;
  if (lvl > 9) return unary(v);
  if (lvl == 3) {
    if (accept_kw("not")) {
      Value x;
      if (!level(3, &x)) return false;
      int t;
      if (!truth(x, &t)) return false;
      *v = t < 0 ? Value::null() : Value::integer(t == 0);
      return true;
    }
    return level(4, v);
  }
  if (lvl == 4) return predicate(v);
  if (!level(lvl + 1, v)) return false;
  for (;;) {
    if (lvl == 1 && is_kw("or")) {
      advance();
      Value b;
      if (!level(2, &b)) return false;
      int ta, tb;
      if (!truth(*v, &ta) || !truth(b, &tb)) return false;
      *v = (ta == 1 || tb == 1) ? Value::integer(1)
           : (ta < 0 || tb < 0) ? Value::null()
                                : Value::integer(0);
      continue;
    }
    if (lvl == 2 && is_kw("and")) {
      advance();
      Value b;
      if (!level(3, &b)) return false;
      int ta, tb;
      if (!truth(*v, &ta) || !truth(b, &tb)) return false;
      *v = (ta == 0 || tb == 0) ? Value::integer(0)
           : (ta < 0 || tb < 0) ? Value::null()
                                : Value::integer(1);
      continue;
    }
    if (at_end() || cur().kind != TokenKind::kOperator) return true;
    std::string_view op = cur_text();
    bool match = (lvl == 5 && (op == "<" || op == "<=" || op == ">" || op == ">=")) ||
                 (lvl == 6 && (op == "&" || op == "|" || op == "<<" || op == ">>")) ||
                 (lvl == 7 && (op == "+" || op == "-")) ||
                 (lvl == 8 && (op == "*" || op == "/" || op == "%")) || (lvl == 9 && op == "||");
    if (lvl == 9 && (op == "->" || op == "->>")) return false;  // JSON: not evaluated
    if (!match) return true;
    advance();
    Value b;
    if (!level(lvl + 1, &b)) return false;
    if (lvl == 5) {
      if (!comparison(op, *v, b, v)) return false;
    } else if (!arith(op, *v, b, v)) {
      return false;
    }
  }
}

// Level 4: equality, IS, IN, LIKE, BETWEEN, ISNULL/NOTNULL (left-associative).
bool Eval::predicate(Value* v) {
  if (!level(5, v)) return false;
  for (;;) {
    bool negate = false;
    if (is_kw("not")) {
      // NOT LIKE / NOT IN / NOT BETWEEN / NOT NULL; a bare NOT here is a syntax error.
      advance();
      negate = true;
      if (accept_kw("null")) {
        *v = Value::integer(v->type != Type::kNull);
        continue;
      }
    }
    if (!at_end() && cur().kind == TokenKind::kOperator && !negate) {
      std::string_view op = cur_text();
      if (op == "=" || op == "==" || op == "!=" || op == "<>") {
        advance();
        Value b;
        if (!level(5, &b) || !comparison(op, *v, b, v)) return false;
        continue;
      }
      return true;
    }
    if (!negate && accept_kw("is")) {
      bool is_not = accept_kw("not");
      Value b;
      if (!level(5, &b)) return false;
      bool equal;
      if (v->type == Type::kNull || b.type == Type::kNull) {
        equal = v->type == b.type;
      } else {
        int c;
        if (!compare(*v, b, &c)) return false;
        equal = c == 0;
      }
      *v = Value::integer(equal != is_not);
      continue;
    }
    if (!negate && (is_kw("isnull") || is_kw("notnull"))) {
      bool want_null = is_kw("isnull");
      advance();
      *v = Value::integer((v->type == Type::kNull) == want_null);
      continue;
    }
    if (accept_kw("like")) {
      Value pat;
      if (!level(5, &pat) || is_kw("escape")) return false;
      if (v->type == Type::kNull || pat.type == Type::kNull) {
        *v = Value::null();
        continue;
      }
      Value a, p;
      if (!as_text(*v, &a) || !as_text(pat, &p)) return false;
      if (static_cast<std::size_t>(a.len) * p.len > (std::size_t(1) << 20)) return false;
      *v = Value::integer(like_match(str(p), str(a)) != negate);
      continue;
    }
    if (accept_kw("in")) {
      if (!in_list(*v, negate, v)) return false;
      continue;
    }
    if (accept_kw("between")) {
      Value lo, hi;
      if (!level(5, &lo) || !accept_kw("and") || !level(5, &hi)) return false;
      Value ge, le;
      if (!comparison(">=", *v, lo, &ge) || !comparison("<=", *v, hi, &le)) return false;
      int a, b;
      if (!truth(ge, &a) || !truth(le, &b)) return false;
      int r = (a == 0 || b == 0) ? 0 : (a < 0 || b < 0) ? -1 : 1;
      if (r >= 0 && negate) r = !r;
      *v = r < 0 ? Value::null() : Value::integer(r);
      continue;
    }
    // GLOB, MATCH, REGEXP and anything else: not evaluated.
    if (negate || is_kw("glob") || is_kw("match") || is_kw("regexp")) return false;
    return true;
  }
}

bool Eval::in_list(const Value& a, bool negate, Value* out) {
  if (!accept_punct('(')) return false;
  if (is_kw("select")) return false;
  bool found = false, saw_null = false;
  if (!accept_punct(')')) {
    for (;;) {
      Value x;
      if (!expr(&x)) return false;
      if (x.type == Type::kNull) {
        saw_null = true;
      } else if (a.type != Type::kNull) {
        int c;
        if (!compare(a, x, &c)) return false;
        if (c == 0) found = true;
      }
      if (accept_punct(',')) continue;
      if (accept_punct(')')) break;
      return false;
    }
  }
  if (a.type == Type::kNull)
    *out = Value::null();
  else if (found)
    *out = Value::integer(!negate);
  else if (saw_null)
    *out = Value::null();
  else
    *out = Value::integer(negate);
  return true;
}

bool Eval::comparison(std::string_view op, const Value& a, const Value& b, Value* out) {
  if (a.type == Type::kNull || b.type == Type::kNull) {
    *out = Value::null();
    return true;
  }
  int c;
  if (!compare(a, b, &c)) return false;
  bool r = (op == "=" || op == "==")    ? c == 0
           : (op == "!=" || op == "<>") ? c != 0
           : op == "<"                  ? c < 0
           : op == "<="                 ? c <= 0
           : op == ">"                  ? c > 0
                                        : c >= 0;
  *out = Value::integer(r);
  return true;
}

bool Eval::arith(std::string_view op, const Value& a0, const Value& b0, Value* out) {
  if (op == "||") {
    if (a0.type == Type::kNull || b0.type == Type::kNull) {
      *out = Value::null();
      return true;
    }
    Value a, b;
    if (!as_text(a0, &a) || !as_text(b0, &b)) return false;
    std::string_view sa = str(a), sb = str(b);
    return make_bytes(Type::kText, sa, sb, out);
  }
  Value a, b;
  if (!as_number(a0, &a) || !as_number(b0, &b)) return false;
  if (a.type == Type::kNull || b.type == Type::kNull) {
    *out = Value::null();
    return true;
  }
  if (op == "&" || op == "|" || op == "<<" || op == ">>") {
    auto to_int = [](const Value& v) {
      if (v.type == Type::kInt) return v.i;
      if (!(v.r > -9.2e18 && v.r < 9.2e18)) return std::int64_t(0);
      return static_cast<std::int64_t>(v.r);
    };
    std::int64_t x = to_int(a), y = to_int(b);
    std::uint64_t ux = static_cast<std::uint64_t>(x);
    if (op == "&")
      *out = Value::integer(x & y);
    else if (op == "|")
      *out = Value::integer(x | y);
    else {
      bool left = op == "<<";
      if (y < 0) {
        left = !left;
        y = y <= -64 ? 64 : -y;
      }
      if (y >= 64)
        *out = Value::integer(left || x >= 0 ? 0 : -1);
      else if (left)
        *out = Value::integer(static_cast<std::int64_t>(ux << y));
      else
        *out = Value::integer(x >> y);
    }
    return true;
  }
  if (a.type == Type::kInt && b.type == Type::kInt) {
    std::int64_t r;
    if (op == "+" && !__builtin_add_overflow(a.i, b.i, &r)) {
      *out = Value::integer(r);
      return true;
    }
    if (op == "-" && !__builtin_sub_overflow(a.i, b.i, &r)) {
      *out = Value::integer(r);
      return true;
    }
    if (op == "*" && !__builtin_mul_overflow(a.i, b.i, &r)) {
      *out = Value::integer(r);
      return true;
    }
    if (op == "/") {
      if (b.i == 0) {
        *out = Value::null();
        return true;
      }
      if (!(a.i == INT64_MIN && b.i == -1)) {
        *out = Value::integer(a.i / b.i);
        return true;
      }
    }
    if (op == "%") {
      if (b.i == 0) {
        *out = Value::null();
        return true;
      }
      *out = Value::integer(b.i == -1 ? 0 : a.i % b.i);
      return true;
    }
  }
  double x = a.as_double(), y = b.as_double();
  if (op == "+")
    *out = Value::real(x + y);
  else if (op == "-")
    *out = Value::real(x - y);
  else if (op == "*")
    *out = Value::real(x * y);
  else if (op == "/")
    *out = y == 0 ? Value::null() : Value::real(x / y);
  else {
    // OP_Remainder on reals: both truncated to integers, the remainder is a real.
    if (!(x > -9.2e18 && x < 9.2e18 && y > -9.2e18 && y < 9.2e18)) return false;
    std::int64_t ix = static_cast<std::int64_t>(x), iy = static_cast<std::int64_t>(y);
    if (iy == 0) {
      *out = Value::null();
      return true;
    }
    if (iy == -1) iy = 1;
    *out = Value::real(static_cast<double>(ix % iy));
  }
  return true;
}

bool Eval::unary(Value* v) {
  if (is_op("-") || is_op("+") || is_op("~")) {
    std::string_view op = cur_text();
    advance();
    Value x;
    {
      struct DepthGuard {
        int* d;
        ~DepthGuard() { --*d; }
      } guard{&depth_};
      if (++depth_ > kMaxDepth || !unary(&x)) return false;
    }
    if (op == "+") {
      *v = x;
      return true;
    }
    Value n;
    if (!as_number(x, &n)) return false;
    if (n.type == Type::kNull)
      *v = n;
    else if (op == "~")
      *v = Value::integer(~(n.type == Type::kInt ? n.i : static_cast<std::int64_t>(n.r)));
    else if (n.type == Type::kInt)
      *v = n.i == INT64_MIN ? Value::real(9.2233720368547758e18) : Value::integer(-n.i);
    else
      *v = Value::real(-n.r);
    return true;
  }
  if (!primary(v)) return false;
  while (accept_kw("collate")) {
    if (at_end() || (cur().kind != TokenKind::kIdentifier && cur().kind != TokenKind::kString))
      return false;
    advance();
  }
  return true;
}

bool Eval::primary(Value* v) {
  if (at_end()) return false;
  const Token t = cur();
  std::string_view s = cur_text();
  switch (t.kind) {
    case TokenKind::kNumber: {
      advance();
      if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        std::uint64_t u = 0;
        auto [p, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), u, 16);
        if (ec != std::errc() || p != s.data() + s.size()) return false;  // "hex literal too big"
        *v = Value::integer(static_cast<std::int64_t>(u));
        return true;
      }
      *v = numeric_prefix(s, nullptr);
      return true;
    }
    case TokenKind::kString: {
      if (t.unterminated()) return false;
      advance();
      // Doubled quotes stand for one.
      if (arena_->size() + (t.inner_end - t.inner_begin) > kMaxArena) return false;
      Value x;
      x.type = Type::kText;
      x.off = static_cast<std::uint32_t>(arena_->size());
      for (std::uint32_t k = t.inner_begin; k < t.inner_end; ++k) {
        arena_->push_back(text_[k]);
        if (text_[k] == '\'' && k + 1 < t.inner_end) ++k;
      }
      x.len = static_cast<std::uint32_t>(arena_->size() - x.off);
      *v = x;
      return true;
    }
    case TokenKind::kQuotedIdentifier: {
      // There is no table in scope for LIMIT: SQLite takes an unknown "name" as the string.
      if (t.unterminated() || text_[t.begin] != '"') return false;
      advance();
      if (arena_->size() + (t.inner_end - t.inner_begin) > kMaxArena) return false;
      Value x;
      x.type = Type::kText;
      x.off = static_cast<std::uint32_t>(arena_->size());
      for (std::uint32_t k = t.inner_begin; k < t.inner_end; ++k) {
        arena_->push_back(text_[k]);
        if (text_[k] == '"' && k + 1 < t.inner_end) ++k;
      }
      x.len = static_cast<std::uint32_t>(arena_->size() - x.off);
      *v = x;
      return true;
    }
    case TokenKind::kBlob: {
      if (t.unterminated()) return false;
      advance();
      *v = Value{};
      v->type = Type::kBlob;
      v->content = false;
      return true;
    }
    case TokenKind::kKeyword:
      if (common::iequals(s, "null")) {
        advance();
        *v = Value::null();
        return true;
      }
      if (common::iequals(s, "true")) {
        advance();
        *v = Value::integer(1);
        return true;
      }
      if (common::iequals(s, "false")) {
        advance();
        *v = Value::integer(0);
        return true;
      }
      if (common::iequals(s, "case")) {
        advance();
        return case_expr(v);
      }
      if (common::iequals(s, "cast")) {
        advance();
        return cast_expr(v);
      }
      if (common::iequals(s, "replace") || common::iequals(s, "like") ||
          common::iequals(s, "glob")) {
        advance();
        if (!is_punct('(')) return false;
        return function(s, v);
      }
      return false;
    case TokenKind::kIdentifier:
      advance();
      if (!is_punct('(')) return false;  // a column: "no such column"
      return function(s, v);
    case TokenKind::kPunctuation:
      if (s == "(") {
        advance();
        if (accept_kw("select")) {
          // A scalar subquery without FROM: the value of its one column.
          accept_kw("all");
          if (is_kw("distinct")) return false;
          if (!expr(v)) return false;
          if (accept_kw("as")) {
            if (at_end() ||
                (cur().kind != TokenKind::kIdentifier &&
                 cur().kind != TokenKind::kQuotedIdentifier && cur().kind != TokenKind::kString))
              return false;
            advance();
          } else if (!at_end() && cur().kind == TokenKind::kIdentifier) {
            advance();
          }
          return accept_punct(')');
        }
        if (!expr(v)) return false;
        return accept_punct(')');  // a row value "(a, b)" is not a scalar
      }
      return false;
    default:
      return false;
  }
}

bool Eval::case_expr(Value* v) {
  Value base;
  bool has_base = !is_kw("when");
  if (has_base && !expr(&base)) return false;
  bool chosen = false;
  Value result = Value::null();
  while (accept_kw("when")) {
    Value w, t;
    if (!expr(&w) || !accept_kw("then") || !expr(&t)) return false;
    if (chosen) continue;
    bool hit;
    if (has_base) {
      Value eq;
      if (!comparison("=", base, w, &eq)) return false;
      hit = eq.type == Type::kInt && eq.i == 1;
    } else {
      int tr;
      if (!truth(w, &tr)) return false;
      hit = tr == 1;
    }
    if (hit) {
      chosen = true;
      result = t;
    }
  }
  if (accept_kw("else")) {
    Value e;
    if (!expr(&e)) return false;
    if (!chosen) result = e;
  }
  if (!accept_kw("end")) return false;
  *v = result;
  return true;
}

bool Eval::cast_expr(Value* v) {
  Value x;
  if (!accept_punct('(') || !expr(&x) || !accept_kw("as")) return false;
  // The type name: words, optionally "(n)" or "(n, m)"; its affinity follows SQLite's rules.
  std::string type;
  while (!at_end() && (cur().kind == TokenKind::kIdentifier || cur().kind == TokenKind::kKeyword) &&
         type.size() < 64) {
    for (char c : cur_text()) type.push_back(common::to_lower(c));
    type.push_back(' ');
    advance();
  }
  if (accept_punct('(')) {
    while (!at_end() && !is_punct(')')) advance();
    if (!accept_punct(')')) return false;
  }
  if (!accept_punct(')')) return false;
  if (x.type == Type::kNull) {
    *v = x;
    return true;
  }
  auto has = [&](std::string_view w) { return type.find(w) != std::string::npos; };
  if (has("int")) {
    Value n;
    if (!as_number(x, &n)) return false;
    if (n.type == Type::kReal) {
      if (!(n.r > -9.2e18 && n.r < 9.2e18)) return false;
      n = Value::integer(static_cast<std::int64_t>(n.r));
    }
    *v = n;
    return true;
  }
  if (has("char") || has("clob") || has("text")) return as_text(x, v);
  if (has("blob") || type.empty()) {
    if (!as_text(x, v)) return false;
    v->type = Type::kBlob;
    return true;
  }
  if (has("real") || has("floa") || has("doub")) {
    Value n;
    if (!as_number(x, &n)) return false;
    *v = Value::real(n.as_double());
    return true;
  }
  // NUMERIC: an integer when the value is one.
  Value n;
  if (!as_number(x, &n)) return false;
  if (n.type == Type::kReal && n.r == std::floor(n.r) && n.r > -9.2e18 && n.r < 9.2e18)
    n = Value::integer(static_cast<std::int64_t>(n.r));
  *v = n;
  return true;
}

bool Eval::function(std::string_view name, Value* v) {
  constexpr std::size_t kMaxArgs = 8;
  Value args[kMaxArgs];
  std::size_t argc = 0;
  if (!accept_punct('(')) return false;
  if (is_kw("distinct") || is_op("*")) return false;
  if (!accept_punct(')')) {
    for (;;) {
      if (argc == kMaxArgs) return false;
      if (!expr(&args[argc++])) return false;
      if (accept_punct(',')) continue;
      if (accept_punct(')')) break;
      return false;
    }
  }
  auto is = [&](std::string_view n) { return common::iequals(name, n); };
  auto any_null = [&] {
    for (std::size_t k = 0; k < argc; ++k)
      if (args[k].type == Type::kNull) return true;
    return false;
  };
  auto num = [&](std::size_t k, double* d) {
    Value n;
    if (!as_number(args[k], &n) || n.type == Type::kNull) return false;
    *d = n.as_double();
    return true;
  };
  // The math functions take sqlite3_value_numeric_type(): text counts only when it is wholly a
  // number; anything else makes the result NULL.
  auto math_args_numeric = [&] {
    for (std::size_t k = 0; k < argc; ++k) {
      if (args[k].numeric()) continue;
      if (args[k].type != Type::kText || !args[k].content) return false;
      bool whole = false;
      numeric_prefix(str(args[k]), &whole);
      if (!whole) return false;
    }
    return true;
  };
  // Pure math functions (SQLITE_ENABLE_MATH_FUNCTIONS): a real, NULL outside the domain.
  struct Math {
    std::string_view name;
    double (*fn)(double);
  };
  static constexpr Math kMath[] = {
      {"acos", [](double x) { return std::acos(x); }},
      {"asin", [](double x) { return std::asin(x); }},
      {"atan", [](double x) { return std::atan(x); }},
      {"cos", [](double x) { return std::cos(x); }},
      {"cosh", [](double x) { return std::cosh(x); }},
      {"sin", [](double x) { return std::sin(x); }},
      {"sinh", [](double x) { return std::sinh(x); }},
      {"tan", [](double x) { return std::tan(x); }},
      {"tanh", [](double x) { return std::tanh(x); }},
      {"exp", [](double x) { return std::exp(x); }},
      {"ln", [](double x) { return x > 0 ? std::log(x) : NAN; }},
      {"log10", [](double x) { return x > 0 ? std::log10(x) : NAN; }},
      {"log2", [](double x) { return x > 0 ? std::log2(x) : NAN; }},
      {"sqrt", [](double x) { return x >= 0 ? std::sqrt(x) : NAN; }},
      {"degrees", [](double x) { return x * 180.0 / 3.14159265358979323846; }},
      {"radians", [](double x) { return x * 3.14159265358979323846 / 180.0; }},
  };
  for (const Math& m : kMath) {
    if (!is(m.name)) continue;
    if (argc != 1) return false;
    if (any_null() || !math_args_numeric()) {
      *v = Value::null();
      return true;
    }
    double d;
    if (!num(0, &d)) return false;
    *v = Value::real(m.fn(d));
    return true;
  }
  if (is("pi")) {
    if (argc != 0) return false;
    *v = Value::real(3.14159265358979323846);
    return true;
  }
  if (is("ceil") || is("ceiling") || is("floor") || is("trunc")) {
    if (argc != 1) return false;
    if (any_null() || !math_args_numeric()) {
      *v = Value::null();
      return true;
    }
    Value n;
    if (!as_number(args[0], &n)) return false;
    if (n.type != Type::kReal) {
      *v = n;
      return true;
    }
    *v = Value::real(is("floor")   ? std::floor(n.r)
                     : is("trunc") ? std::trunc(n.r)
                                   : std::ceil(n.r));
    return true;
  }
  if (is("pow") || is("power") || is("atan2") || is("mod") || (is("log") && argc == 2)) {
    if (argc != 2) return false;
    if (any_null() || !math_args_numeric()) {
      *v = Value::null();
      return true;
    }
    double x, y;
    if (!num(0, &x) || !num(1, &y)) return false;
    if (is("log"))
      *v = (x > 0 && x != 1 && y > 0) ? Value::real(std::log(y) / std::log(x)) : Value::null();
    else if (is("atan2"))
      *v = Value::real(std::atan2(x, y));
    else if (is("mod"))
      *v = y == 0 ? Value::null() : Value::real(std::fmod(x, y));
    else
      *v = Value::real(std::pow(x, y));
    return true;
  }
  if (is("log")) {
    if (argc != 1) return false;
    if (any_null() || !math_args_numeric()) {
      *v = Value::null();
      return true;
    }
    double d;
    if (!num(0, &d)) return false;
    *v = d > 0 ? Value::real(std::log10(d)) : Value::null();
    return true;
  }
  if (is("abs")) {
    if (argc != 1) return false;
    if (args[0].type == Type::kNull) {
      *v = Value::null();
      return true;
    }
    if (args[0].type == Type::kInt) {
      if (args[0].i == INT64_MIN) return false;  // "integer overflow"
      *v = Value::integer(args[0].i < 0 ? -args[0].i : args[0].i);
      return true;
    }
    double d;
    if (!num(0, &d)) return false;
    *v = Value::real(std::fabs(d));
    return true;
  }
  if (is("sign")) {
    if (argc != 1) return false;
    if (!args[0].numeric()) {
      *v = Value::null();
      return true;
    }
    double d = args[0].as_double();
    *v = Value::integer(d > 0 ? 1 : d < 0 ? -1 : 0);
    return true;
  }
  if (is("round")) {
    if (argc < 1 || argc > 2) return false;
    if (any_null()) {
      *v = Value::null();
      return true;
    }
    double d, digits = 0;
    if (!num(0, &d) || (argc == 2 && !num(1, &digits))) return false;
    double scale = std::pow(10.0, std::clamp(digits, 0.0, 30.0));
    *v = Value::real(std::round(d * scale) / scale);
    return true;
  }
  if (is("coalesce") || is("ifnull")) {
    if (argc < 2 || (is("ifnull") && argc != 2)) return false;
    *v = Value::null();
    for (std::size_t k = 0; k < argc; ++k)
      if (args[k].type != Type::kNull) {
        *v = args[k];
        break;
      }
    return true;
  }
  if (is("iif")) {
    if (argc != 3) return false;
    int t;
    if (!truth(args[0], &t)) return false;
    *v = t == 1 ? args[1] : args[2];
    return true;
  }
  if (is("nullif")) {
    if (argc != 2) return false;
    Value eq;
    if (!comparison("=", args[0], args[1], &eq)) return false;
    *v = (eq.type == Type::kInt && eq.i == 1) ? Value::null() : args[0];
    return true;
  }
  if (is("max") || is("min")) {
    if (argc < 2) return false;  // one argument is the aggregate
    if (any_null()) {
      *v = Value::null();
      return true;
    }
    *v = args[0];
    for (std::size_t k = 1; k < argc; ++k) {
      int c;
      if (!compare(args[k], *v, &c)) return false;
      if (is("max") ? c > 0 : c < 0) *v = args[k];
    }
    return true;
  }
  if (is("typeof")) {
    if (argc != 1) return false;
    static constexpr std::string_view kNames[] = {"null", "integer", "real", "text", "blob"};
    return make_text(kNames[static_cast<int>(args[0].type)], v);
  }
  if (is("length")) {
    if (argc != 1) return false;
    if (args[0].type == Type::kNull) {
      *v = Value::null();
      return true;
    }
    if (args[0].type == Type::kBlob) {
      if (!args[0].content) return false;
      *v = Value::integer(args[0].len);
      return true;
    }
    Value t;
    if (!as_text(args[0], &t)) return false;
    std::int64_t chars = 0;
    for (char c : str(t))
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++chars;
    *v = Value::integer(chars);
    return true;
  }
  if (is("lower") || is("upper")) {
    if (argc != 1) return false;
    if (args[0].type == Type::kNull) {
      *v = Value::null();
      return true;
    }
    Value t;
    if (!as_text(args[0], &t) || !make_bytes(Type::kText, str(t), {}, v)) return false;
    for (std::uint32_t k = v->off; k < v->off + v->len; ++k) {
      char& c = (*arena_)[k];
      c = is("lower") ? common::to_lower(c) : (c >= 'a' && c <= 'z' ? char(c - 32) : c);
    }
    return true;
  }
  if (is("char")) {
    std::string_view empty;
    if (!make_bytes(Type::kText, empty, empty, v)) return false;
    for (std::size_t k = 0; k < argc; ++k) {
      Value n;
      if (!as_number(args[k], &n)) return false;
      std::int64_t cp = n.type == Type::kInt    ? n.i
                        : n.type == Type::kReal ? static_cast<std::int64_t>(n.r)
                                                : 0;
      if (cp < 0 || cp > 0x10FFFF) cp = 0xFFFD;
      char buf[4];
      std::size_t len;
      if (cp < 0x80)
        buf[0] = char(cp), len = 1;
      else if (cp < 0x800)
        buf[0] = char(0xC0 | (cp >> 6)), buf[1] = char(0x80 | (cp & 0x3F)), len = 2;
      else if (cp < 0x10000)
        buf[0] = char(0xE0 | (cp >> 12)), buf[1] = char(0x80 | ((cp >> 6) & 0x3F)),
        buf[2] = char(0x80 | (cp & 0x3F)), len = 3;
      else
        buf[0] = char(0xF0 | (cp >> 18)), buf[1] = char(0x80 | ((cp >> 12) & 0x3F)),
        buf[2] = char(0x80 | ((cp >> 6) & 0x3F)), buf[3] = char(0x80 | (cp & 0x3F)), len = 4;
      if (arena_->size() + len > kMaxArena) return false;
      arena_->append(buf, len);  // the value's bytes are the arena's tail
      v->len += static_cast<std::uint32_t>(len);
    }
    return true;
  }
  if (is("like") || is("glob") || is("instr") || is("unicode") || is("hex") || is("quote") ||
      is("replace") || is("substr") || is("substring") || is("trim") || is("ltrim") ||
      is("rtrim") || is("printf") || is("format") || is("sqlite_version")) {
    // Built-ins that exist but whose value is not worked out here.
    return false;
  }
  // random(), randomblob(), changes(), unknown names: not constant, costly, or an error.
  return false;
}

}  // namespace

LimitVerdict sqlite_limit_verdict(std::string_view text, std::span<const Token> tokens,
                                  std::uint32_t limit) noexcept {
  if (limit >= tokens.size()) return LimitVerdict::kUnknown;
  thread_local std::string arena;
  Eval eval(text, tokens, limit + 1, &arena);
  Value first, second;
  bool has_second = false;
  if (!eval.expr(&first)) return LimitVerdict::kUnknown;
  if (eval.accept_kw("offset") || eval.accept_punct(',')) {
    if (!eval.expr(&second)) return LimitVerdict::kUnknown;
    has_second = true;
  }
  if (!eval.at_end()) return LimitVerdict::kUnknown;
  // Both values are evaluated before the first row; either failing fails the statement.
  int a = eval.must_be_int(first);
  int b = has_second ? eval.must_be_int(second) : 1;
  if (a == 0 || b == 0) return a < 0 || b < 0 ? LimitVerdict::kUnknown : LimitVerdict::kMismatch;
  if (a < 0 || b < 0) return LimitVerdict::kUnknown;
  return LimitVerdict::kRuns;
}

}  // namespace vigil::tokenize::sql
