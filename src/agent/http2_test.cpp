#include "agent/http2.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace vigil::agent {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

Fields decode(HpackDecoder* d, const std::string& block, bool* ok = nullptr) {
  std::vector<HpackDecoder::Field> fields;
  bool over = false;
  bool good = d->decode(block, &fields, &over);
  if (ok)
    *ok = good;
  else
    EXPECT_TRUE(good);
  Fields out;
  for (auto& f : fields) out.emplace_back(f.name, f.value);
  return out;
}

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                  const std::string& payload) {
  std::string f{static_cast<char>(payload.size() >> 16),
                static_cast<char>(payload.size() >> 8),
                static_cast<char>(payload.size()),
                static_cast<char>(type),
                static_cast<char>(flags),
                static_cast<char>(stream >> 24),
                static_cast<char>(stream >> 16),
                static_cast<char>(stream >> 8),
                static_cast<char>(stream)};
  return f + payload;
}
constexpr std::uint8_t kData = 0, kHeaders = 1, kRst = 3, kSettings = 4, kGoAway = 7, kCont = 9;
constexpr std::uint8_t kEndStream = 1, kEndHeaders = 4, kPadded = 8, kPriority = 0x20;

const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// A literal field without indexing, new name, no Huffman (lengths below 127).
std::string lit(const std::string& name, const std::string& value) {
  return std::string(1, '\0') + static_cast<char>(name.size()) + name +
         static_cast<char>(value.size()) + value;
}
// A request's header block: the pseudo-fields as literals, then the fields.
std::string request_block(const std::string& method, const std::string& path,
                          const Fields& fields = {}) {
  std::string b = lit(":method", method) + lit(":scheme", "http") + lit(":path", path) +
                  lit(":authority", "shop.example");
  for (auto& [n, v] : fields) b += lit(n, v);
  return b;
}

// Feeds `stream` in pieces of `piece` bytes; returns (alive, output).
std::pair<bool, H2RequestReader::Output> read(const std::string& stream, std::size_t piece) {
  H2RequestReader r;
  H2RequestReader::Output out;
  bool alive = true;
  for (std::size_t at = 0; at < stream.size() && alive; at += piece)
    alive = r.feed(std::string_view(stream).substr(at, piece), &out);
  return {alive, out};
}

// The same output whether the stream comes whole or a byte at a time.
H2RequestReader::Output read_all_ways(const std::string& stream) {
  auto [alive, whole] = read(stream, stream.size());
  EXPECT_TRUE(alive);
  for (std::size_t piece : {1u, 2u, 7u, 9u, 10u}) {
    auto [alive_p, in_pieces] = read(stream, piece);
    EXPECT_TRUE(alive_p) << "piece " << piece;
    EXPECT_EQ(in_pieces.http, whole.http) << "piece " << piece;
    EXPECT_EQ(in_pieces.streams, whole.streams) << "piece " << piece;
  }
  return whole;
}

TEST(Hpack, Rfc7541RequestsWithoutHuffman) {  // RFC 7541 Appendix C.3
  HpackDecoder d;
  EXPECT_EQ(decode(&d, unhex("828684410f7777772e6578616d706c652e636f6d")),
            (Fields{{":method", "GET"},
                    {":scheme", "http"},
                    {":path", "/"},
                    {":authority", "www.example.com"}}));
  EXPECT_EQ(d.table_size(), 57u);
  EXPECT_EQ(decode(&d, unhex("828684be58086e6f2d6361636865")).back(),
            (std::pair<std::string, std::string>{"cache-control", "no-cache"}));
  EXPECT_EQ(d.table_size(), 110u);
  Fields third = decode(&d, unhex("828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"));
  EXPECT_EQ(third, (Fields{{":method", "GET"},
                           {":scheme", "https"},
                           {":path", "/index.html"},
                           {":authority", "www.example.com"},
                           {"custom-key", "custom-value"}}));
  EXPECT_EQ(d.table_size(), 164u);
}

TEST(Hpack, Rfc7541RequestsWithHuffman) {  // Appendix C.4
  HpackDecoder d;
  EXPECT_EQ(decode(&d, unhex("828684418cf1e3c2e5f23a6ba0ab90f4ff"))[3].second, "www.example.com");
  EXPECT_EQ(decode(&d, unhex("828684be5886a8eb10649cbf"))[4].second, "no-cache");
  EXPECT_EQ(decode(&d, unhex("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"))[4],
            (std::pair<std::string, std::string>{"custom-key", "custom-value"}));
  EXPECT_EQ(d.table_size(), 164u);
}

TEST(Hpack, Rfc7541ResponsesWithEviction) {  // Appendix C.6, a 256-byte table (size update)
  HpackDecoder d;
  Fields first = decode(&d, unhex("3fe101488264025885aec3771a4b6196d07abe941054d444a8200595040b8166"
                                  "e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3"));
  EXPECT_EQ(first[0].second, "302");
  EXPECT_EQ(first[3].second, "https://www.example.com");
  EXPECT_EQ(d.table_size(), 222u);
  Fields second = decode(&d, unhex("4883640effc1c0bf"));
  EXPECT_EQ(second[0].second, "307");
  EXPECT_EQ(second[2].second, "Mon, 21 Oct 2013 20:13:21 GMT");
  EXPECT_EQ(d.table_size(), 222u);
  Fields third = decode(
      &d, unhex("88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6"
                "c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"));
  EXPECT_EQ(third[5].second, "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1");
  EXPECT_EQ(d.table_size(), 215u);
}

TEST(Hpack, InvalidBlocksAreRefused) {
  for (const char* hex : {"80",            // index 0
                          "be",            // dynamic index past the table
                          "3fe1ff0f",      // a size update past the bound
                          "0003666f",      // a name longer than the block
                          "ffffffffff0f",  // an integer past 2^28
                          "00810000"}) {   // a Huffman name padded with zeros
    HpackDecoder d;
    bool ok = true;
    decode(&d, unhex(hex), &ok);
    EXPECT_FALSE(ok) << hex;
  }
  std::string s;
  EXPECT_FALSE(hpack_huffman_decode(unhex("ffffffff"), &s));  // EOS (30 ones) inside a string
  EXPECT_FALSE(hpack_huffman_decode(unhex("00"), &s));        // padding of zeros
  EXPECT_TRUE(hpack_huffman_decode(unhex("f1e3c2e5f23a6ba0ab90f4ff"), &s.assign("")));
  EXPECT_EQ(s, "www.example.com");
}

namespace table {
#include "agent/hpack_tables.inc"
}  // namespace table

// Every byte, Huffman-encoded with RFC 7541's code (padded with ones), decodes to itself: the
// decoder's four-bits-at-a-time walk against the code table it was built from.
TEST(Hpack, HuffmanRoundTripsEveryByte) {
  auto encode = [](const std::string& text) {
    std::string out;
    std::uint64_t bits = 0;
    int count = 0;
    for (unsigned char c : text) {
      bits = (bits << table::kHuffman[c].bits) | table::kHuffman[c].code;
      count += table::kHuffman[c].bits;
      while (count >= 8) {
        out.push_back(static_cast<char>(bits >> (count - 8)));
        count -= 8;
      }
    }
    if (count > 0)
      out.push_back(static_cast<char>((bits << (8 - count)) | ((1u << (8 - count)) - 1)));
    return out;
  };
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  for (const std::string& text : {all, std::string(all.rbegin(), all.rend()), std::string("a"),
                                  std::string(), std::string("\xff\xfe\0")}) {
    std::string out;
    ASSERT_TRUE(hpack_huffman_decode(encode(text), &out)) << text.size();
    EXPECT_EQ(out, text);
  }
  // Eight bits of padding (a whole byte of ones) is too long.
  std::string out;
  EXPECT_FALSE(hpack_huffman_decode(encode("a") + "\xff", &out));
}

TEST(Hpack, ABlockThatExpandsIsBounded) {
  HpackDecoder d;
  // One 4,000-byte entry, then a block of 1,000 references to it (4 MB of fields).
  std::string add = "\x40\x01x\x7f\xa1\x1e" + std::string(4000, 'v');
  bool ok = false;
  decode(&d, add, &ok);
  ASSERT_TRUE(ok);
  std::vector<HpackDecoder::Field> fields;
  bool over = false;
  ASSERT_TRUE(d.decode(std::string(1000, '\xbe'), &fields, &over));
  EXPECT_TRUE(over);
  std::size_t bytes = 0;
  for (auto& f : fields) bytes += f.name.size() + f.value.size();
  EXPECT_LE(bytes, HpackDecoder::kMaxFieldBytes);
}

TEST(H2Reader, ARequestBecomesHttp1) {
  std::string s = kPreface + frame(kSettings, 0, 0, "") +
                  frame(kHeaders, kEndStream | kEndHeaders, 1,
                        unhex("828684418cf1e3c2e5f23a6ba0ab90f4ff") + lit("user-agent", "curl/8"));
  auto out = read_all_ways(s);
  EXPECT_EQ(out.http, "GET / HTTP/1.1\r\nhost: www.example.com\r\nuser-agent: curl/8\r\n\r\n");
  EXPECT_EQ(out.streams, std::vector<std::uint32_t>{1});
  EXPECT_EQ(out.unread, 0u);
}

TEST(H2Reader, BodiesPaddingContinuationAndInterleavedStreams) {
  std::string block = request_block(
      "POST", "/login",
      {{"content-type", "application/x-www-form-urlencoded"}, {"content-length", "99"}});
  std::string s = kPreface + frame(kSettings, 0, 0, std::string(6, '\0')) +
                  // stream 1: HEADERS (padded, with priority) + CONTINUATION, then two DATA
                  frame(kHeaders, kPadded | kPriority, 1,
                        std::string(1, '\3') + std::string(5, '\0') + block.substr(0, 20) + "pad") +
                  frame(kCont, kEndHeaders, 1, block.substr(20)) +
                  frame(kData, kPadded, 1, std::string(1, '\2') + "user=a" + "zz") +
                  // stream 3, whole, between stream 1's DATA frames
                  frame(kHeaders, kEndStream | kEndHeaders, 3,
                        request_block("GET", "/q?a b", {{"cookie", "a=1"}, {"cookie", "b=2"}})) +
                  frame(kData, kEndStream, 1, "dmin&pw=x");
  auto out = read_all_ways(s);
  EXPECT_EQ(out.streams, (std::vector<std::uint32_t>{3, 1}));
  EXPECT_EQ(out.http,
            "GET /q?a%20b HTTP/1.1\r\nhost: shop.example\r\ncookie: a=1; b=2\r\n\r\n"
            "POST /login HTTP/1.1\r\nhost: shop.example\r\n"
            "content-type: application/x-www-form-urlencoded\r\ncontent-length: 15\r\n\r\n"
            "user=admin&pw=x");
}

TEST(H2Reader, MalformedRequestsAreCountedNotProduced) {
  const Fields bad[] = {
      {{"x-a", "1\r\nx-b: 2"}}, {{"X-Upper", "1"}}, {{"connection", "close"}}, {{"te", "gzip"}}};
  for (const auto& fields : bad) {
    std::string s =
        kPreface + frame(kHeaders, kEndStream | kEndHeaders, 1, request_block("GET", "/", fields)) +
        frame(kHeaders, kEndStream | kEndHeaders, 3, request_block("GET", "/ok"));
    auto out = read_all_ways(s);
    EXPECT_EQ(out.unread, 1u) << fields[0].first;
    EXPECT_EQ(out.streams, std::vector<std::uint32_t>{3});
  }
  // No :path; a pseudo-field after a field.
  auto out = read_all_ways(kPreface + frame(kHeaders, kEndStream | kEndHeaders, 1,
                                            lit(":method", "GET") + lit(":authority", "a")));
  EXPECT_EQ(out.unread, 1u);
  out =
      read_all_ways(kPreface + frame(kHeaders, kEndStream | kEndHeaders, 1,
                                     request_block("GET", "/", {{"a", "1"}}) + lit(":path", "/x")));
  EXPECT_EQ(out.unread, 1u);
  EXPECT_TRUE(out.http.empty());
  // A second :path: a server that took the first would answer another request than the one
  // checked.
  out = read_all_ways(kPreface + frame(kHeaders, kEndStream | kEndHeaders, 1,
                                       lit(":path", "/ok") + request_block("GET", "/x")));
  EXPECT_EQ(out.unread, 1u);
  EXPECT_TRUE(out.http.empty());
}

TEST(H2Reader, ResetStreamsAndBrokenConnections) {
  auto out = read_all_ways(
      kPreface + frame(kHeaders, kEndHeaders, 5, request_block("POST", "/up")) +
      frame(kRst, 0, 5, std::string("\0\0\0\x08", 4)) + frame(kData, kEndStream, 5, "late"));
  EXPECT_TRUE(out.http.empty());
  EXPECT_EQ(out.reset, std::vector<std::uint32_t>{5});

  const std::string broken[] = {
      "GET / HTTP/1.1\r\n\r\n",                                            // not the preface
      kPreface + frame(kCont, kEndHeaders, 1, request_block("GET", "/")),  // no block open
      kPreface + frame(kHeaders, 0, 1, request_block("GET", "/")) +        // a frame inside a block
          frame(kData, 0, 1, "x"),
      kPreface + frame(kHeaders, kEndHeaders, 1, "\x80"),  // HPACK index 0
      kPreface + frame(5, kEndHeaders, 1, "\0\0\0\2"),     // PUSH_PROMISE
      kPreface + frame(kHeaders, kEndHeaders | kPadded, 1,
                       "\x09"
                       "abc"),  // padding past the end
  };
  for (const auto& s : broken) EXPECT_FALSE(read(s, s.size()).first) << s.size();
}

TEST(H2Reader, BoundsAreKept) {
  // Past kMaxStreams open streams the oldest is handed out as it stands.
  std::string s = kPreface;
  for (std::uint32_t i = 0; i <= H2RequestReader::kMaxStreams; ++i)
    s += frame(kHeaders, kEndHeaders, 2 * i + 1, request_block("POST", "/s" + std::to_string(i)));
  auto out = read_all_ways(s);
  EXPECT_EQ(out.streams, std::vector<std::uint32_t>{1});
  EXPECT_EQ(out.unread, 1u);
  // A body past max_body: the first part is read, and counted as read in part.
  H2RequestReader r(8);
  H2RequestReader::Output o;
  ASSERT_TRUE(r.feed(kPreface + frame(kHeaders, kEndHeaders, 1, request_block("POST", "/")) +
                         frame(kData, kEndStream, 1, "0123456789abcdef"),
                     &o));
  EXPECT_NE(o.http.find("content-length: 8\r\n\r\n01234567"), std::string::npos);
  EXPECT_EQ(o.unread, 1u);
  EXPECT_EQ(r.last_stream(), 1u);
  // A header block larger than the bound ends the reading.
  std::string big = request_block("GET", "/", {{"x", std::string(100, 'a')}});
  std::string many;
  for (std::size_t payload = 0; payload <= H2RequestReader::kMaxHeaderBlock; payload += big.size())
    many += frame(kCont, 0, 1, big);
  EXPECT_FALSE(read(kPreface + frame(kHeaders, 0, 1, big) + many, 1 << 20).first);
}

// The pieces of a response stream fed `piece` bytes at a time, as text: data pieces of one stream
// that follow one another are joined (how a frame is cut over writes does not matter).
std::string response_pieces(const std::string& s, std::size_t piece, H2ResponseReader* r) {
  std::string out;
  std::vector<H2ResponseReader::Piece> pieces;
  char last = 0;
  std::uint32_t last_stream = 0;
  for (std::size_t at = 0; at < s.size(); at += piece) {
    r->feed(std::string_view(s).substr(at, piece), &pieces);
    for (const auto& p : pieces) {
      if (p.kind == H2ResponseReader::Piece::kData && last == 'D' && last_stream == p.stream) {
        out.append(p.bytes);
        continue;
      }
      last = "HDE"[p.kind];
      last_stream = p.stream;
      out += std::string("|") + last + std::to_string(p.stream) + ":" + std::string(p.bytes);
    }
  }
  return out;
}

TEST(H2Responses, HeadsDataAndEnds) {
  std::string head = "\x88" + lit("content-type", "text/html").substr(0) + lit("location", "/x");
  std::string s = frame(kSettings, 0, 0, std::string(6, '\0')) +
                  frame(kHeaders, kEndHeaders, 3, lit(":status", "100")) +  // 1xx: skipped
                  frame(kHeaders, 0, 1, head.substr(0, 5)) +
                  frame(kCont, kEndHeaders, 1, head.substr(5)) +
                  frame(kHeaders, kEndHeaders | kEndStream, 3, "\x8d") +  // 404, no body
                  frame(kData, kPadded, 1, std::string(1, '\4') + "<p>hel" + "pppp") +
                  frame(kData, 0, 1, "lo</p>") +
                  frame(kHeaders, kEndHeaders | kEndStream, 1, lit("x-trailer", "t")) +  // trailers
                  frame(kRst, 0, 5, std::string(4, '\0'));
  const std::string expected =
      "|H1:HTTP/1.1 200 \r\ncontent-type: text/html\r\nlocation: /x\r\n\r\n"
      "|H3:HTTP/1.1 404 \r\n\r\n|E3:|D1:<p>hello</p>|E1:|E5:";
  for (std::size_t piece : {1u, 4u, 9u, 10u, 1000u}) {
    H2ResponseReader r;
    EXPECT_FALSE(r.wrote_any());
    EXPECT_EQ(response_pieces(s, piece, &r), expected) << piece;
    EXPECT_TRUE(r.at_frame_boundary());
    EXPECT_TRUE(r.wrote_any());
    EXPECT_FALSE(r.heads_lost());
  }
  // A PUSH_PROMISE's block adds to the table (a literal with incremental indexing), and a
  // later head refers to the entry (index 62): the table follows the program's.
  std::string push = std::string("\0\0\0\2", 4) +
                     "\x82\x84\x40\x06"
                     "x-push"
                     "\x01"
                     "y";
  std::string pushed = frame(5, kEndHeaders, 1, push) + frame(kHeaders, kEndHeaders, 1, "\x88\xbe");
  for (std::size_t piece : {1u, 1000u}) {
    H2ResponseReader r;
    EXPECT_EQ(response_pieces(pushed, piece, &r), "|H1:HTTP/1.1 200 \r\nx-push: y\r\n\r\n")
        << piece;
  }
  H2ResponseReader r;
  std::vector<H2ResponseReader::Piece> pieces;
  r.feed(frame(kData, 0, 1, "hello").substr(0, 11), &pieces);
  EXPECT_FALSE(r.at_frame_boundary());
  // A head that cannot be decoded: heads are no longer read, ends still are.
  H2ResponseReader lost;
  EXPECT_EQ(response_pieces(frame(kHeaders, kEndHeaders, 1, "\x80") +
                                frame(kHeaders, kEndHeaders | kEndStream, 3, "\x88"),
                            1000, &lost),
            "|E3:");
  EXPECT_TRUE(lost.heads_lost());
}

TEST(H2Block, TheAnswerIsA403ThatLeavesTheClientTableAlone) {
  std::string f =
      h2_block_frames(true, 7, false, 9, "text/html; charset=utf-8", "ev-1", "<p>blocked</p>");
  // SETTINGS, HEADERS, DATA (END_STREAM), GOAWAY.
  std::vector<std::tuple<int, int, std::uint32_t, std::string>> frames;
  for (std::size_t at = 0; at + 9 <= f.size();) {
    std::size_t len = (std::size_t(std::uint8_t(f[at])) << 16) |
                      (std::size_t(std::uint8_t(f[at + 1])) << 8) | std::uint8_t(f[at + 2]);
    std::uint32_t stream = (std::uint32_t(std::uint8_t(f[at + 5])) << 24) |
                           (std::uint32_t(std::uint8_t(f[at + 6])) << 16) |
                           (std::uint32_t(std::uint8_t(f[at + 7])) << 8) | std::uint8_t(f[at + 8]);
    frames.emplace_back(std::uint8_t(f[at + 3]), std::uint8_t(f[at + 4]), stream,
                        f.substr(at + 9, len));
    at += 9 + len;
  }
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(std::get<0>(frames[0]), kSettings);
  EXPECT_EQ(std::get<0>(frames[1]), kHeaders);
  EXPECT_EQ(std::get<2>(frames[1]), 7u);
  HpackDecoder client;
  Fields fields = decode(&client, std::get<3>(frames[1]));
  EXPECT_EQ(fields, (Fields{{":status", "403"},
                            {"content-type", "text/html; charset=utf-8"},
                            {"content-length", "14"},
                            {"x-vigil-event", "ev-1"}}));
  EXPECT_EQ(client.table_size(), 0u);
  EXPECT_EQ(std::get<0>(frames[2]), kData);
  EXPECT_EQ(std::get<1>(frames[2]), kEndStream);
  EXPECT_EQ(std::get<3>(frames[2]), "<p>blocked</p>");
  EXPECT_EQ(std::get<0>(frames[3]), kGoAway);
  EXPECT_EQ(std::get<3>(frames[3]), std::string("\0\0\0\x09\0\0\0\0", 8));
  // A stream whose headers went out already is reset instead; no SETTINGS once the program
  // wrote its own.
  std::string reset = h2_block_frames(false, 7, true, 9, "text/html", "ev-1", "x");
  EXPECT_EQ(reset.substr(0, 13), frame(kRst, 0, 7, std::string("\0\0\0\x08", 4)));
}

TEST(H2, PrefaceRecognition) {
  EXPECT_TRUE(looks_like_h2(kPreface));
  EXPECT_TRUE(looks_like_h2("PRI * HT"));
  EXPECT_FALSE(looks_like_h2("PRI"));
  EXPECT_FALSE(looks_like_h2("POST / HTTP/1.1\r\n"));
}

}  // namespace
}  // namespace vigil::agent
