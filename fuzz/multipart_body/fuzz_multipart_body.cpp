// multipart/form-data bodies: any bytes, with a boundary taken from the first line.
#include <cstdint>
#include <string>
#include <string_view>

#include "vigil/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t nl = text.find('\n');
  std::string type = "multipart/form-data; boundary=" +
                     std::string(text.substr(0, nl == std::string_view::npos ? 0 : nl));
  std::string_view body = nl == std::string_view::npos ? text : text.substr(nl + 1);
  vigil::Header headers[] = {{"Content-Type", type}};
  vigil::RequestLimits limits;
  limits.max_multipart_parts = 16;
  vigil::RequestContext ctx(limits);
  ctx.parse(vigil::HttpRequest{"POST", "/upload", headers, body, "127.0.0.1"});
  return 0;
}
