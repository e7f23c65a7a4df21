// Cross-site scripting attempts in request inputs (input analysis).
//
// The model: an application reflects a value into a page in one of a few places: HTML text, a
// double-quoted, single-quoted or unquoted attribute value, a URL attribute (href, src), a
// JavaScript string inside a <script>. The value is an XSS attempt when, in one of those
// places, it makes the page run script or load content it did not mean to:
//   - it creates an element that runs or loads something: <script>, an element with an event
//     handler, a URL attribute holding a javascript:/vbscript:/data:text/html URL, a style
//     that runs script (expression(), behavior, -moz-binding, javascript: URLs), <iframe>,
//     <object>, <embed>, <base href>, <meta http-equiv>, a style sheet <link>...;
//   - it closes the attribute value it sits in and adds such an attribute (or a new tag);
//   - it is itself a script URL whose body is JavaScript that does something;
//   - it closes the JavaScript string it sits in and adds code that does something (calls a
//     function, assigns, constructs).
// Each place is tried by tokenizing the value with the project's HTML tokenizer, started in
// that place (the value after "<x a=\"" for a double-quoted attribute...), and reading what it
// created; markup the value hides where another parser would see it (a comment's body, the
// content of a raw-text element it opens, an attribute value holding tags: IE conditional
// comments, foreign content, innerHTML sinks) is tokenized again as HTML text. Inert
// formatting ("<b>", "<br>", "<a href=/apps/>"), placeholders ("<package>") and prose ("a < b",
// "<3") create nothing that runs, and stay clean.
// JavaScript is read by a small recognizer over the project's JS tokenizer: operands and
// operators must alternate, brackets must match (closers of the application's own brackets
// are allowed after a string break-out), statements are separated by ';', line breaks or
// blocks, and the first token JavaScript cannot have there rejects the reading. Prose after a
// quote ("it's a nice day", "O'Brien and me") fails within a token or two.
//
// Cost: values without '<', quotes, ':' or '=' never get here (registry prefilter); the rest
// is rejected by byte scans unless it holds a tag opener, a quote followed by markup or code
// characters, a handler-like "on...=" or a script scheme. Candidates are tokenized once per
// place into per-thread scratch buffers (no allocation once warm); a verdict allocates its
// reason.
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/common/ascii.hpp"
#include "core/detect/input/input_detector.hpp"
#include "core/tokenize/html/html_tokenizer.hpp"
#include "core/tokenize/html/js_tokenizer.hpp"

namespace vigil::detect::input {
namespace {

namespace html = tokenize::html;
namespace js = tokenize::js;

using common::iequals;
using common::to_lower;

// ---------------------------------------------------------------------------------------------
// JavaScript recognizer

struct JsReading {
  bool valid = false;
  bool call = false;        // something is called (f(...), f`...`)
  bool assignment = false;  // something is assigned (x=..., x.y+=...)
  bool construct = false;   // new X
  std::string_view target;  // the first thing called, assigned or constructed
  std::string_view capability;  // the first browser capability named (alert, document...)
  // The first capability only browser script names: one whose name is its own (alert, eval,
  // innerHTML, cookie), or a generic one reached through a browser global (document.write,
  // window.location, top["al"+"ert"]). "print(x)", "self.name = name" or "f.write(data)" name
  // generic ones the way Python and most languages do.
  std::string_view browser_capability;
  bool effect() const noexcept { return call || assignment || construct; }
};

// Names through which script reaches the browser: dialogs, code evaluation, the document,
// the window and its aliases, navigation, storage, the network, and event handler properties
// (is_handler_name). What a payload calls or assigns to prove it runs, or to do harm.
bool is_handler_name(std::string_view n);
bool is_capability(std::string_view w) {
  static constexpr std::string_view kNames[] = {
      "alert",          "prompt",        "confirm",       "eval",          "Function",
      "setTimeout",     "setInterval",   "execScript",    "document",      "window",
      "top",            "parent",        "self",          "frames",        "globalThis",
      "location",       "cookie",        "fetch",         "XMLHttpRequest", "WebSocket",
      "importScripts",  "atob",          "fromCharCode",  "constructor",   "innerHTML",
      "outerHTML",      "insertAdjacentHTML", "write",   "writeln",       "srcdoc",
      "createElement",  "appendChild",   "navigator",     "sendBeacon",    "localStorage",
      "sessionStorage", "postMessage",   "opener",        "showModalDialog", "msgbox",
      "print",          "domain",        "referrer",      "href",          "unescape",
      "decodeURI",      "decodeURIComponent", "String",  "Reflect",       "defineProperty",
      "__defineSetter__", "__defineGetter__", "prototype", "Image",       "import",
      "open"};
  if (w.size() < 3 || w.size() > 20) return false;
  // Which (first byte, length) pairs a name can have: most words are rejected by one load.
  static const std::array<std::uint32_t, 256> kShapes = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::string_view n : kNames) t[static_cast<unsigned char>(n[0])] |= 1u << n.size();
    t['o'] = t['O'] = ~0u;  // event handler names (onload, ONERROR)
    return t;
  }();
  if (!(kShapes[static_cast<unsigned char>(w[0])] & (1u << w.size()))) return false;
  for (std::string_view n : kNames)
    if (w == n) return true;
  return is_handler_name(w);
}

// Capabilities whose names are common words of other languages' code (print, self, write,
// String, location ...): they tell browser script only as members of a browser global.
bool is_generic_capability(std::string_view w) {
  static constexpr std::string_view kNames[] = {
      "print",  "self",      "top",      "parent",   "frames",    "window",   "document",
      "String", "Image",     "write",    "writeln",  "href",      "location", "import",
      "domain", "referrer",  "prototype", "opener",  "fetch",     "open",
  };
  for (std::string_view n : kNames)
    if (w == n) return true;
  return false;
}
// The globals through which browser script reaches the page.
bool is_browser_global(std::string_view w) {
  return w == "window" || w == "document" || w == "top" || w == "parent" || w == "self" ||
         w == "frames" || w == "globalThis" || w == "opener" || w == "location" ||
         w == "navigator";
}

enum class JsStart : std::uint8_t {
  kAfterOperand,  // right after a string literal the value closed
  kStatement,     // at the start of a program (a script URL's body, a handler's code)
};

class JsReader {
 public:
  // `app_closers`: closing brackets with nothing open close the application's own brackets
  // (the value broke out of "f('" or "{a: '").
  JsReader(std::string_view src, JsStart start, bool app_closers) noexcept
      : src_(src), tz_(src), app_closers_(app_closers) {
    operand_ = start == JsStart::kStatement;
    stmt_ = operand_;
    lhs_ok_ = operand_;
  }

  JsReading read() noexcept {
    JsReading r;
    js::Token t;
    bool dangling = false;  // an unterminated literal was read: it must be the last token
    while (tz_.next(&t)) {
      if (t.kind == js::TokenKind::kComment) continue;
      if (dangling) return r;
      if (t.error) {
        const bool literal = t.kind == js::TokenKind::kString ||
                             t.kind == js::TokenKind::kTemplate ||
                             t.kind == js::TokenKind::kTemplateHead;
        if (!literal) return r;
        dangling = true;
      }
      if (!step(t, &r)) return r;
      prev_ = t;
      have_prev_ = true;
    }
    r.valid = true;
    return r;
  }

 private:
  enum class Frame : std::uint8_t {
    kGroup,     // ( expression )
    kCall,      // f( arguments )
    kHead,      // if/while/with/switch ( ... ): a statement follows
    kForHead,   // for ( ...; ...; ... )
    kParams,    // function/catch ( ... ): a block follows
    kArray,     // [ elements ]
    kIndex,     // x[ expression ]
    kBlock,     // { statements }: a statement follows
    kBody,      // { statements } of a function expression or arrow: an operator follows
    kObject,    // { key: value }
    kTemplate,  // `...${ expression }...`
  };
  enum class Pending : std::uint8_t {
    kNone,
    kHeadParen,     // after if/while/with/switch
    kForParen,      // after for
    kFunctionName,  // after function
    kParams,        // after function name / catch
    kBlock,         // after a parameter list
    kArrowBody,     // after =>
    kMember,        // after . or ?.
  };
  // The operand being read: where it began and what it is so far.
  struct Chain {
    std::uint32_t begin = 0;
    bool lhs = false;      // began where an assignment target may stand
    bool literal = false;  // a bare literal so far (calling it does nothing)
    bool called = false;   // ends with a call: not an assignment target
    bool global = false;   // starts with a browser global (window, document ...)
  };
  struct Entry {
    Frame frame;
    Chain chain;  // the operand the frame belongs to
  };
  static constexpr int kMaxDepth = 48;

  std::string_view text(const js::Token& t) const noexcept {
    return src_.substr(t.begin, t.end - t.begin);
  }
  bool prev_is(std::string_view p) const noexcept {
    return have_prev_ && prev_.kind == js::TokenKind::kPunctuator && text(prev_) == p;
  }
  bool push(Frame f) noexcept {
    if (depth_ == kMaxDepth) return false;
    stack_[depth_++] = Entry{f, chain_};
    return true;
  }
  Frame top() const noexcept { return depth_ > 0 ? stack_[depth_ - 1].frame : Frame::kBlock; }
  bool statement_level() const noexcept {
    return depth_ == 0 || top() == Frame::kBlock || top() == Frame::kBody;
  }
  // An operand is expected next; `lhs`: it may be an assignment target.
  void expect_operand(bool lhs) noexcept {
    operand_ = true;
    lhs_ok_ = lhs;
  }
  void begin_chain(std::uint32_t begin, bool literal) noexcept {
    chain_ = Chain{begin, lhs_ok_, literal, false};
  }
  void note_target(JsReading* r, std::uint32_t end) const noexcept {
    if (r->target.empty() && end > chain_.begin && end <= src_.size())
      r->target = src_.substr(chain_.begin, end - chain_.begin);
  }

  static bool starts_operand(const js::Token& t, std::string_view w) noexcept {
    switch (t.kind) {
      case js::TokenKind::kIdentifier:
      case js::TokenKind::kNumber:
      case js::TokenKind::kString:
      case js::TokenKind::kTemplate:
      case js::TokenKind::kTemplateHead:
      case js::TokenKind::kRegex:
        return true;
      case js::TokenKind::kKeyword:
        return w != "in" && w != "instanceof" && w != "of";
      default:
        return false;
    }
  }

  // A closer with nothing open: the application's own bracket.
  bool app_closer() noexcept {
    if (!app_closers_) return false;
    operand_ = false;
    chain_ = Chain{};
    return true;
  }

  bool close_paren() noexcept {
    if (depth_ == 0) return app_closer();
    const Entry e = stack_[--depth_];
    switch (e.frame) {
      case Frame::kGroup:
        chain_ = Chain{e.chain.begin, false, false, false};
        operand_ = false;
        return true;
      case Frame::kCall:
        chain_ = e.chain;
        chain_.called = true;
        chain_.literal = false;
        operand_ = false;
        return true;
      case Frame::kHead:
      case Frame::kForHead:
        operand_ = stmt_ = lhs_ok_ = true;
        return true;
      case Frame::kParams:
        pending_ = Pending::kBlock;
        return true;
      default:
        return false;
    }
  }
  bool close_bracket() noexcept {
    if (depth_ == 0) return app_closer();
    const Entry e = stack_[--depth_];
    if (e.frame == Frame::kIndex) {
      chain_ = e.chain;
      chain_.called = chain_.literal = false;
    } else if (e.frame == Frame::kArray) {
      chain_ = Chain{e.chain.begin, false, false, false};
    } else {
      return false;
    }
    operand_ = false;
    return true;
  }
  bool close_brace() noexcept {
    if (depth_ == 0) return app_closer();
    const Entry e = stack_[--depth_];
    switch (e.frame) {
      case Frame::kBlock:
        operand_ = stmt_ = lhs_ok_ = true;
        return true;
      case Frame::kBody:
      case Frame::kObject:
        chain_ = Chain{e.chain.begin, false, false, false};
        operand_ = false;
        return true;
      default:
        return false;
    }
  }

  bool step(const js::Token& t, JsReading* r) noexcept {
    const std::string_view w = text(t);
    const bool punct = t.kind == js::TokenKind::kPunctuator;
    const bool may_end = may_end_;
    may_end_ = false;

    switch (pending_) {
      case Pending::kNone:
        break;
      case Pending::kHeadParen:
      case Pending::kForParen:
        if (!punct || w != "(") return false;
        if (!push(pending_ == Pending::kForParen ? Frame::kForHead : Frame::kHead)) return false;
        pending_ = Pending::kNone;
        expect_operand(true);
        stmt_ = false;
        return true;
      case Pending::kFunctionName:
        pending_ = Pending::kParams;
        if (t.kind == js::TokenKind::kIdentifier) return true;
        [[fallthrough]];
      case Pending::kParams:
        if (!punct || w != "(" || !push(Frame::kParams)) return false;
        pending_ = Pending::kNone;
        expect_operand(true);
        stmt_ = false;
        return true;
      case Pending::kBlock:
        if (!punct || w != "{" || !push(body_expr_ ? Frame::kBody : Frame::kBlock)) return false;
        pending_ = Pending::kNone;
        operand_ = stmt_ = lhs_ok_ = true;
        return true;
      case Pending::kArrowBody:
        pending_ = Pending::kNone;
        if (punct && w == "{") {
          if (!push(Frame::kBody)) return false;
          operand_ = stmt_ = lhs_ok_ = true;
          return true;
        }
        break;
      case Pending::kMember:
        pending_ = Pending::kNone;
        if (t.kind != js::TokenKind::kIdentifier && t.kind != js::TokenKind::kKeyword &&
            t.kind != js::TokenKind::kPrivateName)
          return false;
        if (is_capability(w)) {
          if (r->capability.empty()) r->capability = w;
          if (r->browser_capability.empty() && (chain_.global || !is_generic_capability(w)))
            r->browser_capability = w;
        }
        chain_.called = chain_.literal = false;
        operand_ = false;
        return true;
    }

    // Automatic semicolon insertion: a line break before a token that cannot continue the
    // expression ends the statement.
    if (!operand_ && t.newline_before && starts_operand(t, w) && statement_level())
      operand_ = stmt_ = lhs_ok_ = true;

    if (operand_) return operand_step(t, w, may_end, r);
    return operator_step(t, w, r);
  }

  bool operand_step(const js::Token& t, std::string_view w, bool may_end, JsReading* r) noexcept {
    const bool stmt = stmt_;
    stmt_ = false;
    switch (t.kind) {
      case js::TokenKind::kIdentifier:
        begin_chain(t.begin, false);
        chain_.global = is_browser_global(w);
        if (is_capability(w)) {
          if (r->capability.empty()) r->capability = w;
          if (r->browser_capability.empty() && !is_generic_capability(w))
            r->browser_capability = w;
        }
        operand_ = false;
        return true;
      case js::TokenKind::kNumber:
      case js::TokenKind::kString:
      case js::TokenKind::kTemplate:
      case js::TokenKind::kRegex:
        begin_chain(t.begin, true);
        operand_ = false;
        return true;
      case js::TokenKind::kTemplateHead:
        begin_chain(t.begin, true);
        expect_operand(true);
        return push(Frame::kTemplate);
      case js::TokenKind::kKeyword:
        if (w == "this" || w == "null" || w == "true" || w == "false" || w == "super" ||
            w == "async" || w == "of" || (w == "let" && !stmt)) {
          begin_chain(t.begin, w == "null" || w == "true" || w == "false");
          operand_ = false;
          return true;
        }
        if (w == "typeof" || w == "void" || w == "delete" || w == "await" || w == "yield") {
          lhs_ok_ = false;
          return true;
        }
        if (w == "new") {
          r->construct = true;
          if (r->target.empty()) new_pending_ = true;
          lhs_ok_ = false;
          return true;
        }
        if (w == "function") {
          body_expr_ = !stmt;
          begin_chain(t.begin, false);
          chain_.lhs = false;
          pending_ = Pending::kFunctionName;
          return true;
        }
        if (!stmt) return false;
        lhs_ok_ = true;
        if (w == "if" || w == "while" || w == "with" || w == "switch") {
          pending_ = Pending::kHeadParen;
          return true;
        }
        if (w == "for") {
          pending_ = Pending::kForParen;
          return true;
        }
        if (w == "catch") {
          body_expr_ = false;
          pending_ = Pending::kParams;
          return true;
        }
        if (w == "else" || w == "do" || w == "try" || w == "finally") {
          stmt_ = true;
          return true;
        }
        if (w == "var" || w == "let" || w == "const" || w == "throw") return true;
        if (w == "return") {
          may_end_ = true;
          return true;
        }
        if (w == "break" || w == "continue" || w == "debugger") {
          operand_ = false;
          chain_ = Chain{};
          return true;
        }
        return false;
      case js::TokenKind::kPunctuator:
        break;
      default:
        return false;
    }
    if (w == "(") {
      begin_chain(t.begin, false);
      lhs_ok_ = true;
      return push(Frame::kGroup);
    }
    if (w == "[") {
      begin_chain(t.begin, false);
      lhs_ok_ = true;
      return push(Frame::kArray);
    }
    if (w == "{") {
      lhs_ok_ = true;
      if (stmt) {
        stmt_ = true;
        return push(Frame::kBlock);
      }
      begin_chain(t.begin, false);
      return push(Frame::kObject);
    }
    if (w == "!" || w == "~" || w == "+" || w == "-" || w == "++" || w == "--" || w == "...") {
      lhs_ok_ = w == "++" || w == "--" || w == "...";
      return true;
    }
    if (w == ";") {
      lhs_ok_ = true;
      if (depth_ > 0 && top() == Frame::kForHead) return true;
      if (!stmt && !may_end) return false;
      stmt_ = true;
      return true;
    }
    if (w == ")") {
      if (!prev_is("(") && !prev_is(",")) return false;
      return close_paren();
    }
    if (w == "]") {
      if (!prev_is("[") && !prev_is(",")) return false;
      return close_bracket();
    }
    if (w == "}") {
      const Frame f = depth_ > 0 ? top() : Frame::kBlock;
      const bool block = f == Frame::kBlock || f == Frame::kBody;
      if (block ? !(stmt || may_end) : !(prev_is("{") || prev_is(","))) return false;
      return close_brace();
    }
    return false;
  }

  bool operator_step(const js::Token& t, std::string_view w, JsReading* r) noexcept {
    stmt_ = false;
    if (new_pending_) {
      // The constructed thing is the operand just read.
      new_pending_ = false;
      if (r->target.empty()) r->target = src_.substr(chain_.begin, prev_.end - chain_.begin);
    }
    switch (t.kind) {
      case js::TokenKind::kPunctuator:
        break;
      case js::TokenKind::kKeyword:
        if (w == "in" || w == "instanceof" ||
            (w == "of" && depth_ > 0 && top() == Frame::kForHead)) {
          expect_operand(false);
          return true;
        }
        return false;
      case js::TokenKind::kTemplate:  // a tagged template calls its tag
      case js::TokenKind::kTemplateHead:
        if (!t.error && !chain_.literal) {
          r->call = true;
          note_target(r, prev_.end);
        }
        chain_.called = true;
        if (t.kind == js::TokenKind::kTemplate) return true;
        expect_operand(true);
        return push(Frame::kTemplate);
      case js::TokenKind::kTemplateMiddle:
        if (depth_ == 0 || top() != Frame::kTemplate) return false;
        expect_operand(true);
        return true;
      case js::TokenKind::kTemplateTail:
        if (depth_ == 0 || top() != Frame::kTemplate) return false;
        chain_ = stack_[--depth_].chain;
        return true;
      default:
        return false;
    }
    static constexpr std::string_view kAssign[] = {"=",   "+=",  "-=",   "*=", "/=", "%=",
                                                   "**=", "<<=", ">>=",  ">>>=", "&=", "|=",
                                                   "^=",  "&&=", "||=",  "?\?="};
    static constexpr std::string_view kBinary[] = {
        "+",  "-",  "*",  "/",  "%",   "**",  "==", "!=", "===", "!==", "<", ">", "<=",
        ">=", "&&", "||", "??", "&",   "|",   "^",  "<<", ">>",  ">>>"};
    for (std::string_view a : kAssign) {
      if (w != a) continue;
      if (depth_ > 0 && top() == Frame::kObject && w == "=") {  // {a = 1} shorthand default
        expect_operand(true);
        return true;
      }
      // Only a name, a member or an element can be assigned to, and only where the whole
      // expression so far is that target ("a & b = 1" is a syntax error).
      if (!chain_.lhs || chain_.called || chain_.literal) return false;
      r->assignment = true;
      note_target(r, prev_.end);
      expect_operand(true);
      return true;
    }
    for (std::string_view b : kBinary) {
      if (w == b) {
        expect_operand(false);
        return true;
      }
    }
    if (w == "," || w == "?" || w == ":") {
      expect_operand(true);
      return true;
    }
    if (w == "=>") {
      pending_ = Pending::kArrowBody;
      expect_operand(true);
      return true;
    }
    if (w == "++" || w == "--") {
      chain_.lhs = false;
      return true;
    }
    if (w == "." || w == "?.") {
      pending_ = Pending::kMember;
      return true;
    }
    if (w == "(") {
      if (!chain_.literal) {
        r->call = true;
        note_target(r, prev_.end);
      }
      if (!push(Frame::kCall)) return false;
      expect_operand(true);
      return true;
    }
    if (w == "[") {
      // A computed member of a browser global: top["al"+"ert"], window[atob("...")].
      if (chain_.global && r->browser_capability.empty()) r->browser_capability = text(prev_);
      if (!push(Frame::kIndex)) return false;
      expect_operand(true);
      return true;
    }
    if (w == ")") return close_paren();
    if (w == "]") return close_bracket();
    if (w == "}") return close_brace();
    if (w == ";") {
      if (depth_ > 0 && top() == Frame::kForHead) {
        expect_operand(true);
        return true;
      }
      if (!statement_level()) return false;
      operand_ = stmt_ = lhs_ok_ = true;
      return true;
    }
    return false;
  }

  std::string_view src_;
  js::Tokenizer tz_;
  bool app_closers_;
  bool operand_ = false;  // an operand is expected
  bool stmt_ = false;     // at the start of a statement
  bool lhs_ok_ = false;   // the operand expected may be an assignment target
  bool may_end_ = false;  // after `return`: the statement may end here
  bool body_expr_ = false;
  bool new_pending_ = false;
  Pending pending_ = Pending::kNone;
  Entry stack_[kMaxDepth];
  int depth_ = 0;
  Chain chain_;
  js::Token prev_;
  bool have_prev_ = false;
};

JsReading read_js(std::string_view src, JsStart start, bool app_closers) {
  return JsReader(src, start, app_closers).read();
}

// "calls alert", "assigns location", "constructs Function".
std::string effect_phrase(const JsReading& r) {
  std::string target(r.target.substr(0, 48));
  for (char& ch : target)
    if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  if (r.call) return target.empty() ? "calls a function" : "calls " + target;
  if (r.construct) return target.empty() ? "constructs an object" : "constructs " + target;
  return target.empty() ? "assigns a variable" : "assigns " + target;
}

// ---------------------------------------------------------------------------------------------
// URLs and CSS

enum class ScriptScheme : std::uint8_t { kNone, kJavascript, kVbscript, kData };

std::string_view scheme_name(ScriptScheme s) {
  switch (s) {
    case ScriptScheme::kJavascript: return "javascript:";
    case ScriptScheme::kVbscript: return "vbscript:";
    case ScriptScheme::kData: return "data:";
    case ScriptScheme::kNone: break;
  }
  return "";
}

// One character of a URL as a lenient reader sees it at v[i]: a character reference (in an
// attribute value) or a JavaScript escape (\x3a, \u003a: the application may unescape a JS
// string) stands for its character. Returns the code point and advances *i.
std::uint32_t url_char(std::string_view v, std::size_t* i, bool decode_refs) {
  const std::size_t p = *i;
  if (decode_refs && v[p] == '&') {
    std::uint32_t ref = 0;
    std::size_t k = html::char_ref_length(v, p, &ref);
    if (k > 0 && ref != 0) {
      *i = p + k;
      return ref;
    }
  }
  if (v[p] == '\\' && p + 1 < v.size()) {
    const char e = v[p + 1];
    std::size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 0;
    if (digits > 0 && p + 2 + digits <= v.size()) {
      std::uint32_t cp = 0;
      bool ok = true;
      for (std::size_t k = 0; k < digits && ok; ++k) {
        ok = common::is_xdigit(v[p + 2 + k]);
        if (ok) cp = cp * 16 + std::uint32_t(common::hex_value(v[p + 2 + k]));
      }
      if (ok) {
        *i = p + 2 + digits;
        return cp;
      }
    }
    if (e == '0') {
      *i = p + 2;
      return 0;
    }
  }
  *i = p + 1;
  return static_cast<unsigned char>(v[p]);
}

// Whether `s` holds a tag opener ('<' and a letter, '!', '/' or '?').
bool has_tag_open(std::string_view s);

// The payload of a data: URL (from `body`) holds markup: as text, or base64-encoded.
bool data_payload_has_markup(std::string_view v, std::size_t body, bool base64) {
  std::string_view payload = v.substr(body);
  if (!base64) return has_tag_open(payload);
  char buf[96];
  std::size_t n = 0;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < payload.size() && n < sizeof(buf); ++i) {
    const char c = payload[i];
    int d = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
          : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' || c == '-' ? 62
          : c == '/' || c == '_' ? 63 : -1;
    if (d < 0) {
      if (c == '=' || c == '&') break;
      continue;  // white space, line breaks and junk inside base64 are skipped by decoders
    }
    acc = (acc << 6) | std::uint32_t(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      buf[n++] = static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return has_tag_open(std::string_view(buf, n));
}

// The script scheme a URL starts with, as a browser (old ones included) reads it: character
// references resolved, leading spaces, controls and quotes skipped, tabs, line breaks, other
// controls and comments inside the scheme removed, ASCII case folded. A data: URL counts when
// its media type is one a browser renders as a document or runs, or its payload holds markup.
// *body receives the offset just past the scheme (for data:, past the ','). `decode_refs`: the
// URL sits in an attribute value.
ScriptScheme script_scheme(std::string_view v, bool decode_refs, std::size_t* body) {
  char buf[64];
  std::size_t n = 0;
  std::size_t i = 0;
  while (i < v.size() && n < sizeof(buf)) {
    if (v[i] == '<' && v.substr(i, 4) == "<!--") {  // IE dropped comments in XML data islands
      std::size_t e = v.find("-->", i + 4);
      i = e == std::string_view::npos ? v.size() : e + 3;
      continue;
    }
    const std::uint32_t cp = url_char(v, &i, decode_refs);
    if (cp <= 0x20 || cp == 0x7F) continue;  // removed or skipped by lenient browsers
    if (n == 0 && (cp == '`' || cp == '"' || cp == '\'' || cp >= 0x80)) continue;
    if (cp >= 0x80) return ScriptScheme::kNone;
    const char ch = to_lower(static_cast<char>(cp));
    buf[n++] = ch;
    const std::string_view s(buf, n);
    if (n <= 11 && ch == ':') {
      if (s == "javascript:" || s == "livescript:" || s == "mocha:") {
        *body = i;
        return ScriptScheme::kJavascript;
      }
      if (s == "vbscript:") {
        *body = i;
        return ScriptScheme::kVbscript;
      }
      if (s != "data:") return ScriptScheme::kNone;
    }
    if (n > 11 && s.substr(0, 5) != "data:") return ScriptScheme::kNone;
    if (n > 5 && ch == ',' && s.substr(0, 5) == "data:") {
      // data:<media type>[;params][;base64],<payload>
      std::string_view type = s.substr(5, s.size() - 6);
      const bool base64 = type.size() >= 7 && type.substr(type.size() - 7) == ";base64";
      type = type.substr(0, type.find(';'));
      static constexpr std::string_view kTypes[] = {
          "text/html",       "image/svg+xml",          "text/xml",
          "application/xml", "application/xhtml+xml",  "text/javascript",
          "application/javascript", "application/x-shockwave-flash", "text/x-scriptlet"};
      *body = i;
      for (std::string_view k : kTypes)
        if (type == k) return ScriptScheme::kData;
      return data_payload_has_markup(v, i, base64) ? ScriptScheme::kData : ScriptScheme::kNone;
    }
  }
  return ScriptScheme::kNone;
}

// CSS as IE read it, for finding what runs: comments removed (outside strings), escapes
// ("\65" for 'e') and, in attribute values, character references decoded, white space and
// controls dropped, ASCII lower-cased; other characters become '?'. Returns the size written.
std::size_t normalize_css(std::string_view css, bool decode_refs, char* buf, std::size_t cap) {
  std::size_t n = 0;
  char quote = 0;
  for (std::size_t i = 0; i < css.size() && n < cap;) {
    const char c = css[i];
    if (quote == 0 && c == '/' && i + 1 < css.size() && css[i + 1] == '*') {
      std::size_t e = css.find("*/", i + 2);
      i = e == std::string_view::npos ? css.size() : e + 2;
      continue;
    }
    std::uint32_t cp = static_cast<unsigned char>(c);
    std::size_t len = 1;
    if (c == '\\') {
      std::size_t j = i + 1, digits = 0;
      std::uint32_t v = 0;
      while (j < css.size() && digits < 6 && common::is_xdigit(css[j])) {
        v = v * 16 + std::uint32_t(common::hex_value(css[j]));
        ++j;
        ++digits;
      }
      if (digits == 0) {
        i += 1;  // "\x" is "x"
        continue;
      }
      cp = v;
      len = j - i;
      if (j < css.size() && (css[j] == ' ' || css[j] == '\t')) ++len;
    } else if (decode_refs && c == '&') {
      std::uint32_t ref = 0;
      std::size_t k = html::char_ref_length(css, i, &ref);
      if (k > 0 && ref != 0) {
        cp = ref;
        len = k;
      }
    } else if (c == '"' || c == '\'') {
      quote = quote == 0 ? c : quote == c ? 0 : quote;
    }
    i += len;
    if (cp <= 0x20 || cp == 0x7F) continue;
    buf[n++] = cp >= 0x80 ? '?' : to_lower(static_cast<char>(cp));
  }
  return n;
}

// CSS that runs script, binds behaviour or loads resources: expression(), javascript:/
// vbscript: URLs, behavior:, -moz-binding, @import, url(). With `declaration_start`, the value
// is a whole value that only might be CSS (a request value): each sign must stand where CSS
// has it, as a property value ("x:expression(", "src:url(") or a property ("behavior:"),
// which prose ("the expression (a+b)") does not.
const char* dangerous_css(std::string_view css, bool decode_refs, bool declaration_start = false) {
  char buf[2048];
  const std::string_view s(buf, normalize_css(css, decode_refs, buf, sizeof(buf)));
  static constexpr struct {
    std::string_view needle;
    const char* what;
    bool property;  // a property name (else a value)
  } kSigns[] = {
      {"expression(", "expression()", false},
      {"javascript:", "a javascript: URL", false},
      {"vbscript:", "a vbscript: URL", false},
      {"behavior:", "an HTC behavior", true},
      {"behaviour:", "an HTC behavior", true},
      {"-moz-binding:", "an XBL binding", true},
      {"@import", "an @import of another style sheet", true},
      {"url(", "a url() that loads a resource", false},
  };
  for (const auto& k : kSigns) {
    for (std::size_t p = s.find(k.needle); p != std::string_view::npos;
         p = s.find(k.needle, p + 1)) {
      if (!declaration_start) return k.what;
      const char before = p == 0 ? ';' : s[p - 1];
      if (k.property ? (before == ';' || before == '{' || before == '"' || before == '\'')
                     : before == ':')
        return k.what;
    }
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Markup

// "on" and at least three letters: onload, onerror, onxxx (browsers add new ones every year,
// and an unknown one still shows the intent).
bool is_handler_name(std::string_view n) {
  if (n.size() < 5 || to_lower(n[0]) != 'o' || to_lower(n[1]) != 'n') return false;
  for (std::size_t i = 2; i < n.size(); ++i)
    if (!common::is_alpha(n[i])) return false;
  return true;
}

// The part of a name after its namespace prefix ("xlink:href" -> "href").
std::string_view local_name(std::string_view n) {
  std::size_t colon = n.rfind(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

// An attribute name that is an event handler: its local name starts with a handler name that
// ends the name or is followed by punctuation old parsers stopped at ("onload!#$%&()").
bool is_handler_attribute(std::string_view n) {
  n = local_name(n);
  std::size_t letters = 0;
  while (letters < n.size() && common::is_alpha(n[letters])) ++letters;
  if (!is_handler_name(n.substr(0, letters))) return false;
  if (letters == n.size()) return true;
  const char next = n[letters];
  return !common::is_digit(next) && next != '-' && next != '_' && next != '.';
}

// A tag name equals `want` (ASCII case-insensitively), NUL bytes aside: old IE ignored them
// ("<scr\0ipt>").
bool name_is(std::string_view name, std::string_view want) {
  std::size_t j = 0;
  for (char ch : name) {
    if (ch == '\0') continue;
    if (j == want.size() || to_lower(ch) != want[j]) return false;
    ++j;
  }
  return j == want.size();
}

std::size_t find_ci(std::string_view hay, std::string_view needle) {
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (iequals(hay.substr(i, needle.size()), needle)) return i;
  return std::string_view::npos;
}

bool contains_ci(std::string_view hay, std::string_view needle) {
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (iequals(hay.substr(i, needle.size()), needle)) return true;
  return false;
}

std::string lower(std::string_view s, std::size_t max = 40) {
  std::string r;
  for (char ch : s.substr(0, max)) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      r += "\\x";
      r += kHex[u >> 4];
      r += kHex[u & 15];
    } else {
      r += to_lower(ch);
    }
  }
  return r;
}

// The place the value was tried in, for the reason.
enum class Place : std::uint8_t { kText, kDoubleQuoted, kSingleQuoted, kUnquoted };

constexpr std::string_view kPrefixes[] = {"", "<x a=\"", "<x a='", "<x a="};

std::string_view place_phrase(Place p) {
  switch (p) {
    case Place::kText: return "in HTML text";
    case Place::kDoubleQuoted: return "closing a double-quoted attribute value";
    case Place::kSingleQuoted: return "closing a single-quoted attribute value";
    case Place::kUnquoted: return "ending an unquoted attribute value";
  }
  return "";
}

struct Verdict {
  std::string what;     // "creates an <img> element with the event handler onerror"
  std::size_t at = 0;   // offset in the value of the decisive part
};

// Work kept per thread: the tokenized text with its place prefix, and token lists.
struct Scratch {
  std::string text;
  html::TokenList main;
  html::TokenList rescan;
  std::string unescaped;
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// A span of the text to tokenize again as HTML text: markup a comment, a raw-text element or
// an attribute value hides from this reading but another parser may see.
struct Rescan {
  std::uint32_t begin, end;
  const char* why;
};
constexpr int kMaxRescans = 8;

bool has_tag_open(std::string_view s) {
  for (std::size_t i = s.find('<'); i != std::string_view::npos; i = s.find('<', i + 1)) {
    if (i + 1 >= s.size()) return false;
    char c = s[i + 1];
    if (common::is_alpha(c) || c == '!' || c == '/' || c == '?') return true;
  }
  return false;
}

class MarkupJudge {
 public:
  MarkupJudge(std::string_view text, std::size_t prefix) : text_(text), prefix_(prefix) {}

  // Judges the tokens of `list`; `context_tag`: the first token is the application's tag
  // whose attributes from index 1 on the value added.
  bool judge(const html::TokenList& list, bool context_tag, const char* hidden, Verdict* v) {
    for (std::size_t k = 0; k < list.tokens.size(); ++k) {
      const html::Token& t = list.tokens[k];
      const bool app_tag = context_tag && k == 0;
      switch (t.kind) {
        case html::TokenKind::kStartTag:
        case html::TokenKind::kEofInTag:
          if (judge_tag(list, t, app_tag, hidden, v)) return true;
          break;
        case html::TokenKind::kComment:
          if (judge_processing_instruction(t, hidden, v)) return true;
          if (t.end - t.begin > 4) {
            std::uint32_t b = t.begin + (text_.substr(t.begin, 4) == "<!--" ? 4 : 2);
            add_rescan(b, t.end, "inside a comment");
          }
          break;
        case html::TokenKind::kText:
        case html::TokenKind::kRawText:
          if (t.raw == html::RawKind::kStyle && t.kind == html::TokenKind::kRawText) {
            if (const char* what = dangerous_css(slice(t.span()), false)) {
              v->what = std::string("creates a <style> element whose style sheet has ") + what;
              if (hidden != nullptr) v->what += std::string(" (") + hidden + ")";
              v->at = value_offset(t.begin);
              return true;
            }
          }
          if (t.raw != html::RawKind::kScript && t.raw != html::RawKind::kNone)
            add_rescan(t.begin, t.end, "inside the raw text of an element it opens");
          break;
        default:
          break;
      }
    }
    return false;
  }

  bool run_rescans(Verdict* v) {
    html::TokenList& list = scratch().rescan;
    for (int i = 0; i < rescan_count_; ++i) {
      const Rescan r = rescans_[i];
      list.clear();
      std::string_view sub = text_.substr(r.begin, r.end - r.begin);
      html::tokenize(sub, &list);
      MarkupJudge inner(sub, 0);
      inner.base_ = base_ + r.begin;
      inner.prefix_ = prefix_;
      inner.rescan_budget_ = 0;  // one level: hidden markup inside hidden markup is not read
      if (inner.judge(list, false, r.why, v)) return true;
    }
    return false;
  }

 private:
  std::string_view slice(html::Span s) const { return text_.substr(s.begin, s.end - s.begin); }
  std::size_t value_offset(std::uint32_t pos) const {
    std::size_t p = base_ + pos;
    return p >= prefix_ ? p - prefix_ : 0;
  }
  void add_rescan(std::uint32_t b, std::uint32_t e, const char* why) {
    if (rescan_count_ >= kMaxRescans || rescan_count_ >= rescan_budget_ || e <= b) return;
    if (!has_tag_open(text_.substr(b, e - b))) return;
    rescans_[rescan_count_++] = Rescan{b, e, why};
  }

  // XML processing instructions (bogus comments to HTML) that load style sheets or behaviors
  // where the page is read as XML or by old IE.
  bool judge_processing_instruction(const html::Token& t, const char* hidden, Verdict* v) {
    std::string_view s = text_.substr(t.begin, t.end - t.begin);
    if (s.size() < 10 || s[1] != '?') return false;
    auto contains = [&](std::string_view needle) {
      for (std::size_t i = 0; i + needle.size() <= s.size(); ++i)
        if (iequals(s.substr(i, needle.size()), needle)) return true;
      return false;
    };
    const char* what = nullptr;
    if (common::istarts_with(s.substr(2), "xml-stylesheet") && contains("href"))
      what = "adds an xml-stylesheet processing instruction, which loads a style sheet";
    else if (common::istarts_with(s.substr(2), "import") && contains("implementation"))
      what = "adds an import processing instruction, which loads an IE behavior";
    if (what == nullptr) return false;
    v->what = what;
    if (hidden != nullptr) v->what += std::string(" (") + hidden + ")";
    v->at = value_offset(t.begin);
    return true;
  }

  // What an attribute does, or nullptr. `added`: it is one the value added to the application's
  // element (its handler must hold code that does something: prose such as "sull'immobile e
  // ... ONDINA" makes attribute names, not handlers).
  std::string attribute_effect(const html::Attribute& a, bool added) {
    const std::string_view an = slice(a.name);
    const std::string_view av = slice(a.value);
    const std::string_view local = local_name(an);
    if (is_handler_attribute(an)) {
      if (added) {
        JsReading r = read_js(av, JsStart::kStatement, false);
        if (!r.valid || !r.effect()) return {};
      }
      return "the event handler " + lower(an);
    }
    std::size_t body = 0;
    const ScriptScheme s = script_scheme(av, true, &body);
    if (s != ScriptScheme::kNone && body < av.size())
      return "a " + std::string(scheme_name(s)) + " URL in " + lower(an);
    if (iequals(an, "style")) {
      if (const char* what = dangerous_css(av, true)) return "a style that has " + std::string(what);
    }
    if (iequals(an, "datasrc") && !av.empty())
      return "a data-binding source (datasrc), which IE renders into the page";
    if (iequals(an, "dataformatas") && iequals(common::trim(av), "html"))
      return "data binding rendered as HTML (dataformatas=html)";
    if (iequals(an, "srcdoc") && !av.empty()) return "an srcdoc document";
    if (local.size() < an.size() && (iequals(local, "event") || iequals(local, "handler")))
      return "an XML Events listener (" + lower(an) + ")";
    // Netscape's JavaScript entities: &{code}; in any attribute value.
    if (std::size_t e = av.find("&{"); e != std::string_view::npos) {
      JsReading r = read_js(av.substr(e + 2), JsStart::kStatement, true);
      if (r.valid && r.effect()) return "a JavaScript entity &{...} that " + effect_phrase(r);
    }
    // An unquoted value that starts like a handler ("<img src= onmouseover=alert(1)>"): old
    // parsers skipped the empty value and read the handler.
    if (a.quote == html::Quote::kUnquoted) {
      std::size_t eq = av.find('=');
      if (eq != std::string_view::npos && is_handler_attribute(av.substr(0, eq))) {
        // Old parsers read the handler's own quotes (src= onmouseover="alert(1)") as quotes.
        std::string_view code = common::trim(av.substr(eq + 1));
        if (code.size() >= 2 && (code[0] == '"' || code[0] == '\'') && code.back() == code[0])
          code = code.substr(1, code.size() - 2);
        JsReading r = read_js(code, JsStart::kStatement, false);
        if (r.valid && r.effect())
          return "the event handler " + lower(av.substr(0, eq)) + " (an attribute value old "
                 "browsers read as a new attribute)";
      }
    }
    return {};
  }

  bool judge_tag(const html::TokenList& list, const html::Token& t, bool app_tag,
                 const char* hidden, Verdict* v) {
    const std::string_view name = slice(t.name);
    const auto attrs = list.attributes_of(t);
    auto creates = [&] {
      const char c0 = name.empty() ? 'x' : to_lower(name[0]);
      const bool vowel = c0 == 'a' || c0 == 'e' || c0 == 'i' || c0 == 'o' || c0 == 'u';
      return std::string(vowel ? "creates an <" : "creates a <") + lower(name) + "> element";
    };
    auto found = [&](std::string what, std::uint32_t pos) {
      v->what = std::move(what);
      if (hidden != nullptr) v->what += std::string(" (") + hidden + ")";
      v->at = value_offset(pos);
      return true;
    };
    // Attributes: the value adds them all to an element it creates; in an attribute place, those
    // after the application's first one (and the first one's value, which it wrote whole).
    for (std::size_t i = 0; i < attrs.size(); ++i) {
      const html::Attribute& a = attrs[i];
      if (app_tag && i == 0) {
        if (a.quote == html::Quote::kUnquoted) {
          std::string what = attribute_effect(a, true);
          if (!what.empty() && what[0] == 't')  // a handler read from the value itself
            return found("makes old browsers read " + what, a.value.begin);
        }
        continue;
      }
      std::string what = attribute_effect(a, app_tag);
      if (!what.empty())
        return found(app_tag ? "adds " + what : creates() + " with " + what,
                     app_tag ? a.name.begin : t.begin);
      if (a.value.size() > 2 && slice(a.value).find('<') != std::string_view::npos)
        add_rescan(a.value.begin, a.value.end, "inside an attribute value");
    }
    if (app_tag) return false;
    // Elements that run or load something by themselves.
    struct Kind {
      std::string_view name;
      std::string_view attr;  // required attribute ("" none)
      const char* what;
    };
    static constexpr Kind kElements[] = {
        {"script", "", "which runs script"},
        {"iframe", "", "which loads another document"},
        {"frame", "", "which loads another document"},
        {"object", "", "which loads a plugin or document"},
        {"embed", "", "which loads a plugin or document"},
        {"applet", "", "which loads a Java applet"},
        {"portal", "", "which loads another document"},
        {"base", "href", "which redirects the page's relative URLs"},
        {"meta", "http-equiv", "which refreshes, redirects or sets headers"},
        {"meta", "charset", "which changes how the page is decoded"},
        {"link", "href", "which loads a resource into the page"},
        {"layer", "src", "which loads another document"},
        {"ilayer", "src", "which loads another document"},
        {"bgsound", "src", "which loads a resource"},
        {"xml", "src", "an XML data island, which loads a document IE binds into the page"},
        {"import", "", "which imports a behavior"},
        {"style", "type", ""},
    };
    const std::string_view local = local_name(name);
    for (const Kind& k : kElements) {
      if (!name_is(local, k.name)) continue;
      std::string_view required;
      if (!k.attr.empty()) {
        for (const html::Attribute& a : attrs)
          if (iequals(slice(a.name), k.attr)) required = slice(a.value);
        if (required.data() == nullptr) continue;
      }
      if (k.name == "style") {  // Netscape's JavaScript style sheets
        if (!contains_ci(required, "javascript")) continue;
        return found(creates() + " of type " + lower(required) + ", which Netscape ran as script",
                     t.begin);
      }
      return found(creates() + ", " + k.what, t.begin);
    }
    if (name_is(local, "set") || name_is(local, "animate")) {
      // SVG (and HTML+TIME) animation that rewrites a link, an event handler or the markup of
      // another element.
      for (const html::Attribute& a : attrs) {
        if (!iequals(slice(a.name), "attributename")) continue;
        const std::string_view target = slice(a.value);
        const std::string_view target_local = local_name(target);
        if (iequals(target_local, "href") || is_handler_attribute(target) ||
            iequals(target, "innerhtml") || iequals(target, "outerhtml"))
          return found(creates() + ", an animation that rewrites " + lower(target), t.begin);
      }
    }
    if (name_is(local, "handler") || name_is(local, "listener")) {
      for (const html::Attribute& a : attrs) {
        if (iequals(local_name(slice(a.name)), "event"))
          return found(creates() + ", an XML Events handler", t.begin);
      }
    }
    return false;
  }

  std::string_view text_;
  std::size_t prefix_;
  std::size_t base_ = 0;  // offset of text_ in the text the prefix belongs to
  Rescan rescans_[kMaxRescans];
  int rescan_count_ = 0;
  int rescan_budget_ = kMaxRescans;
};

// Tokenizes the value placed at `place` and judges what it creates. `ie_backticks`: read
// backticks as quotes, as Internet Explorer did ("<img src=`x`onerror=...>").
bool judge_markup(std::string_view value, Place place, Verdict* v, bool ie_backticks = false) {
  Scratch& s = scratch();
  std::string_view prefix = kPrefixes[static_cast<int>(place)];
  std::string_view text = value;
  if (!prefix.empty() || ie_backticks) {
    s.text.assign(prefix);
    s.text.append(value);
    if (ie_backticks)
      for (char& ch : s.text)
        if (ch == '`') ch = '"';
    text = s.text;
  }
  if (text.size() >= UINT32_MAX - 1) return false;
  s.main.clear();
  html::tokenize(text, &s.main);
  MarkupJudge judge(text, prefix.size());
  if (judge.judge(s.main, !prefix.empty(), nullptr, v)) return true;
  return judge.run_rescans(v);
}

// ---------------------------------------------------------------------------------------------
// Quick scans

// An attribute-like "name=" whose name is a handler name, anywhere in the value.
bool has_handler_assignment(std::string_view v) {
  for (std::size_t i = v.find('='); i != std::string_view::npos; i = v.find('=', i + 1)) {
    std::size_t j = i;
    while (j > 0 && (v[j - 1] == ' ' || v[j - 1] == '\t' || v[j - 1] == '\n')) --j;
    std::size_t e = j;
    while (j > 0 && common::is_alpha(v[j - 1])) --j;
    if (is_handler_name(v.substr(j, e - j))) return true;
  }
  return false;
}

bool set_hit(Hit* hit, std::string reason, std::string_view value, std::size_t at) {
  hit->reason = std::move(reason);
  hit->evidence = evidence(value.substr(at < value.size() ? at : 0));
  return true;
}

// The value as a whole URL: a script scheme whose body does something.
bool judge_url(std::string_view v, Hit* hit) {
  std::size_t body = 0;
  ScriptScheme s = script_scheme(v, false, &body);
  if (s == ScriptScheme::kNone) return false;
  std::string_view rest = v.substr(body);
  if (common::trim(rest).empty()) return false;
  if (s == ScriptScheme::kJavascript) {
    JsReading r = read_js(rest, JsStart::kStatement, false);
    if (!r.valid || !r.effect()) return false;
    return set_hit(hit,
                   "a javascript: URL whose code " + effect_phrase(r) +
                       ", run when the value is used as a link or source",
                   v, 0);
  }
  if (s == ScriptScheme::kVbscript) {
    if (common::find_any(rest, "(=") == std::string_view::npos) return false;
    return set_hit(hit, "a vbscript: URL, run by Internet Explorer when the value is used as a link",
                   v, 0);
  }
  return set_hit(hit, "a data: URL holding a document or script, run when the value is used as a "
                      "link or frame source",
                 v, 0);
}

// Does any identifier-shaped run of the text name a capability? A superset of what the reader
// can report (runs inside strings and comments count too); linear, no allocation.
bool names_capability(std::string_view v) {
  auto ident = [](char c) {
    return common::is_alnum(c) || c == '_' || c == '$';
  };
  std::size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && !ident(v[i])) ++i;
    std::size_t b = i;
    while (i < v.size() && ident(v[i])) ++i;
    if (i - b >= 3 && is_capability(v.substr(b, i - b))) return true;
  }
  return false;
}

// The value as code the application runs (an event handler's body, a script's expression,
// eval): a whole program that does something through a browser capability. Code snippets in
// other languages seldom form valid JavaScript, and when they do they call their own
// functions (printf, open), not the browser's.
bool judge_code(std::string_view v, Hit* hit) {
  if (common::find_any(v, "(=`") == std::string_view::npos) return false;
  // A verdict needs a browser capability, and every capability the reader can find is spelled
  // out as an identifier in the text: without one there is no need to read the code at all
  // (User-Agents and prose with parentheses are most values that get here).
  if (!names_capability(v)) return false;
  // Code that first closes the application's comment ("*/a=eval;...", "-->...") or array
  // ("];alert(1)"): the closer ends what the page wrote, the rest runs.
  std::string_view code = v;
  std::size_t lead = 0;
  while (lead < code.size() && (code[lead] == ' ' || code[lead] == '\t')) ++lead;
  code.remove_prefix(lead);
  if (code.starts_with("*/")) code.remove_prefix(2);
  else if (code.starts_with("-->")) code.remove_prefix(3);
  while (!code.empty() && (code[0] == ']' || code[0] == ')' || code[0] == '}')) code.remove_prefix(1);
  JsReading r = read_js(code, JsStart::kStatement, true);
  if (!r.valid || !r.effect() || r.browser_capability.empty()) return false;
  return set_hit(hit,
                 "as script code it " + effect_phrase(r) + " and reaches " +
                     std::string(r.browser_capability.substr(0, 32)) +
                     " (code injected where a page runs it: an event handler, a script, eval)",
                 v, 0);
}

// A value that is nothing but numeric character references for markup characters ("&#60",
// "&#X000003c;"): a probe of how the page decodes references before trying a payload.
bool is_reference_probe(std::string_view v) {
  v = common::trim(v);
  if (v.size() < 4 || v.size() > 40 || v[0] != '&' || v[1] != '#') return false;
  bool lt = false;
  for (std::size_t i = 0; i < v.size();) {
    std::uint32_t cp = 0;
    std::size_t k = html::char_ref_length(v, i, &cp);
    if (k == 0 || v[i + 1] != '#') return false;
    if (cp != '<' && cp != '>' && cp != '"' && cp != '\'') return false;
    lt = lt || cp == '<';
    i += k;
  }
  return lt;
}

// JavaScript escapes of markup characters (\x3c, \u003C): a value the application unescapes
// as a JS string before writing it. Decodes \xHH and \uHHHH into *out.
bool js_unescape_markup(std::string_view v, std::string* out) {
  bool markup = false;
  for (std::size_t i = v.find('\\'); i != std::string_view::npos && !markup;
       i = v.find('\\', i + 1)) {
    std::string_view e = v.substr(i + 1, 5);
    markup = common::istarts_with(e, "x3c") || common::istarts_with(e, "u003c");
  }
  if (!markup) return false;
  out->clear();
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i;
    std::uint32_t cp = url_char(v, &j, false);
    if (j - i > 1 && cp > 0 && cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else {
      out->append(v.substr(i, j - i));
    }
    i = j;
  }
  return true;
}

// UTF-7 (RFC 2152): "+" starts a run of modified base64 holding UTF-16 code units, ended by
// '-' (dropped) or any other character. Old Internet Explorer sniffed pages without a charset
// as UTF-7, so "+ADw-script+AD4-" was "<script>". ASCII results are kept, others become '?'.
// Returns whether a run decoded to something.
bool utf7_decode(std::string_view v, std::string* out) {
  auto b64 = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out->clear();
  bool decoded = false;
  for (std::size_t i = 0; i < v.size();) {
    if (v[i] != '+' || i + 1 >= v.size() || b64(v[i + 1]) < 0) {
      out->push_back(v[i++]);
      continue;
    }
    ++i;
    std::uint32_t bits = 0;
    int nbits = 0;
    while (i < v.size() && b64(v[i]) >= 0) {
      bits = (bits << 6) | static_cast<std::uint32_t>(b64(v[i++]));
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        const std::uint32_t unit = (bits >> nbits) & 0xFFFF;
        out->push_back(unit < 0x80 ? static_cast<char>(unit) : '?');
        decoded = true;
      }
      bits &= (1u << nbits) - 1;
    }
    if (i < v.size() && v[i] == '-') ++i;
  }
  return decoded;
}

// "<scr<script>ipt>alert(1)</scr<script>ipt>", "<scrscriptipt>": markup built so that a filter
// that removes "<script>" tags (or the word "script") in one pass, without repeating, leaves a
// script element. Writes the value as such a filter leaves it into *out, when the removal
// creates a "script" that was not there as written; *what names the filter.
bool strip_filtered(std::string_view v, std::string* out, const char** what) {
  auto remove_all = [&](std::initializer_list<std::string_view> needles) {
    out->clear();
    bool removed = false;
    for (std::size_t i = 0; i < v.size();) {
      bool hit = false;
      for (std::string_view n : needles) {
        if (v.size() - i >= n.size() && iequals(v.substr(i, n.size()), n)) {
          i += n.size();
          hit = removed = true;
          break;
        }
      }
      if (!hit) out->push_back(v[i++]);
    }
    return removed;
  };
  // Only worth a second reading when "script" occurs at least twice.
  const std::size_t first = find_ci(v, "script");
  if (first == std::string_view::npos || find_ci(v.substr(first + 6), "script") ==
                                              std::string_view::npos)
    return false;
  if (remove_all({"<script>", "</script>"}) && contains_ci(*out, "<script")) {
    *what = "the <script> tags it holds";
    return true;
  }
  if (remove_all({"script"}) && contains_ci(*out, "script")) {
    *what = "the word script";
    return true;
  }
  return false;
}

// The value inside a JavaScript string delimited by `quote`: after the first quote (and after
// the first quote no backslash escapes, when it differs) the code must do something.
bool judge_js_string(std::string_view v, char quote, Hit* hit) {
  std::size_t first = v.find(quote);
  if (first == std::string_view::npos) return false;
  std::size_t tries[2] = {first, std::string_view::npos};
  if (first > 0 && v[first - 1] == '\\') {
    for (std::size_t i = v.find(quote, first + 1); i != std::string_view::npos;
         i = v.find(quote, i + 1)) {
      if (v[i - 1] != '\\') {
        tries[1] = i;
        break;
      }
    }
  }
  for (std::size_t at : tries) {
    if (at == std::string_view::npos) continue;
    std::string_view rest = v.substr(at + 1);
    if (common::find_any(rest, "(=`") == std::string_view::npos) continue;
    JsReading r = read_js(rest, JsStart::kAfterOperand, true);
    if (!r.valid || !r.effect()) continue;
    const char* kind = quote == '\'' ? "single" : quote == '"' ? "double" : "back";
    return set_hit(hit,
                   std::string("inside a ") + kind +
                       "-quoted JavaScript string it closes the string and adds code that " +
                       effect_phrase(r),
                   v, at);
  }
  return false;
}

}  // namespace

bool detect_xss(const Candidate& c, Hit* hit) {
  std::string_view v = c.value;
  const std::uint32_t f = c.features;
  Verdict verdict;
  auto markup = [&](Place place) {
    if (!judge_markup(v, place, &verdict)) return false;
    return set_hit(hit, std::string(place_phrase(place)) + " it " + verdict.what, v, verdict.at);
  };

  const bool tag_open = (f & kLt) && has_tag_open(v);
  if (tag_open && markup(Place::kText)) return true;
  if (tag_open && (f & kBacktick) && judge_markup(v, Place::kText, &verdict, true))
    return set_hit(hit, "in HTML text, with backticks read as quotes (Internet Explorer), it " +
                            verdict.what, v, verdict.at);
  if (f & (kEquals | kLt | kGt)) {
    const bool handler = (f & kEquals) && has_handler_assignment(v);
    if ((f & kDQuote) && (handler || tag_open || (f & kEquals)) && markup(Place::kDoubleQuoted))
      return true;
    if ((f & kSQuote) && (handler || tag_open || (f & kEquals)) && markup(Place::kSingleQuoted))
      return true;
    if (handler && (f & kSpace) && markup(Place::kUnquoted)) return true;
  }
  if ((f & kColon) && judge_url(v, hit)) return true;
  if (f & (kParen | kEquals | kBacktick)) {
    if ((f & kSQuote) && judge_js_string(v, '\'', hit)) return true;
    if ((f & kDQuote) && judge_js_string(v, '"', hit)) return true;
    if (judge_code(v, hit)) return true;
  }
  if ((f & kAmp) && is_reference_probe(v)) {
    hit->suspicious = true;
    return set_hit(hit, "numeric character references for markup characters alone: a probe of "
                        "how the page decodes references before a payload",
                   v, 0);
  }
  if (f & kBackslash) {
    std::string& decoded = scratch().unescaped;
    if (js_unescape_markup(v, &decoded) && has_tag_open(decoded) &&
        judge_markup(decoded, Place::kText, &verdict))
      return set_hit(hit, "once its JavaScript escapes (\\x3c) are decoded, in HTML text it " +
                              verdict.what, v, 0);
  }
  if ((f & kPlus) && v.find("+AD") != std::string_view::npos) {
    std::string& decoded = scratch().unescaped;
    if (utf7_decode(v, &decoded) && has_tag_open(decoded) &&
        judge_markup(decoded, Place::kText, &verdict))
      return set_hit(hit, "read as UTF-7 (+ADw- is '<'), which old browsers sniffed, in HTML text "
                          "it " + verdict.what, v, 0);
  }
  if (tag_open) {
    std::string& stripped = scratch().unescaped;
    const char* what = nullptr;
    if (strip_filtered(v, &stripped, &what) && has_tag_open(stripped) &&
        judge_markup(stripped, Place::kText, &verdict))
      return set_hit(hit, std::string("once a filter removes ") + what +
                              " (in one pass), in HTML text it " + verdict.what, v, 0);
  }
  return false;
}

}  // namespace vigil::detect::input
