// The agent's event lines: valid JSON in valid UTF-8 whatever bytes a request carried.
#include "agent/events.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/common/ascii.hpp"

namespace vigil::agent {
namespace {

// vigild refuses a batch holding a byte sequence that is not well-formed UTF-8 (a surrogate, an
// overlong form, a value past U+10FFFF), and the shipper drops a refused batch: one such input
// lost every event sent with it. Each byte that starts no well-formed sequence becomes U+FFFD.
TEST(EventJson, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  Event e;
  e.outcome = "blocked";
  e.rule = "path-traversal";
  e.method = "GET";
  e.path = "/files/\xED\xB3\x80.txt";  // a lone surrogate, as CPython's undecodable file names
  e.has_input = true;
  e.input_value = "a\xC0\xAF" "b\xF4\x90\x80\x80" "c\xC3\xA9\xE2\x82";  // overlong, too high, cut
  const std::string line = to_json(e);
  EXPECT_TRUE(common::is_utf8(line)) << line;
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_NE(line.find("\"/files/" + r + r + r + ".txt\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"a" + r + r + "b" + r + r + r + r + "c\xC3\xA9" + r + r + "\""),
            std::string::npos)
      << line;
}

}  // namespace
}  // namespace vigil::agent
