#include "server/policy/would_block.hpp"

#include <gtest/gtest.h>

#include "server/ingest/event_batch.hpp"

namespace vigil::server::policy {
namespace {

StoredEvent event(const std::string& rule, const std::string& ip = "203.0.113.9",
                  const std::string& path = "/product", const std::string& source = "query",
                  const std::string& name = "id", const std::string& value = "1' OR 1=1--") {
  StoredEvent e;
  e.rule = rule;
  e.client_ip = ip;
  e.method = "GET";
  e.path = path;
  e.input_source = source;
  e.input_name = name;
  e.input_value = value;
  e.outcome = ingest::kProbed;
  return e;
}

std::string decide(const char* policy, const StoredEvent& e) {
  std::vector<vigil::PolicyDiagnostic> diags;
  auto p = vigil::Policy::compile(policy, &diags);
  for (const auto& d : diags) ADD_FAILURE() << d.message;
  return would_block(*p, e, vigil::PolicyClock::now());
}

TEST(WouldBlock, RuleModesAndWeakRules) {
  EXPECT_EQ(decide(R"({"mode":"monitor"})", event("sql-injection")), "");
  EXPECT_EQ(decide(R"({"mode":"block"})", event("sql-injection")), "sql-injection");
  EXPECT_EQ(decide(R"({"rules":{"sql-injection":"block"}})", event("sql-injection")), "sql-injection");
  // Weak-evidence rules block only when named.
  EXPECT_EQ(decide(R"({"mode":"block"})", event("scanner")), "");
  EXPECT_EQ(decide(R"({"rules":{"scanner":"block"}})", event("scanner")), "scanner");
}

TEST(WouldBlock, IpListsAndExclusions) {
  EXPECT_EQ(decide(R"({"ip_denylist":["203.0.113.0/24"]})", event("xss")), "ip-denylist");
  EXPECT_EQ(decide(R"({"ip_denylist":[{"cidr":"203.0.113.9","expires":"2001-01-01T00:00:00Z"}]})",
                   event("xss")),
            "");
  EXPECT_EQ(decide(R"({"mode":"block","ip_allowlist":["203.0.113.9"],"ip_denylist":["203.0.113.9"]})",
                   event("xss")),
            "");
  EXPECT_EQ(decide(R"({"mode":"block","exclusions":[{"rules":["xss"],"routes":["/product"],"inputs":["query:id"]}]})",
                   event("xss")),
            "");
  EXPECT_EQ(decide(R"({"mode":"block","exclusions":[{"rules":["xss"],"routes":["/other"]}]})",
                   event("xss")),
            "xss");
}

TEST(WouldBlock, VirtualPatchesSeeTheRebuiltRequest) {
  const char* patch = R"({"virtual_patches":[{"id":"vp-export","action":"block","route":"/export",
      "inputs":[{"source":"query","name":"file","regex":"\\.\\."}]}]})";
  EXPECT_EQ(decide(patch, event("path-traversal", "203.0.113.9", "/export", "query", "file",
                                "../../etc/passwd")),
            "vp-export");
  EXPECT_EQ(decide(patch, event("path-traversal", "203.0.113.9", "/export", "query", "file",
                                "report.pdf")),
            "");
  EXPECT_EQ(decide(patch, event("path-traversal", "203.0.113.9", "/other", "query", "file",
                                "../x")),
            "");
}

}  // namespace
}  // namespace vigil::server::policy
