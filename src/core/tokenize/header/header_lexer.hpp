// A zero-copy lexer for an HTTP/1.1 header block (RFC 9112 section 5), as a strict parser such
// as Node's llhttp reads it.
//
// The block is split into lines at every line break: CRLF, a bare LF, or a bare CR (a CR not
// followed by LF). Each line is classified:
//   kField         name ":" value; the name is one or more token characters (tchar), directly
//                  followed by the colon; the value has its surrounding SP/HT trimmed.
//   kContinuation  a line starting with SP or HT: obs-fold, a continuation of the previous
//                  field's value that RFC 9112 deprecates and strict parsers reject.
//   kEmpty         an empty line: the end of the header block.
//   kMalformed     anything else: no colon, an empty name, a byte outside tchar in the name, or
//                  white space before the colon.
//   kBody          everything after the empty line (not a line: it has no terminator).
// Strict parsers also reject bare CR and bare LF terminators and control bytes other than HT
// inside values; the lexer reports them (Line::end_kind, Line::invalid_value_byte) but never
// refuses input.
//
// Lines cover the block completely and in order: each Line's [begin, next) follows the
// previous one's. Complexity: linear in the block on any bytes; no allocation, no recursion.
// Thread safety: a Lexer is a value owned by one thread.
#ifndef VIGIL_CORE_TOKENIZE_HEADER_HEADER_LEXER_HPP_
#define VIGIL_CORE_TOKENIZE_HEADER_HEADER_LEXER_HPP_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vigil::tokenize::header {

enum class LineKind : std::uint8_t {
  kField,
  kContinuation,
  kEmpty,
  kMalformed,
  kBody,
};

enum class LineEnd : std::uint8_t {
  kCrlf,  // "\r\n"
  kLf,    // a bare "\n" (strict parsers: "Missing expected CR after header value")
  kCr,    // a bare "\r" (strict parsers: "Missing expected LF after header value")
  kNone,  // the block ends without a terminator (always for kBody)
};

// One line. Offsets are bytes of the block.
struct Line {
  LineKind kind = LineKind::kMalformed;
  LineEnd end_kind = LineEnd::kNone;
  std::uint32_t begin = 0;        // first byte of the line
  std::uint32_t end = 0;          // end of its content (where the terminator starts)
  std::uint32_t next = 0;         // just past the terminator: the next line's begin
  std::uint32_t name_end = 0;     // kField: the name is [begin, name_end), the colon at name_end
  std::uint32_t value_begin = 0;  // kField, kContinuation: the value, SP/HT trimmed
  std::uint32_t value_end = 0;
  bool invalid_value_byte = false;  // a control byte other than HT, or DEL, in the value
};

// True for RFC 9110 tchar: ALPHA DIGIT and !#$%&'*+-.^_`|~
bool is_token_char(char c) noexcept;

// True for a control byte other than HT, or DEL: no field value may hold one (RFC 9110 5.5),
// and servers refuse or drop a line that does (Line::invalid_value_byte).
constexpr bool is_invalid_value_byte(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7F;
}

// "CRLF", "bare LF", "bare CR", "none".
std::string_view line_end_name(LineEnd end) noexcept;
// "field", "continuation", "empty", "malformed", "body".
std::string_view line_kind_name(LineKind kind) noexcept;

// A cursor over the lines of a header block. Blocks longer than 4 GiB are read up to their
// first 4 GiB.
class Lexer {
 public:
  explicit Lexer(std::string_view block) noexcept;

  // Stores the next line in *out and returns true, or returns false at the end of the block.
  bool next(Line* out) noexcept;

 private:
  std::string_view block_;
  std::size_t pos_ = 0;
  bool in_body_ = false;
};

}  // namespace vigil::tokenize::header

#endif  // VIGIL_CORE_TOKENIZE_HEADER_HEADER_LEXER_HPP_
