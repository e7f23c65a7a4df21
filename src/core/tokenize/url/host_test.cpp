// Host parsing (WHATWG host parser with the minimal IDNA) and SSRF classification.
#include "core/tokenize/url/host.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vigil::tokenize::url {
namespace {

struct Parsed {
  HostError error;
  Host host;
};

Parsed parse(std::string_view s, bool special = true) {
  Parsed p;
  p.error = parse_host(Text(s), 0, s.size(), special, &p.host);
  return p;
}

std::string serialized(std::string_view s) {
  Parsed p = parse(s);
  if (p.error != HostError::kNone) return "FAIL:" + std::string(host_error_name(p.error));
  char buf[300];
  return std::string(buf, p.host.serialize(buf, sizeof(buf)));
}

HostClass cls(std::string_view s) {
  Parsed p = parse(s);
  EXPECT_EQ(p.error, HostError::kNone) << s;
  return classify(p.host).cls;
}

TEST(UrlHost, Ipv4NumericForms) {
  EXPECT_EQ(serialized("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(serialized("2130706433"), "127.0.0.1");
  EXPECT_EQ(serialized("0x7f.1"), "127.0.0.1");
  EXPECT_EQ(serialized("0x7F000001"), "127.0.0.1");
  EXPECT_EQ(serialized("127.1"), "127.0.0.1");
  EXPECT_EQ(serialized("127.0.1"), "127.0.0.1");
  EXPECT_EQ(serialized("0177.0.0.1"), "127.0.0.1");
  EXPECT_EQ(serialized("0177.0000.0000.0001"), "127.0.0.1");
  EXPECT_EQ(serialized("169.254.43518"), "169.254.169.254");
  EXPECT_EQ(serialized("169.16689662"), "169.254.169.254");
  EXPECT_EQ(serialized("0xa9.0xfe.0xa9.0xfe"), "169.254.169.254");
  EXPECT_EQ(serialized("0"), "0.0.0.0");
  EXPECT_EQ(serialized("0x"), "0.0.0.0");
  EXPECT_EQ(serialized("1.2.3.4."), "1.2.3.4");  // one trailing dot is dropped
  EXPECT_EQ(serialized("192.168.257"), "192.168.1.1");
}

TEST(UrlHost, Ipv4Failures) {
  // "Ends in a number" makes the host an IPv4 address or nothing.
  EXPECT_EQ(serialized("1.2.3.256"), "FAIL:invalid IPv4 address");
  EXPECT_EQ(serialized("256.1.1.1"), "FAIL:invalid IPv4 address");
  EXPECT_EQ(serialized("1.2.3.4.5"), "FAIL:invalid IPv4 address");
  EXPECT_EQ(serialized("a.1"), "FAIL:invalid IPv4 address");
  EXPECT_EQ(serialized("09.1"), "FAIL:invalid IPv4 address");
  EXPECT_EQ(serialized("4294967296"), "FAIL:invalid IPv4 address");
  EXPECT_EQ(serialized("1.16777216"), "FAIL:invalid IPv4 address");
  EXPECT_EQ(serialized("4294967295"), "255.255.255.255");
  // Not ending in a number: a domain.
  EXPECT_EQ(serialized("1.a"), "1.a");
  EXPECT_EQ(serialized("1.2.3.4.."), "1.2.3.4..");  // the last part is empty: not a number
  EXPECT_EQ(serialized("0x7f.x"), "0x7f.x");
}

TEST(UrlHost, Ipv6) {
  EXPECT_EQ(serialized("[::1]"), "[::1]");
  EXPECT_EQ(serialized("[0:0:0:0:0:0:0:1]"), "[::1]");
  EXPECT_EQ(serialized("[0000::1]"), "[::1]");
  EXPECT_EQ(serialized("[::]"), "[::]");
  EXPECT_EQ(serialized("[::ffff:127.0.0.1]"), "[::ffff:7f00:1]");
  EXPECT_EQ(serialized("[0:0:0:0:0:ffff:169.254.169.254]"), "[::ffff:a9fe:a9fe]");
  EXPECT_EQ(serialized("[FD00:EC2::254]"), "[fd00:ec2::254]");
  EXPECT_EQ(serialized("[1:0:0:2:0:0:0:3]"), "[1:0:0:2::3]");
  // Zone identifiers are not part of URLs; malformed addresses fail.
  EXPECT_EQ(serialized("[::1%25eth0]"), "FAIL:invalid IPv6 address");
  EXPECT_EQ(serialized("[::1"), "FAIL:invalid IPv6 address");
  EXPECT_EQ(serialized("[1:2:3:4:5:6:7:8:9]"), "FAIL:invalid IPv6 address");
  EXPECT_EQ(serialized("[::01.2.3.4]"), "FAIL:invalid IPv6 address");
  EXPECT_EQ(serialized("[::1.2.3]"), "FAIL:invalid IPv6 address");
  EXPECT_EQ(serialized("[1::2::3]"), "FAIL:invalid IPv6 address");
}

TEST(UrlHost, PercentDecodingAndForbiddenCodePoints) {
  EXPECT_EQ(serialized("%65xample.COM"), "example.com");
  EXPECT_EQ(serialized("%31%32%37.0.0.1"), "127.0.0.1");
  EXPECT_EQ(serialized("ex%2eample"), "ex.ample");
  EXPECT_EQ(serialized("a b"), "FAIL:forbidden code point in host");
  EXPECT_EQ(serialized("a%20b"), "FAIL:forbidden code point in host");
  EXPECT_EQ(serialized("a%00b"), "FAIL:forbidden code point in host");
  EXPECT_EQ(serialized("a%2541"), "FAIL:forbidden code point in host");  // decodes to '%'
  EXPECT_EQ(serialized("a|b"), "FAIL:forbidden code point in host");
  EXPECT_EQ(serialized("a<b"), "FAIL:forbidden code point in host");
  EXPECT_EQ(serialized("a^b"), "FAIL:forbidden code point in host");
  // Punctuation that is not forbidden stays.
  EXPECT_EQ(serialized("a$b{c}'\"*"), "a$b{c}'\"*");
  // Invalid UTF-8 decodes to U+FFFD, which IDNA rejects.
  EXPECT_EQ(serialized("a%ffb"), "FAIL:invalid internationalized domain name");
}

TEST(UrlHost, IdnaLookalikes) {
  // Circled digits with the ideographic-dot family: an IPv4 address in disguise.
  EXPECT_EQ(serialized("\u2460\u2461\u2466.\u24ea.\u24ea.\u2460"), "127.0.0.1");
  EXPECT_EQ(serialized("\u2460\u2461\u2466\u3002\u24ea\uff0e\u24ea\uff61\u2460"), "127.0.0.1");
  EXPECT_EQ(serialized("%e2%91%a0"), "0.0.0.1");  // percent-encoded U+2460
  // Full-width letters and digits, mathematical bold, superscripts, Roman numerals, ligatures.
  EXPECT_EQ(serialized("\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54"), "localhost");
  EXPECT_EQ(serialized("\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11"), "127.0.0.1");
  EXPECT_EQ(serialized("\U0001d41e\U0001d431.com"), "ex.com");
  EXPECT_EQ(serialized("\u00b9\u00b2\u2077.1"), "127.0.0.1");
  EXPECT_EQ(serialized("\u216b"), "xii");
  EXPECT_EQ(serialized("\ufb00"), "ff");
  EXPECT_EQ(serialized("\u24c2etadata"), "metadata");
  // Default-ignorable code points vanish.
  EXPECT_EQ(serialized("local\u00adhost"), "localhost");
  EXPECT_EQ(serialized("local\u200bhost"), "localhost");
  // Mapped to something with a space or a slash, or disallowed: invalid.
  EXPECT_EQ(serialized("a\u00a0b"), "FAIL:invalid internationalized domain name");
  EXPECT_EQ(serialized("\ufdfa"), "FAIL:invalid internationalized domain name");
  EXPECT_EQ(serialized("a\u2488b"), "FAIL:invalid internationalized domain name");
  EXPECT_EQ(serialized("a\u200db"), "FAIL:invalid internationalized domain name");
  EXPECT_EQ(serialized("\uff0f"), "FAIL:invalid internationalized domain name");  // '／'
  EXPECT_EQ(serialized("\u00ad"), "FAIL:invalid internationalized domain name");  // empty
  // Other letters are kept as they are (no punycode), upper case folded where simple.
  EXPECT_EQ(serialized("\u00c9xample"), "\u00e9xample");
}

TEST(UrlHost, PunycodeAndBidi) {
  EXPECT_EQ(serialized("xn--ls8h.example"), "xn--ls8h.example");
  EXPECT_EQ(serialized("XN--NXA"), "xn--nxa");
  EXPECT_EQ(serialized("xn--"), "FAIL:invalid internationalized domain name");
  EXPECT_EQ(serialized("xn--a"), "FAIL:invalid internationalized domain name");  // U+0080
  EXPECT_EQ(serialized("xn--a-ecp"), "FAIL:invalid internationalized domain name");  // U+2488
  // A right-to-left label may not hold Latin letters; a left-to-right one may not carry
  // right-to-left text before its last character.
  EXPECT_EQ(serialized("\u05e9\u05dc\u05d5\u05dd"), "\u05e9\u05dc\u05d5\u05dd");
  constexpr std::string_view kIdna = "FAIL:invalid internationalized domain name";
  EXPECT_EQ(serialized("\u05e9\u05dc\u05d5\u05ddcom"), kIdna);
  EXPECT_EQ(serialized("com\u05e9\u05dc\u05d5\u05dd"), kIdna);
  EXPECT_EQ(serialized("\u05e9-"), "FAIL:invalid internationalized domain name");
  EXPECT_EQ(serialized("\u05e9.com"), "\u05e9.com");
  // A label may not start with a combining mark.
  EXPECT_EQ(serialized("\u0301a"), "FAIL:invalid internationalized domain name");
}

TEST(UrlHost, OpaqueHostsOfNonSpecialSchemes) {
  Parsed p = parse("127.0.0.1", false);
  ASSERT_EQ(p.error, HostError::kNone);
  EXPECT_EQ(p.host.kind, HostKind::kOpaque);
  EXPECT_EQ(p.host.name(), "127.0.0.1");
  // The client of gopher://, dict://... parses it as an address all the same.
  EXPECT_EQ(classify(p.host).cls, HostClass::kLoopback);
  EXPECT_EQ(parse("a b", false).error, HostError::kForbiddenCodePoint);
  EXPECT_EQ(parse("%zz", false).error, HostError::kNone);  // '%' is allowed in opaque hosts
  EXPECT_EQ(parse("", false).host.kind, HostKind::kEmpty);
}

TEST(UrlHost, ClassifiesAddresses) {
  EXPECT_EQ(cls("127.0.0.1"), HostClass::kLoopback);
  EXPECT_EQ(cls("127.127.127.127"), HostClass::kLoopback);
  EXPECT_EQ(cls("10.1"), HostClass::kPrivate);
  EXPECT_EQ(cls("172.16.0.1"), HostClass::kPrivate);
  EXPECT_EQ(cls("172.31.255.255"), HostClass::kPrivate);
  EXPECT_EQ(cls("172.32.0.1"), HostClass::kPublic);
  EXPECT_EQ(cls("192.168.1.1"), HostClass::kPrivate);
  EXPECT_EQ(cls("169.254.170.2"), HostClass::kLinkLocal);
  EXPECT_EQ(cls("169.254.169.254"), HostClass::kMetadata);
  EXPECT_EQ(cls("100.100.100.200"), HostClass::kMetadata);
  EXPECT_EQ(cls("100.64.0.1"), HostClass::kSharedAddress);
  EXPECT_EQ(cls("0.0.0.0"), HostClass::kUnspecified);
  EXPECT_EQ(cls("0.1.2.3"), HostClass::kUnspecified);
  EXPECT_EQ(cls("192.0.0.192"), HostClass::kIetfSpecial);
  EXPECT_EQ(cls("224.0.0.1"), HostClass::kMulticast);
  EXPECT_EQ(cls("255.255.255.255"), HostClass::kBroadcast);
  EXPECT_EQ(cls("240.0.0.1"), HostClass::kReserved);
  EXPECT_EQ(cls("8.8.8.8"), HostClass::kPublic);
  EXPECT_EQ(cls("216.58.214.206"), HostClass::kPublic);
  EXPECT_EQ(cls("[::1]"), HostClass::kLoopback);
  EXPECT_EQ(cls("[::]"), HostClass::kUnspecified);
  EXPECT_EQ(cls("[fd00:ec2::254]"), HostClass::kMetadata);
  EXPECT_EQ(cls("[fc00::1]"), HostClass::kPrivate);
  EXPECT_EQ(cls("[fe80::1]"), HostClass::kLinkLocal);
  EXPECT_EQ(cls("[ff02::1]"), HostClass::kMulticast);
  EXPECT_EQ(cls("[2001:db8::1]"), HostClass::kPublic);
}

TEST(UrlHost, ClassifiesEmbeddedIpv4) {
  Parsed p = parse("[::ffff:7f00:1]");
  HostInfo info = classify(p.host);
  EXPECT_EQ(info.cls, HostClass::kLoopback);
  EXPECT_EQ(info.embedding, Embedding::kV4Mapped);
  EXPECT_EQ(info.v4, 0x7F000001u);
  EXPECT_EQ(classify(parse("[::ffff:169.254.169.254]").host).cls, HostClass::kMetadata);
  EXPECT_EQ(classify(parse("[::127.0.0.1]").host).embedding, Embedding::kV4Compatible);
  EXPECT_EQ(classify(parse("[64:ff9b::10.0.0.1]").host).cls, HostClass::kPrivate);
  EXPECT_EQ(classify(parse("[64:ff9b::10.0.0.1]").host).embedding, Embedding::kNat64);
  EXPECT_EQ(classify(parse("[2002:a9fe:a9fe::1]").host).cls, HostClass::kMetadata);
  EXPECT_EQ(classify(parse("[::ffff:0:a00:1]").host).embedding, Embedding::kV4Translated);
  EXPECT_EQ(classify(parse("[::d83a:d6ce]").host).cls, HostClass::kPublic);
}

TEST(UrlHost, ClassifiesNamesOnLabelBoundaries) {
  EXPECT_EQ(cls("localhost"), HostClass::kLoopback);
  EXPECT_EQ(cls("LOCALHOST."), HostClass::kLoopback);
  EXPECT_EQ(cls("app.localhost"), HostClass::kLoopback);
  EXPECT_EQ(cls("metadata"), HostClass::kMetadata);
  EXPECT_EQ(cls("metadata.google.internal"), HostClass::kMetadata);
  EXPECT_EQ(cls("metadata.google.internal."), HostClass::kMetadata);
  EXPECT_EQ(cls("instance-data"), HostClass::kMetadata);
  EXPECT_EQ(cls("rancher-metadata"), HostClass::kMetadata);
  EXPECT_EQ(cls("db.internal"), HostClass::kInternalName);
  EXPECT_EQ(cls("notmetadata.google.internal.evil.com"), HostClass::kPublic);
  EXPECT_EQ(cls("localhost.evil.com"), HostClass::kPublic);
  EXPECT_EQ(cls("notlocalhost"), HostClass::kPublic);
  EXPECT_EQ(cls("metadata.evil.com"), HostClass::kPublic);
  // Only DNS could tell where these go: not classified.
  EXPECT_EQ(cls("127.0.0.1.nip.io"), HostClass::kPublic);
  EXPECT_EQ(cls("ip6-localhost"), HostClass::kPublic);
}

TEST(UrlHost, LongNamesKeepPrefixTailAndIdentity) {
  std::string a(300, 'a'), b(300, 'a');
  a += ".example.com";
  b += ".example.org";
  Parsed pa = parse(a), pb = parse(b), pa2 = parse(a);
  ASSERT_EQ(pa.error, HostError::kNone);
  EXPECT_TRUE(pa.host.name_truncated());
  EXPECT_EQ(pa.host.name_size(), a.size());
  EXPECT_TRUE(pa.host.name_ends_with(".example.com"));
  EXPECT_FALSE(pb.host.name_ends_with(".example.com"));
  EXPECT_TRUE(pa.host == pa2.host);
  EXPECT_FALSE(pa.host == pb.host);
}

TEST(UrlHost, TextPiecesReadAsOne) {
  Text t("ab", "cd", "ef");
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[0], 'a');
  EXPECT_EQ(t[2], 'c');
  EXPECT_EQ(t[5], 'f');
  EXPECT_EQ(t.contiguous(2, 4), "cd");
  EXPECT_EQ(t.contiguous(1, 3), "");
  Host h;
  EXPECT_EQ(parse_host(Text("127.0.", "0", ".1"), 0, 9, true, &h), HostError::kNone);
  EXPECT_EQ(h.ipv4, 0x7F000001u);
}

}  // namespace
}  // namespace vigil::tokenize::url
