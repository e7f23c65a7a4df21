// XML bodies: the lenient scanner on any bytes; nothing is expanded or fetched.
#include <cstdint>
#include <string_view>

#include "vigil/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  vigil::Header headers[] = {{"Content-Type", "application/xml"}};
  vigil::RequestLimits limits;
  limits.max_json_depth = 16;
  vigil::RequestContext ctx(limits);
  ctx.parse(vigil::HttpRequest{"POST", "/", headers, body, "127.0.0.1"});
  return 0;
}
