#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/detect/input/input_detector.hpp"
#include "core/engine/prepared.hpp"
#include "vigil/analysis.hpp"
#include "vigil/engine.hpp"
#include "vigil/policy.hpp"
#include "vigil/request.hpp"

namespace vigil {
namespace {

RequestVerdict analyse(const Engine& engine, const HttpRequest& req) {
  RequestContext ctx;
  ctx.parse(req);
  PreparedInputs prepared(ctx.inputs());
  return engine.analyze_request(ctx, prepared);
}

bool has_rule(const RequestVerdict& v, std::string_view rule) {
  for (const Finding& f : v.findings)
    if (f.rule == rule) return true;
  return false;
}

// analyze_request skips the IP lists and virtual patches when the policy has none (no clock
// read for their expiry): with them, they still decide first.
TEST(AnalyzeRequest, IpListsAndVirtualPatchesApplyWhenThePolicyHasThem) {
  Engine engine;
  const HttpRequest denied{"GET", "/export?file=../x", {}, {}, "10.1.2.3"};
  const HttpRequest allowed{"GET", "/?q=1' OR '1'='1", {}, {}, "192.0.2.7"};
  const HttpRequest other{"GET", "/export?file=report.pdf", {}, {}, "198.51.100.1"};
  RequestVerdict v = analyse(engine, denied);
  EXPECT_FALSE(has_rule(v, "ip-denylist"));
  EXPECT_TRUE(has_rule(analyse(engine, allowed), "sql-injection"));

  engine.set_policy(Policy::compile("ip_denylist: [10.0.0.0/8]\n"
                                    "ip_allowlist: [192.0.2.7]\n"
                                    "virtual_patches:\n"
                                    "  - id: vp1\n"
                                    "    action: block\n"
                                    "    route: /export\n"
                                    "    inputs:\n"
                                    "      - {source: query, name: file, regex: 'report'}\n",
                                    nullptr));
  v = analyse(engine, denied);
  EXPECT_TRUE(has_rule(v, "ip-denylist"));
  EXPECT_TRUE(v.block);
  EXPECT_TRUE(analyse(engine, allowed).findings.empty());  // an allowed address is trusted
  v = analyse(engine, other);
  EXPECT_TRUE(has_rule(v, "vp1"));
  EXPECT_TRUE(v.block);
}

// A body length that depends on who reads it is blocked in block mode (request smuggling);
// other protocol anomalies (a stray '%') are only reported unless the policy names the rule.
TEST(AnalyzeRequest, AmbiguousBodyLengthsBlockInBlockMode) {
  Engine engine;
  engine.set_policy(Policy::compile("mode: block\n", nullptr));
  const Header lengths[] = {{"Content-Length", "0"}, {"Content-Length", "7"}};
  const HttpRequest smuggled{"POST", "/login", lengths, {}, "192.0.2.1"};
  RequestVerdict v = analyse(engine, smuggled);
  ASSERT_TRUE(has_rule(v, "protocol-anomaly"));
  EXPECT_TRUE(v.block);
  EXPECT_EQ(v.findings[0].outcome, Outcome::kProbed);
  const HttpRequest sloppy{"GET", "/search?q=100%", {}, {}, "192.0.2.1"};
  v = analyse(engine, sloppy);
  ASSERT_TRUE(has_rule(v, "protocol-anomaly"));
  EXPECT_FALSE(v.block);
  EXPECT_EQ(v.findings[0].outcome, Outcome::kSuspicious);
  engine.set_policy(Policy::compile("mode: monitor\n", nullptr));
  v = analyse(engine, smuggled);
  ASSERT_TRUE(has_rule(v, "protocol-anomaly"));
  EXPECT_FALSE(v.block);
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

// A request whose candidates are all plain words that no input detector fires on is passed
// without a look at each (PreparedInputs::Impl::plain_words); the flag must be set exactly then,
// and the verdicts must be those of the full analysis. The full analysis is what the engine runs
// when the prepared inputs are not the context's own (a copy of them here).
TEST(AnalyzeRequest, PlainWordRequestsGetTheFullAnalysisVerdict) {
  struct Case {
    const char* target;
    std::vector<Header> headers;
    bool plain;
  };
  const std::vector<Case> cases = {
      {"/search?q=lamp", {{"User-Agent", "wrk"}}, true},
      {"/search?q=lamp&page=2", {}, true},          // "page": a name that is analysed, clean
      {"/a/b42/c_d?x=7", {{"User-Agent", "curl"}}, false},  // "curl" names a command
      {"/search?q=whoami", {}, false},              // a command
      {"/search?q=id", {}, false},
      {"/search?q=Lamp", {}, false},                // upper case: more forms
      {"/search?q=lamps4you", {}, false},           // 8 bytes or more
      {"/search?q=0x2e", {}, false},                // a hex escape
      {"/search?q=desk+lamp", {}, false},           // decodes
      {"/search?q=lamp'", {}, false},               // punctuation
      {"/search?whoami=1", {}, false},              // a name that is a command
      {"/search?q=lamp", {{"User-Agent", "sqlmap"}}, true},  // the scanner check still runs
      {"/.git/config?q=lamp", {}, false},           // "config" has no feature, ".git" has
      {"/", {}, true},
      {"/search?q=lam%2570", {}, false},            // "lam%70", decoded again "lamp"
      {"/search?q=lamp", {{"User-Agent", "vigil-bench"}}, false},  // one value is not a word
  };
  Engine engine;
  for (const Case& c : cases) {
    const HttpRequest req{"GET", c.target, c.headers, {}, "192.0.2.1"};
    RequestContext ctx;
    ctx.parse(req);
    PreparedInputs fast(ctx.inputs());
    ASSERT_NE(fast.impl(), nullptr);
    EXPECT_EQ(fast.impl()->plain_words, c.plain) << c.target;
    for (const auto& e : fast.impl()->entries)  // what the analysis of the other requests reads
      EXPECT_EQ(e.clean_word, e.features == 0 && detect::input::plain_word_is_clean(e.text))
          << c.target << " " << e.text;
    const std::vector<Input> copy(ctx.inputs().begin(), ctx.inputs().end());
    PreparedInputs full(copy);
    const RequestVerdict a = engine.analyze_request(ctx, fast);
    const RequestVerdict b = engine.analyze_request(ctx, full);
    ASSERT_EQ(a.findings.size(), b.findings.size()) << c.target;
    for (std::size_t i = 0; i < a.findings.size(); ++i) {
      EXPECT_EQ(a.findings[i].rule, b.findings[i].rule) << c.target;
      EXPECT_EQ(a.findings[i].input, b.findings[i].input) << c.target;
      EXPECT_EQ(a.findings[i].form, b.findings[i].form) << c.target;
      EXPECT_EQ(a.findings[i].reason, b.findings[i].reason) << c.target;
    }
    EXPECT_EQ(a.block, b.block) << c.target;
  }
  // The scanner check is not skipped with the inputs.
  const Header tool[] = {{"User-Agent", "sqlmap/1.7"}};
  RequestContext ctx;
  ctx.parse(HttpRequest{"GET", "/search?q=lamp", tool, {}, "192.0.2.1"});
  PreparedInputs prepared(ctx.inputs());
  EXPECT_TRUE(has_rule(engine.analyze_request(ctx, prepared), "scanner"));
}

}  // namespace
}  // namespace vigil
