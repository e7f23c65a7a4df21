#include "core/tokenize/html/html_tokenizer.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/common/ascii.hpp"

namespace vigil::tokenize::html {
namespace {

using common::is_alpha;

constexpr std::array<std::string_view, 11> kRawNames = {
    "", "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes",
    "noscript", "plaintext"};

// Earlier attributes a new one is compared with for duplicates. Real tags have a handful;
// the cap keeps a tag of a million attributes linear.
constexpr std::uint32_t kDuplicateWindow = 32;

}  // namespace

std::string_view token_kind_name(TokenKind kind) noexcept {
  switch (kind) {
    case TokenKind::kText: return "text";
    case TokenKind::kRawText: return "raw text";
    case TokenKind::kStartTag: return "start tag";
    case TokenKind::kEndTag: return "end tag";
    case TokenKind::kComment: return "comment";
    case TokenKind::kDoctype: return "doctype";
    case TokenKind::kEofInTag: return "unterminated tag";
  }
  return "?";
}

std::string_view raw_kind_name(RawKind kind) noexcept {
  auto i = static_cast<std::size_t>(kind);
  return i < kRawNames.size() ? kRawNames[i] : std::string_view();
}

RawKind raw_kind_of(std::string_view tag_name) noexcept {
  if (tag_name.size() < 3 || tag_name.size() > 9) return RawKind::kNone;
  for (std::size_t i = 1; i < kRawNames.size(); ++i)
    if (common::iequals(tag_name, kRawNames[i])) return static_cast<RawKind>(i);
  return RawKind::kNone;
}

std::string_view state_name(State state) noexcept {
  static constexpr std::string_view kNames[] = {
      "data", "RCDATA", "RAWTEXT", "script data", "PLAINTEXT", "tag open", "end tag open",
      "tag name", "RCDATA less-than sign", "RCDATA end tag open", "RCDATA end tag name",
      "RAWTEXT less-than sign", "RAWTEXT end tag open", "RAWTEXT end tag name",
      "script data less-than sign", "script data end tag open", "script data end tag name",
      "script data escape start", "script data escape start dash", "script data escaped",
      "script data escaped dash", "script data escaped dash dash",
      "script data escaped less-than sign", "script data escaped end tag open",
      "script data escaped end tag name", "script data double escape start",
      "script data double escaped", "script data double escaped dash",
      "script data double escaped dash dash", "script data double escaped less-than sign",
      "script data double escape end", "before attribute name", "attribute name",
      "after attribute name", "before attribute value", "attribute value (double-quoted)",
      "attribute value (single-quoted)", "attribute value (unquoted)",
      "after attribute value (quoted)", "self-closing start tag", "bogus comment",
      "markup declaration open", "comment start", "comment start dash", "comment",
      "comment less-than sign", "comment less-than sign bang",
      "comment less-than sign bang dash", "comment less-than sign bang dash dash",
      "comment end dash", "comment end", "comment end bang", "DOCTYPE"};
  auto i = static_cast<std::size_t>(state);
  return i < std::size(kNames) ? kNames[i] : std::string_view("?");
}

bool is_content_state(State s) noexcept {
  switch (s) {
    case State::kData:
    case State::kRcdata:
    case State::kRawtext:
    case State::kScriptData:
    case State::kPlaintext:
    case State::kTagOpen:
    case State::kEndTagOpen:
    case State::kRcdataLessThan:
    case State::kRcdataEndTagOpen:
    case State::kRcdataEndTagName:
    case State::kRawtextLessThan:
    case State::kRawtextEndTagOpen:
    case State::kRawtextEndTagName:
    case State::kScriptLessThan:
    case State::kScriptEndTagOpen:
    case State::kScriptEndTagName:
    case State::kScriptEscapeStart:
    case State::kScriptEscapeStartDash:
    case State::kScriptEscaped:
    case State::kScriptEscapedDash:
    case State::kScriptEscapedDashDash:
    case State::kScriptEscapedLessThan:
    case State::kScriptEscapedEndTagOpen:
    case State::kScriptEscapedEndTagName:
    case State::kScriptDoubleEscapeStart:
    case State::kScriptDoubleEscaped:
    case State::kScriptDoubleEscapedDash:
    case State::kScriptDoubleEscapedDashDash:
    case State::kScriptDoubleEscapedLessThan:
    case State::kScriptDoubleEscapeEnd:
      return true;
    default:
      return false;
  }
}

Tokenizer::Tokenizer(std::string_view text, TokenList* out) noexcept : text_(text), out_(out) {}

Tokenizer::Snapshot Tokenizer::snapshot() const noexcept {
  Snapshot s;
  s.state = state_;
  s.raw = raw_;
  s.kind = kind_;
  s.self_closing = self_closing_;
  s.pos = pos_;
  s.text_start = text_start_;
  s.lt = lt_;
  s.token_begin = token_begin_;
  s.name = name_;
  s.attr_count = attr_count_;
  s.temp_begin = temp_begin_;
  s.emitted = emitted_;
  return s;
}

void Tokenizer::restore(const Snapshot& s) noexcept {
  state_ = s.state;
  raw_ = s.raw;
  kind_ = s.kind;
  self_closing_ = s.self_closing;
  pos_ = s.pos;
  text_start_ = s.text_start;
  lt_ = s.lt;
  token_begin_ = s.token_begin;
  name_ = s.name;
  attr_count_ = s.attr_count;
  temp_begin_ = s.temp_begin;
  emitted_ = s.emitted;
  finished_ = false;
  vpos_ = UINT32_MAX;
  hole_begin_ = hole_end_ = UINT32_MAX;
}

void Tokenizer::feed_virtual(char c, std::uint32_t resume) {
  if (finished_) return;
  if (pos_ >= text_.size()) return;  // nothing to stand in for: the text ended
  vpos_ = pos_;
  vchar_ = c;
  hole_begin_ = pos_;
  const std::uint32_t target = pos_ + 1;
  while (pos_ < target) step(target);
  vpos_ = UINT32_MAX;
  hole_end_ = std::max<std::uint32_t>(resume, pos_);
  if (resume > pos_) pos_ = std::min<std::uint32_t>(resume, std::uint32_t(text_.size()));
}

State Tokenizer::content_state() const noexcept {
  switch (raw_) {
    case RawKind::kNone: return State::kData;
    case RawKind::kTitle:
    case RawKind::kTextarea: return State::kRcdata;
    case RawKind::kScript: return State::kScriptData;
    case RawKind::kPlaintext: return State::kPlaintext;
    default: return State::kRawtext;
  }
}

void Tokenizer::content_state_for(RawKind raw) {
  raw_ = raw;
  state_ = content_state();
}

void Tokenizer::flush_text(std::uint32_t upto) {
  if (upto > text_start_) {
    Token t;
    t.kind = (raw_ == RawKind::kNone || raw_ == RawKind::kTitle || raw_ == RawKind::kTextarea)
                 ? TokenKind::kText
                 : TokenKind::kRawText;
    t.after = content_state();
    t.raw = raw_;
    t.begin = text_start_;
    t.end = upto;
    t.opaque = t.begin <= hole_begin_ && t.end > hole_begin_;
    t.attr_begin = std::uint32_t(out_->attributes.size());
    out_->tokens.push_back(t);
  }
  text_start_ = upto;
}

void Tokenizer::begin_tag(TokenKind kind, std::uint32_t name_begin) {
  flush_text(lt_);
  kind_ = kind;
  token_begin_ = lt_;
  name_ = {name_begin, name_begin};
  attr_count_ = 0;
  self_closing_ = false;
}

void Tokenizer::begin_comment() {
  flush_text(lt_);
  kind_ = TokenKind::kComment;
  token_begin_ = lt_;
  name_ = {};
  attr_count_ = 0;
}

void Tokenizer::begin_attribute(std::uint32_t name_begin) {
  Attribute a;
  a.name = {name_begin, name_begin};
  out_->attributes.push_back(a);
  ++attr_count_;
}

void Tokenizer::end_attribute_name(std::uint32_t name_end) {
  if (attr_count_ == 0) return;
  Attribute& a = out_->attributes.back();
  a.name.end = name_end;
  if (a.name.begin <= hole_begin_ && a.name.end > hole_begin_) {
    a.opaque = true;
    return;
  }
  std::string_view name = text_.substr(a.name.begin, a.name.size());
  const std::size_t first = out_->attributes.size() - attr_count_;
  const std::size_t last = std::min<std::size_t>(out_->attributes.size() - 1,
                                                 first + kDuplicateWindow);
  for (std::size_t i = first; i < last; ++i) {
    const Attribute& b = out_->attributes[i];
    if (b.opaque || b.name.size() != a.name.size()) continue;
    if (common::iequals(text_.substr(b.name.begin, b.name.size()), name)) {
      a.duplicate = true;
      return;
    }
  }
}

void Tokenizer::emit_tag(std::uint32_t end) {
  Token t;
  t.kind = kind_;
  t.self_closing = self_closing_;
  t.begin = token_begin_;
  t.end = end;
  t.name = name_;
  t.attr_count = attr_count_;
  t.attr_begin = std::uint32_t(out_->attributes.size() - attr_count_);
  const bool opaque = name_.begin <= hole_begin_ && name_.end > hole_begin_;
  t.opaque = opaque;
  if (kind_ == TokenKind::kStartTag && !opaque && raw_ != RawKind::kPlaintext) {
    content_state_for(raw_kind_of(text_.substr(name_.begin, name_.size())));
  } else if (raw_ != RawKind::kPlaintext) {
    content_state_for(RawKind::kNone);
  }
  t.after = state_;
  t.raw = raw_;
  out_->tokens.push_back(t);
  ++emitted_;
  attr_count_ = 0;
  text_start_ = end;
}

void Tokenizer::emit_comment(TokenKind kind, std::uint32_t end) {
  Token t;
  t.kind = kind;
  t.begin = token_begin_;
  t.end = end;
  t.attr_begin = std::uint32_t(out_->attributes.size());
  state_ = content_state();
  t.after = state_;
  t.raw = raw_;
  out_->tokens.push_back(t);
  ++emitted_;
  text_start_ = end;
}

bool Tokenizer::appropriate_end_tag(std::uint32_t name_end) const noexcept {
  if (temp_begin_ <= hole_begin_ && name_end > hole_begin_) return false;
  std::string_view want = raw_kind_name(raw_);
  if (want.empty() || name_end - temp_begin_ != want.size()) return false;
  return common::iequals(text_.substr(temp_begin_, want.size()), want);
}

bool Tokenizer::temp_is_script(std::uint32_t end) const noexcept {
  if (temp_begin_ <= hole_begin_ && end > hole_begin_) return false;
  return end - temp_begin_ == 6 && common::iequals(text_.substr(temp_begin_, 6), "script");
}

void Tokenizer::run_to(std::uint32_t limit) {
  if (finished_) return;
  limit = std::min<std::uint32_t>(limit, std::uint32_t(text_.size()));
  while (pos_ < limit) step(limit);
}

void Tokenizer::flush_pending_text() {
  if (finished_ || !is_content_state(state_)) return;
  // After a '<' that may still start a tag, that '<' and what follows stay pending.
  bool after_lt = false;
  switch (state_) {
    case State::kTagOpen: case State::kEndTagOpen:
    case State::kRcdataLessThan: case State::kRcdataEndTagOpen: case State::kRcdataEndTagName:
    case State::kRawtextLessThan: case State::kRawtextEndTagOpen:
    case State::kRawtextEndTagName: case State::kScriptLessThan: case State::kScriptEndTagOpen:
    case State::kScriptEndTagName: case State::kScriptEscapedLessThan:
    case State::kScriptEscapedEndTagOpen: case State::kScriptEscapedEndTagName:
      after_lt = true;
      break;
    default:
      break;
  }
  flush_text(after_lt ? std::max(text_start_, std::min(lt_, pos_)) : pos_);
}

void Tokenizer::run_until_emit(std::uint32_t limit) {
  if (finished_) return;
  limit = std::min<std::uint32_t>(limit, std::uint32_t(text_.size()));
  const std::uint32_t before = emitted_;
  while (pos_ < limit && emitted_ == before) step(limit);
  if (emitted_ == before && pos_ >= text_.size()) finish();
}

// One transition (or a run of them over bytes that change nothing). "Reconsume" is a state
// change without advancing pos_.
void Tokenizer::step(std::uint32_t limit) {
  const char* const t = text_.data();
  const bool fast = vpos_ == UINT32_MAX;
  auto scan1 = [&](char a) {
    if (!fast) return;
    const void* p = std::memchr(t + pos_, a, limit - pos_);
    pos_ = p ? std::uint32_t(static_cast<const char*>(p) - t) : limit;
  };
  auto scan2 = [&](char a, char b) {
    if (!fast) return;
    std::uint32_t p = pos_;
    while (p < limit && t[p] != a && t[p] != b) ++p;
    pos_ = p;
  };
  auto is_end_of_name = [](char ch) { return is_html_space(ch) || ch == '/' || ch == '>'; };

  // Candidate end tag name in RCDATA / RAWTEXT / script data (escaped): the shared logic.
  auto end_tag_name = [&](State fallback) {
    const char ch = at(pos_);
    if (is_end_of_name(ch)) {
      if (appropriate_end_tag(pos_)) {
        begin_tag(TokenKind::kEndTag, temp_begin_);
        name_.end = pos_;
        ++pos_;
        if (ch == '>') {
          emit_tag(pos_);
        } else {
          state_ = ch == '/' ? State::kSelfClosingStartTag : State::kBeforeAttrName;
        }
        return;
      }
      state_ = fallback;
    } else if (is_alpha(ch)) {
      ++pos_;
    } else {
      state_ = fallback;
    }
  };

  switch (state_) {
    case State::kData:
      scan1('<');
      if (pos_ >= limit) return;
      if (at(pos_) == '<') {
        lt_ = pos_;
        state_ = State::kTagOpen;
      }
      ++pos_;
      return;

    case State::kRcdata:
    case State::kRawtext:
    case State::kScriptData:
      scan1('<');
      if (pos_ >= limit) return;
      if (at(pos_) == '<') {
        lt_ = pos_;
        state_ = state_ == State::kRcdata    ? State::kRcdataLessThan
                 : state_ == State::kRawtext ? State::kRawtextLessThan
                                             : State::kScriptLessThan;
      }
      ++pos_;
      return;

    case State::kPlaintext:
      pos_ = fast ? limit : pos_ + 1;
      return;

    case State::kTagOpen: {
      const char c = at(pos_);
      if (c == '!') {
        state_ = State::kMarkupDeclarationOpen;
        ++pos_;
      } else if (c == '/') {
        state_ = State::kEndTagOpen;
        ++pos_;
      } else if (is_alpha(c)) {
        begin_tag(TokenKind::kStartTag, pos_);
        state_ = State::kTagName;
      } else if (c == '?') {
        begin_comment();
        state_ = State::kBogusComment;
      } else {
        state_ = State::kData;  // the '<' was text
      }
      return;
    }

    case State::kEndTagOpen: {
      const char c = at(pos_);
      if (is_alpha(c)) {
        begin_tag(TokenKind::kEndTag, pos_);
        state_ = State::kTagName;
      } else if (c == '>') {
        flush_text(lt_);  // "</>" is dropped without a token
        ++pos_;
        text_start_ = pos_;
        state_ = State::kData;
      } else {
        begin_comment();
        state_ = State::kBogusComment;
      }
      return;
    }

    case State::kTagName: {
      if (fast) {
        while (pos_ < limit && !is_end_of_name(t[pos_])) ++pos_;
        if (pos_ >= limit) return;
      }
      const char c = at(pos_);
      if (is_html_space(c)) {
        name_.end = pos_;
        state_ = State::kBeforeAttrName;
        ++pos_;
      } else if (c == '/') {
        name_.end = pos_;
        state_ = State::kSelfClosingStartTag;
        ++pos_;
      } else if (c == '>') {
        name_.end = pos_;
        ++pos_;
        emit_tag(pos_);
      } else {
        ++pos_;
        name_.end = pos_;
      }
      return;
    }

    case State::kRcdataLessThan:
    case State::kRawtextLessThan:
      if (at(pos_) == '/') {
        temp_begin_ = pos_ + 1;
        state_ = state_ == State::kRcdataLessThan ? State::kRcdataEndTagOpen
                                                  : State::kRawtextEndTagOpen;
        ++pos_;
      } else {
        state_ = state_ == State::kRcdataLessThan ? State::kRcdata : State::kRawtext;
      }
      return;

    case State::kRcdataEndTagOpen:
      state_ = is_alpha(at(pos_)) ? State::kRcdataEndTagName : State::kRcdata;
      return;
    case State::kRawtextEndTagOpen:
      state_ = is_alpha(at(pos_)) ? State::kRawtextEndTagName : State::kRawtext;
      return;
    case State::kScriptEndTagOpen:
      state_ = is_alpha(at(pos_)) ? State::kScriptEndTagName : State::kScriptData;
      return;
    case State::kScriptEscapedEndTagOpen:
      state_ = is_alpha(at(pos_)) ? State::kScriptEscapedEndTagName : State::kScriptEscaped;
      return;

    case State::kRcdataEndTagName: end_tag_name(State::kRcdata); return;
    case State::kRawtextEndTagName: end_tag_name(State::kRawtext); return;
    case State::kScriptEndTagName: end_tag_name(State::kScriptData); return;
    case State::kScriptEscapedEndTagName: end_tag_name(State::kScriptEscaped); return;

    case State::kScriptLessThan: {
      const char c = at(pos_);
      if (c == '/') {
        temp_begin_ = pos_ + 1;
        state_ = State::kScriptEndTagOpen;
        ++pos_;
      } else if (c == '!') {
        state_ = State::kScriptEscapeStart;
        ++pos_;
      } else {
        state_ = State::kScriptData;
      }
      return;
    }
    case State::kScriptEscapeStart:
      if (at(pos_) == '-') {
        state_ = State::kScriptEscapeStartDash;
        ++pos_;
      } else {
        state_ = State::kScriptData;
      }
      return;
    case State::kScriptEscapeStartDash:
      if (at(pos_) == '-') {
        state_ = State::kScriptEscapedDashDash;
        ++pos_;
      } else {
        state_ = State::kScriptData;
      }
      return;
    case State::kScriptEscaped:
      scan2('-', '<');
      if (pos_ >= limit) return;
      if (at(pos_) == '-') {
        state_ = State::kScriptEscapedDash;
      } else if (at(pos_) == '<') {
        lt_ = pos_;
        state_ = State::kScriptEscapedLessThan;
      }
      ++pos_;
      return;
    case State::kScriptEscapedDash:
    case State::kScriptEscapedDashDash: {
      const char c = at(pos_);
      if (c == '-') {
        state_ = State::kScriptEscapedDashDash;
      } else if (c == '<') {
        lt_ = pos_;
        state_ = State::kScriptEscapedLessThan;
      } else if (c == '>' && state_ == State::kScriptEscapedDashDash) {
        state_ = State::kScriptData;
      } else {
        state_ = State::kScriptEscaped;
      }
      ++pos_;
      return;
    }
    case State::kScriptEscapedLessThan: {
      const char c = at(pos_);
      if (c == '/') {
        temp_begin_ = pos_ + 1;
        state_ = State::kScriptEscapedEndTagOpen;
        ++pos_;
      } else if (is_alpha(c)) {
        temp_begin_ = pos_;
        state_ = State::kScriptDoubleEscapeStart;
      } else {
        state_ = State::kScriptEscaped;
      }
      return;
    }
    case State::kScriptDoubleEscapeStart: {
      const char c = at(pos_);
      if (is_end_of_name(c)) {
        state_ = temp_is_script(pos_) ? State::kScriptDoubleEscaped : State::kScriptEscaped;
        ++pos_;
      } else if (is_alpha(c)) {
        ++pos_;
      } else {
        state_ = State::kScriptEscaped;
      }
      return;
    }
    case State::kScriptDoubleEscaped:
      scan2('-', '<');
      if (pos_ >= limit) return;
      if (at(pos_) == '-') {
        state_ = State::kScriptDoubleEscapedDash;
      } else if (at(pos_) == '<') {
        state_ = State::kScriptDoubleEscapedLessThan;
      }
      ++pos_;
      return;
    case State::kScriptDoubleEscapedDash:
    case State::kScriptDoubleEscapedDashDash: {
      const char c = at(pos_);
      if (c == '-') {
        state_ = State::kScriptDoubleEscapedDashDash;
      } else if (c == '<') {
        state_ = State::kScriptDoubleEscapedLessThan;
      } else if (c == '>' && state_ == State::kScriptDoubleEscapedDashDash) {
        state_ = State::kScriptData;
      } else {
        state_ = State::kScriptDoubleEscaped;
      }
      ++pos_;
      return;
    }
    case State::kScriptDoubleEscapedLessThan:
      if (at(pos_) == '/') {
        temp_begin_ = pos_ + 1;
        state_ = State::kScriptDoubleEscapeEnd;
        ++pos_;
      } else {
        state_ = State::kScriptDoubleEscaped;
      }
      return;
    case State::kScriptDoubleEscapeEnd: {
      const char c = at(pos_);
      if (is_end_of_name(c)) {
        state_ = temp_is_script(pos_) ? State::kScriptEscaped : State::kScriptDoubleEscaped;
        ++pos_;
      } else if (is_alpha(c)) {
        ++pos_;
      } else {
        state_ = State::kScriptDoubleEscaped;
      }
      return;
    }

    case State::kBeforeAttrName: {
      const char c = at(pos_);
      if (is_html_space(c)) {
        ++pos_;
      } else if (c == '/' || c == '>') {
        state_ = State::kAfterAttrName;
      } else {
        begin_attribute(pos_);
        state_ = State::kAttrName;
        if (c == '=') ++pos_;  // a leading '=' is part of the name
      }
      return;
    }
    case State::kAttrName: {
      if (fast) {
        while (pos_ < limit && !is_end_of_name(t[pos_]) && t[pos_] != '=') ++pos_;
        if (pos_ >= limit) return;
      }
      const char c = at(pos_);
      if (is_end_of_name(c)) {
        end_attribute_name(pos_);
        state_ = State::kAfterAttrName;
      } else if (c == '=') {
        end_attribute_name(pos_);
        state_ = State::kBeforeAttrValue;
        ++pos_;
      } else {
        ++pos_;
      }
      return;
    }
    case State::kAfterAttrName: {
      const char c = at(pos_);
      if (is_html_space(c)) {
        ++pos_;
      } else if (c == '/') {
        state_ = State::kSelfClosingStartTag;
        ++pos_;
      } else if (c == '=') {
        state_ = State::kBeforeAttrValue;
        ++pos_;
      } else if (c == '>') {
        ++pos_;
        emit_tag(pos_);
      } else {
        begin_attribute(pos_);
        state_ = State::kAttrName;
      }
      return;
    }
    case State::kBeforeAttrValue: {
      const char c = at(pos_);
      Attribute& a = out_->attributes.back();  // attr_count_ > 0 in this state
      if (is_html_space(c)) {
        ++pos_;
      } else if (c == '"' || c == '\'') {
        a.quote = c == '"' ? Quote::kDouble : Quote::kSingle;
        a.value = {pos_ + 1, pos_ + 1};
        state_ = c == '"' ? State::kAttrValueDouble : State::kAttrValueSingle;
        ++pos_;
      } else if (c == '>') {
        ++pos_;
        emit_tag(pos_);
      } else {
        a.quote = Quote::kUnquoted;
        a.value = {pos_, pos_};
        state_ = State::kAttrValueUnquoted;
      }
      return;
    }
    case State::kAttrValueDouble:
    case State::kAttrValueSingle: {
      const char q = state_ == State::kAttrValueDouble ? '"' : '\'';
      scan1(q);
      if (pos_ >= limit) return;
      if (at(pos_) == q) {
        out_->attributes.back().value.end = pos_;
        state_ = State::kAfterAttrValueQuoted;
      }
      ++pos_;
      return;
    }
    case State::kAttrValueUnquoted: {
      if (fast) {
        while (pos_ < limit && !is_html_space(t[pos_]) && t[pos_] != '>') ++pos_;
        if (pos_ >= limit) return;
      }
      const char c = at(pos_);
      if (is_html_space(c)) {
        out_->attributes.back().value.end = pos_;
        state_ = State::kBeforeAttrName;
        ++pos_;
      } else if (c == '>') {
        out_->attributes.back().value.end = pos_;
        ++pos_;
        emit_tag(pos_);
      } else {
        ++pos_;
      }
      return;
    }
    case State::kAfterAttrValueQuoted: {
      const char c = at(pos_);
      if (is_html_space(c)) {
        state_ = State::kBeforeAttrName;
        ++pos_;
      } else if (c == '/') {
        state_ = State::kSelfClosingStartTag;
        ++pos_;
      } else if (c == '>') {
        ++pos_;
        emit_tag(pos_);
      } else {
        state_ = State::kBeforeAttrName;
      }
      return;
    }
    case State::kSelfClosingStartTag:
      if (at(pos_) == '>') {
        self_closing_ = true;
        ++pos_;
        emit_tag(pos_);
      } else {
        state_ = State::kBeforeAttrName;
      }
      return;

    case State::kBogusComment:
    case State::kDoctype:
      scan1('>');
      if (pos_ >= limit) return;
      if (at(pos_) == '>') {
        ++pos_;
        emit_comment(state_ == State::kDoctype ? TokenKind::kDoctype : TokenKind::kComment, pos_);
        return;
      }
      ++pos_;
      return;

    case State::kMarkupDeclarationOpen: {
      std::string_view rest = text_.substr(pos_);
      begin_comment();
      if (fast && rest.size() >= 2 && rest[0] == '-' && rest[1] == '-') {
        pos_ += 2;
        state_ = State::kCommentStart;
      } else if (fast && common::istarts_with(rest, "doctype")) {
        pos_ += 7;
        state_ = State::kDoctype;
      } else if (fast && rest.substr(0, 7) == "[CDATA[") {
        pos_ += 7;  // CDATA outside foreign content: a bogus comment
        state_ = State::kBogusComment;
      } else {
        state_ = State::kBogusComment;
      }
      return;
    }
    case State::kCommentStart: {
      const char c = at(pos_);
      if (c == '-') {
        state_ = State::kCommentStartDash;
        ++pos_;
      } else if (c == '>') {  // "<!-->"
        ++pos_;
        emit_comment(TokenKind::kComment, pos_);
      } else {
        state_ = State::kComment;
      }
      return;
    }
    case State::kCommentStartDash: {
      const char c = at(pos_);
      if (c == '-') {
        state_ = State::kCommentEnd;
        ++pos_;
      } else if (c == '>') {  // "<!--->"
        ++pos_;
        emit_comment(TokenKind::kComment, pos_);
      } else {
        state_ = State::kComment;
      }
      return;
    }
    case State::kComment:
      scan2('<', '-');
      if (pos_ >= limit) return;
      if (at(pos_) == '<') {
        state_ = State::kCommentLessThan;
      } else if (at(pos_) == '-') {
        state_ = State::kCommentEndDash;
      }
      ++pos_;
      return;
    case State::kCommentLessThan: {
      const char c = at(pos_);
      if (c == '!') {
        state_ = State::kCommentLessThanBang;
        ++pos_;
      } else if (c == '<') {
        ++pos_;
      } else {
        state_ = State::kComment;
      }
      return;
    }
    case State::kCommentLessThanBang:
      if (at(pos_) == '-') {
        state_ = State::kCommentLessThanBangDash;
        ++pos_;
      } else {
        state_ = State::kComment;
      }
      return;
    case State::kCommentLessThanBangDash:
      if (at(pos_) == '-') {
        state_ = State::kCommentLessThanBangDashDash;
        ++pos_;
      } else {
        state_ = State::kCommentEndDash;
      }
      return;
    case State::kCommentLessThanBangDashDash:
      state_ = State::kCommentEnd;  // nested "<!--" is a parse error only
      return;
    case State::kCommentEndDash:
      if (at(pos_) == '-') {
        state_ = State::kCommentEnd;
        ++pos_;
      } else {
        state_ = State::kComment;
      }
      return;
    case State::kCommentEnd: {
      const char c = at(pos_);
      if (c == '>') {
        ++pos_;
        emit_comment(TokenKind::kComment, pos_);
      } else if (c == '!') {
        state_ = State::kCommentEndBang;
        ++pos_;
      } else if (c == '-') {
        ++pos_;
      } else {
        state_ = State::kComment;
      }
      return;
    }
    case State::kCommentEndBang: {
      const char c = at(pos_);
      if (c == '-') {
        state_ = State::kCommentEndDash;
        ++pos_;
      } else if (c == '>') {  // "--!>"
        ++pos_;
        emit_comment(TokenKind::kComment, pos_);
      } else {
        state_ = State::kComment;
      }
      return;
    }
  }
  ++pos_;  // unreachable with a valid state; never loop forever
}

void Tokenizer::finish() {
  if (finished_) return;
  run_to(std::uint32_t(text_.size()));
  const std::uint32_t end = std::uint32_t(text_.size());
  if (is_content_state(state_)) {
    flush_text(end);
  } else {
    switch (state_) {
      case State::kMarkupDeclarationOpen:
      case State::kBogusComment:
        if (state_ == State::kMarkupDeclarationOpen) begin_comment();
        emit_comment(TokenKind::kComment, end);
        out_->tokens.back().unterminated = true;
        break;
      case State::kDoctype:
        emit_comment(TokenKind::kDoctype, end);
        out_->tokens.back().unterminated = true;
        break;
      case State::kCommentStart:
      case State::kCommentStartDash:
      case State::kComment:
      case State::kCommentLessThan:
      case State::kCommentLessThanBang:
      case State::kCommentLessThanBangDash:
      case State::kCommentLessThanBangDashDash:
      case State::kCommentEndDash:
      case State::kCommentEnd:
      case State::kCommentEndBang:
        emit_comment(TokenKind::kComment, end);
        out_->tokens.back().unterminated = true;
        break;
      default: {  // inside a tag: the parser drops it
        if (state_ == State::kTagName) name_.end = end;
        if (attr_count_ > 0) {
          Attribute& a = out_->attributes.back();
          if (state_ == State::kAttrName) end_attribute_name(end);
          if (state_ == State::kAttrValueDouble || state_ == State::kAttrValueSingle ||
              state_ == State::kAttrValueUnquoted)
            a.value.end = end;
        }
        kind_ = TokenKind::kEofInTag;
        const RawKind keep = raw_;
        emit_tag(end);
        raw_ = keep;
        out_->tokens.back().raw = keep;
        break;
      }
    }
  }
  finished_ = true;
}

void tokenize(std::string_view text, TokenList* out) {
  out->clear();
  Tokenizer tz(text, out);
  tz.finish();
}

namespace {

struct NamedRef {
  std::string_view name;
  std::uint32_t cp;
  bool legacy;  // recognised without ';'
};

// The named references that stand for ASCII (and NBSP): enough to read a URL's scheme and to
// find where a reference ends. Sorted by name (byte order).
constexpr NamedRef kNamedRefs[] = {
    {"AMP", '&', true},          {"DiacriticalGrave", '`', false}, {"GT", '>', true},
    {"Hat", '^', false},         {"LT", '<', true},                {"NewLine", '\n', false},
    {"QUOT", '"', true},         {"Tab", '\t', false},             {"UnderBar", '_', false},
    {"VerticalLine", '|', false}, {"amp", '&', true},              {"apos", '\'', false},
    {"ast", '*', false},         {"bsol", '\\', false},            {"colon", ':', false},
    {"comma", ',', false},       {"commat", '@', false},           {"dollar", '$', false},
    {"equals", '=', false},      {"excl", '!', false},             {"grave", '`', false},
    {"gt", '>', true},           {"lbrace", '{', false},           {"lbrack", '[', false},
    {"lcub", '{', false},        {"lowbar", '_', false},           {"lpar", '(', false},
    {"lsqb", '[', false},        {"lt", '<', true},                {"midast", '*', false},
    {"nbsp", 0xA0, true},        {"num", '#', false},              {"percnt", '%', false},
    {"period", '.', false},      {"plus", '+', false},             {"quest", '?', false},
    {"quot", '"', true},         {"rbrace", '}', false},           {"rbrack", ']', false},
    {"rcub", '}', false},        {"rpar", ')', false},             {"rsqb", ']', false},
    {"semi", ';', false},        {"sol", '/', false},              {"verbar", '|', false},
    {"vert", '|', false},
};

const NamedRef* find_named(std::string_view name) {
  auto it = std::lower_bound(std::begin(kNamedRefs), std::end(kNamedRefs), name,
                             [](const NamedRef& r, std::string_view n) { return r.name < n; });
  return (it != std::end(kNamedRefs) && it->name == name) ? it : nullptr;
}

}  // namespace

std::size_t char_ref_length(std::string_view text, std::size_t pos, std::uint32_t* code_point) {
  *code_point = 0;
  if (pos >= text.size() || text[pos] != '&') return 0;
  std::size_t i = pos + 1;
  if (i < text.size() && text[i] == '#') {
    ++i;
    bool hex = i < text.size() && (text[i] == 'x' || text[i] == 'X');
    if (hex) ++i;
    std::size_t digits_begin = i;
    std::uint32_t v = 0;
    while (i < text.size() && (hex ? common::is_xdigit(text[i]) : common::is_digit(text[i]))) {
      v = std::min<std::uint32_t>(v * (hex ? 16 : 10) + std::uint32_t(common::hex_value(text[i])),
                                  0x110000);
      ++i;
    }
    if (i == digits_begin) return 0;
    if (i < text.size() && text[i] == ';') ++i;
    if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) v = 0xFFFD;
    *code_point = v;
    return i - pos;
  }
  std::size_t name_begin = i;
  while (i < text.size() && common::is_alnum(text[i]) && i - name_begin < 32) ++i;
  if (i == name_begin) return 0;
  std::string_view name = text.substr(name_begin, i - name_begin);
  if (i < text.size() && text[i] == ';') {
    if (const NamedRef* r = find_named(name)) *code_point = r->cp;
    return i + 1 - pos;
  }
  // Without ';': the longest legacy name that prefixes the run.
  for (std::size_t n = std::min<std::size_t>(name.size(), 4); n >= 2; --n) {
    const NamedRef* r = find_named(name.substr(0, n));
    if (r != nullptr && r->legacy) {
      *code_point = r->cp;
      return 1 + n;
    }
  }
  return 0;
}

}  // namespace vigil::tokenize::html
