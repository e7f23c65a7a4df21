// plain_word_is_clean(): the analyser skips a value it calls clean, so no detector may fire on
// any such value in any form, source or name. Checked against every detector of the registry on
// all short words and on many random longer ones.
#include <random>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {
namespace {

struct Where {
  Form form;
  Source source;
  std::string_view name;
};
constexpr Where kPlaces[] = {
    {Form::kRaw, Source::kQuery, "q"},           {Form::kRaw, Source::kHeader, "User-Agent"},
    {Form::kUrlDecoded, Source::kPath, "seg0"},  {Form::kTrimmed, Source::kCookie, "sid"},
    {Form::kJsonUnescaped, Source::kJson, "a.b"}, {Form::kRaw, Source::kBody, ""},
    {Form::kRaw, Source::kQuery, "host"},  // ssrf reads a number there as an address
};

// The detector that fires on `word` somewhere (as analyze_request calls them), or nullptr.
const InputDetectorInfo* firing(std::string_view word) {
  const std::uint32_t features = features_of(word);
  for (const Where& w : kPlaces) {
    const Candidate c{word, features, w.form, 0, w.source, w.name};
    for (const InputDetectorInfo& d : input_detectors()) {
      if ((d.prefilter && !(features & d.prefilter)) || word.size() < d.min_length) continue;
      Hit hit;
      if (d.fn(c, &hit)) return &d;
    }
  }
  return nullptr;
}

constexpr std::string_view kWordBytes =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";

TEST(PlainWord, NoDetectorFiresOnAnyShortWordItCallsClean) {
  // Every word of 1 to 3 bytes over all 63 word bytes.
  std::size_t clean = 0;
  std::string w;
  for (std::size_t len = 1; len <= 3; ++len) {
    std::size_t total = 1;
    for (std::size_t i = 0; i < len; ++i) total *= kWordBytes.size();
    w.assign(len, 'a');
    for (std::size_t n = 0; n < total; ++n) {
      std::size_t k = n;
      for (std::size_t i = 0; i < len; ++i, k /= kWordBytes.size())
        w[i] = kWordBytes[k % kWordBytes.size()];
      ASSERT_EQ(features_of(w), 0u) << w;
      if (!plain_word_is_clean(w)) continue;
      ++clean;
      const InputDetectorInfo* d = firing(w);
      ASSERT_EQ(d, nullptr) << "'" << w << "' called clean, but " << rule_name(d->cls) << " fires";
    }
  }
  EXPECT_GT(clean, 200000u);  // the gate is not vacuous
}

TEST(PlainWord, NoDetectorFiresOnRandomLongerWordsItCallsClean) {
  // 4 to 9 bytes, half of them drawn from a few bytes that detectors care about (0, x, X, and
  // the letters of command names and base64 of "../").
  std::mt19937 rng(20261126);
  constexpr std::string_view kDense = "0xXidlsLi4vcatpwnhoam";
  std::size_t clean = 0;
  std::string w;
  for (int n = 0; n < 300000; ++n) {
    const std::size_t len = 4 + rng() % 6;
    const std::string_view bytes = n % 2 == 0 ? kWordBytes : kDense;
    w.resize(len);
    for (char& c : w) c = bytes[rng() % bytes.size()];
    if (!plain_word_is_clean(w)) continue;
    ++clean;
    const InputDetectorInfo* d = firing(w);
    ASSERT_EQ(d, nullptr) << "'" << w << "' called clean, but " << rule_name(d->cls) << " fires";
  }
  EXPECT_GT(clean, 50000u);
}

TEST(PlainWord, NoDetectorFiresOnNumbersItCallsClean) {
  // Numbers under 8 digits, decimal and with a leading 0 (octal to a URL parser): ssrf reads
  // them as addresses in 0.0.0.0/8, which it never convicts in these notations.
  std::mt19937 rng(20261127);
  std::string w;
  for (int n = 0; n < 20000; ++n) {
    w = std::to_string(n < 10000 ? n : rng() % 10000000);
    if (n % 3 == 0) w = "0" + w.substr(0, 6);
    ASSERT_TRUE(plain_word_is_clean(w)) << w;
    const InputDetectorInfo* d = firing(w);
    ASSERT_EQ(d, nullptr) << "'" << w << "' called clean, but " << rule_name(d->cls) << " fires";
  }
  // The same digits at 8 bytes and more can name an address: the gate must let them through.
  EXPECT_FALSE(plain_word_is_clean("2130706433"));
  ASSERT_NE(firing("2130706433"), nullptr);
  EXPECT_EQ(firing("2130706433")->cls, AttackClass::kSsrf);
}

TEST(PlainWord, WordsThatADetectorReadsAreNotClean) {
  // Command names (a whole-value command line), "0x" hex escapes, 8 bytes and more (base64).
  for (std::string_view w : {"id", "ls", "pwd", "whoami", "uname", "Whoami", "ping", "0x0d0a",
                             "a0Xb", "Li4vLi4v", "abcdefgh", "lampshade"})
    EXPECT_FALSE(plain_word_is_clean(w)) << w;
  for (std::string_view w : {"lamp", "wrk", "search", "q", "42", "page_2", "EUR", "x0"})
    EXPECT_TRUE(plain_word_is_clean(w)) << w;
  // Some of those are findings indeed: the gate must let them through.
  EXPECT_NE(firing("whoami"), nullptr);
}

}  // namespace
}  // namespace vigil::detect::input
