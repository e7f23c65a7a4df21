#include "agent/body_decoder.hpp"

#include <brotli/encode.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <random>
#include <string>
#include <vector>

namespace vigil::agent {
namespace {

using Status = BodyDecoder::Status;

// A page of HTML, compressible but not trivially so.
std::string page(std::size_t size = 50000) {
  std::string s = "<!doctype html><html><body><h1>Hello <b onclick=alert(1)>x</b></h1>";
  std::mt19937 rng(7);
  while (s.size() < size)
    s += "<p class=\"item\">lamp " + std::to_string(rng() % 1000) + "</p>\n";
  s += "</body></html>";
  return s;
}

// `window_bits` as zlib's deflateInit2 takes it: 15 zlib, -15 raw, 31 gzip.
std::string deflate_with(std::string_view in, int window_bits) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
std::string gzip(std::string_view in) { return deflate_with(in, 31); }

// A gzip stream of `size` zero bytes, built a megabyte at a time.
std::string gzip_zeros(std::size_t size) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string zeros(1 << 20, '\0'), out, buf(1 << 16, '\0');
  for (std::size_t left = size; left > 0;) {
    std::size_t n = std::min(left, zeros.size());
    left -= n;
    z.next_in = reinterpret_cast<Bytef*>(zeros.data());
    z.avail_in = static_cast<uInt>(n);
    int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf.data());
      z.avail_out = static_cast<uInt>(buf.size());
      deflate(&z, flush);
      out.append(buf.data(), buf.size() - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return out;
}

std::string brotli(std::string_view in, int quality = 5, int lgwin = 22) {
  std::size_t size = BrotliEncoderMaxCompressedSize(in.size());
  std::string out(size, '\0');
  EXPECT_TRUE(BrotliEncoderCompress(quality, lgwin, BROTLI_MODE_TEXT, in.size(),
                                    reinterpret_cast<const uint8_t*>(in.data()), &size,
                                    reinterpret_cast<uint8_t*>(out.data())));
  out.resize(size);
  return out;
}

std::string zstd(std::string_view in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  std::size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// Chunked transfer coding of `body` in chunks of varying size, one with an extension.
std::string chunk(std::string_view body) {
  std::string out;
  std::size_t sizes[] = {1, 7, 100, 4096, 333};
  std::size_t k = 0;
  while (!body.empty()) {
    std::size_t n = std::min(body.size(), sizes[k++ % 5]);
    char hex[32];
    std::snprintf(hex, sizeof hex, "%zx", n);
    out += hex;
    if (k == 2) out += ";name=value";
    out += "\r\n";
    out += body.substr(0, n);
    out += "\r\n";
    body.remove_prefix(n);
  }
  return out + "0\r\n\r\n";
}

struct Decoded {
  Status status;
  std::string out;
};

// Decodes `body` fed in pieces of `piece` bytes (0: all at once), then finish().
Decoded decode(std::string_view encoding, std::string_view body, std::size_t piece = 0,
               bool chunked = false, BodyDecoder::Limits limits = {}) {
  Codings codings;
  codings.add(encoding);
  BodyDecoder d;
  Decoded r{d.start(codings, chunked, limits), {}};
  if (r.status != Status::kOk) return r;
  if (piece == 0) piece = body.size() + 1;
  for (std::size_t at = 0; at < body.size(); at += piece) d.feed(body.substr(at, piece), &r.out);
  r.status = d.finish();
  return r;
}

TEST(Codings, ReadsListsInAnyCase) {
  Codings c;
  c.add("gzip");
  c.add(" X-GZip ,BR\t,, identity");
  c.add("deflate");
  ASSERT_EQ(c.count, 4);
  EXPECT_FALSE(c.unknown);
  EXPECT_EQ(c.list[0], Coding::kGzip);
  EXPECT_EQ(c.list[1], Coding::kGzip);
  EXPECT_EQ(c.list[2], Coding::kBrotli);
  EXPECT_EQ(c.list[3], Coding::kDeflate);
  Codings five;
  five.add("gzip, gzip, gzip, gzip, gzip");
  EXPECT_TRUE(five.unknown);
  Codings none;
  none.add("identity");
  none.add("");
  EXPECT_FALSE(none.any());
  Codings odd;
  odd.add("compress");
  EXPECT_TRUE(odd.unknown);
  EXPECT_TRUE(odd.any());
}

TEST(Codings, MoreThanFourIsUnknown) {
  Codings c;
  c.add("gzip, br, gzip, br, zstd");
  EXPECT_TRUE(c.unknown);
}

TEST(BodyDecoder, EachCodingWholeAndBytewise) {
  const std::string html = page();
  struct Case {
    const char* encoding;
    std::string body;
  } cases[] = {
      {"gzip", gzip(html)},
      {"x-gzip", gzip(html)},
      {"deflate", deflate_with(html, 15)},   // zlib-wrapped (RFC 1950)
      {"deflate", deflate_with(html, -15)},  // raw (RFC 1951)
      {"br", brotli(html)},
      {"zstd", zstd(html)},
  };
  for (const Case& c : cases) {
    for (std::size_t piece : {0, 1, 1000}) {
      Decoded r = decode(c.encoding, c.body, piece);
      EXPECT_EQ(r.status, Status::kEnd) << c.encoding << " piece " << piece;
      EXPECT_EQ(r.out, html) << c.encoding << " piece " << piece;
    }
  }
}

TEST(BodyDecoder, StackedCodingsAreUndoneRightToLeft) {
  const std::string html = page(8000);
  // "gzip, br": gzip applied first, then Brotli.
  Decoded r = decode("gzip, br", brotli(gzip(html)), 3);
  EXPECT_EQ(r.status, Status::kEnd);
  EXPECT_EQ(r.out, html);
  r = decode("deflate, zstd, gzip", gzip(zstd(deflate_with(html, -15))), 17);
  EXPECT_EQ(r.status, Status::kEnd);
  EXPECT_EQ(r.out, html);
  // In the wrong order it is not a valid stream.
  r = decode("br, gzip", brotli(gzip(html)));
  EXPECT_EQ(r.status, Status::kCorrupt);
}

TEST(BodyDecoder, ChunkedFramingIsRemovedFirst) {
  const std::string html = page(20000);
  for (std::size_t piece : {0, 1, 5, 4096}) {
    Decoded r = decode("br", chunk(brotli(html)), piece, true);
    EXPECT_EQ(r.status, Status::kEnd) << piece;
    EXPECT_EQ(r.out, html) << piece;
  }
  Decoded r = decode("gzip", chunk(gzip(html)), 0, true);
  EXPECT_EQ(r.out, html);
  // The last chunk missing: the stream inside ended, which is what counts.
  std::string framed = chunk(gzip(html));
  r = decode("gzip", framed.substr(0, framed.size() - 5), 0, true);
  EXPECT_EQ(r.status, Status::kEnd);
  EXPECT_EQ(r.out, html);
  // Cut inside the data: a prefix, truncated.
  r = decode("gzip", framed.substr(0, framed.size() * 3 / 4), 0, true);
  EXPECT_EQ(r.status, Status::kTruncated);
  EXPECT_GT(r.out.size(), 1000u);
  EXPECT_EQ(r.out, html.substr(0, r.out.size()));
  // A bad size line: what came before is kept.
  std::string bad = framed.substr(0, 200) + "zz\r\n" + framed.substr(200);
  r = decode("gzip", bad, 0, true);
  EXPECT_EQ(r.status, Status::kCorrupt);
}

TEST(BodyDecoder, UnknownCodingIsNotDecodedAndSaysSo) {
  std::string out = "kept";
  EXPECT_EQ(BodyDecoder::decode("compress", "\x1f\x9d\x90", &out, {}), Status::kUnsupported);
  EXPECT_EQ(out, "");
  Decoded r = decode("gzip, sdch", gzip("x"));
  EXPECT_EQ(r.status, Status::kUnsupported);
  EXPECT_EQ(r.out, "");
}

TEST(BodyDecoder, TruncatedStreamKeepsWhatItCould) {
  const std::string html = page(200000);
  for (const char* enc : {"gzip", "br", "zstd", "deflate"}) {
    std::string body = std::string(enc) == "gzip"   ? gzip(html)
                       : std::string(enc) == "br"   ? brotli(html)
                       : std::string(enc) == "zstd" ? zstd(html)
                                                    : deflate_with(html, -15);
    // zstd gives out whole blocks (up to 128 KiB) only: three quarters hold the first.
    Decoded r = decode(enc, body.substr(0, body.size() * 3 / 4), 999);
    EXPECT_EQ(r.status, Status::kTruncated) << enc;
    EXPECT_GT(r.out.size(), 1000u) << enc;
    EXPECT_EQ(r.out, html.substr(0, r.out.size())) << enc;
  }
}

TEST(BodyDecoder, CorruptStreamStops) {
  const std::string html = page();
  std::string body = gzip(html);
  body[0] = 'x';  // not a gzip header
  Decoded r = decode("gzip", body);
  EXPECT_EQ(r.status, Status::kCorrupt);
  EXPECT_EQ(r.out, "");
  r = decode("br", "<html>plain text sent as br</html>");
  EXPECT_EQ(r.status, Status::kCorrupt);
  r = decode("zstd", "<html>plain text sent as zstd</html>");
  EXPECT_EQ(r.status, Status::kCorrupt);
  // Damage in the middle: no crash, no overrun; it stops or ends, never hangs.
  std::mt19937 rng(11);
  const std::pair<const char*, std::string> streams[] = {
      {"gzip", gzip(html)}, {"br", brotli(html)}, {"zstd", zstd(html)}};
  for (const auto& [enc, good] : streams) {
    for (int round = 0; round < 50; ++round) {
      std::string bad = good;
      for (int k = 0; k < 4; ++k) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
      Decoded d = decode(enc, bad, 1 + rng() % 700);
      EXPECT_NE(d.status, Status::kOk);
      EXPECT_LE(d.out.size(), BodyDecoder::Limits().max_output);
    }
  }
}

TEST(BodyDecoder, BombStopsAtTheOutputBound) {
  BodyDecoder::Limits limits;  // 256 KiB out
  std::string bomb = gzip_zeros(std::size_t{64} << 20);  // 64 MiB of zeros in about 64 KiB
  ASSERT_LT(bomb.size(), 100000u);
  Decoded r = decode("gzip", bomb, 4096, false, limits);
  EXPECT_EQ(r.status, Status::kFull);
  EXPECT_EQ(r.out.size(), limits.max_output);
  // Stacked: a gzip of that gzip, and Brotli of zeros.
  r = decode("gzip, gzip", gzip(bomb));
  EXPECT_EQ(r.status, Status::kFull);
  EXPECT_EQ(r.out.size(), limits.max_output);
  r = decode("br", brotli(std::string(std::size_t{16} << 20, '\0'), 1));
  EXPECT_EQ(r.status, Status::kFull);
  EXPECT_EQ(r.out.size(), limits.max_output);
  // A smaller bound holds too.
  limits.max_output = 1000;
  r = decode("gzip", bomb, 0, false, limits);
  EXPECT_EQ(r.status, Status::kFull);
  EXPECT_EQ(r.out, std::string(1000, '\0'));
}

TEST(BodyDecoder, StreamThatProducesNothingStopsAtTheWorkBound) {
  // Raw deflate: empty stored blocks (not final) without end, five bytes each.
  std::string empty_blocks;
  for (int i = 0; i < 400000; ++i) empty_blocks.append("\x00\x00\x00\xff\xff", 5);
  BodyDecoder::Limits limits;
  Decoded r = decode("deflate", empty_blocks, 65536, false, limits);
  EXPECT_EQ(r.status, Status::kFull);
  EXPECT_EQ(r.out, "");
  // An inner stream that ended does not let the outer one run on: a gzip bomb behind a tiny
  // Brotli stream, all inside gzip.
  std::string inner = brotli("<p>x</p>") + std::string(4 << 20, '\0');
  r = decode("br, gzip", gzip(inner));
  EXPECT_NE(r.status, Status::kOk);
  EXPECT_EQ(r.out, "<p>x</p>");
}

TEST(BodyDecoder, BrotliMemoryIsBounded) {
  // A 16 MiB window (lgwin 24) over large metablocks: the decoder allocates for a metablock.
  std::string text;
  std::mt19937 rng(3);
  while (text.size() < (3u << 20)) text += std::to_string(rng());
  std::string body = brotli(text, 1, 24);
  BodyDecoder::Limits small;
  small.max_window = 1 << 20;
  Decoded r = decode("br", body, 0, false, small);
  EXPECT_EQ(r.status, Status::kCorrupt);
  // With the default bound every window decodes: Brotli's ring buffer grows with the output,
  // which stops at max_output.
  for (int lgwin : {22, 23, 24}) {
    r = decode("br", brotli(text, 1, lgwin));
    EXPECT_EQ(r.status, Status::kFull) << lgwin;
    EXPECT_EQ(r.out, text.substr(0, r.out.size())) << lgwin;
  }
}

TEST(BodyDecoder, StartForgetsThePreviousBody) {
  Codings c;
  c.add("gzip");
  BodyDecoder d;
  std::string out;
  ASSERT_EQ(d.start(c, false, {}), Status::kOk);
  std::string body = gzip(page(3000));
  d.feed(body.substr(0, 100), &out);  // left unfinished
  out.clear();
  ASSERT_EQ(d.start(c, false, {}), Status::kOk);
  EXPECT_EQ(d.feed(body, &out), Status::kEnd);
  EXPECT_EQ(out, page(3000));
  EXPECT_EQ(d.produced(), out.size());
}

}  // namespace
}  // namespace vigil::agent
