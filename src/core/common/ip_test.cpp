#include "core/common/ip.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

namespace vigil::common {
namespace {

// The hand-written IPv4 formatting must print what inet_ntop prints, for every byte value.
TEST(IpAddress, Ipv4TextMatchesInetNtop) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    IpAddress a;
    a.v4 = true;
    a.bytes[10] = a.bytes[11] = 0xFF;
    for (int k = 12; k < 16; ++k) a.bytes[k] = static_cast<std::uint8_t>(i < 256 ? i : rng());
    char buf[INET_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET, a.bytes.data() + 12, buf, sizeof buf), nullptr);
    EXPECT_EQ(a.to_string(), buf);
  }
}

TEST(IpAddress, ParsesAndPrintsBothFamilies) {
  IpAddress a;
  ASSERT_TRUE(IpAddress::parse("192.0.2.10", &a));
  EXPECT_EQ(a.to_string(), "192.0.2.10");
  ASSERT_TRUE(IpAddress::parse("[2001:db8::1]:443", &a));
  EXPECT_EQ(a.to_string(), "2001:db8::1");
  EXPECT_FALSE(IpAddress::parse("300.1.1.1", &a));
}

}  // namespace
}  // namespace vigil::common
