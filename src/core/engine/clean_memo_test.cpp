#include "core/engine/clean_memo.hpp"
#include "vigil/policy.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "vigil/analysis.hpp"
#include "vigil/request.hpp"

namespace vigil::engine {
namespace {

TEST(CleanMemo, RemembersExactKeysOnly) {
  CleanMemo memo;
  CleanMemo::Key a, b, c, d;
  ASSERT_TRUE(a.build(Source::kHeader, "User-Agent", Form::kRaw, "Mozilla/5.0 (X11)"));
  ASSERT_TRUE(b.build(Source::kHeader, "User-Agent", Form::kRaw, "Mozilla/5.0 (X12)"));
  ASSERT_TRUE(c.build(Source::kQuery, "User-Agent", Form::kRaw, "Mozilla/5.0 (X11)"));
  ASSERT_TRUE(d.build(Source::kHeader, "User-Agent", Form::kUrlDecoded, "Mozilla/5.0 (X11)"));
  EXPECT_FALSE(memo.contains(a));
  memo.insert(a);
  EXPECT_TRUE(memo.contains(a));
  // Another value, source or form is another key: it gets its own analysis.
  EXPECT_FALSE(memo.contains(b));
  EXPECT_FALSE(memo.contains(c));
  EXPECT_FALSE(memo.contains(d));
}

TEST(CleanMemo, RefusesKeysItCannotHold) {
  CleanMemo::Key k;
  EXPECT_FALSE(k.build(Source::kQuery, "q", Form::kRaw, "ab"));
  EXPECT_FALSE(k.build(Source::kQuery, "q", Form::kRaw, std::string(CleanMemo::kMaxKey, 'x')));
  EXPECT_TRUE(k.build(Source::kQuery, "q", Form::kRaw, "abc"));
}

// Keys are hashed and compared part by part, never assembled: parts must still stay apart,
// and every byte of a part must count (short parts are read as overlapping words).
TEST(CleanMemo, EveryByteAndEveryPartBoundaryCounts) {
  CleanMemo memo;
  CleanMemo::Key k;
  const std::string long_value = "0123456789abcdefghijX";
  ASSERT_TRUE(k.build(Source::kQuery, "ab", Form::kRaw, "cdef"));
  memo.insert(k);
  ASSERT_TRUE(k.build(Source::kQuery, "s", Form::kRaw, "abc"));
  memo.insert(k);
  ASSERT_TRUE(k.build(Source::kHeader, "User-Agent-Long", Form::kRaw, long_value));
  memo.insert(k);
  CleanMemo signals;  // slots are direct-mapped: a key of its own, so that none evicts another
  ASSERT_TRUE(k.build_signals("Mozilla/5.0", "/"));
  signals.insert(k);

  ASSERT_TRUE(k.build(Source::kQuery, "ab", Form::kRaw, "cdef"));
  EXPECT_TRUE(memo.contains(k));
  ASSERT_TRUE(k.build(Source::kQuery, "abc", Form::kRaw, "def"));
  EXPECT_FALSE(memo.contains(k));
  ASSERT_TRUE(k.build(Source::kQuery, "s", Form::kRaw, "abc"));
  EXPECT_TRUE(memo.contains(k));
  for (const char* other : {"xbc", "axc", "abx"}) {
    ASSERT_TRUE(k.build(Source::kQuery, "s", Form::kRaw, other));
    EXPECT_FALSE(memo.contains(k)) << other;
  }
  for (std::size_t i = 0; i < long_value.size(); ++i) {
    std::string v = long_value;
    v[i] ^= 1;
    ASSERT_TRUE(k.build(Source::kHeader, "User-Agent-Long", Form::kRaw, v));
    EXPECT_FALSE(memo.contains(k)) << i;
  }
  ASSERT_TRUE(k.build(Source::kHeader, "User-Agent-Lonh", Form::kRaw, long_value));
  EXPECT_FALSE(memo.contains(k));
  ASSERT_TRUE(k.build_signals("Mozilla/5.0", "/"));
  EXPECT_TRUE(signals.contains(k));
  EXPECT_FALSE(memo.contains(k));
  ASSERT_TRUE(k.build_signals("Mozilla/5.1", "/"));
  EXPECT_FALSE(signals.contains(k));
}

TEST(CleanMemo, ConcurrentUseIsSafe) {
  CleanMemo memo;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&memo, t] {
      for (int i = 0; i < 20000; ++i) {
        CleanMemo::Key k;
        std::string v = "value-" + std::to_string((i * 7 + t) % 3000);
        if (!k.build(Source::kCookie, "s", Form::kRaw, v)) continue;
        if (!memo.contains(k)) memo.insert(k);
      }
    });
  }
  for (auto& th : threads) th.join();
  CleanMemo::Key k;
  ASSERT_TRUE(k.build(Source::kCookie, "s", Form::kRaw, "never-inserted"));
  EXPECT_FALSE(memo.contains(k));
}

// The memo must never change a verdict: an attack repeated after a clean value with the same
// name is still found, every time, and a remembered clean value stays clean.
TEST(CleanMemo, EngineVerdictsDoNotChange) {
  Engine with;
  EngineOptions off;
  off.remember_clean_inputs = false;
  Engine without(off);
  // A budget no loaded CI machine reaches: an overrun is a finding of its own, on one engine only.
  auto generous = Policy::compile("budget_us: 1000000", nullptr);
  with.set_policy(generous);
  without.set_policy(generous);
  const char* values[] = {"Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0", "1' OR '1'='1",
                          "analytics=no&ads=no", "; cat /etc/passwd", "desk lamp with usb",
                          "<script>alert(1)</script>", "../../../../etc/passwd",
                          "sqlmap/1.7.2#stable (https://sqlmap.org)"};
  for (int round = 0; round < 3; ++round) {
    for (const char* v : values) {
      // Header holds views: the cookie text must outlive the request.
      const std::string cookie = std::string("c=") + v;
      std::vector<Header> headers = {{"User-Agent", v}, {"Cookie", cookie}};
      HttpRequest req{"GET", "/search?q=x", headers, "", "192.0.2.7"};
      RequestContext ctx;
      ctx.parse(req);
      PreparedInputs prepared;
      prepared.reset(ctx.inputs());
      RequestVerdict a = with.analyze_request(ctx, prepared);
      RequestVerdict b = without.analyze_request(ctx, prepared);
      ASSERT_EQ(a.findings.size(), b.findings.size()) << v << " round " << round;
      for (std::size_t i = 0; i < a.findings.size(); ++i)
        EXPECT_EQ(a.findings[i].rule, b.findings[i].rule) << v;
    }
  }
}

}  // namespace
}  // namespace vigil::engine
