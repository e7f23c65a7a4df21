// Reflected XSS: does an input change the element/attribute skeleton of the HTML a page
// writes, or the script it runs?
//
// For each place an input occurs, the page is compared with the page the application would
// have written had the input been plain data there. That reference is not built as a string:
// a second tokenizer is restored to the state the real one had where the input begins, fed one
// neutral character in place of the whole input, and continued on the real bytes after it. The
// two token streams are identical before the input and become identical again at the first
// place both tokenizers are between tokens in the same state (the "sync" point); only the
// tokens in between, and the tree construction effects they leave behind (a stack of open
// elements that differs until the two converge), can differ. An input that stays data leaves
// the tokenizer in the state it found it (the common case, decided without a reference run).
//
// The input is convicted when, compared with that reference, the page gains an element, an
// attribute (event handlers included) or a javascript:/vbscript:/data:text/html URL in a URL
// attribute, or when a <script> block it sits in ends elsewhere or no longer keeps the input
// inside one JavaScript literal, or when, inside a tag the page opened, it writes a whole event
// handler or script URL (name, '=' and value: tag_checks()). What a parser drops (a <td> in a
// paragraph, an end tag with nothing to close, a tag cut off by the end of the page) or what
// only hides markup (comments) does not count: the page's skeleton is unchanged.
//
// Occurrences can be coincidental: an input such as "<main>", "</" or "\">" that the page
// escaped where it put it may also match the page's own markup. There the reference, not the
// page, is the broken side: it has more parse errors than the page, swallows the page's tags
// into a value, a comment or raw text (to the end of the page, or until another occurrence of
// the same input), or lacks a tag the page wrote around the input's "<name". Those are told
// apart before anything is reported (discount_app_markup() and the checks in desync()).
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "core/common/ascii.hpp"
#include "core/detect/detector.hpp"
#include "core/tokenize/html/html_tokenizer.hpp"
#include "core/tokenize/html/html_tree.hpp"
#include "core/tokenize/html/js_tokenizer.hpp"

namespace vigil::detect {
namespace {

namespace html = tokenize::html;
namespace js = tokenize::js;

using html::State;

// How far past an occurrence the reference tokenizer may read looking for the sync point, and
// the budget for all occurrences of one check (beyond it each gets kMinDesync).
constexpr std::uint32_t kMaxDesync = 256 * 1024;
constexpr std::uint32_t kMinDesync = 4096;
// Tokens both tree builders may read after the sync point to converge.
constexpr std::uint32_t kMaxContinuation = 4096;
// Elements + attributes compared per side, and creations recorded per side.
constexpr std::size_t kMaxItems = 512;
constexpr std::size_t kMaxCreations = 4096;

struct Probe {
  std::uint32_t pos = 0;
  html::Tokenizer::Snapshot snap;
  std::uint32_t attr_base = 0;  // where the pending tag's attributes start in raw.attributes
};

// One element or attribute of a skeleton.
struct Item {
  bool is_attr = false;
  bool implied = false;
  bool opaque = false;         // its element's or attribute's name holds the stand-in character
  std::uint32_t tag_begin = 0;  // where its start tag begins
  html::Span name;              // the tag name, or the attribute name
  html::Namespace ns = html::Namespace::kHtml;
  std::string_view element;
  std::string_view attr;
  const html::TokenList* list = nullptr;
  std::uint32_t token = 0;
  std::uint32_t attr_index = 0;  // into list->attributes
  bool matched = false;
};

struct Scratch {
  html::TokenList raw;
  html::TokenList ref;
  std::vector<Probe> probes;
  std::vector<html::Creation> raw_created;
  std::vector<html::Creation> ref_created;
  std::vector<Item> raw_items;
  std::vector<Item> ref_items;
  std::vector<js::Token> js;
  std::uint32_t js_begin = UINT32_MAX;  // the script content js holds the tokens of
  std::uint32_t js_end = 0;
  const char* js_text = nullptr;
  // Occurrences already judged clean whose whole analysis stayed inside a window of text
  // around them: another occurrence of the same input in an identical window (a page that
  // repeats "</p>" four thousand times) gets the same verdict without a second analysis.
  std::vector<std::uint64_t> clean_windows;
  // detect_html's filter: the inputs with an occurrence that needs the analysis, and those
  // occurrences.
  std::vector<bool> analysed_inputs;
  std::vector<Occurrence> kept;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

enum class Where { kText, kRcdata, kRawtext, kScript, kAttrValue, kTag, kComment };

struct Context {
  Where where = Where::kText;
  html::RawKind raw = html::RawKind::kNone;
  std::string_view tag;          // kAttrValue / kTag: the tag being written
  std::string_view attr;         // kAttrValue: the attribute
  std::uint32_t attr_index = 0;  // kAttrValue: index in raw.attributes
  State state = State::kData;
};

// Inside a tag the page is writing: where it names the tag or an attribute, or just after its
// '<' (a content state, but a letter there starts the tag's name).
bool in_tag(const Context& ctx) {
  return ctx.where == Where::kTag || ctx.state == State::kTagOpen;
}

// What the input did, for the reason and the token notes.
struct Findings {
  std::vector<std::string> effects;
  std::vector<TokenNote> notes;
  bool closed = false;        // left its context (value, element, literal)
  std::string closed_phrase;  // "closed the double-quoted value of attribute `value` on <input>"
};

// The states a content run rests in between tokens.
bool is_base_content(State s) {
  return s == State::kData || s == State::kRcdata || s == State::kRawtext ||
         s == State::kScriptData || s == State::kPlaintext;
}

bool is_comment_state(State s) {
  return s == State::kBogusComment || s == State::kMarkupDeclarationOpen ||
         (s >= State::kCommentStart && s <= State::kCommentEndBang) || s == State::kDoctype;
}

Context context_of(std::string_view text, const html::TokenList& raw, const Probe& p) {
  Context c;
  const auto& s = p.snap;
  c.state = s.state;
  c.raw = s.raw;
  if (html::is_content_state(s.state)) {
    switch (s.raw) {
      case html::RawKind::kNone: c.where = Where::kText; break;
      case html::RawKind::kTitle:
      case html::RawKind::kTextarea: c.where = Where::kRcdata; break;
      case html::RawKind::kScript: c.where = Where::kScript; break;
      default: c.where = Where::kRawtext; break;
    }
    return c;
  }
  if (is_comment_state(s.state)) {
    c.where = Where::kComment;
    return c;
  }
  c.tag = text.substr(s.name.begin, s.name.size());
  const bool value = s.state == State::kBeforeAttrValue || s.state == State::kAttrValueDouble ||
                     s.state == State::kAttrValueSingle || s.state == State::kAttrValueUnquoted;
  if (value && s.attr_count > 0) {
    c.where = Where::kAttrValue;
    c.attr_index = p.attr_base + s.attr_count - 1;
    if (c.attr_index < raw.attributes.size()) {
      const html::Attribute& a = raw.attributes[c.attr_index];
      c.attr = text.substr(a.name.begin, a.name.size());
    }
    return c;
  }
  c.where = Where::kTag;
  return c;
}

std::string quote_phrase(html::Quote q) {
  switch (q) {
    case html::Quote::kDouble: return "double-quoted ";
    case html::Quote::kSingle: return "single-quoted ";
    case html::Quote::kUnquoted: return "unquoted ";
    default: return "";
  }
}

// Lower-cased, at most 64 bytes, control characters shown as \xNN: safe inside a sentence.
std::string lower(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string r;
  for (char ch : s.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7F) {
      r += "\\x";
      r += kHex[u >> 4];
      r += kHex[u & 15];
    } else {
      r += common::to_lower(ch);
    }
  }
  return r;
}

std::string printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string r;
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7F) {
      r += "\\x";
      r += kHex[u >> 4];
      r += kHex[u & 15];
    } else {
      r += ch;
    }
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// URL attributes

bool is_url_attribute(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "action", "archive", "background", "cite", "classid", "codebase", "content", "data",
      "dynsrc", "folder", "formaction", "from", "href", "icon", "itemtype", "longdesc",
      "lowsrc", "manifest", "ping", "poster", "profile", "src", "srcset", "to", "usemap",
      "values", "xlink:href", "xml:base", "by", "datasrc", "imagesrcset"};
  for (std::string_view n : kNames)
    if (common::iequals(n, name)) return true;
  return false;
}

// The scheme-relevant start of a URL as a browser reads it: character references resolved,
// leading C0 controls and spaces stripped, tabs and newlines removed, ASCII lower-cased.
// Returns "javascript:", "vbscript:", "data:text/html"... when it is a script URL, else empty.
// With `written_by` (an input's offsets in `v`), only when that input wrote a character that
// makes the URL a script URL: the scheme's colon, or a data: URL's slash between type and
// subtype (as written: a reference such as `&colon;` included).
struct InputSpan {
  std::size_t begin;
  std::size_t end;
};
std::string_view script_url_scheme(std::string_view v, const InputSpan* written_by = nullptr) {
  static constexpr std::string_view kSchemes[] = {"javascript:", "vbscript:", "livescript:",
                                                  "data:text/html"};
  char buf[24];
  std::size_t starts[24];
  std::size_t ends[24];
  std::size_t n = 0;
  for (std::size_t i = 0; i < v.size() && n < sizeof(buf);) {
    std::uint32_t cp = static_cast<unsigned char>(v[i]);
    if (cp == 0) cp = 0xFFFD;  // the tokenizer replaces NUL in attribute values
    std::size_t len = 1;
    if (v[i] == '&') {
      std::uint32_t ref = 0;
      std::size_t r = html::char_ref_length(v, i, &ref);
      // In attribute values a reference without ';' followed by '=' or an alphanumeric is text.
      const bool legacy_in_attr = r > 0 && v[i + r - 1] != ';' && i + r < v.size() &&
                                  (common::is_alnum(v[i + r]) || v[i + r] == '=');
      if (r > 0 && !legacy_in_attr) {
        cp = ref == 0 ? 0xFFFD : ref;
        len = r;
      }
    }
    const std::size_t start = i;
    i += len;
    if (cp == '\t' || cp == '\n' || cp == '\r') continue;
    if (n == 0 && cp <= 0x20) continue;
    if (cp >= 0x80) break;
    starts[n] = start;
    ends[n] = i;
    buf[n++] = common::to_lower(static_cast<char>(cp));
  }
  std::string_view s(buf, n);
  for (std::string_view scheme : kSchemes) {
    if (s.substr(0, scheme.size()) != scheme) continue;
    if (written_by == nullptr) return scheme;
    for (std::size_t k = 0; k < scheme.size(); ++k) {
      if ((scheme[k] == ':' || scheme[k] == '/') && written_by->begin < ends[k] &&
          written_by->end > starts[k])
        return scheme;
    }
    return {};
  }
  return {};
}

// The script URL an attribute value holds when the input at [b, e) wrote what makes it one
// (script_url_scheme). A word that only lines up with letters of the page's own script URL (a
// search for "java" on a page with a `href="javascript:void(0)"` menu link) did not make it:
// it is found there by chance, and the page's URL is the same without it.
std::string_view script_url_written_by(std::string_view text, const html::Attribute& a,
                                       std::uint32_t b, std::uint32_t e) {
  if (a.quote == html::Quote::kNone || a.value.end <= a.value.begin) return {};
  // Offsets in the value; an input that begins before it starts at its first character.
  const InputSpan input{b > a.value.begin ? b - a.value.begin : 0,
                        e > a.value.begin ? e - a.value.begin : 0};
  return script_url_scheme(text.substr(a.value.begin, a.value.end - a.value.begin), &input);
}

// The effect of a script URL in a URL attribute, as the reason says it.
std::string script_url_effect(std::string_view attr, std::string_view tag,
                              std::string_view scheme) {
  return "set `" + lower(attr) + "` of <" + lower(tag) + "> to a " + std::string(scheme) + " URL";
}

// Adds an effect and its token note, once per effect.
void add_effect(Findings* f, std::string effect, TokenNote note) {
  if (std::find(f->effects.begin(), f->effects.end(), effect) != f->effects.end()) return;
  f->effects.push_back(std::move(effect));
  f->notes.push_back(std::move(note));
}

// ---------------------------------------------------------------------------------------------
// Skeleton items

void collect_items(std::string_view text, const html::TokenList& list,
                   const std::vector<html::Creation>& created, std::size_t from,
                   std::size_t to, std::vector<Item>* out) {
  for (std::size_t k = from; k < to && out->size() < kMaxItems; ++k) {
    const html::Creation& c = created[k];
    const html::Token& t = list.tokens[c.token];
    if (c.kind != html::Creation::Kind::kMerged) {
      Item e;
      e.implied = c.kind == html::Creation::Kind::kImplied;
      e.opaque = !e.implied && t.opaque;
      e.ns = c.ns;
      e.element = e.opaque ? std::string_view("\x01") : c.name;
      e.list = &list;
      e.token = c.token;
      e.tag_begin = t.begin;
      e.name = t.name;
      out->push_back(e);
    }
    if (c.kind == html::Creation::Kind::kImplied) continue;
    for (std::uint32_t i = 0; i < t.attr_count && out->size() < kMaxItems; ++i) {
      if (i < 64 && (c.skip >> i) & 1) continue;
      const html::Attribute& a = list.attributes[t.attr_begin + i];
      if (a.duplicate) continue;
      Item at;
      at.is_attr = true;
      at.opaque = a.opaque || (t.opaque && c.kind != html::Creation::Kind::kMerged);
      at.ns = c.ns;
      at.element = (t.opaque && c.kind != html::Creation::Kind::kMerged) ? std::string_view("\x01")
                                                                          : c.name;
      at.attr = a.opaque ? std::string_view("\x01") : text.substr(a.name.begin, a.name.size());
      at.list = &list;
      at.token = c.token;
      at.attr_index = t.attr_begin + i;
      at.tag_begin = t.begin;
      at.name = a.name;
      out->push_back(at);
    }
  }
}

bool same_key(const Item& a, const Item& b) {
  if (a.is_attr != b.is_attr || a.ns != b.ns) return false;
  if (a.element == "\x01" || b.element == "\x01") return false;
  if (!common::iequals(a.element, b.element)) return false;
  if (!a.is_attr) return true;
  if (a.attr == "\x01" || b.attr == "\x01") return false;
  return common::iequals(a.attr, b.attr);
}

// Marks every raw item that has a counterpart in the reference; what stays unmatched is new.
// A reference item whose name holds the stand-in character (the input began inside a tag or
// attribute name: it lines up with the page's own markup) stands for the raw item of the same
// tag whose name the input wrote.
void match_items(std::vector<Item>* raw, std::vector<Item>* ref, std::uint32_t b,
                 std::uint32_t e) {
  for (Item& r : *raw) {
    if (r.matched) continue;  // discounted
    for (Item& f : *ref) {
      if (!f.matched && same_key(r, f)) {
        f.matched = true;
        r.matched = true;
        break;
      }
    }
  }
  // The input began inside the tag's own name: whatever attributes it spans are the page's.
  bool tag_name_written = false;
  std::uint32_t tag_begin = 0;
  for (const Item& f : *ref) {
    if (!f.is_attr && f.opaque) {
      tag_name_written = true;
      tag_begin = f.tag_begin;
    }
  }
  if (tag_name_written) {
    for (Item& r : *raw)
      if (!r.matched && r.is_attr && r.tag_begin == tag_begin && r.name.begin >= b &&
          r.name.end <= e)
        r.matched = true;
  }
  for (Item& f : *ref) {
    if (f.matched || !f.opaque) continue;
    for (Item& r : *raw) {
      if (r.matched || r.is_attr != f.is_attr || r.tag_begin != f.tag_begin) continue;
      const bool name_written = r.name.begin <= e && r.name.end >= b;
      const bool same_attr = r.is_attr && f.attr != "\x01" && common::iequals(r.attr, f.attr);
      if (name_written || same_attr) {
        f.matched = true;
        r.matched = true;
        break;
      }
    }
  }
}

std::string element_label(const Item& e) {
  std::string s = "<" + lower(e.element) + ">";
  if (e.ns == html::Namespace::kSvg && !common::iequals(e.element, "svg")) s += " (SVG)";
  if (e.ns == html::Namespace::kMathMl && !common::iequals(e.element, "math")) s += " (MathML)";
  return s;
}

std::string join(const std::vector<std::string>& parts) {
  std::string s;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) s += (i + 1 == parts.size()) ? " and " : ", ";
    s += parts[i];
  }
  return s;
}

bool is_handler(std::string_view attr) {
  return attr.size() > 2 && common::istarts_with(attr, "on");
}

// Turns unmatched raw items (and script URLs) into effects and notes.
void report_items(std::string_view text, const std::vector<Item>& raw, std::uint32_t b,
                  std::uint32_t e, Findings* f) {
  // New elements, each with the event handlers it carries.
  struct NewElement {
    std::string label;
    std::vector<std::string> handlers;
  };
  std::vector<NewElement> elements;
  std::vector<std::pair<std::string, std::vector<std::string>>> added;  // element -> attrs
  std::vector<std::string> urls;
  std::size_t new_elements = 0;
  auto element_slot = [&](const Item& el) -> NewElement* {
    std::string label = element_label(el);
    for (NewElement& n : elements)
      if (n.label == label) return &n;
    if (elements.size() >= 4) return nullptr;
    elements.push_back({label, {}});
    return &elements.back();
  };
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const Item& it = raw[i];
    const html::Token& t = it.list->tokens[it.token];
    if (!it.is_attr) {
      if (it.matched) continue;
      ++new_elements;
      element_slot(it);
      if (f->notes.size() < 8)
        f->notes.push_back(note_token(it.implied ? "implied element" : "element",
                                      text.substr(t.begin, t.end - t.begin), t.begin, t.end));
      continue;
    }
    const html::Attribute& a = it.list->attributes[it.attr_index];
    const std::uint32_t vend = a.value.end > a.value.begin ? a.value.end : a.name.end;
    // A script URL counts when the attribute is new or the input wrote its scheme.
    if (is_url_attribute(it.attr) && a.quote != html::Quote::kNone) {
      std::string_view scheme =
          it.matched ? script_url_written_by(text, a, b, e)
                     : script_url_scheme(text.substr(a.value.begin, a.value.end - a.value.begin));
      if (!scheme.empty()) {
        urls.push_back(script_url_effect(it.attr, it.element, scheme));
        if (f->notes.size() < 8)
          f->notes.push_back(note_token("url", text.substr(a.name.begin, vend - a.name.begin),
                                        a.name.begin, vend));
      }
    }
    if (it.matched) continue;
    const std::string attr = lower(it.attr);
    // The element the attribute belongs to, if it is new too.
    const Item* owner = nullptr;
    for (const Item& o : raw)
      if (!o.is_attr && !o.matched && o.list == it.list && o.token == it.token) owner = &o;
    if (f->notes.size() < 8)
      f->notes.push_back(note_token(is_handler(it.attr) ? "event handler" : "attribute",
                                    text.substr(a.name.begin, vend - a.name.begin),
                                    a.name.begin, vend));
    if (owner != nullptr) {
      NewElement* slot = is_handler(attr) ? element_slot(*owner) : nullptr;
      if (slot != nullptr && slot->handlers.size() < 3 &&
          std::find(slot->handlers.begin(), slot->handlers.end(), attr) == slot->handlers.end())
        slot->handlers.push_back(attr);
      continue;
    }
    std::string el = "<" + lower(it.element) + ">";
    auto slot = std::find_if(added.begin(), added.end(),
                             [&](const auto& p) { return p.first == el; });
    if (slot == added.end()) {
      added.push_back({el, {}});
      slot = added.end() - 1;
    }
    if (slot->second.size() < 4) slot->second.push_back(attr);
  }
  if (new_elements > 0) {
    auto handlers = [](const NewElement& n, bool inline_form) {
      if (n.handlers.empty()) return std::string();
      std::string h = n.handlers.size() == 1 ? "event handler " : "event handlers ";
      h += join(n.handlers);
      return inline_form ? " (" + h + ")" : " with " + h;
    };
    std::string s;
    if (elements.size() == 1) {
      s = (new_elements == 1 ? "created the element " : "created the elements ") +
          elements[0].label + handlers(elements[0], false);
    } else {
      std::vector<std::string> parts;
      for (const NewElement& n : elements) parts.push_back(n.label + handlers(n, true));
      s = "created the elements " + join(parts);
      if (new_elements > elements.size()) s += " and others";
    }
    f->effects.push_back(s);
  }
  for (const auto& [el, attrs] : added) {
    bool all_handlers = std::all_of(attrs.begin(), attrs.end(),
                                    [](const std::string& a) { return is_handler(a); });
    std::vector<std::string> quoted;
    for (const auto& a : attrs) quoted.push_back(all_handlers ? a : "`" + a + "`");
    std::string s = all_handlers ? (attrs.size() == 1 ? "added the event handler "
                                                      : "added the event handlers ")
                                 : (attrs.size() == 1 ? "added the attribute "
                                                      : "added the attributes ");
    f->effects.push_back(s + join(quoted) + " to " + el);
  }
  for (auto& u : urls) {
    if (std::find(f->effects.begin(), f->effects.end(), u) == f->effects.end())
      f->effects.push_back(u);
  }
}

// ---------------------------------------------------------------------------------------------
// JavaScript

bool is_javascript_type(std::string_view type) {
  type = common::trim(type);
  if (type.empty()) return true;
  static constexpr std::string_view kTypes[] = {
      "module", "text/javascript", "application/javascript", "text/ecmascript",
      "application/ecmascript", "application/x-javascript", "text/x-javascript",
      "text/jscript", "text/livescript", "text/x-ecmascript", "application/x-ecmascript",
      "text/javascript1.0", "text/javascript1.1", "text/javascript1.2", "text/javascript1.3",
      "text/javascript1.4", "text/javascript1.5"};
  for (std::string_view t : kTypes)
    if (common::iequals(t, type)) return true;
  return false;
}

const js::Token* js_tokens_of(std::string_view text, std::uint32_t begin, std::uint32_t end,
                              std::size_t* count) {
  Scratch& s = scratch();
  if (s.js_begin != begin || s.js_end != end || s.js_text != text.data()) {
    js::tokenize(text.substr(begin, end - begin), &s.js);
    s.js_begin = begin;
    s.js_end = end;
    s.js_text = text.data();
  }
  *count = s.js.size();
  return s.js.data();
}

bool is_literal(js::TokenKind k) {
  return k == js::TokenKind::kString || k == js::TokenKind::kTemplate ||
         k == js::TokenKind::kTemplateHead || k == js::TokenKind::kTemplateMiddle ||
         k == js::TokenKind::kTemplateTail || k == js::TokenKind::kRegex;
}

std::string js_token_label(std::string_view src, const js::Token& t) {
  std::string_view v = src.substr(t.begin, t.end - t.begin);
  if (v.size() > 24) return std::string(js::token_kind_name(t.kind));
  return "`" + printable(v) + "`";
}

// The input at [b, e) of the JavaScript code [begin, end) of `text`: did it stay inside one
// token (a literal whose delimiters are the application's, a whole literal, or one word)?
// Returns true and fills *f when it did not.
bool check_javascript(std::string_view text, std::uint32_t begin, std::uint32_t end,
                      std::uint32_t b, std::uint32_t e, const std::string& where, Findings* f) {
  if (b < begin || e > end || b >= e) return false;
  const std::size_t notes_before = f->notes.size();
  std::size_t n = 0;
  const js::Token* toks = js_tokens_of(text, begin, end, &n);
  std::string_view src = text.substr(begin, end - begin);
  const std::uint32_t lb = b - begin, le = e - begin;
  const js::Token* first = std::upper_bound(
      toks, toks + n, lb, [](std::uint32_t p, const js::Token& t) { return p < t.end; });
  // A literal the application opened that now ends, unterminated, where the input begins: the
  // input's first character (a line break) cut it.
  if (first != toks && first[-1].end == lb && first[-1].error && is_literal(first[-1].kind) &&
      first[-1].begin < lb) {
    const js::Token& cut = first[-1];
    f->closed = true;
    f->closed_phrase = "cut the JavaScript " + std::string(js::token_kind_name(cut.kind)) +
                       " literal in " + where + " with a line break";
    f->effects.push_back("left it unterminated (a syntax error)");
    f->notes.push_back(note_token("js " + std::string(js::token_kind_name(cut.kind)),
                                  src.substr(cut.begin, cut.end - cut.begin), begin + cut.begin,
                                  begin + cut.end));
    return true;
  }
  const js::Token* stop = first;
  while (stop != toks + n && stop->begin < le) ++stop;
  const std::size_t overlapping = std::size_t(stop - first);
  if (overlapping == 0) return false;  // white space only
  const js::Token& t = *first;
  if (!(is_literal(t.kind) || t.kind == js::TokenKind::kComment) || t.begin >= lb) {
    // The input begins in code, not inside a literal. Code the page wrote itself ("render(q"
    // found in "render(q);") lines up with it; only a run of whole, balanced tokens (at least
    // a few) counts as injected code.
    const bool aligned = t.begin >= lb && stop[-1].end <= le;
    // ... and starts an expression or statement (not "(q);" continuing the page's "render").
    if (first != toks) {
      const js::Token& prev = first[-1];
      const char pc = src[prev.begin];
      const bool continues = prev.kind == js::TokenKind::kIdentifier ||
                             prev.kind == js::TokenKind::kNumber ||
                             prev.kind == js::TokenKind::kString ||
                             prev.kind == js::TokenKind::kTemplate ||
                             prev.kind == js::TokenKind::kTemplateTail ||
                             prev.kind == js::TokenKind::kRegex ||
                             (prev.kind == js::TokenKind::kPunctuator &&
                              (pc == ')' || pc == ']' || pc == '.'));
      if (continues) return false;
    }
    int depth = 0;
    bool balanced = true;
    for (const js::Token* p = first; p != stop; ++p) {
      if (p->kind != js::TokenKind::kPunctuator) continue;
      const char ch = src[p->begin];
      if (p->end - p->begin != 1) continue;
      if (ch == '(' || ch == '[' || ch == '{') ++depth;
      if (ch == ')' || ch == ']' || ch == '}') balanced = balanced && --depth >= 0;
    }
    // A statement separator between two statements (a trailing ';' alone ends the page's own
    // statement as often as an injected one).
    bool statement = false;
    for (const js::Token* p = first; p + 1 < stop; ++p)
      statement = statement || (p->kind == js::TokenKind::kPunctuator && src[p->begin] == ';');
    if (!aligned || !balanced || depth != 0 || overlapping < 3 || !statement) return false;
  }
  if (overlapping == 1 && !t.error) {
    const bool opens_before = t.begin < lb;
    const bool closes_after = le < t.end;
    if (t.kind == js::TokenKind::kComment) {
      const bool block = src.substr(t.begin, 2) == "/*";
      if (!block || !opens_before || le <= t.end - 2) return false;
    } else if (is_literal(t.kind)) {
      if (!opens_before && !closes_after) return false;  // the input is one whole literal
      if (opens_before && closes_after) {
        // The literal must end where it would with the input as plain characters: scanning
        // on from the input's end (no escape pending) finds the application's delimiter.
        const char quote = src[t.begin];
        std::uint32_t p = le, ref_end = UINT32_MAX;
        while (p < t.end) {
          const char ch = src[p];
          if (ch == '\\') {
            p += 2;
          } else if (ch == quote || (quote == '`' && ch == '$' && p + 1 < src.size() &&
                                     src[p + 1] == '{')) {
            ref_end = p + (ch == quote ? 1 : 2);
            break;
          } else {
            ++p;
          }
        }
        // Convicted only when the page's literal runs past the delimiter the reference stops
        // at (the input escaped it); a reference that finds none lined up with an escape
        // sequence of the page's own.
        if (ref_end == UINT32_MAX || t.end <= ref_end || t.kind == js::TokenKind::kRegex)
          return false;
        f->closed = true;
        f->closed_phrase = "escaped the closing quote of the JavaScript " +
                           std::string(js::token_kind_name(t.kind)) + " literal in " + where;
        f->effects.push_back("ran the literal on into the code after it");
        f->notes.push_back(note_token("js " + std::string(js::token_kind_name(t.kind)),
                                      src.substr(t.begin, t.end - t.begin), begin + t.begin,
                                      begin + t.end));
        return true;
      }
    } else {
      return false;  // one identifier, keyword, number or punctuator
    }
  }
  // The input crossed token boundaries or broke a token.
  std::vector<std::string> added;
  bool broken = false;
  for (const js::Token* p = first; p != stop; ++p) {
    broken = broken || p->error;
    if (p != first && added.size() < 5) added.push_back(js_token_label(src, *p));
    if (f->notes.size() < 8)
      f->notes.push_back(note_token("js " + std::string(js::token_kind_name(p->kind)),
                                    src.substr(p->begin, p->end - p->begin), begin + p->begin,
                                    begin + p->end));
  }
  if (is_literal(t.kind) && t.begin < lb && t.end <= le && !t.error) {
    // The literal ends inside the input. With the input as plain characters the literal
    // would run on to a delimiter of the page's after the input; if there is none, the
    // delimiter the input "closed" with is the page's own (a coincidental occurrence that
    // starts at the page's closing quote).
    const char quote = src[t.begin];
    bool page_delimiter = false;
    for (std::uint32_t p = le; p < src.size(); ++p) {
      const char ch = src[p];
      if (ch == '\\') {
        ++p;
      } else if (ch == quote) {
        page_delimiter = true;
        break;
      } else if (quote != '`' && (ch == '\n' || ch == '\r')) {
        break;
      }
    }
    if (!page_delimiter) {
      f->notes.resize(notes_before);
      return false;
    }
  }
  if (is_literal(t.kind) && t.begin < lb) {
    f->closed = true;
    f->closed_phrase = "closed the JavaScript " + std::string(js::token_kind_name(t.kind)) +
                       " literal in " + where;
  }
  if (overlapping == 1) {
    f->effects.push_back("broke the script: the " + std::string(js::token_kind_name(t.kind)) +
                         (is_literal(t.kind) ? " literal is unterminated or holds an invalid "
                                               "escape"
                                             : " is malformed"));
    return true;
  }
  if (!added.empty()) f->effects.push_back("added the JavaScript tokens " + join(added));
  if (broken) f->effects.push_back("left the script with a syntax error");
  return true;
}

// ---------------------------------------------------------------------------------------------
// The analysis of one occurrence

constexpr std::uint32_t kWindow = 48;  // bytes on each side of an occurrence in its window key
constexpr std::size_t kMaxCleanWindows = 256;

std::uint64_t fnv1a(std::string_view s, std::uint64_t h) {
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
  return h;
}

class Analyzer {
 public:
  // `tz` has read the page up to its last occurrence bound; it reads the rest when an analysis
  // needs it (finish_page()).
  Analyzer(std::string_view text, Scratch& s, html::Tokenizer* tz) : text_(text), s_(s), tz_(tz) {}

  void run(const SinkCheck& check, std::vector<Detection>* out);

 private:
  const Probe& probe(std::uint32_t pos) const {
    auto it = std::lower_bound(s_.probes.begin(), s_.probes.end(), pos,
                               [](const Probe& p, std::uint32_t v) { return p.pos < v; });
    return *it;  // every occurrence bound is a probe
  }
  std::uint32_t first_token_ending_after(std::uint32_t pos) const {
    const auto& toks = s_.raw.tokens;
    auto it = std::upper_bound(toks.begin(), toks.end(), pos,
                               [](std::uint32_t p, const html::Token& t) { return p < t.end; });
    return std::uint32_t(it - toks.begin());
  }
  std::uint32_t first_token_beginning_at(std::uint32_t pos) const {
    const auto& toks = s_.raw.tokens;
    auto it = std::lower_bound(toks.begin(), toks.end(), pos,
                               [](const html::Token& t, std::uint32_t p) { return t.begin < p; });
    return std::uint32_t(it - toks.begin());
  }
  bool raw_state_at(std::uint32_t k, State* state, html::RawKind* raw) const;
  void advance_builder(std::uint32_t to);
  bool analyze(const Occurrence& o, Detection* d);
  void desync(const Occurrence& o, const Probe& pb, const Context& ctx, html::Tokenizer* ref,
              std::uint32_t tok_b, Findings* f);
  void value_checks(const Occurrence& o, const Context& ctx, Findings* f);
  void tag_checks(const Occurrence& o, Findings* f);
  void discount_app_markup(const Occurrence& o);
  bool input_wrote_markup(const Occurrence& o) const;
  std::string where_phrase(const Context& ctx) const;
  void finish_page() {
    if (tz_ == nullptr) return;
    tz_->finish();
    tz_ = nullptr;
  }
  // Reads on until a token that ends after `pos` is out.
  void read_past(std::uint32_t pos) {
    while (tz_ != nullptr && (s_.raw.tokens.empty() || s_.raw.tokens.back().end <= pos)) {
      tz_->run_until_emit(std::uint32_t(text_.size()));
      if (tz_->finished()) tz_ = nullptr;
    }
  }

  std::string_view text_;
  Scratch& s_;
  html::Tokenizer* tz_;  // null once the whole page is read
  // Made by the first analysis that needs the tree (its stack of open elements is 2 KiB to set
  // up; most pages' occurrences are judged without it).
  std::optional<html::SkeletonBuilder> builder_;
  std::uint32_t builder_pos_ = 0;  // raw tokens processed by builder_
  std::string current_node_;       // builder_'s current node when a desync was analysed
  std::uint64_t budget_ = 0;       // bytes the reference tokenizers may still read
  const SinkCheck* check_ = nullptr;
  std::uint32_t extent_ = 0;  // how far the last desync() analysis looked into the page
};

bool Analyzer::raw_state_at(std::uint32_t k, State* state, html::RawKind* raw) const {
  const auto& toks = s_.raw.tokens;
  // The last token that begins before k, if any.
  std::uint32_t idx = first_token_beginning_at(k);
  if (idx > 0) {
    const html::Token& t = toks[idx - 1];
    if (t.end > k) {  // k inside it
      if (!t.is_text()) return false;
      *state = t.after;
      *raw = t.raw;
      return t.after != State::kScriptData;  // escaped sub-states are not recorded
    }
    *state = t.after;
    *raw = t.raw;
    if (t.end == k) return t.is_text() ? t.after != State::kScriptData : true;
    return t.after != State::kScriptData;
  }
  *state = State::kData;
  *raw = html::RawKind::kNone;
  return true;
}

void Analyzer::advance_builder(std::uint32_t to) {
  if (!builder_) builder_.emplace();
  while (builder_pos_ < to && builder_pos_ < s_.raw.tokens.size()) {
    builder_->process(text_, s_.raw, builder_pos_, nullptr);
    ++builder_pos_;
  }
}

std::string Analyzer::where_phrase(const Context& ctx) const {
  switch (ctx.where) {
    case Where::kText:
      if (ctx.state == State::kTagOpen) return "a tag name, after the page's `<`";
      return current_node_.empty() ? "the page text" : "the text of <" + current_node_ + ">";
    case Where::kRcdata:
    case Where::kRawtext:
      return "the <" + std::string(html::raw_kind_name(ctx.raw)) + "> element";
    case Where::kScript:
      return "the <script> block";
    case Where::kAttrValue: {
      const html::Attribute& a = s_.raw.attributes[ctx.attr_index];
      html::Quote q = ctx.state == State::kBeforeAttrValue ? html::Quote::kUnquoted : a.quote;
      if (ctx.state == State::kAttrValueDouble) q = html::Quote::kDouble;
      if (ctx.state == State::kAttrValueSingle) q = html::Quote::kSingle;
      return "the " + quote_phrase(q) + "value of attribute `" + lower(ctx.attr) + "` on <" +
             lower(ctx.tag) + ">";
    }
    case Where::kTag:
      return "the tag <" + lower(ctx.tag) + ">";
    case Where::kComment:
      return "a comment";
  }
  return "the page";
}

// Runs the reference from the occurrence's end to the sync point, compares the skeletons the
// two token streams create, and follows both tree builders until they agree again.
void Analyzer::desync(const Occurrence& o, const Probe& pb, const Context& ctx,
                      html::Tokenizer* ref, std::uint32_t tok_b, Findings* f) {
  const std::uint32_t size = std::uint32_t(text_.size());
  const std::uint32_t e = o.end;
  const Probe& pe = probe(e);
  const std::uint32_t allowance = std::uint32_t(
      std::max<std::uint64_t>(kMinDesync, std::min<std::uint64_t>(budget_, kMaxDesync)));
  const std::uint32_t limit = std::uint32_t(std::min<std::uint64_t>(size, std::uint64_t(e) +
                                                                             allowance));
  const std::uint32_t start = ref->position();

  // The sync point: both tokenizers between tokens, in the same content state, at one offset.
  std::uint32_t sync = size;
  bool truncated = false;
  {
    bool synced = false;
    if (!ref->finished() && ref->position() == e && pe.snap.pos == e &&
        is_base_content(ref->state()) && is_base_content(pe.snap.state) &&
        ref->state() == pe.snap.state && ref->raw_kind() == pe.snap.raw) {
      sync = e;
      synced = true;
    }
    while (!synced) {
      if (ref->finished()) {
        sync = size;
        break;
      }
      if (ref->position() >= limit && limit < size) {
        sync = ref->position();
        truncated = true;
        break;
      }
      ref->run_until_emit(limit);
      const std::uint32_t k = ref->position();
      if (ref->finished()) {
        sync = size;
        break;
      }
      State rs;
      html::RawKind rr;
      if (is_base_content(ref->state()) && raw_state_at(k, &rs, &rr) && rs == ref->state() &&
          rr == ref->raw_kind()) {
        sync = k;
        synced = true;
      }
    }
  }
  budget_ -= std::min<std::uint64_t>(budget_, ref->position() - std::min(start, ref->position()));
  ref->flush_pending_text();  // the reference's text up to the sync point counts too

  // Tree construction over both sides of the desynchronised stretch.
  advance_builder(tok_b);
  {
    const html::SkeletonBuilder::Entry* cur = builder_->current();
    current_node_ = cur != nullptr ? lower(cur->name) : std::string();
  }
  html::SkeletonBuilder rb = *builder_;
  html::SkeletonBuilder fb = *builder_;
  const std::uint32_t base_errors = builder_->errors();
  s_.raw_created.clear();
  s_.ref_created.clear();
  // Creations past kMaxCreations per side are not recorded (only kMaxItems are compared).
  auto rec = [](std::vector<html::Creation>* v) { return v->size() < kMaxCreations ? v : nullptr; };
  std::uint32_t j = tok_b;
  for (; j < s_.raw.tokens.size() && s_.raw.tokens[j].begin < sync; ++j)
    rb.process(text_, s_.raw, j, rec(&s_.raw_created));
  for (std::uint32_t i = 0; i < s_.ref.tokens.size(); ++i)
    fb.process(text_, s_.ref, i, rec(&s_.ref_created));
  const std::size_t ref_region = s_.ref_created.size();
  if (!truncated) {
    for (std::uint32_t steps = 0; j < s_.raw.tokens.size() && steps < kMaxContinuation &&
                                  !rb.same_state(fb);
         ++j, ++steps) {
      rb.process(text_, s_.raw, j, rec(&s_.raw_created));
      fb.process(text_, s_.raw, j, rec(&s_.ref_created));
    }
  }
  extent_ = std::max(sync, j < s_.raw.tokens.size() ? s_.raw.tokens[j].begin
                                                    : std::uint32_t(text_.size()));
  // A page still being written whose two readings have not met again by the end of the text:
  // what decides between them (the page's "</div>" after an input that spells its own
  // "<div ...>", say) is not written yet. Judged when it is, or when the page is whole.
  if (check_->sink->partial && j >= s_.raw.tokens.size() && !rb.same_state(fb)) return;
  // Which side is the page the application meant? The reference is the application's page
  // with the input as data; where the input is data the reference parses cleanly. A reference
  // with more parse errors than the page means the input lined up with the page's own markup
  // (a coincidental occurrence: "<main>" at the page's <main>, "</" at its "</title>").
  std::uint32_t raw_errors = rb.errors() - base_errors;
  std::uint32_t ref_errors = fb.errors() - base_errors;
  if (j >= s_.raw.tokens.size()) {  // the end of the page: raw text left open
    if (rb.mode() == html::SkeletonBuilder::Mode::kText) ++raw_errors;
    if (fb.mode() == html::SkeletonBuilder::Mode::kText) ++ref_errors;
  }
  // A reference that never caught up with the page and ends inside raw text, a comment or a
  // tag swallowed the rest of the page: it is the broken one, whatever else the page holds.
  bool reference_swallowed = false;
  if (sync >= size && !s_.ref.tokens.empty()) {
    const html::Token& last = s_.ref.tokens.back();
    reference_swallowed = fb.mode() == html::SkeletonBuilder::Mode::kText ||
                          last.kind == html::TokenKind::kEofInTag || last.unterminated;
  }
  // A reference that only catches up with the page inside another occurrence of the same
  // input needed the input's own markup to recover: the page's markup was swallowed.
  bool recovered_by_input = false;
  for (const Occurrence& other : check_->occurrences) {
    if (other.input != o.input || other.begin < e || other.begin >= sync || sync > other.end)
      continue;
    // ... after swallowing page markup (tags the page has between the two).
    for (std::uint32_t i = first_token_ending_after(e);
         i < s_.raw.tokens.size() && s_.raw.tokens[i].begin < other.begin; ++i) {
      if (s_.raw.tokens[i].begin >= e && s_.raw.tokens[i].is_tag()) {
        recovered_by_input = true;
        break;
      }
    }
  }
  if (ref_errors > raw_errors || reference_swallowed || recovered_by_input) return;
  s_.raw_items.clear();
  s_.ref_items.clear();
  collect_items(text_, s_.raw, s_.raw_created, 0, s_.raw_created.size(), &s_.raw_items);
  collect_items(text_, s_.ref, s_.ref_created, 0, ref_region, &s_.ref_items);
  collect_items(text_, s_.raw, s_.ref_created, ref_region, s_.ref_created.size(),
                &s_.ref_items);
  discount_app_markup(o);  // before matching: discounted items must not consume ref items
  match_items(&s_.raw_items, &s_.ref_items, o.begin, o.end);
  // An input that begins inside the page's own tag syntax (a tag name, between attributes,
  // right after a quoted value) is not where an application writes data: it lines up with the
  // page's markup. Only markup the input writes whole counts there.
  if (ctx.where == Where::kTag || (ctx.where == Where::kComment && pb.snap.state ==
                                                                      State::kMarkupDeclarationOpen)) {
    // Keep only elements whose whole start tag the input wrote, and none when the input
    // begins by ending the page's tag ("><title>" found at "<meta ...><title>").
    const char first = text_[o.begin];
    const bool ends_page_tag = first == '>' || (first == '/' && o.begin + 1 < o.end &&
                                                text_[o.begin + 1] == '>');
    for (Item& it : s_.raw_items) {
      if (it.matched) continue;
      const html::Token& t = it.list->tokens[it.token];
      const bool whole = !it.implied && t.begin >= o.begin && t.end <= o.end;
      if (!whole || ends_page_tag) it.matched = true;
    }
  }
  report_items(text_, s_.raw_items, o.begin, o.end, f);

  // Where the input's context ends in the page, compared with the reference.
  const auto& toks = s_.raw.tokens;
  if (ctx.where == Where::kAttrValue) {
    const html::Attribute& a = s_.raw.attributes[ctx.attr_index];
    const std::uint32_t tb = first_token_ending_after(o.begin);
    const bool tag_ended = tb < toks.size() && toks[tb].is_tag() && toks[tb].end <= e;
    const bool dropped = tb < toks.size() && toks[tb].kind == html::TokenKind::kEofInTag;
    if ((a.value.end < e && a.quote != html::Quote::kNone) || tag_ended || dropped) {
      f->closed = true;
      f->closed_phrase = "closed " + where_phrase(ctx);
    }
  } else if (ctx.where == Where::kRcdata || ctx.where == Where::kRawtext ||
             ctx.where == Where::kScript || ctx.where == Where::kComment) {
    const std::uint32_t tb = first_token_ending_after(o.begin);
    // The content run (or comment) holding the input ends inside it.
    std::uint32_t content_end = o.begin;
    if (tb < toks.size() && toks[tb].begin <= o.begin &&
        (ctx.where == Where::kComment ? !toks[tb].is_tag() : toks[tb].is_text()))
      content_end = toks[tb].end;
    if (content_end < e) {
      f->closed = true;
      f->closed_phrase = "closed " + (ctx.where == Where::kComment
                                          ? std::string("the comment")
                                          : where_phrase(ctx));
    }
    if (ctx.where == Where::kScript) {
      // The reference's script content ends at the application's </script>.
      std::uint32_t ref_end = UINT32_MAX;
      for (const html::Token& t : s_.ref.tokens) {
        if (t.kind == html::TokenKind::kRawText) {
          ref_end = t.end;
          break;
        }
        if (!t.is_text()) break;
      }
      if (ref_end == UINT32_MAX && truncated) ref_end = limit;
      // "</" lining up with the page's own "</script>": the reference, not the page, loses
      // the end of the script.
      const bool coincidence = content_end < e && ref_end >= size && !input_wrote_markup(o);
      if (ref_end != content_end && !coincidence) {
        if (content_end < e) {
          f->effects.push_back("ended the <script> block early");
        } else {
          f->effects.push_back(
              "hid the application's </script> (script data escape) so the script runs on "
              "into the page");
        }
        f->notes.push_back(note_token("script", text_.substr(o.begin, o.end - o.begin),
                                      o.begin, o.end));
      }
    }
  }
}

// Whether the input itself wrote markup: a tag whose name it completed, or a comment opener.
// An input that only supplies "<", "</" or a closing quote, the page supplying the rest, lines
// up with the page's own markup (a coincidental occurrence such as "</" at "</title>").
bool Analyzer::input_wrote_markup(const Occurrence& o) const {
  const auto& toks = s_.raw.tokens;
  for (std::uint32_t i = first_token_ending_after(o.begin);
       i < toks.size() && toks[i].begin < o.end; ++i) {
    const html::Token& t = toks[i];
    if (t.begin < o.begin) continue;
    if (t.is_tag() && t.name.end < o.end) return true;
    if ((t.kind == html::TokenKind::kComment || t.kind == html::TokenKind::kDoctype) &&
        t.begin + 2 < o.end)
      return true;
  }
  return false;
}

// Items the raw page has only because the reference, not the page, lost the application's
// markup. The reference stands for the page with the input as data; where the input lines up
// with the page's own markup (a coincidental occurrence), the reference is the broken one: it
// swallows the tags after the input into a value, a comment or raw text, or it lacks a tag the
// page wrote around the input's "<name".
void Analyzer::discount_app_markup(const Occurrence& o) {
  auto discount = [&](const Item& el) {
    for (Item& it : s_.raw_items)
      if (it.list == el.list && it.token == el.token) it.matched = true;
  };
  const bool wrote = input_wrote_markup(o);
  // A reference tag that runs to the end of the page (its value or name took in the rest of
  // the page), or whose name holds the stand-in character: the input lined up with the tag's
  // own syntax, so the raw tag is the page's.
  for (const html::Token& t : s_.ref.tokens) {
    if (!t.is_tag() || (t.kind != html::TokenKind::kEofInTag && !t.opaque)) continue;
    for (Item& it : s_.raw_items)
      if (!it.implied && it.tag_begin == t.begin) it.matched = true;
  }
  for (Item& it : s_.raw_items) {
    if (it.matched || !it.is_attr || it.tag_begin >= o.begin) continue;
    const html::Attribute& own = it.list->attributes[it.attr_index];
    if (own.name.begin >= o.end) {
      // The page's next attribute, read into the reference's still open value ("p.png\""
      // found at the page's `src="/static/p.png"`).
      for (const html::Attribute& r : s_.ref.attributes) {
        if (r.quote != html::Quote::kNone && r.value.begin < o.end &&
            r.value.end > own.name.begin) {
          it.matched = true;
          break;
        }
      }
      continue;
    }
    // An attribute of the page's tag that the input only names the start of ("\" nam" + the
    // page's "e=\"q\""), or whose value the page wrote in full ("p.png\" alt" + "='...'").
    const html::Attribute& a = it.list->attributes[it.attr_index];
    if (a.name.begin < o.begin || a.name.begin >= o.end) continue;
    bool name_goes_on = a.name.end > o.end;
    for (std::uint32_t i = o.end; i < a.name.end && name_goes_on; ++i)
      name_goes_on = common::is_alnum(text_[i]) || text_[i] == '-';
    const bool value_from_page = a.name.end <= o.end && a.quote != html::Quote::kNone &&
                                 a.value.begin >= o.end && a.value.end > a.value.begin;
    if (name_goes_on || value_from_page) it.matched = true;
  }
  for (const Item& it : s_.raw_items) {
    if (it.matched || it.implied) continue;
    if (it.tag_begin >= o.end) {
      if (wrote) continue;  // the input's own markup may re-read the page's text after it
      // Swallowed by a reference token that started before the input ended.
      for (const html::Token& t : s_.ref.tokens) {
        if (t.begin < o.end && t.end > it.tag_begin) {
          discount(it);
          break;
        }
      }
      continue;
    }
    if (!it.is_attr && it.tag_begin >= o.begin && it.name.begin >= o.end &&
        html::tag_of(it.element) != html::Tag::kOther) {
      discount(it);  // the input wrote only the "<" of a tag the page wrote
      continue;
    }
    if (!it.is_attr && it.tag_begin >= o.begin && it.name.end > o.end &&
        it.name.begin < o.end) {
      // "<hea" + the page's "der ...>": the page's own tag name goes on after the input.
      bool name_goes_on = true;
      for (std::uint32_t i = o.end; i < it.name.end && name_goes_on; ++i)
        name_goes_on = common::is_alnum(text_[i]) || text_[i] == '-';
      if (name_goes_on && html::tag_of(it.element) != html::Tag::kOther) {
        discount(it);
        continue;
      }
    }
    if (!it.is_attr && it.tag_begin >= o.begin && it.name.end < o.end) {
      // "<a hr" + the page's "ef=\"/x\">": a tag the input starts and the page finishes with
      // attributes of its own (well-formed names, a value among them) and none the input
      // wrote whole. The tag is the page's.
      const html::Token& t = it.list->tokens[it.token];
      if (t.kind == html::TokenKind::kStartTag && t.end > o.end && t.attr_count > 0) {
        bool page_attributes = true;
        bool with_value = false;
        for (const html::Attribute& a : it.list->attributes_of(t)) {
          // The page wrote the attribute's name (the end of it) or at least its value.
          bool page_name = a.name.end > o.end ||
                           (a.name.end == o.end && a.quote != html::Quote::kNone &&
                            a.value.begin >= o.end);
          for (std::uint32_t i = std::max(a.name.begin, o.end); i < a.name.end && page_name; ++i)
            page_name = common::is_alnum(text_[i]) || text_[i] == '-' || text_[i] == ':' ||
                        text_[i] == '_';
          for (std::uint32_t i = a.name.begin; i < o.end && i < a.name.end && page_name; ++i)
            page_name = common::is_alnum(text_[i]) || text_[i] == '-';
          page_attributes = page_attributes && page_name;
          with_value = with_value || a.quote != html::Quote::kNone;
        }
        if (page_attributes && with_value) {
          discount(it);
          continue;
        }
      }
    }
    if (!it.is_attr && it.tag_begin >= o.begin && it.name.end == o.end) {
      // The input ends with "<name"; the page wrote the tag's attributes and its end.
      const html::Token& t = it.list->tokens[it.token];
      bool attribute_from_input = false;
      for (const html::Attribute& a : it.list->attributes_of(t))
        attribute_from_input = attribute_from_input || a.name.begin < o.end;
      // With attributes from the page, or as the whole input ("<title" at the page's
      // "<title>"), the tag is the page's.
      if ((t.attr_count > 0 || it.tag_begin == o.begin) && !attribute_from_input) discount(it);
    }
  }
}

// Checks that need no reference: a script URL written into a URL attribute, and JavaScript
// structure in a <script> block or an event handler.
void Analyzer::value_checks(const Occurrence& o, const Context& ctx, Findings* f) {
  const auto& toks = s_.raw.tokens;
  if (ctx.where == Where::kAttrValue && ctx.attr_index < s_.raw.attributes.size()) {
    // A tag the page ends inside of never becomes an element.
    const std::uint32_t tb = first_token_ending_after(o.begin);
    if (tb < toks.size() && toks[tb].kind == html::TokenKind::kEofInTag) return;
    const html::Attribute& a = s_.raw.attributes[ctx.attr_index];
    if (a.quote != html::Quote::kNone && a.value.end > a.value.begin) {
      std::string_view value = text_.substr(a.value.begin, a.value.end - a.value.begin);
      if (is_url_attribute(ctx.attr)) {
        std::string_view scheme = script_url_written_by(text_, a, o.begin, o.end);
        if (!scheme.empty())
          add_effect(f, script_url_effect(ctx.attr, ctx.tag, scheme),
                     note_token("url", value, a.value.begin, a.value.end));
      } else if (is_handler(ctx.attr) && value.find('&') == std::string_view::npos &&
                 o.end <= a.value.end) {
        check_javascript(text_, a.value.begin, a.value.end, o.begin, o.end,
                         "the event handler " + lower(ctx.attr), f);
      }
    }
    return;
  }
  if (in_tag(ctx)) return tag_checks(o, f);
  if (ctx.where != Where::kScript) return;
  const std::uint32_t tb = first_token_ending_after(o.begin);
  if (tb >= toks.size()) return;
  const html::Token& content = toks[tb];
  if (content.kind != html::TokenKind::kRawText || content.begin > o.begin ||
      content.raw != html::RawKind::kScript)
    return;
  if (content.end < o.end) return;  // cut short by the input: reported by desync()
  // A page still being written whose script block is not closed yet: its end is where the
  // writing stopped, and a literal or comment open there says nothing about the input.
  if (check_->sink->partial && content.end >= text_.size()) return;
  // The <script> start tag just before decides the language.
  if (tb > 0 && toks[tb - 1].kind == html::TokenKind::kStartTag) {
    for (const html::Attribute& a : s_.raw.attributes_of(toks[tb - 1])) {
      if (!a.duplicate && common::iequals(text_.substr(a.name.begin, a.name.size()), "type") &&
          !is_javascript_type(text_.substr(a.value.begin, a.value.end - a.value.begin)))
        return;
    }
  }
  check_javascript(text_, content.begin, content.end, o.begin, o.end, "the <script> block", f);
}

// True when `input`, met where the tokenizer rests in content that is not a script (data,
// RCDATA, RAWTEXT, PLAINTEXT: not just after a '<', where a letter starts a tag), leaves the
// tokenizer as it found it: in those states only '<' (a tag, or the end of the element) and '&'
// (a character reference) start anything; NUL is data. The input is then data: the tokens are
// those of the reference, and no value check applies outside attribute values and scripts.
bool stays_content(State state, std::string_view input) {
  if (state != State::kData && state != State::kRcdata && state != State::kRawtext &&
      state != State::kPlaintext)
    return false;
  for (char c : input)
    if (c == '<' || c == '&') return false;
  return true;
}

// An input that begins inside a start tag, where the page names the tag or an attribute (or
// just after the page's '<'), lines up with the page's own syntax as far as the skeleton goes:
// the reference names the same attribute with the stand-in character (match_items,
// discount_app_markup). What the input wrote there is still read: an event handler or a script
// URL whose name, '=' and whole value came from the input (`<div ` + `onmouseover=alert(1)` +
// `>`). One that the page finishes (an input that writes only `onclick=track`, the page `()`)
// is left to the skeleton: an input can meet the page's own markup by coincidence, but not a
// whole attribute of it. Only the tag the page opened is read here: one the input opens may be
// dropped by the parser (a <td> in a paragraph), which the skeleton comparison knows and this
// check would not.
void Analyzer::tag_checks(const Occurrence& o, Findings* f) {
  const auto& toks = s_.raw.tokens;
  const std::uint32_t tb = first_token_ending_after(o.begin);
  if (tb >= toks.size()) return;
  const html::Token& t = toks[tb];
  if (t.kind != html::TokenKind::kStartTag || t.begin >= o.begin) return;
  const std::string_view tag = text_.substr(t.name.begin, t.name.size());
  for (const html::Attribute& a : s_.raw.attributes_of(t)) {
    if (a.duplicate || a.quote == html::Quote::kNone || a.name.begin < o.begin ||
        a.value.end > o.end)
      continue;
    const std::string_view name = text_.substr(a.name.begin, a.name.size());
    // The note: the attribute as written, its closing quote included.
    const std::uint32_t end = a.quote == html::Quote::kUnquoted || a.value.end >= text_.size()
                                  ? a.value.end
                                  : a.value.end + 1;
    const std::string_view written = text_.substr(a.name.begin, end - a.name.begin);
    if (is_handler(name)) {
      add_effect(f, "wrote the event handler `" + lower(name) + "` of <" + lower(tag) + ">",
                 note_token("event handler", written, a.name.begin, end));
    } else if (is_url_attribute(name)) {
      std::string_view scheme = script_url_written_by(text_, a, o.begin, o.end);
      if (!scheme.empty())
        add_effect(f, script_url_effect(name, tag, scheme),
                   note_token("url", written, a.name.begin, end));
    }
  }
}

bool Analyzer::analyze(const Occurrence& o, Detection* d) {
  const Probe& pb = probe(o.begin);
  if (pb.snap.pos != o.begin) return false;  // inside a "<!--" look-ahead: the page's markup
  const Context ctx = context_of(text_, s_.raw, pb);
  // A word or a phrase greeted in a page's text (the common reflection): judged without the
  // reference tokenizer.
  if (stays_content(pb.snap.state, text_.substr(o.begin, o.end - o.begin))) return false;
  const Probe& pe = probe(o.end);

  // The reference: the state at the input's start, one neutral character, then the page.
  s_.ref.clear();
  for (std::uint32_t i = 0; i < pb.snap.attr_count; ++i) {
    html::Attribute a = s_.raw.attributes[pb.attr_base + i];
    if (i + 1 == pb.snap.attr_count) {
      if (pb.snap.state == State::kAttrName) {
        a.duplicate = false;
        a.opaque = false;
      }
      if (pb.snap.state == State::kAttrValueDouble || pb.snap.state == State::kAttrValueSingle ||
          pb.snap.state == State::kAttrValueUnquoted)
        a.value.end = o.begin;
    }
    s_.ref.attributes.push_back(a);
  }
  html::Tokenizer ref(text_, &s_.ref);
  ref.restore(pb.snap);
  ref.feed_virtual('x', o.end);
  const html::Tokenizer::Snapshot rs = ref.snapshot();
  const bool same = pe.snap.pos == o.end && rs.state == pe.snap.state &&
                    rs.raw == pe.snap.raw && rs.emitted == pe.snap.emitted &&
                    pb.snap.emitted == pe.snap.emitted && rs.attr_count == pe.snap.attr_count &&
                    (html::is_content_state(rs.state) || rs.token_begin == pe.snap.token_begin);
  // The page is read past the input only as far as the judgement needs: an input that stays
  // data in text or in a tag needs nothing after itself, one in an attribute value or a script
  // the token around it (how the value or the script ends), and one that changes the tokens
  // the whole page (what they became, and whether the tree builders converge). A name greeted
  // near the top of a long page, or echoed into a search box, costs the page up to its token.
  if (!same) finish_page();
  else if (ctx.where == Where::kAttrValue || ctx.where == Where::kScript || in_tag(ctx))
    read_past(o.begin);
  const std::uint32_t tok_b = first_token_ending_after(o.begin);

  Findings f;
  std::uint64_t window = 0;
  if (!same) {
    advance_builder(tok_b);
    const std::uint32_t wb = o.begin > kWindow ? o.begin - kWindow : 0;
    const std::uint32_t we = std::min<std::uint32_t>(std::uint32_t(text_.size()), o.end + kWindow);
    const html::SkeletonBuilder::Entry* cur = builder_->current();
    window = fnv1a(text_.substr(wb, we - wb), 0xCBF29CE484222325ull ^ o.input);
    window = fnv1a(cur != nullptr ? cur->name : std::string_view("-"),
                   window ^ (std::uint64_t(builder_->depth()) << 32) ^
                       (std::uint64_t(builder_->mode()) << 48) ^ (o.begin - wb) ^
                       (std::uint64_t(o.end - o.begin) << 16));
    if (std::find(s_.clean_windows.begin(), s_.clean_windows.end(), window) !=
        s_.clean_windows.end())
      return false;
    desync(o, pb, ctx, &ref, tok_b, &f);
  }
  value_checks(o, ctx, &f);
  if (f.effects.empty()) {
    if (!same && extent_ <= o.end + kWindow && s_.clean_windows.size() < kMaxCleanWindows)
      s_.clean_windows.push_back(window);
    return false;
  }

  std::string reason = "input ";
  if (f.closed) {
    reason += f.closed_phrase + " and " + join(f.effects);
  } else {
    reason += join(f.effects) + " in " + where_phrase(ctx);
  }
  d->input = o.input;
  d->form = o.form;
  d->element = o.element;
  d->begin = o.begin;
  d->end = o.end;
  d->reason = std::move(reason);
  d->tokens = std::move(f.notes);
  return true;
}

void Analyzer::run(const SinkCheck& check, std::vector<Detection>* out) {
  check_ = &check;
  budget_ = 4 * std::uint64_t(text_.size()) + kMaxDesync;
  std::vector<std::uint32_t> convicted;
  for (const Occurrence& o : check.occurrences) {
    if (o.end <= o.begin || o.end > text_.size()) continue;
    if (std::find(convicted.begin(), convicted.end(), o.input) != convicted.end()) continue;
    Detection d;
    if (analyze(o, &d)) {
      convicted.push_back(o.input);
      out->push_back(std::move(d));
    }
  }
}

}  // namespace

namespace {

bool word_byte(unsigned char c) { return common::is_alnum(static_cast<char>(c)) || c == '_'; }

// An occurrence that no reading of the page can take for anything but data, decided from the
// bytes at its edges alone: a word of ASCII letters, digits and '_' that is not glued to the
// page's own word characters (in script, "1." + "5e" or "x" + "y" could make one token with the
// page's text; '$' and bytes past ASCII make identifiers too) and does not follow '&' or '#'
// (where it would spell a character reference: "&" + "colon" + ";" makes a URL's colon). Such
// a word opens no tag and no attribute (they need '<', a space, '/' or a quote), ends no
// literal, and in script is one whole token of its own. The usual reflected value ("Ada", a
// product id) needs no tokenizing of the page at all.
bool inert_word(std::string_view text, const Occurrence& o) {
  for (std::uint32_t k = o.begin; k < o.end; ++k)
    if (!word_byte(static_cast<unsigned char>(text[k]))) return false;
  auto glued = [](unsigned char c) { return word_byte(c) || c == '$' || c == '.' || c >= 0x80; };
  if (o.begin > 0) {
    const auto before = static_cast<unsigned char>(text[o.begin - 1]);
    if (glued(before) || before == '&' || before == '#') return false;
  }
  return o.end >= text.size() || !glued(static_cast<unsigned char>(text[o.end]));
}

}  // namespace

void detect_html(const SinkCheck& check, std::vector<Detection>* out) {
  const std::string_view text = check.sink->value;
  if (text.size() >= UINT32_MAX - 1) return;
  Scratch& s = scratch();
  // Inputs whose every occurrence is an inert word are left out (a page's other occurrences of
  // the same input take part in judging each one, so an input is kept or left out whole).
  s.analysed_inputs.assign(check.inputs.size(), false);
  bool any = false, all = true;
  for (const Occurrence& o : check.occurrences) {
    if (o.end <= o.begin || o.end > text.size() || o.input >= check.inputs.size()) continue;
    if (inert_word(text, o)) {
      all = false;
    } else {
      s.analysed_inputs[o.input] = true;
      any = true;
    }
  }
  if (!any) return;
  if (!all) {
    s.kept.clear();
    for (const Occurrence& o : check.occurrences)
      if (o.input < check.inputs.size() && s.analysed_inputs[o.input]) s.kept.push_back(o);
    if (s.kept.size() < check.occurrences.size()) {
      SinkCheck narrowed = check;
      narrowed.occurrences = s.kept;
      return detect_html_all(narrowed, out);
    }
  }
  detect_html_all(check, out);
}

void detect_html_all(const SinkCheck& check, std::vector<Detection>* out) {
  const std::string_view text = check.sink->value;
  if (text.size() >= UINT32_MAX - 1) return;
  Scratch& s = scratch();

  // Tokenize the page once, stopping at every occurrence bound to record the machine's state.
  s.probes.clear();
  for (const Occurrence& o : check.occurrences) {
    if (o.end <= o.begin || o.end > text.size()) continue;
    s.probes.push_back(Probe{o.begin, {}, 0});
    s.probes.push_back(Probe{o.end, {}, 0});
  }
  std::sort(s.probes.begin(), s.probes.end(),
            [](const Probe& a, const Probe& b) { return a.pos < b.pos; });
  s.probes.erase(std::unique(s.probes.begin(), s.probes.end(),
                             [](const Probe& a, const Probe& b) { return a.pos == b.pos; }),
                 s.probes.end());
  s.raw.clear();
  s.js_begin = UINT32_MAX;
  s.clean_windows.clear();
  html::Tokenizer tz(text, &s.raw);
  for (Probe& p : s.probes) {
    tz.run_to(p.pos);
    p.snap = tz.snapshot();
    p.attr_base = std::uint32_t(s.raw.attributes.size()) - p.snap.attr_count;
  }
  Analyzer analyzer(text, s, &tz);
  analyzer.run(check, out);
}

}  // namespace vigil::detect
