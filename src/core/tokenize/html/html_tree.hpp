// The part of HTML tree construction that decides which elements and attributes a token
// stream creates: the document's element/attribute skeleton.
//
// A parser does not turn every start tag into an element: in the body, <td>, <tr>, <head>,
// <frame>... outside their context are dropped; <html> and <body> start tags add their missing
// attributes to the existing elements; a stray </p> creates an empty <p> and </br> a <br>; an
// unterminated tag is dropped. SkeletonBuilder follows the HTML Standard's insertion modes
// (§13.2.6) for those decisions, with the stack of open elements and its scopes, and reports
// each creation. It does not build a tree and leaves out what cannot change the set of
// elements and attributes created: the adoption agency's re-parenting (an end tag of a
// formatting element closes it if it is in scope), foster parenting, and the active formatting
// elements' reconstruction.
//
// Scripting is taken as enabled (as in browsers): <noscript> content is raw text.
// Thread safety: a builder is a value; copies are independent. No allocation, no recursion:
// the stack of open elements is a fixed array (deeper elements are counted, not stored).
#ifndef VIGIL_CORE_TOKENIZE_HTML_HTML_TREE_HPP_
#define VIGIL_CORE_TOKENIZE_HTML_HTML_TREE_HPP_

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/tokenize/html/html_tokenizer.hpp"

namespace vigil::tokenize::html {

enum class Namespace : std::uint8_t { kHtml, kSvg, kMathMl };

// Tag names the tree construction rules mention; everything else is kOther.
enum class Tag : std::uint16_t {
  kOther, kA, kAddress, kAnnotationXml, kApplet, kArea, kArticle, kAside, kB, kBase,
  kBasefont, kBgsound, kBig, kBlockquote, kBody, kBr, kButton, kCaption, kCenter, kCode, kCol,
  kColgroup, kDd, kDesc, kDetails, kDialog, kDir, kDiv, kDl, kDt, kEm, kEmbed, kFieldset,
  kFigcaption, kFigure, kFont, kFooter, kForeignObject, kForm, kFrame, kFrameset, kH1, kH2, kH3,
  kH4, kH5, kH6, kHead, kHeader, kHgroup, kHr, kHtml, kI, kIframe, kImage, kImg, kInput, kKeygen,
  kLi, kLink, kListing, kMain, kMarquee, kMath, kMenu, kMeta, kMi, kMn, kMo, kMs, kMtext, kNav,
  kNobr, kNoembed, kNoframes, kNoscript, kObject, kOl, kOptgroup, kOption, kP, kParam,
  kPlaintext, kPre, kRb, kRp, kRt, kRtc, kRuby, kS, kScript, kSearch, kSection, kSelect, kSmall,
  kSource, kSpan, kStrike, kStrong, kStyle, kSub, kSummary, kSup, kSvg, kTable, kTbody, kTd,
  kTemplate, kTextarea, kTfoot, kTh, kThead, kTitle, kTr, kTrack, kTt, kU, kUl, kVar, kWbr,
  kXmp,
};
// The tag of an (any-case) name.
Tag tag_of(std::string_view name) noexcept;

// One element or attribute set a token created.
struct Creation {
  enum class Kind : std::uint8_t {
    kElement,  // an element from a start tag; its attributes are the tag's (duplicates aside)
    kImplied,  // an element the parser made up: <html>, <head>, <body>, <p> for </p>, <br>
    kMerged,   // attributes an <html>/<body> start tag added to the existing element
  };
  Kind kind = Kind::kElement;
  Namespace ns = Namespace::kHtml;
  std::string_view name;  // element name as written (kImplied: the canonical lower-case name)
  std::uint32_t token = 0;  // index of the token in the list it came from
  // kElement: the token's attributes minus duplicates. kMerged: those of them not already on
  // the element (bit i of `skip` set = attribute i of the token is not added; i < 64).
  std::uint64_t skip = 0;
};

class SkeletonBuilder {
 public:
  enum class Mode : std::uint8_t {
    kInitial, kBeforeHtml, kBeforeHead, kInHead, kAfterHead, kInBody, kText, kInTable,
    kInSelect, kAfterBody, kAfterAfterBody, kInFrameset, kAfterFrameset, kAfterAfterFrameset,
  };
  struct Entry {
    std::string_view name;
    Tag tag = Tag::kOther;
    Namespace ns = Namespace::kHtml;
  };
  static constexpr int kMaxDepth = 96;
  static constexpr int kMaxMergedNames = 16;

  // Processes one token (`index` is its index in `list`); appends what it creates to *out
  // (nullptr: creations are not recorded).
  // `text` is the text the token's spans refer to.
  void process(std::string_view text, const TokenList& list, std::uint32_t index,
               std::vector<Creation>* out);

  // Same mode, stack of open elements and flags: the two builders will treat every further
  // token alike.
  bool same_state(const SkeletonBuilder& other) const noexcept;

  Mode mode() const noexcept { return mode_; }
  // Parse errors of the kinds that mark markup out of place: tags the parser drops or reads
  // as something else (an end tag with nothing to close, a <td> in a paragraph, a second
  // <body>), elements it makes up for stray </p> and </br>, tags and comments cut off by the
  // end of the text. A well-formed page has none.
  std::uint32_t errors() const noexcept { return errors_; }
  int depth() const noexcept { return depth_ + overflow_; }
  // The current node (nullptr when the stack is empty or deeper than kMaxDepth).
  const Entry* current() const noexcept;

 private:
  struct Ctx;
  void start_tag(Ctx& c);
  void end_tag(Ctx& c);
  void text(Ctx& c, bool whitespace_only);
  void body_start_tag(Ctx& c);
  void body_end_tag(Ctx& c);
  void head_rules_start_tag(Ctx& c);
  void foreign_start_tag(Ctx& c);
  void push(std::string_view name, Tag tag, Namespace ns);
  void pop() noexcept;
  void pop_until(Tag tag, std::string_view name) noexcept;
  bool in_scope(Tag tag, int kind) const noexcept;
  bool has_on_stack(Tag tag) const noexcept;
  void close_p(Ctx& c);
  void create(Ctx& c, Creation::Kind kind, Namespace ns, bool push_it, Tag tag,
              std::string_view name);
  void merge(Ctx& c, bool into_html);
  Tag current_tag() const noexcept;

  Mode mode_ = Mode::kInitial;
  Mode return_mode_ = Mode::kInBody;  // after a raw text element (the "text" mode)
  bool frameset_ok_ = true;
  bool form_open_ = false;
  Entry stack_[kMaxDepth];
  int depth_ = 0;
  int overflow_ = 0;  // elements opened beyond kMaxDepth
  // Attribute names on <html> and <body> (for start tags that merge into them).
  std::string_view html_names_[kMaxMergedNames];
  std::string_view body_names_[kMaxMergedNames];
  int html_count_ = 0;
  int body_count_ = 0;
  std::uint32_t created_ = 0;  // creations so far (recorded or not)
  std::uint32_t errors_ = 0;
};

}  // namespace vigil::tokenize::html

#endif  // VIGIL_CORE_TOKENIZE_HTML_HTML_TREE_HPP_
