// BodyDecoder (src/agent/body_decoder.hpp) on arbitrary bodies: every coding and stack of them,
// with and without chunked framing, fed in pieces. The first byte chooses: bits 0-1 the first
// coding, bits 2-3 a second one (0: none), bit 4 chunked, bits 5-7 the piece size. Whatever the
// bytes, the output stays within its bound and the decoder ends in a final state.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/body_decoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using vigil::agent::BodyDecoder;
  if (size == 0) return 0;
  static const char* const kNames[] = {"gzip", "deflate", "br", "zstd"};
  std::uint8_t mode = data[0];
  std::string encoding = kNames[mode & 3];
  if ((mode >> 2) & 3) encoding = std::string(kNames[(mode >> 2) & 3]) + ", " + encoding;
  vigil::agent::Codings codings;
  codings.add(encoding);
  BodyDecoder::Limits limits;
  limits.max_output = 64 * 1024;
  limits.max_input = 256 * 1024;
  BodyDecoder decoder;
  if (decoder.start(codings, (mode >> 4) & 1, limits) != BodyDecoder::Status::kOk) __builtin_trap();
  std::size_t piece = std::size_t{1} << ((mode >> 5) * 2);  // 1 to 16 KiB
  std::string out;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (std::size_t at = 0; at < body.size(); at += piece) decoder.feed(body.substr(at, piece), &out);
  BodyDecoder::Status st = decoder.finish();
  if (out.size() > limits.max_output || out.size() != decoder.produced()) __builtin_trap();
  if (st == BodyDecoder::Status::kOk) __builtin_trap();
  return 0;
}
