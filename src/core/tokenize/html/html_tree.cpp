#include "core/tokenize/html/html_tree.hpp"

#include <algorithm>
#include <array>

#include "core/common/ascii.hpp"

namespace vigil::tokenize::html {
namespace {

struct TagName {
  std::string_view name;
  Tag tag;
};

// Sorted by name, for binary search.
constexpr TagName kTags[] = {
    {"a", Tag::kA},
    {"address", Tag::kAddress},
    {"annotation-xml", Tag::kAnnotationXml},
    {"applet", Tag::kApplet},
    {"area", Tag::kArea},
    {"article", Tag::kArticle},
    {"aside", Tag::kAside},
    {"b", Tag::kB},
    {"base", Tag::kBase},
    {"basefont", Tag::kBasefont},
    {"bgsound", Tag::kBgsound},
    {"big", Tag::kBig},
    {"blockquote", Tag::kBlockquote},
    {"body", Tag::kBody},
    {"br", Tag::kBr},
    {"button", Tag::kButton},
    {"caption", Tag::kCaption},
    {"center", Tag::kCenter},
    {"code", Tag::kCode},
    {"col", Tag::kCol},
    {"colgroup", Tag::kColgroup},
    {"dd", Tag::kDd},
    {"desc", Tag::kDesc},
    {"details", Tag::kDetails},
    {"dialog", Tag::kDialog},
    {"dir", Tag::kDir},
    {"div", Tag::kDiv},
    {"dl", Tag::kDl},
    {"dt", Tag::kDt},
    {"em", Tag::kEm},
    {"embed", Tag::kEmbed},
    {"fieldset", Tag::kFieldset},
    {"figcaption", Tag::kFigcaption},
    {"figure", Tag::kFigure},
    {"font", Tag::kFont},
    {"footer", Tag::kFooter},
    {"foreignobject", Tag::kForeignObject},
    {"form", Tag::kForm},
    {"frame", Tag::kFrame},
    {"frameset", Tag::kFrameset},
    {"h1", Tag::kH1},
    {"h2", Tag::kH2},
    {"h3", Tag::kH3},
    {"h4", Tag::kH4},
    {"h5", Tag::kH5},
    {"h6", Tag::kH6},
    {"head", Tag::kHead},
    {"header", Tag::kHeader},
    {"hgroup", Tag::kHgroup},
    {"hr", Tag::kHr},
    {"html", Tag::kHtml},
    {"i", Tag::kI},
    {"iframe", Tag::kIframe},
    {"image", Tag::kImage},
    {"img", Tag::kImg},
    {"input", Tag::kInput},
    {"keygen", Tag::kKeygen},
    {"li", Tag::kLi},
    {"link", Tag::kLink},
    {"listing", Tag::kListing},
    {"main", Tag::kMain},
    {"marquee", Tag::kMarquee},
    {"math", Tag::kMath},
    {"menu", Tag::kMenu},
    {"meta", Tag::kMeta},
    {"mi", Tag::kMi},
    {"mn", Tag::kMn},
    {"mo", Tag::kMo},
    {"ms", Tag::kMs},
    {"mtext", Tag::kMtext},
    {"nav", Tag::kNav},
    {"nobr", Tag::kNobr},
    {"noembed", Tag::kNoembed},
    {"noframes", Tag::kNoframes},
    {"noscript", Tag::kNoscript},
    {"object", Tag::kObject},
    {"ol", Tag::kOl},
    {"optgroup", Tag::kOptgroup},
    {"option", Tag::kOption},
    {"p", Tag::kP},
    {"param", Tag::kParam},
    {"plaintext", Tag::kPlaintext},
    {"pre", Tag::kPre},
    {"rb", Tag::kRb},
    {"rp", Tag::kRp},
    {"rt", Tag::kRt},
    {"rtc", Tag::kRtc},
    {"ruby", Tag::kRuby},
    {"s", Tag::kS},
    {"script", Tag::kScript},
    {"search", Tag::kSearch},
    {"section", Tag::kSection},
    {"select", Tag::kSelect},
    {"small", Tag::kSmall},
    {"source", Tag::kSource},
    {"span", Tag::kSpan},
    {"strike", Tag::kStrike},
    {"strong", Tag::kStrong},
    {"style", Tag::kStyle},
    {"sub", Tag::kSub},
    {"summary", Tag::kSummary},
    {"sup", Tag::kSup},
    {"svg", Tag::kSvg},
    {"table", Tag::kTable},
    {"tbody", Tag::kTbody},
    {"td", Tag::kTd},
    {"template", Tag::kTemplate},
    {"textarea", Tag::kTextarea},
    {"tfoot", Tag::kTfoot},
    {"th", Tag::kTh},
    {"thead", Tag::kThead},
    {"title", Tag::kTitle},
    {"tr", Tag::kTr},
    {"track", Tag::kTrack},
    {"tt", Tag::kTt},
    {"u", Tag::kU},
    {"ul", Tag::kUl},
    {"var", Tag::kVar},
    {"wbr", Tag::kWbr},
    {"xmp", Tag::kXmp},
};

bool any_of(Tag t, std::initializer_list<Tag> set) {
  return std::find(set.begin(), set.end(), t) != set.end();
}

bool is_heading(Tag t) { return t >= Tag::kH1 && t <= Tag::kH6; }

// HTML Standard "special" category, HTML namespace part.
bool is_special_html(Tag t) {
  switch (t) {
    case Tag::kAddress: case Tag::kApplet: case Tag::kArea: case Tag::kArticle:
    case Tag::kAside: case Tag::kBase: case Tag::kBasefont: case Tag::kBgsound:
    case Tag::kBlockquote: case Tag::kBody: case Tag::kBr: case Tag::kButton:
    case Tag::kCaption: case Tag::kCenter: case Tag::kCol: case Tag::kColgroup: case Tag::kDd:
    case Tag::kDetails: case Tag::kDialog: case Tag::kDir: case Tag::kDiv: case Tag::kDl:
    case Tag::kDt: case Tag::kEmbed: case Tag::kFieldset: case Tag::kFigcaption:
    case Tag::kFigure: case Tag::kFooter: case Tag::kForm: case Tag::kFrame:
    case Tag::kFrameset: case Tag::kH1: case Tag::kH2: case Tag::kH3: case Tag::kH4:
    case Tag::kH5: case Tag::kH6: case Tag::kHead: case Tag::kHeader: case Tag::kHgroup:
    case Tag::kHr: case Tag::kHtml: case Tag::kIframe: case Tag::kImg: case Tag::kInput:
    case Tag::kKeygen: case Tag::kLi: case Tag::kLink: case Tag::kListing: case Tag::kMain:
    case Tag::kMarquee: case Tag::kMenu: case Tag::kMeta: case Tag::kNav: case Tag::kNoembed:
    case Tag::kNoframes: case Tag::kNoscript: case Tag::kObject: case Tag::kOl: case Tag::kP:
    case Tag::kParam: case Tag::kPlaintext: case Tag::kPre: case Tag::kScript:
    case Tag::kSearch: case Tag::kSection: case Tag::kSelect: case Tag::kSource:
    case Tag::kStyle: case Tag::kSummary: case Tag::kTable: case Tag::kTbody: case Tag::kTd:
    case Tag::kTemplate: case Tag::kTextarea: case Tag::kTfoot: case Tag::kTh:
    case Tag::kThead: case Tag::kTitle: case Tag::kTr: case Tag::kTrack: case Tag::kUl:
    case Tag::kWbr: case Tag::kXmp:
      return true;
    default:
      return false;
  }
}

bool is_special(const SkeletonBuilder::Entry& e) {
  if (e.ns == Namespace::kHtml) return is_special_html(e.tag);
  if (e.ns == Namespace::kMathMl)
    return any_of(e.tag, {Tag::kMi, Tag::kMo, Tag::kMn, Tag::kMs, Tag::kMtext,
                          Tag::kAnnotationXml});
  return any_of(e.tag, {Tag::kForeignObject, Tag::kDesc, Tag::kTitle});
}

// Scope kinds of the HTML Standard.
constexpr int kDefaultScope = 0;
constexpr int kListItemScope = 1;
constexpr int kButtonScope = 2;
constexpr int kTableScope = 3;

bool is_scope_boundary(const SkeletonBuilder::Entry& e, int kind) {
  if (kind == kTableScope)
    return e.ns == Namespace::kHtml && any_of(e.tag, {Tag::kHtml, Tag::kTable, Tag::kTemplate});
  if (e.ns == Namespace::kHtml) {
    if (any_of(e.tag, {Tag::kApplet, Tag::kCaption, Tag::kHtml, Tag::kTable, Tag::kTd, Tag::kTh,
                       Tag::kMarquee, Tag::kObject, Tag::kTemplate}))
      return true;
    if (kind == kListItemScope && any_of(e.tag, {Tag::kOl, Tag::kUl})) return true;
    if (kind == kButtonScope && e.tag == Tag::kButton) return true;
    return false;
  }
  return is_special(e);  // the MathML/SVG scope elements are exactly the special ones
}

bool is_void(Tag t) {
  return any_of(t, {Tag::kArea, Tag::kBase, Tag::kBasefont, Tag::kBgsound, Tag::kBr, Tag::kCol,
                    Tag::kEmbed, Tag::kFrame, Tag::kHr, Tag::kImg, Tag::kImage, Tag::kInput,
                    Tag::kKeygen, Tag::kLink, Tag::kMeta, Tag::kParam, Tag::kSource,
                    Tag::kTrack, Tag::kWbr});
}

// Start tags whose element's content the tokenizer reads as raw text.
bool is_raw_text_element(Tag t) {
  return any_of(t, {Tag::kScript, Tag::kStyle, Tag::kTextarea, Tag::kTitle, Tag::kXmp,
                    Tag::kIframe, Tag::kNoembed, Tag::kNoframes, Tag::kNoscript});
}

// Start tags that leave foreign (SVG/MathML) content.
bool breaks_out_of_foreign(Tag t) {
  return any_of(t, {Tag::kB, Tag::kBig, Tag::kBlockquote, Tag::kBody, Tag::kBr, Tag::kCenter,
                    Tag::kCode, Tag::kDd, Tag::kDiv, Tag::kDl, Tag::kDt, Tag::kEm, Tag::kEmbed,
                    Tag::kH1, Tag::kH2, Tag::kH3, Tag::kH4, Tag::kH5, Tag::kH6, Tag::kHead,
                    Tag::kHr, Tag::kI, Tag::kImg, Tag::kLi, Tag::kListing, Tag::kMenu,
                    Tag::kMeta, Tag::kNobr, Tag::kOl, Tag::kP, Tag::kPre, Tag::kRuby, Tag::kS,
                    Tag::kSmall, Tag::kSpan, Tag::kStrong, Tag::kStrike, Tag::kSub, Tag::kSup,
                    Tag::kTable, Tag::kTt, Tag::kU, Tag::kUl, Tag::kVar});
}

bool names_equal(std::string_view a, std::string_view b) { return common::iequals(a, b); }

// Opaque names (containing a stand-in character) equal nothing.
constexpr std::string_view kOpaqueName = "\x01";

}  // namespace

namespace {

// Names packed into two big-endian words compare like the strings (they are at most 14 bytes),
// so the table is searched with integer comparisons.
struct PackedName {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  bool operator<(const PackedName& o) const { return hi != o.hi ? hi < o.hi : lo < o.lo; }
  bool operator==(const PackedName& o) const { return hi == o.hi && lo == o.lo; }
};

constexpr PackedName pack_lower(std::string_view name) {
  PackedName p;
  const std::size_t n = name.size() < 16 ? name.size() : 16;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t c = static_cast<unsigned char>(common::to_lower(name[i]));
    if (i < 8) {
      p.hi |= c << (56 - 8 * i);
    } else {
      p.lo |= c << (56 - 8 * (i - 8));
    }
  }
  return p;
}

// An open-addressing hash table over the packed names: one probe for most tags.
constexpr std::size_t kTagSlots = 512;
constexpr std::size_t slot_of(const PackedName& k) {
  return std::size_t(((k.hi ^ (k.lo * 0x9E3779B97F4A7C15ull)) * 0xD6E8FEB86659FD93ull) >> 55) &
         (kTagSlots - 1);
}

struct TagSlot {
  PackedName key;
  Tag tag = Tag::kOther;
  bool used = false;
};

constexpr std::array<TagSlot, kTagSlots> make_table() {
  std::array<TagSlot, kTagSlots> t{};
  for (const TagName& n : kTags) {
    const PackedName k = pack_lower(n.name);
    std::size_t i = slot_of(k);
    while (t[i].used) i = (i + 1) & (kTagSlots - 1);
    t[i] = {k, n.tag, true};
  }
  return t;
}
constexpr auto kTagTable = make_table();

}  // namespace

Tag tag_of(std::string_view name) noexcept {
  if (name.empty() || name.size() > 14) return Tag::kOther;
  const PackedName key = pack_lower(name);
  for (std::size_t i = slot_of(key);; i = (i + 1) & (kTagSlots - 1)) {
    const TagSlot& s = kTagTable[i];
    if (!s.used) return Tag::kOther;
    if (s.key == key) return name.find('\0') == std::string_view::npos ? s.tag : Tag::kOther;
  }
}

struct SkeletonBuilder::Ctx {
  std::string_view text;
  const TokenList* list;
  std::uint32_t index;
  const Token* token;
  std::string_view name;
  Tag tag;
  std::vector<Creation>* out;
};

const SkeletonBuilder::Entry* SkeletonBuilder::current() const noexcept {
  if (overflow_ > 0 || depth_ == 0) return nullptr;
  return &stack_[depth_ - 1];
}

Tag SkeletonBuilder::current_tag() const noexcept {
  const Entry* e = current();
  return (e != nullptr && e->ns == Namespace::kHtml) ? e->tag : Tag::kOther;
}

void SkeletonBuilder::push(std::string_view name, Tag tag, Namespace ns) {
  if (depth_ < kMaxDepth && overflow_ == 0) {
    stack_[depth_++] = Entry{name, tag, ns};
  } else {
    ++overflow_;
  }
}

void SkeletonBuilder::pop() noexcept {
  if (overflow_ > 0) {
    --overflow_;
  } else if (depth_ > 0) {
    --depth_;
  }
}

bool SkeletonBuilder::has_on_stack(Tag tag) const noexcept {
  for (int i = depth_ - 1; i >= 0; --i)
    if (stack_[i].tag == tag && stack_[i].ns == Namespace::kHtml) return true;
  return false;
}

bool SkeletonBuilder::in_scope(Tag tag, int kind) const noexcept {
  for (int i = depth_ - 1; i >= 0; --i) {
    const Entry& e = stack_[i];
    if (e.ns == Namespace::kHtml && e.tag == tag) return true;
    if (is_scope_boundary(e, kind)) return false;
  }
  return false;
}

void SkeletonBuilder::pop_until(Tag tag, std::string_view name) noexcept {
  overflow_ = 0;
  while (depth_ > 0) {
    const Entry e = stack_[--depth_];
    if (e.ns != Namespace::kHtml) continue;
    if (tag != Tag::kOther ? e.tag == tag : names_equal(e.name, name)) return;
  }
}

void SkeletonBuilder::close_p(Ctx&) {
  if (in_scope(Tag::kP, kButtonScope)) pop_until(Tag::kP, "p");
}

void SkeletonBuilder::create(Ctx& c, Creation::Kind kind, Namespace ns, bool push_it, Tag tag,
                             std::string_view name) {
  Creation cr;
  cr.kind = kind;
  cr.ns = ns;
  cr.name = name;
  cr.token = c.index;
  if (kind == Creation::Kind::kElement) {
    auto attrs = c.list->attributes_of(*c.token);
    for (std::size_t i = 0; i < attrs.size() && i < 64; ++i)
      if (attrs[i].duplicate) cr.skip |= std::uint64_t(1) << i;
  }
  if (c.out != nullptr) c.out->push_back(cr);
  ++created_;
  if (kind == Creation::Kind::kImplied && c.token->kind == TokenKind::kEndTag) ++errors_;
  if (tag == Tag::kHtml && ns == Namespace::kHtml) html_count_ = 0;
  if (tag == Tag::kBody && ns == Namespace::kHtml) body_count_ = 0;
  if (kind == Creation::Kind::kElement && ns == Namespace::kHtml &&
      (tag == Tag::kHtml || tag == Tag::kBody)) {
    std::string_view* names = tag == Tag::kHtml ? html_names_ : body_names_;
    int& count = tag == Tag::kHtml ? html_count_ : body_count_;
    for (const Attribute& a : c.list->attributes_of(*c.token))
      if (!a.duplicate && !a.opaque && count < kMaxMergedNames)
        names[count++] = c.text.substr(a.name.begin, a.name.size());
  }
  if (push_it) push(name, tag, ns);
}

void SkeletonBuilder::merge(Ctx& c, bool into_html) {
  std::string_view* names = into_html ? html_names_ : body_names_;
  int& count = into_html ? html_count_ : body_count_;
  Creation cr;
  cr.kind = Creation::Kind::kMerged;
  cr.name = into_html ? "html" : "body";
  cr.token = c.index;
  bool added = false;
  auto attrs = c.list->attributes_of(*c.token);
  for (std::size_t i = 0; i < attrs.size(); ++i) {
    const Attribute& a = attrs[i];
    bool present = a.duplicate;
    std::string_view n = a.opaque ? kOpaqueName : c.text.substr(a.name.begin, a.name.size());
    for (int k = 0; !present && k < count; ++k) present = names_equal(names[k], n);
    if (present || i >= 64) {
      if (i < 64) cr.skip |= std::uint64_t(1) << i;
      continue;
    }
    if (count < kMaxMergedNames) names[count++] = n;
    added = true;
  }
  if (added && c.out != nullptr) c.out->push_back(cr);
  if (added) ++created_;
}

void SkeletonBuilder::process(std::string_view text, const TokenList& list, std::uint32_t index,
                              std::vector<Creation>* out) {
  const Token& t = list.tokens[index];
  Ctx c{text, &list, index, &t, {}, Tag::kOther, out};
  if (t.kind == TokenKind::kStartTag || t.kind == TokenKind::kEndTag) {
    // A tag that changes nothing was dropped by the parser.
    const Mode mode = mode_;
    const int depth = depth_ + overflow_;
    const std::uint32_t created = created_;
    const int html = html_count_, body = body_count_;
    c.name = t.opaque ? kOpaqueName : text.substr(t.name.begin, t.name.size());
    c.tag = t.opaque ? Tag::kOther : tag_of(c.name);
    if (t.kind == TokenKind::kStartTag) {
      start_tag(c);
    } else {
      end_tag(c);
    }
    if (mode == mode_ && depth == depth_ + overflow_ && created == created_ &&
        html == html_count_ && body == body_count_)
      ++errors_;
    return;
  }
  if (t.kind == TokenKind::kEofInTag || t.unterminated) ++errors_;
  switch (t.kind) {
    case TokenKind::kText: {
      bool ws = !t.opaque;  // opaque text holds a stand-in character: not white space
      for (std::uint32_t i = t.begin; i < t.end && ws; ++i) ws = is_html_space(text[i]);
      this->text(c, ws);
      return;
    }
    case TokenKind::kDoctype:
      if (mode_ == Mode::kInitial) {
        mode_ = Mode::kBeforeHtml;
      } else {
        ++errors_;  // a DOCTYPE anywhere else is dropped
      }
      return;
    default:  // raw text, comments, and tags cut off by the end of the text
      return;
  }
}

void SkeletonBuilder::text(Ctx& c, bool whitespace_only) {
  for (int guard = 0; guard < 8; ++guard) {
    switch (mode_) {
      case Mode::kInitial:
        if (whitespace_only) return;
        mode_ = Mode::kBeforeHtml;
        continue;
      case Mode::kBeforeHtml:
        if (whitespace_only) return;
        create(c, Creation::Kind::kImplied, Namespace::kHtml, true, Tag::kHtml, "html");
        mode_ = Mode::kBeforeHead;
        continue;
      case Mode::kBeforeHead:
        if (whitespace_only) return;
        create(c, Creation::Kind::kImplied, Namespace::kHtml, true, Tag::kHead, "head");
        mode_ = Mode::kInHead;
        continue;
      case Mode::kInHead:
        if (whitespace_only) return;
        if (current_tag() == Tag::kHead) pop();
        mode_ = Mode::kAfterHead;
        continue;
      case Mode::kAfterHead:
        if (whitespace_only) return;
        create(c, Creation::Kind::kImplied, Namespace::kHtml, true, Tag::kBody, "body");
        mode_ = Mode::kInBody;
        continue;
      case Mode::kInBody:
      case Mode::kInTable:
      case Mode::kInSelect:
        if (!whitespace_only) frameset_ok_ = false;
        return;
      case Mode::kAfterBody:
      case Mode::kAfterAfterBody:
        if (whitespace_only) return;
        mode_ = Mode::kInBody;
        continue;
      default:
        return;
    }
  }
}

void SkeletonBuilder::head_rules_start_tag(Ctx& c) {
  const Tag t = c.tag;
  if (is_void(t)) {
    create(c, Creation::Kind::kElement, Namespace::kHtml, false, t, c.name);
    return;
  }
  create(c, Creation::Kind::kElement, Namespace::kHtml, true, t, c.name);
  if (is_raw_text_element(t)) {
    return_mode_ = mode_;
    mode_ = Mode::kText;
  }
}

void SkeletonBuilder::foreign_start_tag(Ctx& c) {
  const Entry* cur = current();
  const Namespace ns = c.tag == Tag::kSvg ? Namespace::kSvg
                       : c.tag == Tag::kMath ? Namespace::kMathMl
                       : (cur != nullptr ? cur->ns : Namespace::kSvg);
  create(c, Creation::Kind::kElement, ns, !c.token->self_closing, c.tag, c.name);
}

void SkeletonBuilder::start_tag(Ctx& c) {
  // Foreign content: the current node is SVG or MathML and not an HTML integration point.
  if (const Entry* cur = current(); cur != nullptr && cur->ns != Namespace::kHtml) {
    const bool integration =
        (cur->ns == Namespace::kSvg &&
         any_of(cur->tag, {Tag::kForeignObject, Tag::kDesc, Tag::kTitle})) ||
        (cur->ns == Namespace::kMathMl &&
         any_of(cur->tag, {Tag::kMi, Tag::kMo, Tag::kMn, Tag::kMs, Tag::kMtext}));
    if (!integration) {
      bool font_breakout = false;
      if (c.tag == Tag::kFont) {
        for (const Attribute& a : c.list->attributes_of(*c.token)) {
          std::string_view n = c.text.substr(a.name.begin, a.name.size());
          if (names_equal(n, "color") || names_equal(n, "face") || names_equal(n, "size"))
            font_breakout = true;
        }
      }
      if (!breaks_out_of_foreign(c.tag) && !font_breakout) {
        foreign_start_tag(c);
        return;
      }
      while (depth_ > 0 && stack_[depth_ - 1].ns != Namespace::kHtml) pop();
    }
  }

  for (int guard = 0; guard < 8; ++guard) {
    const Tag t = c.tag;
    switch (mode_) {
      case Mode::kInitial:
        mode_ = Mode::kBeforeHtml;
        continue;
      case Mode::kBeforeHtml:
        if (t == Tag::kHtml) {
          create(c, Creation::Kind::kElement, Namespace::kHtml, true, t, c.name);
          mode_ = Mode::kBeforeHead;
          return;
        }
        create(c, Creation::Kind::kImplied, Namespace::kHtml, true, Tag::kHtml, "html");
        mode_ = Mode::kBeforeHead;
        continue;
      case Mode::kBeforeHead:
        if (t == Tag::kHtml) {
          merge(c, true);
          return;
        }
        if (t == Tag::kHead) {
          create(c, Creation::Kind::kElement, Namespace::kHtml, true, t, c.name);
          mode_ = Mode::kInHead;
          return;
        }
        create(c, Creation::Kind::kImplied, Namespace::kHtml, true, Tag::kHead, "head");
        mode_ = Mode::kInHead;
        continue;
      case Mode::kInHead:
        if (t == Tag::kHtml) {
          merge(c, true);
          return;
        }
        if (any_of(t, {Tag::kBase, Tag::kBasefont, Tag::kBgsound, Tag::kLink, Tag::kMeta,
                       Tag::kTitle, Tag::kNoscript, Tag::kNoframes, Tag::kStyle, Tag::kScript,
                       Tag::kTemplate})) {
          head_rules_start_tag(c);
          return;
        }
        if (t == Tag::kHead) return;
        if (current_tag() == Tag::kHead) pop();
        mode_ = Mode::kAfterHead;
        continue;
      case Mode::kAfterHead:
        if (t == Tag::kHtml) {
          merge(c, true);
          return;
        }
        if (t == Tag::kBody) {
          create(c, Creation::Kind::kElement, Namespace::kHtml, true, t, c.name);
          frameset_ok_ = false;
          mode_ = Mode::kInBody;
          return;
        }
        if (t == Tag::kFrameset) {
          create(c, Creation::Kind::kElement, Namespace::kHtml, true, t, c.name);
          mode_ = Mode::kInFrameset;
          return;
        }
        if (any_of(t, {Tag::kBase, Tag::kBasefont, Tag::kBgsound, Tag::kLink, Tag::kMeta,
                       Tag::kNoframes, Tag::kScript, Tag::kStyle, Tag::kTemplate,
                       Tag::kTitle})) {
          head_rules_start_tag(c);
          return;
        }
        if (t == Tag::kHead) return;
        create(c, Creation::Kind::kImplied, Namespace::kHtml, true, Tag::kBody, "body");
        mode_ = Mode::kInBody;
        continue;
      case Mode::kText:
        // A start tag cannot come in raw text; recover as the parser's caller would.
        pop();
        mode_ = return_mode_;
        continue;
      case Mode::kInTable:
        if (any_of(t, {Tag::kCaption, Tag::kColgroup, Tag::kTbody, Tag::kThead, Tag::kTfoot,
                       Tag::kTr, Tag::kTd, Tag::kTh})) {
          create(c, Creation::Kind::kElement, Namespace::kHtml, true, t, c.name);
          return;
        }
        if (t == Tag::kCol) {
          create(c, Creation::Kind::kElement, Namespace::kHtml, false, t, c.name);
          return;
        }
        body_start_tag(c);  // foster-parented: still created
        return;
      case Mode::kInSelect:
        if (t == Tag::kOption || t == Tag::kOptgroup) {
          if (current_tag() == Tag::kOption) pop();
          create(c, Creation::Kind::kElement, Namespace::kHtml, true, t, c.name);
          return;
        }
        if (t == Tag::kHr) {
          if (current_tag() == Tag::kOption) pop();
          create(c, Creation::Kind::kElement, Namespace::kHtml, false, t, c.name);
          return;
        }
        if (t == Tag::kSelect || t == Tag::kInput || t == Tag::kKeygen ||
            t == Tag::kTextarea) {
          pop_until(Tag::kSelect, "select");
          mode_ = Mode::kInBody;
          if (t == Tag::kSelect) return;
          continue;
        }
        if (t == Tag::kScript || t == Tag::kTemplate) {
          head_rules_start_tag(c);
          return;
        }
        return;  // anything else is dropped in a select
      case Mode::kAfterBody:
      case Mode::kAfterAfterBody:
        if (t == Tag::kHtml) {
          merge(c, true);
          return;
        }
        mode_ = Mode::kInBody;
        continue;
      case Mode::kInFrameset:
        if (t == Tag::kHtml) {
          merge(c, true);
        } else if (t == Tag::kFrameset) {
          create(c, Creation::Kind::kElement, Namespace::kHtml, true, t, c.name);
        } else if (t == Tag::kFrame) {
          create(c, Creation::Kind::kElement, Namespace::kHtml, false, t, c.name);
        } else if (t == Tag::kNoframes) {
          head_rules_start_tag(c);
        }
        return;
      case Mode::kAfterFrameset:
      case Mode::kAfterAfterFrameset:
        if (t == Tag::kHtml) {
          merge(c, true);
        } else if (t == Tag::kNoframes) {
          head_rules_start_tag(c);
        }
        return;
      case Mode::kInBody:
        body_start_tag(c);
        return;
    }
  }
}

void SkeletonBuilder::body_start_tag(Ctx& c) {
  const Tag t = c.tag;
  auto element = [&](bool push_it) {
    create(c, Creation::Kind::kElement, Namespace::kHtml, push_it, t, c.name);
  };
  switch (t) {
    case Tag::kHtml:
      if (!has_on_stack(Tag::kTemplate)) merge(c, true);
      return;
    case Tag::kBase: case Tag::kBasefont: case Tag::kBgsound: case Tag::kLink: case Tag::kMeta:
    case Tag::kNoframes: case Tag::kScript: case Tag::kStyle: case Tag::kTemplate:
    case Tag::kTitle:
      head_rules_start_tag(c);
      return;
    case Tag::kBody:
      if (depth_ < 2 || stack_[1].tag != Tag::kBody || has_on_stack(Tag::kTemplate)) return;
      frameset_ok_ = false;
      merge(c, false);
      return;
    case Tag::kFrameset:
      if (depth_ < 2 || stack_[1].tag != Tag::kBody || !frameset_ok_) return;
      depth_ = 1;
      overflow_ = 0;
      element(true);
      mode_ = Mode::kInFrameset;
      return;
    case Tag::kAddress: case Tag::kArticle: case Tag::kAside: case Tag::kBlockquote:
    case Tag::kCenter: case Tag::kDetails: case Tag::kDialog: case Tag::kDir: case Tag::kDiv:
    case Tag::kDl: case Tag::kFieldset: case Tag::kFigcaption: case Tag::kFigure:
    case Tag::kFooter: case Tag::kHeader: case Tag::kHgroup: case Tag::kMain: case Tag::kMenu:
    case Tag::kNav: case Tag::kOl: case Tag::kP: case Tag::kSearch: case Tag::kSection:
    case Tag::kSummary: case Tag::kUl:
      close_p(c);
      element(true);
      return;
    case Tag::kH1: case Tag::kH2: case Tag::kH3: case Tag::kH4: case Tag::kH5: case Tag::kH6:
      close_p(c);
      if (is_heading(current_tag())) pop();
      element(true);
      return;
    case Tag::kPre: case Tag::kListing:
      close_p(c);
      frameset_ok_ = false;
      element(true);
      return;
    case Tag::kForm:
      if (form_open_ && !has_on_stack(Tag::kTemplate)) return;
      close_p(c);
      element(true);
      form_open_ = true;
      return;
    case Tag::kLi: case Tag::kDd: case Tag::kDt: {
      frameset_ok_ = false;
      for (int i = depth_ - 1; i >= 0; --i) {
        const Entry& e = stack_[i];
        const bool match = e.ns == Namespace::kHtml &&
                           (t == Tag::kLi ? e.tag == Tag::kLi
                                          : (e.tag == Tag::kDd || e.tag == Tag::kDt));
        if (match) {
          pop_until(e.tag, e.name);
          break;
        }
        if (is_special(e) && !(e.ns == Namespace::kHtml &&
                               any_of(e.tag, {Tag::kAddress, Tag::kDiv, Tag::kP})))
          break;
      }
      close_p(c);
      element(true);
      return;
    }
    case Tag::kPlaintext:
      close_p(c);
      element(true);
      return;
    case Tag::kButton:
      if (in_scope(Tag::kButton, kDefaultScope)) pop_until(Tag::kButton, "button");
      frameset_ok_ = false;
      element(true);
      return;
    case Tag::kA:
      if (has_on_stack(Tag::kA)) pop_until(Tag::kA, "a");
      element(true);
      return;
    case Tag::kNobr:
      if (in_scope(Tag::kNobr, kDefaultScope)) pop_until(Tag::kNobr, "nobr");
      element(true);
      return;
    case Tag::kApplet: case Tag::kMarquee: case Tag::kObject:
      frameset_ok_ = false;
      element(true);
      return;
    case Tag::kTable:
      close_p(c);
      frameset_ok_ = false;
      element(true);
      mode_ = Mode::kInTable;
      return;
    case Tag::kArea: case Tag::kBr: case Tag::kEmbed: case Tag::kImg: case Tag::kKeygen:
    case Tag::kWbr: case Tag::kInput:
      frameset_ok_ = false;
      element(false);
      return;
    case Tag::kParam: case Tag::kSource: case Tag::kTrack:
      element(false);
      return;
    case Tag::kHr:
      close_p(c);
      frameset_ok_ = false;
      element(false);
      return;
    case Tag::kImage:  // "Don't ask."
      frameset_ok_ = false;
      create(c, Creation::Kind::kElement, Namespace::kHtml, false, Tag::kImg, "img");
      return;
    case Tag::kXmp:
      close_p(c);
      [[fallthrough]];
    case Tag::kTextarea: case Tag::kIframe:
      frameset_ok_ = false;
      [[fallthrough]];
    case Tag::kNoembed: case Tag::kNoscript:
      element(true);
      return_mode_ = mode_;
      mode_ = Mode::kText;
      return;
    case Tag::kSelect:
      frameset_ok_ = false;
      element(true);
      mode_ = Mode::kInSelect;
      return;
    case Tag::kOptgroup: case Tag::kOption:
      if (current_tag() == Tag::kOption) pop();
      element(true);
      return;
    case Tag::kMath:
      create(c, Creation::Kind::kElement, Namespace::kMathMl, !c.token->self_closing, t,
             c.name);
      return;
    case Tag::kSvg:
      create(c, Creation::Kind::kElement, Namespace::kSvg, !c.token->self_closing, t, c.name);
      return;
    case Tag::kCaption: case Tag::kCol: case Tag::kColgroup: case Tag::kFrame: case Tag::kHead:
    case Tag::kTbody: case Tag::kTd: case Tag::kTfoot: case Tag::kTh: case Tag::kThead:
    case Tag::kTr:
      return;  // dropped outside their context
    default:
      element(true);
      return;
  }
}

void SkeletonBuilder::end_tag(Ctx& c) {
  // Foreign content: an end tag closes the nearest foreign element of that name.
  if (const Entry* cur = current(); cur != nullptr && cur->ns != Namespace::kHtml) {
    for (int i = depth_ - 1; i >= 0 && stack_[i].ns != Namespace::kHtml; --i) {
      if (names_equal(stack_[i].name, c.name)) {
        depth_ = i;
        return;
      }
    }
  }
  const Tag t = c.tag;
  for (int guard = 0; guard < 8; ++guard) {
    switch (mode_) {
      case Mode::kInitial:
      case Mode::kBeforeHtml:
        if (!any_of(t, {Tag::kHead, Tag::kBody, Tag::kHtml, Tag::kBr})) return;
        mode_ = Mode::kBeforeHtml;
        create(c, Creation::Kind::kImplied, Namespace::kHtml, true, Tag::kHtml, "html");
        mode_ = Mode::kBeforeHead;
        continue;
      case Mode::kBeforeHead:
        if (!any_of(t, {Tag::kHead, Tag::kBody, Tag::kHtml, Tag::kBr})) return;
        create(c, Creation::Kind::kImplied, Namespace::kHtml, true, Tag::kHead, "head");
        mode_ = Mode::kInHead;
        continue;
      case Mode::kInHead:
        if (t == Tag::kHead) {
          if (current_tag() == Tag::kHead) pop();
          mode_ = Mode::kAfterHead;
          return;
        }
        if (t == Tag::kTemplate) {
          if (has_on_stack(Tag::kTemplate)) pop_until(Tag::kTemplate, "template");
          return;
        }
        if (!any_of(t, {Tag::kBody, Tag::kHtml, Tag::kBr})) return;
        if (current_tag() == Tag::kHead) pop();
        mode_ = Mode::kAfterHead;
        continue;
      case Mode::kAfterHead:
        if (!any_of(t, {Tag::kBody, Tag::kHtml, Tag::kBr})) return;
        create(c, Creation::Kind::kImplied, Namespace::kHtml, true, Tag::kBody, "body");
        mode_ = Mode::kInBody;
        continue;
      case Mode::kText:
        pop();
        mode_ = return_mode_;
        return;
      case Mode::kInTable:
        if (t == Tag::kTable) {
          if (in_scope(Tag::kTable, kTableScope)) {
            pop_until(Tag::kTable, "table");
            mode_ = has_on_stack(Tag::kTable) ? Mode::kInTable : Mode::kInBody;
          }
          return;
        }
        if (any_of(t, {Tag::kCaption, Tag::kColgroup, Tag::kTbody, Tag::kThead, Tag::kTfoot,
                       Tag::kTr, Tag::kTd, Tag::kTh})) {
          if (in_scope(t, kTableScope)) pop_until(t, c.name);
          return;
        }
        body_end_tag(c);
        return;
      case Mode::kInSelect:
        if (t == Tag::kSelect) {
          if (has_on_stack(Tag::kSelect)) pop_until(Tag::kSelect, "select");
          mode_ = has_on_stack(Tag::kTable) ? Mode::kInTable : Mode::kInBody;
        } else if ((t == Tag::kOption || t == Tag::kOptgroup) && current_tag() == t) {
          pop();
        }
        return;
      case Mode::kAfterBody:
        if (t == Tag::kHtml) {
          mode_ = Mode::kAfterAfterBody;
          return;
        }
        mode_ = Mode::kInBody;
        continue;
      case Mode::kAfterAfterBody:
        mode_ = Mode::kInBody;
        continue;
      case Mode::kInFrameset:
        if (t == Tag::kFrameset) {
          if (depth_ > 1) pop();
          if (current_tag() != Tag::kFrameset) mode_ = Mode::kAfterFrameset;
        }
        return;
      case Mode::kAfterFrameset:
        if (t == Tag::kHtml) mode_ = Mode::kAfterAfterFrameset;
        return;
      case Mode::kAfterAfterFrameset:
        return;
      case Mode::kInBody:
        body_end_tag(c);
        return;
    }
  }
}

void SkeletonBuilder::body_end_tag(Ctx& c) {
  const Tag t = c.tag;
  switch (t) {
    case Tag::kTemplate:
      if (has_on_stack(Tag::kTemplate)) pop_until(Tag::kTemplate, "template");
      return;
    case Tag::kBody:
      if (in_scope(Tag::kBody, kDefaultScope)) mode_ = Mode::kAfterBody;
      return;
    case Tag::kHtml:
      if (in_scope(Tag::kBody, kDefaultScope)) mode_ = Mode::kAfterAfterBody;
      return;
    case Tag::kAddress: case Tag::kArticle: case Tag::kAside: case Tag::kBlockquote:
    case Tag::kButton: case Tag::kCenter: case Tag::kDetails: case Tag::kDialog:
    case Tag::kDir: case Tag::kDiv: case Tag::kDl: case Tag::kFieldset: case Tag::kFigcaption:
    case Tag::kFigure: case Tag::kFooter: case Tag::kHeader: case Tag::kHgroup:
    case Tag::kListing: case Tag::kMain: case Tag::kMenu: case Tag::kNav: case Tag::kOl:
    case Tag::kPre: case Tag::kSearch: case Tag::kSection: case Tag::kSummary: case Tag::kUl:
    case Tag::kApplet: case Tag::kMarquee: case Tag::kObject:
      if (in_scope(t, kDefaultScope)) pop_until(t, c.name);
      return;
    case Tag::kForm:
      form_open_ = false;
      if (in_scope(Tag::kForm, kDefaultScope)) pop_until(Tag::kForm, "form");
      return;
    case Tag::kP:
      if (!in_scope(Tag::kP, kButtonScope)) {
        // "</p>" without an open <p>: the parser inserts an empty one.
        create(c, Creation::Kind::kImplied, Namespace::kHtml, false, Tag::kP, "p");
        return;
      }
      pop_until(Tag::kP, "p");
      return;
    case Tag::kLi:
      if (in_scope(Tag::kLi, kListItemScope)) pop_until(Tag::kLi, "li");
      return;
    case Tag::kDd: case Tag::kDt:
      if (in_scope(t, kDefaultScope)) pop_until(t, c.name);
      return;
    case Tag::kH1: case Tag::kH2: case Tag::kH3: case Tag::kH4: case Tag::kH5: case Tag::kH6: {
      bool any = false;
      for (Tag h : {Tag::kH1, Tag::kH2, Tag::kH3, Tag::kH4, Tag::kH5, Tag::kH6})
        any = any || in_scope(h, kDefaultScope);
      if (!any) return;
      overflow_ = 0;
      while (depth_ > 0) {
        const Entry e = stack_[--depth_];
        if (e.ns == Namespace::kHtml && is_heading(e.tag)) break;
      }
      return;
    }
    case Tag::kA: case Tag::kB: case Tag::kBig: case Tag::kCode: case Tag::kEm: case Tag::kFont:
    case Tag::kI: case Tag::kNobr: case Tag::kS: case Tag::kSmall: case Tag::kStrike:
    case Tag::kStrong: case Tag::kTt: case Tag::kU:
      // The adoption agency, reduced to what changes the open elements in simple cases.
      if (in_scope(t, kDefaultScope)) pop_until(t, c.name);
      return;
    case Tag::kBr:
      // "</br>" is read as "<br>" (without attributes).
      create(c, Creation::Kind::kImplied, Namespace::kHtml, false, Tag::kBr, "br");
      frameset_ok_ = false;
      return;
    default: {
      // "Any other end tag": close the nearest element of that name unless a special
      // element comes first.
      for (int i = depth_ - 1; i >= 0; --i) {
        const Entry& e = stack_[i];
        if (e.ns == Namespace::kHtml && names_equal(e.name, c.name) && c.name != kOpaqueName) {
          depth_ = i;
          overflow_ = 0;
          return;
        }
        if (is_special(e)) return;
      }
      return;
    }
  }
}

bool SkeletonBuilder::same_state(const SkeletonBuilder& o) const noexcept {
  if (mode_ != o.mode_ || depth_ != o.depth_ || overflow_ != o.overflow_ ||
      form_open_ != o.form_open_ || html_count_ != o.html_count_ ||
      body_count_ != o.body_count_)
    return false;
  if (mode_ == Mode::kText && return_mode_ != o.return_mode_) return false;
  for (int i = 0; i < depth_; ++i) {
    const Entry& a = stack_[i];
    const Entry& b = o.stack_[i];
    if (a.tag != b.tag || a.ns != b.ns) return false;
    if (a.tag == Tag::kOther && !names_equal(a.name, b.name)) return false;
  }
  return true;
}

}  // namespace vigil::tokenize::html
