#include "agent/body_decoder.hpp"

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/common/ascii.hpp"

namespace vigil::agent {

namespace {

// Output is produced in pieces of this size on the stack, one per stage (at most four).
constexpr std::size_t kPiece = 4096;

using common::iequals;

// Optional white space around a list member (RFC 9110: space and tab).
bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

// True when the two bytes start a zlib stream (RFC 1950): deflate with a window of at most
// 32 KiB and a valid header check. Servers send "deflate" both so and as raw deflate (RFC 1951);
// browsers tell them apart the same way.
bool zlib_header(unsigned char cmf, unsigned char flg) noexcept {
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

}  // namespace

void Codings::add(std::string_view value) noexcept {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    while (!item.empty() && is_blank(item.front())) item.remove_prefix(1);
    while (!item.empty() && (is_blank(item.back()) || item.back() == '\r')) item.remove_suffix(1);
    if (item.empty() || iequals(item, "identity")) continue;
    Coding c;
    if (iequals(item, "gzip") || iequals(item, "x-gzip")) {
      c = Coding::kGzip;
    } else if (iequals(item, "deflate")) {
      c = Coding::kDeflate;
    } else if (iequals(item, "br")) {
      c = Coding::kBrotli;
    } else if (iequals(item, "zstd")) {
      c = Coding::kZstd;
    } else {
      unknown = true;
      continue;
    }
    if (count == kMax) {
      unknown = true;
      continue;
    }
    list[count++] = c;
  }
}

// One decoding stage: the state of one coding's stream.
struct BodyDecoder::Stage {
  Coding coding;
  std::size_t consumed = 0;  // input bytes given to this stage (its work bound)
  bool ended = false;        // its stream ended; what follows is ignored
  std::size_t max_window = 0;

  // zlib (gzip, deflate). A deflate stream's first two bytes decide zlib or raw: one byte is
  // held until the second arrives.
  z_stream z{};
  bool z_live = false;
  unsigned char held = 0;
  bool has_held = false;

  // Brotli, with its allocations counted against max_window.
  BrotliDecoderState* br = nullptr;
  std::size_t br_allocated = 0;

  ZSTD_DStream* zs = nullptr;

  explicit Stage(Coding c, std::size_t window) noexcept : coding(c), max_window(window) {}
  ~Stage() { close(); }

  void close() noexcept {
    if (z_live) inflateEnd(&z);
    z_live = false;
    if (br != nullptr) BrotliDecoderDestroyInstance(br);
    br = nullptr;
    if (zs != nullptr) ZSTD_freeDStream(zs);
    zs = nullptr;
  }

  // Brotli's allocator: each block is prefixed with its size, so that frees can be counted.
  static void* br_alloc(void* opaque, size_t size) {
    auto* self = static_cast<Stage*>(opaque);
    if (size > self->max_window || self->br_allocated > self->max_window - size) return nullptr;
    void* block = std::malloc(size + alignof(std::max_align_t));
    if (block == nullptr) return nullptr;
    self->br_allocated += size;
    std::memcpy(block, &size, sizeof size);
    return static_cast<char*>(block) + alignof(std::max_align_t);
  }
  static void br_free(void* opaque, void* address) {
    if (address == nullptr) return;
    auto* self = static_cast<Stage*>(opaque);
    void* block = static_cast<char*>(address) - alignof(std::max_align_t);
    std::size_t size;
    std::memcpy(&size, block, sizeof size);
    self->br_allocated -= size;
    std::free(block);
  }

  // Opens the stream. False when memory is lacking.
  bool open() noexcept {
    switch (coding) {
      case Coding::kGzip:
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return false;
        z_live = true;
        return true;
      case Coding::kDeflate:
        return true;  // opened with its first two bytes
      case Coding::kBrotli:
        br = BrotliDecoderCreateInstance(&br_alloc, &br_free, this);
        return br != nullptr;
      case Coding::kZstd: {
        zs = ZSTD_createDStream();
        if (zs == nullptr) return false;
        int log = 10;
        while (log < 31 && (std::size_t{1} << (log + 1)) <= max_window) ++log;
        ZSTD_DCtx_setParameter(zs, ZSTD_d_windowLogMax, log);
        return true;
      }
    }
    return false;
  }
};

BodyDecoder::BodyDecoder() noexcept = default;
BodyDecoder::~BodyDecoder() = default;

void BodyDecoder::release() noexcept {
  for (auto& s : stages_) s.reset();
  chunked_.reset();
}

BodyDecoder::Status BodyDecoder::start(const Codings& codings, bool chunked,
                                       const Limits& limits) noexcept {
  release();
  limits_ = limits;
  produced_ = 0;
  count_ = 0;
  if (codings.unknown) return status_ = Status::kUnsupported;
  status_ = Status::kOk;
  // The sender applied list[0] first: the body is decoded from the last coding back.
  for (std::size_t i = 0; i < codings.count; ++i) {
    auto stage = std::unique_ptr<Stage>(
        new (std::nothrow) Stage(codings.list[codings.count - 1 - i], limits.max_window));
    if (!stage || !stage->open()) {
      release();
      return status_ = Status::kNoMemory;
    }
    stages_[i] = std::move(stage);
  }
  count_ = codings.count;
  if (chunked) {
    chunked_.reset(new (std::nothrow) ChunkedReader());
    if (!chunked_) {
      release();
      return status_ = Status::kNoMemory;
    }
  }
  return status_;
}

BodyDecoder::Status BodyDecoder::emit(std::string_view data, std::string* out) noexcept {
  std::size_t room = limits_.max_output - produced_;
  std::size_t take = data.size() < room ? data.size() : room;
  try {
    out->append(data.data(), take);
  } catch (...) {
    return Status::kNoMemory;
  }
  produced_ += take;
  return produced_ == limits_.max_output ? Status::kFull : Status::kOk;
}

// Gives `input` to stage `i` and what it decodes to the stages after it. Returns kOk, or a
// final status (kFull, kCorrupt, kNoMemory); the stages' `ended` flags say where streams ended.
BodyDecoder::Status BodyDecoder::run(std::size_t i, std::string_view input,
                                     std::string* out) noexcept {
  if (i == count_) return emit(input, out);
  Stage& s = *stages_[i];
  // Counted even when ignored: a stage that ended must not let the one before it inflate
  // without end.
  bool over = input.size() > limits_.max_input - s.consumed;
  if (over) input = input.substr(0, limits_.max_input - s.consumed);
  s.consumed += input.size();
  if (s.ended || input.empty()) return over ? Status::kFull : Status::kOk;
  unsigned char buf[kPiece];
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  std::size_t avail = input.size();
  switch (s.coding) {
    case Coding::kGzip:
    case Coding::kDeflate: {
      if (!s.z_live) {  // deflate: zlib or raw, from the first two bytes
        if (!s.has_held) {
          s.held = in[0];
          s.has_held = true;
          ++in;
          --avail;
          if (avail == 0) break;
        }
        int bits = zlib_header(s.held, in[0]) ? MAX_WBITS : -MAX_WBITS;
        if (inflateInit2(&s.z, bits) != Z_OK) return Status::kNoMemory;
        s.z_live = true;
        // The held byte first, alone.
        s.z.next_in = &s.held;
        s.z.avail_in = 1;
        s.z.next_out = buf;
        s.z.avail_out = kPiece;
        int r = inflate(&s.z, Z_NO_FLUSH);
        if (r != Z_OK && r != Z_BUF_ERROR) return Status::kCorrupt;
      }
      s.z.next_in = const_cast<unsigned char*>(in);
      s.z.avail_in = static_cast<uInt>(avail);
      for (;;) {
        s.z.next_out = buf;
        s.z.avail_out = kPiece;
        int r = inflate(&s.z, Z_NO_FLUSH);
        std::size_t n = kPiece - s.z.avail_out;
        if (n != 0) {
          Status d = run(i + 1, std::string_view(reinterpret_cast<char*>(buf), n), out);
          if (d != Status::kOk) return d;
        }
        if (r == Z_STREAM_END) {
          // Another gzip member may follow (RFC 1952): decoded too.
          if (s.coding == Coding::kGzip && s.z.avail_in > 0 && s.z.next_in[0] == 0x1f) {
            if (inflateReset(&s.z) != Z_OK) return Status::kCorrupt;
            continue;
          }
          s.ended = true;
          break;
        }
        if (r == Z_MEM_ERROR) return Status::kNoMemory;
        if (r != Z_OK && r != Z_BUF_ERROR) return Status::kCorrupt;
        if (s.z.avail_out != 0) break;  // all input read, all output out
      }
      break;
    }
    case Coding::kBrotli: {
      for (;;) {
        unsigned char* next_out = buf;
        std::size_t avail_out = kPiece;
        BrotliDecoderResult r =
            BrotliDecoderDecompressStream(s.br, &avail, &in, &avail_out, &next_out, nullptr);
        std::size_t n = kPiece - avail_out;
        if (n != 0) {
          Status d = run(i + 1, std::string_view(reinterpret_cast<char*>(buf), n), out);
          if (d != Status::kOk) return d;
        }
        if (r == BROTLI_DECODER_RESULT_SUCCESS) {
          s.ended = true;
          break;
        }
        if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) break;
        if (r == BROTLI_DECODER_RESULT_ERROR) return Status::kCorrupt;  // or over max_window
      }
      break;
    }
    case Coding::kZstd: {
      ZSTD_inBuffer ib{in, avail, 0};
      for (;;) {
        ZSTD_outBuffer ob{buf, kPiece, 0};
        std::size_t r = ZSTD_decompressStream(s.zs, &ob, &ib);
        if (ZSTD_isError(r)) return Status::kCorrupt;
        if (ob.pos != 0) {
          Status d = run(i + 1, std::string_view(reinterpret_cast<char*>(buf), ob.pos), out);
          if (d != Status::kOk) return d;
        }
        // A frame ended (0); further frames in the same body are decoded too.
        s.ended = r == 0;
        if (ib.pos == ib.size && ob.pos < ob.size) break;
      }
      break;
    }
  }
  return over ? Status::kFull : Status::kOk;
}

BodyDecoder::Status BodyDecoder::feed(std::string_view input, std::string* out) noexcept {
  if (status_ != Status::kOk) return status_;
  Status st = Status::kOk;
  bool framing_done = false;
  if (!chunked_) {
    st = run(0, input, out);
  } else {
    while (st == Status::kOk && !framing_done) {
      std::string_view data;
      ChunkedReader::Step step = chunked_->next(&input, &data);
      if (step == ChunkedReader::Step::kBad) {
        st = Status::kCorrupt;
      } else if (step == ChunkedReader::Step::kLast || step == ChunkedReader::Step::kEnd) {
        framing_done = true;  // the trailers are not read
      } else if (step == ChunkedReader::Step::kData) {
        st = run(0, data, out);
      } else {
        break;
      }
    }
  }
  if (st == Status::kOk && count_ != 0 && stages_[0]->ended) {
    // The outer stream ended: the inner ones must have ended with it.
    st = Status::kEnd;
    for (std::size_t i = 1; i < count_; ++i)
      if (!stages_[i]->ended) st = Status::kTruncated;
  } else if (st == Status::kOk && framing_done) {
    st = count_ == 0 ? Status::kEnd : Status::kTruncated;
  }
  status_ = st;
  if (status_ != Status::kOk) release();
  return status_;
}

BodyDecoder::Status BodyDecoder::finish() noexcept {
  if (status_ == Status::kOk) {
    bool open = chunked_ != nullptr;  // the framing's last chunk would have ended it
    for (std::size_t i = 0; i < count_; ++i) open |= !stages_[i]->ended;
    status_ = open ? Status::kTruncated : Status::kEnd;
  }
  release();
  return status_;
}

const char* BodyDecoder::name(Status status) noexcept {
  switch (status) {
    case Status::kOk: return "ok";
    case Status::kEnd: return "end";
    case Status::kFull: return "full";
    case Status::kTruncated: return "truncated";
    case Status::kCorrupt: return "corrupt";
    case Status::kUnsupported: return "unsupported";
    case Status::kNoMemory: return "no memory";
  }
  return "?";
}

BodyDecoder::Status BodyDecoder::decode(std::string_view content_encoding, std::string_view body,
                                        std::string* out, const Limits& limits) noexcept {
  out->clear();
  Codings codings;
  codings.add(content_encoding);
  BodyDecoder decoder;
  Status st = decoder.start(codings, false, limits);
  if (st != Status::kOk) return st;
  decoder.feed(body, out);
  return decoder.finish();
}

}  // namespace vigil::agent
