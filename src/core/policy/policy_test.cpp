#include "vigil/policy.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "vigil/analysis.hpp"
#include "vigil/request.hpp"

namespace vigil {
namespace {

std::shared_ptr<const Policy> compile(std::string_view doc, std::vector<PolicyDiagnostic>* d = nullptr) {
  std::vector<PolicyDiagnostic> local;
  return Policy::compile(doc, d ? d : &local);
}

bool has_code(const std::vector<PolicyDiagnostic>& d, std::string_view code, int line = -1) {
  for (const auto& x : d)
    if (x.code == code && (line < 0 || x.line == line)) return true;
  return false;
}

TEST(Policy, ModesAndDefaults) {
  auto p = compile("mode: block\nrules:\n  xss: monitor\n  scanner: off\n");
  EXPECT_EQ(p->mode_for("xss"), Mode::kMonitor);
  EXPECT_EQ(p->mode_for("scanner"), Mode::kOff);
  EXPECT_EQ(p->mode_for("sql-injection"), Mode::kBlock);
  EXPECT_EQ(Policy::defaults()->mode_for("sql-injection"), Mode::kMonitor);
  EXPECT_EQ(Policy::defaults()->budget().count(), 1000);
}

TEST(Policy, JsonDocumentsWorkToo) {
  auto p = compile(R"({"mode":"monitor","rules":{"sql-injection":"block"},"ip_denylist":["10.0.0.0/8"]})");
  EXPECT_EQ(p->mode_for("sql-injection"), Mode::kBlock);
  EXPECT_EQ(p->ip_decision("10.2.3.4", PolicyClock::now()), Policy::IpDecision::kDeny);
}

TEST(Policy, FarFutureAndFarPastExpiriesDoNotWrap) {
  // The clock ends in 2262: a later expiry is "never" (it used to overflow into the past, and
  // the entry expired at once); an expiry before the clock's start is long past.
  std::vector<PolicyDiagnostic> d;
  auto p = compile(
      "ip_denylist:\n"
      "  - {cidr: 10.1.0.0/16, expires: \"9999-12-31T23:59:59Z\"}\n"
      "  - {cidr: 10.2.0.0/16, expires: \"4960-01-01\"}\n"
      "  - {cidr: 10.3.0.0/16, expires: \"1000-01-01\"}\n",
      &d);
  EXPECT_TRUE(d.empty());
  const auto now = PolicyClock::now();
  EXPECT_EQ(p->ip_decision("10.1.2.3", now), Policy::IpDecision::kDeny);
  EXPECT_EQ(p->ip_decision("10.2.2.3", now), Policy::IpDecision::kDeny);
  EXPECT_EQ(p->ip_decision("10.3.2.3", now), Policy::IpDecision::kNone);
}

TEST(Policy, BadEntriesAreDiagnosedWithLocationsAndSkipped) {
  std::vector<PolicyDiagnostic> d;
  auto p = compile(
      "mode: block\n"
      "rules:\n"
      "  sql-injectoin: block\n"
      "  xss: sometimes\n"
      "  ssrf: monitor\n"
      "ip_denylist: [10.0.0.0/33, 10.1.0.0/16]\n"
      "virtual_patches:\n"
      "  - id: bad-regex\n"
      "    inputs: [{name: q, regex: \"(unclosed\"}]\n"
      "  - id: good\n"
      "    route: /admin/*\n",
      &d);
  EXPECT_TRUE(has_code(d, "policy.unknown_rule", 3));
  EXPECT_TRUE(has_code(d, "policy.bad_mode", 4));
  EXPECT_TRUE(has_code(d, "policy.bad_cidr", 6));
  EXPECT_TRUE(has_code(d, "policy.bad_regex", 9));
  // The rest still applies.
  EXPECT_EQ(p->mode_for("ssrf"), Mode::kMonitor);
  EXPECT_EQ(p->ip_decision("10.1.2.3", PolicyClock::now()), Policy::IpDecision::kDeny);
  EXPECT_EQ(p->virtual_patch_count(), 1u);
}

TEST(Policy, UnparseableDocumentGivesDefaultsAndAnError) {
  std::vector<PolicyDiagnostic> d;
  auto p = compile("rules: [unclosed", &d);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(has_code(d, "policy.syntax"));
  EXPECT_EQ(p->mode_for("xss"), Mode::kMonitor);
  d.clear();
  compile(std::string(10000, '['), &d);
  EXPECT_TRUE(has_code(d, "policy.too_deep"));
}

TEST(Policy, IpListsWithExpiryAllowWins) {
  auto p = compile(
      "ip_denylist:\n"
      "  - 192.0.2.0/24\n"
      "  - {cidr: '2001:db8::/32', expires: '2000-01-01T00:00:00Z'}\n"
      "ip_allowlist: [192.0.2.7]\n");
  auto now = PolicyClock::now();
  EXPECT_EQ(p->ip_decision("192.0.2.9", now), Policy::IpDecision::kDeny);
  EXPECT_EQ(p->ip_decision("192.0.2.7", now), Policy::IpDecision::kAllow);
  EXPECT_EQ(p->ip_decision("2001:db8::1", now), Policy::IpDecision::kNone);  // expired
  EXPECT_EQ(p->ip_decision("198.51.100.1", now), Policy::IpDecision::kNone);
  EXPECT_EQ(p->ip_decision("not an ip", now), Policy::IpDecision::kNone);
}

TEST(Policy, HasIpListsOnlyWithAnAllowOrDenyList) {
  EXPECT_FALSE(Policy::defaults()->has_ip_lists());
  EXPECT_FALSE(compile("mode: block\n")->has_ip_lists());
  EXPECT_TRUE(compile("ip_denylist: [10.0.0.0/8]\n")->has_ip_lists());
  EXPECT_TRUE(compile("ip_allowlist: [192.0.2.7]\n")->has_ip_lists());
}

TEST(Policy, Exclusions) {
  auto p = compile(
      "exclusions:\n"
      "  - rules: [xss]\n"
      "    routes: ['/cms/*']\n"
      "    inputs: ['body:content']\n"
      "  - clients: [10.0.0.0/8]\n"
      "    rules: [scanner]\n");
  EXPECT_TRUE(p->excluded("xss", "/cms/page/1", Source::kBody, "content", "1.2.3.4"));
  EXPECT_FALSE(p->excluded("xss", "/cms/page/1", Source::kQuery, "content", "1.2.3.4"));
  EXPECT_FALSE(p->excluded("xss", "/shop", Source::kBody, "content", "1.2.3.4"));
  EXPECT_FALSE(p->excluded("sql-injection", "/cms/x", Source::kBody, "content", "1.2.3.4"));
  EXPECT_TRUE(p->excluded("scanner", "/", Source::kOther, "", "10.9.9.9"));
  EXPECT_FALSE(p->excluded("scanner", "/", Source::kOther, "", "11.9.9.9"));
}

TEST(Policy, VirtualPatchesMatchMethodRouteAndInputs) {
  auto p = compile(
      "virtual_patches:\n"
      "  - id: vp1\n"
      "    action: block\n"
      "    methods: [get]\n"
      "    route: /export\n"
      "    inputs:\n"
      "      - {source: query, name: file, regex: '\\.\\.'}\n");
  Header headers[] = {{"Host", "x"}};
  RequestContext ctx;
  std::vector<Finding> out;
  ctx.parse(HttpRequest{"GET", "/export?file=../../etc/passwd", headers, {}, "127.0.0.1"});
  p->match_virtual_patches(ctx, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rule, "vp1");
  EXPECT_EQ(out[0].mode, Mode::kBlock);
  out.clear();
  ctx.parse(HttpRequest{"GET", "/export?file=report.pdf", headers, {}, "127.0.0.1"});
  p->match_virtual_patches(ctx, &out);
  EXPECT_TRUE(out.empty());
  ctx.parse(HttpRequest{"POST", "/export?file=../x", headers, {}, "127.0.0.1"});
  p->match_virtual_patches(ctx, &out);
  EXPECT_TRUE(out.empty());
}

TEST(Policy, EngineAppliesPolicyAndSwapsItWhileInUse) {
  Engine engine;
  Header headers[] = {{"User-Agent", "Mozilla/5.0"}};
  RequestContext ctx;
  ctx.parse(HttpRequest{"GET", "/search?q=%24%7Bjndi%3Aldap%3A%2F%2Fx%2Fa%7D", headers, {}, "192.0.2.1"});
  PreparedInputs prepared(ctx.inputs());
  RequestVerdict v = engine.analyze_request(ctx, prepared);
  ASSERT_TRUE(v.attack());
  EXPECT_EQ(v.findings[0].rule, "log4shell");
  EXPECT_FALSE(v.block);  // default policy monitors

  engine.set_policy(compile("rules: {log4shell: block}"));
  v = engine.analyze_request(ctx, prepared);
  EXPECT_TRUE(v.block);

  engine.set_policy(compile("mode: 'off'"));
  EXPECT_FALSE(engine.analyze_request(ctx, prepared).attack());

  // Swapping while other threads analyse: every verdict comes from one whole policy.
  auto block = compile("mode: 'off'\nbudget_us: 1000000\nrules: {log4shell: block}");
  auto off = compile("mode: 'off'\nbudget_us: 1000000");
  engine.set_policy(off);
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    for (int i = 0; !stop; ++i) engine.set_policy(i % 2 ? block : off);
  });
  int attacks = 0;
  for (int i = 0; i < 3000; ++i) {
    RequestVerdict r = engine.analyze_request(ctx, prepared);
    EXPECT_EQ(r.attack(), r.block) << (r.findings.empty() ? "" : r.findings[0].rule + " " + std::string(mode_name(r.findings[0].mode)));  // never "reported but not blocked" under these two policies
    attacks += r.attack();
  }
  stop = true;
  swapper.join();
}

TEST(Policy, TinyBudgetFailsOpenAndSaysSo) {
  Engine engine;
  engine.set_policy(compile("budget_us: 10"));
  std::string body = "{";
  for (int i = 0; i < 20000; ++i) body += "\"k" + std::to_string(i) + "\":\"<a href=x>${x}</a>\",";
  body += "\"end\":1}";
  Header headers[] = {{"Content-Type", "application/json"}};
  RequestContext ctx;
  ctx.parse(HttpRequest{"POST", "/", headers, body, "127.0.0.1"});
  PreparedInputs prepared(ctx.inputs());
  RequestVerdict v = engine.analyze_request(ctx, prepared);
  EXPECT_TRUE(v.budget_exceeded);
  EXPECT_FALSE(v.block);
  EXPECT_EQ(v.findings.back().rule, "analysis-budget");
  EXPECT_EQ(engine.stats().budget_overruns, 1u);
}

}  // namespace
}  // namespace vigil
