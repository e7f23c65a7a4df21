// Decoders for the forms an application may turn an input into before a sink sees it.
//
// Each decoder is copy-on-write: it returns false and leaves *out untouched when the input has
// nothing to decode (the common case, no allocation), and returns true with the decoded text in
// *out otherwise. Malformed sequences are kept as they are, the way lenient application
// decoders keep them. All run in time linear in the input and never throw except std::bad_alloc.
#ifndef VIGIL_CORE_DECODE_DECODE_HPP_
#define VIGIL_CORE_DECODE_DECODE_HPP_

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::decode {

// Percent-decoding; '+' becomes a space when `plus_as_space`; IIS-style "%uXXXX" becomes UTF-8.
bool url_decode(std::string_view in, bool plus_as_space, std::string* out);

// HTML character references: decimal and hex numeric ones (with or without ';'), and named
// ones (the WHATWG names that matter for markup and script: amp, lt, gt, quot, apos, colon,
// lpar, rpar, Tab, NewLine, ...). Invalid code points become U+FFFD as in browsers.
bool html_entity_decode(std::string_view in, std::string* out);

// JSON / JavaScript string escapes: \" \\ \/ \b \f \n \r \t \uXXXX (surrogate pairs joined),
// and JavaScript's \' and \xHH.
bool json_unescape(std::string_view in, std::string* out);

// The value of a base64 digit of either alphabet (standard "+/", URL-safe "-_"); -1 for others.
constexpr int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Base64 (standard or URL-safe alphabet, padded or not) of at least 8 characters whose decoding
// is ASCII text (printable, tab, CR, LF): a value a program base64-decodes (a return URL, a path,
// a JSON document) as it reads it. Anything else (a random token decodes to binary) is not.
bool base64_text(std::string_view in, std::string* out);

// MIME transfer encodings (RFC 2045), which multipart readers such as python-multipart
// (Starlette, FastAPI), WebOb and undici's formData() undo when a part says it has one.
// Quoted-printable as Python's binascii.a2b_qp reads it: "=XX" (hex digits of either case) is
// that byte, "=" at a line's end joins the line to the next, any other byte is kept.
bool quoted_printable(std::string_view in, std::string* out);
// Base64 that skips what is not of the alphabet (line breaks) and stops at '=', as Python's
// b64decode does; true only when the decoding is text (no control byte but tab, CR and LF).
bool mime_base64_text(std::string_view in, std::string* out);

// Appends the UTF-8 encoding of `cp` (U+FFFD for surrogates and values above U+10FFFF).
void append_utf8(std::uint32_t cp, std::string* out);

// The Unicode encodings other than UTF-8 in which JSON and XML readers take a document.
enum class WideEncoding : std::uint8_t { kNone, kUtf16Le, kUtf16Be, kUtf32Le, kUtf32Be };

// The encoding that a reader detecting it from a body's first bytes reads the body in: a UTF-16
// or UTF-32 byte order mark, or the NULs an ASCII first character leaves (Python's
// json.detect_encoding, which json.loads of bytes applies, hence Flask's get_json and Django's
// json.loads(request.body); Jackson's; XML 1.0 appendix F). kNone for UTF-8 (or anything else).
WideEncoding detect_wide(std::string_view body) noexcept;

// `in` in `encoding` as UTF-8, written to *out (replaced), without the byte order mark it may
// start with. A lone surrogate or a value above U+10FFFF becomes U+FFFD; a last incomplete code
// unit is dropped.
void wide_to_utf8(std::string_view in, WideEncoding encoding, std::string* out);

}  // namespace vigil::decode

#endif  // VIGIL_CORE_DECODE_DECODE_HPP_
