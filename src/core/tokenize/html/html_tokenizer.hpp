// HTML tokenizer: the WHATWG tokenization state machine, zero-copy.
//
// Tokens are byte spans into the text the tokenizer was given; nothing is copied or decoded.
// The machine follows HTML Standard §13.2.5 state by state for everything that decides where a
// token starts and ends: data, tag open, end tag open, tag name, the attribute name and value
// states, self-closing start tag, markup declaration open, every comment state (including the
// abrupt `<!-->` and `--!>` endings), bogus comments, and the RCDATA / RAWTEXT / script data
// states with the script data escaped and double-escaped states (`<!--<script>` inside a script
// hides a `</script>`). Simplifications that never move a token boundary:
//   - character references are not decoded (they cannot end a token); see char_ref_length();
//   - a DOCTYPE runs to the next `>` (every DOCTYPE state ends the token at `>` anyway);
//   - `<![CDATA[` is a bogus comment (as in HTML content);
//   - CR and CR LF count as white space, as after the standard's newline normalisation.
// The switch to RCDATA/RAWTEXT/script data/PLAINTEXT that the tree builder makes after
// <title>, <textarea>, <style>, <xmp>, <iframe>, <noembed>, <noframes>, <noscript> (scripting
// enabled, as in browsers), <script> and <plaintext> start tags is made by the tokenizer itself,
// also inside <svg>/<math> where a parser would not make it (there the element that starts the
// foreign content is new markup already, which is what the detector needs to know).
//
// Complexity: linear in the text; each byte is examined a bounded number of times (runs of
// text, attribute values and comments are skipped with memchr). No recursion, no exceptions;
// the only allocation is the growth of the caller's TokenList.
// Thread safety: a Tokenizer is used by one thread; distinct Tokenizers are independent.
#ifndef VIGIL_CORE_TOKENIZE_HTML_HTML_TOKENIZER_HPP_
#define VIGIL_CORE_TOKENIZE_HTML_HTML_TOKENIZER_HPP_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace vigil::tokenize::html {

// A byte range [begin, end) of the tokenized text.
struct Span {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::uint32_t size() const noexcept { return end - begin; }
  bool empty() const noexcept { return end <= begin; }
  bool contains(std::uint32_t pos) const noexcept { return pos >= begin && pos < end; }
};

enum class TokenKind : std::uint8_t {
  kText,      // character data in the data or RCDATA state (<title>, <textarea> content)
  kRawText,   // content of a RAWTEXT, script data or PLAINTEXT element (<style>, <script>...)
  kStartTag,  // <name attr=value ...> (also self-closing <name/>)
  kEndTag,    // </name ...>; attributes on an end tag are kept but mean nothing to a parser
  kComment,   // <!-- ... -->, <!-->, <!--->, bogus comments <? ...>, </1 ...>, <!x ...>
  kDoctype,   // <!DOCTYPE ...>
  kEofInTag,  // a tag the text ended inside of: a parser drops it (its span runs to the end)
};
std::string_view token_kind_name(TokenKind kind) noexcept;

// How an attribute value was written.
enum class Quote : std::uint8_t { kNone, kDouble, kSingle, kUnquoted };

struct Attribute {
  Span name;
  Span value;  // empty for kNone; the text between the quotes for quoted values
  Quote quote = Quote::kNone;
  // The same name (ASCII case-insensitively) came earlier in the tag: a parser drops this one.
  bool duplicate = false;
  // Only in tokens of a tokenizer that was fed a virtual character: the name contains it, so
  // its text is not name.begin..name.end of the real text.
  bool opaque = false;
};

// The elements whose content the tokenizer reads as raw text, and which end tag ends it.
enum class RawKind : std::uint8_t {
  kNone,
  kScript,
  kStyle,
  kTextarea,
  kTitle,
  kXmp,
  kIframe,
  kNoembed,
  kNoframes,
  kNoscript,
  kPlaintext,
};
// "script", "style", ... ("" for kNone).
std::string_view raw_kind_name(RawKind kind) noexcept;
// The raw-text kind a start tag of this (any-case) name switches to; kNone for other names.
RawKind raw_kind_of(std::string_view tag_name) noexcept;

// Every state of the machine (HTML Standard names). The "content" states are those in which no
// token is pending: kData, kRcdata, kRawtext, kScriptData and the script escaped states,
// kPlaintext (and the transient "less-than sign" states that follow them).
enum class State : std::uint8_t {
  kData,
  kRcdata,
  kRawtext,
  kScriptData,
  kPlaintext,
  kTagOpen,
  kEndTagOpen,
  kTagName,
  kRcdataLessThan,
  kRcdataEndTagOpen,
  kRcdataEndTagName,
  kRawtextLessThan,
  kRawtextEndTagOpen,
  kRawtextEndTagName,
  kScriptLessThan,
  kScriptEndTagOpen,
  kScriptEndTagName,
  kScriptEscapeStart,
  kScriptEscapeStartDash,
  kScriptEscaped,
  kScriptEscapedDash,
  kScriptEscapedDashDash,
  kScriptEscapedLessThan,
  kScriptEscapedEndTagOpen,
  kScriptEscapedEndTagName,
  kScriptDoubleEscapeStart,
  kScriptDoubleEscaped,
  kScriptDoubleEscapedDash,
  kScriptDoubleEscapedDashDash,
  kScriptDoubleEscapedLessThan,
  kScriptDoubleEscapeEnd,
  kBeforeAttrName,
  kAttrName,
  kAfterAttrName,
  kBeforeAttrValue,
  kAttrValueDouble,
  kAttrValueSingle,
  kAttrValueUnquoted,
  kAfterAttrValueQuoted,
  kSelfClosingStartTag,
  kBogusComment,
  kMarkupDeclarationOpen,
  kCommentStart,
  kCommentStartDash,
  kComment,
  kCommentLessThan,
  kCommentLessThanBang,
  kCommentLessThanBangDash,
  kCommentLessThanBangDashDash,
  kCommentEndDash,
  kCommentEnd,
  kCommentEndBang,
  kDoctype,
};
std::string_view state_name(State state) noexcept;
// True for states in which no tag, comment or DOCTYPE token is pending.
bool is_content_state(State state) noexcept;

struct Token {
  TokenKind kind = TokenKind::kText;
  bool self_closing = false;
  // Only in tokens of a tokenizer fed a virtual character: the tag name (text: the text)
  // contains it.
  bool opaque = false;
  // A comment or DOCTYPE the end of the text cut off (a parser still makes it a node).
  bool unterminated = false;
  // The content state the tokenizer is in after this token (for text: the state it was read
  // in), and the raw-text element whose end tag would end that content.
  State after = State::kData;
  RawKind raw = RawKind::kNone;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  Span name;  // tags: the tag name; empty otherwise
  std::uint32_t attr_begin = 0;  // tags: index of the first attribute in TokenList::attributes
  std::uint32_t attr_count = 0;

  Span span() const noexcept { return {begin, end}; }
  bool is_tag() const noexcept {
    return kind == TokenKind::kStartTag || kind == TokenKind::kEndTag ||
           kind == TokenKind::kEofInTag;
  }
  // Text and raw text: what lies between the structural tokens.
  bool is_text() const noexcept { return kind == TokenKind::kText || kind == TokenKind::kRawText; }
};

// The output of a tokenizer: tokens in text order (non-overlapping; bytes a parser drops
// without a token, such as `</>`, fall between them) and the attributes of all tags.
// Reusable: clear() keeps the capacity.
struct TokenList {
  std::vector<Token> tokens;
  std::vector<Attribute> attributes;

  void clear() noexcept {
    tokens.clear();
    attributes.clear();
  }
  std::span<const Attribute> attributes_of(const Token& t) const noexcept {
    return {attributes.data() + t.attr_begin, t.attr_count};
  }
};

// The resumable machine. Typical use:
//   Tokenizer tz(text, &list);  tz.run_to(text.size());  tz.finish();
// run_to() may be called with increasing limits to observe the state at chosen positions
// (the detector does this at every place an input occurs).
class Tokenizer {
 public:
  // Everything the machine remembers, except the attributes of the pending tag (which are the
  // last `attr_count` entries of the output's attribute vector).
  struct Snapshot {
    State state = State::kData;
    RawKind raw = RawKind::kNone;
    TokenKind kind = TokenKind::kText;  // of the pending token
    bool self_closing = false;
    std::uint32_t pos = 0;
    std::uint32_t text_start = 0;   // start of the pending run of text
    std::uint32_t lt = 0;           // the '<' that may start a token
    std::uint32_t token_begin = 0;  // start of the pending token
    Span name;
    std::uint32_t attr_count = 0;   // attributes of the pending tag so far
    std::uint32_t temp_begin = 0;   // start of a candidate end tag name / "script" buffer
    std::uint32_t emitted = 0;      // structural (non-text) tokens emitted so far
  };

  // REQUIRES: text.size() < 2^32 - 1. `out` is appended to, and must outlive the tokenizer.
  Tokenizer(std::string_view text, TokenList* out) noexcept;

  // Consumes the text up to `limit` (clamped to its size). Tokens that end on the way are
  // appended to the output; a token still open at `limit` stays pending.
  void run_to(std::uint32_t limit);
  // Consumes the text until a structural token is emitted or `limit` is reached; at the end of
  // the text it calls finish().
  void run_until_emit(std::uint32_t limit);
  // In a content state: emits the text read so far (up to a '<' that may still start a tag)
  // as a token, so that the output covers everything consumed. The run goes on afterwards.
  void flush_pending_text();
  // Ends the text: flushes pending text, emits a pending comment or DOCTYPE, and turns a
  // pending tag into kEofInTag. Idempotent.
  void finish();

  Snapshot snapshot() const noexcept;
  // Restores a snapshot taken from a tokenizer over the same text. The caller provides the
  // pending tag's attributes (`attr_count` of them) as the last entries of this tokenizer's
  // output attributes.
  void restore(const Snapshot& s) noexcept;
  // Consumes the virtual character `c` at the current position instead of the text's byte,
  // then continues reading the text at `resume` (>= the current position). Spans of pending
  // tokens then straddle the skipped bytes; names that do are marked opaque.
  void feed_virtual(char c, std::uint32_t resume);

  std::uint32_t position() const noexcept { return pos_; }
  State state() const noexcept { return state_; }
  RawKind raw_kind() const noexcept { return raw_; }
  // Structural tokens (tags, comments, DOCTYPEs) emitted so far.
  std::uint32_t emitted() const noexcept { return emitted_; }
  bool finished() const noexcept { return finished_; }

 private:
  char at(std::uint32_t p) const noexcept { return p == vpos_ ? vchar_ : text_[p]; }
  void step(std::uint32_t limit);
  void flush_text(std::uint32_t upto);
  void begin_tag(TokenKind kind, std::uint32_t name_begin);
  void begin_comment();
  void begin_attribute(std::uint32_t name_begin);
  void end_attribute_name(std::uint32_t name_end);
  void emit_tag(std::uint32_t end);
  void emit_comment(TokenKind kind, std::uint32_t end);
  bool appropriate_end_tag(std::uint32_t name_end) const noexcept;
  bool temp_is_script(std::uint32_t end) const noexcept;
  void content_state_for(RawKind raw);
  State content_state() const noexcept;

  std::string_view text_;
  TokenList* out_;
  State state_ = State::kData;
  RawKind raw_ = RawKind::kNone;
  TokenKind kind_ = TokenKind::kText;
  bool self_closing_ = false;
  bool finished_ = false;
  std::uint32_t pos_ = 0;
  std::uint32_t text_start_ = 0;
  std::uint32_t lt_ = 0;
  std::uint32_t token_begin_ = 0;
  Span name_;
  std::uint32_t attr_count_ = 0;
  std::uint32_t temp_begin_ = 0;
  std::uint32_t emitted_ = 0;
  std::uint32_t vpos_ = UINT32_MAX;  // position of the virtual character, if any
  char vchar_ = 0;
  std::uint32_t hole_begin_ = UINT32_MAX;  // [hole_begin_, hole_end_): bytes skipped by
  std::uint32_t hole_end_ = UINT32_MAX;    // feed_virtual()
};

// Tokenizes the whole text into *out (cleared first).
void tokenize(std::string_view text, TokenList* out);

// HTML white space as the tokenizer sees it: TAB, LF, FF, CR, SPACE.
constexpr bool is_html_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

// The length of the character reference starting at text[pos] (which must be '&'): a numeric
// reference (&#123; &#x1F;, the ';' optional) or a named one (&name; or a legacy name without
// ';'), 0 when '&' starts none. `code_point` receives what it stands for when it is known
// (numeric references and the ASCII-producing names); 0 otherwise.
std::size_t char_ref_length(std::string_view text, std::size_t pos, std::uint32_t* code_point);

}  // namespace vigil::tokenize::html

#endif  // VIGIL_CORE_TOKENIZE_HTML_HTML_TOKENIZER_HPP_
