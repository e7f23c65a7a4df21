#include <string>

#include <gtest/gtest.h>

#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {
namespace {

bool fires(std::string_view value, Hit* out = nullptr, std::string_view name = "q",
           Source source = Source::kQuery) {
  Candidate c{value, features_of(value), Form::kRaw, 0, source, name};
  Hit hit;
  bool r = detect_ssrf(c, &hit);
  if (out != nullptr) *out = hit;
  return r;
}

bool referer(std::string_view value, Hit* out = nullptr) {
  return fires(value, out, "Referer", Source::kHeader);
}

TEST(SsrfInput, DangerousSchemes) {
  Hit hit;
  EXPECT_TRUE(fires("gopher://127.0.0.1:6379/_config%20set%20dir%20/var/www", &hit));
  EXPECT_NE(hit.reason.find("gopher:"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("dict://10.0.0.1:11211/stats"));
  EXPECT_TRUE(fires("file:///etc/passwd"));
  EXPECT_TRUE(fires("file://\\/\\/etc/passwd"));
  EXPECT_TRUE(fires("jar:http://127.0.0.1!/"));
  EXPECT_TRUE(fires("netdoc:///etc/passwd"));
  EXPECT_TRUE(fires("ldap://localhost:11211/%0astats%0aquit"));
  EXPECT_TRUE(fires("sftp://evil.example:11111/"));
  EXPECT_TRUE(fires("gopher://[host]:[port]/x"));  // a template still names the scheme
  EXPECT_TRUE(fires("GoPhEr://evil.example/_x"));
  EXPECT_TRUE(fires("go\tpher://evil.example/_x"));  // tabs vanish from URLs
}

TEST(SsrfInput, InternalHostsInEveryEncoding) {
  Hit hit;
  EXPECT_TRUE(fires("http://127.0.0.1/admin"));
  EXPECT_TRUE(fires("http://0x7f000001/", &hit));
  EXPECT_NE(hit.reason.find("127.0.0.1"), std::string::npos) << hit.reason;
  EXPECT_NE(hit.reason.find("written 0x7f000001"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("http://2130706433/"));
  EXPECT_TRUE(fires("http://0177.0.0.1/"));
  EXPECT_TRUE(fires("http://127.1/"));
  EXPECT_TRUE(fires("http://0/"));
  EXPECT_TRUE(fires("http://[::1]/"));
  EXPECT_TRUE(fires("http://[::ffff:169.254.169.254]/", &hit));
  EXPECT_NE(hit.reason.find("metadata"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("http://0xA9.0xFE.0xA9.0xFE/latest/"));
  EXPECT_TRUE(fires("http://169.254.169.254/latest/meta-data/"));
  EXPECT_TRUE(fires("http://metadata.google.internal/computeMetadata/v1/"));
  EXPECT_TRUE(fires("http://192.168.1.1/"));
  EXPECT_TRUE(fires("http://localhost:5000/ssrf"));
  EXPECT_TRUE(fires("https://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/"));  // IDNA maps it to localhost
  EXPECT_TRUE(fires("http://127。0。0。1/"));  // ideographic full stops
  EXPECT_TRUE(fires("//0x7f000001/"));        // scheme-relative
  EXPECT_TRUE(fires("http:127.0.0.1"));        // no slashes: still a host
}

TEST(SsrfInput, OtherReadingsOfTheAuthority) {
  Hit hit;
  EXPECT_TRUE(fires("http://allowed.example.com@127.0.0.1/"));
  EXPECT_TRUE(fires("http://127.0.0.1#@allowed.example.com/"));
  // WHATWG goes to allowed.example.com; a naive splitter takes the text after the last '@'.
  EXPECT_TRUE(fires("http://allowed.example.com#@10.0.0.7/", &hit));
  EXPECT_NE(hit.reason.find("other parsers"), std::string::npos) << hit.reason;
  // Overflowing numbers that lenient resolvers wrap.
  EXPECT_TRUE(fires("http://425.510.425.510/", &hit));
  EXPECT_NE(hit.reason.find("169.254.169.254"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("http://0x41414141A9FEA9FE/"));
}

TEST(SsrfInput, NamesThatResolveInside) {
  Hit hit;
  EXPECT_TRUE(fires("http://127.0.0.1.nip.io/", &hit));
  EXPECT_NE(hit.reason.find("wildcard-DNS"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("http://app.10-0-0-1.sslip.io/"));
  EXPECT_TRUE(fires("http://ip6-localhost/"));
  EXPECT_TRUE(fires("http://www.localtest.me/"));
  EXPECT_TRUE(fires("http://redis:6379/", &hit));
  EXPECT_NE(hit.reason.find("unqualified"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("http://instance-data/latest/"));
  EXPECT_TRUE(fires("http://7f000001.a9fea9fe.rbndr.us/", &hit));
  EXPECT_NE(hit.reason.find("rebinding"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("https://62epax5fhvj3zzmzigyoe5ipkbn7fysllvges3a.302.r3dir.me"));
  EXPECT_FALSE(fires("https://rbndr.us.example.com/"));
  // Public names that merely contain digits.
  EXPECT_FALSE(fires("http://1.2.3.4.example.com/"));
  EXPECT_FALSE(fires("http://web-10-0-0-1x.example.com/"));
}

TEST(SsrfInput, MetadataThroughProxiesAndRedirectors) {
  EXPECT_TRUE(fires("http://proxy.example/169.254.169.254/latest/meta-data/iam/"));
  EXPECT_TRUE(fires("http://redirector.example/redir-http-169.254.169.254:80-"));
  EXPECT_TRUE(fires("http://foo.example/latest/meta-data/"));
  // The query is the site's business.
  EXPECT_FALSE(fires("https://search.example/?q=169.254.169.254"));
}

TEST(SsrfInput, UrlsInsideTheValue) {
  Hit hit;
  EXPECT_TRUE(fires("/fetch?url=http://127.0.0.1:2375/containers/json", &hit));
  EXPECT_NE(hit.reason.find("parameter url"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("url=http%3A%2F%2F10.0.0.1%2F"));
  EXPECT_TRUE(referer("https://shop.example/search?q=http%3A%2F%2F127.0.0.1%2Fadmin", &hit));
  EXPECT_NE(hit.reason.find("of the Referer URL"), std::string::npos) << hit.reason;
}

TEST(SsrfInput, BareHostsInFetchParameters) {
  Hit hit;
  EXPECT_TRUE(fires("169.254.169.254", &hit, "host"));  // only an attacker asks for metadata
  EXPECT_NE(hit.reason.find("metadata"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("metadata.google.internal", nullptr, "host"));
  // An internal host written to hide it.
  EXPECT_TRUE(fires("0x7f000001", &hit, "url"));
  EXPECT_NE(hit.reason.find("written 0x7f000001"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("0177.0.0.1", nullptr, "host"));
  EXPECT_TRUE(fires("0x7f.0.0.1", nullptr, "host"));
  EXPECT_TRUE(fires("127.000.000.001", nullptr, "host"));
  EXPECT_TRUE(fires("0xa9fea9fe", nullptr, "host"));
  EXPECT_TRUE(fires("[::ffff:127.0.0.1]", &hit, "host"));
  EXPECT_NE(hit.reason.find("written [::ffff:127.0.0.1]"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("[0:0:0:0:0:0:0:1]", nullptr, "host"));
  EXPECT_TRUE(fires("①②⑦.0.0.1", nullptr, "host"));  // look-alike digits
  // Credentials before it, a port of an unauthenticated service, a name that resolves inside.
  EXPECT_TRUE(fires("allowed.example@10.0.0.1", nullptr, "host"));
  EXPECT_TRUE(fires("localhost:6379", &hit, "webhook_url"));
  EXPECT_NE(hit.reason.find("Redis"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("10.0.0.5:2375", nullptr, "server"));
  EXPECT_TRUE(fires("127.0.0.1.nip.io", nullptr, "host"));
  EXPECT_TRUE(fires("7f000001.c0a80001.rbndr.us", nullptr, "host"));
  // What network tools, admin pages and APIs take every day (fp1 and fp3 of the
  // false-positive review: the demo shop's ping page links host=127.0.0.1).
  EXPECT_FALSE(fires("127.0.0.1", nullptr, "host"));
  EXPECT_FALSE(fires("10.0.0.1", nullptr, "host"));
  EXPECT_FALSE(fires("192.168.1.20", nullptr, "ip"));
  EXPECT_FALSE(fires("localhost", nullptr, "host"));
  EXPECT_FALSE(fires("LOCALHOST", nullptr, "server"));
  EXPECT_FALSE(fires("[::1]", nullptr, "host"));
  EXPECT_FALSE(fires("10.0.0.5:8080", nullptr, "server"));
  EXPECT_FALSE(fires("db.internal:5432", nullptr, "host"));
  EXPECT_FALSE(fires("0.0.0.0", nullptr, "host"));
  EXPECT_FALSE(fires("bücher.example", nullptr, "host"));
  EXPECT_FALSE(fires("[1,2,3]", nullptr, "url"));
  EXPECT_FALSE(fires("/tools?host=127.0.0.1"));
  // With a scheme the value is a URL the server would fetch: judged as before.
  EXPECT_TRUE(fires("http://127.0.0.1/", nullptr, "host"));
  EXPECT_TRUE(fires("http://10.0.0.1:8080/", nullptr, "url"));
  EXPECT_FALSE(fires("169.254.169.254", nullptr, "comment"));
  // Numbers and versions are not hosts.
  EXPECT_FALSE(fires("40184", nullptr, "url"));
  EXPECT_FALSE(fires("0.0/0.0", nullptr, "url"));
  EXPECT_FALSE(fires("1.0.2", nullptr, "host"));
}

// As the analyser calls the detectors: only where the registry's prefilter and minimum admit
// the value. The rule that fires, or nullptr.
const InputDetectorInfo* analysed(std::string_view value, std::string_view name) {
  const Candidate c{value, features_of(value), Form::kRaw, 0, Source::kQuery, name};
  for (const InputDetectorInfo& d : input_detectors()) {
    if ((d.prefilter && !(c.features & d.prefilter)) || value.size() < d.min_length) continue;
    Hit hit;
    if (d.fn(c, &hit)) return &d;
  }
  return nullptr;
}

bool ssrf_in(std::string_view value, std::string_view name) {
  const InputDetectorInfo* d = analysed(value, name);
  return d != nullptr && d->cls == AttackClass::kSsrf;
}

TEST(SsrfInput, NumericNotationsInAddressParameters) {
  Hit hit;
  // One number, decimal, octal or hex, read as inet_aton() and the WHATWG parser read it; and
  // the short forms. Through the registry: a value of digits alone has no feature byte.
  EXPECT_TRUE(ssrf_in("2130706433", "host"));      // 127.0.0.1
  EXPECT_TRUE(ssrf_in("3232235521", "host"));      // 192.168.0.1
  EXPECT_TRUE(ssrf_in("167772161", "server"));     // 10.0.0.1
  EXPECT_TRUE(ssrf_in("2852039166", "url"));       // 169.254.169.254
  EXPECT_TRUE(ssrf_in("017700000001", "host"));    // octal 127.0.0.1
  EXPECT_TRUE(ssrf_in("0x7f000001", "host"));
  EXPECT_TRUE(ssrf_in("0X0A000001", "ip"));        // 10.0.0.1
  EXPECT_TRUE(ssrf_in("0x00000000", "host"));      // 0.0.0.0: the local host on Linux
  EXPECT_TRUE(ssrf_in("127.1", "host"));
  EXPECT_TRUE(ssrf_in("127.0.1", "host"));
  EXPECT_TRUE(ssrf_in("0177.1", "host"));          // octal short form
  EXPECT_TRUE(ssrf_in("012.1", "host"));           // octal 10.0.0.1
  EXPECT_TRUE(ssrf_in("192.168.1", "host"));       // 192.168.0.1
  EXPECT_TRUE(ssrf_in("169.254.43518", "host"));   // 169.254.169.254
  EXPECT_TRUE(ssrf_in("192.11010049", "host"));    // 192.168.0.1
  EXPECT_TRUE(ssrf_in("127.1:6379", "host"));
  EXPECT_TRUE(ssrf_in("2130706433:80", "host"));
  EXPECT_TRUE(ssrf_in("allowed.example@2130706433", "host"));
  EXPECT_TRUE(fires("2130706433", &hit, "host"));
  EXPECT_NE(hit.reason.find("127.0.0.1"), std::string::npos) << hit.reason;
  EXPECT_NE(hit.reason.find("written 2130706433"), std::string::npos) << hit.reason;
  // With a scheme they were URLs to fetch already.
  EXPECT_TRUE(ssrf_in("http://2130706433/", "q"));
  EXPECT_TRUE(ssrf_in("http://127.1/", "q"));
  EXPECT_TRUE(ssrf_in("http://017700000001/", "q"));

  // Counts, ids, zip codes, card numbers, prices and versions in the same parameters. Every
  // number below 2^24 is in 0.0.0.0/8: "0" (a benign corpus line) and "1" are no address.
  for (std::string_view v :
       {"0", "1", "42", "8080", "02345", "40184", "00000000", "12345678", "16777215",
        "4111111111111111", "0029687955884916", "0671271356251463",
        "123456789012345678901234567890123456789", "1732600000", "3.14", "2.0.1", "1.0.2",
        "10.1", "10.15.7", "10.0.19045", "0.5", "0.9.1", "192.50", "172.16", "169.254",
        "100.64", "99.1", "0x1234", "0x00ff", "0xdeadbeef", "10.1:6379"}) {
    EXPECT_FALSE(ssrf_in(v, "host")) << v;
    EXPECT_FALSE(ssrf_in(v, "server")) << v;
  }
  // An "ip" stored as an integer (INET_ATON, ip2long) is data; other notations there are not.
  EXPECT_FALSE(ssrf_in("3232235777", "ip"));
  EXPECT_TRUE(ssrf_in("3232235777", "host"));
  EXPECT_TRUE(ssrf_in("0xc0a80101", "ip"));
  EXPECT_TRUE(ssrf_in("127.1", "ip"));
  // Not named for an address: a number is a number.
  for (std::string_view name : {"q", "id", "page", "ts", "phone", ""}) {
    EXPECT_FALSE(ssrf_in("2130706433", name)) << name;
    EXPECT_FALSE(ssrf_in("0x7f000001", name)) << name;
    EXPECT_FALSE(ssrf_in("127.1", name)) << name;
  }
  // Words of letters and digits are no numbers.
  EXPECT_FALSE(ssrf_in("localhost", "host"));
  EXPECT_FALSE(ssrf_in("12345abc", "host"));
  EXPECT_FALSE(ssrf_in("0x7f00000g", "host"));
}

TEST(SsrfInput, PublicAndProseStayClean) {
  EXPECT_FALSE(fires("https://github.com/libuv/libuv"));
  EXPECT_FALSE(fires("http://www.gnu.org/licenses/gpl.html"));
  EXPECT_FALSE(fires("ftp://ftp.gnu.org/gnu/"));  // ftp to a public host is a download
  EXPECT_FALSE(fires("Debian-Tipp: Dokumentation unter http://localhost/ nach Installation"));
  EXPECT_FALSE(fires("http://localhost is where the CUPS page lives"));
  EXPECT_FALSE(fires("Use --proxy=http://127.0.0.1:3128 when offline"));
  EXPECT_FALSE(fires("12:30 meeting / room 4"));
  EXPECT_FALSE(fires("\\\\fileserver\\share\\report.pdf"));
  EXPECT_FALSE(fires("mailto:root@localhost"));
}

TEST(SsrfInput, RefererPageItself) {
  // A browser page on a private host is normal; a forged Referer is not.
  EXPECT_FALSE(referer("http://192.168.1.10:3000/dashboard"));
  EXPECT_FALSE(referer("http://localhost:8080/"));
  EXPECT_TRUE(referer("gopher://127.0.0.1:6379/_INFO"));
  EXPECT_TRUE(referer("http://169.254.169.254/latest/meta-data/"));
  EXPECT_TRUE(referer("http://0x7f000001/"));
}

TEST(SsrfInput, LongValuesStayLinear) {
  std::string v(1 << 20, '/');
  EXPECT_FALSE(fires(v));
  std::string w;
  while (w.size() < (1u << 20)) w += "?a=http://x.example/&";
  EXPECT_FALSE(fires(w));
}

}  // namespace
}  // namespace vigil::detect::input
