#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace vigil
