// `vigil forward` (no vigild) against a real receiver: it follows an agent's events file through
// a rename rotation and a copytruncate, ships exploited/blocked events one by one and probes as a
// summary to rsyslog over TCP, flushes at SIGTERM, and resumes from --position without sending
// anything twice. About 10 s. Loopback only; skipped when rsyslogd or openssl is missing.
//
// ctest -R export.forward --output-on-failure
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "export/testing/receivers.hpp"
#include "export/testing/record_parsers.hpp"
#include "export/testing/sample_events.hpp"

namespace vigil::exports::testing {
namespace {

// `vigil forward ARGS...` in the background, stderr to `log`.
pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<std::string> argv = {VIGIL_CLI, "forward"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid, std::chrono::seconds limit) {
  int status = 0;
  if (!eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, limit)) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void append(const fs::path& file, int from, int to, const std::string& outcome = "") {
  std::ofstream out(file, std::ios::app);
  for (int i = from; i < to; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "fw%04d", i);
    out << sql_event(id, outcome.empty() ? (i % 2 ? "blocked" : "exploited") : outcome) << "\n";
  }
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Forward, FollowsRotationsShipsAndResumes) {
  if (!have_tools()) GTEST_SKIP() << "rsyslogd or openssl not installed (scripts/install-deps)";
  TempDir dir;
  Certificates certs(dir.path());
  ASSERT_TRUE(certs.ok);
  Rsyslog rsyslog(dir.path(), certs);
  ASSERT_TRUE(rsyslog.start()) << rsyslog.log();
  const fs::path events = dir.path() / "events.jsonl", position = dir.path() / "position";
  const fs::path log = dir.path() / "forward.log";
  const std::string url = "syslog+tcp://127.0.0.1:" + std::to_string(rsyslog.tcp()) +
                          "?format=cef&retry_initial=100ms&retry_max=500ms&summary_interval=1h";
  // Records at the receiver: event id -> count (summaries under "summary:COUNT").
  auto arrived = [&] {
    std::map<std::string, int> out;
    for (const auto& line : rsyslog.lines("tcp")) {
      auto r = parse_cef(line);
      EXPECT_TRUE(r) << line;
      if (!r) continue;
      if (r->fields.count("cnt")) ++out["summary:" + r->fields["cnt"]];
      else ++out[r->fields["externalId"]];
    }
    return out;
  };
  auto count_fw = [&] {
    int n = 0;
    for (const auto& [id, c] : arrived()) n += id.rfind("fw", 0) == 0;
    return n;
  };

  append(events, 0, 10);
  append(events, 100, 103, "probed");  // one summary of three, sent at the stop
  pid_t pid =
      spawn({"--events", events.string(), "--export", url, "--position", position.string()}, log);
  ASSERT_TRUE(eventually([&] { return count_fw() == 10; }, 15s)) << slurp(log) << rsyslog.log();

  // Rename rotation: lines written just before the rename are read from the old file, then
  // the new file is followed.
  append(events, 10, 15);
  fs::rename(events, dir.path() / "events.jsonl.1");
  append(events, 15, 20);
  ASSERT_TRUE(eventually([&] { return count_fw() == 20; }, 15s)) << slurp(log);

  // copytruncate: the file is copied away and emptied in place; new lines follow at offset 0.
  fs::copy_file(events, dir.path() / "events.jsonl.2");
  fs::resize_file(events, 0);
  std::this_thread::sleep_for(500ms);  // the forwarder sees the smaller size
  append(events, 20, 23);
  ASSERT_TRUE(eventually([&] { return count_fw() == 23; }, 15s)) << slurp(log);

  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid, 20s), 0) << slurp(log);
  ASSERT_TRUE(eventually([&] { return arrived().count("summary:3") == 1; }, 10s)) << slurp(log);

  // Restarted with the same --position: only what was written while it was down is sent.
  append(events, 23, 28);
  pid = spawn({"--events", events.string(), "--export", url, "--position", position.string(),
               "--once"}, log);
  EXPECT_EQ(wait_exit(pid, 30s), 0) << slurp(log);
  ASSERT_TRUE(eventually([&] { return count_fw() == 28; }, 10s)) << slurp(log);
  rsyslog.stop();

  auto final = arrived();
  for (int i = 0; i < 28; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "fw%04d", i);
    EXPECT_EQ(final[id], 1) << id;  // every one, once
  }
  for (int i = 100; i < 103; ++i) EXPECT_EQ(final.count("fw0" + std::to_string(i)), 0u);
  EXPECT_EQ(final["summary:3"], 1);
  EXPECT_NE(slurp(log).find("sent, 0 refused, 0 dropped"), std::string::npos) << slurp(log);
}

}  // namespace
}  // namespace vigil::exports::testing
