#include "core/context/http1_parser.hpp"

#include <gtest/gtest.h>

namespace vigil::context {
namespace {

using Status = Http1Parser::Status;

TEST(Http1Parser, SimpleGetInOnePiece) {
  Http1Parser p;
  ASSERT_EQ(p.feed("GET /a?b=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n"), Status::kRequest);
  EXPECT_EQ(p.request().method, "GET");
  EXPECT_EQ(p.request().target, "/a?b=1");
  ASSERT_EQ(p.request().headers.size(), 2u);
  EXPECT_EQ(p.request().headers[1].value, "t");
  EXPECT_EQ(p.next(), Status::kNeedMore);
}

TEST(Http1Parser, ByteByByteWithContentLength) {
  std::string raw = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nuser=a&p=b!";
  Http1Parser p;
  for (std::size_t i = 0; i + 1 < raw.size(); ++i)
    ASSERT_EQ(p.feed(raw.substr(i, 1)), Status::kNeedMore) << i;
  ASSERT_EQ(p.feed(raw.substr(raw.size() - 1)), Status::kRequest);
  EXPECT_EQ(p.request().body, "user=a&p=b!");
}

TEST(Http1Parser, PipelinedRequests) {
  Http1Parser p;
  ASSERT_EQ(p.feed("GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nokGET /3 HTTP/1.1\r\n\r\n"),
            Status::kRequest);
  EXPECT_EQ(p.request().target, "/1");
  ASSERT_EQ(p.next(), Status::kRequest);
  EXPECT_EQ(p.request().target, "/2");
  EXPECT_EQ(p.request().body, "ok");
  ASSERT_EQ(p.next(), Status::kRequest);
  EXPECT_EQ(p.request().target, "/3");
  EXPECT_EQ(p.next(), Status::kNeedMore);
}

TEST(Http1Parser, ChunkedBodyWithExtensionsAndTrailers) {
  Http1Parser p;
  ASSERT_EQ(p.feed("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), Status::kNeedMore);
  EXPECT_TRUE(p.in_body());
  ASSERT_EQ(p.feed("5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n"), Status::kNeedMore);
  ASSERT_EQ(p.feed("\r\n"), Status::kRequest);
  EXPECT_EQ(p.request().body, "hello world");
}

TEST(Http1Parser, ExpectContinueWaitsForTheBody) {
  Http1Parser p;
  ASSERT_EQ(p.feed("PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"), Status::kNeedMore);
  EXPECT_TRUE(p.headers_complete());
  ASSERT_EQ(p.feed("abc"), Status::kRequest);
  EXPECT_TRUE(p.request().expect_continue);
  EXPECT_EQ(p.request().body, "abc");
}

TEST(Http1Parser, BodyBeyondLimitIsCountedNotKept) {
  Http1Parser p(Http1Parser::Limits{1024, 4});
  ASSERT_EQ(p.feed("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789"), Status::kRequest);
  EXPECT_EQ(p.request().body, "0123");
  EXPECT_EQ(p.request().body_length, 10u);
  EXPECT_TRUE(p.request().body_truncated);
}

TEST(Http1Parser, NotHttpAndOversizedHeadersAreErrors) {
  Http1Parser a;
  EXPECT_EQ(a.feed(std::string_view("\x16\x03\x01\x02\x00 binary TLS hello\r\n\r\n", 29)), Status::kError);
  EXPECT_EQ(a.feed("GET / HTTP/1.1\r\n\r\n"), Status::kError);  // stays in error
  // A header block beyond the limit after a request line: its lines within the limit are read,
  // the rest skipped to the blank line (see OversizedHeadersAreCutNotRefused); with no line at
  // all within the limit, it is no HTTP.
  Http1Parser b(Http1Parser::Limits{64, 1024});
  EXPECT_EQ(b.feed(std::string(100, 'a')), Status::kError);
  Http1Parser c;
  // Conflicting lengths are read (the request's analysis reports them), by the first one.
  EXPECT_EQ(c.feed("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcde"),
            Status::kRequest);
  EXPECT_EQ(c.request().body, "abcde");
  Http1Parser d;  // a body that is not chunked, then bytes that are no request
  EXPECT_EQ(d.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            Status::kRequest);
  EXPECT_EQ(d.next(), Status::kError);
  Http1Parser e;  // a bad size after a good chunk: the request ends there, then no request
  EXPECT_EQ(e.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\nzz\r\n"),
            Status::kRequest);
  EXPECT_EQ(e.next(), Status::kError);
}

// Another text protocol is told as soon as its first line is whole, not at a blank line that
// may never come: a Redis inline command, an SMTP greeting, whole or a byte at a time. A request
// whose header block is still coming is not.
TEST(Http1Parser, AFirstLineThatIsNoRequestLineIsAnError) {
  for (std::string other : {"PING\r\n", "EHLO client.example\r\n", "SET key value\n"}) {
    Http1Parser whole;
    EXPECT_EQ(whole.feed(other), Status::kError) << other;
    Http1Parser pieces;
    Status last = Status::kNeedMore;
    for (char c : other) last = pieces.feed(std::string(1, c));
    EXPECT_EQ(last, Status::kError) << other;
  }
  const std::string raw = "GET /a HTTP/1.1\r\nHost: x\r\nX-Long: " + std::string(300, 'v') +
                          "\r\n\r\nGET /b HTTP/1.0\r\n\r\n";
  for (std::size_t piece : {1u, 3u, 17u}) {
    Http1Parser p;
    int requests = 0;
    for (std::size_t at = 0; at < raw.size(); at += piece) {
      for (Status st = p.feed(raw.substr(at, piece)); st != Status::kNeedMore; st = p.next()) {
        ASSERT_EQ(st, Status::kRequest) << piece << " at " << at;
        ++requests;
      }
    }
    EXPECT_EQ(requests, 2) << piece;
  }
}

// A body announced as chunked whose first line is no chunk size is what a server that does not
// decode chunked bodies reads as its next request: the request ends without a body (flagged
// kAnomalyAmbiguousLength) and those bytes are parsed as the next request.
TEST(Http1Parser, NotChunkedBodiesAreReadAsTheNextRequest) {
  Http1Parser p;
  EXPECT_EQ(p.feed("GET /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "GET /b?q=x HTTP/1.1\r\nHost: h\r\n\r\n"),
            Status::kRequest);
  EXPECT_EQ(p.request().target, "/a");
  EXPECT_EQ(p.request().body, "");
  EXPECT_EQ(p.request().anomalies, static_cast<std::uint32_t>(kAnomalyAmbiguousLength));
  EXPECT_EQ(p.next(), Status::kRequest);
  EXPECT_EQ(p.request().target, "/b?q=x");
  EXPECT_EQ(p.request().anomalies, 0u);
  // A chunked body that is one: read as its body, whatever it holds.
  Http1Parser q;
  EXPECT_EQ(q.feed("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nGET /\r\n0\r\n\r\n"),
            Status::kRequest);
  EXPECT_EQ(q.request().body, "GET /");
  EXPECT_EQ(q.request().anomalies, 0u);
}

// Request lines a server may take, read as RFC 9112 section 3 allows: any run of white space
// separates the words; the method may be any bytes (RequestContext flags one that is not a
// token), also in a connection's first request, whose first byte must still be printable.
TEST(Http1Parser, LenientRequestLines) {
  struct Case {
    std::string_view line, method, target, version;
  } cases[] = {
      {"GET /a HTTP/1.1 ", "GET", "/a", "HTTP/1.1"},
      {"GET\t/a\tHTTP/1.1", "GET", "/a", "HTTP/1.1"},
      {"GET  /a   HTTP/1.1", "GET", "/a", "HTTP/1.1"},
      {"GET /a http/1.1", "GET", "/a", "http/1.1"},
      {"G\xc3\x89T /a HTTP/1.1", "G\xc3\x89T", "/a", "HTTP/1.1"},
      {"GET /a b HTTP/1.1", "GET", "/a b", "HTTP/1.1"},
  };
  for (const Case& c : cases) {
    Http1Parser p;
    std::string first = "GET / HTTP/1.1\r\n\r\n" + std::string(c.line) + "\r\nHost: h\r\n\r\n";
    EXPECT_EQ(p.feed(first), Status::kRequest) << c.line;
    EXPECT_EQ(p.next(), Status::kRequest) << c.line;
    EXPECT_EQ(p.request().method, c.method) << c.line;
    EXPECT_EQ(p.request().target, c.target) << c.line;
    EXPECT_EQ(p.request().version, c.version) << c.line;
  }
  Http1Parser long_method;
  std::string line = std::string(40, 'G') + " /a HTTP/1.1\r\n\r\n";
  EXPECT_EQ(long_method.feed("GET / HTTP/1.1\r\n\r\n" + line), Status::kRequest);
  EXPECT_EQ(long_method.next(), Status::kRequest);
  EXPECT_EQ(long_method.request().method.size(), 40u);
  Http1Parser first_long;  // also as a connection's first request
  EXPECT_EQ(first_long.feed(line), Status::kRequest);
  Http1Parser binary;  // a control byte first: another protocol
  EXPECT_EQ(binary.feed(std::string_view("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8)), Status::kError);
  for (std::string_view bad : {"GET /a\r\n\r\n", "GET HTTP/1.1\r\n\r\n", " \r\n\r\n"}) {
    Http1Parser p;
    EXPECT_EQ(p.feed("GET / HTTP/1.1\r\n\r\n" + std::string(bad)), Status::kRequest);
    EXPECT_EQ(p.next(), Status::kError) << bad;
  }
}

TEST(Http1Parser, OversizedHeadersAreCutNotRefused) {
  const std::string big = "X-Big: " + std::string(200, 'a') + "\r\n";
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{1000}}) {
    Http1Parser p(Http1Parser::Limits{128, 1024});
    const std::string bytes = "POST /a?q=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n" + big +
                              big + "\r\nokGET /b HTTP/1.1\r\n\r\n";
    std::vector<std::string> targets;
    std::vector<std::uint32_t> anomalies;
    std::string body;
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
      auto st = p.feed(std::string_view(bytes).substr(at, piece));
      while (st == Status::kRequest) {
        targets.emplace_back(p.request().target);
        anomalies.push_back(p.request().anomalies);
        if (targets.size() == 1) body = p.request().body;
        st = p.next();
      }
      ASSERT_NE(st, Status::kError) << piece;
    }
    ASSERT_EQ(targets.size(), 2u) << piece;
    EXPECT_EQ(targets[0], "/a?q=1");
    EXPECT_EQ(body, "ok");  // the length was within the limit
    EXPECT_EQ(anomalies[0], kAnomalyLimitHit | kAnomalyAmbiguousLength);
    EXPECT_EQ(targets[1], "/b");
    EXPECT_EQ(anomalies[1], 0u);
  }
}

// A request whose body has not all come can be read from a copy of its head, whose views point
// into the copy (the parser's memory goes on filling).
TEST(Http1Parser, CopyHeadOfARequestInItsBody) {
  Http1Parser p;
  EXPECT_EQ(p.feed("POST /a?q=1 HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n"
                   "Content-Length: 4\r\n\r\nab"),
            Status::kNeedMore);
  ASSERT_TRUE(p.in_body());
  ParsedRequest copy;
  copy.copy_head(p.request());
  EXPECT_EQ(copy.method, "POST");
  EXPECT_EQ(copy.target, "/a?q=1");
  EXPECT_EQ(copy.version, "HTTP/1.1");
  ASSERT_EQ(copy.headers.size(), 3u);
  EXPECT_EQ(copy.headers[1].name, "X-A");
  EXPECT_EQ(copy.headers[1].value, "one two");  // folded in place, copied as it is
  EXPECT_EQ(copy.body, "");
  EXPECT_NE(copy.target.data(), p.request().target.data());
  EXPECT_EQ(p.feed("cd"), Status::kRequest);
  ParsedRequest whole;
  whole.swap(p.request());
  EXPECT_EQ(whole.body, "abcd");
  EXPECT_EQ(copy.target, "/a?q=1");  // the copy does not depend on the parser
  ParsedRequest empty;
  empty.copy_head(ParsedRequest());
  EXPECT_TRUE(empty.method.empty() && empty.headers.empty());
}

// Each line of chunked framing waits for its line feed up to its own bound. Beyond it, or with
// a line that is not what the framing needs, the framing is lost: the request ends there,
// flagged kAnomalyAmbiguousLength, and what follows is read as the next request (a server may
// read it so, or read the size leniently and go on; giving the connection up left the server's
// next request unchecked).
TEST(Http1Parser, ChunkedLinesWaitWithinTheirBounds) {
  constexpr std::string_view kHead = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  const auto ambiguous = static_cast<std::uint32_t>(kAnomalyAmbiguousLength);
  Http1Parser size_ok;
  EXPECT_EQ(size_ok.feed(std::string(kHead) + "0000"), Status::kNeedMore);
  EXPECT_EQ(size_ok.feed("5\r\nhello\r\n0\r\n\r\n"), Status::kRequest);
  EXPECT_EQ(size_ok.request().body, "hello");
  EXPECT_EQ(size_ok.request().anomalies, 0u);
  Http1Parser size_long;
  EXPECT_EQ(size_long.feed(std::string(kHead) + std::string(1025, '0')), Status::kRequest);
  EXPECT_EQ(size_long.request().anomalies, ambiguous);
  // The zeros are then read as the next request's head (the connection spoke HTTP/1 already):
  // it waits for the rest, within the head's bound.
  EXPECT_EQ(size_long.next(), Status::kNeedMore);
  Http1Parser later_long;
  EXPECT_EQ(later_long.feed(std::string(kHead) + "1\r\na\r\n" + std::string(1025, '0')),
            Status::kRequest);
  EXPECT_EQ(later_long.request().body, "a");
  EXPECT_EQ(later_long.request().anomalies, ambiguous);

  Http1Parser crlf_wait;
  EXPECT_EQ(crlf_wait.feed(std::string(kHead) + "2\r\nab\r"), Status::kNeedMore);
  EXPECT_EQ(crlf_wait.feed("\n0\r\n\r\n"), Status::kRequest);
  EXPECT_EQ(crlf_wait.request().body, "ab");
  Http1Parser crlf_missing;
  EXPECT_EQ(crlf_missing.feed(std::string(kHead) + "2\r\nabcde"), Status::kRequest);
  EXPECT_EQ(crlf_missing.request().anomalies, ambiguous);

  Http1Parser trailers_long(Http1Parser::Limits{128, 1024});
  EXPECT_EQ(trailers_long.feed(std::string(kHead) + "0\r\nX-T: " + std::string(60, 't')),
            Status::kNeedMore);
  EXPECT_EQ(trailers_long.feed(std::string(80, 't')), Status::kRequest);
  EXPECT_EQ(trailers_long.request().anomalies, ambiguous);

  // WEBrick reads a size "1x" as 1: here the framing is lost after the good first chunk, and
  // the request ends flagged.
  Http1Parser lenient_size;
  EXPECT_EQ(lenient_size.feed(std::string(kHead) + "1\r\na\r\n1x\r\nb\r\n0\r\n\r\n"),
            Status::kRequest);
  EXPECT_EQ(lenient_size.request().body, "a");
  EXPECT_EQ(lenient_size.request().anomalies, ambiguous);
}

TEST(Http1Parser, BareLineFeedsAndFoldedHeaders) {
  Http1Parser p;
  ASSERT_EQ(p.feed("GET / HTTP/1.0\nX-A: one\n  two\n\n"), Status::kRequest);
  ASSERT_EQ(p.request().headers.size(), 1u);
  EXPECT_EQ(p.request().headers[0].value, "one two");
}

TEST(Http1Parser, FoldedHeadersJoinInPlaceAndLaterHeadersStayIntact) {
  Http1Parser p;
  ASSERT_EQ(p.feed("GET / HTTP/1.1\r\nX-A: one  \r\n two\r\n\t three \r\nX-E:\r\n  e\r\nX-B: b\r\n\r\n"),
            Status::kRequest);
  const auto& h = p.request().headers;
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].name, "X-A");
  EXPECT_EQ(h[0].value, "one two three");
  EXPECT_EQ(h[1].value, " e");
  EXPECT_EQ(h[2].name, "X-B");
  EXPECT_EQ(h[2].value, "b");
}

// The request's views point into its own copy of the header block: the bytes fed may be gone,
// and the request may be moved or swapped (the agent swaps it with a spare one to reuse memory).
TEST(Http1Parser, RequestOwnsItsBytesAcrossFeedsMovesAndSwaps) {
  Http1Parser p;
  std::string bytes = "GET /first?q=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: u\r\n\r\n";
  ASSERT_EQ(p.feed(bytes), Status::kRequest);
  bytes.assign(bytes.size(), 'x');  // the read's buffer is reused by the program
  ParsedRequest kept;
  kept.swap(p.request());
  EXPECT_EQ(kept.method, "GET");
  EXPECT_EQ(kept.target, "/first?q=1");
  ASSERT_EQ(kept.headers.size(), 2u);
  EXPECT_EQ(kept.headers[1].value, "u");
  // The next request is parsed into the memory handed back; the swapped-out one is untouched.
  ASSERT_EQ(p.feed("POST /second HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"), Status::kRequest);
  EXPECT_EQ(p.request().method, "POST");
  EXPECT_EQ(p.request().body, "hi");
  ASSERT_EQ(p.request().headers.size(), 1u);
  EXPECT_EQ(kept.target, "/first?q=1");
  ParsedRequest moved = std::move(kept);
  EXPECT_EQ(moved.headers[0].value, "a");
  EXPECT_EQ(moved.version, "HTTP/1.1");
  std::swap(moved, p.request());  // the three moves of std::swap keep the views valid too
  EXPECT_EQ(p.request().target, "/first?q=1");
  EXPECT_EQ(moved.body, "hi");
}

TEST(Http1Parser, HeadSplitAcrossReadsAndRemainderKept) {
  Http1Parser p;
  ASSERT_EQ(p.feed("GET /a HTTP/1.1\r\nHost: x\r"), Status::kNeedMore);
  ASSERT_EQ(p.feed("\n\r"), Status::kNeedMore);
  ASSERT_EQ(p.feed("\nGET /b HTTP/1.1\r\n"), Status::kRequest);
  EXPECT_EQ(p.request().target, "/a");
  EXPECT_EQ(p.next(), Status::kNeedMore);  // the start of /b stays buffered
  ASSERT_EQ(p.feed("\r\n"), Status::kRequest);
  EXPECT_EQ(p.request().target, "/b");
  // A bare "\n\n" ends a block too; "\n\r\n" (LF, then CRLF) does not.
  Http1Parser q;
  ASSERT_EQ(q.feed("GET /c HTTP/1.1\nX: 1\n\r\nY: 2\n\n"), Status::kRequest);
  EXPECT_EQ(q.request().headers.size(), 2u);
}

// A compressed body is flagged (the agent decompresses it as a program's body parser would);
// "identity", an empty coding and another field of the same length are not; the next request
// on the connection starts unflagged.
TEST(Http1Parser, ContentEncodingIsFlagged) {
  Http1Parser p;
  ASSERT_EQ(p.feed("POST /a HTTP/1.1\r\ncontent-ENCODING: gzip\r\nContent-Length: 2\r\n\r\nxx"),
            Status::kRequest);
  EXPECT_TRUE(p.request().content_encoded);
  for (const char* field : {"Content-Encoding: identity", "Content-Encoding:", "Content-Language: de"}) {
    ASSERT_EQ(p.next(), Status::kNeedMore);
    ASSERT_EQ(p.feed(std::string("POST /b HTTP/1.1\r\n") + field + "\r\nContent-Length: 1\r\n\r\ny"),
              Status::kRequest)
        << field;
    EXPECT_FALSE(p.request().content_encoded) << field;
  }
}

TEST(Http1Parser, HeaderNamesMatchInAnyCase) {
  Http1Parser p;
  ASSERT_EQ(p.feed("POST / HTTP/1.1\r\ntransfer-ENCODING: gzip, Chunked\r\n"
                   "eXpEcT: 100-CONTINUE\r\n\r\n"),
            Status::kNeedMore);
  EXPECT_TRUE(p.in_body());
  ASSERT_EQ(p.feed("2\r\nok\r\n0\r\n\r\n"), Status::kRequest);
  EXPECT_TRUE(p.request().expect_continue);
  EXPECT_EQ(p.request().body, "ok");
  Http1Parser q;
  ASSERT_EQ(q.feed("POST / HTTP/1.1\r\nCONTENT-length: 3\r\n\r\nabc"), Status::kRequest);
  EXPECT_EQ(q.request().body, "abc");
}

}  // namespace
}  // namespace vigil::context
