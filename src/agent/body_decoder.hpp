// Decoding a response body that the program compressed (Content-Encoding), so that the HTML a
// browser will render can be checked for reflected XSS: gzip (x-gzip), deflate (zlib-wrapped or
// raw, both occur), br (Brotli), zstd, and lists of them ("gzip, br": applied in that order,
// undone right to left), optionally inside chunked transfer coding.
//
// The body comes from the program, but what it holds came from a request: every byte is treated
// as hostile. Decoding is streamed (the body may arrive in many writes), bounded and never
// throws:
//  - the decoded output is bounded (Limits::max_output): a decompression bomb stops there;
//  - the work is bounded: each stage reads at most Limits::max_input bytes (a stream of empty
//    blocks or metadata that produces nothing cannot keep the decoder busy);
//  - memory is bounded (Limits::max_window): Brotli's allocations are counted against it (its
//    ring buffer grows with the output, so it stays small unless a meta-block declares more),
//    zstd's window is capped at the largest power of two within it; a stream that needs more
//    is refused (Status::kCorrupt) rather than allocated for;
//  - a corrupt or truncated stream keeps what was decoded before the fault (fail open: the
//    caller checks what there is and counts the fault).
#ifndef VIGIL_AGENT_BODY_DECODER_HPP_
#define VIGIL_AGENT_BODY_DECODER_HPP_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent/chunked.hpp"

namespace vigil::agent {

// The decoded HTML of a response that is kept for the reflected-XSS check, by the preload
// agent and the SDK alike.
inline constexpr std::size_t kMaxCheckedHtml = 256 * 1024;

// One content coding.
enum class Coding : std::uint8_t { kGzip, kDeflate, kBrotli, kZstd };

// The content codings of a response, in the order the sender applied them.
struct Codings {
  static constexpr std::size_t kMax = 4;  // more stacked codings than this: not decoded
  std::array<Coding, kMax> list{};
  std::uint8_t count = 0;
  bool unknown = false;  // a coding not known here (compress, a typo...), or too many of them

  // Adds the codings of one Content-Encoding field value (a comma-separated list, any case;
  // "identity" and empty members add nothing). Several fields add up in order, as the HTTP
  // specification says they combine.
  void add(std::string_view value) noexcept;
  // True when the body must be decoded (a known coding) or cannot be (an unknown one).
  bool any() const noexcept { return count != 0 || unknown; }
};

// A streaming decoder of one body at a time. Not thread-safe: one owner (the response tracker,
// under its connection's lock).
class BodyDecoder {
 public:
  enum class Status : std::uint8_t {
    kOk,           // everything fed so far was decoded; more may come
    kEnd,          // the (last) stream ended; bytes after it are ignored
    kFull,         // a bound was reached (output or work): the output so far is what is kept
    kTruncated,    // finish(): the body ended before its stream did
    kCorrupt,      // not a valid stream, or needing more memory than allowed
    kUnsupported,  // an unknown coding: nothing is decoded
    kNoMemory,     // an allocation failed
  };

  struct Limits {
    std::size_t max_output = kMaxCheckedHtml;  // decoded bytes kept, in total
    std::size_t max_input = 1024 * 1024;       // bytes each stage may read
    std::size_t max_window = 9 * 1024 * 1024;  // memory for a Brotli or zstd stream
  };

  BodyDecoder() noexcept;
  ~BodyDecoder();
  BodyDecoder(const BodyDecoder&) = delete;
  BodyDecoder& operator=(const BodyDecoder&) = delete;

  // Starts a body: forgets the previous one (and frees its streams' memory). `chunked`: the
  // bytes fed are in chunked transfer coding (framing removed before decoding). The status is
  // kUnsupported when `codings.unknown`; kOk otherwise (codings with count 0 copy the body).
  Status start(const Codings& codings, bool chunked, const Limits& limits) noexcept;

  // Decodes the next bytes of the body, appending to `*out` (at most max_output bytes in all
  // across calls; `out` is not cleared). Returns the state after these bytes: once it is not
  // kOk, later calls append nothing and return the same status. Streams' memory is freed as
  // soon as the state is final.
  Status feed(std::string_view input, std::string* out) noexcept;

  // The body ended: kTruncated when a stream (or the chunked framing) was left unfinished and
  // the status was kOk; otherwise the status. Frees the streams' memory.
  Status finish() noexcept;

  Status status() const noexcept { return status_; }
  // Bytes appended to the output since start().
  std::size_t produced() const noexcept { return produced_; }

  // The name of a status, for messages and tests ("ok", "end", "full", ...).
  static const char* name(Status status) noexcept;

  // One-shot helper: decodes a whole body (not chunked) into `*out` (cleared first).
  static Status decode(std::string_view content_encoding, std::string_view body,
                       std::string* out, const Limits& limits) noexcept;

 private:
  struct Stage;
  Status run(std::size_t stage, std::string_view input, std::string* out) noexcept;
  Status emit(std::string_view data, std::string* out) noexcept;
  void release() noexcept;

  std::array<std::unique_ptr<Stage>, Codings::kMax> stages_;
  std::size_t count_ = 0;
  std::unique_ptr<ChunkedReader> chunked_;
  Limits limits_;
  Status status_ = Status::kOk;
  std::size_t produced_ = 0;
};

}  // namespace vigil::agent

#endif  // VIGIL_AGENT_BODY_DECODER_HPP_
