// The chunked transfer coding's framing (RFC 9112, section 7.1), read as a response streams out:
// chunk sizes, extensions, data, the last chunk and the trailer section. It tells the body
// decoder where data is, and the response tracker where the body ends.
//
// The bytes come from the program, but a request may have put some of them there, so they are
// treated as hostile. The end is found by following the framing: a write can end with the bytes
// "0\r\n\r\n" inside a chunk's data (a CRLF line of a page that ends in 0). Linear: data is
// skipped by its size, and only the framing is read byte by byte. Nothing is stored. A malformed
// framing stops the reader (kBad), and sizes beyond 2^56 are malformed.
#ifndef VIGIL_AGENT_CHUNKED_HPP_
#define VIGIL_AGENT_CHUNKED_HPP_

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "core/common/ascii.hpp"

namespace vigil::agent {

class ChunkedReader {
 public:
  enum class Step : std::uint8_t {
    kMore,  // *in is used up; more bytes are needed
    kData,  // *data is the next piece of a chunk's data
    kLast,  // the last chunk's size line was read: no data follows, the trailer section does
    kEnd,   // the trailer section's blank line was read: the body is complete
    kBad,   // not chunked framing; later calls return kBad too
  };

  // Consumes bytes from the front of `*in` up to the next piece of data (`*data`, a part of
  // `*in`), the last chunk's size line, the end of the body, or the end of `*in`.
  Step next(std::string_view* in, std::string_view* data) noexcept {
    while (!in->empty()) {
      const char c = in->front();
      switch (state_) {
        case State::kSize: {
          const int v = common::hex_value(c);
          if (v >= 0) {
            if (size_ >> 56) return bad();
            size_ = size_ * 16 + static_cast<std::uint64_t>(v);
            digits_ = true;
          } else if (!digits_) {
            return bad();
          } else if (c == ';' || c == ' ' || c == '\t') {
            state_ = State::kExtension;
          } else if (c == '\r') {
            state_ = State::kSizeLf;
          } else if (c == '\n') {
            in->remove_prefix(1);
            if (end_of_size()) return Step::kLast;
            break;
          } else {
            return bad();
          }
          in->remove_prefix(1);
          break;
        }
        case State::kExtension:
          in->remove_prefix(1);
          if (c == '\n' && end_of_size()) return Step::kLast;
          break;
        case State::kSizeLf:
          if (c != '\n') return bad();
          in->remove_prefix(1);
          if (end_of_size()) return Step::kLast;
          break;
        case State::kData: {
          const std::size_t take =
              static_cast<std::size_t>(std::min<std::uint64_t>(size_, in->size()));
          *data = in->substr(0, take);
          in->remove_prefix(take);
          size_ -= take;
          if (size_ == 0) state_ = State::kDataCr;
          return Step::kData;
        }
        case State::kDataCr:
          in->remove_prefix(1);
          if (c == '\r') state_ = State::kDataLf;
          else if (c == '\n') state_ = State::kSize;
          else return bad();
          break;
        case State::kDataLf:
          in->remove_prefix(1);
          if (c != '\n') return bad();
          state_ = State::kSize;
          break;
        // The trailer section: field lines, then a blank line (a bare LF is taken for CRLF).
        case State::kTrailerLineStart:
          in->remove_prefix(1);
          if (c == '\n') return end();
          state_ = c == '\r' ? State::kTrailerBlankLf : State::kTrailerLine;
          break;
        case State::kTrailerLine: {
          const std::size_t lf = in->find('\n');
          if (lf == std::string_view::npos) {
            in->remove_prefix(in->size());
            break;
          }
          in->remove_prefix(lf + 1);
          state_ = State::kTrailerLineStart;
          break;
        }
        case State::kTrailerBlankLf:
          if (c != '\n') {  // a field line that starts with CR: malformed
            return bad();
          }
          in->remove_prefix(1);
          return end();
        case State::kEnd:
          return Step::kEnd;
        case State::kBad:
          return Step::kBad;
      }
    }
    return state_ == State::kEnd ? Step::kEnd : state_ == State::kBad ? Step::kBad : Step::kMore;
  }

  void reset() noexcept { *this = ChunkedReader(); }

 private:
  enum class State : std::uint8_t {
    kSize, kExtension, kSizeLf, kData, kDataCr, kDataLf,
    kTrailerLineStart, kTrailerLine, kTrailerBlankLf, kEnd, kBad
  };

  // A size line ended: true for the last chunk.
  bool end_of_size() noexcept {
    digits_ = false;
    state_ = size_ == 0 ? State::kTrailerLineStart : State::kData;
    return size_ == 0;
  }
  Step bad() noexcept {
    state_ = State::kBad;
    return Step::kBad;
  }
  Step end() noexcept {
    state_ = State::kEnd;
    return Step::kEnd;
  }

  State state_ = State::kSize;
  std::uint64_t size_ = 0;
  bool digits_ = false;
};

}  // namespace vigil::agent

#endif  // VIGIL_AGENT_CHUNKED_HPP_
