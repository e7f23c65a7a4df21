#include "core/common/ip.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/common/ascii.hpp"

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

// parse() reads dotted quads itself (parse_canonical_v4) before trying inet_pton: every text
// must mean what inet_pton's grammar gives it, ports, brackets, zones and stray bytes included.
bool reference_parse(std::string_view text, IpAddress* out) {
  text = trim(text);
  if (!text.empty() && text.front() == '"' && text.size() >= 2 && text.back() == '"')
    text = text.substr(1, text.size() - 2);
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    text = text.substr(1, close - 1);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    text = text.substr(0, text.find(':'));
  }
  text = text.substr(0, text.find('%'));
  if (text.empty() || text.size() >= 64) return false;
  std::string buf(text);
  IpAddress a;
  if (inet_pton(AF_INET, buf.c_str(), a.bytes.data() + 12) == 1) {
    a.bytes[10] = a.bytes[11] = 0xFF;
    a.v4 = true;
  } else if (inet_pton(AF_INET6, buf.c_str(), a.bytes.data()) != 1) {
    return false;
  } else {
    a.v4 = a.bytes[10] == 0xFF && a.bytes[11] == 0xFF &&
           std::all_of(a.bytes.begin(), a.bytes.begin() + 10,
                       [](std::uint8_t b) { return b == 0; });
  }
  *out = a;
  return true;
}

TEST(IpAddress, ParseMeansWhatInetPtonMeans) {
  std::vector<std::string> texts = {
      "127.0.0.1", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3.04", "00.1.1.1",
      "1.2.3", "1.2.3.4.", "1..2.3", "1.2.3.4:80", "[1.2.3.4]", " 1.2.3.4 ", "\"1.2.3.4\"",
      "1.2.3.4%eth0", std::string("1.2.3.4\0x", 9), "1234.1.1.1", "1.2.3.4 5", "::1",
      "[::1]:8080", "::ffff:1.2.3.4", "fe80::1%eth0", "2001:DB8::1", "", "garbage", "1.2.3.+4",
      "1.2.3.-4", "99.199.249.9", "1.22.333.4"};
  std::mt19937 rng(11);
  const std::string alphabet = "0123456789.:[]%\" af";
  for (int i = 0; i < 20000; ++i) {
    std::string t;
    for (int n = rng() % 18; n > 0; --n) t += alphabet[rng() % alphabet.size()];
    texts.push_back(t);
  }
  for (const std::string& t : texts) {
    IpAddress got, want;
    const bool ok = IpAddress::parse(t, &got);
    ASSERT_EQ(ok, reference_parse(t, &want)) << t;
    if (ok) {
      EXPECT_EQ(got, want) << t;
    }
  }
}

TEST(IpAddress, AnIpv4MappedAddressIsTheIpv4Address) {
  // How a dual-stack server (the JVM's sockets) sees an IPv4 client: lists written in IPv4
  // must hold it, and reports name it as IPv4.
  for (const char* mapped : {"::ffff:10.1.2.3", "[::ffff:10.1.2.3]:443", "0:0:0:0:0:ffff:a01:203",
                             "::FFFF:10.1.2.3"}) {
    IpAddress a, b;
    ASSERT_TRUE(IpAddress::parse(mapped, &a)) << mapped;
    ASSERT_TRUE(IpAddress::parse("10.1.2.3", &b));
    EXPECT_EQ(a, b) << mapped;
    EXPECT_EQ(a.to_string(), "10.1.2.3") << mapped;
    Cidr c;
    ASSERT_TRUE(Cidr::parse("10.0.0.0/8", &c));
    EXPECT_TRUE(c.contains(a)) << mapped;
  }
  // Not mapped: IPv4-compatible (deprecated) and NAT64 forms stay IPv6.
  for (const char* other : {"::10.1.2.3", "64:ff9b::10.1.2.3", "::fffe:10.1.2.3"}) {
    IpAddress a;
    ASSERT_TRUE(IpAddress::parse(other, &a)) << other;
    EXPECT_FALSE(a.v4) << other;
  }
}

TEST(IpAddress, CanonicalV4IsExactlyWhatToCharsWrites) {
  std::mt19937 rng(5);
  for (int i = 0; i < 5000; ++i) {
    IpAddress a;
    a.v4 = true;
    a.bytes[10] = a.bytes[11] = 0xFF;
    for (int k = 12; k < 16; ++k) a.bytes[k] = static_cast<std::uint8_t>(rng());
    char buf[IpAddress::kMaxText];
    const std::string text(buf, a.to_chars(buf));
    IpAddress b;
    ASSERT_TRUE(IpAddress::parse_canonical_v4(text, &b)) << text;
    EXPECT_EQ(a, b);
    EXPECT_EQ(a.to_string(), text);
  }
  IpAddress x;
  for (const char* t : {"1.2.3.4:80", " 1.2.3.4", "01.2.3.4", "[1.2.3.4]", "::1", "1.2.3.4\n"})
    EXPECT_FALSE(IpAddress::parse_canonical_v4(t, &x)) << t;
}

}  // namespace
}  // namespace vigil::common
