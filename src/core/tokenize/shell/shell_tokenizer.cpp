#include "core/tokenize/shell/shell_tokenizer.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace vigil::tokenize::shell {
namespace {

constexpr bool is_name_start(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
constexpr bool is_name_char(char c) noexcept { return is_name_start(c) || (c >= '0' && c <= '9'); }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\r'; }
// $? $$ $! $# $@ $* $- and $0..$9 are one-character parameters.
constexpr bool is_special_param(char c) noexcept {
  return is_digit(c) || c == '@' || c == '*' || c == '#' || c == '?' || c == '$' || c == '!' ||
         c == '-';
}

// Text-like parts of the same kind, mode, depth and token that touch are merged, so a long word
// is one part rather than one per byte.
constexpr bool mergeable(PartKind k) noexcept {
  switch (k) {
    case PartKind::kBlank:
    case PartKind::kLiteral:
    case PartKind::kQuotedText:
    case PartKind::kParamText:
    case PartKind::kArithText:
    case PartKind::kExtGlobText:
    case PartKind::kHeredocText:
      return true;
    default:
      return false;
  }
}

// Bytes that end an unquoted literal run.
constexpr std::array<bool, 256> make_word_stop() {
  std::array<bool, 256> t{};
  for (char c : std::string_view(" \t\r\n\\'\"$`<>&|;()")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kWordStop = make_word_stop();

enum class FrameKind : std::uint8_t { kList, kDouble, kParam, kArith, kExtGlob };

struct Frame {
  FrameKind kind = FrameKind::kList;
  // kList: ')' closes a $( <( >( substitution, '`' a backquoted one, 0 at top level.
  // kArith: ')' for $(( and ((, ']' for $[.
  char closer = 0;
  std::uint16_t depth = 0;
  // kList: the word token being read (kNoToken between words) and the token holding this
  // substitution. Other frames: the token their parts belong to.
  std::uint32_t word = kNoToken;
  std::uint32_t owner = kNoToken;
  std::uint32_t parens = 0;   // open subshell / arithmetic / pattern parentheses
  bool cmd_pos = true;        // kList: the next word is in command position
  bool redir_target = false;  // kList: the next word is a redirection's target
  bool heredoc_next = false;  // kList: that target is a here-document delimiter
  bool heredoc_strip = false;
};

struct PendingHeredoc {
  std::uint32_t word;
  bool strip_tabs;
};
constexpr std::size_t kMaxPendingHeredocs = 16;
constexpr std::size_t kMaxDelimiter = 256;

constexpr std::string_view kReservedWords[] = {
    "if",   "then", "else",   "elif",     "fi",   "do", "done", "while", "until", "for", "in",
    "case", "esac", "select", "function", "time", "{",  "}",    "!",     "[[",    "]]",  "coproc"};
// Reserved words after which a command is expected.
constexpr std::string_view kReservedBeforeCommand[] = {"if",    "then",  "else", "elif", "do",
                                                       "while", "until", "time", "{",    "!"};

class Lexer {
 public:
  Lexer(std::string_view src, Dialect dialect, Tokens* out)
      : s_(src),
        n_(static_cast<std::uint32_t>(src.size())),
        bash_(dialect == Dialect::kBash),
        out_(out) {}

  void run() {
    frames_[0] = Frame{};
    size_ = 1;
    while (pos_ < n_) {
      switch (top().kind) {
        case FrameKind::kList:
          step_list();
          break;
        case FrameKind::kDouble:
          step_double();
          break;
        case FrameKind::kParam:
          step_param();
          break;
        case FrameKind::kArith:
          step_arith();
          break;
        case FrameKind::kExtGlob:
          step_extglob();
          break;
      }
    }
    finish();
  }

 private:
  Frame& top() noexcept { return frames_[size_ - 1]; }
  char at(std::uint32_t i) const noexcept { return i < n_ ? s_[i] : '\0'; }
  bool has(std::uint32_t i, char c) const noexcept { return i < n_ && s_[i] == c; }

  // The token that parts read in the current frame belong to.
  std::uint32_t owner() noexcept {
    const Frame& f = top();
    return f.kind == FrameKind::kList ? f.word : f.owner;
  }

  void flag(std::uint32_t token, std::uint16_t bits) noexcept {
    if (token != kNoToken) out_->tokens[token].flags |= bits;
  }

  void emit(PartKind kind, Quote quote, std::uint32_t begin, std::uint32_t end,
            std::uint32_t token) {
    auto& parts = out_->parts;
    std::uint16_t depth = top().depth;
    if (!parts.empty() && mergeable(kind)) {
      Part& last = parts.back();
      if (last.kind == kind && last.quote == quote && last.depth == depth && last.token == token &&
          last.end == begin) {
        last.end = end;
        return;
      }
    }
    parts.push_back(Part{kind, quote, depth, begin, end, token});
  }

  std::uint32_t new_token(TokenKind kind, std::uint32_t begin, std::uint32_t parent) {
    auto& tokens = out_->tokens;
    tokens.push_back(Token{kind, 0, top().depth, begin, begin, parent,
                           static_cast<std::uint32_t>(out_->parts.size()), 0});
    return static_cast<std::uint32_t>(tokens.size() - 1);
  }

  // Pushes a frame; on overflow the rest of the input becomes one kError part.
  bool push(const Frame& f) {
    if (size_ == kMaxDepth) {
      emit(PartKind::kError, Quote::kNone, pos_, n_, kNoToken);
      out_->depth_exceeded = true;
      pos_ = n_;
      return false;
    }
    frames_[size_++] = f;
    return true;
  }
  void pop() noexcept {
    if (size_ > 1) --size_;
  }

  // ---- words ----

  void begin_word() {
    Frame& f = top();
    if (f.word != kNoToken) return;
    f.word = new_token(TokenKind::kWord, pos_, f.owner);
    if (f.cmd_pos && !f.redir_target) out_->tokens[f.word].flags |= kFlagCommandName;
  }

  void end_word() {
    Frame& f = top();
    if (f.word == kNoToken) return;
    Token& t = out_->tokens[f.word];
    t.end = pos_;
    if (f.redir_target) {
      f.redir_target = false;
      if (f.heredoc_next && pending_count_ < kMaxPendingHeredocs)
        pending_[pending_count_++] = PendingHeredoc{f.word, f.heredoc_strip};
      f.heredoc_next = false;
    } else if (f.cmd_pos) {
      classify_command_word(f, t);
    }
    f.word = kNoToken;
  }

  // In command position a word may be an assignment, a reserved word or the command name.
  void classify_command_word(Frame& f, Token& t) {
    if (t.first_part >= out_->parts.size()) {
      f.cmd_pos = false;
      return;
    }
    const Part& first = out_->parts[t.first_part];
    bool single_literal = out_->parts.size() == t.first_part + 1 &&
                          first.kind == PartKind::kLiteral && first.end == t.end;
    if (first.kind == PartKind::kLiteral && first.begin == t.begin && is_name_start(s_[t.begin])) {
      std::uint32_t i = t.begin + 1;
      while (i < first.end && is_name_char(s_[i])) ++i;
      if (bash_ && i < first.end && s_[i] == '[') {
        while (i < first.end && s_[i] != ']') ++i;
        if (i < first.end) ++i;
      }
      if (bash_ && i < first.end && s_[i] == '+') ++i;
      if (i < first.end && s_[i] == '=') {
        t.flags = static_cast<std::uint16_t>((t.flags | kFlagAssignment) & ~kFlagCommandName);
        t.aux = i;
        return;  // the command (if any) is still to come
      }
    }
    if (single_literal && t.end - t.begin <= 8) {
      std::string_view w = s_.substr(t.begin, t.end - t.begin);
      for (std::string_view r : kReservedWords) {
        if (w != r) continue;
        t.flags = static_cast<std::uint16_t>((t.flags | kFlagReserved) & ~kFlagCommandName);
        f.cmd_pos = std::find(std::begin(kReservedBeforeCommand), std::end(kReservedBeforeCommand),
                              w) != std::end(kReservedBeforeCommand);
        return;
      }
    }
    f.cmd_pos = false;
  }

  // ---- shared pieces ----

  void single_quote(Quote mode, std::uint32_t tok) {
    std::uint32_t p = pos_;
    emit(PartKind::kQuoteOpen, mode, p, p + 1, tok);
    flag(tok, kFlagQuoted);
    const void* hit = std::memchr(s_.data() + p + 1, '\'', n_ - p - 1);
    if (hit == nullptr) {
      if (p + 1 < n_) emit(PartKind::kQuotedText, Quote::kSingle, p + 1, n_, tok);
      open_quote_at_eof_ = Quote::kSingle;
      flag(tok, kFlagUnterminated);
      pos_ = n_;
      return;
    }
    std::uint32_t q = static_cast<std::uint32_t>(static_cast<const char*>(hit) - s_.data());
    if (q > p + 1) emit(PartKind::kQuotedText, Quote::kSingle, p + 1, q, tok);
    emit(PartKind::kQuoteClose, Quote::kSingle, q, q + 1, tok);
    pos_ = q + 1;
  }

  // bash $'...': backslash escapes, including \', are pairs.
  void ansi_quote(Quote mode, std::uint32_t tok) {
    std::uint32_t p = pos_;
    emit(PartKind::kQuoteOpen, mode, p, p + 2, tok);
    flag(tok, kFlagQuoted);
    std::uint32_t i = p + 2;
    while (i < n_) {
      char c = s_[i];
      if (c == '\'') {
        emit(PartKind::kQuoteClose, Quote::kAnsi, i, i + 1, tok);
        pos_ = i + 1;
        return;
      }
      if (c == '\\' && i + 1 < n_) {
        emit(PartKind::kEscape, Quote::kAnsi, i, i + 2, tok);
        i += 2;
        continue;
      }
      std::uint32_t j = i + 1;
      while (j < n_ && s_[j] != '\'' && s_[j] != '\\') ++j;
      emit(PartKind::kQuotedText, Quote::kAnsi, i, j, tok);
      i = j;
    }
    open_quote_at_eof_ = Quote::kAnsi;
    flag(tok, kFlagUnterminated);
    pos_ = n_;
  }

  // A literal byte in the current mode (a '$' or backslash that starts nothing).
  void literal_byte(Quote mode, std::uint32_t tok) {
    PartKind k = PartKind::kLiteral;
    switch (mode) {
      case Quote::kDouble:
        k = PartKind::kQuotedText;
        break;
      case Quote::kParam:
        k = PartKind::kParamText;
        break;
      case Quote::kArith:
        k = PartKind::kArithText;
        break;
      case Quote::kExtGlob:
        k = PartKind::kExtGlobText;
        break;
      default:
        break;
    }
    emit(k, mode, pos_, pos_ + 1, tok);
    ++pos_;
  }

  void open_list(char closer, std::uint32_t len, Quote mode, std::uint32_t tok) {
    emit(PartKind::kSubstOpen, mode, pos_, pos_ + len, tok);
    flag(tok, kFlagSubstitution);
    pos_ += len;
    Frame f;
    f.kind = FrameKind::kList;
    f.closer = closer;
    f.depth = static_cast<std::uint16_t>(top().depth + 1);
    f.owner = tok;
    push(f);
  }

  void open_frame(FrameKind kind, char closer, std::uint32_t tok) {
    Frame f;
    f.kind = kind;
    f.closer = closer;
    f.depth = top().depth;
    f.owner = tok;
    push(f);
  }

  // '$' in any mode: an expansion, a bash quote, or a literal dollar sign.
  void dollar(Quote mode) {
    std::uint32_t tok = owner();
    std::uint32_t p = pos_;
    char c1 = at(p + 1);
    if (p + 1 >= n_) {
      literal_byte(mode, tok);
      return;
    }
    if (c1 == '{') {
      emit(PartKind::kParamOpen, mode, p, p + 2, tok);
      flag(tok, kFlagParam);
      pos_ = p + 2;
      open_frame(FrameKind::kParam, '}', tok);
    } else if (c1 == '(') {
      if (has(p + 2, '(')) {
        emit(PartKind::kArithOpen, mode, p, p + 3, tok);
        flag(tok, kFlagArithmetic);
        pos_ = p + 3;
        open_frame(FrameKind::kArith, ')', tok);
      } else {
        open_list(')', 2, mode, tok);
      }
    } else if (c1 == '[' && bash_) {
      emit(PartKind::kArithOpen, mode, p, p + 2, tok);
      flag(tok, kFlagArithmetic);
      pos_ = p + 2;
      open_frame(FrameKind::kArith, ']', tok);
    } else if (c1 == '\'' && bash_ && mode != Quote::kDouble) {
      ansi_quote(mode, tok);
    } else if (c1 == '"' && bash_ && mode != Quote::kDouble) {
      emit(PartKind::kQuoteOpen, mode, p, p + 2, tok);
      flag(tok, kFlagQuoted);
      pos_ = p + 2;
      open_frame(FrameKind::kDouble, '"', tok);
    } else if (is_name_start(c1)) {
      std::uint32_t q = p + 2;
      while (q < n_ && is_name_char(s_[q])) ++q;
      emit(PartKind::kParam, mode, p, q, tok);
      flag(tok, kFlagParam);
      pos_ = q;
    } else if (is_special_param(c1)) {
      emit(PartKind::kParam, mode, p, p + 2, tok);
      flag(tok, kFlagParam);
      pos_ = p + 2;
    } else {
      literal_byte(mode, tok);
    }
  }

  // A backslash escape; a backslash-newline is a line continuation.
  void escape(Quote mode, std::uint32_t tok) {
    std::uint32_t p = pos_;
    if (p + 1 >= n_) {
      literal_byte(mode, tok);
      return;
    }
    flag(tok, kFlagQuoted);
    if (s_[p + 1] == '\n') {
      emit(PartKind::kContinuation, mode, p, p + 2, tok);
    } else {
      emit(PartKind::kEscape, mode, p, p + 2, tok);
    }
    pos_ = p + 2;
  }

  // ---- list (command) mode ----

  void step_list() {
    Frame& f = top();
    char c = s_[pos_];
    switch (c) {
      case ' ':
      case '\t':
      case '\r': {
        end_word();
        std::uint32_t q = pos_ + 1;
        while (q < n_ && is_blank(s_[q])) ++q;
        emit(PartKind::kBlank, Quote::kNone, pos_, q, kNoToken);
        pos_ = q;
        return;
      }
      case '\n':
        newline();
        return;
      case '#':
        // '#' starts a comment at the start of a word. Like mvdan/sh (the parser the eval uses),
        // it does so too right after a quoted part or an expansion ("a"#b, $x#b); after literal
        // text or an escape it is part of the word (a#b, \##b).
        if (f.word != kNoToken) {
          const Part& prev = out_->parts.back();
          if (prev.token == f.word &&
              (prev.kind == PartKind::kLiteral || prev.kind == PartKind::kEscape)) {
            literal_run();
            return;
          }
          end_word();
        }
        comment();
        return;
      case '\\':
        if (has(pos_ + 1, '\n') && f.word == kNoToken) {
          emit(PartKind::kContinuation, Quote::kNone, pos_, pos_ + 2, kNoToken);
          pos_ += 2;
          return;
        }
        begin_word();
        escape(Quote::kNone, f.word);
        return;
      case '\'':
        begin_word();
        single_quote(Quote::kNone, f.word);
        return;
      case '"':
        begin_word();
        emit(PartKind::kQuoteOpen, Quote::kNone, pos_, pos_ + 1, f.word);
        flag(f.word, kFlagQuoted);
        ++pos_;
        open_frame(FrameKind::kDouble, '"', f.word);
        return;
      case '$':
        begin_word();
        dollar(Quote::kNone);
        return;
      case '`':
        if (f.closer == '`') {
          close_list();
          return;
        }
        begin_word();
        open_list('`', 1, Quote::kNone, f.word);
        return;
      case ')':
        if (f.closer == ')' && f.parens == 0) {
          close_list();
          return;
        }
        if (f.parens > 0) --f.parens;
        operator_token(1);
        f.cmd_pos = false;
        return;
      case '(':
        if (bash_ && has(pos_ + 1, '(') && f.word == kNoToken && f.cmd_pos) {
          std::uint32_t tok = new_token(TokenKind::kOperator, pos_, f.owner);
          out_->tokens[tok].flags |= kFlagArithmetic;
          out_->tokens[tok].end = pos_ + 2;
          emit(PartKind::kArithOpen, Quote::kNone, pos_, pos_ + 2, tok);
          pos_ += 2;
          f.cmd_pos = false;
          open_frame(FrameKind::kArith, ')', tok);
          return;
        }
        ++f.parens;
        operator_token(1);
        f.cmd_pos = true;
        return;
      case '<':
      case '>':
        if (bash_ && has(pos_ + 1, '(')) {
          begin_word();
          open_list(')', 2, Quote::kNone, f.word);
          return;
        }
        redirection();
        return;
      case '&':
        if (has(pos_ + 1, '>')) {
          end_word();
          std::uint32_t tok = new_token(TokenKind::kRedirection, pos_, f.owner);
          std::uint32_t len = has(pos_ + 2, '>') ? 3 : 2;
          emit(PartKind::kRedirection, Quote::kNone, pos_, pos_ + len, tok);
          out_->tokens[tok].end = pos_ + len;
          pos_ += len;
          top().redir_target = true;
          top().heredoc_next = false;
          return;
        }
        operator_token(has(pos_ + 1, '&') ? 2 : 1);
        top().cmd_pos = true;
        return;
      case '|':
        operator_token(has(pos_ + 1, '|') || (bash_ && has(pos_ + 1, '&')) ? 2 : 1);
        top().cmd_pos = true;
        return;
      case ';': {
        std::uint32_t len = 1;
        if (has(pos_ + 1, ';')) {
          len = (bash_ && has(pos_ + 2, '&')) ? 3 : 2;
        } else if (bash_ && has(pos_ + 1, '&')) {
          len = 2;
        }
        operator_token(len);
        top().cmd_pos = true;
        return;
      }
      case '?':
      case '*':
      case '+':
      case '@':
      case '!':
        if (extglob_at(pos_)) {
          begin_word();
          std::uint32_t tok = top().word;
          emit(PartKind::kExtGlobOpen, Quote::kNone, pos_, pos_ + 2, tok);
          flag(tok, kFlagExtGlob | kFlagGlob);
          pos_ += 2;
          open_frame(FrameKind::kExtGlob, ')', tok);
          return;
        }
        literal_run();
        return;
      default:
        literal_run();
        return;
    }
  }

  // ?( *( +( @( !( start an extended glob, except before ")" (mvdan/sh reads "@()" as a
  // function declaration, and so do we).
  bool extglob_at(std::uint32_t i) const noexcept { return has(i + 1, '(') && !has(i + 2, ')'); }

  // Unquoted literal text of a word. The first byte is always taken (the caller decided it is
  // literal: '#' inside a word, a '!' that starts no extended glob, ...).
  void literal_run() {
    begin_word();
    Frame& f = top();
    std::uint32_t p = pos_;
    auto globby = [](char ch) { return ch == '*' || ch == '?' || ch == '['; };
    bool glob = globby(s_[p]);
    std::uint32_t q = p + 1;
    while (q < n_) {
      char c = s_[q];
      if (kWordStop[static_cast<unsigned char>(c)]) break;
      if ((c == '?' || c == '*' || c == '+' || c == '@' || c == '!') && extglob_at(q)) break;
      glob |= globby(c);
      ++q;
    }
    emit(PartKind::kLiteral, Quote::kNone, p, q, f.word);
    if (glob) flag(f.word, kFlagGlob);
    pos_ = q;
  }

  void operator_token(std::uint32_t len) {
    end_word();
    Frame& f = top();
    std::uint32_t tok = new_token(TokenKind::kOperator, pos_, f.owner);
    out_->tokens[tok].end = pos_ + len;
    emit(PartKind::kOperator, Quote::kNone, pos_, pos_ + len, tok);
    pos_ += len;
    f.redir_target = false;
    f.heredoc_next = false;
  }

  void redirection() {
    Frame& f = top();
    std::uint32_t p = pos_;
    std::uint32_t tok = kNoToken;
    // "2>" and "{fd}>": a word made only of digits (or {name}) right before the operator is its
    // file-descriptor prefix.
    if (f.word != kNoToken && !f.redir_target) {
      Token& w = out_->tokens[f.word];
      const auto& parts = out_->parts;
      if (parts.size() == w.first_part + 1 && parts.back().kind == PartKind::kLiteral &&
          parts.back().end == p) {
        std::string_view lit = s_.substr(w.begin, p - w.begin);
        bool fd = !lit.empty() && std::all_of(lit.begin(), lit.end(), is_digit);
        if (!fd && bash_ && lit.size() > 2 && lit.front() == '{' && lit.back() == '}') {
          fd = is_name_start(lit[1]) && std::all_of(lit.begin() + 2, lit.end() - 1, is_name_char);
        }
        if (fd) {
          tok = f.word;
          w.kind = TokenKind::kRedirection;
          w.flags = 0;
          out_->parts.back().kind = PartKind::kRedirection;
          f.word = kNoToken;
        }
      }
    }
    if (tok == kNoToken) {
      end_word();
      tok = new_token(TokenKind::kRedirection, p, f.owner);
    }
    std::uint32_t len = 1;
    bool heredoc = false, strip = false;
    char c = s_[p];
    char c1 = at(p + 1);
    if (c == '<') {
      if (c1 == '<') {
        if (has(p + 2, '<')) {
          len = 3;
        } else if (has(p + 2, '-')) {
          len = 3;
          heredoc = strip = true;
        } else {
          len = 2;
          heredoc = true;
        }
      } else if (c1 == '>' || c1 == '&') {
        len = 2;
      }
    } else if (c1 == '>' || c1 == '&' || c1 == '|') {
      len = 2;
    }
    emit(PartKind::kRedirection, Quote::kNone, p, p + len, tok);
    out_->tokens[tok].end = p + len;
    pos_ = p + len;
    Frame& g = top();
    g.redir_target = true;
    g.heredoc_next = heredoc;
    g.heredoc_strip = strip;
  }

  void comment() {
    Frame& f = top();
    std::uint32_t p = pos_;
    std::uint32_t q = p;
    while (q < n_ && s_[q] != '\n' && !(f.closer == '`' && s_[q] == '`')) ++q;
    std::uint32_t tok = new_token(TokenKind::kComment, p, f.owner);
    out_->tokens[tok].end = q;
    emit(PartKind::kComment, Quote::kComment, p, q, tok);
    pos_ = q;
  }

  void newline() {
    end_word();
    Frame& f = top();
    std::uint32_t tok = new_token(TokenKind::kNewline, pos_, f.owner);
    out_->tokens[tok].end = pos_ + 1;
    emit(PartKind::kNewline, Quote::kNone, pos_, pos_ + 1, tok);
    ++pos_;
    f.cmd_pos = true;
    f.redir_target = false;
    f.heredoc_next = false;
    if (pending_count_ > 0) read_heredocs();
  }

  void close_list() {
    end_word();
    Frame& f = top();
    std::uint32_t tok = f.owner;
    emit(PartKind::kSubstClose, Quote::kNone, pos_, pos_ + 1, tok);
    ++pos_;
    pop();
  }

  // ---- here-documents ----

  // The delimiter as the shell compares it: quotes removed, escapes resolved. Returns false when
  // it does not fit the buffer (such a here-document is read to the end of the input).
  bool delimiter(std::uint32_t word, char* buf, std::size_t* len, bool* quoted) const {
    const Token& w = out_->tokens[word];
    std::size_t n = 0;
    *quoted = false;
    auto put = [&](std::string_view bytes) {
      if (n + bytes.size() > kMaxDelimiter) return false;
      std::memcpy(buf + n, bytes.data(), bytes.size());
      n += bytes.size();
      return true;
    };
    for (std::size_t k = w.first_part; k < out_->parts.size(); ++k) {
      const Part& part = out_->parts[k];
      if (part.begin >= w.end) break;
      if (part.token != word) continue;
      std::string_view text = s_.substr(part.begin, part.end - part.begin);
      switch (part.kind) {
        case PartKind::kQuoteOpen:
        case PartKind::kQuoteClose:
          *quoted = true;
          break;
        case PartKind::kEscape:
          *quoted = true;
          if (!put(text.substr(1))) return false;
          break;
        default:
          if (!put(text)) return false;
          break;
      }
    }
    *len = n;
    return true;
  }

  void read_heredocs() {
    std::size_t count = pending_count_;
    pending_count_ = 0;
    for (std::size_t h = 0; h < count && pos_ < n_; ++h) read_heredoc(pending_[h]);
  }

  void read_heredoc(const PendingHeredoc& h) {
    char buf[kMaxDelimiter];
    std::size_t len = 0;
    bool quoted = false;
    bool fits = delimiter(h.word, buf, &len, &quoted);
    std::string_view delim(buf, fits ? len : 0);
    Quote mode = quoted ? Quote::kHeredocQuoted : Quote::kHeredoc;
    std::uint32_t tok = new_token(TokenKind::kHeredocBody, pos_, top().owner);
    if (quoted) out_->tokens[tok].flags |= kFlagHeredocQuoted;
    bool after_continuation = false;
    while (pos_ < n_) {
      std::uint32_t line = pos_;
      const void* nl = std::memchr(s_.data() + line, '\n', n_ - line);
      std::uint32_t line_end =
          nl ? static_cast<std::uint32_t>(static_cast<const char*>(nl) - s_.data()) : n_;
      std::uint32_t cmp = line;
      if (h.strip_tabs)
        while (cmp < line_end && s_[cmp] == '\t') ++cmp;
      if (fits && !after_continuation && s_.substr(cmp, line_end - cmp) == delim) {
        std::uint32_t stop = line_end < n_ ? line_end + 1 : n_;
        emit(PartKind::kHeredocEnd, mode, line, stop, tok);
        out_->tokens[tok].end = stop;
        pos_ = stop;
        return;
      }
      std::uint32_t stop = line_end < n_ ? line_end + 1 : n_;
      after_continuation = false;
      if (quoted) {
        emit(PartKind::kHeredocText, mode, line, stop, tok);
      } else {
        after_continuation = heredoc_line(line, stop, tok);
      }
      pos_ = stop;
    }
    out_->tokens[tok].end = n_;
    out_->tokens[tok].flags |= kFlagUnterminated;
    open_heredoc_at_eof_ = mode;
  }

  // One line of an unquoted here-document body. Returns true when it ends in a continuation.
  bool heredoc_line(std::uint32_t begin, std::uint32_t end, std::uint32_t tok) {
    std::uint32_t i = begin;
    bool continued = false;
    while (i < end) {
      char c = s_[i];
      if (c == '\\' && i + 1 < end) {
        bool nl = s_[i + 1] == '\n';
        emit(nl ? PartKind::kContinuation : PartKind::kEscape, Quote::kHeredoc, i, i + 2, tok);
        continued = nl;
        i += 2;
        continue;
      }
      if (c == '$' && i + 1 < end) {
        char c1 = s_[i + 1];
        if (is_name_start(c1)) {
          std::uint32_t q = i + 2;
          while (q < end && is_name_char(s_[q])) ++q;
          emit(PartKind::kHeredocExpansion, Quote::kHeredoc, i, q, tok);
          i = q;
          continue;
        }
        if (is_special_param(c1) || c1 == '{' || c1 == '(' || (c1 == '[' && bash_)) {
          emit(PartKind::kHeredocExpansion, Quote::kHeredoc, i, i + 2, tok);
          i += 2;
          continue;
        }
      }
      if (c == '`') {
        emit(PartKind::kHeredocExpansion, Quote::kHeredoc, i, i + 1, tok);
        ++i;
        continue;
      }
      std::uint32_t j = i + 1;
      while (j < end && s_[j] != '\\' && s_[j] != '$' && s_[j] != '`') ++j;
      emit(PartKind::kHeredocText, Quote::kHeredoc, i, j, tok);
      i = j;
    }
    return continued;
  }

  // ---- quoted and expansion modes ----

  void step_double() {
    std::uint32_t tok = owner();
    char c = s_[pos_];
    if (c == '"') {
      emit(PartKind::kQuoteClose, Quote::kDouble, pos_, pos_ + 1, tok);
      ++pos_;
      pop();
      return;
    }
    if (c == '\\') {
      char c1 = at(pos_ + 1);
      if (pos_ + 1 < n_ && (c1 == '$' || c1 == '`' || c1 == '"' || c1 == '\\' || c1 == '\n')) {
        escape(Quote::kDouble, tok);
      } else {
        literal_byte(Quote::kDouble, tok);  // a backslash before anything else is literal
      }
      return;
    }
    if (c == '$') {
      dollar(Quote::kDouble);
      return;
    }
    if (c == '`') {
      open_list('`', 1, Quote::kDouble, tok);
      return;
    }
    std::uint32_t q = pos_ + 1;
    while (q < n_ && s_[q] != '"' && s_[q] != '\\' && s_[q] != '$' && s_[q] != '`') ++q;
    emit(PartKind::kQuotedText, Quote::kDouble, pos_, q, tok);
    pos_ = q;
  }

  // Inside ${...}, ((...)) and extended globs, quotes and expansions nest as in words.
  bool nested_common(Quote mode, std::uint32_t tok) {
    switch (s_[pos_]) {
      case '\\':
        escape(mode, tok);
        return true;
      case '\'':
        single_quote(mode, tok);
        return true;
      case '"':
        emit(PartKind::kQuoteOpen, mode, pos_, pos_ + 1, tok);
        ++pos_;
        open_frame(FrameKind::kDouble, '"', tok);
        return true;
      case '$':
        dollar(mode);
        return true;
      case '`':
        open_list('`', 1, mode, tok);
        return true;
      default:
        return false;
    }
  }

  void step_param() {
    std::uint32_t tok = owner();
    if (s_[pos_] == '}') {
      emit(PartKind::kParamClose, Quote::kParam, pos_, pos_ + 1, tok);
      ++pos_;
      pop();
      return;
    }
    if (nested_common(Quote::kParam, tok)) return;
    std::uint32_t q = pos_ + 1;
    while (q < n_ && std::strchr("}\\'\"$`", s_[q]) == nullptr) ++q;
    emit(PartKind::kParamText, Quote::kParam, pos_, q, tok);
    pos_ = q;
  }

  void step_arith() {
    Frame& f = top();
    std::uint32_t tok = f.owner;
    char c = s_[pos_];
    if (c == ')' && f.closer == ')') {
      if (f.parens > 0) {
        --f.parens;
        emit(PartKind::kArithOp, Quote::kArith, pos_, pos_ + 1, tok);
        ++pos_;
        return;
      }
      std::uint32_t len = has(pos_ + 1, ')') ? 2 : 1;
      emit(PartKind::kArithClose, Quote::kArith, pos_, pos_ + len, tok);
      pos_ += len;
      pop();
      return;
    }
    if (c == ']' && f.closer == ']') {
      if (f.parens > 0) {
        --f.parens;
        emit(PartKind::kArithOp, Quote::kArith, pos_, pos_ + 1, tok);
        ++pos_;
        return;
      }
      emit(PartKind::kArithClose, Quote::kArith, pos_, pos_ + 1, tok);
      ++pos_;
      pop();
      return;
    }
    if (c == '(' || (c == '[' && f.closer == ']')) {
      ++f.parens;
      emit(PartKind::kArithOp, Quote::kArith, pos_, pos_ + 1, tok);
      ++pos_;
      return;
    }
    if (nested_common(Quote::kArith, tok)) return;
    auto texty = [](char ch) {
      return is_name_char(ch) || ch == '.' || is_blank(ch) || ch == '\n' ||
             static_cast<unsigned char>(ch) >= 0x80;
    };
    if (texty(c)) {
      std::uint32_t q = pos_ + 1;
      while (q < n_ && texty(s_[q])) ++q;
      emit(PartKind::kArithText, Quote::kArith, pos_, q, tok);
      pos_ = q;
      return;
    }
    emit(PartKind::kArithOp, Quote::kArith, pos_, pos_ + 1, tok);
    ++pos_;
  }

  void step_extglob() {
    Frame& f = top();
    std::uint32_t tok = f.owner;
    char c = s_[pos_];
    if (c == ')') {
      if (f.parens > 0) {
        --f.parens;
        emit(PartKind::kExtGlobText, Quote::kExtGlob, pos_, pos_ + 1, tok);
        ++pos_;
        return;
      }
      emit(PartKind::kExtGlobClose, Quote::kExtGlob, pos_, pos_ + 1, tok);
      ++pos_;
      pop();
      return;
    }
    if (c == '(') {
      ++f.parens;
      emit(PartKind::kExtGlobText, Quote::kExtGlob, pos_, pos_ + 1, tok);
      ++pos_;
      return;
    }
    if (nested_common(Quote::kExtGlob, tok)) return;
    std::uint32_t q = pos_ + 1;
    while (q < n_ && std::strchr("()\\'\"$`", s_[q]) == nullptr) ++q;
    emit(PartKind::kExtGlobText, Quote::kExtGlob, pos_, q, tok);
    pos_ = q;
  }

  // ---- end of input ----

  void finish() {
    for (std::size_t i = 0; i < size_; ++i) {
      Frame& f = frames_[i];
      if (f.kind == FrameKind::kList && f.word != kNoToken) out_->tokens[f.word].end = n_;
      if (i > 0 && f.owner != kNoToken) {
        out_->tokens[f.owner].flags |= kFlagUnterminated;
        out_->tokens[f.owner].end = n_;
      }
    }
    const Frame& t = top();
    Quote q = Quote::kNone;
    switch (t.kind) {
      case FrameKind::kList:
        q = Quote::kNone;
        break;
      case FrameKind::kDouble:
        q = Quote::kDouble;
        break;
      case FrameKind::kParam:
        q = Quote::kParam;
        break;
      case FrameKind::kArith:
        q = Quote::kArith;
        break;
      case FrameKind::kExtGlob:
        q = Quote::kExtGlob;
        break;
    }
    if (open_quote_at_eof_ != Quote::kNone) q = open_quote_at_eof_;
    if (open_heredoc_at_eof_ != Quote::kNone) q = open_heredoc_at_eof_;
    out_->eof_quote = q;
    out_->eof_depth = t.depth;
    out_->unterminated = size_ > 1 || open_quote_at_eof_ != Quote::kNone ||
                         open_heredoc_at_eof_ != Quote::kNone || pending_count_ > 0 ||
                         out_->depth_exceeded;
  }

  std::string_view s_;
  std::uint32_t n_;
  bool bash_;
  Tokens* out_;
  std::uint32_t pos_ = 0;
  std::array<Frame, kMaxDepth> frames_;
  std::size_t size_ = 0;
  std::array<PendingHeredoc, kMaxPendingHeredocs> pending_{};
  std::size_t pending_count_ = 0;
  Quote open_quote_at_eof_ = Quote::kNone;
  Quote open_heredoc_at_eof_ = Quote::kNone;
};

}  // namespace

void tokenize(std::string_view src, Dialect dialect, Tokens* out) {
  out->clear();
  Lexer lexer(src, dialect, out);
  lexer.run();
}

std::size_t part_at(const Tokens& tokens, std::uint32_t offset) noexcept {
  const auto& parts = tokens.parts;
  auto it = std::upper_bound(parts.begin(), parts.end(), offset,
                             [](std::uint32_t off, const Part& p) { return off < p.begin; });
  return it == parts.begin() ? 0 : static_cast<std::size_t>(it - parts.begin() - 1);
}

std::string_view token_kind_name(TokenKind kind) noexcept {
  switch (kind) {
    case TokenKind::kWord:
      return "word";
    case TokenKind::kOperator:
      return "operator";
    case TokenKind::kRedirection:
      return "redirection";
    case TokenKind::kComment:
      return "comment";
    case TokenKind::kNewline:
      return "newline";
    case TokenKind::kHeredocBody:
      return "here-document";
  }
  return "token";
}

std::string_view part_kind_name(PartKind kind) noexcept {
  switch (kind) {
    case PartKind::kBlank:
      return "blank";
    case PartKind::kNewline:
      return "newline";
    case PartKind::kLiteral:
      return "literal";
    case PartKind::kEscape:
      return "escape";
    case PartKind::kContinuation:
      return "line-continuation";
    case PartKind::kQuoteOpen:
      return "quote-open";
    case PartKind::kQuoteClose:
      return "quote-close";
    case PartKind::kQuotedText:
      return "quoted-text";
    case PartKind::kParam:
      return "parameter-expansion";
    case PartKind::kParamOpen:
      return "parameter-expansion";
    case PartKind::kParamText:
      return "parameter-text";
    case PartKind::kParamClose:
      return "parameter-close";
    case PartKind::kSubstOpen:
      return "command-substitution";
    case PartKind::kSubstClose:
      return "substitution-close";
    case PartKind::kArithOpen:
      return "arithmetic-expansion";
    case PartKind::kArithText:
      return "arithmetic-text";
    case PartKind::kArithOp:
      return "arithmetic-operator";
    case PartKind::kArithClose:
      return "arithmetic-close";
    case PartKind::kExtGlobOpen:
      return "extended-glob";
    case PartKind::kExtGlobText:
      return "extended-glob-text";
    case PartKind::kExtGlobClose:
      return "extended-glob-close";
    case PartKind::kOperator:
      return "operator";
    case PartKind::kRedirection:
      return "redirection";
    case PartKind::kComment:
      return "comment";
    case PartKind::kHeredocText:
      return "here-document-text";
    case PartKind::kHeredocExpansion:
      return "here-document-expansion";
    case PartKind::kHeredocEnd:
      return "here-document-end";
    case PartKind::kError:
      return "error";
  }
  return "part";
}

}  // namespace vigil::tokenize::shell
