// The input decoders: never crash, never grow the text (each decodes to fewer or equal bytes,
// except invalid code points that become the 3-byte U+FFFD), and stay copy-on-write.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/decode/decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string out = "untouched";
  if (!vigil::decode::url_decode(in, true, &out)) {
    if (out != "untouched") std::abort();
  } else if (out.size() > 3 * in.size()) {
    std::abort();
  }
  out = "untouched";
  if (!vigil::decode::html_entity_decode(in, &out) && out != "untouched") std::abort();
  out = "untouched";
  if (!vigil::decode::json_unescape(in, &out) && out != "untouched") std::abort();
  if (vigil::decode::json_unescape(in, &out) && out.size() > in.size() * 2) std::abort();
  // Base64 text: three bytes per four characters at most, and only text.
  out = "untouched";
  if (!vigil::decode::base64_text(in, &out)) {
    if (out != "untouched") std::abort();
  } else {
    if (out.size() > in.size() * 3 / 4) std::abort();
    for (unsigned char c : out)
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c >= 0x7F) std::abort();
  }
  return 0;
}
