// Query strings, form bodies, cookies and the URI itself (percent, '+', %uXXXX decoding).
#include <cstdint>
#include <string>
#include <string_view>

#include "vigil/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string uri = "/p/" + std::string(text) + "?" + std::string(text);
  vigil::Header headers[] = {{"Content-Type", "application/x-www-form-urlencoded"},
                             {"Cookie", text},
                             {"X-Forwarded-For", text}};
  vigil::RequestContext ctx;
  vigil::TrustedProxies proxies{{"0.0.0.0/0"}};
  ctx.parse(vigil::HttpRequest{"POST", uri, headers, text, "10.0.0.1"}, &proxies);
  return 0;
}
