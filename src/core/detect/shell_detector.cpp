#include "core/detect/shell_detector.hpp"

#include <algorithm>

#include "core/common/ascii.hpp"
#include "core/detect/detector.hpp"

namespace vigil::detect {
namespace {

using tokenize::shell::Dialect;
using tokenize::shell::kFlagAssignment;
using tokenize::shell::kFlagCommandName;
using tokenize::shell::kNoToken;
using tokenize::shell::Part;
using tokenize::shell::PartKind;
using tokenize::shell::Quote;
using tokenize::shell::TokenKind;
using tokenize::shell::Tokens;

// Leading and trailing white-space runs are followed at most this many parts.
constexpr std::size_t kMaxEdgeScan = 256;
constexpr std::size_t kMaxNotes = 8;

// Parts an input may produce without changing the command's syntax.
bool inert(PartKind k) {
  switch (k) {
    case PartKind::kLiteral:
    case PartKind::kEscape:
    case PartKind::kContinuation:
    case PartKind::kQuoteOpen:
    case PartKind::kQuoteClose:
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

// White space between words: allowed only at the edges of an input.
bool soft(PartKind k) { return k == PartKind::kBlank || k == PartKind::kNewline; }

// Parts whose bytes do not change the lexer state (reading inside them stays in the same mode).
bool text_like(PartKind k) {
  return inert(k) ? (k != PartKind::kEscape && k != PartKind::kContinuation &&
                     k != PartKind::kQuoteOpen && k != PartKind::kQuoteClose)
                  : (k == PartKind::kBlank || k == PartKind::kNewline || k == PartKind::kComment);
}

// A part that already separates words, so white space next to it adds no word.
bool word_boundary(PartKind k) {
  switch (k) {
    case PartKind::kBlank:
    case PartKind::kNewline:
    case PartKind::kOperator:
    case PartKind::kRedirection:
    case PartKind::kSubstOpen:
    case PartKind::kSubstClose:
    case PartKind::kComment:
    case PartKind::kHeredocEnd:
      return true;
    default:
      return false;
  }
}

// A byte that keeps its meaning when a backslash before it is removed: escaping it changes no
// syntax.
bool plain_byte(char c) {
  switch (c) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '\\':
    case '\'':
    case '"':
    case '$':
    case '`':
    case '<':
    case '>':
    case '&':
    case '|':
    case ';':
    case '(':
    case ')':
    case '#':
    case '*':
    case '?':
    case '[':
    case '~':
    case '=':
    case '{':
    case '}':
    case '!':
    case '@':
    case '+':
      return false;
    default:
      return true;
  }
}

struct Ctx {
  Quote quote = Quote::kNone;
  std::uint16_t depth = 0;
  bool mid = false;  // inside a multi-byte delimiter or escape
  bool operator==(const Ctx& o) const {
    return quote == o.quote && depth == o.depth && mid == o.mid;
  }
};

std::string_view quote_name(Quote q) {
  switch (q) {
    case Quote::kSingle:
      return "single-quoted string";
    case Quote::kDouble:
      return "double-quoted string";
    case Quote::kAnsi:
      return "$'...' string";
    case Quote::kParam:
      return "parameter expansion";
    case Quote::kArith:
      return "arithmetic expansion";
    case Quote::kExtGlob:
      return "glob pattern";
    case Quote::kComment:
      return "comment";
    case Quote::kHeredoc:
    case Quote::kHeredocQuoted:
      return "here-document";
    case Quote::kNone:
      break;
  }
  return "unquoted text";
}

// Builds the reason sentence and the token notes of a finding.
class FindingBuilder {
 public:
  FindingBuilder(std::string_view text, ShellFinding* out) : text_(text), out_(out) {}

  void closed(std::string_view what) { closed_ = what; }
  void note(std::string_view phrase, std::string_view kind, std::uint32_t b, std::uint32_t e) {
    if (out_ == nullptr) return;
    if (std::find(phrases_.begin(), phrases_.end(), phrase) == phrases_.end() &&
        phrases_.size() < 5)
      phrases_.push_back(std::string(phrase));
    if (out_->tokens.size() < kMaxNotes)
      out_->tokens.push_back(note_token(kind, text_.substr(b, e - b), b, e));
  }
  void state(std::string phrase) { state_ = std::move(phrase); }

  void finish() {
    if (out_ == nullptr) return;
    std::string r;
    if (!closed_.empty()) r = "closed the " + std::string(closed_);
    if (!phrases_.empty()) {
      if (!r.empty()) r += " and ";
      r += "added ";
      for (std::size_t i = 0; i < phrases_.size(); ++i) {
        if (i > 0) r += (i + 1 == phrases_.size()) ? " and " : ", ";
        r += phrases_[i];
      }
    }
    if (!state_.empty()) {
      if (!r.empty()) r += "; it ";
      r += state_;
    }
    if (r.empty()) r = "changed the command's syntax";
    out_->reason = std::move(r);
  }

 private:
  std::string_view text_;
  ShellFinding* out_;
  std::string_view closed_;
  std::vector<std::string> phrases_;
  std::string state_;
};

std::string quoted_text(std::string_view t) {
  std::string s = "'";
  std::size_t n = std::min<std::size_t>(t.size(), 40);
  for (std::size_t i = 0; i < n; ++i) {
    char c = t[i];
    if (c == '\n') {
      s += "\\n";
    } else if (c == '\r') {
      s += "\\r";
    } else if (c == '\t') {
      s += "\\t";
    } else {
      s += c;
    }
  }
  if (t.size() > n) s += "...";
  return s + "'";
}

}  // namespace

void ShellAnalysis::reset(std::string_view command, Dialect dialect) {
  text_ = command;
  tokenize::shell::tokenize(command, dialect, &tokens_);
  const auto& parts = tokens_.parts;
  prefix_.resize(parts.size() + 1);
  prefix_[0] = 0;
  for (std::size_t k = 0; k < parts.size(); ++k)
    prefix_[k + 1] = prefix_[k] + (inert(parts[k].kind) ? 0 : 1);
}

bool ShellAnalysis::span_is_data(std::uint32_t b, std::uint32_t e, ShellFinding* finding) const {
  const auto& parts = tokens_.parts;
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  if (b >= e || e > n || parts.empty()) return true;
  // Careful applications write a ' inside '...' as '"'"' or '\''. An input that begins or ends
  // with ' lines that quote up with the application's own re-opening or closing quote.
  if (text_[b] == '\'' &&
      (text_.substr(0, b).ends_with("'\"'\"") || text_.substr(0, b).ends_with("'\\'")))
    ++b;
  if (e > b && text_[e - 1] == '\'' &&
      (text_.substr(e).starts_with("\"'\"'") || text_.substr(e).starts_with("\\''")))
    --e;
  if (b >= e) return true;
  const std::size_t np = parts.size();
  const Ctx eof{tokens_.eof_quote, tokens_.eof_depth, false};

  // The lexer state before byte b and after byte e-1.
  const std::size_t i = tokenize::shell::part_at(tokens_, b);
  const std::size_t j = tokenize::shell::part_at(tokens_, e - 1);
  // Inside the name of a `$NAME` expansion, after its '$': a word there is part of a name the
  // application wrote, as it is inside `${NAME}` (whose name is text). ("ORDER" in the
  // application's own "$ORDER_ID", a request's "HOME" in its "$HOME".)
  auto in_name = [&](const Part& p, std::uint32_t off) {
    return p.kind == PartKind::kParam && off > p.begin && text_[p.begin] == '$' &&
           p.end > p.begin + 1 &&
           (common::is_alpha(text_[p.begin + 1]) || text_[p.begin + 1] == '_');
  };
  auto before = [&](std::size_t k, std::uint32_t off) {
    const Part& p = parts[k];
    if (off == p.begin || text_like(p.kind) || in_name(p, off))
      return Ctx{p.quote, p.depth, false};
    return Ctx{p.quote, p.depth, true};
  };
  Ctx cb = before(i, b);
  Ctx ce;
  {
    const Part& p = parts[j];
    if (text_like(p.kind) || (e < p.end && in_name(p, b))) {  // b and e - 1 in one name
      ce = Ctx{p.quote, p.depth, false};
    } else if (p.end == e) {
      ce = j + 1 < np ? Ctx{parts[j + 1].quote, parts[j + 1].depth, false} : eof;
    } else {
      ce = Ctx{p.quote, p.depth, true};
    }
  }

  FindingBuilder fb(text_, finding);
  bool ok = true;

  // An input ending in a backslash escapes the application's next byte.
  if (ce.mid) {
    const Part& p = parts[j];
    if (p.kind == PartKind::kEscape && e == p.begin + 1) {
      // Escaping a backslash the application doubled, an ordinary character, or a blank where
      // the word ends anyway changes no syntax.
      char c = text_[e];
      bool unquoted = p.quote == Quote::kNone;
      bool blank = c == ' ' || c == '\t' || c == '\r';
      bool next_boundary = j + 1 >= np || word_boundary(parts[j + 1].kind);
      if (c == '\\' || (unquoted && ((blank && next_boundary) || plain_byte(c)))) {
        ce = Ctx{p.quote, p.depth, false};
      } else {
        ok = false;
        fb.note(blank ? "a backslash that joins the argument with the next word"
                      : "a backslash that escapes the command's next character",
                "escape", p.begin, p.end);
      }
    } else {
      ok = false;
      fb.note("part of a multi-character token", tokenize::shell::part_kind_name(p.kind), p.begin,
              p.end);
    }
  }
  if (cb.mid) {
    // The application's backslash before the input's first byte makes that byte literal.
    const Part& p = parts[i];
    if ((p.kind == PartKind::kEscape || p.kind == PartKind::kContinuation) && b == p.begin + 1) {
      cb = Ctx{p.quote, p.depth, false};
    } else {
      ok = false;
      fb.note("part of a multi-character token", tokenize::shell::part_kind_name(p.kind), p.begin,
              p.end);
    }
  }

  // The core: parts between leading and trailing white space.
  std::size_t first = i;
  while (first <= j && soft(parts[first].kind) && first - i < kMaxEdgeScan) ++first;
  if (first > j) {
    // Only white space: in unquoted text the argument disappears or a command line ends.
    for (std::size_t k = i; k <= j && k - i < kMaxEdgeScan; ++k)
      fb.note(parts[k].kind == PartKind::kNewline ? "a newline" : "white space",
              tokenize::shell::part_kind_name(parts[k].kind), parts[k].begin, parts[k].end);
    fb.state("removes the argument it was meant to be");
    fb.finish();
    return false;
  }
  // A trailing ';' ends the command the way a newline does: harmless at the very end.
  auto trailing_soft = [&](const Part& p) {
    return soft(p.kind) ||
           (p.kind == PartKind::kOperator && p.end - p.begin == 1 && text_[p.begin] == ';');
  };
  std::size_t last = j;
  // A comment the input starts after its word and that runs to the end of the command only
  // hides the rest of the input: the command keeps its syntax.
  if (last > first && parts[last].kind == PartKind::kComment && parts[last].begin > b &&
      parts[last].end == e && e == n) {
    --last;
    ce = eof;
  }
  while (last > first && trailing_soft(parts[last]) && j - last < kMaxEdgeScan) --last;

  // Fast path: nothing but inert parts in the core, contexts equal, no white space at the edges.
  std::size_t core_begin = first;
  if (parts[first].begin < b) ++core_begin;  // the part holding b is the context, not created
  std::uint32_t bad = core_begin <= last ? prefix_[last + 1] - prefix_[core_begin] : 0;

  if (bad > 0) {
    ok = false;
    bool only_blanks = true;
    for (std::size_t k = core_begin; k <= last; ++k)
      only_blanks &= inert(parts[k].kind) || parts[k].kind == PartKind::kBlank;
    for (std::size_t k = core_begin; k <= last; ++k) {
      const Part& p = parts[k];
      if (inert(p.kind) || (p.kind == PartKind::kBlank && !only_blanks)) continue;
      std::string_view t = text_.substr(p.begin, p.end - p.begin);
      switch (p.kind) {
        case PartKind::kOperator:
          fb.note("the operator " + quoted_text(t), "operator", p.begin, p.end);
          break;
        case PartKind::kRedirection:
          fb.note("the redirection " + quoted_text(t), "redirection", p.begin, p.end);
          break;
        case PartKind::kSubstOpen:
          fb.note(t.size() == 2 && t[0] != '$' ? "a process substitution " + quoted_text(t)
                                               : "a command substitution " + quoted_text(t),
                  "command-substitution", p.begin, p.end);
          break;
        case PartKind::kParam:
          fb.note("the parameter expansion " + quoted_text(t), "parameter-expansion", p.begin,
                  p.end);
          break;
        case PartKind::kParamOpen:
          fb.note("a parameter expansion '${'", "parameter-expansion", p.begin, p.end);
          break;
        case PartKind::kArithOpen:
          fb.note("an arithmetic expansion " + quoted_text(t), "arithmetic", p.begin, p.end);
          break;
        case PartKind::kArithOp:
          fb.note("arithmetic operators", "arithmetic-operator", p.begin, p.end);
          break;
        case PartKind::kExtGlobOpen:
          fb.note("an extended glob " + quoted_text(t), "extended-glob", p.begin, p.end);
          break;
        case PartKind::kComment:
          fb.note("a comment", "comment", p.begin, p.end);
          break;
        case PartKind::kNewline:
          fb.note("a newline that ends the command", "newline", p.begin, p.end);
          break;
        case PartKind::kBlank:
          fb.note("white space that splits the argument into more words", "blank", p.begin, p.end);
          break;
        case PartKind::kHeredocEnd:
          fb.note("a line that ends the here-document", "here-document-end", p.begin, p.end);
          break;
        case PartKind::kHeredocExpansion:
          fb.note("an expansion in the here-document " + quoted_text(t), "here-document-expansion",
                  p.begin, p.end);
          break;
        case PartKind::kSubstClose:
        case PartKind::kParamClose:
        case PartKind::kArithClose:
        case PartKind::kExtGlobClose:
          // Only a close of something the application opened is news; the input's own
          // expansions were reported by their opening part.
          if (p.depth != cb.depth ||
              p.quote != (p.kind == PartKind::kSubstClose ? Quote::kNone : cb.quote))
            break;
          fb.note("the end of the enclosing expansion " + quoted_text(t),
                  tokenize::shell::part_kind_name(p.kind), p.begin, p.end);
          break;
        default:
          fb.note("text the shell cannot parse", tokenize::shell::part_kind_name(p.kind), p.begin,
                  p.end);
          break;
      }
    }
    // Name the command an operator or newline introduced, if the input wrote one.
    for (std::size_t k = core_begin; k <= last; ++k) {
      const Part& p = parts[k];
      if (p.token == kNoToken || p.begin < b) continue;
      const auto& tok = tokens_.tokens[p.token];
      if (tok.kind == TokenKind::kWord && (tok.flags & kFlagCommandName) && tok.begin >= b &&
          tok.begin > parts[first].begin) {
        fb.note(
            "the command " + quoted_text(text_.substr(tok.begin, std::min(tok.end, e) - tok.begin)),
            "word", tok.begin, std::min(tok.end, e));
        break;
      }
    }
  }

  // White space at the front must sit where a word boundary already is.
  if (first > i || (soft(parts[i].kind))) {
    bool boundary_before = b > parts[i].begin ? true : (i == 0 || word_boundary(parts[i - 1].kind));
    if (!boundary_before) {
      ok = false;
      fb.note("white space that splits the argument into more words", "blank", parts[i].begin,
              std::min(parts[i].end, e));
    }
    bool newline = false;
    for (std::size_t k = i; k < first; ++k) newline |= parts[k].kind == PartKind::kNewline;
    if (newline && boundary_before) {
      // A newline is harmless only where a command line starts anyway.
      std::size_t k = i;
      std::size_t steps = 0;
      bool starts_line = true;
      while (k > 0 && steps++ < kMaxEdgeScan) {
        const Part& p = parts[k - 1];
        if (p.begin < b && soft(p.kind) && p.kind == PartKind::kBlank) {
          --k;
          continue;
        }
        starts_line = p.kind == PartKind::kNewline || p.kind == PartKind::kOperator ||
                      p.kind == PartKind::kSubstOpen || p.kind == PartKind::kHeredocEnd;
        break;
      }
      if (!starts_line) {
        ok = false;
        fb.note("a newline that ends the command", "newline", parts[i].begin, parts[i].end);
      }
    }
  }
  // White space at the back likewise.
  if (last < j) {
    bool boundary_after =
        e < parts[j].end ? true : (j + 1 >= np || word_boundary(parts[j + 1].kind));
    if (!boundary_after) {
      ok = false;
      fb.note("white space that splits the argument into more words", "blank", parts[j].begin,
              std::min(parts[j].end, e));
    }
    bool newline = false;
    for (std::size_t k = last + 1; k <= j; ++k) newline |= !(parts[k].kind == PartKind::kBlank);
    if (newline) {
      // A trailing newline is harmless only at the end of the command (list).
      std::size_t k = j + 1;
      std::size_t steps = 0;
      bool at_end = true;
      while (k < np && steps++ < kMaxEdgeScan) {
        const Part& p = parts[k];
        if (soft(p.kind) || p.kind == PartKind::kComment) {
          ++k;
          continue;
        }
        at_end = p.kind == PartKind::kSubstClose;
        break;
      }
      if (k < np && steps >= kMaxEdgeScan) at_end = false;
      if (!at_end) {
        ok = false;
        fb.note("a command separator followed by more commands",
                tokenize::shell::part_kind_name(parts[j].kind), parts[j].begin, parts[j].end);
      }
    }
  }

  // The rest of the command must be read in the state the application left.
  Ctx core_b = cb;
  Ctx core_e = ce;
  if (!(core_b == core_e)) {
    ok = false;
    if (core_e.depth != core_b.depth) {
      fb.state("changes how deeply the rest of the command is nested");
    } else if (core_e.quote != Quote::kNone && core_e.quote != Quote::kComment) {
      fb.state("opens a " + std::string(quote_name(core_e.quote)) +
               " that swallows the rest of the command");
    } else {
      fb.state("leaves the rest of the command outside the " +
               std::string(quote_name(core_b.quote)) + " the application opened");
    }
  }
  if (!ok && finding != nullptr &&
      (cb.quote == Quote::kSingle || cb.quote == Quote::kDouble || cb.quote == Quote::kAnsi)) {
    for (std::size_t k = first; k <= last; ++k) {
      const Part& p = parts[k];
      if (p.kind == PartKind::kQuoteClose && p.quote == cb.quote && p.depth == cb.depth &&
          p.begin >= b) {
        fb.closed(quote_name(cb.quote));
        break;
      }
    }
  }

  // A word in command position that the input turned into NAME=value.
  if (ok) {
    const Part& p = parts[first];
    if (p.token != kNoToken) {
      const auto& tok = tokens_.tokens[p.token];
      if (tok.kind == TokenKind::kWord && (tok.flags & kFlagAssignment) && tok.aux >= b &&
          tok.aux < e) {
        ok = false;
        fb.note("a variable assignment in place of the command", "assignment", tok.begin, tok.end);
      }
    }
  }

  if (ok) return true;
  fb.finish();
  return false;
}

bool CleanSpans::covers(const Occurrence& occ) const noexcept {
  for (std::size_t k = 0; k < count_; ++k) {
    const Occurrence& c = spans_[k];
    if (c.input == occ.input && c.element == occ.element && c.begin <= occ.begin &&
        occ.end <= c.end)
      return true;
  }
  return false;
}

void CleanSpans::add(const Occurrence& occ) noexcept {
  spans_[count_ < spans_.size() ? count_++ : next_++ % spans_.size()] = occ;
}

void detect_shell(const SinkCheck& check, std::vector<Detection>* out) {
  thread_local ShellAnalysis analysis;
  std::string_view text = check.sink->value;
  analysis.reset(text, Dialect::kBash);
  const std::size_t first_out = out->size();
  ShellFinding finding;
  CleanSpans clean;
  for (const Occurrence& occ : check.occurrences) {
    bool done = false;
    for (std::size_t k = first_out; k < out->size(); ++k) done |= (*out)[k].input == occ.input;
    if (done || occ.end <= occ.begin || occ.end > text.size() || clean.covers(occ)) continue;
    finding.reason.clear();
    finding.tokens.clear();
    if (analysis.span_is_data(occ.begin, occ.end, &finding)) {
      clean.add(occ);
      continue;
    }
    Detection d;
    d.input = occ.input;
    d.form = occ.form;
    d.begin = occ.begin;
    d.end = occ.end;
    d.reason = "input " + finding.reason;
    d.tokens = std::move(finding.tokens);
    finding.tokens = {};
    out->push_back(std::move(d));
  }
}

}  // namespace vigil::detect
