// The HTTP/2 readers (src/agent/http2.hpp) on arbitrary byte streams fed in pieces: the first
// byte chooses the direction (bit 0: the client's frames, or the program's) and the piece size
// (bits 1-3). Whatever the bytes, nothing crashes; the requests made of a stream, and the
// response heads, data and ends read of one, do not depend on how it was cut; and the HTTP/1.1 text
// they make is read back by the agent's HTTP/1.1 parser as exactly those requests, none more (a
// stream's fields cannot smuggle a second request into the agent's view), each within the reader's
// bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/http2.hpp"
#include "core/context/http1_parser.hpp"

namespace {

using vigil::agent::H2RequestReader;
constexpr std::size_t kMaxBody = 4096;

H2RequestReader::Output requests(std::string_view stream, std::size_t piece, bool* alive) {
  H2RequestReader reader(kMaxBody);
  H2RequestReader::Output out;
  *alive = true;
  for (std::size_t at = 0; at < stream.size() && *alive; at += piece)
    *alive = reader.feed(stream.substr(at, piece), &out);
  return out;
}

void check_requests(std::string_view stream, std::size_t piece) {
  bool alive_pieces = false, alive_whole = false;
  const auto in_pieces = requests(stream, piece, &alive_pieces);
  const auto whole = requests(stream, stream.size() + 1, &alive_whole);
  if (alive_pieces != alive_whole) __builtin_trap();
  if (in_pieces.http != whole.http || in_pieces.streams != whole.streams) __builtin_trap();
  vigil::context::Http1Parser parser(vigil::context::Http1Parser::Limits{64 * 1024, kMaxBody});
  std::size_t parsed = 0;
  for (auto st = parser.feed(whole.http); st != vigil::context::Http1Parser::Status::kNeedMore;
       st = parser.next()) {
    if (st == vigil::context::Http1Parser::Status::kError) __builtin_trap();
    ++parsed;
    const auto& r = parser.request();
    if (r.body.size() > kMaxBody) __builtin_trap();
  }
  if (parsed != whole.streams.size() || parser.in_body()) __builtin_trap();
}

// A response stream's pieces as text: heads, ends, and each stream's data joined (a frame's data
// may be cut anywhere by the writes).
std::string response_text(std::string_view stream, std::size_t piece, bool* lost, bool* boundary) {
  vigil::agent::H2ResponseReader reader;
  std::vector<vigil::agent::H2ResponseReader::Piece> pieces;
  std::string out;
  char last = 0;
  std::uint32_t last_stream = 0;
  for (std::size_t at = 0; at < stream.size(); at += piece) {
    reader.feed(stream.substr(at, piece), &pieces);
    for (const auto& p : pieces) {
      if (p.kind == vigil::agent::H2ResponseReader::Piece::kHead &&
          (p.bytes.size() > vigil::agent::HpackDecoder::kMaxFieldBytes + 64 * 1024 ||
           p.bytes.substr(0, 9) != "HTTP/1.1 "))
        __builtin_trap();
      if (p.kind == vigil::agent::H2ResponseReader::Piece::kData && last == 'D' &&
          last_stream == p.stream) {
        out.append(p.bytes);
        continue;
      }
      last = "HDE"[p.kind];
      last_stream = p.stream;
      out += "|" + std::string(1, last) + std::to_string(p.stream) + ":" + std::string(p.bytes);
    }
  }
  *lost = reader.heads_lost();
  *boundary = reader.at_frame_boundary();
  return out;
}

void check_responses(std::string_view stream, std::size_t piece) {
  bool lost_a = false, lost_b = false, boundary_a = false, boundary_b = false;
  const std::string a = response_text(stream, piece, &lost_a, &boundary_a);
  const std::string b = response_text(stream, stream.size() + 1, &lost_b, &boundary_b);
  if (a != b || lost_a != lost_b || boundary_a != boundary_b) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = std::size_t{1} << (((data[0] >> 1) & 7) * 2);  // 1 byte to 16 KiB
  std::string stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    check_responses(stream, piece);
  } else {
    // Mostly past the preface: the frames are what is worth exploring.
    if (!(data[0] & 0x80)) stream.insert(0, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    check_requests(stream, piece);
  }
  return 0;
}
