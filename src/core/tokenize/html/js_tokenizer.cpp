#include "core/tokenize/html/js_tokenizer.hpp"

#include <algorithm>
#include <array>

#include "core/common/ascii.hpp"

namespace vigil::tokenize::js {
namespace {

using common::is_alnum;
using common::is_alpha;
using common::is_digit;
using common::is_xdigit;

constexpr std::array<std::string_view, 48> kKeywords = {
    "await",    "break",      "case",      "catch",   "class",   "const",   "continue",
    "debugger", "default",    "delete",    "do",      "else",    "enum",    "export",
    "extends",  "false",      "finally",   "for",     "function", "if",     "implements",
    "import",   "in",         "instanceof", "interface", "let",  "new",     "null",
    "package",  "private",    "protected", "public",  "return",  "static",  "super",
    "switch",   "this",       "throw",     "true",    "try",     "typeof",  "var",
    "void",     "while",      "with",      "yield",   "of",      "async"};

// Keywords after which an expression (so a regex) may follow. The rest of kKeywords either end
// an expression (this, super, null, true, false) or are contextual (of, async, let...).
constexpr std::array<std::string_view, 16> kExpressionKeywords = {
    "return", "typeof", "instanceof", "in",    "new",  "delete", "void",  "throw",
    "case",   "do",     "else",       "yield", "await", "extends", "export", "default"};

bool ident_start_ascii(char c) { return is_alpha(c) || c == '$' || c == '_'; }
bool ident_part_ascii(char c) { return is_alnum(c) || c == '$' || c == '_'; }

constexpr std::uint32_t kTaggedBit = 0x80000000u;

}  // namespace

std::string_view token_kind_name(TokenKind kind) noexcept {
  switch (kind) {
    case TokenKind::kIdentifier: return "identifier";
    case TokenKind::kPrivateName: return "private name";
    case TokenKind::kKeyword: return "keyword";
    case TokenKind::kPunctuator: return "punctuator";
    case TokenKind::kNumber: return "number";
    case TokenKind::kString: return "string";
    case TokenKind::kTemplate: return "template";
    case TokenKind::kTemplateHead: return "template head";
    case TokenKind::kTemplateMiddle: return "template middle";
    case TokenKind::kTemplateTail: return "template tail";
    case TokenKind::kRegex: return "regex";
    case TokenKind::kComment: return "comment";
    case TokenKind::kInvalid: return "invalid character";
  }
  return "?";
}

bool is_keyword(std::string_view word) noexcept {
  if (word.size() < 2 || word.size() > 10) return false;
  return std::find(kKeywords.begin(), kKeywords.end(), word) != kKeywords.end();
}

std::uint32_t Tokenizer::line_terminator_length(std::uint32_t p) const noexcept {
  if (p >= src_.size()) return 0;
  const char c = src_[p];
  if (c == '\n') return 1;
  if (c == '\r') return (p + 1 < src_.size() && src_[p + 1] == '\n') ? 2 : 1;
  // U+2028 / U+2029: E2 80 A8 / E2 80 A9
  if (static_cast<unsigned char>(c) == 0xE2 && p + 2 < src_.size() &&
      static_cast<unsigned char>(src_[p + 1]) == 0x80 &&
      (static_cast<unsigned char>(src_[p + 2]) == 0xA8 ||
       static_cast<unsigned char>(src_[p + 2]) == 0xA9))
    return 3;
  return 0;
}

std::uint32_t Tokenizer::space_length(std::uint32_t p) const noexcept {
  if (p >= src_.size()) return 0;
  const auto b = [&](std::uint32_t i) {
    return i < src_.size() ? static_cast<unsigned char>(src_[i]) : 0u;
  };
  const unsigned c = b(p);
  if (c == ' ' || c == '\t' || c == '\v' || c == '\f') return 1;
  if (c < 0x80) return 0;
  if (c == 0xC2 && b(p + 1) == 0xA0) return 2;                       // U+00A0
  if (c == 0xEF && b(p + 1) == 0xBB && b(p + 2) == 0xBF) return 3;   // U+FEFF
  if (c == 0xE1 && b(p + 1) == 0x9A && b(p + 2) == 0x80) return 3;   // U+1680
  if (c == 0xE2 && b(p + 1) == 0x80 && (b(p + 2) <= 0x8A || b(p + 2) == 0xAF))
    return b(p + 2) >= 0x80 ? 3 : 0;                                  // U+2000-200A, U+202F
  if (c == 0xE2 && b(p + 1) == 0x81 && b(p + 2) == 0x9F) return 3;   // U+205F
  if (c == 0xE3 && b(p + 1) == 0x80 && b(p + 2) == 0x80) return 3;   // U+3000
  return 0;
}

bool Tokenizer::skip_space_and_newlines() noexcept {
  bool newline = false;
  while (pos_ < src_.size()) {
    if (std::uint32_t n = space_length(pos_)) {
      pos_ += n;
    } else if (std::uint32_t m = line_terminator_length(pos_)) {
      pos_ += m;
      newline = true;
      at_line_start_ = true;
    } else {
      break;
    }
  }
  return newline;
}

void Tokenizer::to_line_end(Token* t) noexcept {
  std::uint32_t p = pos_;
  while (p < src_.size() && line_terminator_length(p) == 0) ++p;
  pos_ = p;
  t->end = p;
}

bool Tokenizer::scan_escape(std::uint32_t* pp) const noexcept {
  std::uint32_t p = *pp + 1;  // after the backslash
  if (p >= src_.size()) {
    *pp = p;
    return true;  // the caller reports the unterminated literal
  }
  if (std::uint32_t n = line_terminator_length(p)) {
    *pp = p + n;  // line continuation
    return true;
  }
  const char c = src_[p];
  if (c == 'x') {
    if (p + 2 < src_.size() && is_xdigit(src_[p + 1]) && is_xdigit(src_[p + 2])) {
      *pp = p + 3;
      return true;
    }
    *pp = p + 1;
    return false;
  }
  if (c == 'u') {
    if (p + 1 < src_.size() && src_[p + 1] == '{') {
      std::uint32_t q = p + 2;
      std::uint32_t v = 0;
      bool any = false;
      while (q < src_.size() && is_xdigit(src_[q])) {
        v = std::min<std::uint32_t>(v * 16 + std::uint32_t(common::hex_value(src_[q])),
                                    0x110000);
        any = true;
        ++q;
      }
      if (any && q < src_.size() && src_[q] == '}' && v <= 0x10FFFF) {
        *pp = q + 1;
        return true;
      }
      *pp = p + 1;
      return false;
    }
    for (std::uint32_t i = 1; i <= 4; ++i) {
      if (p + i >= src_.size() || !is_xdigit(src_[p + i])) {
        *pp = p + 1;
        return false;
      }
    }
    *pp = p + 5;
    return true;
  }
  *pp = p + 1;
  return true;
}

void Tokenizer::scan_string(Token* t) noexcept {
  const char q = src_[pos_];
  std::uint32_t p = pos_ + 1;
  t->kind = TokenKind::kString;
  for (;;) {
    if (p >= src_.size()) {
      t->error = true;
      break;
    }
    const char c = src_[p];
    if (c == q) {
      ++p;
      break;
    }
    if (c == '\\') {
      if (!scan_escape(&p)) t->error = true;
      continue;
    }
    if (c == '\n' || c == '\r') {  // U+2028/2029 are allowed in strings (ES2019)
      t->error = true;
      break;
    }
    ++p;
  }
  pos_ = p;
  t->end = p;
}

void Tokenizer::scan_template_part(Token* t, bool head) noexcept {
  // Escapes are only an error in an untagged template.
  bool tagged = false;
  if (head) {
    tagged = !regex_allowed();
  } else if (template_top_ > 0) {
    tagged = (template_stack_[template_top_ - 1] & kTaggedBit) != 0;
    --template_top_;  // the '}' that closes the substitution
  }
  std::uint32_t p = pos_ + 1;
  for (;;) {
    if (p >= src_.size()) {
      t->error = true;
      t->kind = head ? TokenKind::kTemplate : TokenKind::kTemplateTail;
      break;
    }
    const char c = src_[p];
    if (c == '`') {
      ++p;
      t->kind = head ? TokenKind::kTemplate : TokenKind::kTemplateTail;
      break;
    }
    if (c == '$' && p + 1 < src_.size() && src_[p + 1] == '{') {
      p += 2;
      t->kind = head ? TokenKind::kTemplateHead : TokenKind::kTemplateMiddle;
      if (template_top_ < kMaxTemplateDepth) {
        template_stack_[template_top_++] = brace_depth_ | (tagged ? kTaggedBit : 0);
      } else {
        t->error = true;  // nesting beyond the bounded stack is not tracked
        ++untracked_;
      }
      break;
    }
    if (c == '\\') {
      if (!scan_escape(&p) && !tagged) t->error = true;
      continue;
    }
    ++p;
  }
  pos_ = p;
  t->end = p;
}

void Tokenizer::scan_number(Token* t) noexcept {
  std::uint32_t p = pos_;
  t->kind = TokenKind::kNumber;
  auto digits = [&](auto pred) {
    while (p < src_.size() && (pred(src_[p]) || src_[p] == '_')) ++p;
  };
  const char c0 = src_[p];
  const char c1 = p + 1 < src_.size() ? src_[p + 1] : '\0';
  bool integer = true;
  if (c0 == '0' && (c1 == 'x' || c1 == 'X')) {
    p += 2;
    digits(is_xdigit);
  } else if (c0 == '0' && (c1 == 'o' || c1 == 'O')) {
    p += 2;
    digits([](char ch) { return ch >= '0' && ch <= '7'; });
  } else if (c0 == '0' && (c1 == 'b' || c1 == 'B')) {
    p += 2;
    digits([](char ch) { return ch == '0' || ch == '1'; });
  } else {
    digits(is_digit);
    if (p < src_.size() && src_[p] == '.') {
      integer = false;
      ++p;
      digits(is_digit);
    }
    if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      std::uint32_t q = p + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && is_digit(src_[q])) {
        integer = false;
        p = q;
        digits(is_digit);
      } else {
        t->error = true;
        p = q;
      }
    }
  }
  if (integer && p < src_.size() && src_[p] == 'n') ++p;
  // "3in" or "1.x": an identifier may not follow a numeric literal directly.
  if (p < src_.size() && (ident_part_ascii(src_[p]) || src_[p] == '\\' ||
                          static_cast<unsigned char>(src_[p]) >= 0x80)) {
    if (space_length(p) == 0 && line_terminator_length(p) == 0) {
      t->error = true;
      while (p < src_.size() && (ident_part_ascii(src_[p]) ||
                                 (static_cast<unsigned char>(src_[p]) >= 0x80 &&
                                  space_length(p) == 0 && line_terminator_length(p) == 0)))
        ++p;
    }
  }
  pos_ = p;
  t->end = p;
}

void Tokenizer::scan_identifier(Token* t) noexcept {
  std::uint32_t p = pos_;
  bool escaped = false;
  while (p < src_.size()) {
    const char c = src_[p];
    if (ident_part_ascii(c)) {
      ++p;
    } else if (c == '\\') {
      escaped = true;
      if (p + 1 < src_.size() && src_[p + 1] == 'u') {
        if (!scan_escape(&p)) t->error = true;  // advances past "\u" at least
      } else {
        t->error = true;  // only \u escapes may appear in an identifier
        p = std::min<std::uint32_t>(p + 2, std::uint32_t(src_.size()));
      }
    } else if (static_cast<unsigned char>(c) >= 0x80 && space_length(p) == 0 &&
               line_terminator_length(p) == 0) {
      ++p;
    } else {
      break;
    }
  }
  pos_ = p;
  t->end = p;
  std::string_view word = src_.substr(t->begin, p - t->begin);
  t->kind = (!escaped && is_keyword(word)) ? TokenKind::kKeyword : TokenKind::kIdentifier;
}

bool Tokenizer::regex_allowed() const noexcept {
  if (!have_prev_) return true;
  std::string_view prev = src_.substr(prev_begin_, prev_end_ - prev_begin_);
  switch (prev_kind_) {
    case TokenKind::kIdentifier:
    case TokenKind::kPrivateName:
    case TokenKind::kNumber:
    case TokenKind::kString:
    case TokenKind::kTemplate:
    case TokenKind::kTemplateTail:
    case TokenKind::kRegex:
      return false;
    case TokenKind::kKeyword:
      return std::find(kExpressionKeywords.begin(), kExpressionKeywords.end(), prev) !=
             kExpressionKeywords.end();
    case TokenKind::kPunctuator:
      return !(prev == ")" || prev == "]" || prev == "++" || prev == "--");
    default:
      return true;
  }
}

void Tokenizer::scan_regex(Token* t) noexcept {
  std::uint32_t p = pos_ + 1;
  bool in_class = false;
  t->kind = TokenKind::kRegex;
  for (;;) {
    if (p >= src_.size() || line_terminator_length(p) != 0) {
      t->error = true;
      pos_ = p;
      t->end = p;
      return;
    }
    const char c = src_[p];
    if (c == '\\') {
      ++p;
      if (p < src_.size() && line_terminator_length(p) == 0) ++p;
      continue;
    }
    ++p;
    if (c == '[') in_class = true;
    else if (c == ']') in_class = false;
    else if (c == '/' && !in_class) break;
  }
  while (p < src_.size() && (ident_part_ascii(src_[p]) ||
                             (static_cast<unsigned char>(src_[p]) >= 0x80 &&
                              space_length(p) == 0 && line_terminator_length(p) == 0)))
    ++p;
  pos_ = p;
  t->end = p;
}

void Tokenizer::scan_punctuator(Token* t) noexcept {
  static constexpr std::string_view kLong[] = {
      ">>>=", "===", "!==", "**=", "<<=", ">>=", ">>>", "...", "&&=", "||=", "?\?=",
      "=>",   "==",  "!=",  "<=",  ">=",  "&&",  "||",  "??",  "?.",  "++",  "--",
      "+=",   "-=",  "*=",  "/=",  "%=",  "&=",  "|=",  "^=",  "<<",  ">>",  "**"};
  std::string_view rest = src_.substr(pos_, 4);
  t->kind = TokenKind::kPunctuator;
  for (std::string_view p : kLong) {
    if (rest.substr(0, p.size()) == p) {
      // "?." before a digit is '?' then a number (a ? .5 : 1).
      if (p == "?." && pos_ + 2 < src_.size() && is_digit(src_[pos_ + 2])) break;
      pos_ += std::uint32_t(p.size());
      t->end = pos_;
      return;
    }
  }
  static constexpr std::string_view kSingle = "{}()[];,<>+-*/%&|^!~?:=.";
  if (kSingle.find(src_[pos_]) != std::string_view::npos) {
    ++pos_;
    t->end = pos_;
    return;
  }
  t->kind = TokenKind::kInvalid;
  t->error = true;
  ++pos_;
  t->end = pos_;
}

bool Tokenizer::next(Token* out) noexcept {
  const bool newline = skip_space_and_newlines();
  if (pos_ >= src_.size()) return false;
  Token t;
  t.begin = pos_;
  t.newline_before = newline;
  const char c = src_[pos_];
  const char c1 = pos_ + 1 < src_.size() ? src_[pos_ + 1] : '\0';
  std::string_view rest = src_.substr(pos_, 4);
  bool comment = false;

  if (rest == "<!--" || (at_line_start_ && rest.substr(0, 3) == "-->") ||
      (pos_ == 0 && c == '#' && c1 == '!')) {
    t.kind = TokenKind::kComment;  // Annex B HTML-like comments, and a hashbang
    to_line_end(&t);
    comment = true;
  } else if (c == '/' && c1 == '/') {
    t.kind = TokenKind::kComment;
    to_line_end(&t);
    comment = true;
  } else if (c == '/' && c1 == '*') {
    t.kind = TokenKind::kComment;
    std::uint32_t p = pos_ + 2;
    bool newline_inside = false;
    for (;;) {
      if (p + 1 >= src_.size()) {
        p = std::uint32_t(src_.size());
        t.error = true;
        break;
      }
      if (src_[p] == '*' && src_[p + 1] == '/') {
        p += 2;
        break;
      }
      if (line_terminator_length(p) != 0) newline_inside = true;
      ++p;
    }
    pos_ = p;
    t.end = p;
    // A comment holding a line break counts as one (ASI, and "-->" at a line start).
    if (newline_inside) at_line_start_ = true;
    comment = true;
  } else if (c == '"' || c == '\'') {
    scan_string(&t);
  } else if (c == '`') {
    scan_template_part(&t, true);
  } else if (c == '}' && template_top_ > 0 &&
             (template_stack_[template_top_ - 1] & ~kTaggedBit) == brace_depth_) {
    scan_template_part(&t, false);
  } else if (is_digit(c) || (c == '.' && is_digit(c1))) {
    scan_number(&t);
  } else if (ident_start_ascii(c) || c == '\\' || static_cast<unsigned char>(c) >= 0x80) {
    scan_identifier(&t);
  } else if (c == '#' && (ident_start_ascii(c1) || static_cast<unsigned char>(c1) >= 0x80)) {
    ++pos_;
    scan_identifier(&t);
    t.kind = TokenKind::kPrivateName;
  } else if (c == '/' && regex_allowed()) {
    scan_regex(&t);
  } else {
    scan_punctuator(&t);
    if (t.kind == TokenKind::kPunctuator && t.end == t.begin + 1) {
      if (c == '{') ++brace_depth_;
      else if (c == '}' && brace_depth_ > 0) --brace_depth_;
    }
  }

  if (!comment) {
    at_line_start_ = false;
    have_prev_ = true;
    prev_kind_ = t.kind;
    prev_begin_ = t.begin;
    prev_end_ = t.end;
  }
  if (t.end <= t.begin) {  // never return an empty token: always make progress
    t.end = t.begin + 1;
    pos_ = t.end;
    t.error = true;
  }
  *out = t;
  return true;
}

void tokenize(std::string_view source, std::vector<Token>* out) {
  out->clear();
  Tokenizer tz(source);
  Token t;
  while (tz.next(&t)) out->push_back(t);
}

}  // namespace vigil::tokenize::js
