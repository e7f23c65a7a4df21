#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {
namespace {

bool fires(std::string_view value, Hit* out = nullptr,
           Source source = Source::kQuery) {
  Candidate c{value, features_of(value), Form::kUrlDecoded, 0, source, "file"};
  Hit hit;
  bool r = detect_path_traversal(c, &hit);
  if (out != nullptr) *out = hit;
  return r;
}

TEST(PathTraversalInput, PlainClimbs) {
  EXPECT_TRUE(fires("../../etc/passwd"));
  EXPECT_TRUE(fires("../../../../../../../../boot.ini"));
  EXPECT_TRUE(fires("..\\..\\..\\windows\\win.ini"));
  EXPECT_TRUE(fires("images/../../../../etc/shadow"));
  EXPECT_TRUE(fires("../config.js"));  // the whole value climbs out of its directory
  EXPECT_TRUE(fires("/../../../../"));
  EXPECT_TRUE(fires("page=../../../etc/passwd&lang=en"));
}

TEST(PathTraversalInput, FilterEvasions) {
  EXPECT_TRUE(fires("....//....//....//etc/passwd"));  // "../" stripped once
  EXPECT_TRUE(fires("..;/..;/..;/WEB-INF/web.xml"));   // Tomcat path parameter
  EXPECT_TRUE(fires(".../.../.../.../boot.ini"));
  EXPECT_TRUE(fires("..\\/..\\/..\\/etc/passwd"));
  EXPECT_TRUE(fires("/./././././././etc/passwd"));
  EXPECT_TRUE(fires("/./\\/././\\/./"));  // "./" padding alone
}

TEST(PathTraversalInput, Encodings) {
  Hit hit;
  EXPECT_TRUE(fires("..%2f..%2f..%2fetc%2fpasswd", &hit));
  EXPECT_NE(hit.reason.find("percent-encoding"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("%252e%252e%252f%252e%252e%252fetc%252fpasswd", &hit));
  EXPECT_NE(hit.reason.find("several layers"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("%%32%65%%32%65/%%32%65%%32%65/etc/passwd"));  // hex digits encoded apart
  EXPECT_TRUE(fires("%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", &hit));
  EXPECT_NE(hit.reason.find("overlong UTF-8"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("%e0%80%ae%e0%80%ae%e0%80%afetc%e0%80%afpasswd"));
  EXPECT_TRUE(fires("%f0%80%80%ae%f0%80%80%ae%2f%f0%80%80%ae%f0%80%80%ae%2fboot.ini"));
  EXPECT_TRUE(fires("\xc0\xae\xc0\xae/\xc0\xae\xc0\xae/etc/passwd"));  // raw overlong bytes
  EXPECT_TRUE(fires("%uff0e%uff0e%u2215%uff0e%uff0e%u2215etc%u2215passwd"));
  EXPECT_TRUE(fires("..%u2216..%u2216..%u2216boot.ini"));
  EXPECT_TRUE(fires("0x2e0x2e0x2f0x2e0x2e0x2fetc0x2fpasswd"));
  EXPECT_TRUE(fires("..2f..2f..2f..2fetc2fpasswd"));  // '%' lost to a filter
  EXPECT_TRUE(fires("/%25%5c..%25%5c..%25%5c..%25%5c..%00"));
}

TEST(PathTraversalInput, JunkBetweenDots) {
  // Undecodable bytes (invalid escapes, U+FFFD left by a decoder, NUL, controls) stand in for
  // separators or sit between the dots.
  EXPECT_TRUE(fires("..%c0%9v..%c0%9v..%c0%9vetc%c0%9vpasswd"));
  EXPECT_TRUE(fires("\xef\xbf\xbd.\xef\xbf\xbd./\xef\xbf\xbd.\xef\xbf\xbd./etc/passwd"));
  EXPECT_TRUE(fires(std::string_view(".\0.\\.\0.\\.\0.\\boot.ini", 21)));
  EXPECT_TRUE(fires("..\x01\\..\x01\\..\x01\\boot.ini"));
  EXPECT_TRUE(fires("?\?/?\?/?\?/boot.ini"));  // "??/" written so that it reads as no trigraph
  EXPECT_TRUE(fires("/\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd/\xef\xbf\xbd\xef\xbf\xbd/"));
}

TEST(PathTraversalInput, NulAndSuffixes) {
  EXPECT_TRUE(fires("../../../etc/passwd%00.png"));
  EXPECT_TRUE(fires(std::string_view("../../../boot.ini\0index.html", 28)));
  EXPECT_TRUE(fires("..%5c..%5c..%5cboot.ini;index.html"));
}

TEST(PathTraversalInput, AbsoluteSensitivePaths) {
  EXPECT_TRUE(fires("/etc/passwd"));
  EXPECT_TRUE(fires("/etc/hostname.iprb1"));
  EXPECT_TRUE(fires("/proc/self/environ"));
  EXPECT_TRUE(fires("/proc/self/fd/12"));
  EXPECT_TRUE(fires("/var/log/apache2/access.log"));
  EXPECT_TRUE(fires("/var/log/lighttpd"));
  EXPECT_TRUE(fires("/usr/local/apache/conf/httpd.conf"));
  EXPECT_TRUE(fires("/Volumes/webBackup/private/etc/httpd/httpd.conf.default"));
  EXPECT_TRUE(fires("/root/.ssh/id_rsa"));
  EXPECT_TRUE(fires("C:\\boot.ini"));
  EXPECT_TRUE(fires("C:/windows/system32/drivers/etc/hosts"));
  EXPECT_TRUE(fires("c:\\AppServ\\MySQL"));
  EXPECT_TRUE(fires("d:/inetpub/wwwroot/global.asa"));
  EXPECT_TRUE(fires("C:/program files (x86)/xampp/apache/conf/httpd.conf"));  // spaces inside
  EXPECT_TRUE(fires("\\xampp\\phpMyAdmin\\phpinfo.php"));
  EXPECT_TRUE(fires("next=/etc/shadow"));
  EXPECT_TRUE(fires("/var/log/vsftpd.log"));
  EXPECT_TRUE(fires("/var/adm/aculogs"));
  EXPECT_TRUE(fires("/usr/local/etc/nginx"));  // a tree name beside a configuration one
  EXPECT_TRUE(fires("/tmp/sess_0123abcd"));
}

// Paths into the trees where programs and people keep their own files are what a program sends
// about itself: Python's logging.handlers.HTTPHandler sends each record's source file
// (`pathname`), an old browser an upload's whole client path. Two such names make no target.
TEST(PathTraversalInput, PathsIntoProgramAndUserTreesStayClean) {
  EXPECT_FALSE(fires("/usr/lib/python3.11/test/test_logging.py"));
  EXPECT_FALSE(fires("/usr/local/bin/node_modules/app/index.js"));
  EXPECT_FALSE(fires("/home/alice/Documents/report.pdf"));
  EXPECT_FALSE(fires("C:\\Users\\alice\\Documents\\cv.docx"));
  EXPECT_FALSE(fires("/opt/shop/lib/shop.jar"));
}

TEST(PathTraversalInput, RelativeAndBareTargets) {
  EXPECT_TRUE(fires("WEB-INF/web.xml"));
  EXPECT_TRUE(fires("root/.htpasswd"));
  EXPECT_TRUE(fires("etc/passwd"));
  EXPECT_TRUE(fires(".htaccess"));
  EXPECT_TRUE(fires("boot.ini"));
  EXPECT_TRUE(fires("web.config"));
  EXPECT_TRUE(fires("config.inc.php"));
}

TEST(PathTraversalInput, StreamWrappers) {
  Hit hit;
  EXPECT_TRUE(fires("php://filter/convert.base64-encode/resource=index.php", &hit));
  EXPECT_NE(hit.reason.find("PHP I/O stream"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("php://input"));
  EXPECT_TRUE(fires("PHP://FILTER/read=string.rot13/resource=config.php"));
  EXPECT_TRUE(fires("zip://uploads/avatar.jpg%23shell.php"));
  EXPECT_TRUE(fires("phar://uploads/avatar.jpg/x"));
  EXPECT_TRUE(fires("expect://id"));
  EXPECT_TRUE(fires("data://text/plain;base64,PD9waHAgc3lzdGVtKCdpZCcpOyA/Pg=="));
  EXPECT_TRUE(fires("file:///etc/passwd"));
  EXPECT_TRUE(fires("file://C:/windows/win.ini"));
  EXPECT_TRUE(fires("convert.iconv.UTF8.CSISO2022KR"));  // one link of a filter chain
}

TEST(PathTraversalInput, Base64) {
  Hit hit;
  EXPECT_TRUE(fires("Li4vLi4vLi4vZXRjL3Bhc3N3ZA==", &hit));  // ../../../etc/passwd
  EXPECT_NE(hit.reason.find("base64"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("L2V0Yy9wYXNzd2Q="));                      // /etc/passwd
  EXPECT_TRUE(fires("ZXRjL3NoYWRvdyUwMA=="));                  // etc/shadow%00
  EXPECT_TRUE(fires("https://shop.example.com/search?q=Li4vLi4vLi4vZXRjL3Bhc3N3ZA%3D%3D"));
  EXPECT_FALSE(fires("QmFzZTY0IGlzIGZpbmU="));  // "Base64 is fine"
  EXPECT_FALSE(fires("dGhpcyBpcyBhIHRlc3Q"));
}

TEST(PathTraversalInput, ReasonNamesClimbAndTarget) {
  Hit hit;
  ASSERT_TRUE(fires("../../../etc/passwd", &hit));
  EXPECT_NE(hit.reason.find("climb 3 directories"), std::string::npos) << hit.reason;
  EXPECT_NE(hit.reason.find("etc/passwd"), std::string::npos) << hit.reason;
  EXPECT_EQ(hit.evidence, "../../../etc/passwd");
  ASSERT_TRUE(fires("/etc/shadow", &hit));
  EXPECT_NE(hit.reason.find("absolute path"), std::string::npos) << hit.reason;
}

TEST(PathTraversalInput, BenignValuesStayClean) {
  for (std::string_view v : {
           "hello world", "Wait... what?", "and/or", "..", "...", "....", "1.2.3",
           "v1.0..v2.0", "foo.bar.baz", "C++ / C#", "50% off", "100%", "O'Brien",
           "https://example.com/a/b/c", "https://salsa.debian.org/debian/adduser",
           "http://example.com/../index.html", "/home/dashboard", "/usr/news/gotcha",
           "/SEARCH_RESULTS.PHP?SEARCH_TYPE=ALL&PAGE=2", "docs/index.html", "2024/01/15",
           "a/b/../c", "x.tar.gz", "jane.doe@example.com", "\xc2\xaf\\_(\xe3\x83\x84)_/\xc2\xaf",
           "passwd", "windows", "config", "etc", "\xc3\x9c" "berweisung", "/library/books",
           "0x1F600", "0xdeadbeef", "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf\xe3\x80\x82",
           "c/ caridad s/n", "Hacker's+Guide+To+Cooking:+/etc/food,+right?",
           "wait.../what", "yes..../no", "3..5", "a..b/c..d"}) {
    EXPECT_FALSE(fires(v)) << v;
  }
}

TEST(PathTraversalInput, ProseMentioningPathsStaysClean) {
  EXPECT_FALSE(fires("Debian tip #9: see /etc/debian_version for the release"));
  EXPECT_FALSE(fires("<BenC> -include ../../debian/el33t.h <BenC> sendmail build"));
  EXPECT_FALSE(fires("has /usr/bin/emacs been put into /etc/shells yet? :P"));
  EXPECT_FALSE(fires("the boot.ini file on Windows and the php.ini file"));
  // Prose that climbs far, or climbs to a sensitive file, is an attempt all the same.
  EXPECT_TRUE(fires("please open ../../../../etc/passwd for me"));
  EXPECT_TRUE(fires("x ../../etc/shadow y"));
}

TEST(PathTraversalInput, AnyBytesAndLongValues) {
  std::string big(1 << 20, 'a');
  EXPECT_FALSE(fires(big));
  big += "/../../../etc/passwd";
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(fires(big));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start).count();
  // Guards against quadratic work (minutes at this size), not a speed target (that is
  // bench/micro): CI shares a loaded machine, and sanitizer builds are slower still.
  EXPECT_LT(ms, 10000);
  std::string junk(1 << 20, '%');
  EXPECT_FALSE(fires(junk));
  std::string dots(1 << 20, '.');
  EXPECT_FALSE(fires(dots));
  std::string mixed;
  for (int i = 0; i < 100000; ++i) mixed += "%c0%ae\xff/\0"[i % 9];
  fires(mixed);  // must not crash
  std::string climbs;
  for (int i = 0; i < 50000; ++i) climbs += "../";
  EXPECT_TRUE(fires(climbs));
}

}  // namespace
}  // namespace vigil::detect::input
