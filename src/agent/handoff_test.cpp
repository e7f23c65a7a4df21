#include "agent/handoff.hpp"

#include <gtest/gtest.h>

#include "core/context/http1_parser.hpp"

namespace vigil::agent {
namespace {

TEST(Handoff, RequestsGoAndComeBackWhole) {
  std::string http;
  std::vector<Header> headers = {{"Host", "shop"},
                                 {"Transfer-Encoding", "chunked"},
                                 {"Cookie", "a=1; b=2"},
                                 {"content-length", "99"},
                                 {"X-Empty", ""}};
  std::string body("q=lamp&x=\0y", 11);
  ASSERT_TRUE(http1_text("POST", "/search?id=1%27", headers, body, &http));
  std::string out;
  begin_handoff(&out);
  ASSERT_TRUE(append_handoff(&out, HandedRequest{7, true, "127.0.0.1", http, 0xabcdef}));
  ASSERT_TRUE(
      append_handoff(&out, HandedRequest{1ull << 40, false, "::1", "GET / HTTP/1.1\r\n\r\n"}));
  std::vector<HandedRequest> back;
  ASSERT_TRUE(decode_handoff(out, &back));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].serial, 7u);
  EXPECT_TRUE(back[0].own);
  EXPECT_EQ(back[0].id_salt, 0xabcdefu);
  EXPECT_EQ(back[0].peer, "127.0.0.1");
  EXPECT_EQ(back[1].serial, 1ull << 40);
  EXPECT_FALSE(back[1].own);
  EXPECT_EQ(back[1].peer, "::1");

  // The agent's parser reads the text back as the same request; the framing is its own.
  context::Http1Parser parser;
  ASSERT_EQ(parser.feed(back[0].http), context::Http1Parser::Status::kRequest);
  const context::ParsedRequest& r = parser.request();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/search?id=1%27");
  EXPECT_EQ(r.body, body);
  std::vector<std::pair<std::string, std::string>> got;
  for (const Header& h : r.headers) got.emplace_back(h.name, h.value);
  std::vector<std::pair<std::string, std::string>> want = {
      {"Host", "shop"}, {"Cookie", "a=1; b=2"}, {"X-Empty", ""}, {"Content-Length", "11"}};
  EXPECT_EQ(got, want);
}

TEST(Handoff, WhatCannotBeWrittenFaithfullyIsNotWritten) {
  std::string http;
  EXPECT_FALSE(http1_text("GET", "/a b", {}, "", &http));
  EXPECT_FALSE(http1_text("GET", "/a\r\nX: y", {}, "", &http));
  EXPECT_FALSE(http1_text("", "/", {}, "", &http));
  EXPECT_FALSE(http1_text("GET", "/", {{"X", "a\r\nInjected: 1"}}, "", &http));
  EXPECT_FALSE(http1_text("GET", "/", {{"X:Y", "a"}}, "", &http));
  EXPECT_TRUE(http1_text("GET", "/", {{"X", "a:b"}}, "", &http));
}

TEST(Handoff, BoundsAreKept) {
  std::string out;
  begin_handoff(&out);
  for (std::size_t i = 0; i < kMaxHandedRequests; ++i)
    ASSERT_TRUE(append_handoff(&out, HandedRequest{i, false, "p", "GET / HTTP/1.1\r\n\r\n"}));
  std::string before = out;
  EXPECT_FALSE(append_handoff(&out, HandedRequest{99, false, "p", "x"}));
  EXPECT_EQ(out, before);
  begin_handoff(&out);
  EXPECT_FALSE(
      append_handoff(&out, HandedRequest{1, true, "p", std::string(kMaxHandoffBytes, 'x')}));
  std::string empty;
  EXPECT_FALSE(append_handoff(&empty, HandedRequest{}));
}

TEST(Handoff, MalformedBytesGiveNoRequestAtAll) {
  std::string out;
  begin_handoff(&out);
  ASSERT_TRUE(append_handoff(&out, HandedRequest{3, true, "127.0.0.1", "GET / HTTP/1.1\r\n\r\n"}));
  std::vector<HandedRequest> back;
  ASSERT_TRUE(decode_handoff(out, &back));
  // Every truncation, and one byte more, is refused whole.
  for (std::size_t n = 0; n < out.size(); ++n) {
    EXPECT_FALSE(decode_handoff(std::string_view(out).substr(0, n), &back)) << n;
    EXPECT_TRUE(back.empty());
  }
  EXPECT_FALSE(decode_handoff(out + "x", &back));
  std::string bad = out;
  bad[0] = 'X';
  EXPECT_FALSE(decode_handoff(bad, &back));
  bad = out;
  bad[8] = static_cast<char>(kMaxHandedRequests + 1);  // the count
  EXPECT_FALSE(decode_handoff(bad, &back));
  bad = out;
  bad[9 + 16] = '\2';  // neither own nor not
  EXPECT_FALSE(decode_handoff(bad, &back));
  bad = out;
  bad[9 + 17 + 7] = '\x7f';  // the peer's length, far past the end
  EXPECT_FALSE(decode_handoff(bad, &back));
}

TEST(Handoff, LaunchersAreKnownByTheirFileName) {
  EXPECT_TRUE(is_launcher("/usr/lib/jvm/java-17-openjdk-amd64/lib/jspawnhelper"));
  EXPECT_TRUE(is_launcher("jspawnhelper"));
  EXPECT_FALSE(is_launcher("/usr/bin/jspawnhelper2"));
  EXPECT_FALSE(is_launcher("/bin/sh"));
  EXPECT_FALSE(is_launcher(nullptr));
}

}  // namespace
}  // namespace vigil::agent
