// The FastCGI readers (src/agent/fastcgi.hpp) on arbitrary record streams fed in pieces: the
// first byte chooses the direction (bit 0: the web server's requests or the program's
// responses) and the piece size (bits 1-3). Whatever the bytes, nothing crashes, the text made
// of a stream does not depend on how it was cut (records span writes), and it stays within a
// bound of the input (what the readers add per record is a few lines).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/fastcgi.hpp"

namespace {

template <class Reader>
std::string run(std::string_view stream, std::size_t piece, bool* alive) {
  Reader reader;
  std::string http;
  *alive = true;
  for (std::size_t at = 0; at < stream.size() && *alive; at += piece)
    *alive = reader.feed(stream.substr(at, piece), &http);
  return http;
}

template <class Reader>
void check(std::string_view stream, std::size_t piece) {
  bool alive_pieces = false, alive_whole = false;
  const std::string in_pieces = run<Reader>(stream, piece, &alive_pieces);
  const std::string whole = run<Reader>(stream, stream.size() + 1, &alive_whole);
  if (alive_pieces != alive_whole) __builtin_trap();
  if (alive_whole && in_pieces != whole) __builtin_trap();
  // Per 8-byte record: a status line, a terminator or a chunk's framing at most, plus headers
  // that are no longer than the parameters they come from (4 bytes each for ": \r\n").
  if (whole.size() > 8 * stream.size() + 64) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = std::size_t{1} << (((data[0] >> 1) & 7) * 2);  // 1 byte to 16 KiB
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) check<vigil::agent::FcgiResponseWriter>(stream, piece);
  else check<vigil::agent::FcgiRequestReader>(stream, piece);
  return 0;
}
