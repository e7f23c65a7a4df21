// The launcher handoff's decoder (src/agent/handoff.hpp) on arbitrary bytes: anyone may set
// VIGIL_HANDOFF in a launcher's environment. Whatever the bytes, nothing crashes; what decodes
// encodes again to the same bytes (no two readings of one handoff); each request's text goes
// through the agent's HTTP/1.1 parser within its bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "agent/handoff.hpp"
#include "core/context/http1_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::vector<vigil::agent::HandedRequest> requests;
  if (!vigil::agent::decode_handoff(bytes, &requests)) {
    if (!requests.empty()) std::abort();
    return 0;
  }
  std::string again;
  vigil::agent::begin_handoff(&again);
  for (const auto& r : requests) {
    if (!vigil::agent::append_handoff(&again, r)) std::abort();
    vigil::context::Http1Parser parser(vigil::context::Http1Parser::Limits{4096, 4096});
    parser.feed(r.http);
  }
  if (again != bytes) std::abort();
  return 0;
}
