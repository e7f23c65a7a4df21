// JSON bodies: bounded depth, bounded key paths, malformed documents kept whole.
#include <cstdint>
#include <string_view>

#include "vigil/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  vigil::Header headers[] = {{"Content-Type", "application/json"}};
  vigil::RequestLimits limits;
  limits.max_json_depth = 16;
  limits.max_key_path_bytes = 64;
  limits.max_inputs = 128;
  vigil::RequestContext ctx(limits);
  ctx.parse(vigil::HttpRequest{"POST", "/", headers, body, "127.0.0.1"});
  if (ctx.inputs().size() > limits.max_inputs) __builtin_trap();
  for (const auto& in : ctx.inputs())
    if (in.source == vigil::Source::kJson && in.name.size() > limits.max_key_path_bytes) __builtin_trap();
  return 0;
}
