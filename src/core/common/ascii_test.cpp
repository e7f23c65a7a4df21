#include "core/common/ascii.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace vigil::common {
namespace {

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
