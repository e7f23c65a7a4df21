#include "agent/chunked.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace vigil::agent {
namespace {

using Step = ChunkedReader::Step;

struct Read {
  std::string data;
  Step last_step = Step::kMore;
  std::size_t used = 0;  // bytes consumed when the reader stopped (kEnd, kBad) or all
};

// Feeds `body` in pieces of `piece` bytes until the end, a malformed byte, or the bytes run out.
Read read(std::string_view body, std::size_t piece) {
  Read r;
  ChunkedReader reader;
  for (std::size_t at = 0; at < body.size(); at += piece) {
    std::string_view in = body.substr(at, piece);
    const std::size_t given = in.size();
    for (;;) {
      std::string_view data;
      r.last_step = reader.next(&in, &data);
      if (r.last_step == Step::kData) r.data.append(data);
      if (r.last_step == Step::kEnd || r.last_step == Step::kBad) {
        r.used = at + given - in.size();
        return r;
      }
      if (r.last_step == Step::kMore) break;
    }
  }
  r.used = body.size();
  return r;
}

TEST(ChunkedReader, DataAndEndWhateverTheCuts) {
  const std::string body = "5\r\nhello\r\n7;name=\"v\"\r\n, world\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
  for (std::size_t piece = 1; piece <= body.size(); ++piece) {
    Read r = read(body, piece);
    EXPECT_EQ(r.data, "hello, world") << piece;
    EXPECT_EQ(r.last_step, Step::kEnd) << piece;
    EXPECT_EQ(r.used, body.find("GET")) << piece;  // what follows the body is not consumed
  }
}

TEST(ChunkedReader, DataEndingLikeTheLastChunkIsData) {
  // A page line "...: 0" with CRLF at the end of a chunk: its bytes end with "0\r\n\r\n".
  const std::string first = "<p>Items: 0\r\n";
  const std::string body = "d\r\n" + first + "\r\n" + "8\r\n<b>x</b>\r\n" + "0\r\n\r\n";
  ASSERT_EQ(first.size(), 0xdu);
  Read partial = read(std::string_view(body).substr(0, 3 + first.size() + 2), 1000);
  EXPECT_EQ(partial.last_step, Step::kMore);
  EXPECT_EQ(partial.data, first);
  Read whole = read(body, 1000);
  EXPECT_EQ(whole.last_step, Step::kEnd);
  EXPECT_EQ(whole.data, first + "<b>x</b>");
}

TEST(ChunkedReader, TrailersAreReadToTheBlankLine) {
  const std::string body = "3\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n";
  Read r = read(body, 4);
  EXPECT_EQ(r.last_step, Step::kEnd);
  EXPECT_EQ(r.used, body.size());
  EXPECT_EQ(r.data, "abc");
  // The last chunk alone: kLast, then kMore until the blank line comes.
  ChunkedReader reader;
  std::string_view in = "0\r\nX-A: 1\r\n", data;
  EXPECT_EQ(reader.next(&in, &data), Step::kLast);
  EXPECT_EQ(reader.next(&in, &data), Step::kMore);
  in = "\r\n";
  EXPECT_EQ(reader.next(&in, &data), Step::kEnd);
}

TEST(ChunkedReader, BareLineFeedsAreTolerated) {
  Read r = read("3\nabc\n0\n\n", 2);
  EXPECT_EQ(r.last_step, Step::kEnd);
  EXPECT_EQ(r.data, "abc");
}

TEST(ChunkedReader, MalformedFramingStops) {
  EXPECT_EQ(read("xyz\r\n", 3).last_step, Step::kBad);               // no size
  EXPECT_EQ(read("3\r\nabcd\r\n", 3).last_step, Step::kBad);         // data longer than said
  EXPECT_EQ(read("3\rX", 3).last_step, Step::kBad);                  // CR without LF
  EXPECT_EQ(read("100000000000000000\r\n", 5).last_step, Step::kBad);  // beyond 2^56
  EXPECT_EQ(read("0\r\n\rX", 2).last_step, Step::kBad);              // a trailer line of CR
  // Stays bad.
  ChunkedReader reader;
  std::string_view in = "zz", data;
  EXPECT_EQ(reader.next(&in, &data), Step::kBad);
  in = "3\r\nabc\r\n0\r\n\r\n";
  EXPECT_EQ(reader.next(&in, &data), Step::kBad);
}

TEST(ChunkedReader, ResetStartsAnotherBody) {
  ChunkedReader reader;
  std::string_view in = "0\r\n\r\n", data;
  EXPECT_EQ(reader.next(&in, &data), Step::kLast);
  EXPECT_EQ(reader.next(&in, &data), Step::kEnd);
  EXPECT_EQ(reader.next(&in, &data), Step::kEnd);  // stays at the end
  reader.reset();
  in = "2\r\nok\r\n";
  EXPECT_EQ(reader.next(&in, &data), Step::kData);
  EXPECT_EQ(data, "ok");
}

}  // namespace
}  // namespace vigil::agent
