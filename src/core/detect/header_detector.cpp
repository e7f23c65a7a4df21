// Header injection (CRLF injection, response splitting): did an input put a line break into the
// header line(s) the application writes?
//
// A strict HTTP parser (Node's llhttp) reads the header block. An input whose span carries a CR
// or LF either adds header lines, ends the block early (what follows becomes the body: response
// splitting) or makes the block unparseable (a bare CR or LF, a folded line, a line that is not
// a field); every one of these changes the response. Any other byte without a line break stays
// inside the header's value and does not count, whatever a strict parser thinks of it. An
// encoded break ("%0d%0a") written as is stays three literal characters; an application that
// decodes it is caught through the engine's url-decoded form of the input.
#include <span>
#include <string>

#include "core/common/ascii.hpp"
#include "core/detect/detector.hpp"
#include "core/tokenize/header/header_lexer.hpp"

namespace vigil::detect {
namespace {

namespace th = tokenize::header;

constexpr std::size_t kMaxNotes = 12;
constexpr std::size_t kMaxNames = 3;  // added header names quoted in a reason

bool convicted(const std::vector<Detection>& out, std::uint32_t input) {
  for (const Detection& d : out)
    if (d.input == input) return true;
  return false;
}

// Length of the line terminator that starts at `at` (a CR or LF).
std::uint32_t terminator_length(std::string_view text, std::uint32_t at) {
  return text[at] == '\r' && at + 1 < text.size() && text[at + 1] == '\n' ? 2 : 1;
}

// The first CR or LF at or after a position, advanced monotonically (occurrence begins never
// decrease), so that finding the breaks of every occurrence is linear overall.
class BreakCursor {
 public:
  explicit BreakCursor(std::string_view text) : text_(text) {}
  std::uint32_t first_at_or_after(std::uint32_t pos) {
    // Each search starts past the previous result, so the searched ranges never overlap.
    if (!valid_ || next_ < pos) {
      std::size_t found = common::find_any(text_, "\r\n", pos);
      next_ = found == std::string_view::npos ? UINT32_MAX : static_cast<std::uint32_t>(found);
      valid_ = true;
    }
    return next_;
  }

 private:
  std::string_view text_;
  std::uint32_t next_ = 0;
  bool valid_ = false;
};

// True when the line break at `brk`, the first inside [begin, end), is the application's own
// line terminator rather than the input's: it reaches the end of the span (the input's last
// bytes are or start that terminator) and what follows is the end of the block or another
// well-formed header line. An application that trims an input ending in "\r\n", or that writes
// "abc" + "\r\n" while an unrelated input reads "abc\r", shows exactly that. Had the
// application written the input's break itself, the rest of its own line ("; Path=/") or its
// own terminator (an empty line) would follow instead.
class TerminatorCheck {
 public:
  explicit TerminatorCheck(std::string_view text) : text_(text) {}
  bool is_applications(std::uint32_t brk, std::uint32_t end) {
    std::uint32_t after = brk + terminator_length(text_, brk);
    if (after < end) return false;
    if (after >= text_.size()) return true;
    if (after != cached_at_) {
      // One line is lexed per distinct break; occurrences sharing a break share the answer.
      th::Lexer lexer(text_.substr(after));
      th::Line line;
      cached_ = lexer.next(&line) && line.kind == th::LineKind::kField;
      cached_at_ = after;
    }
    return cached_;
  }

 private:
  std::string_view text_;
  std::uint32_t cached_at_ = UINT32_MAX;
  bool cached_ = false;
};

std::string shown(std::string_view s, std::size_t max) {
  std::string out;
  for (unsigned char c : common::truncate_utf8(s, max)) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7F) {
      static const char* const kHex = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string join_clauses(const std::vector<std::string>& parts) {
  std::string s;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) s += i + 1 == parts.size() ? " and " : ", ";
    s += parts[i];
  }
  return s;
}

// Lexes the block once more (once per conviction) to say what the input's breaks did.
void record(std::string_view text, const Occurrence& occ, std::vector<Detection>* out) {
  Detection d;
  d.input = occ.input;
  d.form = occ.form;
  d.begin = occ.begin;
  d.end = occ.end;

  std::string host = "the header block";
  std::uint32_t crlf = 0, bare_lf = 0, bare_cr = 0;
  std::vector<std::string> added;
  std::size_t added_count = 0;
  bool ended = false, folded = false, malformed = false;
  std::string malformed_text;
  std::uint32_t body_bytes = 0;

  th::Lexer lexer(text);
  th::Line line;
  while (lexer.next(&line)) {
    if (line.begin > occ.end) break;
    bool contains_begin = occ.begin >= line.begin && occ.begin < line.next;
    if (contains_begin && line.kind == th::LineKind::kField)
      host = "the " + shown(text.substr(line.begin, line.name_end - line.begin), 60) + " header";
    // The line's terminator is the input's when it starts inside the span.
    if (line.end_kind != th::LineEnd::kNone && line.end >= occ.begin && line.end < occ.end) {
      switch (line.end_kind) {
        case th::LineEnd::kCrlf:
          ++crlf;
          break;
        case th::LineEnd::kLf:
          ++bare_lf;
          break;
        case th::LineEnd::kCr:
          ++bare_cr;
          break;
        case th::LineEnd::kNone:
          break;
      }
      if (d.tokens.size() < kMaxNotes)
        d.tokens.push_back(note_token("line-break", text.substr(line.end, line.next - line.end),
                                      line.end, line.next));
    }
    // Lines that start after one of the input's breaks are the input's doing, including the
    // one right after the span: the rest of the application's line, or its terminator, which
    // the input's break turned into a line of its own.
    bool started_by_input = line.begin > occ.begin && line.begin <= occ.end;
    if (!started_by_input) continue;
    std::string_view content = text.substr(line.begin, line.end - line.begin);
    switch (line.kind) {
      case th::LineKind::kField:
        if (added.size() < kMaxNames)
          added.push_back(shown(text.substr(line.begin, line.name_end - line.begin), 60));
        ++added_count;
        if (d.tokens.size() < kMaxNotes)
          d.tokens.push_back(note_token("header-field", content, line.begin, line.end));
        break;
      case th::LineKind::kEmpty:
        ended = true;
        if (d.tokens.size() < kMaxNotes)
          d.tokens.push_back(note_token("end-of-headers",
                                        text.substr(line.begin, line.next - line.begin), line.begin,
                                        line.next));
        break;
      case th::LineKind::kContinuation:
        folded = true;
        if (d.tokens.size() < kMaxNotes)
          d.tokens.push_back(note_token("folded-line", content, line.begin, line.end));
        break;
      case th::LineKind::kMalformed:
        if (!malformed) malformed_text = shown(content, 40);
        malformed = true;
        if (d.tokens.size() < kMaxNotes)
          d.tokens.push_back(note_token("malformed-line", content, line.begin, line.end));
        break;
      case th::LineKind::kBody:
        break;
    }
    if (line.kind == th::LineKind::kEmpty && lexer.next(&line)) {
      body_bytes = line.next - line.begin;
      if (d.tokens.size() < kMaxNotes)
        d.tokens.push_back(note_token("body", text.substr(line.begin, line.next - line.begin),
                                      line.begin, line.next));
      break;
    }
  }

  std::string breaks;
  std::uint32_t total = crlf + bare_lf + bare_cr;
  if (total == 1) {
    breaks = crlf ? "a CRLF line break" : bare_lf ? "a bare LF" : "a bare CR";
  } else {
    std::vector<std::string> kinds;
    if (crlf) kinds.push_back(std::to_string(crlf) + " CRLF");
    if (bare_lf) kinds.push_back(std::to_string(bare_lf) + " bare LF");
    if (bare_cr) kinds.push_back(std::to_string(bare_cr) + " bare CR");
    breaks = std::to_string(total) + " line breaks (" + join_clauses(kinds) + ")";
  }

  std::vector<std::string> effects;
  if (added_count > 0) {
    std::string names = join_clauses(added);
    if (added_count > added.size())
      names += " and " + std::to_string(added_count - added.size()) + " more";
    effects.push_back((added_count == 1 ? "added the header line " : "added the header lines ") +
                      names);
  }
  if (ended) {
    effects.push_back(
        body_bytes > 0
            ? "ended the header block early, so the " + std::to_string(body_bytes) +
                  " bytes after it become the response body (response splitting)"
            : "ended the header block early, so what the application writes next becomes the "
              "response body (response splitting)");
  }
  if (folded) effects.push_back("started a folded continuation line (obs-fold)");
  if (malformed)
    effects.push_back("started a line that is not a header field (\"" + malformed_text + "\")");
  bool rejected = bare_lf > 0 || bare_cr > 0 || folded || malformed;

  d.reason = "input inserted " + breaks + " into " + host;
  if (!effects.empty()) d.reason += " and " + join_clauses(effects);
  if (rejected) d.reason += "; a strict HTTP parser rejects the header block";
  out->push_back(std::move(d));
}

// Whether `piece` holds a byte that makes a Rack server drop the line it would be written as.
bool has_control_byte(std::string_view piece) {
  for (char c : piece)
    if (th::is_invalid_value_byte(c)) return true;
  return false;
}

std::string_view trim_blanks(std::string_view s, bool front, bool back) {
  while (front && !s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (back && !s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

constexpr std::size_t kMaxSplitInputs = 16;  // inputs with a line feed examined per block
constexpr std::size_t kMaxSplitBreaks = 8;   // line feeds of each examined

// Whether the lines of `text` show the pieces `before` and `after` (the input's text on either
// side of one of its line feeds; `last`: `after` ends the input) written as a server that
// splits values writes them: a field line whose value ends with `before`, followed at once by a
// field line of the same name whose value is `after` (or, for the input's last piece, begins
// with it; the application's text follows). *first and *second get the two lines.
bool split_lines(std::string_view text, std::string_view before, std::string_view after,
                 bool last, th::Line* first, th::Line* second) {
  th::Lexer lexer(text);
  th::Line prev, line;
  bool have_prev = false;
  while (lexer.next(&line)) {
    if (line.kind != th::LineKind::kField) {
      if (line.kind == th::LineKind::kEmpty || line.kind == th::LineKind::kBody) return false;
      have_prev = false;
      continue;
    }
    if (have_prev) {
      const std::string_view value =
          text.substr(line.value_begin, line.value_end - line.value_begin);
      const std::string_view prev_value =
          text.substr(prev.value_begin, prev.value_end - prev.value_begin);
      const bool value_fits = last ? value.substr(0, after.size()) == after : value == after;
      if (value_fits && prev_value.size() >= before.size() &&
          prev_value.substr(prev_value.size() - before.size()) == before &&
          common::iequals(text.substr(prev.begin, prev.name_end - prev.begin),
                          text.substr(line.begin, line.name_end - line.begin))) {
        *first = prev;
        *second = line;
        return true;
      }
    }
    prev = line;
    have_prev = true;
  }
  return false;
}

}  // namespace

void detect_split_header(const Sink& sink, std::span<const Input> inputs,
                         std::vector<Detection>* out) {
  const std::string_view text = sink.value;
  std::size_t examined = 0;
  for (std::uint32_t i = 0; i < inputs.size() && examined < kMaxSplitInputs; ++i) {
    const std::string_view v = inputs[i].value;
    std::size_t lf = v.find('\n');
    if (lf == std::string_view::npos) continue;
    ++examined;
    std::size_t start = 0;
    for (std::size_t k = 0; k < kMaxSplitBreaks && lf != std::string_view::npos; ++k) {
      const std::size_t next = v.find('\n', lf + 1);
      const bool last = next == std::string_view::npos;
      std::string_view before = v.substr(start, lf - start);
      std::string_view after = v.substr(lf + 1, (last ? v.size() : next) - lf - 1);
      start = lf + 1;
      lf = next;
      // A piece with a control byte (the CR of a CRLF) is dropped by the server: no line
      // shows it, and an input that only split there injected nothing.
      if (has_control_byte(before) || has_control_byte(after)) continue;
      before = trim_blanks(before, false, true);
      after = trim_blanks(after, true, !last);
      if (after.empty()) continue;
      th::Line first, second;
      if (!split_lines(text, before, after, last, &first, &second)) continue;
      Detection d;
      d.input = i;
      d.form = Form::kRaw;
      d.begin = static_cast<std::uint32_t>(first.value_end - before.size());
      d.end = static_cast<std::uint32_t>(second.value_begin + after.size());
      const std::string_view name = text.substr(second.begin, second.name_end - second.begin);
      d.reason = "input's line feed was written by the server as a header line of its own (it "
                 "splits a value at its line breaks into lines of the same name): added the "
                 "header line " + shown(name, 60) + ": " + shown(after, 60);
      d.tokens.push_back(note_token("header-field",
                                    text.substr(second.begin, second.end - second.begin),
                                    second.begin, second.end));
      out->push_back(std::move(d));
      break;
    }
  }
}

void detect_header(const SinkCheck& check, std::vector<Detection>* out) {
  const std::string_view text = check.sink->value;
  BreakCursor breaks(text);
  TerminatorCheck terminators(text);
  for (const Occurrence& occ : check.occurrences) {
    if (occ.end <= occ.begin || convicted(*out, occ.input)) continue;
    std::uint32_t brk = breaks.first_at_or_after(occ.begin);
    if (brk >= occ.end) continue;
    // A span that begins at the LF of a CRLF begins inside the application's own terminator: an
    // input of line breaks alone ("\n\r") matches the middle of "\r\n\r\n" at the end of any
    // block. Its next break, if the span holds one, is what it may have written.
    if (brk == occ.begin && brk > 0 && text[brk] == '\n' && text[brk - 1] == '\r') {
      const std::size_t next = common::find_any(text.substr(0, occ.end), "\r\n", brk + 1);
      if (next == std::string_view::npos) continue;
      brk = static_cast<std::uint32_t>(next);
    }
    if (terminators.is_applications(brk, occ.end)) continue;
    record(text, occ, out);
  }
}

}  // namespace vigil::detect
