// The agent's HTTP/1.1 request parser: arbitrary bytes fed in arbitrary pieces (the first byte
// sets the piece size). Kept body never exceeds the limit; every completed request parses into
// a RequestContext. As in the agent, each request is swapped out of the parser, which then
// parses the next one into the memory of the one before, and a request whose body is pending
// is read from a copy of its head.
#include <cstdint>
#include <string_view>

#include "core/context/http1_parser.hpp"
#include "vigil/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::size_t piece = 1 + data[0] % 64;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  vigil::context::Http1Parser parser(vigil::context::Http1Parser::Limits{4096, 256});
  vigil::RequestContext ctx;
  vigil::context::ParsedRequest kept;
  for (std::size_t i = 0; i < bytes.size(); i += piece) {
    auto status = parser.feed(bytes.substr(i, piece));
    while (status == vigil::context::Http1Parser::Status::kRequest) {
      kept.swap(parser.request());
      const auto& r = kept;
      if (r.body.size() > 256) __builtin_trap();
      ctx.parse(
          vigil::HttpRequest{r.method, r.target, r.headers, r.body, "127.0.0.1", r.anomalies});
      status = parser.next();
    }
    if (status == vigil::context::Http1Parser::Status::kError) break;
    if (parser.in_body()) {  // as the agent reads a request whose body has not all come
      vigil::context::ParsedRequest head;
      head.copy_head(parser.request());
      ctx.parse(vigil::HttpRequest{head.method, head.target, head.headers, {}, "127.0.0.1",
                                   head.anomalies});
    }
  }
  return 0;
}
