// ChunkedReader (src/agent/chunked.hpp) on arbitrary bytes, fed whole and in pieces whose sizes
// the first byte chooses: the data handed out and where the reader stops (the last chunk, the
// end of the trailers, a malformed byte) must not depend on how the bytes were cut, and every
// piece of data must be part of the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/chunked.hpp"

namespace {

using vigil::agent::ChunkedReader;

struct Outcome {
  std::string data;
  std::size_t last = std::string_view::npos;  // input offset after the last chunk's size line
  std::size_t end = std::string_view::npos;   // input offset after the trailers' blank line
  bool bad = false;
};

Outcome read(std::string_view input, std::size_t piece) {
  Outcome o;
  ChunkedReader reader;
  for (std::size_t at = 0; at < input.size() && !o.bad && o.end == std::string_view::npos;) {
    std::string_view in = input.substr(at, piece);
    const std::size_t given = in.size();
    for (bool more = true; more;) {
      std::string_view data;
      switch (reader.next(&in, &data)) {
        case ChunkedReader::Step::kData:
          if (data.empty() || data.data() < input.data() ||
              data.data() + data.size() > input.data() + input.size())
            __builtin_trap();
          o.data.append(data);
          break;
        case ChunkedReader::Step::kLast:
          if (o.last != std::string_view::npos) __builtin_trap();
          o.last = at + given - in.size();
          break;
        case ChunkedReader::Step::kEnd:
          if (o.last == std::string_view::npos) __builtin_trap();
          o.end = at + given - in.size();
          more = false;
          break;
        case ChunkedReader::Step::kBad:
          o.bad = true;
          more = false;
          break;
        case ChunkedReader::Step::kMore:
          if (!in.empty()) __builtin_trap();
          more = false;
          break;
      }
    }
    at += given;
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 17;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Outcome whole = read(input, input.size() + 1);
  const Outcome cut = read(input, piece);
  if (whole.data != cut.data || whole.last != cut.last || whole.end != cut.end ||
      whole.bad != cut.bad)
    __builtin_trap();
  return 0;
}
