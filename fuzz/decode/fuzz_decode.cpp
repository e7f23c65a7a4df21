// The input decoders: never crash, never grow the text (each decodes to fewer or equal bytes,
// except invalid code points that become the 3-byte U+FFFD), and stay copy-on-write; UTF-16 and
// UTF-32 become UTF-8 of bounded size.
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
  // MIME transfer encodings: never longer than what they decode, copy-on-write, base64 text only.
  out = "untouched";
  if (!vigil::decode::quoted_printable(in, &out)) {
    if (out != "untouched") std::abort();
  } else if (out.size() > in.size()) {
    std::abort();
  }
  out = "untouched";
  if (!vigil::decode::mime_base64_text(in, &out)) {
    if (out != "untouched") std::abort();
  } else {
    if (out.empty() || out.size() > in.size() * 3 / 4) std::abort();
    for (unsigned char c : out)
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) std::abort();
  }
  // UTF-16 and UTF-32 to UTF-8: at most 3 bytes per 2-byte unit (a pair: 4 per 4), 4 per 4-byte
  // unit, in every encoding whatever the detection said.
  (void)vigil::decode::detect_wide(in);
  using vigil::decode::WideEncoding;
  for (WideEncoding e : {WideEncoding::kUtf16Le, WideEncoding::kUtf16Be, WideEncoding::kUtf32Le,
                         WideEncoding::kUtf32Be}) {
    vigil::decode::wide_to_utf8(in, e, &out);
    const bool utf32 = e == WideEncoding::kUtf32Le || e == WideEncoding::kUtf32Be;
    if (out.size() > (utf32 ? in.size() : in.size() / 2 * 3)) std::abort();
  }
  return 0;
}
