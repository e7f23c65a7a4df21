// The libFuzzer body shared by the database stream followers' targets (fuzz/pg_wire,
// fuzz/my_wire): a client stream fed in pieces. The first byte chooses: bit 0 whether the
// stream is followed from its start, bits 1-3 the piece size. The same stream fed whole (joined
// late: one write) or in pieces never crashes; the statements handed out stay within kMaxSql
// (a query, a prepare, or PgWire's run of a kept statement); a stream followed from its start
// gives the same statements whatever the piece size (messages and packets may span writes).
#ifndef VIGIL_FUZZ_WIRE_HARNESS_HPP_
#define VIGIL_FUZZ_WIRE_HARNESS_HPP_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace vigil::fuzz {

template <class Wire>
std::vector<typename Wire::Statement> feed_in_pieces(std::string_view stream, bool from_start,
                                                     std::size_t piece, bool* alive) {
  Wire wire(from_start);
  std::vector<typename Wire::Statement> out;
  *alive = true;
  for (std::size_t at = 0; at < stream.size() && *alive; at += piece)
    *alive = wire.feed(stream.substr(at, piece), &out);
  for (const auto& s : out)
    if (s.sql.empty() || s.sql.size() > Wire::kMaxSql || (s.type != 'Q' && s.type != 'P' && s.type != 'B'))
      __builtin_trap();
  return out;
}

template <class Wire>
int wire_one_input(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool from_start = data[0] & 1;
  const std::size_t piece = std::size_t{1} << (((data[0] >> 1) & 7) * 2);  // 1 byte to 16 KiB
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  bool alive_pieces = false, alive_whole = false;
  auto in_pieces = feed_in_pieces<Wire>(stream, from_start, piece, &alive_pieces);
  auto whole = feed_in_pieces<Wire>(stream, from_start, stream.size() + 1, &alive_whole);
  if (from_start && alive_pieces && alive_whole) {
    if (in_pieces.size() != whole.size()) __builtin_trap();
    for (std::size_t i = 0; i < whole.size(); ++i)
      if (in_pieces[i].sql != whole[i].sql || in_pieces[i].cut != whole[i].cut) __builtin_trap();
  }
  return 0;
}

}  // namespace vigil::fuzz

#endif  // VIGIL_FUZZ_WIRE_HARNESS_HPP_
