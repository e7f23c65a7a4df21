#include "core/common/ascii.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::common {
namespace {

// The eight-byte comparison must answer as the byte rule for every pair of byte values, at
// every place of the word (and of the overlapping last word) and at every length around 8.
TEST(Iequals, AgreesWithTheByteRule) {
  auto by_bytes = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (to_lower(a[i]) != to_lower(b[i])) return false;
    return true;
  };
  for (std::size_t n : {7u, 8u, 9u, 15u, 16u, 17u, 33u}) {
    for (std::size_t at : {std::size_t{0}, n / 2, n - 1}) {
      std::string a(n, 'k'), b(n, 'K');
      for (int x = 0; x < 256; ++x) {
        for (int y = 0; y < 256; ++y) {
          a[at] = static_cast<char>(x);
          b[at] = static_cast<char>(y);
          ASSERT_EQ(iequals(a, b), by_bytes(a, b)) << "n " << n << " at " << at << " bytes "
                                                   << x << " " << y;
        }
      }
    }
  }
  EXPECT_TRUE(iequals("Application/X-WWW-Form-URLEncoded", "application/x-www-form-urlencoded"));
  EXPECT_FALSE(iequals("application/x-www-form-urlencodeD", "application/x-www-form-urlencodes"));
  EXPECT_FALSE(iequals("content-length", "content_length"));
  EXPECT_FALSE(iequals("content-lengt", "content-length"));
  static_assert(iequals("Content-Length", "content-length"));  // still usable at compile time
}

// find_any must answer exactly as string_view::find_first_of, for small and large sets.
TEST(FindAny, AgreesWithFindFirstOf) {
  const std::string_view texts[] = {"", "a", "abc%2b+x", "no match here", "\r\nx",
                                    std::string_view("a\0b", 3), "|&;`$<>(){}"};
  const std::string_view sets[] = {"", "%", "%+", "\r\n", std::string_view("\r\n\0", 3),
                                   "*+-/%()[].|~'\"", "|&;`$<>(){}\n\r", "zq"};
  for (std::string_view t : texts)
    for (std::string_view s : sets)
      for (std::size_t from = 0; from <= t.size() + 1; ++from)
        EXPECT_EQ(find_any(t, s, from), t.find_first_of(s, from))
            << "text '" << t << "' set '" << s << "' from " << from;
}

}  // namespace
}  // namespace vigil::common

namespace vigil::common {
namespace {

// The vectorised fold must agree with the byte rule for every byte value at every offset.
TEST(FoldAscii, AgreesWithTheByteRule) {
  std::string in;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 256; ++c) in += static_cast<char>(c);
  for (std::size_t start = 0; start < 17; ++start) {
    std::string_view s = std::string_view(in).substr(start);
    std::string out(s.size(), '\0');
    fold_ascii(s.data(), s.size(), out.data());
    for (std::size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      char want = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
      ASSERT_EQ(out[i], want) << "byte " << static_cast<int>(static_cast<unsigned char>(c));
    }
  }
}

TEST(TruncateUtf8, KeepsWholeSequencesAndTheText) {
  EXPECT_EQ(truncate_utf8("short", 10), "short");
  EXPECT_EQ(truncate_utf8("abcdef", 3), "abc\xE2\x80\xA6");
  // "\xC3\xA9" (two bytes) across the cut: left out whole.
  EXPECT_EQ(truncate_utf8("ab\xC3\xA9z", 3), "ab\xE2\x80\xA6");
  // A run of continuation bytes is no UTF-8: cut at the bound, not backed up to nothing.
  const std::string junk = "-" + std::string(200, '\xB9');
  EXPECT_EQ(truncate_utf8(junk, 120), junk.substr(0, 120) + "\xE2\x80\xA6");
}

// Every scalar value's encoding is UTF-8; what RFC 3629 refuses is not.
TEST(IsUtf8, TakesEveryScalarValueAndRefusesTheRest) {
  auto encode = [](std::uint32_t cp) {
    std::string out;
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return out;
  };
  for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const std::string text = "a" + encode(cp) + "z";
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    ASSERT_EQ(is_utf8(text), !surrogate) << std::hex << cp;
    if (text.size() > 3) {  // a sequence cut short
      ASSERT_FALSE(is_utf8(text.substr(0, text.size() - 2))) << std::hex << cp;
    }
  }
  EXPECT_TRUE(is_utf8(""));
  EXPECT_FALSE(is_utf8("\x80"));                  // a continuation byte alone
  EXPECT_FALSE(is_utf8("\xC0\xAF"));             // an overlong '/'
  EXPECT_FALSE(is_utf8("\xE0\x80\xAF"));         // the same in three bytes
  EXPECT_FALSE(is_utf8("\xF0\x80\x80\xAF"));     // and in four
  EXPECT_FALSE(is_utf8("\xF4\x90\x80\x80"));     // past U+10FFFF
  EXPECT_FALSE(is_utf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(is_utf8("\xFF"));
  EXPECT_FALSE(is_utf8("\xC3("));                 // a lead byte without its continuation
}

}  // namespace
}  // namespace vigil::common
