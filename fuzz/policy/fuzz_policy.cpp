// Policy documents (YAML/JSON): any bytes compile to a policy with diagnostics, never a crash;
// the compiled policy is then exercised.
#include <cstdint>
#include <string_view>
#include <vector>

#include "vigil/policy.hpp"
#include "vigil/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  std::string_view doc(reinterpret_cast<const char*>(data), size);
  std::vector<vigil::PolicyDiagnostic> diags;
  auto policy = vigil::Policy::compile(doc, &diags);
  if (!policy) __builtin_trap();
  (void)policy->mode_for("sql-injection");
  (void)policy->excluded("xss", "/a/b", vigil::Source::kQuery, "q", "10.0.0.1");
  (void)policy->ip_decision("192.0.2.1", vigil::PolicyClock::now());
  vigil::Header headers[] = {{"User-Agent", "x"}};
  vigil::RequestContext ctx;
  ctx.parse(vigil::HttpRequest{"GET", "/export?file=../x&q=1", headers, {}, "192.0.2.1"});
  std::vector<vigil::Finding> out;
  policy->match_virtual_patches(ctx, &out);
  return 0;
}
