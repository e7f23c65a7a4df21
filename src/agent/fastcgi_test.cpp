#include "agent/fastcgi.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace vigil::agent {
namespace {

std::string record(std::uint8_t type, std::uint16_t id, const std::string& content, std::uint8_t padding = 0) {
  std::string r{1, static_cast<char>(type), static_cast<char>(id >> 8), static_cast<char>(id),
                static_cast<char>(content.size() >> 8), static_cast<char>(content.size()),
                static_cast<char>(padding), 0};
  return r + content + std::string(padding, '\0');
}
std::string pair(const std::string& name, const std::string& value) {
  auto length = [](std::size_t n) {
    if (n < 128) return std::string(1, static_cast<char>(n));
    return std::string{static_cast<char>(0x80 | (n >> 24)), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                       static_cast<char>(n)};
  };
  return length(name.size()) + length(value.size()) + name + value;
}
std::string begin(std::uint16_t id) { return record(1, id, std::string("\0\1\0\0\0\0\0\0", 8)); }
// What nginx sends for a request (fastcgi_params), then its body.
std::string nginx_request(std::uint16_t id, const std::string& method, const std::string& uri,
                          const std::string& body) {
  std::string params = pair("QUERY_STRING", uri.find('?') == std::string::npos ? "" : uri.substr(uri.find('?') + 1)) +
                       pair("REQUEST_METHOD", method) + pair("CONTENT_TYPE", body.empty() ? "" : "application/x-www-form-urlencoded") +
                       pair("CONTENT_LENGTH", body.empty() ? "" : std::to_string(body.size())) +
                       pair("SCRIPT_NAME", "/index.php") + pair("REQUEST_URI", uri) +
                       pair("REMOTE_ADDR", "192.0.2.7") + pair("HTTP_HOST", "shop.example") +
                       pair("HTTP_USER_AGENT", "Mozilla/5.0 (X11)") + pair("HTTP_X_FORWARDED_FOR", "a\r\nb") +
                       pair("HTTP_CONTENT_LENGTH", "99") + pair("SCRIPT_FILENAME", std::string(200, 's'));
  std::string out = begin(id) + record(4, id, params, 3) + record(4, id, "");
  if (!body.empty()) out += record(5, id, body);
  return out + record(5, id, "");
}

TEST(FastCgi, RecognisesABeginRequest) {
  EXPECT_TRUE(looks_like_fastcgi(begin(1)));
  EXPECT_TRUE(looks_like_fastcgi(std::string("\1\1", 2)));
  EXPECT_FALSE(looks_like_fastcgi("GET / HTTP/1.1\r\n"));
  EXPECT_FALSE(looks_like_fastcgi(std::string("\x16\x03\x01", 3)));
}

TEST(FastCgi, RequestBecomesHttp) {
  FcgiRequestReader reader;
  std::string http;
  ASSERT_TRUE(reader.feed(nginx_request(1, "POST", "/login.php?next=%2F", "user=a%27--&pass=x"), &http));
  EXPECT_EQ(http,
            "POST /login.php?next=%2F HTTP/1.1\r\n"
            "host: shop.example\r\nuser-agent: Mozilla/5.0 (X11)\r\nx-forwarded-for: a  b\r\n"
            "content-type: application/x-www-form-urlencoded\r\ncontent-length: 18\r\n\r\n"
            "user=a%27--&pass=x");
  EXPECT_EQ(reader.remote_addr(), "192.0.2.7");
  EXPECT_EQ(reader.request_id(), 1);
}

TEST(FastCgi, RequestSplitAtEveryByteAndSeveralOnAConnection) {
  const std::string stream = nginx_request(1, "GET", "/search.php?q=lamp", "") + nginx_request(2, "GET", "/", "");
  FcgiRequestReader reader;
  std::string http;
  for (char c : stream) ASSERT_TRUE(reader.feed(std::string_view(&c, 1), &http));
  FcgiRequestReader whole;
  std::string expected;
  ASSERT_TRUE(whole.feed(stream, &expected));
  EXPECT_EQ(http, expected);
  EXPECT_NE(http.find("GET /search.php?q=lamp HTTP/1.1\r\n"), std::string::npos);
  EXPECT_NE(http.find("GET / HTTP/1.1\r\n"), std::string::npos);
  EXPECT_EQ(reader.request_id(), 2);
}

TEST(FastCgi, AGetIsWholeWhenItsParametersEnd) {
  const std::string get = nginx_request(3, "GET", "/ping.php?host=x", "");
  const std::size_t stdin_at = get.size() - 8;  // the empty STDIN record ends the stream
  FcgiRequestReader reader;
  std::string http;
  ASSERT_TRUE(reader.feed(get.substr(0, stdin_at), &http));
  EXPECT_EQ(http.substr(http.size() - 21), "content-length: 0\r\n\r\n");
  const std::string before = http;
  ASSERT_TRUE(reader.feed(get.substr(stdin_at), &http));
  EXPECT_EQ(http, before);
}

TEST(FastCgi, MalformedRequestsAreRefused) {
  std::string http;
  FcgiRequestReader version;
  EXPECT_FALSE(version.feed(std::string("\2\1\0\1\0\0\0\0", 8), &http));
  FcgiRequestReader pair_overrun;  // a value length past the record
  EXPECT_FALSE(pair_overrun.feed(begin(1) + record(4, 1, std::string("\4\x7fPATH", 6)) + record(4, 1, ""), &http));
  FcgiRequestReader method;  // a method that would break the request line
  EXPECT_FALSE(method.feed(begin(1) + record(4, 1, pair("REQUEST_METHOD", "GET /x")) + record(4, 1, ""), &http));
  FcgiRequestReader big;  // more parameters than kept
  std::string params = begin(1);
  for (int i = 0; i < 2; ++i) params += record(4, 1, pair("HTTP_X", std::string(40000, 'v')));
  EXPECT_FALSE(big.feed(params, &http));
  EXPECT_TRUE(http.empty());
}

TEST(FastCgi, ResponseBecomesHttp) {
  FcgiResponseWriter writer;
  std::string http;
  const std::string cgi_head = "Status: 302 Found\r\nLocation: https://evil.example/\r\nContent-Length: 5\r\n"
                               "Content-type: text/html; charset=UTF-8\r\n\r\n";
  ASSERT_TRUE(writer.feed(record(6, 1, cgi_head.substr(0, 20)) + record(7, 1, "PHP Warning: x"), &http));
  EXPECT_TRUE(http.empty());  // the header block is not whole yet
  ASSERT_TRUE(writer.feed(record(6, 1, cgi_head.substr(20) + "<p>hi"), &http));
  ASSERT_TRUE(writer.feed(record(6, 1, "</p>", 4) + record(6, 1, "") +
                              record(3, 1, std::string(8, '\0')), &http));
  EXPECT_EQ(http,
            "HTTP/1.1 200 OK\r\nStatus: 302 Found\r\nLocation: https://evil.example/\r\n"
            "Content-type: text/html; charset=UTF-8\r\ntransfer-encoding: chunked\r\n\r\n"
            "5\r\n<p>hi\r\n4\r\n</p>\r\n0\r\n\r\n");
  // The next response on the connection starts afresh; one without any output still ends.
  http.clear();
  ASSERT_TRUE(writer.feed(record(3, 2, std::string(8, '\0')), &http));
  EXPECT_EQ(http, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n");
}

TEST(FastCgi, TheAgentsOwnResponseReadsBack) {
  const std::string cgi = "Status: 403 Forbidden\r\nContent-Type: text/html\r\n\r\n" + std::string(70000, 'x');
  const std::string records = FcgiResponseWriter::response(7, cgi);
  FcgiResponseWriter writer;
  std::string http;
  ASSERT_TRUE(writer.feed(records, &http));
  EXPECT_EQ(http.substr(0, 17), "HTTP/1.1 200 OK\r\n");
  EXPECT_EQ(http.substr(http.size() - 5), "0\r\n\r\n");
  EXPECT_NE(http.find("Status: 403 Forbidden\r\n"), std::string::npos);
  EXPECT_EQ(records.substr(records.size() - 16, 4), std::string("\1\3\0\7", 4));
}

}  // namespace
}  // namespace vigil::agent
