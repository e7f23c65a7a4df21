#include "core/tokenize/html/html_tree.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vigil::tokenize::html {
namespace {

// Element names (kMerged as "+name@attr...") a page creates, in order.
std::vector<std::string> skeleton(std::string_view page) {
  TokenList l;
  tokenize(page, &l);
  SkeletonBuilder b;
  std::vector<Creation> created;
  for (std::uint32_t i = 0; i < l.tokens.size(); ++i) b.process(page, l, i, &created);
  std::vector<std::string> r;
  for (const Creation& c : created) {
    std::string s = c.kind == Creation::Kind::kMerged ? "+" : "";
    s += std::string(c.name);
    if (c.kind == Creation::Kind::kImplied) s += "*";
    if (c.ns == Namespace::kSvg) s = "svg:" + s;
    r.push_back(s);
  }
  return r;
}

constexpr std::string_view kHead = "<!DOCTYPE html><html><head><title>t</title></head><body><p>";

TEST(SkeletonBuilder, WellFormedPage) {
  EXPECT_EQ(skeleton(std::string(kHead) + "x</p></body></html>"),
            (std::vector<std::string>{"html", "head", "title", "body", "p"}));
}

TEST(SkeletonBuilder, TableTagsOutsideATableAreDropped) {
  EXPECT_EQ(skeleton(std::string(kHead) + "<td onclick=x><tr><caption></td>x</p>"),
            (std::vector<std::string>{"html", "head", "title", "body", "p"}));
}

TEST(SkeletonBuilder, StrayEndTagsOfPAndBrCreateElements) {
  EXPECT_EQ(skeleton(std::string(kHead) + "</p></p></br></div>"),
            (std::vector<std::string>{"html", "head", "title", "body", "p", "p*", "br*"}));
}

TEST(SkeletonBuilder, BodyAndHtmlStartTagsMergeAttributes) {
  auto s = skeleton(std::string(kHead) + "<body onload=x><html lang=en><body>");
  EXPECT_EQ(s, (std::vector<std::string>{"html", "head", "title", "body", "p", "+body",
                                         "+html"}));
}

TEST(SkeletonBuilder, BlockStartTagClosesParagraph) {
  // <main> inside <p> closes it; the page's own </p> then makes an empty <p>.
  EXPECT_EQ(skeleton(std::string(kHead) + "<main>t</main>!</p>"),
            (std::vector<std::string>{"html", "head", "title", "body", "p", "main", "p*"}));
}

TEST(SkeletonBuilder, ImpliedElementsAndHeadContent) {
  // Text after </title> in the head implies <body>; the real <body> later adds nothing.
  EXPECT_EQ(skeleton("<html><head><title>a</title>x</head><body><p>y"),
            (std::vector<std::string>{"html", "head", "title", "body*", "p"}));
  // A <script> after </title> still goes into the head.
  EXPECT_EQ(skeleton("<html><head><title>a</title><script>1</script></head><body>"),
            (std::vector<std::string>{"html", "head", "title", "script", "body"}));
}

TEST(SkeletonBuilder, ForeignContent) {
  // <desc> is an HTML integration point: <b> inside it is HTML. (The tokenizer reads an SVG
  // <title>'s content as RCDATA, like an HTML one: a simplification.)
  EXPECT_EQ(skeleton("<body><svg><desc><b>x</b></desc><circle/></svg><p>"),
            (std::vector<std::string>{"html*", "head*", "body", "svg:svg", "svg:desc", "b",
                                      "svg:circle", "p"}));
}

TEST(SkeletonBuilder, SameStateConverges) {
  TokenList l;
  std::string_view page = "<html><body><main><p>a</p></main></body></html>";
  tokenize(page, &l);
  SkeletonBuilder a, b;
  std::vector<Creation> out;
  for (std::uint32_t i = 0; i < 4; ++i) {
    a.process(page, l, i, &out);
    b.process(page, l, i, &out);
  }
  EXPECT_TRUE(a.same_state(b));
  a.process(page, l, 4, &out);  // "a"
  a.process(page, l, 5, &out);  // "</p>"
  EXPECT_FALSE(a.same_state(b));
}

}  // namespace
}  // namespace vigil::tokenize::html
