// The whole request model on hostile bytes: "METHOD URI\nName: value\n...\n\nbody", then
// input analysis under the default policy. Checks that every input view lies inside the
// request's bytes or the context's own storage (no dangling views: ASan catches those).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/analysis.hpp"
#include "vigil/engine.hpp"
#include "vigil/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t head_end = text.find("\n\n");
  std::string_view head = text.substr(0, head_end);
  std::string_view body = head_end == std::string_view::npos ? std::string_view() : text.substr(head_end + 2);
  std::size_t line_end = head.find('\n');
  std::string_view request_line = head.substr(0, line_end);
  std::size_t sp = request_line.find(' ');
  std::string_view method = request_line.substr(0, sp);
  std::string_view uri = sp == std::string_view::npos ? std::string_view("/") : request_line.substr(sp + 1);
  std::vector<vigil::Header> headers;
  while (line_end != std::string_view::npos) {
    std::size_t start = line_end + 1;
    line_end = head.find('\n', start);
    std::string_view line = head.substr(start, line_end == std::string_view::npos ? line_end : line_end - start);
    std::size_t colon = line.find(':');
    headers.push_back(vigil::Header{line.substr(0, colon),
                                    colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1)});
  }
  vigil::RequestLimits limits;
  limits.max_inputs = 256;
  limits.max_json_depth = 32;
  vigil::RequestContext ctx(limits);
  vigil::TrustedProxies proxies{{"127.0.0.0/8", "::1"}};
  ctx.parse(vigil::HttpRequest{method, uri, headers, body, "127.0.0.1"}, &proxies);
  std::size_t total = 0;
  for (const vigil::Input& in : ctx.inputs()) total += in.name.size() + in.value.size();
  (void)total;
  vigil::PreparedInputs prepared(ctx.inputs());
  static vigil::Engine engine;
  vigil::RequestVerdict v = engine.analyze_request(ctx, prepared);
  for (const auto& f : v.findings)
    if (f.input >= static_cast<std::int32_t>(ctx.inputs().size())) __builtin_trap();
  return 0;
}
