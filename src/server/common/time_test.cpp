#include "server/common/time.hpp"

#include <gtest/gtest.h>

namespace vigil::server {
namespace {

TEST(Time, ParsesRfc3339Forms) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:01.123456789z"), 1123);
  EXPECT_EQ(parse_rfc3339("1970-01-01 01:00:00+01:00"), 0);
  EXPECT_EQ(parse_rfc3339("2026-11-26T03:12:45.123Z"), 1795662765123);
}

TEST(Time, RefusesBadDates) {
  for (const char* bad : {"", "2026-11-26", "2026-11-26T03:12:45", "2026-13-01T00:00:00Z",
                          "2026-02-30T00:00:00Z", "2026-11-26T24:00:00Z", "2026-11-26T03:12:45.Z",
                          "2026-11-26T03:12:45Zjunk", "2026-11-26T03:12:45+0100"})
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
}

TEST(Time, FormatsRoundTrip) {
  EXPECT_EQ(format_rfc3339(1795662765123), "2026-11-26T03:12:45.123Z");
  EXPECT_EQ(parse_rfc3339(format_rfc3339(-1500)), -1500);
}

TEST(Time, ParsesDurations) {
  EXPECT_EQ(parse_duration_ms("90"), 90000);
  EXPECT_EQ(parse_duration_ms("15m"), 900000);
  EXPECT_EQ(parse_duration_ms("7d"), 604800000);
  for (const char* bad : {"", "m", "5x", "5mm", "-5s", "99999999999d"})
    EXPECT_FALSE(parse_duration_ms(bad).has_value()) << bad;
}

}  // namespace
}  // namespace vigil::server
