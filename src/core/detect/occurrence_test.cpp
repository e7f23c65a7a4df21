#include "core/detect/occurrence.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/common/ascii.hpp"

namespace vigil::detect {
namespace {

std::vector<std::uint32_t> all(std::string_view hay, std::string_view needle, std::size_t max = 1000) {
  std::vector<std::uint32_t> out;
  find_all(hay, needle, max, [&](std::uint32_t p) { out.push_back(p); });
  return out;
}

// Reference implementation for comparison.
std::vector<std::uint32_t> naive(std::string_view hay, std::string_view needle) {
  std::vector<std::uint32_t> out;
  if (needle.empty()) return out;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (hay.compare(i, needle.size(), needle) == 0) out.push_back(static_cast<std::uint32_t>(i));
  return out;
}

TEST(FindAll, FindsOverlappingOccurrences) {
  EXPECT_EQ(all("aaaa", "aa"), (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(all("x' OR 1=1-- x' OR 1=1--", "x' OR 1=1--"), (std::vector<std::uint32_t>{0, 12}));
  EXPECT_TRUE(all("abc", "").empty());
  EXPECT_TRUE(all("ab", "abc").empty());
  EXPECT_EQ(all("abc", "c"), (std::vector<std::uint32_t>{2}));
}

TEST(FindAll, AgreesWithNaiveSearchAcrossBlockBoundaries) {
  std::string hay;
  for (int i = 0; i < 300; ++i) hay += static_cast<char>('a' + (i * 7) % 5);
  for (std::size_t len = 1; len <= 32; ++len) {  // longer needles: see RepetitiveLongNeedle
    for (std::size_t at : {0ul, 13ul, 15ul, 16ul, 17ul, 31ul, 32ul, 100ul, 300 - len}) {
      std::string needle = hay.substr(at, len);
      EXPECT_EQ(all(hay, needle), naive(hay, needle)) << "len=" << len << " at=" << at;
    }
  }
}

TEST(FindAll, StopsAtLimitAndSaysThereWereMore) {
  std::string hay(1000, 'a');
  std::size_t calls = 0;
  std::size_t found = find_all(hay, "aa", 100, [&](std::uint32_t) { ++calls; });
  EXPECT_EQ(calls, 100u);
  EXPECT_EQ(found, 101u);
}

}  // namespace
}  // namespace vigil::detect

namespace vigil::detect {
namespace {

// Repetitive haystack and needle (an input of "<a " repeated): the search stays linear.
TEST(FindAll, RepetitiveLongNeedleAgreesWithNaive) {
  std::string unit = "<a ";
  std::string needle;
  for (int i = 0; i < 40; ++i) needle += unit;
  std::string hay;
  for (int i = 0; i < 400; ++i) hay += unit;
  hay += "<b>";
  auto got = all(hay, needle, 100000);
  // Long needles are reported without overlap: every match found is a real one, and they
  // tile the repetitive region.
  auto expected = naive(hay, needle);
  ASSERT_FALSE(got.empty());
  for (std::size_t k = 0; k < got.size(); ++k) {
    EXPECT_NE(std::find(expected.begin(), expected.end(), got[k]), expected.end());
    if (k) {
      EXPECT_EQ(got[k] - got[k - 1], needle.size());
    }
  }
  EXPECT_EQ(got.front(), expected.front());
}

}  // namespace
}  // namespace vigil::detect

namespace vigil::detect {
namespace {

// The batch search finds exactly what one search per needle finds, on texts long enough to use
// every path (32-byte blocks, 16-byte blocks, the scalar tail) and with many overlapping
// candidates, including when its output buffer fills mid-block.
TEST(FindAllBatch, AgreesWithOneSearchPerNeedle) {
  std::uint32_t seed = 12345;
  auto rnd = [&seed] { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7FFF; };
  for (int round = 0; round < 300; ++round) {
    const std::size_t size = rnd() % 300;
    std::string hay;
    for (std::size_t i = 0; i < size; ++i) hay += static_cast<char>('a' + rnd() % 3);
    std::vector<std::string> texts;
    const std::size_t count = 1 + rnd() % kMaxBatch;
    for (std::size_t k = 0; k < count; ++k) {
      std::string n;
      const std::size_t len = 2 + rnd() % 6;
      for (std::size_t i = 0; i < len; ++i) n += static_cast<char>('a' + rnd() % 3);
      texts.push_back(n);
    }
    std::vector<std::string_view> needles(texts.begin(), texts.end());
    const std::size_t max = 1 + rnd() % 50;
    std::vector<std::vector<std::uint32_t>> got(count);
    std::size_t counts[kMaxBatch];
    find_all_batch(hay, needles.data(), count, max, counts,
                   [&](std::uint32_t k, std::uint32_t pos) { got[k].push_back(pos); });
    for (std::size_t k = 0; k < count; ++k) {
      std::vector<std::uint32_t> want = naive(hay, needles[k]);
      const std::size_t total = want.size();
      if (want.size() > max) want.resize(max);
      EXPECT_EQ(got[k], want) << "round " << round << " needle " << needles[k];
      EXPECT_EQ(counts[k], total > max ? max + 1 : total);
    }
  }
}

// With `fold`, the batch search finds in a mixed-case text what it finds in the text's
// common::fold_ascii copy (bytes >= 0x80 and '@', '[', '`', '{' next to the letters included),
// on every path, also when few candidates fit in the output buffer.
TEST(FindAllBatch, FoldFindsWhatTheFoldedCopyHas) {
  static const char kBytes[] = {'a', 'A', 'b', 'B', 'z', 'Z', '@', '[', '`', '{', '\xC1',
                                '\xE1'};
  std::uint32_t seed = 777;
  auto rnd = [&seed] { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7FFF; };
  for (int round = 0; round < 400; ++round) {
    const std::size_t size = rnd() % 300;
    std::string hay;
    for (std::size_t i = 0; i < size; ++i) hay += kBytes[rnd() % (round % 2 ? 12 : 4)];
    std::string folded = hay;
    common::fold_ascii(hay.data(), hay.size(), folded.data());
    std::vector<std::string> texts;
    const std::size_t count = 1 + rnd() % kMaxBatch;
    for (std::size_t k = 0; k < count; ++k) {
      std::string n;
      const std::size_t len = 2 + rnd() % 6;
      for (std::size_t i = 0; i < len; ++i) n += kBytes[rnd() % (round % 2 ? 12 : 4)];
      common::fold_ascii(n.data(), n.size(), n.data());
      texts.push_back(n);
    }
    std::vector<std::string_view> needles(texts.begin(), texts.end());
    const std::size_t max = 1 + rnd() % 50;
    std::vector<std::vector<std::uint32_t>> got(count), want(count);
    std::size_t counts[kMaxBatch], want_counts[kMaxBatch];
    find_all_batch(
        hay, needles.data(), count, max, counts,
        [&](std::uint32_t k, std::uint32_t pos) { got[k].push_back(pos); }, true);
    find_all_batch(folded, needles.data(), count, max, want_counts,
                   [&](std::uint32_t k, std::uint32_t pos) { want[k].push_back(pos); });
    for (std::size_t k = 0; k < count; ++k) {
      EXPECT_EQ(got[k], want[k]) << "round " << round << " needle " << needles[k];
      EXPECT_EQ(counts[k], want_counts[k]);
      std::vector<std::uint32_t> direct = naive(folded, needles[k]);
      if (direct.size() > max) direct.resize(max);
      EXPECT_EQ(want[k], direct);
    }
    // The small-buffer paths (record_block), through find_batch with a buffer of `count`.
    std::vector<Match> out(count);
    std::vector<std::vector<std::uint32_t>> small(count);
    for (std::size_t from = 0; from < hay.size();) {
      std::size_t next = hay.size();
      const std::size_t n =
          find_batch(hay, needles.data(), count, from, out.data(), count, &next, true);
      for (std::size_t m = 0; m < n; ++m) small[out[m].needle].push_back(out[m].position);
      if (next >= hay.size()) break;
      from = next;
    }
    for (std::size_t k = 0; k < count; ++k)
      EXPECT_EQ(small[k], naive(folded, needles[k])) << "round " << round << " needle " << k;
  }
}

}  // namespace
}  // namespace vigil::detect

namespace vigil::detect {
namespace {

// find_batch's path for a few needles writes exactly what the general block search writes, in
// the same order (the engine's occurrence order, and so its verdicts, depend on it), and resumes
// at the same place when its output buffer fills: every needle count, repeated needles, needles
// as long as the text allows, folding, and buffers from the smallest allowed up.
TEST(FindBatch, FewNeedlesWriteWhatTheBlockSearchWrites) {
  static const char kBytes[] = {'a', 'A', 'b', 'B', 'c', '@', '\xC1'};
  std::uint32_t seed = 4242;
  auto rnd = [&seed] { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7FFF; };
  std::size_t multi = 0, resumed = 0;
  for (int round = 0; round < 4000; ++round) {
    const std::size_t size = 33 + rnd() % (round % 5 == 0 ? 1100 : 120);
    const std::size_t alphabet = round % 3 == 0 ? 7 : 3;
    std::string hay;
    for (std::size_t i = 0; i < size; ++i) hay += kBytes[rnd() % alphabet];
    const bool fold = round % 2 == 1;
    const std::size_t count = 1 + rnd() % 5;
    std::vector<std::string> texts;
    for (std::size_t k = 0; k < count; ++k) {
      std::string n;
      if (k > 0 && rnd() % 5 == 0) {
        n = texts[rnd() % k];  // the same needle twice
      } else {
        const std::size_t len = 2 + (rnd() % 4 == 0 ? rnd() % 31 : rnd() % 4);
        for (std::size_t i = 0; i < len; ++i) n += kBytes[rnd() % alphabet];
      }
      if (fold) common::fold_ascii(n.data(), n.size(), n.data());
      texts.push_back(n);
    }
    std::vector<std::string_view> needles(texts.begin(), texts.end());
    const std::size_t cap = rnd() % 2 == 0 ? count + rnd() % 200 : kMaxBatch * 32;
    const std::size_t start = round % 4 == 0 ? rnd() % 8 : 0;
    std::uint32_t seen = 0;  // needles found
    std::size_t calls = 0;
    auto run = [&](auto&& find) {
      std::vector<std::uint32_t> seq;  // needle, position, ... and each call's resume point
      calls = 0;
      for (std::size_t from = start; from < hay.size();) {
        std::vector<Match> out(cap);
        std::size_t next = 0;
        const std::size_t n =
            find(std::string_view(hay), needles.data(), count, from, out.data(), cap, &next, fold);
        ++calls;
        for (std::size_t i = 0; i < n; ++i) {
          seen |= 1u << out[i].needle;
          seq.push_back(out[i].needle);
          seq.push_back(out[i].position);
        }
        seq.push_back(static_cast<std::uint32_t>(next));
        if (next >= hay.size()) break;
        from = next;
      }
      return seq;
    };
    const std::vector<std::uint32_t> got = run(find_batch);
    const std::vector<std::uint32_t> want = run(find_batch_by_blocks);
    ASSERT_EQ(got, want) << "round " << round << " count " << count << " cap " << cap;
    if (__builtin_popcount(seen) > 1) ++multi;
    if (calls > 1) ++resumed;
  }
  EXPECT_GT(multi, 300u);    // several needles' matches interleave
  EXPECT_GT(resumed, 100u);  // and full buffers resume
}

}  // namespace
}  // namespace vigil::detect
