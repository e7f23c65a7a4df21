// Exec (argv) detector, through the public engine API (occurrence search included).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vigil/engine.hpp"

namespace vigil {
namespace {

Verdict check(std::vector<std::string_view> argv, std::vector<std::string_view> values) {
  std::vector<Input> inputs;
  for (std::string_view v : values) inputs.push_back(Input{Source::kQuery, "q", v});
  Engine engine;
  return engine.check_sink(Sink::exec(argv), inputs);
}

bool attack(std::vector<std::string_view> argv, std::string_view input) {
  return check(std::move(argv), {input}).attack();
}

TEST(ExecDetector, InputAsTheProgram) {
  Verdict v = check({"cat /etc/passwd", "--version"}, {"cat /etc/passwd"});
  ASSERT_TRUE(v.attack());
  EXPECT_EQ(v.detections[0].rule, "command-injection");
  EXPECT_EQ(v.detections[0].element, 0u);
  EXPECT_EQ(v.detections[0].reason, "input is the program that is executed ('cat /etc/passwd')");
  EXPECT_TRUE(attack({"/opt/tools/../../bin/sh", "-x"}, "../../bin/sh"));
  // A coincidence: the input is part of the program's name, not the program.
  EXPECT_FALSE(attack({"/usr/bin/git", "log", "--author", "git"}, "git"));
  EXPECT_FALSE(attack({"/usr/bin/git", "log"}, "bin"));
}

TEST(ExecDetector, GitOptionInjection) {
  Verdict v = check({"/usr/bin/git", "log", "--oneline", "-n", "20", "--output=/tmp/x"},
                    {"--output=/tmp/x"});
  ASSERT_TRUE(v.attack());
  const Detection& d = v.detections[0];
  EXPECT_EQ(d.rule, "argument-injection");
  EXPECT_EQ(d.cwe, "CWE-88");
  EXPECT_EQ(d.element, 5u);
  EXPECT_EQ(d.reason,
            "input begins the argument with '-', so git parses it as the option '--output', "
            "which writes its output to a file of the attacker's choosing");
  EXPECT_TRUE(attack({"git", "log", "-1 union select 1"}, "-1 union select 1"));
  EXPECT_TRUE(attack({"git", "fetch", "--upload-pack=touch /tmp/x", "origin"},
                     "--upload-pack=touch /tmp/x"));
  EXPECT_TRUE(attack({"git", "log", "--"}, "--"));  // the end-of-options marker itself
}

TEST(ExecDetector, GitValuesAndEndOfOptions) {
  EXPECT_FALSE(attack({"/usr/bin/git", "log", "--author", "--output=/tmp/x"}, "--output=/tmp/x"));
  EXPECT_FALSE(attack({"/usr/bin/git", "log", "--author=-x"}, "-x"));
  EXPECT_FALSE(attack({"/usr/bin/git", "log", "--", "--output=/tmp/x"}, "--output=/tmp/x"));
  EXPECT_FALSE(attack({"/usr/bin/git", "log", "--end-of-options", "-x"}, "-x"));
  EXPECT_FALSE(attack({"/usr/bin/git", "log", "-n", "-5"}, "-5"));
  EXPECT_FALSE(attack({"/usr/bin/git", "-C", "-dir", "log"}, "-dir"));
  EXPECT_FALSE(attack({"/usr/bin/git", "log", "main..feature"}, "main..feature"));
}

TEST(ExecDetector, CurlWgetSshScp) {
  EXPECT_TRUE(attack({"/usr/bin/curl", "-s", "-o/tmp/x"}, "-o/tmp/x"));
  EXPECT_TRUE(attack({"curl", "https://a.example/", "-K", "/tmp/c"}, "-K"));
  EXPECT_FALSE(attack({"/usr/bin/curl", "-s", "--", "-o/tmp/x"}, "-o/tmp/x"));
  EXPECT_FALSE(attack({"/usr/bin/curl", "-s", "-H", "-x: y", "https://a/"}, "-x: y"));
  EXPECT_FALSE(attack({"/usr/bin/curl", "-s", "http://a/-b"}, "-b"));
  EXPECT_TRUE(attack({"wget", "-q", "--execute=x"}, "--execute=x"));
  EXPECT_TRUE(attack({"/usr/bin/ssh", "-oProxyCommand=id", "uptime"}, "-oProxyCommand=id"));
  EXPECT_FALSE(attack({"/usr/bin/ssh", "--", "-oProxyCommand=id", "uptime"}, "-oProxyCommand=id"));
  EXPECT_FALSE(attack({"/usr/bin/ssh", "-l", "-me", "host", "uptime"}, "-me"));
  // ssh hands its command words to the remote shell.
  EXPECT_TRUE(attack({"/usr/bin/ssh", "host", "cat", "x;id"}, "x;id"));
  EXPECT_FALSE(attack({"/usr/bin/ssh", "host", "cat", "report.txt"}, "report.txt"));
  EXPECT_TRUE(attack({"scp", "-Sx", "a:b", "c"}, "-Sx"));
}

TEST(ExecDetector, FindStartPointsAndExpression) {
  EXPECT_TRUE(attack({"/usr/bin/find", "-exec", "id", ";", "-maxdepth", "1"}, "-exec"));
  EXPECT_TRUE(attack({"/usr/bin/find", "-delete", "-maxdepth", "1"}, "-delete"));
  EXPECT_TRUE(attack({"/usr/bin/find", "-true", "-maxdepth", "1"}, "-true"));
  EXPECT_TRUE(attack({"/usr/bin/find", ".", "-name", "x", "-fprint", "/tmp/y"}, "-fprint"));
  EXPECT_FALSE(attack({"/usr/bin/find", "/srv/files", "-name", "-exec"}, "-exec"));
  EXPECT_FALSE(attack({"/usr/bin/find", "./-exec", "-maxdepth", "1"}, "-exec"));
  EXPECT_FALSE(attack({"/usr/bin/find", "(a, b) c", "-maxdepth", "1"}, "(a, b) c"));
  EXPECT_FALSE(attack({"/usr/bin/find", "-L", "/srv", "-newermt", "-1 day"}, "-1 day"));
  // -exec runs a program: the input as that program.
  EXPECT_TRUE(attack({"find", ".", "-exec", "rm -rf /", "{}", ";"}, "rm -rf /"));
}

TEST(ExecDetector, ImageMagick) {
  EXPECT_TRUE(attack({"/usr/bin/convert", "-write", "/tmp/x", "out.png"}, "-write"));
  EXPECT_TRUE(attack({"/usr/bin/convert", "+dir+c:/", "out.png"}, "+dir+c:/"));
  EXPECT_FALSE(attack({"/usr/bin/convert", "-9 union select", "out.png"}, "-9 union select"));
  EXPECT_FALSE(attack({"/usr/bin/convert", "--", "-write", "out.png"}, "-write"));
  EXPECT_FALSE(attack({"/usr/bin/convert", "in.png", "-resize", "-write", "out.png"}, "-write"));
  EXPECT_TRUE(attack({"magick", "convert", "-write", "x"}, "-write"));
}

TEST(ExecDetector, ShellUnderExec) {
  EXPECT_TRUE(attack({"/bin/sh", "-c", "ping -c 1 127.0.0.1;id"}, "127.0.0.1;id"));
  EXPECT_TRUE(attack({"bash", "-lc", "ping -c 1 $(id)"}, "$(id)"));
  EXPECT_FALSE(attack({"/bin/sh", "-c", "ping -c 1 example.com"}, "example.com"));
  EXPECT_FALSE(attack({"/bin/sh", "-c", "ping -c 1 'a;b'"}, "a;b"));
  // After the command string come $0 and the positional parameters: data.
  EXPECT_FALSE(attack({"/bin/sh", "-c", "ping -c 1 \"$1\"", "sh", "a;id"}, "a;id"));
  EXPECT_TRUE(attack({"env", "-S", "a;b"}, "a;b"));
  EXPECT_TRUE(attack({"su", "-c", "ls x;id", "nobody"}, "x;id"));
  EXPECT_TRUE(attack({"/usr/bin/env", "LANG=C", "/bin/sh", "-c", "echo a|id"}, "a|id"));
  EXPECT_TRUE(attack({"timeout", "5", "sh -c id"}, "sh -c id"));
}

TEST(ExecDetector, PythonCode) {
  Verdict v = check({"/usr/bin/python3", "-c", "print('x'); import os; print('')"},
                    {"x'); import os; print('"});
  ASSERT_TRUE(v.attack());
  EXPECT_EQ(v.detections[0].rule, "code-injection");
  EXPECT_EQ(v.detections[0].cwe, "CWE-94");
  EXPECT_TRUE(attack({"python3", "-c", "print(''|id|'')"}, "'|id|'"));
  EXPECT_TRUE(attack({"python3", "-c", "print('{{ ''.__class__ }}')"}, "{{ ''.__class__ }}"));
  EXPECT_TRUE(attack({"python3", "-c", "print('a\\')"}, "a\\"));    // escapes the closing quote
  EXPECT_TRUE(attack({"python3", "-c", "print('\nid')"}, "\nid"));  // unterminated
  EXPECT_TRUE(attack({"python3", "-c", "print(f'{x}')"}, "{x}"));
  EXPECT_FALSE(attack({"python3", "-c", "print('a \"b\" $(c) `d`')"}, "a \"b\" $(c) `d`"));
  EXPECT_FALSE(attack({"python3", "-c", "print('it\\'s')"}, "it\\'s"));
  EXPECT_FALSE(attack({"python3", "-c", "print('\\'quoted')"}, "'quoted"));  // app's escape
  EXPECT_FALSE(attack({"python3", "-c", "print('a\\\\')"}, "a\\"));          // app doubled it
  EXPECT_FALSE(attack({"python3", "-c", "print(f'{{x}}')"}, "{{x}}"));
  // Escapes Python rejects make the code fail to compile.
  EXPECT_TRUE(attack({"python3", "-c", "print('C:\\Users\\ann')"}, "C:\\Users\\ann"));
  EXPECT_TRUE(attack({"python3", "-c", "print('\\xZZ')"}, "\\xZZ"));
  EXPECT_FALSE(attack({"python3", "-c", "print('\\x41\\u00e9\\n')"}, "\\x41\\u00e9\\n"));
  EXPECT_FALSE(attack({"python3", "-c", "print(r'C:\\Users')"}, "C:\\Users"));
  EXPECT_FALSE(attack({"python3", "-c", "print(len(sys.argv))"}, "print"));  // app's own name
  EXPECT_FALSE(attack({"python3", "script.py", "x'); import os"}, "x'); import os"));
  EXPECT_FALSE(attack({"python3", "-c", "import sys; print(sys.argv)", "x'); os"}, "x'); os"));
}

TEST(ExecDetector, OtherInterpreters) {
  EXPECT_TRUE(
      attack({"perl", "-e", "print \"a\"; system(\"id\"); \"\""}, "a\"; system(\"id\"); \""));
  EXPECT_TRUE(attack({"perl", "-e", "print \"@{[system 'id']}\""}, "@{[system 'id']}"));
  EXPECT_FALSE(attack({"perl", "-e", "print 'a @b $c'"}, "a @b $c"));
  EXPECT_TRUE(attack({"ruby", "-e", "puts \"#{`id`}\""}, "#{`id`}"));
  EXPECT_TRUE(attack({"node", "-e", "console.log(`${process.exit()}`)"}, "${process.exit()}"));
  EXPECT_TRUE(attack({"node", "--eval", "f('a'); g('')"}, "a'); g('"));
  EXPECT_TRUE(attack({"php", "-r", "echo 'a'; system('id'); '';"}, "a'; system('id'); '"));
  EXPECT_FALSE(attack({"php", "-r", "echo 'hello world';"}, "hello world"));
}

TEST(ExecDetector, UnknownProgramsUseTheGenericReading) {
  EXPECT_TRUE(attack({"/usr/local/bin/tool", "input.txt", "--exec=x"}, "--exec=x"));
  EXPECT_FALSE(attack({"/usr/local/bin/tool", "--name", "-x"}, "-x"));  // maybe a value
  EXPECT_FALSE(attack({"/usr/local/bin/tool", "--", "-x"}, "-x"));
  EXPECT_FALSE(attack({"/usr/local/bin/tool", "a-b"}, "-b"));
}

}  // namespace
}  // namespace vigil
